/*
 * bill.h: a channel's daily bill read into rows (bill_parse.c) and the
 * reconciliation of a day against it (billrecon.c).
 *
 * WeChat's trade bill is CSV: a header row, one row per payment or refund
 * whose every field starts with a backtick, then a summary header and a
 * summary row (count, totals).  Alipay's is the 业务明细 CSV of a zip: comment
 * lines (#), a header, 交易 and 退款 rows, and #交易合计 / #退款合计 totals.
 * Amounts are yuan with two decimals; they become integer fen here without
 * floating point.  A bill whose totals do not add up to its rows is refused
 * whole.
 */
#ifndef GYM_BILL_H
#define GYM_BILL_H

#include <stddef.h>

#include "channel.h"
#include "config.h"
#include "db.h"
#include "gym.h"

struct gym_bill_row {
	int refund;			/* 1: a refund row, 0: a payment row */
	char time[20];			/* "YYYY-MM-DD HH:MM:SS", China time */
	char transaction_id[40];
	char out_trade_no[72];		/* Alipay allows 64 */
	char trade_state[24];		/* SUCCESS, REFUND, REVOKED, ... */
	char refund_id[40];
	char out_refund_no[72];
	char refund_state[24];		/* refund rows: SUCCESS, PROCESSING, ... */
	long long amount_fen;		/* payment: 应结订单金额; refund: 退款金额 */
	long long fee_fen;		/* 手续费, negative for a refund's */
};

struct gym_bill {
	struct gym_bill_row *rows;
	size_t n;
	/* the summary rows, as the channel wrote them */
	long long count, gross_fen, refund_fen, fee_fen;
};

/* 1 when d is a real YYYY-MM-DD date (2000..2999). */
int gym_bill_date_ok(const char *d);

/* "200.00", "-1.2", "0" as fen; 0, or -1 when s[len] is not such an
 * amount (at most two decimals, no exponent, no spaces, sane size). */
int gym_yuan_fen(const char *s, size_t len, long long *fen);

/* Read WeChat's trade bill: GYM_OK with the rows; GYM_EINVAL with why
 * (for the discrepancy's evidence) when it is not a whole, consistent
 * bill.  Free with gym_bill_free. */
enum gym_err gym_bill_parse_wechat(const char *text, size_t len, struct gym_bill *,
    char *why, size_t whylen);
void gym_bill_free(struct gym_bill *);

/* Read Alipay's 业务明细 (the detail CSV of its daily zip, as UTF-8;
 * bill_parse_alipay.c): GYM_OK with the rows, GYM_EINVAL with why. */
enum gym_err gym_bill_parse_alipay(const char *text, size_t len, struct gym_bill *,
    char *why, size_t whylen);
/* The trade bill reader of channel (wechat, alipay); GYM_EINVAL with why
 * for a channel with no bill. */
enum gym_err gym_bill_parse(const char *channel, const char *text, size_t len,
    struct gym_bill *, char *why, size_t whylen);

/* A fund-flow bill's totals (rows, money in, money out): WeChat's
 * fund-flow bill (its summary), Alipay's 账务明细 (its rows, checked
 * against its totals lines; bill_parse_alipay.c). */
struct gym_fundflow {
	long long count, in_n, in_fen, out_n, out_fen;
};
enum gym_err gym_bill_parse_wechat_fundflow(const char *text, size_t len,
    struct gym_fundflow *, char *why, size_t whylen);
enum gym_err gym_bill_parse_alipay_fundflow(const char *text, size_t len,
    struct gym_fundflow *, char *why, size_t whylen);
/* The fund-flow reader of channel; GYM_EINVAL with why for a channel with
 * none. */
enum gym_err gym_bill_parse_fundflow(const char *channel, const char *text, size_t len,
    struct gym_fundflow *, char *why, size_t whylen);

/* ---- billrecon.c ---- */

/* One day's reconciliation as stored (recon_runs). */
struct gym_recon_summary {
	long long run_id;
	char channel[16];
	char date[11];
	char state[12];			/* running, done, failed */
	int fetched;			/* this call fetched and matched the bill */
	long long bill_rows, matched, discrepancies, unresolved;
	long long gross_fen, refund_fen, fee_fen;	/* the bill's */
	long long fund_in_fen, fund_out_fen;		/* the fund-flow bill's */
	int have_fund_flow;			/* 0: no fund-flow bill that day (0, 0) */
	char error_code[32];
	char error_message[256];
};

/*
 * Reconcile channel's bill of date ("YYYY-MM-DD", China time).  The day
 * is claimed first (one row per channel and day): a day already done is
 * not fetched again unless force, and a day another process is working
 * on is left to it (both GYM_OK, fetched 0, the stored summary in *out).
 * The bill is fetched, checked and matched against payment attempts and
 * refunds, and the lines (with each transaction's fee), the discrepancies
 * and the summary are written in one transaction; a download or a file
 * that fails marks the day failed (a bad file also leaves a bad_file
 * discrepancy) and writes nothing else.  No other day is touched.
 * GYM_EUPSTREAM / GYM_ETIMEOUT when the bill could not be had (summary in
 * *out says why), GYM_EINVAL for a bad date or a channel with no bill.
 */
enum gym_err gym_recon_day(struct gym_db *, struct gym_channels *, const struct gym_config *,
    const char *channel, const char *date, int force, struct gym_recon_summary *out);

/* The same with the bill's text at hand (the channel's trade bill as
 * gym_bill_parse reads it; no fund flow): claimed as if forced, read, matched and written the same way
 * (make bench times it; a bill kept from elsewhere). */
enum gym_err gym_recon_day_text(struct gym_db *, const char *channel, const char *date,
    const char *text, size_t len, struct gym_recon_summary *out);

/* The stored summary of a day: GYM_ENOTFOUND when never reconciled. */
enum gym_err gym_recon_get(struct gym_db *, const char *channel, const char *date,
    struct gym_recon_summary *out);

/*
 * The job's part: once the China-time clock is past cfg's
 * reconcile_bill_time, reconcile every day not yet done for every channel
 * that has a bill: yesterday and the reconcile_catchup_days - 1 days
 * before it, none before the channel's first reconciled day (claims make
 * this safe on every host; a failed day waits out its retry).  Returns
 * how many days it reconciled now.
 */
int gym_recon_job_run(struct gym_db *, struct gym_channels *, const struct gym_config *);

#endif

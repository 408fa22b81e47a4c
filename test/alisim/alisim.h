/*
 * alisim.h: what the Alipay simulator's files share: its trades (one
 * process, one thread: no locks), its keys and ids, and the pieces in
 * their own files: the async notifications with Alipay's retries
 * (notify.c), the browser pages (pages.c) and the bill file (bill.c).
 */
#ifndef ALISIM_H
#define ALISIM_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "http.h"

#define ALISIM_MAX_TRADES	4096
#define ALISIM_MAX_REFUNDS	8

enum alisim_tstate { T_WAIT, T_SUCCESS, T_CLOSED };

struct alisim_trade {
	char out_trade_no[65], trade_no[33], notify_url[512], return_url[512];
	char subject[257], method[40];
	long long total_fen, refunded_fen;
	enum alisim_tstate st;
	int scanned;
	time_t paid_at;
	struct {
		char no[65];
		long long fen;
		time_t at;
	} refunds[ALISIM_MAX_REFUNDS];
	int nrefunds;
	int notified;		/* notifications answered "success" */
	int notify_tries;	/* deliveries tried */
};

/* The faults POST /sim/faults sets (the WeChat simulator's names):
 * gateway calls answer api_status (500, 503) api_fail_count times (-1:
 * until cleared), before doing their work or, api_fail_after, after it;
 * each waits api_delay_ms first; notifications are lost (notify_drop:
 * Alipay's retries still come), sent notify_duplicate times, or
 * notify_delay_ms late.  notify_reorder is accepted and ignored (one
 * notification per trade). */
struct alisim_faults {
	int api_status;
	long api_fail_count;
	int api_fail_after;
	long api_delay_ms;
	int notify_drop;
	long notify_duplicate;
	long notify_delay_ms;
};
extern struct alisim_faults alisim_faults;

/* main.c */
extern EVP_PKEY *alisim_key;		/* Alipay's private key: signs answers */
extern const char *alisim_app_id, *alisim_seller_id, *alisim_notify_ca;
extern const char *alisim_listen;	/* host:port, for URLs to itself */
extern double alisim_retry_scale;	/* Alipay's retry intervals times this */
struct alisim_trade *alisim_find(const char *out_trade_no);
/* The i-th trade (from 0), NULL past the last. */
struct alisim_trade *alisim_nth(int i);
const char *alisim_status_word(const struct alisim_trade *);
/* Pay t (WAIT_BUYER_PAY only: 0; else -1) at when (0: now) and send its
 * notification. */
int alisim_pay(struct alisim_trade *, time_t when);

/* notify.c: the signed trade_status_sync form of t (malloc'd, NULL when
 * out of memory); deliver it now and, until it is answered "success",
 * again after Alipay's intervals (4m, 10m, 10m, 1h, 2h, 6h, 15h, scaled)
 * from alisim_notify_tick, called from the main loop. */
char *alisim_notification(const struct alisim_trade *);
void alisim_notify(struct alisim_trade *);
void alisim_notify_tick(void);

/* pages.c: GET /sim/pay (a form, or the cashier of ?out_trade_no=), the
 * cashier of a page/wap trade, POST /sim/pay from the browser (pays, then
 * back to the trade's return_url with Alipay's signed parameters). */
void alisim_page_cashier(const struct alisim_trade *, struct wxsim_resp *);
void alisim_page_pay_get(const struct wxsim_req *, struct wxsim_resp *);
void alisim_page_paid(const struct alisim_trade *, struct wxsim_resp *);

/* bill.c: the day's bill (date "yyyy-MM-dd") as Alipay ships it: a zip
 * holding the GBK CSV detail and summary of the trades (bill_type trade,
 * 业务明细) or of the account's money in and out (signcustomer, 账务明细);
 * *zip malloc'd.  0 or -1.  Under the bill faults (POST /sim/bill-faults,
 * the WeChat simulator's names): drop leaves the trade or refund named
 * (out_trade_no or out_request_no) out of the trade bill, amount bills it
 * one fen more, status bills the trade as 撤销 (revoked), unknown adds a
 * paid trade nobody here made; truncate cuts either zip in half, corrupt
 * changes a byte of its detail's compressed data (the CRC no longer
 * matches).  The account's bill is always what the money did. */
struct alisim_bill_faults {
	char drop[72], amount[72], status[72];
	int unknown, truncate, corrupt;
};
extern struct alisim_bill_faults alisim_bill_faults;
enum alisim_bill_kind { ALISIM_BILL_TRADE, ALISIM_BILL_ACCOUNT };
int alisim_bill_zip(const char *date, enum alisim_bill_kind, unsigned char **zip, size_t *len);
/* POST /sim/bill-faults {members}: those given replace the faults; GET:
 * the faults now. */
void alisim_bill_faults_post(const struct wxsim_req *, struct wxsim_resp *);
void alisim_bill_faults_get(struct wxsim_resp *);
/* POST /sim/reset: every trade forgotten, no faults. */
void alisim_reset(void);

#endif

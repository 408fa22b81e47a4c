/*
 * recon_report.h: reconciliation as the console reads it, and the daily
 * finance report (recon_report.c).  JSON texts are built by PostgreSQL and
 * handed out whole (caller frees).
 */
#ifndef GYM_RECON_REPORT_H
#define GYM_RECON_REPORT_H

#include "booking.h"
#include "db.h"
#include "gym.h"

/* {"date","runs":[...],"discrepancies":[...]} of one China day (channel
 * NULL: every channel); each discrepancy with its evidence and "action",
 * what an operator should do.  GYM_EINVAL for a date not YYYY-MM-DD. */
enum gym_err gym_recon_day_json(struct gym_db *, const char *channel, const char *date,
    char **json);
/* {"count": open ones, "items": the newest limit open ones, every day}. */
enum gym_err gym_recon_open_json(struct gym_db *, int limit, char **json);
/* The /metrics gauges, in one query: how many discrepancies are open
 * (every day and channel), and on how many days of the last 90 (China
 * time) a channel's bill is failed (a download that failed, a bad file:
 * each tried again by the job, or by gymctl reconcile --force). */
enum gym_err gym_recon_gauges(struct gym_db *, long long *open, long long *failed_days);
/* An operator settles discrepancy id with a note (audited: entity payment,
 * action reconciliation_resolved): the discrepancy as JSON.
 * GYM_ENOTFOUND, or GYM_ECONFLICT when it was resolved already. */
enum gym_err gym_recon_resolve(struct gym_db *, const struct gym_actor *, long long id,
    const char *note, char **json);

/* One China day and channel of the daily report: the money recorded here
 * (payments by their success_time, refunds by completion) and the fees of
 * the channel's bill (known once the day is reconciled). */
struct gym_report_row {
	char date[11];
	char channel[16];
	long long gross_fen, refund_fen, fee_fen;
	long long payments, refunds;		/* counts */
};
/* Days from a to b (both valid YYYY-MM-DD dates; negative when b is first). */
long gym_days_between(const char *a, const char *b);
#define GYM_REPORT_MAX_DAYS 366
#define GYM_REPORT_MAX_ROWS (2 * (GYM_REPORT_MAX_DAYS + 1))
/* Every day from..to (YYYY-MM-DD, inclusive, at most GYM_REPORT_MAX_DAYS
 * days) for every channel, by date then channel (caller frees *rows).
 * GYM_EINVAL for bad dates, to before from or too long a range. */
enum gym_err gym_report_daily(struct gym_db *, const char *from, const char *to,
    struct gym_report_row **rows, int *n);

/* One period (a China day "YYYY-MM-DD" or month "YYYY-MM") and key (a
 * channel, or a product's name) of the summary report. */
struct gym_report_sum {
	char period[11];
	char key[404];
	long long gross_fen, refund_fen, fee_fen;
	long long payments, refunds;		/* counts */
};
#define GYM_REPORT_SUM_MAX_DAYS 1100
#define GYM_REPORT_SUM_MAX_ROWS 20000
/* The money of from..to (China days, inclusive, at most
 * GYM_REPORT_SUM_MAX_DAYS apart) by day or month (by_month) and by channel
 * or product (by_product), only the periods and keys that have any, by
 * period then key (caller frees *rows).  Fees come from the reconciled
 * bills: by product, each bill line's fee goes to its order's product.
 * GYM_EINVAL for bad dates or too long a range. */
enum gym_err gym_report_summary(struct gym_db *, const char *from, const char *to, int by_month,
    int by_product, struct gym_report_sum **rows, int *n);

#endif

/*
 * exports.h: the accountant's CSV files (issue 18): the payments and the
 * refunds of a range of China (Asia/Shanghai) days, and one day's bill of
 * a channel line by line with what each line matched here.  Amounts in
 * yuan with two decimals and in fen; times in China time.  No parent's or
 * child's details: an accountant needs none.
 */
#ifndef GYM_EXPORTS_H
#define GYM_EXPORTS_H

#include "csv.h"
#include "db.h"
#include "gym.h"

enum gym_export {
	GYM_EXPORT_PAYMENTS,	/* successful payments, by success time */
	GYM_EXPORT_REFUNDS,	/* refunds asked for or finished in the range */
	GYM_EXPORT_BILL		/* one day's bill lines (from; channel) */
};

#define GYM_EXPORT_MAX_DAYS 366
#define GYM_EXPORT_MAX_ROWS 500000

/*
 * The export's CSV into *out (gym_csv_begin'd here; the caller frees
 * out->p).  from and to are YYYY-MM-DD (inclusive, at most
 * GYM_EXPORT_MAX_DAYS apart; to unused for the bill); channel is wechat or
 * alipay for the bill, NULL or either for the others.  GYM_EINVAL for a bad
 * date, range or channel, or more than GYM_EXPORT_MAX_ROWS rows.
 */
enum gym_err gym_export_csv(struct gym_db *, enum gym_export, const char *from, const char *to,
    const char *channel, struct gym_csv *out);

#endif

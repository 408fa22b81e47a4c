/*
 * recon_cases.h: the bill reconciliation cases every channel must pass
 * (recon_cases.c), each run through a channel's driver: how a payment is
 * made and paid at the channel's simulator, how a refund is made, and how
 * the simulator is told what its bill gets wrong.  check_recon.c drives
 * them through WeChat, check_alirecon.c through Alipay.
 */
#ifndef GYM_RECON_CASES_H
#define GYM_RECON_CASES_H

#include <stddef.h>

#include "checkout.h"

struct recon_driver {
	const char *channel;
	/* An order paid at the simulator (at paid_at, unix seconds, when not
	 * 0), confirmed here (the channel asked) when confirm. */
	void (*paid)(struct gym_pay *, const char *openid, long long paid_at, int confirm,
	    struct gym_order *);
	/* The whole order refunded by an operator and a success here; its
	 * out_refund_no into orn[len]. */
	void (*refunded)(struct gym_pay *, const char *order_id, char *orn, size_t len);
	/* POST the simulator's /sim/bill-faults (the same names on both). */
	void (*bill_faults)(const char *json);
	/* Two faults that each make the bill unreadable, the error code of
	 * each, and the faults that make it whole again. */
	const char *bad_faults[2], *bad_codes[2], *whole_again;
	/* The bill's state of a trade under the status fault. */
	const char *revoked_state;
};

/* Six payments (one dropped, one a fen more, one revoked in the bill, one
 * paid only at the channel, one fine, one refunded) and a trade nobody
 * made: each found; then the refund dropped, then billed a fen more. */
void recon_case_each_discrepancy(struct gym_pay *, const struct recon_driver *);
/* Yesterday reconciled; today's bill unreadable both ways: failed with
 * one bad_file discrepancy, yesterday untouched; then whole: done and
 * the bad file settled. */
void recon_case_bad_files(struct gym_pay *, const struct recon_driver *);
/* "YYYY-MM-DD" of China today and yesterday. */
void recon_days(char today[11], char yesterday[11]);

#endif

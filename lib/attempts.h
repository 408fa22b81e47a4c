/*
 * attempts.h: payment attempts, one row per prepay at a channel under its
 * own out_trade_no (migration 0008).  The first attempt of an order uses
 * the order id; a later one (another trade type) the order id and "-N".
 * At most one attempt of an order is open; the order's out_trade_no is
 * its current (or paying) attempt.  Ending an attempt writes its audit
 * row in the same transaction.
 */
#ifndef GYM_ATTEMPTS_H
#define GYM_ATTEMPTS_H

#include <stddef.h>

#include "booking.h"

#define GYM_OUT_TRADE_NO_LEN 33		/* 32 characters and the NUL */

/*
 * Which attempt a prepay of trade_type for order o goes through: the open
 * attempt of the same trade type (asked again: the same out_trade_no), or
 * a new one.  When another attempt is open it must be closed at the
 * channel first: its out_trade_no goes to supersede ("" when none).
 */
enum gym_err gym_attempt_next(struct gym_db *, const struct gym_order *o,
    const char *trade_type, char out_trade_no[GYM_OUT_TRADE_NO_LEN],
    char supersede[GYM_OUT_TRADE_NO_LEN]);

/* End an open attempt in a transaction of its own: state "closed",
 * "superseded" or "failed" (parsed here, the API's edge: GYM_EINVAL for any
 * other), with the channel's code and message (may be NULL).  An attempt
 * already ended is left as it is. */
enum gym_err gym_attempt_end(struct gym_db *, const struct gym_actor *,
    const char *out_trade_no, const char *state, const char *code, const char *message);

/* An attempt as the operators' order detail shows it. */
struct gym_attempt {
	char out_trade_no[GYM_OUT_TRADE_NO_LEN];
	char channel[12];
	char trade_type[8];
	char state[12];
	char transaction_id[64];
	char error_code[64];
	char error_message[256];
	int64_t created_at, ended_at;	/* ended_at 0 while open */
};
/* The attempts of an order, oldest first, at most max. */
enum gym_err gym_attempt_list(struct gym_db *, const char *order_id, struct gym_attempt *out,
    int max, int *n);

#endif

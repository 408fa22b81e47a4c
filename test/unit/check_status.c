/*
 * check_status.c: unit tests of lib/status.c, the one table per status
 * family: every database string (as the CHECK constraints in migrations/
 * list them) parses to an enum that names it back, the enums of a family
 * are distinct and cover it, and anything else is refused.
 */
#include <string.h>

#include <check.h>

#include "status.h"
#include "unit.h"

/* A family as the tests see it: parse into an int, name from an int. */
struct family {
	const char *what;
	const char *const *names;	/* NULL-terminated, as in the migrations */
	int count;			/* the enum's __COUNT */
	int (*parse)(const char *, int *);
	const char *(*name)(int);
};

#define ADAPT(fam, type)						\
static int								\
fam##_p(const char *s, int *out)					\
{									\
	type v = (type)0;						\
	int ok = gym_##fam##_parse(s, &v);				\
	*out = ok ? (int)v : -1;					\
	return ok;							\
}									\
static const char *							\
fam##_n(int v)								\
{									\
	return gym_##fam##_name((type)v);				\
}

ADAPT(order_status, enum gym_order_status)
ADAPT(hold_status, enum gym_hold_status)
ADAPT(seat_state, enum gym_seat_state)
ADAPT(booking_status, enum gym_booking_status)
ADAPT(attempt_state, enum gym_attempt_state)
ADAPT(refund_status, enum gym_refund_status)
ADAPT(txn_outcome, enum gym_txn_outcome)
ADAPT(notification_status, enum gym_notification_status)
ADAPT(trade_state, enum gym_trade_state)
ADAPT(refund_wx, enum gym_refund_wx)
ADAPT(waitlist_state, enum gym_waitlist_state)

static const char *const order_db[] = { "pending", "paid", "failed", "cancelled", "expired",
	"refunding", "refunded", NULL };
static const char *const hold_db[] = { "temporary", "confirmed", "cancelled", "expired", NULL };
static const char *const seat_db[] = { "free", "held", "confirmed", NULL };
static const char *const booking_db[] = { "confirmed", "cancelled", NULL };
static const char *const attempt_db[] = { "open", "paid", "failed", "closed", "superseded", NULL };
static const char *const refund_db[] = { "pending", "processing", "success", "closed",
	"abnormal", NULL };
static const char *const txn_db[] = { "paid", "late_paid", "late_refunded",
	"duplicate_refunded", "unapplied", NULL };
static const char *const notify_db[] = { "pending", "sent", "failed", NULL };
static const char *const trade_wx[] = { "SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED",
	"USERPAYING", "PAYERROR", NULL };
static const char *const refund_wx[] = { "SUCCESS", "CLOSED", "PROCESSING", "ABNORMAL", NULL };
static const char *const waitlist_db[] = { "waiting", "offered", "done", "left", NULL };

static const struct family families[] = {
	{ "order", order_db, GYM_ORDER__COUNT, order_status_p, order_status_n },
	{ "hold", hold_db, GYM_HOLD__COUNT, hold_status_p, hold_status_n },
	{ "seat", seat_db, GYM_SEAT__COUNT, seat_state_p, seat_state_n },
	{ "booking", booking_db, GYM_BOOKING__COUNT, booking_status_p, booking_status_n },
	{ "attempt", attempt_db, GYM_ATTEMPT__COUNT, attempt_state_p, attempt_state_n },
	{ "refund", refund_db, GYM_REFUND__COUNT, refund_status_p, refund_status_n },
	{ "txn", txn_db, GYM_TXN__COUNT, txn_outcome_p, txn_outcome_n },
	{ "notify", notify_db, GYM_NOTIFICATION__COUNT, notification_status_p, notification_status_n },
	{ "trade", trade_wx, GYM_TRADE__COUNT, trade_state_p, trade_state_n },
	{ "refund_wx", refund_wx, GYM_REFUND_WX__COUNT, refund_wx_p, refund_wx_n },
	{ "waitlist", waitlist_db, GYM_WAITLIST__COUNT, waitlist_state_p, waitlist_state_n },
};
#define NFAM ((int)(sizeof(families) / sizeof(families[0])))

/* Every database string parses and names itself back; each enum value is
 * reached by exactly one string, and the enum has no value beyond them. */
START_TEST(test_round_trip)
{
	const struct family *f = &families[_i];
	int seen[16] = { 0 }, n = 0, v;

	for (; f->names[n] != NULL; n++) {
		ck_assert_msg(f->parse(f->names[n], &v), "%s: %s refused", f->what, f->names[n]);
		ck_assert_int_ge(v, 0);
		ck_assert_int_lt(v, f->count);
		ck_assert_str_eq(f->name(v), f->names[n]);
		ck_assert_msg(!seen[v], "%s: two strings give %d", f->what, v);
		seen[v] = 1;
	}
	ck_assert_int_eq(n, f->count);
	for (v = 0; v < f->count; v++) {
		int back;

		ck_assert(f->parse(f->name(v), &back));
		ck_assert_int_eq(back, v);
	}
}
END_TEST

/* Anything but the family's own strings is refused and leaves *out. */
START_TEST(test_unknown_refused)
{
	static const char *const bad[] = { "", " ", "PAID", "Pending", "paid ", " paid",
		"pend", "pendingx", "unknown", "temporary\n", "Success", "Closed", "SUCCESS " };
	const struct family *f = &families[_i];
	enum gym_order_status o = GYM_ORDER_REFUNDED;
	int v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!f->parse(bad[i], &v), "%s: took \"%s\"", f->what, bad[i]);
	ck_assert(!f->parse(NULL, &v));
	/* another family's strings */
	for (int g = 0; g < NFAM; g++)
		for (int k = 0; families[g].names[k] != NULL; k++) {
			int mine = 0;

			for (int m = 0; f->names[m] != NULL; m++)
				mine |= strcmp(f->names[m], families[g].names[k]) == 0;
			ck_assert(f->parse(families[g].names[k], &v) == mine);
		}
	/* a refused string leaves the output alone */
	ck_assert(!gym_order_status_parse("nope", &o));
	ck_assert_int_eq(o, GYM_ORDER_REFUNDED);
}
END_TEST

START_TEST(test_out_of_range_name)
{
	const struct family *f = &families[_i];

	ck_assert_str_eq(f->name(f->count), "");
	ck_assert_str_eq(f->name(-1), "");
}
END_TEST

/* WeChat's refund status leads to the refunds.status of the same word. */
START_TEST(test_refund_wx_status)
{
	for (int v = 0; v < GYM_REFUND_WX__COUNT; v++) {
		const char *wx = gym_refund_wx_name((enum gym_refund_wx)v);
		const char *ours = gym_refund_status_name(gym_refund_wx_status((enum gym_refund_wx)v));

		ck_assert_int_eq((int)strlen(wx), (int)strlen(ours));
		for (size_t i = 0; wx[i] != '\0'; i++)
			ck_assert_int_eq(wx[i] - 'A' + 'a', ours[i]);
	}
	ck_assert_int_eq(gym_refund_wx_status(GYM_REFUND_WX_SUCCESS), GYM_REFUND_SUCCESS);
	ck_assert_int_eq(gym_refund_wx_status(GYM_REFUND_WX_CLOSED), GYM_REFUND_CLOSED);
}
END_TEST

Suite *
status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tcase_add_loop_test(tc, test_round_trip, 0, NFAM);
	tcase_add_loop_test(tc, test_unknown_refused, 0, NFAM);
	tcase_add_loop_test(tc, test_out_of_range_name, 0, NFAM);
	tcase_add_test(tc, test_refund_wx_status);
	suite_add_tcase(s, tc);
	return s;
}

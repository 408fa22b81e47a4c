/*
 * status.c: the one table per status family from enum to the database's
 * string (status.h).  The strings are those of the CHECK constraints in
 * migrations/; test/unit/check_status.c holds each table to them.
 */
#include <string.h>

#include "status.h"

static const char *const order_names[GYM_ORDER__COUNT] = {
	[GYM_ORDER_PENDING] = "pending",
	[GYM_ORDER_PAID] = "paid",
	[GYM_ORDER_FAILED] = "failed",
	[GYM_ORDER_CANCELLED] = "cancelled",
	[GYM_ORDER_EXPIRED] = "expired",
	[GYM_ORDER_REFUNDING] = "refunding",
	[GYM_ORDER_REFUNDED] = "refunded",
};

static const char *const waitlist_names[GYM_WAITLIST__COUNT] = {
	[GYM_WAITLIST_WAITING] = "waiting",
	[GYM_WAITLIST_OFFERED] = "offered",
	[GYM_WAITLIST_DONE] = "done",
	[GYM_WAITLIST_LEFT] = "left",
};

static const char *const hold_names[GYM_HOLD__COUNT] = {
	[GYM_HOLD_TEMPORARY] = "temporary",
	[GYM_HOLD_CONFIRMED] = "confirmed",
	[GYM_HOLD_CANCELLED] = "cancelled",
	[GYM_HOLD_EXPIRED] = "expired",
};

static const char *const seat_names[GYM_SEAT__COUNT] = {
	[GYM_SEAT_FREE] = "free",
	[GYM_SEAT_HELD] = "held",
	[GYM_SEAT_CONFIRMED] = "confirmed",
};

static const char *const booking_names[GYM_BOOKING__COUNT] = {
	[GYM_BOOKING_CONFIRMED] = "confirmed",
	[GYM_BOOKING_CANCELLED] = "cancelled",
};

static const char *const attempt_names[GYM_ATTEMPT__COUNT] = {
	[GYM_ATTEMPT_OPEN] = "open",
	[GYM_ATTEMPT_PAID] = "paid",
	[GYM_ATTEMPT_FAILED] = "failed",
	[GYM_ATTEMPT_CLOSED] = "closed",
	[GYM_ATTEMPT_SUPERSEDED] = "superseded",
};

static const char *const refund_names[GYM_REFUND__COUNT] = {
	[GYM_REFUND_PENDING] = "pending",
	[GYM_REFUND_PROCESSING] = "processing",
	[GYM_REFUND_SUCCESS] = "success",
	[GYM_REFUND_CLOSED] = "closed",
	[GYM_REFUND_ABNORMAL] = "abnormal",
};

static const char *const txn_names[GYM_TXN__COUNT] = {
	[GYM_TXN_PAID] = "paid",
	[GYM_TXN_LATE_PAID] = "late_paid",
	[GYM_TXN_LATE_REFUNDED] = "late_refunded",
	[GYM_TXN_DUPLICATE_REFUNDED] = "duplicate_refunded",
	[GYM_TXN_UNAPPLIED] = "unapplied",
};

static const char *const notify_names[GYM_NOTIFICATION__COUNT] = {
	[GYM_NOTIFICATION_PENDING] = "pending",
	[GYM_NOTIFICATION_SENT] = "sent",
	[GYM_NOTIFICATION_FAILED] = "failed",
};

static const char *const trade_names[GYM_TRADE__COUNT] = {
	[GYM_TRADE_SUCCESS] = "SUCCESS",
	[GYM_TRADE_REFUND] = "REFUND",
	[GYM_TRADE_NOTPAY] = "NOTPAY",
	[GYM_TRADE_CLOSED] = "CLOSED",
	[GYM_TRADE_REVOKED] = "REVOKED",
	[GYM_TRADE_USERPAYING] = "USERPAYING",
	[GYM_TRADE_PAYERROR] = "PAYERROR",
};

static const char *const refund_wx_names[GYM_REFUND_WX__COUNT] = {
	[GYM_REFUND_WX_SUCCESS] = "SUCCESS",
	[GYM_REFUND_WX_CLOSED] = "CLOSED",
	[GYM_REFUND_WX_PROCESSING] = "PROCESSING",
	[GYM_REFUND_WX_ABNORMAL] = "ABNORMAL",
};

static const enum gym_refund_status refund_wx_status[GYM_REFUND_WX__COUNT] = {
	[GYM_REFUND_WX_SUCCESS] = GYM_REFUND_SUCCESS,
	[GYM_REFUND_WX_CLOSED] = GYM_REFUND_CLOSED,
	[GYM_REFUND_WX_PROCESSING] = GYM_REFUND_PROCESSING,
	[GYM_REFUND_WX_ABNORMAL] = GYM_REFUND_ABNORMAL,
};

/* The index of s in names[n], or -1. */
static int
find(const char *const *names, int n, const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static const char *
name(const char *const *names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : "";
}

#define PARSE(names, type, s, out) do {					\
	int i_ = find(names, (int)(sizeof(names) / sizeof(names[0])), s);	\
	if (i_ < 0)							\
		return 0;						\
	*(out) = (type)i_;						\
	return 1;							\
} while (0)
#define NAME(names, v) name(names, (int)(sizeof(names) / sizeof(names[0])), (int)(v))

int
gym_order_status_parse(const char *s, enum gym_order_status *out)
{
	PARSE(order_names, enum gym_order_status, s, out);
}

const char *
gym_order_status_name(enum gym_order_status v)
{
	return NAME(order_names, v);
}

int
gym_hold_status_parse(const char *s, enum gym_hold_status *out)
{
	PARSE(hold_names, enum gym_hold_status, s, out);
}

const char *
gym_hold_status_name(enum gym_hold_status v)
{
	return NAME(hold_names, v);
}

int
gym_seat_state_parse(const char *s, enum gym_seat_state *out)
{
	PARSE(seat_names, enum gym_seat_state, s, out);
}

const char *
gym_seat_state_name(enum gym_seat_state v)
{
	return NAME(seat_names, v);
}

int
gym_booking_status_parse(const char *s, enum gym_booking_status *out)
{
	PARSE(booking_names, enum gym_booking_status, s, out);
}

const char *
gym_booking_status_name(enum gym_booking_status v)
{
	return NAME(booking_names, v);
}

int
gym_attempt_state_parse(const char *s, enum gym_attempt_state *out)
{
	PARSE(attempt_names, enum gym_attempt_state, s, out);
}

const char *
gym_attempt_state_name(enum gym_attempt_state v)
{
	return NAME(attempt_names, v);
}

int
gym_refund_status_parse(const char *s, enum gym_refund_status *out)
{
	PARSE(refund_names, enum gym_refund_status, s, out);
}

const char *
gym_refund_status_name(enum gym_refund_status v)
{
	return NAME(refund_names, v);
}

int
gym_txn_outcome_parse(const char *s, enum gym_txn_outcome *out)
{
	PARSE(txn_names, enum gym_txn_outcome, s, out);
}

const char *
gym_txn_outcome_name(enum gym_txn_outcome v)
{
	return NAME(txn_names, v);
}

int
gym_notification_status_parse(const char *s, enum gym_notification_status *out)
{
	PARSE(notify_names, enum gym_notification_status, s, out);
}

const char *
gym_notification_status_name(enum gym_notification_status v)
{
	return NAME(notify_names, v);
}

int
gym_trade_state_parse(const char *s, enum gym_trade_state *out)
{
	PARSE(trade_names, enum gym_trade_state, s, out);
}

const char *
gym_trade_state_name(enum gym_trade_state v)
{
	return NAME(trade_names, v);
}

int
gym_refund_wx_parse(const char *s, enum gym_refund_wx *out)
{
	PARSE(refund_wx_names, enum gym_refund_wx, s, out);
}

const char *
gym_refund_wx_name(enum gym_refund_wx v)
{
	return NAME(refund_wx_names, v);
}

enum gym_refund_status
gym_refund_wx_status(enum gym_refund_wx v)
{
	return (int)v >= 0 && v < GYM_REFUND_WX__COUNT ? refund_wx_status[v] : GYM_REFUND_PROCESSING;
}

int
gym_waitlist_state_parse(const char *s, enum gym_waitlist_state *out)
{
	PARSE(waitlist_names, enum gym_waitlist_state, s, out);
}

const char *
gym_waitlist_state_name(enum gym_waitlist_state v)
{
	return NAME(waitlist_names, v);
}

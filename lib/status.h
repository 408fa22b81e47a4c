/*
 * status.h: the statuses the database stores, as enums.  Each family has
 * one table (status.c) from enum to the database's string, the same
 * strings as the CHECK constraints in migrations/.  A row's status is
 * parsed once when the row is read; code compares enums after that, and
 * names a status only to write it to the database or to a client.
 *
 * gym_<family>_parse: 1 and *out set when s is one of the family's
 * strings, 0 (and *out untouched) for anything else, NULL included.
 * gym_<family>_name: the database string; "" for a value out of range.
 */
#ifndef GYM_STATUS_H
#define GYM_STATUS_H

/* payment_orders.status */
enum gym_order_status {
	GYM_ORDER_PENDING,
	GYM_ORDER_PAID,
	GYM_ORDER_FAILED,
	GYM_ORDER_CANCELLED,
	GYM_ORDER_EXPIRED,
	GYM_ORDER_REFUNDING,
	GYM_ORDER_REFUNDED,
	GYM_ORDER__COUNT
};

/* seat_reservations.status: a hold */
enum gym_hold_status {
	GYM_HOLD_TEMPORARY,
	GYM_HOLD_CONFIRMED,
	GYM_HOLD_CANCELLED,
	GYM_HOLD_EXPIRED,
	GYM_HOLD__COUNT
};

/* seats.state */
enum gym_seat_state {
	GYM_SEAT_FREE,
	GYM_SEAT_HELD,
	GYM_SEAT_CONFIRMED,
	GYM_SEAT__COUNT
};

/* bookings.status */
enum gym_booking_status {
	GYM_BOOKING_CONFIRMED,
	GYM_BOOKING_CANCELLED,
	GYM_BOOKING__COUNT
};

/* payment_attempts.state */
enum gym_attempt_state {
	GYM_ATTEMPT_OPEN,
	GYM_ATTEMPT_PAID,
	GYM_ATTEMPT_FAILED,
	GYM_ATTEMPT_CLOSED,
	GYM_ATTEMPT_SUPERSEDED,
	GYM_ATTEMPT__COUNT
};

/* refunds.status (and refunds.order_status_before: an order status) */
enum gym_refund_status {
	GYM_REFUND_PENDING,
	GYM_REFUND_PROCESSING,
	GYM_REFUND_SUCCESS,
	GYM_REFUND_CLOSED,
	GYM_REFUND_ABNORMAL,
	GYM_REFUND__COUNT
};

/* payment_transactions.outcome */
enum gym_txn_outcome {
	GYM_TXN_PAID,
	GYM_TXN_LATE_PAID,
	GYM_TXN_LATE_REFUNDED,
	GYM_TXN_DUPLICATE_REFUNDED,
	GYM_TXN_UNAPPLIED,
	GYM_TXN__COUNT
};

/* notifications.status */
enum gym_notification_status {
	GYM_NOTIFICATION_PENDING,
	GYM_NOTIFICATION_SENT,
	GYM_NOTIFICATION_FAILED,
	GYM_NOTIFICATION__COUNT
};

/* WeChat Pay's trade_state (payment_transactions.trade_state keeps it as
 * WeChat sent it) */
enum gym_trade_state {
	GYM_TRADE_SUCCESS,
	GYM_TRADE_REFUND,
	GYM_TRADE_NOTPAY,
	GYM_TRADE_CLOSED,
	GYM_TRADE_REVOKED,
	GYM_TRADE_USERPAYING,
	GYM_TRADE_PAYERROR,
	GYM_TRADE__COUNT
};

/* WeChat Pay's refund status (refunds.wx_status keeps it as WeChat sent
 * it); each names the refunds.status it leads to */
enum gym_refund_wx {
	GYM_REFUND_WX_SUCCESS,
	GYM_REFUND_WX_CLOSED,
	GYM_REFUND_WX_PROCESSING,
	GYM_REFUND_WX_ABNORMAL,
	GYM_REFUND_WX__COUNT
};

/* waitlist_entries.state */
enum gym_waitlist_state {
	GYM_WAITLIST_WAITING,
	GYM_WAITLIST_OFFERED,
	GYM_WAITLIST_DONE,
	GYM_WAITLIST_LEFT,
	GYM_WAITLIST__COUNT
};

int gym_order_status_parse(const char *s, enum gym_order_status *out);
const char *gym_order_status_name(enum gym_order_status);
int gym_hold_status_parse(const char *s, enum gym_hold_status *out);
const char *gym_hold_status_name(enum gym_hold_status);
int gym_seat_state_parse(const char *s, enum gym_seat_state *out);
const char *gym_seat_state_name(enum gym_seat_state);
int gym_booking_status_parse(const char *s, enum gym_booking_status *out);
const char *gym_booking_status_name(enum gym_booking_status);
int gym_attempt_state_parse(const char *s, enum gym_attempt_state *out);
const char *gym_attempt_state_name(enum gym_attempt_state);
int gym_refund_status_parse(const char *s, enum gym_refund_status *out);
const char *gym_refund_status_name(enum gym_refund_status);
int gym_txn_outcome_parse(const char *s, enum gym_txn_outcome *out);
const char *gym_txn_outcome_name(enum gym_txn_outcome);
int gym_notification_status_parse(const char *s, enum gym_notification_status *out);
const char *gym_notification_status_name(enum gym_notification_status);
int gym_trade_state_parse(const char *s, enum gym_trade_state *out);
const char *gym_trade_state_name(enum gym_trade_state);
int gym_waitlist_state_parse(const char *s, enum gym_waitlist_state *out);
const char *gym_waitlist_state_name(enum gym_waitlist_state);
int gym_refund_wx_parse(const char *s, enum gym_refund_wx *out);
const char *gym_refund_wx_name(enum gym_refund_wx);
/* The refunds.status a WeChat refund status leads to. */
enum gym_refund_status gym_refund_wx_status(enum gym_refund_wx);

#endif

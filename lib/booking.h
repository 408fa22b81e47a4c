/*
 * booking.h: classes, seat holds, orders, bookings and their audit rows.
 * Every function here runs exactly one transaction (through gym_db_tx) and
 * writes an audit row for every status change it makes, in that same
 * transaction.  Times are microseconds since the epoch (gym_now_us()).
 */
#ifndef GYM_BOOKING_H
#define GYM_BOOKING_H

#include <stdint.h>

#include "gym.h"
#include "db.h"
#include "status.h"

/* Who made a change, for the audit log.  Strings are borrowed. */
struct gym_actor {
	const char *type;		/* "user", "operator", "system", "wechat" */
	long long id;			/* user or operator id; 0 for system */
	const char *client_ip;
	const char *user_agent;
	const char *request_id;
	const char *request_snapshot;	/* masked JSON text, or NULL */
};

struct gym_schedule {
	long long id;
	char course_name[404];
	int64_t starts_at, ends_at;
	int capacity;
	int available;
	int64_t cancelled_at;		/* 0 unless the gym cancelled it */
	char cancel_reason[244];	/* 80 characters of UTF-8 */
	char kind[12];			/* trial | regular (member bookings) */
};

struct gym_reservation {
	long long id;
	long long schedule_id;
	long long user_id;
	enum gym_hold_status status;
	int64_t expires_at;
};

struct gym_order {
	long long id;
	char order_id[33];
	long long user_id;
	long long schedule_id;
	enum gym_order_status status;
	int amount_fen;
	int64_t expires_at;
	int64_t paid_at;		/* 0 when not paid */
	int64_t created_at;
	long long booking_id;		/* 0 when none */
	int has_reservation;
	struct gym_reservation res;
	char trade_type[8];
	char prepay_id[128];
	char code_url[256];
	int64_t wx_time_expire;		/* 0 until the first prepay */
	char transaction_id[64];
	char payment_method[12];	/* the channel: "wechat" */
	char out_trade_no[33];		/* the current (or paying) attempt's */
	char attention_reason[16];	/* why the money must go back without a
					 * seat (late_no_seat, second_trial); "" */
	long long product_id;		/* products.id (0: a trial order from before) */
};

struct gym_booking {
	long long id;
	char order_id[33];
	long long schedule_id;
	enum gym_booking_status status;
	int64_t confirmed_at;
};

/* users.c */
enum gym_err gym_user_login(struct gym_db *, const char *openid, long long *user_id);
enum gym_err gym_user_openid(struct gym_db *, long long user_id, char *openid, size_t len);

/* schedules.c */
enum gym_err gym_schedule_create(struct gym_db *, const struct gym_actor *,
    const char *course, int64_t starts, int64_t ends, int capacity, long long *id);
enum gym_err gym_schedule_get(struct gym_db *, long long id, struct gym_schedule *);
/* For a sold-out class id: up to max other classes with a free seat in the
 * next 60 days, the same course first, then the nearest in time. */
enum gym_err gym_schedule_alternatives(struct gym_db *, long long id, struct gym_schedule *out,
    int max, int *n);
/* Classes starting in [from, to), at most max of them, by start time. */
enum gym_err gym_schedule_list(struct gym_db *, int64_t from, int64_t to,
    struct gym_schedule *out, int max, int *n);
/* Change the capacity: never below the seats held or confirmed now. */
enum gym_err gym_schedule_set_capacity(struct gym_db *, const struct gym_actor *,
    long long id, int capacity);

/* A change to a class: NULL / 0 / -1 leave a field as it is. */
struct gym_schedule_change {
	const char *course_name;
	int64_t starts_at, ends_at;
	int capacity;
};
/* Rename, move or resize a class (schedule_changes.c).  A class moves to
 * the future only and ends after it starts (GYM_EINVAL, *bad_field the
 * field); capacity as gym_schedule_set_capacity; GYM_E_CLASS_CANCELLED for a
 * cancelled class.  A new name or time tells every parent with a paid
 * booking (*told of them). */
enum gym_err gym_schedule_update(struct gym_db *, const struct gym_actor *, long long id,
    const struct gym_schedule_change *, const char **bad_field, int *told);

/* What a cancel did; already: the class was cancelled before (only refunds
 * that were missing are started). */
struct gym_class_cancel {
	int already;
	int orders_cancelled;		/* unpaid orders ended */
	int holds_released;		/* holds without an order */
	int refunds;			/* refunds started now */
	int told;			/* parents with paid bookings told */
};
/* Cancel a class for reason (at most 80 characters): see
 * schedule_changes.c.  operator_id starts the refunds. */
enum gym_err gym_schedule_cancel(struct gym_db *, const struct gym_actor *, long long id,
    const char *reason, long long operator_id, struct gym_class_cancel *);
/* End what cancelled classes still have in flight (a hold or an order that
 * raced the cancel's commit) and refund the paid bookings a cancel that
 * stopped half way left (in the cancelling operator's name, 30 s after
 * the cancel): the cancel and every job run call it; *ended (may be NULL)
 * counts them. */
enum gym_err gym_schedule_cancel_sweep(struct gym_db *, const struct gym_actor *, int *ended);
/* A class's roster: its orders that hold or held a seat (pending, paid,
 * refunding, refunded), oldest first, up to max into out. */
enum gym_err gym_schedule_roster(struct gym_db *, long long schedule_id, struct gym_order *out,
    int max, int *n);
/* A regular class's roster: its member bookings, oldest first, up to max
 * into out; reg_order_id is the member's latest order with a registration
 * ("" when none). */
struct gym_member_roster_row {
	long long booking_id, user_id;
	char pay_with[12];		/* membership | credits */
	char status[12];		/* confirmed | cancelled */
	int64_t booked_at, cancelled_at;	/* us; cancelled_at 0 while confirmed */
	char reg_order_id[40];
};
enum gym_err gym_schedule_member_roster(struct gym_db *, long long schedule_id,
    struct gym_member_roster_row *out, int max, int *n);

/* holds.c: *created is 1 for a new hold, 0 when the user's live hold on
 * this schedule is returned.  Both open their own transaction and must not
 * be called inside one: their one-statement paths set synchronous_commit
 * off until the end of the transaction they run in. */
enum gym_err gym_hold_create(struct gym_db *, const struct gym_actor *, long long user_id,
    long long schedule_id, struct gym_reservation *, int *created);
enum gym_err gym_hold_release(struct gym_db *, const struct gym_actor *, long long user_id,
    long long reservation_id, struct gym_reservation *);
enum gym_err gym_hold_get(struct gym_db *, long long user_id, long long reservation_id,
    struct gym_reservation *);

/* orders.c */
struct gym_pii_keys;
struct gym_registration;
/* A new order for the trial class schedule_id, with the registration
 * details reg sealed under keys in the same transaction (reg NULL: none,
 * as orders from before registrations were taken). */
enum gym_err gym_order_create(struct gym_db *, const struct gym_actor *, long long user_id,
    long long schedule_id, long long reservation_id, const struct gym_pii_keys *keys,
    const struct gym_registration *reg, struct gym_order *, int *created);
/* user_id 0 = any user (operators, WeChat). */
enum gym_err gym_order_get(struct gym_db *, long long user_id, const char *order_id,
    struct gym_order *);
enum gym_err gym_order_cancel(struct gym_db *, const struct gym_actor *, long long user_id,
    const char *order_id, struct gym_order *);
/* Before a prepay: the order must be pending and unexpired, with a live
 * hold; a lapsed hold is re-claimed for at most the order's remaining time
 * (GYM_E_SOLD_OUT, and the order failed, when no seat is free). */
enum gym_err gym_order_prepare_pay(struct gym_db *, const struct gym_actor *, long long user_id,
    const char *order_id, struct gym_order *);
/* Record WeChat's prepay answer (trade type, prepay_id or code_url) for
 * the attempt out_trade_no (opened, or the same one asked again; it becomes
 * the order's current attempt) and the time_expire sent with the first
 * prepay.  GYM_ECONFLICT when another attempt of the order is still open
 * or this one ended meanwhile. */
enum gym_err gym_order_record_prepay(struct gym_db *, const struct gym_actor *,
    const char *order_id, const char *out_trade_no, const char *trade_type,
    const char *prepay_id, const char *code_url, int64_t time_expire);
/* The same, through channel (a payment_method, "wechat" or "alipay"): the
 * order's payment_method and the attempt's channel become channel (a
 * parent may switch channel before paying); NULL keeps the order's. */
enum gym_err gym_order_record_prepay_on(struct gym_db *, const struct gym_actor *,
    const char *order_id, const char *channel, const char *out_trade_no,
    const char *trade_type, const char *prepay_id, const char *code_url,
    int64_t time_expire);
/* The booking of a paid order (GYM_E_PAYMENT_PENDING while pending,
 * GYM_E_ORDER_NOT_PAYABLE when failed, cancelled or expired). */
enum gym_err gym_booking_get(struct gym_db *, long long user_id, const char *order_id,
    struct gym_booking *);

/* payments.c: apply a WeChat transaction (from a notification or a query).
 * Exactly once per transaction_id.  outcome receives what happened:
 * "paid", "late_paid" (order had lapsed, a free seat was taken),
 * "late_refunded" / "duplicate_refunded" (no seat, or a second trial:
 * the money must go back), "duplicate" (already applied), "failed"
 * (PAYERROR/CLOSED: the seat is freed). */
struct gym_wx_txn {
	const char *out_trade_no;
	const char *transaction_id;
	const char *trade_state;
	const char *trade_state_desc;	/* WeChat's words for it, or NULL */
	const char *trade_type;
	const char *bank_type;
	const char *appid;
	const char *mchid;
	long long total;
	long long payer_total;
	const char *success_time;
	const char *payload;		/* masked JSON text */
	const char *source;		/* "notify" or "query" */
};
enum gym_err gym_payment_apply(struct gym_db *, const struct gym_actor *,
    const struct gym_wx_txn *, char *outcome, size_t outcome_len);
/* Mark a pending order failed (WeChat says PAYERROR/CLOSED) and free its seat. */
enum gym_err gym_order_fail(struct gym_db *, const struct gym_actor *, const char *order_id,
    const char *reason);

/* sweep.c: mark lapsed holds and orders expired in batches claimed with
 * FOR UPDATE SKIP LOCKED; *n receives the rows changed. */
enum gym_err gym_sweep_holds(struct gym_db *, int batch, int *n);
enum gym_err gym_sweep_orders(struct gym_db *, int batch, int *n);

/* audit.c: one audit row, inside the caller's transaction.  snapshot_sql
 * is not SQL: it is "order", "hold" or NULL and selects which row's JSON
 * becomes the response snapshot. */
struct gym_audit {
	const char *entity;
	const char *action;
	const char *order_id;
	long long reservation_id;
	long long booking_id;
	const char *old_status;
	const char *new_status;
	const char *response_snapshot;	/* JSON text or NULL */
};
enum gym_err gym_audit_write(struct gym_db *, const struct gym_actor *, const struct gym_audit *);
/* The same in a transaction of its own: for attempts that change nothing
 * (a tampered amount, a forged notification). */
enum gym_err gym_audit_record(struct gym_db *, const struct gym_actor *, const struct gym_audit *);

#endif

/*
 * products.h: what the gym sells beyond a trial seat (issue 15): the
 * catalogue (products.c), orders for a product with the upgrade's priced
 * difference (product_orders.c), the entitlements a payment fulfils
 * (entitlements.c: membership periods and the credit ledger), a parent's
 * account and payment history (account.c), members' bookings of regular
 * classes (member_bookings.c) and the credit expiry job.
 *
 * Every function runs exactly one transaction unless its name starts with
 * gym__ (those run inside the caller's).  Money is integer fen, times are
 * microseconds since the epoch (gym_now_us()).  Every change writes its
 * audit row in the same transaction.
 */
#ifndef GYM_PRODUCTS_H
#define GYM_PRODUCTS_H

#include <stdint.h>

#include "booking.h"
#include "price.h"

enum gym_product_kind { GYM_PRODUCT_TRIAL, GYM_PRODUCT_MEMBERSHIP, GYM_PRODUCT_CLASS_PACK };

struct gym_product {
	long long id;
	enum gym_product_kind kind;
	char name[404];			/* 100 characters of UTF-8 */
	long long price_fen;
	int days;			/* 0 for the trial */
	int credits;			/* class packs only, else 0 */
	int active;
};

const char *gym_product_kind_name(enum gym_product_kind);
/* 1 when s names a kind (into *k). */
int gym_product_kind_parse(const char *s, enum gym_product_kind *k);

/* The active products (all when all is 1), by id, up to max into out. */
enum gym_err gym_product_list(struct gym_db *, int all, struct gym_product *out, int max,
    int *n);
enum gym_err gym_product_get(struct gym_db *, long long id, struct gym_product *);
/* A new membership plan or class pack (the trial exists once, from the
 * migration: GYM_EINVAL for kind trial); *p is filled with it. */
enum gym_err gym_product_create(struct gym_db *, const struct gym_actor *,
    struct gym_product *p);
/* A change: name NULL, price_fen 0, days 0, credits 0, active -1 leave a
 * field as it is.  Orders keep the price they were made with. */
struct gym_product_change {
	const char *name;
	long long price_fen;
	int days, credits, active;
};
enum gym_err gym_product_update(struct gym_db *, const struct gym_actor *, long long id,
    const struct gym_product_change *, struct gym_product *out);

/*
 * product_orders.c: a parent's order for a membership or class pack (no
 * class, no seat), pending for the trial order's time and paid through the
 * same prepay endpoints.  The price is the product's now; a client amount
 * that names another is GYM_E_AMOUNT_MISMATCH.  upgrade: the parent's
 * membership moves to this dearer plan for its remaining time at the
 * difference (gym_upgrade_price); GYM_E_NO_ENTITLEMENT without a current
 * membership, GYM_E_NOT_UPGRADE for a plan that is not dearer per day.
 * An inactive or unknown product: GYM_E_PRODUCT_UNAVAILABLE.
 */
enum gym_err gym_product_order_create(struct gym_db *, const struct gym_actor *,
    long long user_id, long long product_id, int upgrade, const struct gym_client_amount *,
    struct gym_order *);

/*
 * The upgrade's price: the difference of the two plans' daily prices over
 * the remaining whole minutes (rounded down), rounded up to a whole fen:
 *   ceil((new_fen * old_days - old_fen * new_days) * minutes
 *        / (old_days * new_days * 1440))
 * at least 1 fen; 0 when the new plan is not dearer per day.
 */
long long gym_upgrade_price(long long old_fen, int old_days, long long new_fen, int new_days,
    int64_t remaining_us);

/* entitlements.c: fulfil a paid product order inside the payment's
 * transaction (the order row is locked by the caller): a membership period
 * or a credit grant, once per order (the unique order_id of each).
 * *stale 1 (nothing done) when an upgrade no longer matches the membership
 * it was priced against. */
enum gym_err gym__product_fulfil(struct gym_db *, const struct gym_actor *,
    const char *order_id, int *stale);

/* entitlements.c: a refund of refund_fen of a product order succeeded
 * (inside that transaction, the order row locked; order_status its status
 * now): a membership period's end moves back by the refunded share (of
 * what was still paid for) of its length (never before now; later periods
 * follow it), a lot's unused
 * credits are revoked up to the refunded share (rounded up); once refunds
 * reach what was paid the order is 'refunded'. */
enum gym_err gym__product_refunded(struct gym_db *, const struct gym_actor *,
    const char *order_id, int refund_fen, enum gym_order_status order_status);

/*
 * product_refunds.c: an operator refunds a product order in full or in part
 * (amount_fen 0: whatever is left).  One refund in flight per order; the
 * refunds that succeeded and this one never pass what was paid
 * (GYM_E_NOT_REFUNDABLE; a trial order: GYM_EINVAL).  The same request
 * again (operator, reason, amount) while it is in flight returns it
 * (*created 0); another is GYM_E_REFUND_IN_PROGRESS.  The order stays as it
 * is until the refund succeeds (refunds.c, gym__product_refunded).
 */
struct gym_refund;
enum gym_err gym_product_refund_request(struct gym_db *, const struct gym_actor *,
    const char *order_id, const char *reason, long long amount_fen, long long operator_id,
    struct gym_refund *out, int *created);
/* The refund an operator would give for the unused share of a product order
 * now (membership: the period's time left; pack: its credits left), at most
 * what is left to refund. */
enum gym_err gym_product_refund_proposal(struct gym_db *, const char *order_id,
    long long *fen);

/* account.c: a parent's account (GET /me) and payment history. */
struct gym_membership {
	long long product_id;
	char name[404];
	int64_t starts_at, ends_at;	/* the current period's start, the end */
};
struct gym_credit_lot {
	long long id;
	int credits;			/* left */
	int64_t expires_at;
};
struct gym_member_booking {
	long long id;
	long long schedule_id;
	char course_name[404];
	int64_t starts_at;
	char pay_with[12];		/* "membership", "credits" */
	char status[12];		/* "confirmed", "cancelled" */
	int credit_returned;
	int64_t confirmed_at, cancelled_at;
};
#define GYM_ACCOUNT_MAX_LOTS 50
#define GYM_ACCOUNT_MAX_BOOKINGS 50
struct gym_account {
	int has_membership;
	struct gym_membership membership;
	long long balance;
	int nlots;
	struct gym_credit_lot lots[GYM_ACCOUNT_MAX_LOTS];
	int nbookings;			/* upcoming, confirmed */
	struct gym_member_booking bookings[GYM_ACCOUNT_MAX_BOOKINGS];
};
enum gym_err gym_account_get(struct gym_db *, long long user_id, struct gym_account *);
/* Row i of a member booking query into b (lib-private). */
void gym__read_member_booking(PGresult *, int i, struct gym_member_booking *b);

struct gym_history_refund {
	char out_refund_no[65];
	long long amount_fen;
	char status[12];
	int64_t created_at;
};
#define GYM_HISTORY_MAX_REFUNDS 4
struct gym_history_item {
	long long payment_id;		/* the applied transaction's row, 0 if none */
	char order_id[33];
	long long product_id;
	char product_kind[12], product_name[404];
	long long amount_fen;
	char channel[12], status[12];
	int64_t created_at, paid_at;
	int nrefunds;
	struct gym_history_refund refunds[GYM_HISTORY_MAX_REFUNDS];
};
#define GYM_HISTORY_MAX_SIZE 100
/* Page page (from 1) of size items of the parent's paid orders (paid,
 * refunding, refunded), newest first; *total counts them all.  out holds
 * size items. */
enum gym_err gym_payment_history(struct gym_db *, long long user_id, int page, int size,
    struct gym_history_item *out, int *n, long long *total);

/* Operators' lookup (account.c; finding the parent: member_find.h): a
 * parent's credit ledger, newest first (GYM_ENOTFOUND: no such parent). */
struct gym_ledger_row {
	long long id, lot_id;
	char kind[12];
	int delta;
	char order_id[33];
	long long booking_id;
	char reason[604];
	int64_t created_at, expires_at;	/* the row's time; its lot's expiry */
};
enum gym_err gym_member_ledger(struct gym_db *, long long user_id, struct gym_ledger_row *,
    int max, int *n);

/* member_bookings.c: a member books a regular class with the membership
 * (a period covering the class's start) or one credit (the lot expiring
 * first): a confirmed seat at once, no payment.  GYM_E_NO_ENTITLEMENT
 * without either; GYM_E_SOLD_OUT with no seat (or parents waiting);
 * GYM_EINVAL for a trial class; GYM_E_ALREADY_CONFIRMED when booked. */
enum gym_member_pay { GYM_PAY_MEMBERSHIP, GYM_PAY_CREDITS };
enum gym_err gym_member_book(struct gym_db *, const struct gym_actor *, long long user_id,
    long long schedule_id, enum gym_member_pay, struct gym_member_booking *);
/* Cancel: the seat is freed; a credit comes back when the class starts more
 * than cutoff_s seconds from now, else it is spent.  A cancelled booking
 * answers as it is; GYM_ENOTFOUND when not the parent's; GYM_ECONFLICT
 * once the class has started. */
enum gym_err gym_member_cancel(struct gym_db *, const struct gym_actor *, long long user_id,
    long long booking_id, int cutoff_s, struct gym_member_booking *);

/* class_kind.c: make a class "trial" or "regular" (GYM_EINVAL otherwise). */
enum gym_err gym_schedule_set_kind(struct gym_db *, const struct gym_actor *, long long id,
    const char *kind);

/* reminders.c, the job: tell parents whose membership or credits run out
 * within 7 days (wx.template_expiring; once per order); *n messages queued. */
enum gym_err gym_reminders_pass(struct gym_db *, int batch, int *n);

/* The gym cancelled schedule_id (0: any cancelled class, for the stragglers
 * of the cancel sweep): its confirmed member bookings end, seats freed and
 * credits returned whatever the cutoff, with their audit rows; inside the
 * caller's transaction.  *n bookings ended. */
enum gym_err gym__member_bookings_class_cancelled(struct gym_db *, const struct gym_actor *,
    long long schedule_id, int *n);

/* The job: lapsed lots' remaining credits get their 'expire' rows, for at
 * most batch parents (locked SKIP LOCKED); *n the lots expired. */
enum gym_err gym_credits_expire(struct gym_db *, int batch, int *n);

#endif

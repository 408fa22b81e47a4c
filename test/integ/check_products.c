/*
 * check_products.c: products beyond the trial (lib/products.h) against
 * PostgreSQL: the catalogue (a price change keeps existing orders' price,
 * deactivated products are not sold), membership purchase and renewal
 * fulfilled once in the payment's transaction, the upgrade's price
 * difference and its stale case, class packs on the credit ledger with
 * expiry, member bookings with cancel before and after the cutoff, the
 * payment history's pages, and 100 concurrent purchases of one membership by
 * one parent with 20 duplicate notifications each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config.h"
#include "integ.h"
#include "notify.h"
#include "pgtest.h"
#include "products.h"
#include "refunds.h"
#include "waitlist.h"

#define DAY_S 86400LL
#define DAY_US (DAY_S * 1000000)

static struct gym_db *db;

static void
setup(void)
{
	db = pgt_open();
}

static void
teardown(void)
{
	pgt_close(&db);
}

static const struct gym_actor op_actor = { "operator", 1, "127.0.0.1", "check", "test", NULL };

static long long
product(enum gym_product_kind kind, const char *name, long long fen, int days, int credits)
{
	struct gym_product p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.price_fen = fen;
	p.days = days;
	p.credits = credits;
	ck_assert_int_eq(gym_product_create(db, &op_actor, &p), GYM_OK);
	ck_assert(p.active);
	return p.id;
}

static enum gym_err
apply_paid(struct gym_db *d, const struct gym_order *o, const char *txn, char *outcome,
    size_t len)
{
	struct gym_wx_txn t;

	memset(&t, 0, sizeof(t));
	t.out_trade_no = o->order_id;
	t.transaction_id = txn;
	t.trade_state = "SUCCESS";
	t.trade_type = "JSAPI";
	t.total = o->amount_fen;
	t.payer_total = o->amount_fen;
	t.success_time = "2026-12-04T10:00:00+08:00";
	t.source = "notify";
	return gym_payment_apply(d, &pgt_actor_wechat, &t, outcome, len);
}

/* Buy (and pay) product pid for user uid; the order into *o. */
static void
buy(long long uid, long long pid, int upgrade, struct gym_order *o, const char *expect)
{
	struct gym_actor a = pgt_actor_user(uid);
	char txn[40], outcome[32];

	ck_assert_int_eq(gym_product_order_create(db, &a, uid, pid, upgrade, NULL, o), GYM_OK);
	snprintf(txn, sizeof(txn), "42%.30s", o->order_id + 3);
	ck_assert_int_eq(apply_paid(db, o, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, expect);
}

static long long
count1(const char *sql, long long v)
{
	char s[24];
	const char *p[1] = { s };

	snprintf(s, sizeof(s), "%lld", v);
	return pgt_countp(db, sql, 1, p);
}

/* The ledger's sum of the user's credits equals the balance shown. */
static void
ledger_matches(long long uid, long long balance)
{
	struct gym_account acc;

	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.balance, balance);
	ck_assert_int_eq(count1("SELECT coalesce(sum(delta), 0) FROM credit_ledger WHERE "
	    "user_id = $1::bigint", uid), balance);
}

START_TEST(test_catalogue)
{
	struct gym_product list[10], p;
	struct gym_product_change ch;
	struct gym_order o;
	struct gym_actor a;
	long long uid = pgt_user(db, "p-cat"), m, trial;
	int n;

	m = product(GYM_PRODUCT_MEMBERSHIP, "月卡", 30000, 30, 0);
	(void)product(GYM_PRODUCT_CLASS_PACK, "10次卡", 150000, 90, 10);
	pgt_exec(db, "INSERT INTO products (kind, name, price_fen, created_at, updated_at) "
	    "VALUES ('trial', '体验课', 20000, now(), now())");
	trial = pgt_count(db, "SELECT id FROM products WHERE kind = 'trial'");
	ck_assert_int_eq(gym_product_list(db, 0, list, 10, &n), GYM_OK);
	ck_assert_int_eq(n, 3);
	/* bad products are refused */
	memset(&p, 0, sizeof(p));
	p.kind = GYM_PRODUCT_CLASS_PACK;
	snprintf(p.name, sizeof(p.name), "no credits");
	p.price_fen = 100;
	p.days = 10;
	ck_assert_int_eq(gym_product_create(db, &op_actor, &p), GYM_EINVAL);
	p.kind = GYM_PRODUCT_TRIAL;
	ck_assert_int_eq(gym_product_create(db, &op_actor, &p), GYM_EINVAL);
	/* an order keeps its price when the product's changes */
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, m, 0, NULL, &o), GYM_OK);
	ck_assert_int_eq(o.amount_fen, 30000);
	ck_assert_int_eq(o.product_id, m);
	ck_assert_int_eq(o.schedule_id, 0);
	memset(&ch, 0, sizeof(ch));
	ch.active = -1;
	ch.price_fen = 35000;
	ck_assert_int_eq(gym_product_update(db, &op_actor, m, &ch, &p), GYM_OK);
	ck_assert_int_eq(p.price_fen, 35000);
	ck_assert_int_eq(gym_order_get(db, uid, o.order_id, &o), GYM_OK);
	ck_assert_int_eq(o.amount_fen, 30000);
	/* the trial's price is the contract's */
	ck_assert_int_eq(gym_product_update(db, &op_actor, trial, &ch, &p), GYM_EINVAL);
	/* a trial is bought with its class, not this way */
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, trial, 0, NULL, &o), GYM_EINVAL);
	/* deactivated: not listed, not sold */
	ch.price_fen = 0;
	ch.active = 0;
	ck_assert_int_eq(gym_product_update(db, &op_actor, m, &ch, &p), GYM_OK);
	ck_assert(!p.active);
	ck_assert_int_eq(gym_product_list(db, 0, list, 10, &n), GYM_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(gym_product_list(db, 1, list, 10, &n), GYM_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, m, 0, NULL, &o),
	    GYM_E_PRODUCT_UNAVAILABLE);
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, 99999, 0, NULL, &o),
	    GYM_E_PRODUCT_UNAVAILABLE);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'product'"), 4);
}
END_TEST

START_TEST(test_membership_renewal)
{
	struct gym_account acc;
	struct gym_order o1, o2;
	char outcome[32], txn[40];
	long long uid = pgt_user(db, "p-renew"), m = product(GYM_PRODUCT_MEMBERSHIP, "月卡",
	    30000, 30, 0);
	int64_t t0 = gym_now_us();

	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert(!acc.has_membership);
	buy(uid, m, 0, &o1, "paid");
	/* the same notification again fulfils nothing more */
	snprintf(txn, sizeof(txn), "42%.30s", o1.order_id + 3);
	ck_assert_int_eq(apply_paid(db, &o1, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	ck_assert_int_eq(count1("SELECT count(*) FROM membership_periods WHERE user_id = $1::bigint",
	    uid), 1);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert(acc.has_membership);
	ck_assert_int_eq(acc.membership.product_id, m);
	ck_assert(acc.membership.starts_at >= t0 - 1000000 && acc.membership.starts_at <= gym_now_us());
	ck_assert_int_eq(acc.membership.ends_at - acc.membership.starts_at, 30 * DAY_US);
	/* renewal ten days in: from the end of the current period */
	gym_clock_set_offset(10 * DAY_S);
	buy(uid, m, 0, &o2, "paid");
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.membership.ends_at - acc.membership.starts_at, 60 * DAY_US);
	ck_assert_int_eq(count1("SELECT count(*) FROM membership_periods WHERE user_id = $1::bigint "
	    "AND kind = 'renewal' AND starts_at = (SELECT ends_at FROM membership_periods "
	    "WHERE kind = 'purchase')", uid), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'membership' AND action_type IN ('membership_purchased', 'membership_renewed')"),
	    2);
	/* after both periods: no membership */
	gym_clock_set_offset(61 * DAY_S);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert(!acc.has_membership);
}
END_TEST

START_TEST(test_upgrade_price)
{
	/* 1000 fen a day to 2000 fen a day for 20 days: 20000 fen */
	ck_assert_int_eq(gym_upgrade_price(30000, 30, 60000, 30, 20 * DAY_US), 20000);
	/* 1000/day to 1100/day (33000 / 30) for 1 minute: 100 / 1440 fen, up to 1 */
	ck_assert_int_eq(gym_upgrade_price(30000, 30, 33000, 30, 60 * 1000000), 1);
	/* a part of a minute does not count */
	ck_assert_int_eq(gym_upgrade_price(30000, 30, 60000, 30, 20 * DAY_US + 59999999), 20000);
	/* 30000/30 to 100000/90 (1111.11/day): 111.11 a day for 7 days = 777.78, up */
	ck_assert_int_eq(gym_upgrade_price(30000, 30, 100000, 90, 7 * DAY_US), 778);
	/* not dearer per day: no price (a downgrade is not sold) */
	ck_assert_int_eq(gym_upgrade_price(30000, 30, 80000, 90, 7 * DAY_US), 0);
	ck_assert_int_eq(gym_upgrade_price(30000, 30, 30000, 30, 7 * DAY_US), 0);
}
END_TEST

START_TEST(test_upgrade)
{
	struct gym_account acc;
	struct gym_order o, up, cheap;
	struct gym_actor a;
	long long uid = pgt_user(db, "p-upgrade"), basic, gold, low;
	int64_t end;

	basic = product(GYM_PRODUCT_MEMBERSHIP, "基础月卡", 30000, 30, 0);
	gold = product(GYM_PRODUCT_MEMBERSHIP, "金卡", 60000, 30, 0);
	low = product(GYM_PRODUCT_MEMBERSHIP, "季卡", 60000, 90, 0);
	a = pgt_actor_user(uid);
	/* nothing to upgrade yet */
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, gold, 1, NULL, &up),
	    GYM_E_NO_ENTITLEMENT);
	buy(uid, basic, 0, &o, "paid");
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	end = acc.membership.ends_at;
	gym_clock_set_offset(10 * DAY_S);
	/* cheaper per day: not sold */
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, low, 1, NULL, &cheap),
	    GYM_E_NOT_UPGRADE);
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, basic, 1, NULL, &cheap),
	    GYM_E_NOT_UPGRADE);
	/* 20 days left, 1000 fen a day more: 20000 fen (the last partial
	 * minute not counted, then rounded up) */
	buy(uid, gold, 1, &up, "paid");
	ck_assert_int_eq(up.amount_fen, 20000);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.membership.product_id, gold);
	ck_assert_str_eq(acc.membership.name, "金卡");
	ck_assert_int_eq(acc.membership.ends_at, end);
	ck_assert_int_eq(count1("SELECT count(*) FROM membership_periods WHERE user_id = $1::bigint "
	    "AND ended_early AND kind = 'purchase'", uid), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'membership_upgraded'"), 1);
}
END_TEST

START_TEST(test_upgrade_stale)
{
	struct gym_order o, up, renew;
	struct gym_actor a;
	char outcome[32];
	long long uid = pgt_user(db, "p-stale"), basic, gold;

	basic = product(GYM_PRODUCT_MEMBERSHIP, "基础月卡", 30000, 30, 0);
	gold = product(GYM_PRODUCT_MEMBERSHIP, "金卡", 60000, 30, 0);
	a = pgt_actor_user(uid);
	buy(uid, basic, 0, &o, "paid");
	/* priced now; a renewal paid before it moves the end */
	ck_assert_int_eq(gym_product_order_create(db, &a, uid, gold, 1, NULL, &up), GYM_OK);
	buy(uid, basic, 0, &renew, "paid");
	ck_assert_int_eq(apply_paid(db, &up, "42stale-upgrade", outcome, sizeof(outcome)),
	    GYM_OK);
	ck_assert_str_eq(outcome, "late_refunded");
	ck_assert_int_eq(gym_order_get(db, uid, up.order_id, &up), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(up.status), "refunding");
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE user_id = $1::bigint "
	    "AND attention_reason = 'upgrade_stale'", uid), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM membership_periods WHERE user_id = $1::bigint",
	    uid), 2);
	/* its trail has no gap (found by the fault driver): pending, paid,
	 * then refunding */
	{
		const char *p[1] = { up.order_id };

		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log WHERE "
		    "entity = 'order' AND order_id = $1 AND ((action_type = 'order_paid' "
		    "AND old_status = 'pending' AND new_status = 'paid') OR (action_type = "
		    "'auto_refund_required' AND old_status = 'paid' AND new_status = 'refunding'))",
		    1, p), 2);
	}
}
END_TEST

/* A regular class of capacity cap starting in start_s seconds. */
static long long
regular(int cap, int64_t start_s)
{
	long long sid = pgt_schedule_at(db, cap, start_s);

	ck_assert_int_eq(gym_schedule_set_kind(db, &op_actor, sid, "regular"), GYM_OK);
	return sid;
}

/* A regular class is booked by members only: a trial hold, a trial order
 * and a waitlist place on it are refused, and nothing is held or written;
 * a member booking of a trial class is refused too. */
START_TEST(test_trial_paths_refuse_regular)
{
	struct gym_reservation r;
	struct gym_order o;
	struct gym_waitlist_entry w;
	struct gym_member_booking b;
	struct gym_actor a;
	long long uid = pgt_user(db, "p-kind"), sid = regular(1, DAY_S), tsid;
	long long before = pgt_count(db, "SELECT count(*) FROM payment_audit_log");
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(db, &a, uid, sid, &r, &created), GYM_E_WRONG_CLASS_KIND);
	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, 0, NULL, NULL, &o, &created),
	    GYM_E_WRONG_CLASS_KIND);
	ck_assert_int_eq(gym_waitlist_join(db, &a, uid, sid, &w, &created),
	    GYM_E_WRONG_CLASS_KIND);
	ck_assert_int_eq(count1("SELECT count(*) FROM seat_reservations WHERE user_id = $1::bigint",
	    uid), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE user_id = $1::bigint",
	    uid), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log"), before);
	/* the same parent may still hold a seat in a trial class */
	tsid = pgt_schedule_at(db, 1, DAY_S);
	ck_assert_int_eq(gym_hold_create(db, &a, uid, tsid, &r, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(gym_member_book(db, &a, uid, tsid, GYM_PAY_CREDITS, &b),
	    GYM_E_WRONG_CLASS_KIND);
}
END_TEST

START_TEST(test_credits_and_expiry)
{
	struct gym_member_booking b;
	struct gym_account acc;
	struct gym_order p1, p2;
	struct gym_actor a;
	long long uid = pgt_user(db, "p-credits"), small, big, sid;
	int n;

	small = product(GYM_PRODUCT_CLASS_PACK, "3次卡", 45000, 10, 3);
	big = product(GYM_PRODUCT_CLASS_PACK, "5次卡", 70000, 40, 5);
	a = pgt_actor_user(uid);
	buy(uid, big, 0, &p2, "paid");
	buy(uid, small, 0, &p1, "paid");
	ledger_matches(uid, 8);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.nlots, 2);
	ck_assert_int_eq(acc.lots[0].credits, 3);	/* expiring first, listed first */
	ck_assert_int_eq(acc.lots[1].credits, 5);
	/* a booking takes the credit expiring first (the small pack's) */
	sid = regular(5, 3 * DAY_S);
	ck_assert_int_eq(gym_member_book(db, &a, uid, sid, GYM_PAY_CREDITS, &b), GYM_OK);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.lots[0].credits, 2);
	ck_assert_int_eq(acc.nbookings, 1);
	ledger_matches(uid, 7);
	/* no membership: not that way */
	ck_assert_int_eq(gym_member_book(db, &a, uid, regular(5, 3 * DAY_S), GYM_PAY_MEMBERSHIP,
	    &b), GYM_E_NO_ENTITLEMENT);
	/* eleven days on, the small pack's 2 lapse; the job writes them off */
	gym_clock_set_offset(11 * DAY_S);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.balance, 5);
	ck_assert_int_eq(gym_credits_expire(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_credits_expire(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	ledger_matches(uid, 5);
	ck_assert_int_eq(count1("SELECT count(*) FROM credit_ledger WHERE user_id = $1::bigint "
	    "AND kind = 'expire' AND delta = -2", uid), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'credits_expired'"), 1);
	/* and after 41 days nothing is left */
	gym_clock_set_offset(41 * DAY_S);
	ck_assert_int_eq(gym_credits_expire(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ledger_matches(uid, 0);
	ck_assert_int_eq(gym_member_book(db, &a, uid, regular(5, DAY_S), GYM_PAY_CREDITS, &b),
	    GYM_E_NO_ENTITLEMENT);
}
END_TEST

START_TEST(test_member_booking_cancel_cutoff)
{
	struct gym_member_booking b, c;
	struct gym_order o;
	struct gym_actor a, a2;
	long long uid = pgt_user(db, "p-book"), uid2 = pgt_user(db, "p-book-2"), pack, m;
	long long late, early, one, trial;

	pack = product(GYM_PRODUCT_CLASS_PACK, "5次卡", 70000, 40, 5);
	m = product(GYM_PRODUCT_MEMBERSHIP, "月卡", 30000, 30, 0);
	a = pgt_actor_user(uid);
	a2 = pgt_actor_user(uid2);
	buy(uid, pack, 0, &o, "paid");
	buy(uid2, m, 0, &o, "paid");
	early = regular(10, 3 * 3600);		/* 3 h away: before the 2 h cutoff */
	late = regular(10, 3600);		/* 1 h away: after it */
	one = regular(1, 5 * 3600);
	trial = pgt_schedule(db, 10);
	ck_assert_int_eq(gym_member_book(db, &a, uid, trial, GYM_PAY_CREDITS, &b), GYM_E_WRONG_CLASS_KIND);
	ck_assert_int_eq(gym_member_book(db, &a, uid, early, GYM_PAY_CREDITS, &b), GYM_OK);
	ck_assert_str_eq(b.status, "confirmed");
	ck_assert_int_eq(gym_member_book(db, &a, uid, early, GYM_PAY_CREDITS, &c),
	    GYM_E_ALREADY_CONFIRMED);
	ck_assert_int_eq(pgt_available(db, early), 9);
	ledger_matches(uid, 4);
	/* before the cutoff: the credit comes back, the seat frees */
	ck_assert_int_eq(gym_member_cancel(db, &a, uid, b.id, 7200, &c), GYM_OK);
	ck_assert_str_eq(c.status, "cancelled");
	ck_assert(c.credit_returned);
	ck_assert_int_eq(pgt_available(db, early), 10);
	ledger_matches(uid, 5);
	/* again: as it is, nothing more */
	ck_assert_int_eq(gym_member_cancel(db, &a, uid, b.id, 7200, &c), GYM_OK);
	ledger_matches(uid, 5);
	/* not the parent's */
	ck_assert_int_eq(gym_member_cancel(db, &a2, uid2, b.id, 7200, &c), GYM_ENOTFOUND);
	/* after the cutoff: the credit is spent */
	ck_assert_int_eq(gym_member_book(db, &a, uid, late, GYM_PAY_CREDITS, &b), GYM_OK);
	ledger_matches(uid, 4);
	ck_assert_int_eq(gym_member_cancel(db, &a, uid, b.id, 7200, &c), GYM_OK);
	ck_assert(!c.credit_returned);
	ck_assert_int_eq(pgt_available(db, late), 10);
	ledger_matches(uid, 4);
	/* the membership books too, and a full class is full */
	ck_assert_int_eq(gym_member_book(db, &a2, uid2, one, GYM_PAY_MEMBERSHIP, &b), GYM_OK);
	ck_assert_str_eq(b.pay_with, "membership");
	ck_assert_int_eq(gym_member_book(db, &a, uid, one, GYM_PAY_CREDITS, &c), GYM_E_SOLD_OUT);
	ledger_matches(uid, 4);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'member_booking_confirmed'"), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type IN ('credit_consumed', 'credit_returned')"), 3);
	/* each cancel ended its hold with the hold's own row, as a trial's does */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM member_bookings m WHERE "
	    "m.status = 'cancelled' AND (SELECT count(*) FROM payment_audit_log l WHERE "
	    "l.entity = 'hold' AND l.action_type = 'seat_released' AND l.old_status = 'confirmed' "
	    "AND l.new_status = 'cancelled' AND l.reservation_id = m.reservation_id) = 1"), 2);
	/* the trial rule does not see a member's bookings or product orders */
	{
		int has;

		ck_assert_int_eq(gym_order_create(db, &a2, uid2, trial, 0, NULL, NULL, &o, &has),
		    GYM_OK);
	}
}
END_TEST

START_TEST(test_class_cancel_returns_credits)
{
	struct gym_member_booking b1, b2, b3;
	struct gym_class_cancel out;
	struct gym_order o;
	struct gym_actor a1, a2;
	long long u1 = pgt_user(db, "p-cc-1"), u2 = pgt_user(db, "p-cc-2"), pack, m, sid;
	int n;

	pack = product(GYM_PRODUCT_CLASS_PACK, "5次卡", 70000, 40, 5);
	m = product(GYM_PRODUCT_MEMBERSHIP, "月卡", 30000, 30, 0);
	a1 = pgt_actor_user(u1);
	a2 = pgt_actor_user(u2);
	buy(u1, pack, 0, &o, "paid");
	buy(u2, m, 0, &o, "paid");
	sid = regular(5, 3600);		/* within the cutoff: the gym's cancel returns it anyway */
	ck_assert_int_eq(gym_member_book(db, &a1, u1, sid, GYM_PAY_CREDITS, &b1), GYM_OK);
	ck_assert_int_eq(gym_member_book(db, &a2, u2, sid, GYM_PAY_MEMBERSHIP, &b2), GYM_OK);
	ledger_matches(u1, 4);
	ck_assert_int_eq(pgt_available(db, sid), 3);
	ck_assert_int_eq(gym_schedule_cancel(db, &op_actor, sid, "场馆维修", 1, &out), GYM_OK);
	ledger_matches(u1, 5);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM member_bookings WHERE "
	    "status = 'cancelled'"), 2);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state <> 'free'"), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM member_bookings m WHERE "
	    "(SELECT count(*) FROM payment_audit_log l WHERE l.entity = 'hold' AND "
	    "l.action_type = 'seat_released' AND l.reservation_id = m.reservation_id) = 1"), 2);
	ck_assert_int_eq(gym_member_cancel(db, &a1, u1, b1.id, 7200, &b3), GYM_OK);
	ck_assert(b3.credit_returned);
	ledger_matches(u1, 5);
	/* a booking that raced the cancel is ended by the sweep, its credit back */
	pgt_exec(db, "UPDATE member_bookings SET status = 'confirmed', credit_returned = false "
	    "WHERE pay_with = 'membership'");
	ck_assert_int_eq(gym_schedule_cancel_sweep(db, &op_actor, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_member_book(db, &a2, u2, sid, GYM_PAY_MEMBERSHIP, &b3), GYM_E_SOLD_OUT);
}
END_TEST

START_TEST(test_history_pages)
{
	static struct gym_history_item items[GYM_HISTORY_MAX_SIZE];
	struct gym_order o[5];
	long long uid = pgt_user(db, "p-history"), other = pgt_user(db, "p-history-2"), total;
	long long pack = product(GYM_PRODUCT_CLASS_PACK, "3次卡", 45000, 10, 3);
	int n;

	for (int i = 0; i < 5; i++) {
		gym_clock_set_offset(i * 60);
		buy(uid, pack, 0, &o[i], "paid");
	}
	{
		struct gym_order y;

		buy(other, pack, 0, &y, "paid");
	}
	/* an unpaid one is no payment */
	{
		struct gym_actor a = pgt_actor_user(uid);
		struct gym_order x;

		ck_assert_int_eq(gym_product_order_create(db, &a, uid, pack, 0, NULL, &x), GYM_OK);
	}
	ck_assert_int_eq(gym_payment_history(db, uid, 1, 2, items, &n, &total), GYM_OK);
	ck_assert_int_eq(total, 5);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(items[0].order_id, o[4].order_id);
	ck_assert_str_eq(items[1].order_id, o[3].order_id);
	ck_assert(items[0].payment_id > 0);
	ck_assert_str_eq(items[0].product_kind, "class_pack");
	ck_assert_str_eq(items[0].status, "paid");
	ck_assert_str_eq(items[0].channel, "wechat");
	ck_assert_int_eq(items[0].amount_fen, 45000);
	ck_assert(items[0].paid_at > 0);
	ck_assert_int_eq(gym_payment_history(db, uid, 3, 2, items, &n, &total), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(items[0].order_id, o[0].order_id);
	ck_assert_int_eq(gym_payment_history(db, uid, 4, 2, items, &n, &total), GYM_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(total, 5);
	ck_assert_int_eq(gym_payment_history(db, uid, 0, 2, items, &n, &total), GYM_EINVAL);
	ck_assert_int_eq(gym_payment_history(db, uid, 1, 101, items, &n, &total), GYM_EINVAL);
}
END_TEST

/* WeChat says refund f of order o succeeded (a query answer); applied as
 * expect says ("success", or "duplicate" when it was before). */
static void
refund_answer(const struct gym_order *o, const struct gym_refund *f, const char *expect)
{
	struct gym_config cfg;
	cJSON *j = cJSON_CreateObject(), *amount;
	char outcome[32];

	memset(&cfg, 0, sizeof(cfg));
	cJSON_AddStringToObject(j, "out_trade_no", o->order_id);
	cJSON_AddStringToObject(j, "out_refund_no", f->out_refund_no);
	cJSON_AddStringToObject(j, "refund_id", "50300000000000000000000000009");
	cJSON_AddStringToObject(j, "status", "SUCCESS");
	cJSON_AddStringToObject(j, "success_time", "2030-01-01T10:00:00+08:00");
	amount = cJSON_AddObjectToObject(j, "amount");
	cJSON_AddNumberToObject(amount, "total", o->amount_fen);
	cJSON_AddNumberToObject(amount, "refund", f->amount_fen);
	ck_assert_int_eq(gym_refund_apply_json(db, &pgt_actor_wechat, &cfg, j, "query", outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, expect);
	cJSON_Delete(j);
}

static void
refund_succeeds(const struct gym_order *o, const struct gym_refund *f)
{
	refund_answer(o, f, "success");
}

/* A membership upgraded, then its first order refunded in full (found by
 * the fault driver): the first period, cut at the upgrade, keeps its end
 * (a refund never moves an end later, into the upgrade's period), and the
 * upgrade's period stands. */
START_TEST(test_refund_after_upgrade)
{
	struct gym_account acc;
	struct gym_order o, up;
	struct gym_refund f;
	long long uid = pgt_user(db, "p-refund-upgraded"), basic, gold, fen;
	char cut[64], after[64];
	int created;

	basic = product(GYM_PRODUCT_MEMBERSHIP, "基础月卡", 30000, 30, 0);
	gold = product(GYM_PRODUCT_MEMBERSHIP, "金卡", 60000, 30, 0);
	buy(uid, basic, 0, &o, "paid");
	gym_clock_set_offset(10 * DAY_S);
	buy(uid, gold, 1, &up, "paid");
	{
		const char *p[1] = { o.order_id };

		pgt_textp(db, "SELECT ends_at::text FROM membership_periods WHERE order_id = $1", 1, p,
		    cut, sizeof(cut));
	}
	/* its time went into the upgrade: nothing unused to propose */
	ck_assert_int_eq(gym_product_refund_proposal(db, o.order_id, &fen), GYM_OK);
	ck_assert_int_eq(fen, 0);
	gym_clock_set_offset(11 * DAY_S);
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, o.order_id, "全额退款", 0, 1, &f,
	    &created), GYM_OK);
	refund_succeeds(&o, &f);
	{
		const char *p[1] = { o.order_id };

		pgt_textp(db, "SELECT ends_at::text FROM membership_periods WHERE order_id = $1", 1, p,
		    after, sizeof(after));
	}
	ck_assert_str_eq(after, cut);
	ck_assert_int_eq(count1("SELECT count(*) FROM membership_periods a JOIN membership_periods b "
	    "ON a.user_id = b.user_id AND a.id < b.id WHERE a.user_id = $1::bigint "
	    "AND a.status = 'active' AND b.status = 'active' AND a.starts_at < b.ends_at "
	    "AND b.starts_at < a.ends_at", uid), 0);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.membership.product_id, gold);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE user_id = $1::bigint "
	    "AND status = 'refunded'", uid), 1);
}
END_TEST

START_TEST(test_partial_refunds)
{
	struct gym_member_booking b;
	struct gym_account acc;
	struct gym_order m, p, t;
	struct gym_refund f, g;
	struct gym_actor a;
	long long uid = pgt_user(db, "p-refund"), plan, pack, fen;
	int created;
	int64_t ends;

	plan = product(GYM_PRODUCT_MEMBERSHIP, "月卡", 30000, 30, 0);
	pack = product(GYM_PRODUCT_CLASS_PACK, "10次卡", 50000, 60, 10);
	a = pgt_actor_user(uid);
	buy(uid, plan, 0, &m, "paid");
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ends = acc.membership.ends_at;
	/* ten days in: two thirds unused, proposed */
	gym_clock_set_offset(10 * DAY_S);
	ck_assert_int_eq(gym_product_refund_proposal(db, m.order_id, &fen), GYM_OK);
	ck_assert_msg(fen >= 19999 && fen <= 20000, "proposal %lld", fen);
	/* half of it: the end moves back 15 days; the order stays paid */
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "部分退款", 15000,
	    1, &f, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(f.amount_fen, 15000);
	ck_assert_int_eq(f.order_fen, 30000);
	/* its first audit row names it (the refund's audit chain starts there) */
	{
		char rid[24];
		const char *pr[1] = { rid };

		snprintf(rid, sizeof(rid), "%lld", f.id);
		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log WHERE "
		    "entity = 'refund' AND action_type = 'refund_requested' AND new_status = 'pending' "
		    "AND response_snapshot ->> 'refund_id' = $1", 1, pr), 1);
	}
	/* the same again is that refund; another while it is in flight is not */
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "部分退款", 15000,
	    1, &g, &created), GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(g.id, f.id);
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "其他", 100, 1, &g,
	    &created), GYM_E_REFUND_IN_PROGRESS);
	refund_succeeds(&m, &f);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.membership.ends_at, ends - 15 * DAY_US);
	ck_assert_int_eq(gym_order_get(db, uid, m.order_id, &t), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(t.status), "paid");
	/* more than is left: refused; the rest: the membership ends now */
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "再退", 15001, 1,
	    &g, &created), GYM_E_NOT_REFUNDABLE);
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "再退", 0, 1, &g,
	    &created), GYM_OK);
	ck_assert_int_eq(g.amount_fen, 15000);
	ck_assert_str_eq(g.out_refund_no + strlen(g.out_refund_no) - 2, "-2");
	refund_succeeds(&m, &g);
	ck_assert_int_eq(gym_account_get(db, uid, &acc), GYM_OK);
	ck_assert(!acc.has_membership);
	ck_assert_int_eq(gym_order_get(db, uid, m.order_id, &t), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(t.status), "refunded");
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "再退", 0, 1, &g,
	    &created), GYM_E_NOT_REFUNDABLE);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'membership_shortened'"), 2);

	/* a pack of 10, 4 used: half refunded revokes 5 of the 6 left */
	buy(uid, pack, 0, &p, "paid");
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(gym_member_book(db, &a, uid, regular(5, DAY_S), GYM_PAY_CREDITS, &b),
		    GYM_OK);
	ledger_matches(uid, 6);
	ck_assert_int_eq(gym_product_refund_proposal(db, p.order_id, &fen), GYM_OK);
	ck_assert_int_eq(fen, 30000);
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, p.order_id, "退一半", 25000, 1,
	    &f, &created), GYM_OK);
	refund_succeeds(&p, &f);
	ledger_matches(uid, 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM credit_ledger WHERE user_id = $1::bigint "
	    "AND kind = 'revoke' AND delta = -5", uid), 1);
	/* the rest: the last credit goes */
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, p.order_id, "全退", 0, 1, &f,
	    &created), GYM_OK);
	refund_succeeds(&p, &f);
	ledger_matches(uid, 0);
	/* the history shows both refunds */
	{
		static struct gym_history_item items[10];
		long long total;
		int n;

		ck_assert_int_eq(gym_payment_history(db, uid, 1, 10, items, &n, &total), GYM_OK);
		ck_assert_int_eq(n, 2);
		ck_assert_str_eq(items[0].order_id, p.order_id);
		ck_assert_str_eq(items[0].status, "refunded");
		ck_assert_int_eq(items[0].nrefunds, 2);
		ck_assert_int_eq(items[0].refunds[0].amount_fen, 25000);
		ck_assert_str_eq(items[0].refunds[1].status, "success");
	}
}
END_TEST

START_TEST(test_expiry_reminders)
{
	struct gym_config cfg, off;
	struct gym_order m, p, r;
	char tpl[] = "tpl-expiring";
	long long uid = pgt_user(db, "p-remind"), plan, pack;
	int n;

	memset(&cfg, 0, sizeof(cfg));
	memset(&off, 0, sizeof(off));
	plan = product(GYM_PRODUCT_MEMBERSHIP, "月卡", 30000, 30, 0);
	pack = product(GYM_PRODUCT_CLASS_PACK, "3次卡", 45000, 10, 3);
	/* off: nothing is looked at */
	ck_assert_int_eq(gym_notify_configure(&off), GYM_OK);
	ck_assert_int_eq(gym_reminders_pass(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	cfg.wx_tpl_expiring = tpl;
	ck_assert_int_eq(gym_notify_configure(&cfg), GYM_OK);
	buy(uid, plan, 0, &m, "paid");
	buy(uid, pack, 0, &p, "paid");
	/* nothing runs out within 7 days yet */
	ck_assert_int_eq(gym_reminders_pass(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	/* day 4: the pack's credits run out on day 10 */
	gym_clock_set_offset(4 * DAY_S);
	ck_assert_int_eq(gym_reminders_pass(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_reminders_pass(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	/* day 20: a renewal is queued, so the membership does not run out */
	gym_clock_set_offset(20 * DAY_S);
	buy(uid, plan, 0, &r, "paid");
	gym_clock_set_offset(24 * DAY_S);
	ck_assert_int_eq(gym_reminders_pass(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	/* day 54: the renewal's end is near: told once, about the renewal */
	gym_clock_set_offset(54 * DAY_S);
	ck_assert_int_eq(gym_reminders_pass(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	{
		const char *pp[1] = { r.order_id };

		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1 AND kind = 'entitlement_expiring' AND template_id = "
		    "'tpl-expiring' AND data->'thing1'->>'value' = '月卡'", 1, pp), 1);
	}
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM parent_notifications WHERE "
	    "kind = 'entitlement_expiring'"), 2);
	ck_assert_int_eq(gym_notify_configure(&off), GYM_OK);
}
END_TEST

/* A paid membership and a product refund each queue exactly one message
 * with their template and data, also when WeChat delivers twice. */
START_TEST(test_product_messages)
{
	struct gym_config cfg, off;
	struct gym_order m, k;
	struct gym_refund f;
	char tpl_buy[] = "tpl-purchased thing1 amount2 time3", tpl_ref[] = "tpl-refunded",
	    txn[40], outcome[32];
	long long uid = pgt_user(db, "p-told"), plan, pack;
	int created;

	memset(&cfg, 0, sizeof(cfg));
	memset(&off, 0, sizeof(off));
	cfg.wx_tpl_purchased = tpl_buy;
	cfg.wx_tpl_refunded = tpl_ref;
	ck_assert_int_eq(gym_notify_configure(&cfg), GYM_OK);
	plan = product(GYM_PRODUCT_MEMBERSHIP, "月卡", 30000, 30, 0);
	pack = product(GYM_PRODUCT_CLASS_PACK, "10次卡", 50000, 60, 10);
	buy(uid, plan, 0, &m, "paid");
	/* the same notification again: applied once, told once */
	snprintf(txn, sizeof(txn), "42%.30s", m.order_id + 3);
	ck_assert_int_eq(apply_paid(db, &m, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	{
		const char *pp[1] = { m.order_id };

		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1", 1, pp), 1);
		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications n "
		    "JOIN membership_periods p ON p.order_id = n.order_id WHERE n.order_id = $1 "
		    "AND n.kind = 'product_paid' AND n.template_id = 'tpl-purchased' "
		    "AND n.status = 'pending' AND n.data->'thing1'->>'value' = '月卡' "
		    "AND n.data->'amount2'->>'value' = '300.00元' "
		    "AND n.data->'time3'->>'value' = to_char(p.ends_at AT TIME ZONE 'Asia/Shanghai', "
		    "'FMYYYY年FMMM月FMDD日 HH24:MI')", 1, pp), 1);
		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log WHERE "
		    "order_id = $1 AND action_type = 'message_queued'", 1, pp), 1);
	}
	/* a class pack: its credits' end */
	buy(uid, pack, 0, &k, "paid");
	{
		const char *pp[1] = { k.order_id };

		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications n "
		    "JOIN credit_lots l ON l.order_id = n.order_id WHERE n.order_id = $1 "
		    "AND n.kind = 'product_paid' AND n.data->'thing1'->>'value' = '10次卡' "
		    "AND n.data->'amount2'->>'value' = '500.00元' "
		    "AND n.data->'time3'->>'value' = to_char(l.expires_at AT TIME ZONE "
		    "'Asia/Shanghai', 'FMYYYY年FMMM月FMDD日 HH24:MI')", 1, pp), 1);
	}
	/* a part of the membership refunded, WeChat's answer twice: one message
	 * with the amount that came back and the operator's reason */
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "搬家退款", 12000,
	    1, &f, &created), GYM_OK);
	refund_succeeds(&m, &f);
	refund_answer(&m, &f, "duplicate");
	{
		const char *pp[1] = { m.order_id };

		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1 AND kind = 'refund_done'", 1, pp), 1);
		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1 AND kind = 'refund_done' AND template_id = 'tpl-refunded' "
		    "AND data = '{\"thing1\":{\"value\":\"月卡\"},\"amount2\":{\"value\":"
		    "\"120.00元\"},\"thing3\":{\"value\":\"搬家退款\"}}'::jsonb", 1, pp), 1);
		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1", 1, pp), 2);
	}
	/* a second part: a message of its own, with its own amount (told twice
	 * over by WeChat: still one) */
	ck_assert_int_eq(gym_product_refund_request(db, &op_actor, m.order_id, "再退一部分", 3000,
	    1, &f, &created), GYM_OK);
	refund_succeeds(&m, &f);
	refund_answer(&m, &f, "duplicate");
	{
		char rid[24];
		const char *pp[2] = { m.order_id, rid };

		snprintf(rid, sizeof(rid), "%lld", f.id);
		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1 AND kind = 'refund_done'", 1, pp), 2);
		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1 AND kind = 'refund_done' AND refund_id = $2::bigint "
		    "AND data->'amount2'->>'value' = '30.00元' "
		    "AND data->'thing3'->>'value' = '再退一部分'", 2, pp), 1);
	}
	/* off: a purchase queues nothing */
	ck_assert_int_eq(gym_notify_configure(&off), GYM_OK);
	buy(uid, pack, 0, &k, "paid");
	{
		const char *pp[1] = { k.order_id };

		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM parent_notifications WHERE "
		    "order_id = $1", 1, pp), 0);
	}
}
END_TEST

/* 100 concurrent purchases of one membership (and 20 of a class pack) by
 * one parent, then 20 clients deliver every order's notification, each
 * client in another order: each paid order gives exactly one period (or
 * lot), the periods chain without gap or overlap, ledger sum == balance. */
#define BUYS 100
#define PACKS 20
#define NOTIFIERS 20

struct burst {
	long long uid, membership, pack;
	char ids[BUYS + PACKS][33];
	int amount[BUYS + PACKS];
};

static void
burst_create(struct pgt_client *c)
{
	struct burst *b = c->arg;
	struct gym_actor a = pgt_actor_user(b->uid);
	struct gym_order o;

	c->err = gym_product_order_create(c->db, &a, b->uid, c->idx < BUYS ? b->membership :
	    b->pack, 0, NULL, &o);
	snprintf(c->text, sizeof(c->text), "%s", o.order_id);
	c->aux = o.amount_fen;
}

static void
burst_notify(struct pgt_client *c)
{
	struct burst *b = c->arg;
	char txn[40], outcome[32];
	int n = BUYS + PACKS, paid = 0;

	c->err = GYM_OK;
	for (int k = 0; k < n; k++) {
		int i = (k + c->idx * 6) % n;
		struct gym_order o;
		enum gym_err e;

		memset(&o, 0, sizeof(o));
		snprintf(o.order_id, sizeof(o.order_id), "%s", b->ids[i]);
		o.amount_fen = b->amount[i];
		snprintf(txn, sizeof(txn), "42%.30s", o.order_id + 3);
		if ((e = apply_paid(c->db, &o, txn, outcome, sizeof(outcome))) != GYM_OK) {
			c->err = e;
			return;
		}
		paid += strcmp(outcome, "paid") == 0;
	}
	c->id = paid;
}

START_TEST(test_concurrent_purchases)
{
	static struct pgt_client out[BUYS + PACKS];
	static struct burst b;
	struct gym_account acc;
	char outcome[32], txn[40];
	int reported, bad, paid = 0;
	const char *p[1];
	char uid[24];

	memset(&b, 0, sizeof(b));
	b.uid = pgt_user(db, "p-burst");
	b.membership = product(GYM_PRODUCT_MEMBERSHIP, "月卡", 30000, 30, 0);
	b.pack = product(GYM_PRODUCT_CLASS_PACK, "3次卡", 45000, 60, 3);
	reported = pgt_fork_clients(BUYS + PACKS, NULL, burst_create, &b, out, &bad);
	ck_assert_int_eq(reported, BUYS + PACKS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < BUYS + PACKS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "client %d: %d", i, out[i].err);
		snprintf(b.ids[i], sizeof(b.ids[i]), "%s", out[i].text);
		b.amount[i] = (int)out[i].aux;
	}
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT order_id) FROM payment_orders"),
	    BUYS + PACKS);
	reported = pgt_fork_clients(NOTIFIERS, NULL, burst_notify, &b, out, &bad);
	ck_assert_int_eq(reported, NOTIFIERS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < NOTIFIERS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "notifier %d: %d", i, out[i].err);
		paid += (int)out[i].id;
	}
	ck_assert_int_eq(paid, BUYS + PACKS);
	/* and once more each: the twentieth duplicate */
	for (int i = 0; i < BUYS + PACKS; i++) {
		struct gym_order o;

		memset(&o, 0, sizeof(o));
		snprintf(o.order_id, sizeof(o.order_id), "%s", b.ids[i]);
		o.amount_fen = b.amount[i];
		snprintf(txn, sizeof(txn), "42%.30s", o.order_id + 3);
		ck_assert_int_eq(apply_paid(db, &o, txn, outcome, sizeof(outcome)), GYM_OK);
		ck_assert_str_eq(outcome, "duplicate");
	}
	snprintf(uid, sizeof(uid), "%lld", b.uid);
	p[0] = uid;
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders WHERE status = 'paid'"),
	    BUYS + PACKS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_transactions"), BUYS + PACKS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM membership_periods"), BUYS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM credit_lots"), PACKS);
	/* every paid membership order has its one period, chained end to start */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders o WHERE "
	    "o.product_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM membership_periods m WHERE "
	    "m.order_id = o.order_id) AND NOT EXISTS (SELECT 1 FROM credit_lots l WHERE "
	    "l.order_id = o.order_id)"), 0);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM (SELECT starts_at, lag(ends_at) "
	    "OVER (ORDER BY starts_at) AS prev FROM membership_periods WHERE user_id = $1::bigint) q "
	    "WHERE prev IS NOT NULL AND prev <> starts_at", 1, p), 0);
	ck_assert_int_eq(pgt_countp(db, "SELECT (extract(epoch FROM max(ends_at) - min(starts_at)) "
	    "/ 86400)::int FROM membership_periods WHERE user_id = $1::bigint", 1, p), BUYS * 30);
	ck_assert_int_eq(gym_account_get(db, b.uid, &acc), GYM_OK);
	ck_assert_int_eq(acc.membership.ends_at - acc.membership.starts_at, (int64_t)BUYS * 30 *
	    DAY_US);
	ledger_matches(b.uid, PACKS * 3);
}
END_TEST

Suite *
products_suite(void)
{
	Suite *s = suite_create("products");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_catalogue);
	tcase_add_test(tc, test_membership_renewal);
	tcase_add_test(tc, test_upgrade_price);
	tcase_add_test(tc, test_upgrade);
	tcase_add_test(tc, test_upgrade_stale);
	tcase_add_test(tc, test_refund_after_upgrade);
	tcase_add_test(tc, test_credits_and_expiry);
	tcase_add_test(tc, test_trial_paths_refuse_regular);
	tcase_add_test(tc, test_member_booking_cancel_cutoff);
	tcase_add_test(tc, test_history_pages);
	tcase_add_test(tc, test_class_cancel_returns_credits);
	tcase_add_test(tc, test_partial_refunds);
	tcase_add_test(tc, test_expiry_reminders);
	tcase_add_test(tc, test_product_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_concurrent_purchases);
	suite_add_tcase(s, tc);
	return s;
}

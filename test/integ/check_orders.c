/*
 * check_orders.c: payment orders against a real database: creation with
 * its hold, idempotent re-creation (also by 50 concurrent requests of one
 * user), the one-trial rule (in the library and in the database's own
 * indexes and checks), cancel, and prepare_pay across the 15-minute hold
 * lapse and the 30-minute order lapse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "attempts.h"
#include "integ.h"
#include "pgtest.h"
#include "reconcile.h"
#include "trial_sql.h"

#define SAME_USER_CLIENTS 50

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

static enum gym_err
create(long long user_id, long long schedule_id, long long reservation_id,
    struct gym_order *o, int *created)
{
	struct gym_actor a = pgt_actor_user(user_id);

	memset(o, 0, sizeof(*o));
	*created = -1;
	return gym_order_create(db, &a, user_id, schedule_id, reservation_id, NULL, NULL, o, created);
}

static enum gym_err
cancel(long long user_id, const char *order_id, struct gym_order *o)
{
	struct gym_actor a = pgt_actor_user(user_id);

	memset(o, 0, sizeof(*o));
	return gym_order_cancel(db, &a, user_id, order_id, o);
}

static enum gym_err
prepare(long long user_id, const char *order_id, struct gym_order *o)
{
	struct gym_actor a = pgt_actor_user(user_id);

	memset(o, 0, sizeof(*o));
	return gym_order_prepare_pay(db, &a, user_id, order_id, o);
}

static void
order_status(const char *order_id, char *buf, size_t len)
{
	const char *p[1] = { order_id };

	pgt_textp(db, "SELECT status FROM payment_orders WHERE order_id = $1", 1, p, buf, len);
}

static long long
orders_of(long long user_id)
{
	char uid[24];
	const char *p[1] = { uid };

	snprintf(uid, sizeof(uid), "%lld", user_id);
	return pgt_countp(db, "SELECT count(*) FROM payment_orders WHERE user_id = $1::bigint",
	    1, p);
}

static void
assert_hold_status(long long reservation_id, const char *want)
{
	char rid[24], got[32];
	const char *p[1] = { rid };

	snprintf(rid, sizeof(rid), "%lld", reservation_id);
	pgt_textp(db, "SELECT status FROM seat_reservations WHERE id = $1::bigint", 1, p,
	    got, sizeof(got));
	ck_assert_str_eq(got, want);
}

/* Pay an order (WeChat says SUCCESS): paid, its seat confirmed, booked. */
static void
make_paid(const struct gym_order *o)
{
	char txn[40], outcome[32];

	snprintf(txn, sizeof(txn), "4200%s", o->order_id + 3);
	ck_assert_int_eq(pgt_pay(db, o->order_id, txn, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "paid");
	assert_hold_status(o->res.id, "confirmed");
}

START_TEST(test_create_and_again)
{
	struct gym_order o, o2;
	long long s, s2, u, u2;
	int created;
	int64_t t0, t1;

	s = pgt_schedule(db, 3);
	s2 = pgt_schedule(db, 3);
	u = pgt_user(db, "o-orders-user-1");
	u2 = pgt_user(db, "o-orders-user-2");

	t0 = gym_now_us();
	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);
	t1 = gym_now_us();
	ck_assert_int_eq(created, 1);
	ck_assert_int_gt(o.id, 0);
	ck_assert_uint_eq(strlen(o.order_id), 23);
	ck_assert_int_eq(strncmp(o.order_id, "GYM", 3), 0);
	ck_assert_str_eq(gym_order_status_name(o.status), "pending");
	ck_assert_int_eq(o.amount_fen, 20000);
	ck_assert_int_eq(o.user_id, u);
	ck_assert_int_eq(o.schedule_id, s);
	ck_assert_int_ge(o.created_at, t0);
	ck_assert_int_le(o.created_at, t1);
	ck_assert_int_ge(o.expires_at, t0 + (int64_t)GYM_ORDER_SECONDS * 1000000);
	ck_assert_int_le(o.expires_at, t1 + (int64_t)GYM_ORDER_SECONDS * 1000000);
	ck_assert_int_eq(o.paid_at, 0);
	ck_assert_int_eq(o.booking_id, 0);
	ck_assert_int_eq(o.has_reservation, 1);
	ck_assert_int_gt(o.res.id, 0);
	ck_assert_str_eq(gym_hold_status_name(o.res.status), "temporary");
	ck_assert_int_ge(o.res.expires_at, t0 + (int64_t)GYM_HOLD_SECONDS * 1000000);
	ck_assert_int_le(o.res.expires_at, t1 + (int64_t)GYM_HOLD_SECONDS * 1000000);
	ck_assert_int_eq(pgt_available(db, s), 2);

	/* again: the same order, nothing new */
	ck_assert_int_eq(create(u, s, 0, &o2, &created), GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_str_eq(o2.order_id, o.order_id);
	ck_assert_int_eq(o2.id, o.id);
	ck_assert_int_eq(o2.res.id, o.res.id);
	ck_assert_int_eq(o2.expires_at, o.expires_at);
	ck_assert_int_eq(pgt_available(db, s), 2);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT amount_fen FROM payment_orders"), 20000);

	/* another class while this order is open */
	ck_assert_int_eq(create(u, s2, 0, &o2, &created), GYM_E_ACTIVE_HOLD_EXISTS);
	ck_assert_int_eq(pgt_available(db, s2), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders"), 1);

	/* reads: the owner, any user (0), not another user */
	ck_assert_int_eq(gym_order_get(db, u, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o2.status), "pending");
	ck_assert_int_eq(gym_order_get(db, 0, o.order_id, &o2), GYM_OK);
	ck_assert_int_eq(gym_order_get(db, u2, o.order_id, &o2), GYM_ENOTFOUND);

	/* a fresh order's prepare keeps its hold */
	ck_assert_int_eq(prepare(u, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o2.status), "pending");
	ck_assert_int_eq(o2.res.id, o.res.id);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);
	ck_assert_int_eq(pgt_available(db, s), 2);

	ck_assert_int_eq(create(u2, 999999999, 0, &o2, &created), GYM_E_SCHEDULE_NOT_FOUND);
	ck_assert_int_eq(orders_of(u2), 0);
}
END_TEST

START_TEST(test_garbage_order_ids)
{
	static const char *const bad[] = {
		"", "abc", "GYM'; DROP TABLE users;--", "GYM00000000000000000000",
		"0123456789012345678901234567890123456789", "GYM 2024", "GYM%",
	};
	struct gym_order o;
	struct gym_booking b;
	long long u;

	u = pgt_user(db, "o-orders-garbage");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(gym_order_get(db, u, bad[i], &o), GYM_ENOTFOUND);
		ck_assert_int_eq(gym_order_get(db, 0, bad[i], &o), GYM_ENOTFOUND);
		ck_assert_int_eq(cancel(u, bad[i], &o), GYM_ENOTFOUND);
		ck_assert_int_eq(prepare(u, bad[i], &o), GYM_ENOTFOUND);
		ck_assert_int_eq(gym_booking_get(db, u, bad[i], &b), GYM_ENOTFOUND);
	}
	ck_assert_int_eq(gym_order_get(db, u, NULL, &o), GYM_ENOTFOUND);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM users"), 1);
}
END_TEST

START_TEST(test_create_with_given_hold)
{
	struct gym_actor a;
	struct gym_reservation r, r3;
	struct gym_order o;
	long long s, s2, u, u2, u3;
	int created;

	s = pgt_schedule(db, 3);
	s2 = pgt_schedule(db, 3);
	u = pgt_user(db, "o-orders-hold-1");
	u2 = pgt_user(db, "o-orders-hold-2");
	u3 = pgt_user(db, "o-orders-hold-3");
	a = pgt_actor_user(u);
	ck_assert_int_eq(gym_hold_create(db, &a, u, s, &r, &created), GYM_OK);
	a = pgt_actor_user(u3);
	ck_assert_int_eq(gym_hold_create(db, &a, u3, s2, &r3, &created), GYM_OK);

	ck_assert_int_eq(create(u, s, r.id, &o, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(o.res.id, r.id);
	ck_assert_int_eq(pgt_available(db, s), 2);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 2);

	/* someone else's hold */
	ck_assert_int_eq(create(u2, s, r.id, &o, &created), GYM_ENOTFOUND);
	ck_assert_int_eq(orders_of(u2), 0);
	/* a hold on another class */
	ck_assert_int_eq(create(u3, s, r3.id, &o, &created), GYM_EINVAL);
	ck_assert_int_eq(orders_of(u3), 0);
	ck_assert_int_eq(pgt_available(db, s), 2);
}
END_TEST

struct same_user {
	long long user_id, schedule_id;
};

static void
same_user_create(struct pgt_client *c)
{
	const struct same_user *su = c->arg;
	struct gym_actor a = pgt_actor_user(su->user_id);
	struct gym_order o;

	memset(&o, 0, sizeof(o));
	c->err = gym_order_create(c->db, &a, su->user_id, su->schedule_id, 0, NULL, NULL, &o,
	    &c->created);
	c->id = o.id;
	c->aux = o.res.id;
	snprintf(c->text, sizeof(c->text), "%s", o.order_id);
}

START_TEST(test_50_concurrent_creates_one_user)
{
	static struct pgt_client out[SAME_USER_CLIENTS];
	struct same_user su;
	int reported, bad, created = 0;

	su.schedule_id = pgt_schedule(db, 60);
	su.user_id = pgt_user(db, "o-orders-burst");
	reported = pgt_fork_clients(SAME_USER_CLIENTS, NULL, same_user_create, &su, out, &bad);
	ck_assert_int_eq(reported, SAME_USER_CLIENTS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < SAME_USER_CLIENTS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "client %d: %d (%s)", i, out[i].err,
		    out[i].err >= 0 ? gym_strerror((enum gym_err)out[i].err) : "no report");
		ck_assert_str_eq(out[i].text, out[0].text);
		ck_assert_int_eq(out[i].id, out[0].id);
		ck_assert_int_eq(out[i].aux, out[0].aux);
		created += out[i].created;
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(orders_of(su.user_id), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);
	ck_assert_int_eq(pgt_available(db, su.schedule_id), 59);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'order_created'"), 1);
}
END_TEST

/* The same on a class of one seat: the user's own order holds it, so
 * every duplicate must get that order back, not SOLD_OUT. */
START_TEST(test_50_concurrent_creates_one_user_last_seat)
{
	static struct pgt_client out[SAME_USER_CLIENTS];
	struct same_user su;
	int reported, bad, created = 0;

	su.schedule_id = pgt_schedule(db, 1);
	su.user_id = pgt_user(db, "o-orders-burst-last");
	reported = pgt_fork_clients(SAME_USER_CLIENTS, NULL, same_user_create, &su, out, &bad);
	ck_assert_int_eq(reported, SAME_USER_CLIENTS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < SAME_USER_CLIENTS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "client %d: %d (%s)", i, out[i].err,
		    out[i].err >= 0 ? gym_strerror((enum gym_err)out[i].err) : "no report");
		ck_assert_str_eq(out[i].text, out[0].text);
		created += out[i].created;
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);
	ck_assert_int_eq(pgt_available(db, su.schedule_id), 0);
}
END_TEST

START_TEST(test_50_concurrent_creates_after_trial)
{
	static struct pgt_client out[SAME_USER_CLIENTS];
	struct gym_reservation r;
	struct gym_booking b;
	struct gym_actor a;
	struct gym_order o;
	struct same_user su;
	long long s;
	int reported, bad, created;

	s = pgt_schedule(db, 5);
	su.schedule_id = pgt_schedule(db, 5);
	su.user_id = pgt_user(db, "o-orders-has-trial");
	ck_assert_int_eq(create(su.user_id, s, 0, &o, &created), GYM_OK);
	make_paid(&o);
	ck_assert_int_eq(gym_booking_get(db, su.user_id, o.order_id, &b), GYM_OK);
	ck_assert_str_eq(gym_booking_status_name(b.status), "confirmed");
	ck_assert_int_eq(pgt_available(db, s), 4);

	reported = pgt_fork_clients(SAME_USER_CLIENTS, NULL, same_user_create, &su, out, &bad);
	ck_assert_int_eq(reported, SAME_USER_CLIENTS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < SAME_USER_CLIENTS; i++)
		ck_assert_msg(out[i].err == GYM_E_TRIAL_ALREADY_BOOKED, "client %d: %d (%s)", i,
		    out[i].err, out[i].err >= 0 ? gym_strerror((enum gym_err)out[i].err) :
		    "no report");
	ck_assert_int_eq(orders_of(su.user_id), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);
	ck_assert_int_eq(pgt_available(db, su.schedule_id), 5);

	/* the same class, and a plain hold, are refused too */
	ck_assert_int_eq(create(su.user_id, s, 0, &o, &created), GYM_E_TRIAL_ALREADY_BOOKED);
	a = pgt_actor_user(su.user_id);
	ck_assert_int_eq(gym_hold_create(db, &a, su.user_id, su.schedule_id, &r, &created),
	    GYM_E_TRIAL_ALREADY_BOOKED);
	ck_assert_int_eq(orders_of(su.user_id), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);
}
END_TEST

/* The one "has a trial" rule (trial_sql.h), as every statement that checks
 * it asks it: nothing, a pending order (claimed, not had), a paid one (had:
 * holds and orders refused), refunded with its booking cancelled (free to
 * book again), a confirmed booking alone (had). */
#define HAS_TRIAL "SELECT " GYM_HAS_TRIAL_SQL("$1::bigint") "::int"
#define CLAIMED "SELECT " GYM_TRIAL_CLAIMED_SQL("$1::bigint", "") "::int"
#define CLAIMED_BUT "SELECT " GYM_TRIAL_CLAIMED_SQL("$1::bigint", " AND order_id <> $2") "::int"

START_TEST(test_trial_predicate)
{
	struct gym_reservation r;
	struct gym_actor a;
	struct gym_order o, o2;
	char uid[24];
	const char *p[2] = { uid, NULL };
	long long s, u;
	int created;

	s = pgt_schedule(db, 3);
	u = pgt_user(db, "o-orders-trial-rule");
	a = pgt_actor_user(u);
	snprintf(uid, sizeof(uid), "%lld", u);
	ck_assert_int_eq(pgt_countp(db, HAS_TRIAL, 1, p), 0);
	ck_assert_int_eq(pgt_countp(db, CLAIMED, 1, p), 0);

	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);
	p[1] = o.order_id;
	ck_assert_int_eq(pgt_countp(db, HAS_TRIAL, 1, p), 0);
	ck_assert_int_eq(pgt_countp(db, CLAIMED, 1, p), 1);
	ck_assert_int_eq(pgt_countp(db, CLAIMED_BUT, 2, p), 0);

	make_paid(&o);
	ck_assert_int_eq(pgt_countp(db, HAS_TRIAL, 1, p), 1);
	ck_assert_int_eq(pgt_countp(db, CLAIMED_BUT, 2, p), 1);	/* its booking */
	ck_assert_int_eq(gym_hold_create(db, &a, u, s, &r, &created), GYM_E_TRIAL_ALREADY_BOOKED);
	ck_assert_int_eq(create(u, s, 0, &o2, &created), GYM_E_TRIAL_ALREADY_BOOKED);

	/* refunded: the order refunded and its booking cancelled */
	pgt_execp(db, "UPDATE payment_orders SET status = 'refunded' WHERE order_id = $2 "
	    "AND user_id = $1::bigint", 2, p);
	pgt_execp(db, "UPDATE bookings SET status = 'cancelled', cancelled_at = now() "
	    "WHERE order_id = $2 AND user_id = $1::bigint", 2, p);
	ck_assert_int_eq(pgt_countp(db, HAS_TRIAL, 1, p), 0);
	ck_assert_int_eq(pgt_countp(db, CLAIMED, 1, p), 0);
	ck_assert_int_eq(gym_hold_create(db, &a, u, s, &r, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(gym_hold_release(db, &a, u, r.id, &r), GYM_OK);

	/* a confirmed booking alone is a trial had */
	pgt_execp(db, "UPDATE bookings SET status = 'confirmed', cancelled_at = NULL "
	    "WHERE order_id = $2 AND user_id = $1::bigint", 2, p);
	ck_assert_int_eq(pgt_countp(db, HAS_TRIAL, 1, p), 1);
	ck_assert_int_eq(pgt_countp(db, CLAIMED_BUT, 2, p), 1);
	ck_assert_int_eq(gym_hold_create(db, &a, u, s, &r, &created), GYM_E_TRIAL_ALREADY_BOOKED);
}
END_TEST

START_TEST(test_one_trial_rule_in_database)
{
	static const char ins[] =
	    "INSERT INTO payment_orders (order_id, user_id, course_schedule_id, amount_fen, "
	    "status, expires_at, created_at, updated_at) VALUES ($1, $2::bigint, $3::bigint, "
	    "$4::int, $5, $6::timestamptz, $6::timestamptz, $6::timestamptz)";
	char uid[24], u2id[24], sid[24], now[40], rid[24];
	struct gym_order o;
	long long s, u, u2;
	int created;

	s = pgt_schedule(db, 5);
	u = pgt_user(db, "o-orders-db-rule-1");
	u2 = pgt_user(db, "o-orders-db-rule-2");
	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);
	snprintf(uid, sizeof(uid), "%lld", u);
	snprintf(u2id, sizeof(u2id), "%lld", u2);
	snprintf(sid, sizeof(sid), "%lld", s);
	snprintf(rid, sizeof(rid), "%lld", o.res.id);
	pgt_time(now, sizeof(now), 0);

	/* a second open or paid order of the same user */
	ck_assert_str_eq(pgt_sqlstate(db, ins, 6,
	    (const char *[]){ "GYMTESTDUP0001", uid, sid, "20000", "pending", now }), "23505");
	ck_assert_str_eq(pgt_sqlstate(db, ins, 6,
	    (const char *[]){ "GYMTESTDUP0002", uid, sid, "20000", "paid", now }), "23505");
	/* an ended order does not count */
	ck_assert_str_eq(pgt_sqlstate(db, ins, 6,
	    (const char *[]){ "GYMTESTDUP0003", uid, sid, "20000", "cancelled", now }), "");
	ck_assert_int_eq(orders_of(u), 2);

	/* the price is fixed */
	ck_assert_str_eq(pgt_sqlstate(db, ins, 6,
	    (const char *[]){ "GYMTESTAMT0001", u2id, sid, "19999", "pending", now }), "23514");
	ck_assert_str_eq(pgt_sqlstate(db, ins, 6,
	    (const char *[]){ "GYMTESTAMT0002", u2id, sid, "20001", "failed", now }), "23514");
	ck_assert_str_eq(pgt_sqlstate(db, ins, 6,
	    (const char *[]){ "GYMTESTAMT0003", u2id, sid, "0", "pending", now }), "23514");
	ck_assert_int_eq(orders_of(u2), 0);
	/* order ids are out_trade_no-safe */
	ck_assert_str_eq(pgt_sqlstate(db, ins, 6,
	    (const char *[]){ "GYM bad id", u2id, sid, "20000", "pending", now }), "23514");

	/* at most one confirmed booking per user */
	make_paid(&o);
	ck_assert_str_eq(pgt_sqlstate(db, "INSERT INTO bookings (order_id, user_id, "
	    "course_schedule_id, reservation_id, status, confirmed_at) VALUES ('GYMTESTDUP0003', "
	    "$1::bigint, $2::bigint, $3::bigint, 'confirmed', $4::timestamptz)", 4,
	    (const char *[]){ uid, sid, rid, now }), "23505");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM bookings"), 1);
}
END_TEST

START_TEST(test_cancel)
{
	struct gym_order o, o2;
	long long s, u1, u2;
	int created;
	char st[32];

	s = pgt_schedule(db, 1);
	u1 = pgt_user(db, "o-orders-cancel-1");
	u2 = pgt_user(db, "o-orders-cancel-2");
	ck_assert_int_eq(create(u1, s, 0, &o, &created), GYM_OK);
	ck_assert_int_eq(pgt_available(db, s), 0);

	ck_assert_int_eq(cancel(u2, o.order_id, &o2), GYM_ENOTFOUND);
	order_status(o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	ck_assert_int_eq(pgt_available(db, s), 0);

	ck_assert_int_eq(cancel(u1, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(o2.order_id, o.order_id);
	ck_assert_str_eq(gym_order_status_name(o2.status), "cancelled");
	ck_assert_int_eq(o2.res.id, o.res.id);
	ck_assert_str_eq(gym_hold_status_name(o2.res.status), "cancelled");
	ck_assert_int_eq(pgt_available(db, s), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state <> 'free' "
	    "OR reservation_id IS NOT NULL OR held_until IS NOT NULL"), 0);

	/* again: no error, same answer, no second audit row */
	ck_assert_int_eq(cancel(u1, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o2.status), "cancelled");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'order_cancelled' AND old_status = 'pending' "
	    "AND new_status = 'cancelled'"), 1);
	ck_assert_int_eq(prepare(u1, o.order_id, &o2), GYM_E_ORDER_NOT_PAYABLE);
	order_status(o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "cancelled");

	/* the seat went to someone else; u1 may order again but it is full now */
	ck_assert_int_eq(create(u2, s, 0, &o2, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(create(u1, s, 0, &o2, &created), GYM_E_SOLD_OUT);
	ck_assert_int_eq(orders_of(u1), 1);
	ck_assert_int_eq(pgt_available(db, s), 0);
}
END_TEST

START_TEST(test_prepare_reclaims_lapsed_hold)
{
	struct gym_reservation r;
	struct gym_order o, o2, o3;
	long long s, u;
	int created;

	s = pgt_schedule(db, 2);
	u = pgt_user(db, "o-orders-reclaim");
	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);
	ck_assert_int_eq(pgt_available(db, s), 1);

	gym_clock_set_offset(16 * 60);
	ck_assert_int_eq(pgt_available(db, s), 2);	/* the hold lapsed */
	ck_assert_int_eq(prepare(u, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o2.status), "pending");
	ck_assert_int_eq(o2.expires_at, o.expires_at);
	ck_assert_int_eq(o2.has_reservation, 1);
	ck_assert_int_ne(o2.res.id, o.res.id);
	ck_assert_str_eq(gym_hold_status_name(o2.res.status), "temporary");
	ck_assert_int_gt(o2.res.expires_at, gym_now_us() + (int64_t)13 * 60 * 1000000);
	ck_assert_int_le(o2.res.expires_at, o2.expires_at);
	ck_assert_int_eq(pgt_available(db, s), 1);
	ck_assert_int_eq(gym_hold_get(db, u, o.res.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "expired");
	ck_assert_int_eq(gym_hold_get(db, u, o2.res.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "temporary");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations "
	    "WHERE status = 'temporary'"), 1);

	/* again: the live hold is kept */
	ck_assert_int_eq(prepare(u, o.order_id, &o3), GYM_OK);
	ck_assert_int_eq(o3.res.id, o2.res.id);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 2);

	/* a second before the order lapses the re-claimed hold is still live */
	gym_clock_set_offset(GYM_ORDER_SECONDS - 1);
	ck_assert_int_eq(prepare(u, o.order_id, &o3), GYM_OK);
	ck_assert_int_eq(o3.res.id, o2.res.id);
	ck_assert_int_eq(pgt_available(db, s), 1);
}
END_TEST

START_TEST(test_prepare_sold_out_fails_order)
{
	struct gym_reservation rb, r;
	struct gym_actor a;
	struct gym_order o, o2;
	long long s, u1, u2;
	int created;
	char st[32];

	s = pgt_schedule(db, 1);
	u1 = pgt_user(db, "o-orders-soldout-1");
	u2 = pgt_user(db, "o-orders-soldout-2");
	ck_assert_int_eq(create(u1, s, 0, &o, &created), GYM_OK);

	gym_clock_set_offset(16 * 60);
	a = pgt_actor_user(u2);
	ck_assert_int_eq(gym_hold_create(db, &a, u2, s, &rb, &created), GYM_OK);
	ck_assert_int_eq(prepare(u1, o.order_id, &o2), GYM_E_SOLD_OUT);
	order_status(o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "failed");
	assert_hold_status(o.res.id, "expired");
	ck_assert_int_eq(pgt_available(db, s), 0);
	ck_assert_int_eq(gym_hold_get(db, u2, rb.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "temporary");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state = 'held' AND "
	    "reservation_id = (SELECT id FROM seat_reservations WHERE status = 'temporary')"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'order' AND old_status = 'pending' AND new_status = 'failed'"), 1);

	ck_assert_int_eq(prepare(u1, o.order_id, &o2), GYM_E_ORDER_NOT_PAYABLE);
	ck_assert_int_eq(cancel(u1, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o2.status), "failed");
}
END_TEST

START_TEST(test_prepare_after_order_lapse)
{
	struct gym_order o, o2;
	long long s, u;
	int created;
	char st[32];

	s = pgt_schedule(db, 1);
	u = pgt_user(db, "o-orders-lapse");
	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);

	gym_clock_set_offset(GYM_ORDER_SECONDS + 1);
	ck_assert_int_eq(prepare(u, o.order_id, &o2), GYM_E_ORDER_NOT_PAYABLE);
	order_status(o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "expired");
	assert_hold_status(o.res.id, "expired");
	ck_assert_int_eq(pgt_available(db, s), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state <> 'free'"), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'order_expired' AND old_status = 'pending' AND "
	    "new_status = 'expired'"), 1);

	/* a lapsed order does not block a new one */
	ck_assert_int_eq(create(u, s, 0, &o2, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_str_ne(o2.order_id, o.order_id);
	ck_assert_int_eq(orders_of(u), 2);
}
END_TEST

START_TEST(test_create_replaces_lapsed_order)
{
	struct gym_order o, o2;
	long long s, u;
	int created;
	char st[32];

	s = pgt_schedule(db, 1);
	u = pgt_user(db, "o-orders-replace");
	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);
	gym_clock_set_offset(GYM_ORDER_SECONDS + 1);
	ck_assert_int_eq(create(u, s, 0, &o2, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_str_ne(o2.order_id, o.order_id);
	ck_assert_int_ne(o2.res.id, o.res.id);
	order_status(o.order_id, st, sizeof(st));
	ck_assert_str_eq(st, "expired");
	assert_hold_status(o.res.id, "expired");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders "
	    "WHERE status = 'pending'"), 1);
	ck_assert_int_eq(pgt_available(db, s), 0);
}
END_TEST

/* An open order keeps the user's one hold: after its own hold lapsed, a
 * hold on another class is refused, and paying the order re-claims. */
START_TEST(test_open_order_blocks_other_hold)
{
	struct gym_actor a;
	struct gym_order o, p;
	struct gym_reservation h;
	long long user = pgt_user(db, "oOpenOrderBlocksOtherHold0001");
	long long sa = pgt_schedule(db, 3), sb = pgt_schedule(db, 3);
	int created;

	a = pgt_actor_user(user);
	ck_assert_int_eq(create(user, sa, 0, &o, &created), GYM_OK);
	gym_clock_set_offset(16 * 60);
	ck_assert_int_eq(gym_hold_create(db, &a, user, sb, &h, &created),
	    GYM_E_ACTIVE_HOLD_EXISTS);
	ck_assert_int_eq(pgt_available(db, sb), 3);
	ck_assert_int_eq(prepare(user, o.order_id, &p), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(p.status), "pending");
	ck_assert(p.res.id != o.res.id);
	ck_assert_int_eq(pgt_available(db, sa), 2);
}
END_TEST

START_TEST(test_record_prepay)
{
	struct gym_order o, o2;
	struct gym_attempt at[4];
	char otn2[40];
	long long s, u;
	int created, n = 0;
	int64_t te;

	s = pgt_schedule(db, 1);
	u = pgt_user(db, "o-orders-prepay");
	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);
	ck_assert_int_eq(o.wx_time_expire, 0);
	te = o.expires_at / 1000000 * 1000000;
	ck_assert_int_eq(gym_order_record_prepay(db, &pgt_actor_system, o.order_id, o.order_id,
	    "JSAPI", "wx201410272009395522657a690389285100", NULL, te), GYM_OK);
	ck_assert_int_eq(gym_order_get(db, u, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(o2.trade_type, "JSAPI");
	ck_assert_str_eq(o2.prepay_id, "wx201410272009395522657a690389285100");
	ck_assert_str_eq(o2.code_url, "");
	ck_assert_int_eq(o2.wx_time_expire, te);
	ck_assert_str_eq(gym_order_status_name(o2.status), "pending");
	ck_assert_str_eq(o2.out_trade_no, o.order_id);
	ck_assert_str_eq(o2.payment_method, "wechat");
	/* a second attempt cannot open while the first is open */
	snprintf(otn2, sizeof(otn2), "%s-2", o.order_id);
	ck_assert_int_eq(gym_order_record_prepay(db, &pgt_actor_system, o.order_id, otn2,
	    "NATIVE", NULL, "weixin://wxpay/bizpayurl?pr=abc", te), GYM_ECONFLICT);
	ck_assert_int_eq(gym_attempt_end(db, &pgt_actor_system, o.order_id, "superseded", NULL,
	    NULL), GYM_OK);
	/* a second prepay keeps the first time_expire (WeChat refuses a change) */
	ck_assert_int_eq(gym_order_record_prepay(db, &pgt_actor_system, o.order_id, otn2,
	    "NATIVE", NULL, "weixin://wxpay/bizpayurl?pr=abc", te + 60000000), GYM_OK);
	ck_assert_int_eq(gym_order_get(db, u, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(o2.trade_type, "NATIVE");
	ck_assert_str_eq(o2.prepay_id, "wx201410272009395522657a690389285100");
	ck_assert_str_eq(o2.code_url, "weixin://wxpay/bizpayurl?pr=abc");
	ck_assert_int_eq(o2.wx_time_expire, te);
	ck_assert_str_eq(o2.out_trade_no, otn2);
	/* both attempts keep their rows; the superseded one is ended */
	ck_assert_int_eq(gym_attempt_list(db, o.order_id, at, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(at[0].out_trade_no, o.order_id);
	ck_assert_str_eq(at[0].trade_type, "JSAPI");
	ck_assert_str_eq(at[0].state, "superseded");
	ck_assert_int_ne(at[0].ended_at, 0);
	ck_assert_str_eq(at[1].out_trade_no, otn2);
	ck_assert_str_eq(at[1].state, "open");
	ck_assert_int_eq(at[1].ended_at, 0);
	/* ending an ended attempt changes nothing */
	ck_assert_int_eq(gym_attempt_end(db, &pgt_actor_system, o.order_id, "closed", "X", NULL),
	    GYM_OK);
	ck_assert_int_eq(gym_attempt_list(db, o.order_id, at, 4, &n), GYM_OK);
	ck_assert_str_eq(at[0].state, "superseded");
	ck_assert_str_eq(at[0].error_code, "");
}
END_TEST

/*
 * The job's close claim is a lease: an ended order whose attempt is still
 * open at WeChat is claimed, not again within the lease, again after it
 * (the work of a claim can be lost with PostgreSQL), and never once the
 * attempt is recorded closed.
 */
START_TEST(test_close_claim_lease)
{
	struct gym_order o, c;
	struct gym_actor a;
	char ids[4][33];
	long long s, u;
	int created, n = -1;

	s = pgt_schedule(db, 1);
	u = pgt_user(db, "o-orders-close-lease");
	a = pgt_actor_user(u);
	ck_assert_int_eq(create(u, s, 0, &o, &created), GYM_OK);
	ck_assert_int_eq(gym_order_record_prepay(db, &pgt_actor_system, o.order_id, o.order_id,
	    "NATIVE", NULL, "weixin://wxpay/bizpayurl?pr=lease", o.expires_at), GYM_OK);
	/* pending: not the close job's */
	ck_assert_int_eq(gym_close_claim(db, 60, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(gym_order_cancel(db, &a, u, o.order_id, &c), GYM_OK);
	ck_assert_int_eq(gym_close_claim(db, 60, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(ids[0], o.order_id);
	ck_assert_int_eq(gym_close_claim(db, 60, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 0);				/* within the lease */
	gym_clock_set_offset(61);
	ck_assert_int_eq(gym_close_claim(db, 60, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 1);				/* the lease ran out, still open */
	ck_assert_int_eq(gym_attempt_end(db, &pgt_actor_system, o.order_id, "closed", NULL, NULL),
	    GYM_OK);
	gym_clock_set_offset(200);
	ck_assert_int_eq(gym_close_claim(db, 60, ids, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 0);				/* recorded closed: done */
	gym_clock_set_offset(0);
}
END_TEST

Suite *
orders_suite(void)
{
	Suite *s = suite_create("orders");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_create_and_again);
	tcase_add_test(tc, test_garbage_order_ids);
	tcase_add_test(tc, test_create_with_given_hold);
	tcase_add_test(tc, test_one_trial_rule_in_database);
	tcase_add_test(tc, test_trial_predicate);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_record_prepay);
	tcase_add_test(tc, test_close_claim_lease);
	tcase_add_test(tc, test_open_order_blocks_other_hold);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_50_concurrent_creates_one_user);
	tcase_add_test(tc, test_50_concurrent_creates_one_user_last_seat);
	tcase_add_test(tc, test_50_concurrent_creates_after_trial);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_prepare_reclaims_lapsed_hold);
	tcase_add_test(tc, test_prepare_sold_out_fails_order);
	tcase_add_test(tc, test_prepare_after_order_lapse);
	tcase_add_test(tc, test_create_replaces_lapsed_order);
	suite_add_tcase(s, tc);
	return s;
}

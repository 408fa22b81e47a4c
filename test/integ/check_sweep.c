/*
 * check_sweep.c: the expiry sweep against a real database.  100,000 lapsed
 * holds swept by two concurrent sweepers (every row exactly once, with one
 * audit row each), lapsed orders, and seats re-taken by a live hold that
 * the sweep must leave alone.  The sweep writes no seat row: a seat whose
 * hold lapsed stays 'held' (held_until in the past) naming the expired
 * hold, and must be free to claim all the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "integ.h"
#include "pgtest.h"

#define BULK_HOLDS 100000
#define BULK_CLASSES 10		/* capacity is at most 10,000 a class */
#define SWEEPERS 2
#define LIVE_HOLDS 5

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

static double
elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* BULK_HOLDS users each holding one seat of BULK_CLASSES classes, every
 * hold lapsed between 0 and 10 minutes ago.  Ids start at 1 (pgt_reset
 * restarts them), so user n holds seat n. */
static void
load_lapsed_holds(void)
{
	char now[40], n[16], per[16];
	const char *p1[1] = { now };
	const char *p3[3] = { now, n, per };

	pgt_time(now, sizeof(now), 0);
	snprintf(n, sizeof(n), "%d", BULK_HOLDS);
	snprintf(per, sizeof(per), "%d", BULK_HOLDS / BULK_CLASSES);
	pgt_execp(db, "INSERT INTO users (openid, created_at, last_login_at) "
	    "SELECT 'o-sweep-' || g, $1::timestamptz, $1::timestamptz "
	    "FROM generate_series(1, $2::int) g", 2, p3);
	pgt_execp(db, "INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, "
	    "created_at) SELECT 'Sweep class ' || g, $1::timestamptz + interval '1 day', "
	    "$1::timestamptz + interval '1 day 1 hour', $3::int, $1::timestamptz "
	    "FROM generate_series(1, $2::int / $3::int) g", 3, p3);
	pgt_exec(db, "INSERT INTO seats (course_schedule_id, seat_no) "
	    "SELECT s.id, g FROM course_schedules s, generate_series(1, s.capacity) g "
	    "ORDER BY s.id, g");
	pgt_execp(db, "INSERT INTO seat_reservations (user_id, course_schedule_id, seat_id, "
	    "status, expires_at, created_at, updated_at) "
	    "SELECT u.id, s.course_schedule_id, s.id, 'temporary', "
	    " $1::timestamptz - (u.id % 600) * interval '1 second' - interval '1 millisecond', "
	    " $1::timestamptz - interval '20 minutes', $1::timestamptz - interval '20 minutes' "
	    "FROM users u JOIN seats s ON s.id = u.id", 1, p1);
	pgt_exec(db, "UPDATE seats s SET state = 'held', reservation_id = r.id, "
	    "held_until = r.expires_at FROM seat_reservations r WHERE r.seat_id = s.id");
	pgt_exec(db, "ANALYZE users, course_schedules, seats, seat_reservations, "
	    "payment_audit_log");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state = 'held' AND "
	    "reservation_id = id"), BULK_HOLDS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations "
	    "WHERE status = 'temporary'"), BULK_HOLDS);
}

static void
sweeper(struct pgt_client *c)
{
	int n;

	do {
		n = 0;
		c->err = gym_sweep_holds(c->db, 5000, &n);
		c->id += n;
		c->aux++;
	} while (c->err == GYM_OK && n > 0);
}

START_TEST(test_two_sweepers_100k_holds)
{
	struct pgt_client out[SWEEPERS];
	struct gym_reservation r;
	struct timespec t0;
	struct gym_actor a;
	long long live_s, u, total = 0;
	char openid[32];
	int reported, bad, created, n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	load_lapsed_holds();
	fprintf(stderr, "sweep: loaded %d lapsed holds in %.2f s\n", BULK_HOLDS, elapsed(&t0));

	/* live holds the sweep must not touch */
	live_s = pgt_schedule(db, LIVE_HOLDS);
	for (int i = 0; i < LIVE_HOLDS; i++) {
		snprintf(openid, sizeof(openid), "o-sweep-live-%d", i);
		u = pgt_user(db, openid);
		a = pgt_actor_user(u);
		ck_assert_int_eq(gym_hold_create(db, &a, u, live_s, &r, &created), GYM_OK);
	}
	ck_assert_int_eq(pgt_available(db, live_s), 0);
	/* lapsed holds count as free before any sweep */
	ck_assert_int_eq(pgt_available(db, 1), BULK_HOLDS / BULK_CLASSES);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	reported = pgt_fork_clients(SWEEPERS, NULL, sweeper, NULL, out, &bad);
	fprintf(stderr, "sweep: %d sweepers swept %lld + %lld holds in %lld + %lld batches, "
	    "%.2f s\n", SWEEPERS, out[0].id, out[1].id, out[0].aux, out[1].aux, elapsed(&t0));
	ck_assert_int_eq(reported, SWEEPERS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < SWEEPERS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "sweeper %d: %s", i,
		    gym_strerror((enum gym_err)out[i].err));
		total += out[i].id;
	}
	ck_assert_int_eq(total, BULK_HOLDS);

	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations "
	    "WHERE status = 'expired'"), BULK_HOLDS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations "
	    "WHERE status = 'temporary'"), LIVE_HOLDS);
	/* the seats are as the holds left them: held until the lapse, by the
	 * hold now expired (user n, seat n, hold n) */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats s JOIN seat_reservations r "
	    "ON r.id = s.reservation_id AND r.seat_id = s.id WHERE s.state = 'held' "
	    "AND r.status = 'expired' AND s.held_until = r.expires_at AND s.id = r.id"),
	    BULK_HOLDS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats s JOIN seat_reservations r "
	    "ON r.id = s.reservation_id WHERE s.state = 'held' AND r.status = 'temporary'"),
	    LIVE_HOLDS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'hold_expired'"), BULK_HOLDS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT reservation_id) FROM "
	    "payment_audit_log WHERE action_type = 'hold_expired'"), BULK_HOLDS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log a "
	    "JOIN seat_reservations r ON r.id = a.reservation_id WHERE a.action_type = "
	    "'hold_expired' AND a.entity = 'hold' AND a.actor_type = 'system' AND "
	    "a.old_status = 'temporary' AND a.new_status = 'expired' AND r.status = 'expired' "
	    "AND a.order_id IS NULL AND a.response_snapshot IS NULL"), BULK_HOLDS);
	ck_assert_int_eq(pgt_available(db, 1), BULK_HOLDS / BULK_CLASSES);
	ck_assert_int_eq(pgt_available(db, live_s), 0);

	/* a seat left held by an expired hold is free to claim: the first seat
	 * of class 1 (seat 1, hold 1) goes to the next parent */
	u = pgt_user(db, "o-sweep-after");
	a = pgt_actor_user(u);
	ck_assert_int_eq(gym_hold_create(db, &a, u, 1, &r, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats s JOIN seat_reservations r "
	    "ON r.id = s.reservation_id WHERE s.id = 1 AND s.state = 'held' AND s.held_until > "
	    "now() AND r.status = 'temporary' AND r.user_id = (SELECT id FROM users WHERE "
	    "openid = 'o-sweep-after')"), 1);
	ck_assert_int_eq(pgt_available(db, 1), BULK_HOLDS / BULK_CLASSES - 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations "
	    "WHERE status = 'expired'"), BULK_HOLDS);

	/* nothing left */
	ck_assert_int_eq(gym_sweep_holds(db, 5000, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(gym_sweep_holds(db, 0, &n), GYM_EINVAL);
}
END_TEST

START_TEST(test_sweep_leaves_retaken_seat)
{
	struct gym_reservation ra, rb, r;
	struct gym_actor a;
	long long s, ua, ub;
	int created, n;

	s = pgt_schedule(db, 1);
	ua = pgt_user(db, "o-sweep-retake-a");
	ub = pgt_user(db, "o-sweep-retake-b");
	a = pgt_actor_user(ua);
	ck_assert_int_eq(gym_hold_create(db, &a, ua, s, &ra, &created), GYM_OK);
	gym_clock_set_offset(16 * 60);
	a = pgt_actor_user(ub);
	ck_assert_int_eq(gym_hold_create(db, &a, ub, s, &rb, &created), GYM_OK);

	ck_assert_int_eq(gym_sweep_holds(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_hold_get(db, ua, ra.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "expired");
	ck_assert_int_eq(gym_hold_get(db, ub, rb.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "temporary");
	ck_assert_int_eq(pgt_available(db, s), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state = 'held' AND "
	    "reservation_id = (SELECT id FROM seat_reservations WHERE status = 'temporary')"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats"), 1);
	ck_assert_int_eq(gym_sweep_holds(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_sweep_orders)
{
	struct gym_order o[6], oc, olive;
	struct gym_reservation rb;
	struct gym_actor a;
	long long s, s1, u[6], ub, ulive;
	char openid[32];
	int created, n, total = 0, batches = 0;

	s = pgt_schedule(db, 10);
	s1 = pgt_schedule(db, 1);
	for (int i = 0; i < 6; i++) {
		snprintf(openid, sizeof(openid), "o-sweep-order-%d", i);
		u[i] = pgt_user(db, openid);
		a = pgt_actor_user(u[i]);
		ck_assert_int_eq(gym_order_create(db, &a, u[i], i == 5 ? s1 : s, 0, NULL, NULL,
		    &o[i], &created), GYM_OK);
	}
	/* one order ends before it lapses */
	a = pgt_actor_user(u[0]);
	ck_assert_int_eq(gym_order_cancel(db, &a, u[0], o[0].order_id, &oc), GYM_OK);
	ck_assert_int_eq(pgt_available(db, s), 6);

	/* u[5]'s hold lapses and another user takes that seat (until minute 35) */
	gym_clock_set_offset(20 * 60);
	ub = pgt_user(db, "o-sweep-order-b");
	a = pgt_actor_user(ub);
	ck_assert_int_eq(gym_hold_create(db, &a, ub, s1, &rb, &created), GYM_OK);

	/* all orders lapsed; one fresh order must survive the sweep */
	gym_clock_set_offset(GYM_ORDER_SECONDS + 60);
	ulive = pgt_user(db, "o-sweep-order-live");
	a = pgt_actor_user(ulive);
	ck_assert_int_eq(gym_order_create(db, &a, ulive, s, 0, NULL, NULL, &olive, &created), GYM_OK);

	do {
		ck_assert_int_eq(gym_sweep_orders(db, 2, &n), GYM_OK);
		ck_assert_int_le(n, 2);
		total += n;
		batches++;
	} while (n > 0);
	ck_assert_int_eq(total, 5);
	ck_assert_int_eq(batches, 4);

	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders "
	    "WHERE status = 'expired'"), 5);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders "
	    "WHERE status = 'cancelled'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders "
	    "WHERE status = 'pending'"), 1);
	/* the expired orders' holds are expired too, and their seats free to
	 * claim, though still marked held by them (the sweep writes no seat) */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_orders o JOIN "
	    "seat_reservations r ON r.id = o.reservation_id WHERE o.status = 'expired' "
	    "AND r.status = 'expired'"), 5);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats s JOIN seat_reservations r "
	    "ON r.id = s.reservation_id WHERE s.state = 'held' AND r.status = 'expired' "
	    "AND s.held_until = r.expires_at"), 4);
	ck_assert_int_eq(pgt_available(db, s), 9);
	/* the seat re-taken by a live hold stays taken */
	ck_assert_int_eq(pgt_available(db, s1), 0);
	ck_assert_int_eq(gym_hold_get(db, ub, rb.id, &rb), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(rb.status), "temporary");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats s JOIN seat_reservations r "
	    "ON r.id = s.reservation_id WHERE s.state = 'held' AND r.status = 'temporary' "
	    "AND r.user_id = (SELECT id FROM users WHERE openid = 'o-sweep-order-b')"), 1);

	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'order' AND action_type = 'order_expired' AND old_status = 'pending' "
	    "AND new_status = 'expired' AND actor_type = 'system'"), 5);
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT order_id) FROM payment_audit_log "
	    "WHERE action_type = 'order_expired'"), 5);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'hold' AND action_type = 'hold_expired' AND old_status = 'temporary' "
	    "AND new_status = 'expired'"), 5);
	ck_assert_int_eq(gym_sweep_orders(db, 0, &n), GYM_EINVAL);
}
END_TEST

Suite *
sweep_suite(void)
{
	Suite *s = suite_create("sweep");
	TCase *tc;

	if (pgt_heavy("sweep: two sweepers on 100k holds")) {
		tc = tcase_create("bulk");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 90);
		tcase_add_test(tc, test_two_sweepers_100k_holds);
		suite_add_tcase(s, tc);
	}

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_sweep_leaves_retaken_seat);
	tcase_add_test(tc, test_sweep_orders);
	suite_add_tcase(s, tc);
	return s;
}

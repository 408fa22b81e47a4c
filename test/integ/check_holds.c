/*
 * check_holds.c: seat holds against a real database: a 200-client race on
 * one class of 10 seats, the one-hold-per-user rules, release, ownership,
 * and the 15-minute lapse read through the gym clock (a lapsed hold frees
 * its seat at once, before any sweep).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "integ.h"
#include "pgtest.h"

#define RACE_CLIENTS 200
#define RACE_CAPACITY 10

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
hold(long long user_id, long long schedule_id, struct gym_reservation *r, int *created)
{
	struct gym_actor a = pgt_actor_user(user_id);

	memset(r, 0, sizeof(*r));
	*created = -1;
	return gym_hold_create(db, &a, user_id, schedule_id, r, created);
}

static enum gym_err
release(long long user_id, long long reservation_id, struct gym_reservation *r)
{
	struct gym_actor a = pgt_actor_user(user_id);

	memset(r, 0, sizeof(*r));
	return gym_hold_release(db, &a, user_id, reservation_id, r);
}

static void
race_login(struct pgt_client *c)
{
	char openid[40];

	snprintf(openid, sizeof(openid), "o-race-user-%03d", c->idx);
	c->err = gym_user_login(c->db, openid, &c->user_id);
}

static void
race_hold(struct pgt_client *c)
{
	struct gym_actor a = pgt_actor_user(c->user_id);
	struct gym_reservation r;

	memset(&r, 0, sizeof(r));
	c->err = gym_hold_create(c->db, &a, c->user_id, *(long long *)c->arg, &r, &c->created);
	c->id = r.id;
	c->aux = r.schedule_id;
	snprintf(c->text, sizeof(c->text), "%s", gym_hold_status_name(r.status));
}

START_TEST(test_race_200_clients_10_seats)
{
	static struct pgt_client out[RACE_CLIENTS];
	char now[40];
	const char *p[2];
	char sid_s[24];
	long long sid;
	int reported, bad, ok = 0, sold = 0, other = 0, other_err = 0;

	sid = pgt_schedule(db, RACE_CAPACITY);
	reported = pgt_fork_clients(RACE_CLIENTS, race_login, race_hold, &sid, out, &bad);
	ck_assert_int_eq(reported, RACE_CLIENTS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < RACE_CLIENTS; i++) {
		if (out[i].err == GYM_OK) {
			ok++;
			ck_assert_int_eq(out[i].created, 1);
			ck_assert_str_eq(out[i].text, "temporary");
			ck_assert_int_eq(out[i].aux, sid);
			ck_assert_int_gt(out[i].id, 0);
			for (int j = 0; j < i; j++)
				ck_assert_msg(out[j].err != GYM_OK || out[j].id != out[i].id,
				    "clients %d and %d got the same reservation %lld", j, i, out[i].id);
		} else if (out[i].err == GYM_E_SOLD_OUT)
			sold++;
		else {
			other++;
			other_err = out[i].err;
		}
	}
	ck_assert_msg(other == 0, "%d clients got another error, e.g. %d (%s)", other, other_err,
	    other_err >= 0 ? gym_strerror((enum gym_err)other_err) : "no report");
	ck_assert_int_eq(ok, RACE_CAPACITY);
	ck_assert_int_eq(sold, RACE_CLIENTS - RACE_CAPACITY);

	pgt_time(now, sizeof(now), 0);
	p[0] = now;
	ck_assert_int_le(pgt_countp(db, "SELECT count(*) FROM seats WHERE state = 'confirmed' OR "
	    "(state = 'held' AND held_until > $1::timestamptz)", 1, p), RACE_CAPACITY);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM seats WHERE state = 'confirmed' OR "
	    "(state = 'held' AND held_until > $1::timestamptz)", 1, p), RACE_CAPACITY);
	ck_assert_int_eq(pgt_available(db, sid), 0);
	snprintf(sid_s, sizeof(sid_s), "%lld", sid);
	p[0] = sid_s;
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM seats WHERE course_schedule_id = "
	    "$1::bigint", 1, p), RACE_CAPACITY);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations "
	    "WHERE status = 'temporary'"), RACE_CAPACITY);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), RACE_CAPACITY);
	/* every hold owns a distinct seat, and that seat points back at it */
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT r.seat_id) FROM seat_reservations r "
	    "JOIN seats s ON s.id = r.seat_id AND s.reservation_id = r.id AND s.state = 'held' "
	    "AND s.held_until = r.expires_at"), RACE_CAPACITY);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE action_type = 'hold_created'"), RACE_CAPACITY);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM users"), RACE_CLIENTS);
}
END_TEST

#define SAME_USER_CLIENTS 50

static void
same_user_hold(struct pgt_client *c)
{
	const long long *a = c->arg;	/* user, schedule */
	struct gym_actor actor = pgt_actor_user(a[0]);
	struct gym_reservation r;

	memset(&r, 0, sizeof(r));
	c->err = gym_hold_create(c->db, &actor, a[0], a[1], &r, &c->created);
	c->id = r.id;
}

/* One user's burst of holds (a double tap, retries) on a class with
 * capacity seats: one hold, and every request gets it back. */
static void
same_user_burst(int capacity)
{
	static struct pgt_client out[SAME_USER_CLIENTS];
	long long arg[2];
	int reported, bad, created = 0;

	arg[0] = pgt_user(db, "o-holds-burst");
	arg[1] = pgt_schedule(db, capacity);
	reported = pgt_fork_clients(SAME_USER_CLIENTS, NULL, same_user_hold, arg, out, &bad);
	ck_assert_int_eq(reported, SAME_USER_CLIENTS);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < SAME_USER_CLIENTS; i++) {
		ck_assert_msg(out[i].err == GYM_OK, "client %d: %d (%s)", i, out[i].err,
		    out[i].err >= 0 ? gym_strerror((enum gym_err)out[i].err) : "no report");
		ck_assert_int_eq(out[i].id, out[0].id);
		created += out[i].created;
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);
	ck_assert_int_eq(pgt_available(db, arg[1]), capacity - 1);
}

START_TEST(test_same_user_burst)
{
	same_user_burst(60);
}
END_TEST

START_TEST(test_same_user_burst_last_seat)
{
	same_user_burst(1);
}
END_TEST

START_TEST(test_same_user_and_release)
{
	struct gym_reservation r, r2;
	long long a, b, u1, u2;
	int created;
	int64_t t0;

	a = pgt_schedule(db, 5);
	b = pgt_schedule(db, 5);
	u1 = pgt_user(db, "o-holds-user-1");
	u2 = pgt_user(db, "o-holds-user-2");

	t0 = gym_now_us();
	ck_assert_int_eq(hold(u1, a, &r, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_gt(r.id, 0);
	ck_assert_int_eq(r.schedule_id, a);
	ck_assert_int_eq(r.user_id, u1);
	ck_assert_str_eq(gym_hold_status_name(r.status), "temporary");
	ck_assert_int_ge(r.expires_at, t0 + (int64_t)GYM_HOLD_SECONDS * 1000000);
	ck_assert_int_le(r.expires_at, gym_now_us() + (int64_t)GYM_HOLD_SECONDS * 1000000);
	ck_assert_int_eq(pgt_available(db, a), 4);

	/* same user, same class: the same hold back */
	ck_assert_int_eq(hold(u1, a, &r2, &created), GYM_OK);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(r2.id, r.id);
	ck_assert_int_eq(r2.expires_at, r.expires_at);
	ck_assert_str_eq(gym_hold_status_name(r2.status), "temporary");
	ck_assert_int_eq(pgt_available(db, a), 4);

	/* same user, another class: refused, nothing taken there */
	ck_assert_int_eq(hold(u1, b, &r2, &created), GYM_E_ACTIVE_HOLD_EXISTS);
	ck_assert_int_eq(pgt_available(db, b), 5);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 1);

	/* someone else's hold does not exist for u2 */
	ck_assert_int_eq(gym_hold_get(db, u2, r.id, &r2), GYM_ENOTFOUND);
	ck_assert_int_eq(release(u2, r.id, &r2), GYM_ENOTFOUND);
	ck_assert_int_eq(gym_hold_get(db, u1, r.id, &r2), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r2.status), "temporary");
	ck_assert_int_eq(pgt_available(db, a), 4);

	/* release, then release again */
	ck_assert_int_eq(release(u1, r.id, &r2), GYM_OK);
	ck_assert_int_eq(r2.id, r.id);
	ck_assert_str_eq(gym_hold_status_name(r2.status), "cancelled");
	ck_assert_int_eq(pgt_available(db, a), 5);
	ck_assert_int_eq(release(u1, r.id, &r2), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r2.status), "cancelled");
	ck_assert_int_eq(pgt_available(db, a), 5);
	ck_assert_int_eq(gym_hold_get(db, u1, r.id, &r2), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r2.status), "cancelled");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state <> 'free' "
	    "OR reservation_id IS NOT NULL"), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'hold_released' AND old_status = 'temporary' AND "
	    "new_status = 'cancelled'"), 1);

	/* released: the user may now hold elsewhere */
	ck_assert_int_eq(hold(u1, b, &r2, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_ne(r2.id, r.id);
	ck_assert_int_eq(pgt_available(db, b), 4);
}
END_TEST

START_TEST(test_garbage_ids)
{
	static const long long bad[] = { 0, -1, 999999999, -9223372036854775807LL };
	struct gym_reservation r;
	long long a, u;
	int created;

	a = pgt_schedule(db, 2);
	u = pgt_user(db, "o-holds-garbage");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(gym_hold_get(db, u, bad[i], &r), GYM_ENOTFOUND);
		ck_assert_int_eq(release(u, bad[i], &r), GYM_ENOTFOUND);
		ck_assert_int_eq(hold(u, bad[i], &r, &created), GYM_E_SCHEDULE_NOT_FOUND);
	}
	ck_assert_int_eq(hold(u, a + 1000, &r, &created), GYM_E_SCHEDULE_NOT_FOUND);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 0);
	ck_assert_int_eq(pgt_available(db, a), 2);
	ck_assert_int_eq(gym_schedule_get(db, 999999999, &(struct gym_schedule){ 0 }),
	    GYM_E_SCHEDULE_NOT_FOUND);
}
END_TEST

START_TEST(test_lapsed_hold_frees_seat_before_sweep)
{
	struct gym_reservation ra, rb, r;
	long long s, ua, ub;
	int created;

	s = pgt_schedule(db, 1);
	ua = pgt_user(db, "o-clock-user-a");
	ub = pgt_user(db, "o-clock-user-b");
	ck_assert_int_eq(hold(ua, s, &ra, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(pgt_available(db, s), 0);

	/* one second before the lapse: still held */
	gym_clock_set_offset(GYM_HOLD_SECONDS - 1);
	ck_assert_int_eq(pgt_available(db, s), 0);
	ck_assert_int_eq(hold(ub, s, &rb, &created), GYM_E_SOLD_OUT);

	/* one second after: free at once, no sweep has run */
	gym_clock_set_offset(GYM_HOLD_SECONDS + 1);
	ck_assert_int_eq(pgt_available(db, s), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations "
	    "WHERE status = 'temporary'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats WHERE state = 'held'"), 1);

	ck_assert_int_eq(hold(ub, s, &rb, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	ck_assert_int_ne(rb.id, ra.id);
	ck_assert_int_gt(rb.expires_at, gym_now_us());
	ck_assert_int_eq(pgt_available(db, s), 0);

	/* A's hold: untouched in the table, but lapsed */
	ck_assert_int_eq(gym_hold_get(db, ua, ra.id, &r), GYM_OK);
	ck_assert_int_eq(r.id, ra.id);
	ck_assert_str_eq(gym_hold_status_name(r.status), "temporary");
	ck_assert_int_eq(r.expires_at, ra.expires_at);
	ck_assert_int_lt(r.expires_at, gym_now_us());

	/* A cannot get the seat back, and trying does not free B's seat */
	ck_assert_int_eq(hold(ua, s, &r, &created), GYM_E_SOLD_OUT);
	ck_assert_int_eq(pgt_available(db, s), 0);
	ck_assert_int_eq(gym_hold_get(db, ub, rb.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "temporary");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats s JOIN seat_reservations r "
	    "ON r.id = s.reservation_id WHERE s.state = 'held' AND r.user_id = "
	    "(SELECT id FROM users WHERE openid = 'o-clock-user-b')"), 1);

	/* releasing A's lapsed hold ends it as expired and leaves B's seat alone */
	ck_assert_int_eq(release(ua, ra.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "expired");
	ck_assert_int_eq(pgt_available(db, s), 0);
	ck_assert_int_eq(gym_hold_get(db, ub, rb.id, &r), GYM_OK);
	ck_assert_str_eq(gym_hold_status_name(r.status), "temporary");
}
END_TEST

START_TEST(test_started_or_empty_class_is_sold_out)
{
	struct gym_reservation r;
	long long soon, empty, u;
	int created;

	soon = pgt_schedule_at(db, 3, 60);
	empty = pgt_schedule(db, 0);
	u = pgt_user(db, "o-holds-started");
	ck_assert_int_eq(hold(u, empty, &r, &created), GYM_E_SOLD_OUT);
	ck_assert_int_eq(pgt_available(db, empty), 0);
	gym_clock_set_offset(61);
	ck_assert_int_eq(hold(u, soon, &r, &created), GYM_E_SOLD_OUT);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seat_reservations"), 0);
}
END_TEST

/* A class of course at start_h hours from now with seats places. */
static long long
course_class(const char *course, int start_h, int seats)
{
	int64_t start = gym_now_us() + (int64_t)start_h * 3600 * 1000000;
	long long id = 0;

	ck_assert_int_eq(gym_schedule_create(db, &pgt_actor_system, course, start,
	    start + (int64_t)3600 * 1000000, seats, &id), GYM_OK);
	return id;
}

/* A sold-out class's alternatives: other classes with a free seat, its own
 * course first, then the nearest in time; never itself, a full one, one
 * that started or one more than 60 days away. */
START_TEST(test_alternatives)
{
	struct gym_schedule alt[3];
	long long full = course_class("跳马", 48, 1), same_far = course_class("跳马", 200, 2);
	long long other_near = course_class("平衡木", 50, 2), other_mid = course_class("自由操", 40, 2);
	long long other_far = course_class("蹦床", 150, 2), same_full = course_class("跳马", 60, 0);
	long long too_far = course_class("跳马", 24 * 61, 2), starts = course_class("吊环", 1, 2);
	int n = 0;

	(void)same_full;
	(void)too_far;
	ck_assert_int_eq(gym_schedule_alternatives(db, full, alt, 3, &n), GYM_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(alt[0].id, same_far);		/* the same course */
	ck_assert_int_eq(alt[1].id, other_near);	/* 2 h from it */
	ck_assert_int_eq(alt[2].id, other_mid);		/* 8 h from it */
	ck_assert_int_eq(alt[1].available, 2);
	/* once a class has started it is no alternative */
	gym_clock_set_offset(2 * 3600);
	ck_assert_int_eq(gym_schedule_alternatives(db, full, alt, 3, &n), GYM_OK);
	for (int i = 0; i < n; i++)
		ck_assert_int_ne(alt[i].id, starts);
	gym_clock_set_offset(0);
	ck_assert_int_eq(gym_schedule_alternatives(db, full, alt, 1, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_schedule_alternatives(db, full, alt, 0, &n), GYM_EINVAL);
	(void)other_far;
}
END_TEST

START_TEST(test_capacity_change)
{
	static const struct gym_actor op = { "operator", 1, NULL, NULL, "test-capacity", NULL };
	struct gym_reservation r;
	long long s, u1, u2, again;
	int created;

	s = pgt_schedule(db, 3);
	u1 = pgt_user(db, "o-holds-cap-1");
	u2 = pgt_user(db, "o-holds-cap-2");
	ck_assert_int_eq(pgt_user(db, "o-holds-cap-1"), u1);	/* login again: same user */
	ck_assert_int_eq(hold(u1, s, &r, &created), GYM_OK);
	ck_assert_int_eq(hold(u2, s, &r, &created), GYM_OK);

	/* never below the seats held now */
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, s, 1), GYM_E_CAPACITY_BELOW_BOOKED);
	ck_assert_int_eq(pgt_count(db, "SELECT capacity FROM course_schedules"), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats"), 3);
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, s, 2), GYM_OK);
	ck_assert_int_eq(pgt_available(db, s), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats"), 2);
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, s, 5), GYM_OK);
	ck_assert_int_eq(pgt_available(db, s), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(DISTINCT seat_no) FROM seats"), 5);
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, s + 1000, 5),
	    GYM_E_SCHEDULE_NOT_FOUND);
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, s, -1), GYM_EINVAL);
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, s, 10001), GYM_EINVAL);

	/* lapsed holds no longer count */
	gym_clock_set_offset(GYM_HOLD_SECONDS + 1);
	ck_assert_int_eq(gym_schedule_set_capacity(db, &op, s, 0), GYM_OK);
	ck_assert_int_eq(pgt_available(db, s), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM seats"), 0);
	again = pgt_user(db, "o-holds-cap-3");
	ck_assert_int_eq(hold(again, s, &r, &created), GYM_E_SOLD_OUT);
}
END_TEST

Suite *
holds_suite(void)
{
	Suite *s = suite_create("holds");
	TCase *tc;

	tc = tcase_create("race");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	if (pgt_heavy("holds: the 200-client race"))
		tcase_add_test(tc, test_race_200_clients_10_seats);
	tcase_add_test(tc, test_same_user_burst);
	tcase_add_test(tc, test_same_user_burst_last_seat);
	suite_add_tcase(s, tc);

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_same_user_and_release);
	tcase_add_test(tc, test_garbage_ids);
	tcase_add_test(tc, test_started_or_empty_class_is_sold_out);
	tcase_add_test(tc, test_alternatives);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_lapsed_hold_frees_seat_before_sweep);
	tcase_add_test(tc, test_capacity_change);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * check_push.c: the live push outbox against a real database (issue 17).
 * The triggers of migration 0018 queue an order's and a refund's changes
 * in the transaction that makes them; gym_push_pass takes the rows once;
 * gym_push_classes queues a class only when its seat count changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "booking.h"
#include "integ.h"
#include "pgtest.h"
#include "push.h"

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

/* A pending order of a new parent on sid: its order_id into oid[40]. */
static void
order_row(long long sid, const char *oid)
{
	char now[40], uid[24], sids[24];
	const char *p[4] = { now, uid, sids, oid };

	pgt_time(now, sizeof(now), 0);
	snprintf(uid, sizeof(uid), "%lld", pgt_user(db, oid));
	snprintf(sids, sizeof(sids), "%lld", sid);
	pgt_execp(db, "INSERT INTO payment_orders (order_id, user_id, course_schedule_id, "
	    "amount_fen, status, expires_at, created_at, updated_at) VALUES ($4, $2::bigint, "
	    "$3::bigint, 20000, 'pending', $1::timestamptz + interval '30 minutes', "
	    "$1::timestamptz, $1::timestamptz)", 4, p);
}

START_TEST(test_push_order_changes_queued)
{
	const char *p[1] = { "T20261204push01" };
	long long sid = pgt_schedule(db, 2);
	int n = -1;

	order_row(sid, p[0]);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM push_outbox WHERE channel = "
	    "'order-' || $1 AND payload->>'status' = 'pending'", 1, p), 1);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM push_outbox WHERE channel = "
	    "'console' AND payload->>'order_id' = $1", 1, p), 1);
	/* a change of status is queued; a write that leaves it is not */
	pgt_execp(db, "UPDATE payment_orders SET status = 'cancelled' WHERE order_id = $1", 1, p);
	pgt_execp(db, "UPDATE payment_orders SET updated_at = now() WHERE order_id = $1", 1, p);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM push_outbox"), 4);
	/* a rolled-back change leaves nothing */
	pgt_exec(db, "BEGIN");
	pgt_execp(db, "UPDATE payment_orders SET status = 'expired' WHERE order_id = $1", 1, p);
	pgt_exec(db, "ROLLBACK");
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM push_outbox"), 4);

	/* push off: the rows are taken and dropped, each once */
	ck_assert_int_eq(gym_push_pass(NULL, db, 3, &n), GYM_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(gym_push_pass(NULL, db, 3, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM push_outbox"), 0);
}
END_TEST

/* A publisher nobody listens on: each message is counted as failed and
 * dropped; the pass itself succeeds (a failed publish undoes nothing). */
START_TEST(test_push_unreachable_publisher)
{
	char u1[] = "http://127.0.0.1:1/pub/", u2[] = "http://127.0.0.1:2/pub/";
	char *urls[2] = { u1, u2 };
	struct gym_push *p = NULL;
	int n = -1;

	order_row(pgt_schedule(db, 1), "T20261204push02");
	ck_assert_int_eq(gym_push_new(urls, 2, &p), GYM_OK);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(gym_push_pass(p, db, 10, &n), GYM_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM push_outbox"), 0);
	gym_push_free(p);
	ck_assert_int_eq(gym_push_new(urls, 0, &p), GYM_OK);
	ck_assert_ptr_null(p);
}
END_TEST

/* A class is queued when its count differs from the last one queued:
 * first sight, a hold, a lapse (no write at all); not when nothing moved. */
START_TEST(test_push_class_counts)
{
	long long sid = pgt_schedule(db, 3);
	char sids[24];
	const char *p[1] = { sids };

	/* a class that ended is never queued */
	pgt_exec(db, "INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, "
	    "created_at) VALUES ('ended', now() - interval '2 hours', now() - interval '1 hour', "
	    "3, now() - interval '1 day')");
	snprintf(sids, sizeof(sids), "%lld", sid);
	ck_assert_int_eq(gym_push_classes(db), GYM_OK);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM push_outbox"), 1);
	ck_assert_int_eq(pgt_countp(db, "SELECT (payload->>'available')::int FROM push_outbox "
	    "WHERE channel = 'class-' || $1", 1, p), 3);
	ck_assert_int_eq(gym_push_classes(db), GYM_OK);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM push_outbox"), 1);

	pgt_execp(db, "UPDATE seats SET state = 'held', reservation_id = 1, "
	    "held_until = now() + interval '1 second' "
	    "WHERE id = (SELECT min(id) FROM seats WHERE course_schedule_id = $1::bigint)", 1, p);
	ck_assert_int_eq(gym_push_classes(db), GYM_OK);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM push_outbox WHERE channel = "
	    "'class-' || $1 AND payload->>'available' = '2'", 1, p), 1);
	pgt_exec(db, "SELECT pg_sleep(1.1)");
	ck_assert_int_eq(gym_push_classes(db), GYM_OK);
	ck_assert_int_eq(pgt_countp(db, "SELECT (payload->>'available')::int FROM push_outbox "
	    "WHERE channel = 'class-' || $1 ORDER BY id DESC LIMIT 1", 1, p), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM push_outbox"), 3);
}
END_TEST

Suite *
push_suite(void)
{
	Suite *s = suite_create("push");
	TCase *tc = tcase_create("push");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_push_order_changes_queued);
	tcase_add_test(tc, test_push_unreachable_publisher);
	tcase_add_test(tc, test_push_class_counts);
	suite_add_tcase(s, tc);
	return s;
}

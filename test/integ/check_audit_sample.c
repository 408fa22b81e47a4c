/*
 * check_audit_sample.c: refused notifications in the audit log, sampled
 * (lib/audit_sample.c; issue 13, finding 3) against a real database, the
 * clock moved instead of sleeping.  Every refusal used to insert an audit
 * row (32 connections for 10 s wrote 10,289).  Now: at most limit rows per
 * source and minute, every refusal still counted in audit_samples, a new
 * minute samples again, and rows older than an hour are dropped.
 */
#include <stdio.h>

#include <check.h>

#include "audit_sample.h"
#include "integ.h"
#include "pgtest.h"

#define LIMIT 3

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

/* n refusals from ip; how many were audited. */
static int
refuse(const char *ip, int n, long long *last_nth)
{
	struct gym_actor a = { "wechat", 0, ip, "curl", "rid-sample", NULL };
	struct gym_audit au = { "notification", "notification_rejected", NULL, 0, 0, NULL, NULL,
		"{\"reason\":\"signature\"}" };
	int audited = 0, rec;

	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(gym_audit_sampled(db, &a, &au, LIMIT, last_nth, &rec), GYM_OK);
		audited += rec;
	}
	return audited;
}

static long long
rows(const char *ip)
{
	const char *p[1] = { ip };

	return pgt_countp(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'notification_rejected' AND client_ip = $1", 1, p);
}

static long long
hits(const char *ip)
{
	const char *p[1] = { ip };

	return pgt_countp(db, "SELECT coalesce(sum(hits), 0) FROM audit_samples WHERE "
	    "source = $1", 1, p);
}

START_TEST(bounded_per_source_and_minute)
{
	long long nth = 0;

	/* stay inside one minute: start at its beginning by the gym clock */
	gym_clock_set_offset(60 - (gym_now() % 60));
	ck_assert_int_eq(refuse("198.51.100.7", 50, &nth), LIMIT);
	ck_assert_int_eq(nth, 50);
	ck_assert_int_eq(rows("198.51.100.7"), LIMIT);
	ck_assert_int_eq(hits("198.51.100.7"), 50);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM audit_samples"), 1);
	/* another source has its own bound */
	ck_assert_int_eq(refuse("203.0.113.9", 5, &nth), LIMIT);
	ck_assert_int_eq(rows("203.0.113.9"), LIMIT);
	/* the next minute samples again */
	gym_clock_set_offset(60 - (gym_now() % 60) + 61);
	ck_assert_int_eq(refuse("198.51.100.7", 5, &nth), LIMIT);
	ck_assert_int_eq(nth, 5);
	ck_assert_int_eq(rows("198.51.100.7"), 2 * LIMIT);
	ck_assert_int_eq(hits("198.51.100.7"), 55);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM audit_samples"), 3);
}
END_TEST

START_TEST(old_counts_dropped)
{
	long long nth = 0;

	ck_assert_int_eq(refuse("198.51.100.7", 2, &nth), 2);
	ck_assert_int_eq(refuse("203.0.113.9", 1, &nth), 1);
	/* an hour and more later, a new minute's row drops the old ones */
	gym_clock_set_offset(3700);
	ck_assert_int_eq(refuse("192.0.2.1", 1, &nth), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM audit_samples"), 1);
	ck_assert_int_eq(hits("192.0.2.1"), 1);
	/* the audit rows themselves stay */
	ck_assert_int_eq(rows("198.51.100.7"), 2);
}
END_TEST

START_TEST(limit_zero)
{
	long long nth = 0;

	/* audit_refusals_per_minute = 0: counted, never audited */
	struct gym_actor a = { "wechat", 0, "198.51.100.7", "curl", "rid-0", NULL };
	struct gym_audit au = { "notification", "notification_rejected", NULL, 0, 0, NULL, NULL,
		NULL };
	int rec = 1;

	ck_assert_int_eq(gym_audit_sampled(db, &a, &au, 0, &nth, &rec), GYM_OK);
	ck_assert_int_eq(rec, 0);
	ck_assert_int_eq(nth, 1);
	ck_assert_int_eq(rows("198.51.100.7"), 0);
}
END_TEST

Suite *
audit_sample_suite(void)
{
	Suite *s = suite_create("audit_sample");
	TCase *tc = tcase_create("refusals");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bounded_per_source_and_minute);
	tcase_add_test(tc, old_counts_dropped);
	tcase_add_test(tc, limit_zero);
	suite_add_tcase(s, tc);
	return s;
}

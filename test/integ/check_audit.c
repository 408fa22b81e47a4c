/*
 * check_audit.c: payment_audit_log against a real database.  A whole order
 * life (create, cancel; create, hold lapse re-claimed by prepare_pay,
 * expiry by the sweep) leaves exactly one row per transition with the
 * right old and new status, actor and time, and no row carries the
 * openid anywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "integ.h"
#include "pgtest.h"

#define OPENID "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

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

#define MAXROWS 16

struct audit_rows {
	int n;
	char row[MAXROWS][256];
	int64_t at[MAXROWS];
};

/* The order and hold rows, oldest first, each as
 * entity|action|order_id|reservation_id|old|new|actor_type|actor_id. */
static void
read_rows(struct audit_rows *a)
{
	PGresult *r = NULL;
	enum gym_err e;

	e = gym_db_query(db, "SELECT concat_ws('|', entity, action_type, "
	    "coalesce(order_id, '-'), coalesce(reservation_id::text, '-'), "
	    "coalesce(old_status, '-'), coalesce(new_status, '-'), actor_type, "
	    "coalesce(actor_id, '-')), (extract(epoch FROM created_at) * 1000000)::bigint "
	    "FROM payment_audit_log WHERE entity IN ('order', 'hold') ORDER BY id", 0, NULL, &r);
	ck_assert_int_eq(e, GYM_OK);
	a->n = PQntuples(r);
	ck_assert_int_le(a->n, MAXROWS);
	for (int i = 0; i < a->n; i++) {
		snprintf(a->row[i], sizeof(a->row[i]), "%s", PQgetvalue(r, i, 0));
		a->at[i] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	}
	PQclear(r);
}

/* Print the rows when they are not the wanted ones (in any order), so a
 * failure shows the whole trail. */
static void
dump_unless(const struct audit_rows *rows, char want[][256], int nwant)
{
	int same = rows->n == nwant;

	for (int i = 0; same && i < nwant; i++) {
		same = 0;
		for (int j = 0; j < rows->n; j++)
			if (strcmp(rows->row[j], want[i]) == 0)
				same = 1;
	}
	if (same)
		return;
	for (int i = 0; i < rows->n; i++)
		fprintf(stderr, "audit row:  %s\n", rows->row[i]);
	for (int i = 0; i < nwant; i++)
		fprintf(stderr, "audit want: %s\n", want[i]);
}

START_TEST(test_order_life)
{
	struct gym_order o1, o2, o;
	struct gym_actor a;
	struct audit_rows rows;
	char want[MAXROWS][256], uid[24];
	const char *p[1] = { OPENID };
	long long s, u;
	int created, n, nwant = 0;
	int64_t t0;

	t0 = gym_now_us();
	s = pgt_schedule(db, 2);
	u = pgt_user(db, OPENID);
	snprintf(uid, sizeof(uid), "%lld", u);
	a = pgt_actor_user(u);

	/* create, cancel */
	ck_assert_int_eq(gym_order_create(db, &a, u, s, 0, NULL, NULL, &o1, &created), GYM_OK);
	ck_assert_int_eq(gym_order_cancel(db, &a, u, o1.order_id, &o), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o.status), "cancelled");
	/* create, let the hold lapse, re-claim it */
	ck_assert_int_eq(gym_order_create(db, &a, u, s, 0, NULL, NULL, &o2, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
	gym_clock_set_offset(16 * 60);
	ck_assert_int_eq(gym_order_prepare_pay(db, &a, u, o2.order_id, &o), GYM_OK);
	ck_assert_int_ne(o.res.id, o2.res.id);
	/* the order lapses; the sweep expires it and its hold */
	gym_clock_set_offset(GYM_ORDER_SECONDS + 60);
	ck_assert_int_eq(gym_sweep_orders(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(gym_sweep_holds(db, 100, &n), GYM_OK);
	ck_assert_int_eq(n, 0);

#define WANT(...) snprintf(want[nwant++], sizeof(want[0]), __VA_ARGS__)
	WANT("hold|hold_created|-|%lld|-|temporary|user|%s", o1.res.id, uid);
	WANT("order|order_created|%s|%lld|-|pending|user|%s", o1.order_id, o1.res.id, uid);
	WANT("order|order_cancelled|%s|%lld|pending|cancelled|user|%s", o1.order_id,
	    o1.res.id, uid);
	WANT("hold|hold_released|%s|%lld|temporary|cancelled|user|%s", o1.order_id,
	    o1.res.id, uid);
	WANT("hold|hold_created|-|%lld|-|temporary|user|%s", o2.res.id, uid);
	WANT("order|order_created|%s|%lld|-|pending|user|%s", o2.order_id, o2.res.id, uid);
	WANT("hold|hold_expired|%s|%lld|temporary|expired|user|%s", o2.order_id, o2.res.id,
	    uid);
	WANT("hold|hold_created|-|%lld|-|temporary|user|%s", o.res.id, uid);
	/* one sweep statement writes these two, in no set order */
	WANT("order|order_expired|%s|%lld|pending|expired|system|-", o2.order_id, o.res.id);
	WANT("hold|hold_expired|-|%lld|temporary|expired|system|-", o.res.id);
#undef WANT

	read_rows(&rows);
	dump_unless(&rows, want, nwant);
	ck_assert_int_eq(rows.n, nwant);
	for (int i = 0; i < nwant - 2; i++)
		ck_assert_str_eq(rows.row[i], want[i]);
	ck_assert_msg((strcmp(rows.row[8], want[8]) == 0 && strcmp(rows.row[9], want[9]) == 0) ||
	    (strcmp(rows.row[8], want[9]) == 0 && strcmp(rows.row[9], want[8]) == 0),
	    "sweep rows: %s / %s", rows.row[8], rows.row[9]);

	/* times come from the gym clock */
	for (int i = 0; i < 6; i++) {
		ck_assert_int_ge(rows.at[i], t0);
		ck_assert_int_lt(rows.at[i], t0 + (int64_t)60 * 1000000);
	}
	for (int i = 6; i < 8; i++)
		ck_assert_int_ge(rows.at[i], t0 + (int64_t)16 * 60 * 1000000);
	for (int i = 8; i < 10; i++)
		ck_assert_int_ge(rows.at[i], t0 + (int64_t)(GYM_ORDER_SECONDS + 60) * 1000000);

	/* every row has a snapshot, and none holds the openid */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE entity IN ('order', 'hold') AND response_snapshot IS NULL"), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE entity IN ('order', 'hold') AND request_snapshot IS NOT NULL"), 8);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log "
	    "WHERE request_snapshot::text LIKE '%' || $1 || '%' "
	    "OR response_snapshot::text LIKE '%' || $1 || '%'", 1, p), 0);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log l "
	    "WHERE l::text LIKE '%' || $1 || '%'", 1, p), 0);
	/* ... while the openid is where it belongs */
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM users WHERE openid = $1", 1, p), 1);
}
END_TEST

START_TEST(test_failed_order_rows)
{
	struct gym_reservation r;
	struct gym_order o1, o;
	struct gym_actor a;
	long long s, u1, u2;
	int created;

	s = pgt_schedule(db, 1);
	u1 = pgt_user(db, "o-audit-fail-1");
	u2 = pgt_user(db, "o-audit-fail-2");
	a = pgt_actor_user(u1);
	ck_assert_int_eq(gym_order_create(db, &a, u1, s, 0, NULL, NULL, &o1, &created), GYM_OK);
	gym_clock_set_offset(16 * 60);
	a = pgt_actor_user(u2);
	ck_assert_int_eq(gym_hold_create(db, &a, u2, s, &r, &created), GYM_OK);
	a = pgt_actor_user(u1);
	ck_assert_int_eq(gym_order_prepare_pay(db, &a, u1, o1.order_id, &o), GYM_E_SOLD_OUT);
	/* a failed order: one order row pending -> failed, one hold row for the lapse */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'order' AND old_status = 'pending'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'order' AND old_status = 'pending' AND new_status = 'failed'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'hold' AND action_type = 'hold_expired' AND old_status = 'temporary' "
	    "AND new_status = 'expired'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'hold' AND action_type = 'hold_created'"), 2);
	/* no row without its transition */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity IN ('order', 'hold') AND new_status IS NULL"), 0);
}
END_TEST

START_TEST(test_paid_order_rows)
{
	struct gym_order o, o2;
	struct gym_actor a;
	struct audit_rows rows;
	char want[MAXROWS][256], uid[24], outcome[32];
	const char *p[1] = { OPENID };
	long long s, u;
	int created, nwant = 0;

	s = pgt_schedule(db, 2);
	u = pgt_user(db, OPENID);
	snprintf(uid, sizeof(uid), "%lld", u);
	a = pgt_actor_user(u);
	ck_assert_int_eq(gym_order_create(db, &a, u, s, 0, NULL, NULL, &o, &created), GYM_OK);
	ck_assert_int_eq(pgt_pay(db, o.order_id, "4200000001202611220000000001", outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "paid");
	/* the same notification again changes nothing and writes no transition */
	ck_assert_int_eq(pgt_pay(db, o.order_id, "4200000001202611220000000001", outcome,
	    sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	ck_assert_int_eq(gym_order_get(db, u, o.order_id, &o2), GYM_OK);
	ck_assert_str_eq(gym_order_status_name(o2.status), "paid");
	ck_assert_int_gt(o2.booking_id, 0);
	ck_assert_int_eq(pgt_available(db, s), 1);

#define WANT(...) snprintf(want[nwant++], sizeof(want[0]), __VA_ARGS__)
	WANT("hold|hold_created|-|%lld|-|temporary|user|%s", o.res.id, uid);
	WANT("order|order_created|%s|%lld|-|pending|user|%s", o.order_id, o.res.id, uid);
	WANT("hold|hold_confirmed|%s|%lld|temporary|confirmed|wechat|-", o.order_id, o.res.id);
	WANT("order|order_paid|%s|%lld|pending|paid|wechat|-", o.order_id, o.res.id);
#undef WANT
	read_rows(&rows);
	dump_unless(&rows, want, nwant);
	ck_assert_int_eq(rows.n, nwant);
	for (int i = 0; i < nwant; i++)
		ck_assert_str_eq(rows.row[i], want[i]);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'booking' AND action_type = 'booking_confirmed' AND "
	    "new_status = 'confirmed'"), 1);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'payment' AND old_status = 'pending' AND new_status = 'paid'"), 1);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log l "
	    "WHERE l::text LIKE '%' || $1 || '%'", 1, p), 0);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_transactions t "
	    "WHERE t::text LIKE '%' || $1 || '%'", 1, p), 0);
}
END_TEST

Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_order_life);
	tcase_add_test(tc, test_failed_order_rows);
	tcase_add_test(tc, test_paid_order_rows);
	suite_add_tcase(s, tc);
	return s;
}

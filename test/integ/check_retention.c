/*
 * check_retention.c: the archival of rows past their retention (orders 7
 * years, transactions 5, audit log 2) against a real database.  What is
 * past it is written to the directory as JSON lines, then gone from the
 * tables (an order with its booking, transactions, attempts); what is not
 * stays; an order not yet at an end stays whatever its age; a dry run
 * only counts; a directory that cannot be written removes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "integ.h"
#include "pgtest.h"
#include "retention.h"

static struct gym_db *db;
static char dir[] = "/tmp/gym-retention-XXXXXX";

static void
setup(void)
{
	db = pgt_open();
	strcpy(dir, "/tmp/gym-retention-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	pgt_close(&db);
}

/* A paid order (WeChat's SUCCESS applied): its order_id into oid[40]. */
static void
paid_order(long long sid, const char *openid, char *oid)
{
	struct gym_reservation r;
	struct gym_order o;
	struct gym_actor a;
	long long uid = pgt_user(db, openid);
	char txn[48], outcome[32];
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, r.id, NULL, NULL, &o, &created), GYM_OK);
	snprintf(txn, sizeof(txn), "4200%s", o.order_id);
	ck_assert_int_eq(pgt_pay(db, o.order_id, txn, outcome, sizeof(outcome)), GYM_OK);
	snprintf(oid, 40, "%s", o.order_id);
}

/* Make order oid (and its transactions, or only them) years old. */
static void
age(const char *oid, const char *interval, int order_too)
{
	const char *p[2] = { oid, interval };

	pgt_execp(db, "UPDATE payment_transactions SET created_at = created_at - $2::interval "
	    "WHERE order_id = $1", 2, p);
	if (order_too)
		pgt_execp(db, "UPDATE payment_orders SET created_at = created_at - $2::interval "
		    "WHERE order_id = $1", 2, p);
}

static long long
count1(const char *sql, const char *arg)
{
	const char *p[1] = { arg };

	return pgt_countp(db, sql, 1, p);
}

/* The lines of the files in dir whose names start with prefix and that
 * contain needle. */
static int
lines_with(const char *prefix, const char *needle)
{
	char cmd[512], out[32];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "cat '%s'/%s-*.jsonl 2>/dev/null | grep -c -F '%s'", dir, prefix,
	    needle);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, sizeof(out), f) != NULL)
		n = atoi(out);
	pclose(f);
	return n;
}

START_TEST(test_archive_past_retention)
{
	struct gym_retention_counts c;
	char old[40], mid[40], young[40], pending[40];
	long long sid = pgt_schedule(db, 10), audit_before;
	struct gym_reservation r;
	struct gym_order o;
	struct gym_actor a;
	long long uid;
	int created;
	char path[512];

	paid_order(sid, "ret-old", old);
	paid_order(sid, "ret-mid", mid);
	paid_order(sid, "ret-young", young);
	uid = pgt_user(db, "ret-pending");
	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_hold_create(db, &a, uid, sid, &r, &created), GYM_OK);
	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, r.id, NULL, NULL, &o, &created), GYM_OK);
	snprintf(pending, sizeof(pending), "%s", o.order_id);
	age(old, "8 years", 1);		/* order and transaction past theirs */
	age(mid, "6 years", 1);		/* the transaction past its 5, the order not its 7 */
	age(pending, "8 years", 1);	/* old, but not at an end */
	/* the old order's audit rows are 3 years old: past the audit log's 2 */
	pgt_execp(db, "UPDATE payment_audit_log SET created_at = created_at - interval '3 years' "
	    "WHERE order_id = $1", 1, (const char *const[]){ old });
	audit_before = count1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1", old);
	ck_assert_int_gt(audit_before, 0);

	/* a dry run counts and changes nothing */
	ck_assert_int_eq(gym_retention_run(db, NULL, 1, &c), GYM_OK);
	ck_assert_int_eq(c.orders, 1);
	ck_assert_int_eq(c.transactions, 2);
	ck_assert_int_eq(c.audit, audit_before);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1", old), 1);

	ck_assert_int_eq(gym_retention_run(db, dir, 0, &c), GYM_OK);
	ck_assert_int_eq(c.orders, 1);
	ck_assert_int_eq(c.transactions, 1);	/* the old one went with its order */
	ck_assert_int_eq(c.audit, audit_before);
	ck_assert_int_eq(c.files, 3);
	/* gone from the tables */
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1", old), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM bookings WHERE order_id = $1", old), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_transactions WHERE order_id = $1", old),
	    0);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_attempts WHERE order_id = $1", old), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_transactions WHERE order_id = $1", mid),
	    0);
	/* kept: the 6-year-old order (without its transaction), the young one, the unfinished one */
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1", mid), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1", young), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_transactions WHERE order_id = $1",
	    young), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1", pending),
	    1);
	/* and in the files: the order with its transaction and booking, the other
	 * transaction, the audit rows */
	ck_assert_int_eq(lines_with("orders", old), 1);
	ck_assert_int_eq(lines_with("orders", "\"bookings\" : [{"), 1);
	ck_assert_int_eq(lines_with("orders", "4200"), 1);
	ck_assert_int_eq(lines_with("transactions", mid), 1);
	ck_assert_int_eq(lines_with("audit", old), audit_before);
	ck_assert_int_eq(lines_with("orders", young), 0);
	/* files only the gym's user reads; no .partial left */
	snprintf(path, sizeof(path), "ls '%s' | grep -q partial", dir);
	ck_assert_int_ne(system(path), 0);
	snprintf(path, sizeof(path), "test -z \"$(find '%s' -name '*.jsonl' ! -perm 600)\"", dir);
	ck_assert_int_eq(system(path), 0);
	/* one audit row per file */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE action_type IN "
	    "('orders_archived', 'transactions_archived', 'audit_archived') "
	    "AND response_snapshot ? 'file'"), 3);
	/* a second run finds nothing more */
	ck_assert_int_eq(gym_retention_run(db, dir, 0, &c), GYM_OK);
	ck_assert_int_eq(c.orders + c.transactions + c.audit, 0);
}
END_TEST

START_TEST(test_unwritable_dir_removes_nothing)
{
	struct gym_retention_counts c;
	char old[40];
	long long sid = pgt_schedule(db, 2);

	paid_order(sid, "ret-nodir", old);
	age(old, "8 years", 1);
	ck_assert_int_eq(gym_retention_run(db, "/nonexistent/dir", 0, &c), GYM_EINVAL);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_orders WHERE order_id = $1", old), 1);
}
END_TEST

Suite *
retention_suite(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("retention");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_archive_past_retention);
	tcase_add_test(tc, test_unwritable_dir_removes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * check_idem.c: Idempotency-Key leases (lib/idem.c; issue 13, finding 1)
 * against a real database, with the gym clock moved instead of sleeping.
 *
 * A run that dies leaves its key with no answer.  Before the lease, every
 * retry with that key waited 5 s and got 409 for 24 hours.  Now: a retry
 * inside the lease gets GYM_ECONFLICT at once; after it, the retry takes
 * the key over and runs; the dead run, should it come back, cannot store
 * its answer over the new one; a finished key replays; another request
 * with the key is GYM_E_IDEMPOTENCY_KEY_REUSED even after the lease.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "idem.h"
#include "integ.h"
#include "pgtest.h"

#define LEASE 30

static struct gym_db *db;
static const struct gym_idem key = { "user:1", "K-1", "/payment/wxpay/create", "hash-a" };
static const struct gym_idem other = { "user:1", "K-1", "/payment/wxpay/create", "hash-b" };

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

/* gym_idem_begin on key k; its state (or -1) and error. */
static enum gym_err
begin(const struct gym_idem *k, enum gym_idem_state *st, int *status, char **body,
    struct gym_idem_lock *lock)
{
	*st = (enum gym_idem_state)-1;
	*status = 0;
	return gym_idem_begin(db, k, LEASE, st, status, body, lock);
}

START_TEST(lease_taken_over)
{
	struct gym_idem_lock dead, second, third;
	enum gym_idem_state st;
	char *body = NULL;
	int status, kept;
	int64_t t0;

	/* the first run claims the key, then dies without an answer */
	ck_assert_int_eq(begin(&key, &st, &status, &body, &dead), GYM_OK);
	ck_assert_int_eq(st, GYM_IDEM_NEW);
	/* inside the lease: 409 at once, no waiting */
	gym_clock_set_offset(LEASE - 1);
	t0 = gym_now_us();
	ck_assert_int_eq(begin(&key, &st, &status, &body, &second), GYM_ECONFLICT);
	ck_assert_msg(gym_now_us() - t0 < 1000000, "the retry waited %lld us",
	    (long long)(gym_now_us() - t0));
	ck_assert_ptr_null(body);
	/* another request with the key is still told so */
	ck_assert_int_eq(begin(&other, &st, &status, &body, &second),
	    GYM_E_IDEMPOTENCY_KEY_REUSED);
	/* after the lease: the retry takes the key over and runs */
	gym_clock_set_offset(LEASE + 1);
	ck_assert_int_eq(begin(&key, &st, &status, &body, &second), GYM_OK);
	ck_assert_int_eq(st, GYM_IDEM_NEW);
	ck_assert_str_ne(second.at, dead.at);
	/* a third one, inside the new run's lease: 409 */
	ck_assert_int_eq(begin(&key, &st, &status, &body, &third), GYM_ECONFLICT);
	/* the dead run comes back: its answer is not stored */
	ck_assert_int_eq(gym_idem_finish(db, &key, &dead, 201, "{\"run\":1}", &kept), GYM_OK);
	ck_assert_int_eq(kept, 0);
	ck_assert_int_eq(gym_idem_finish(db, &key, &dead, 503, "{}", &kept), GYM_OK);
	ck_assert_int_eq(kept, 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM idempotency_keys WHERE "
	    "status_code IS NULL AND locked_at IS NOT NULL"), 1);
	/* the run that holds it stores its answer; every retry replays it */
	ck_assert_int_eq(gym_idem_finish(db, &key, &second, 201, "{\"run\":2}", &kept), GYM_OK);
	ck_assert_int_eq(kept, 1);
	gym_clock_set_offset(10 * LEASE);
	ck_assert_int_eq(begin(&key, &st, &status, &body, &third), GYM_OK);
	ck_assert_int_eq(st, GYM_IDEM_REPLAY);
	ck_assert_int_eq(status, 201);
	ck_assert_str_eq(body, "{\"run\":2}");
	free(body);
	body = NULL;
	/* a finished key is never taken over inside its 24 hours */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM idempotency_keys WHERE "
	    "locked_at IS NULL AND status_code = 201"), 1);
	gym_clock_set_offset(GYM_IDEM_TTL - 60);
	ck_assert_int_eq(begin(&key, &st, &status, &body, &third), GYM_OK);
	ck_assert_int_eq(st, GYM_IDEM_REPLAY);
	free(body);
}
END_TEST

START_TEST(server_error_frees_key)
{
	struct gym_idem_lock a, b;
	enum gym_idem_state st;
	char *body = NULL;
	int status, kept;

	/* a 5xx drops the placeholder: the retry runs at once, in the lease */
	ck_assert_int_eq(begin(&key, &st, &status, &body, &a), GYM_OK);
	ck_assert_int_eq(gym_idem_finish(db, &key, &a, 503, "{}", &kept), GYM_OK);
	ck_assert_int_eq(kept, 1);
	ck_assert_int_eq(begin(&key, &st, &status, &body, &b), GYM_OK);
	ck_assert_int_eq(st, GYM_IDEM_NEW);
	/* ...and a late store of the dropped run writes nothing */
	ck_assert_int_eq(gym_idem_finish(db, &key, &a, 201, "{}", &kept), GYM_OK);
	ck_assert_int_eq(kept, 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM idempotency_keys WHERE "
	    "status_code IS NULL"), 1);
}
END_TEST

START_TEST(legacy_stuck_key)
{
	/* a key stuck before migration 0009 (created_at, no locked_at, no
	 * answer) got its lease from created_at: taken over after it */
	struct gym_idem_lock l;
	enum gym_idem_state st;
	char *body = NULL, at[40];
	const char *p[1] = { at };
	int status;

	pgt_time(at, sizeof(at), -2 * LEASE);
	pgt_execp(db, "INSERT INTO idempotency_keys (scope, key, route, request_hash, created_at, "
	    "locked_at) VALUES ('user:1', 'K-1', '/payment/wxpay/create', 'hash-a', $1, $1)", 1, p);
	ck_assert_int_eq(begin(&key, &st, &status, &body, &l), GYM_OK);
	ck_assert_int_eq(st, GYM_IDEM_NEW);
}
END_TEST

Suite *
idem_suite(void)
{
	Suite *s = suite_create("idem");
	TCase *tc = tcase_create("lease");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lease_taken_over);
	tcase_add_test(tc, server_error_frees_key);
	tcase_add_test(tc, legacy_stuck_key);
	suite_add_tcase(s, tc);
	return s;
}

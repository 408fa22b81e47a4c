/*
 * check_registration.c: the registration details at rest (migration 0011,
 * lib/registration_store.c): sealed beside the order in the order's own
 * transaction, never in clear in any table, the audit row masked, opened
 * again for the order alone, found by the phone's search hash, and
 * re-sealed under a new key (gymctl pii rekey) while the old one opens.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "admin.h"
#include "integ.h"
#include "pgtest.h"
#include "registration.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"
#define HEX_I "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct gym_db *db;
static struct gym_pii_keys k1, k21, k2;
static const struct gym_registration reg = { "王小明", "2019-05-20", "13912345678", "怕高" };

static void
keys_of(const char *text, struct gym_pii_keys *k)
{
	char err[256];

	ck_assert_msg(gym_pii_keys_parse(text, k, err, sizeof(err)) == GYM_OK, "%s", err);
}

static void
setup(void)
{
	db = pgt_open();
	keys_of("index " HEX_I "\nk1 " HEX_A "\n", &k1);
	keys_of("index " HEX_I "\nk2 " HEX_B "\nk1 " HEX_A "\n", &k21);
	keys_of("index " HEX_I "\nk2 " HEX_B "\n", &k2);
}

static void
teardown(void)
{
	pgt_close(&db);
}

/* A new order of a new parent, its registration sealed under keys. */
static void
order_with(const char *openid, const struct gym_pii_keys *keys, struct gym_order *o)
{
	long long sid = pgt_schedule(db, 5), uid = pgt_user(db, openid);
	struct gym_actor a = pgt_actor_user(uid);
	int created = 0;

	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, 0, keys, &reg, o, &created), GYM_OK);
	ck_assert_int_eq(created, 1);
}

START_TEST(sealed_with_the_order)
{
	struct gym_registration got;
	struct gym_order o;
	const char *p[1];
	char index[65];
	int found = 0;

	order_with("reg-sealed", &k1, &o);
	p[0] = o.order_id;
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM order_registrations "
	    "WHERE order_id = $1 AND key_id = 'k1'", 1, p), 1);
	/* nowhere in clear: not in the record, not in any audit row */
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM order_registrations r "
	    "WHERE r::text LIKE '%13912345678%' OR r::text LIKE '%王小明%' "
	    "OR r::text LIKE '%2019-05-20%'"), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log a "
	    "WHERE a::text LIKE '%13912345678%' OR a::text LIKE '%小明%' "
	    "OR a::text LIKE '%05-20%' OR a::text LIKE '%怕高%'"), 0);
	/* the audit row of the registration holds the masked values */
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'registration_recorded' "
	    "AND response_snapshot->>'parent_phone' = '139****5678' "
	    "AND response_snapshot->>'child_name' = '王**' "
	    "AND response_snapshot->>'child_birth_date' = '2019-**-**'", 1, p), 1);
	/* the search hash is the index key's HMAC of the phone */
	gym_pii_index(&k1, reg.parent_phone, index);
	{
		const char *q[2] = { o.order_id, index };

		ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM order_registrations "
		    "WHERE order_id = $1 AND phone_index = $2", 2, q), 1);
	}
	ck_assert_int_eq(gym_registration_get(db, &k1, o.order_id, &got, &found), GYM_OK);
	ck_assert_int_eq(found, 1);
	ck_assert_str_eq(got.child_name, reg.child_name);
	ck_assert_str_eq(got.child_birth_date, reg.child_birth_date);
	ck_assert_str_eq(got.parent_phone, reg.parent_phone);
	ck_assert_str_eq(got.note, reg.note);
}
END_TEST

/* A record moved to another order does not open; an order without one is
 * not found; a record under a key that is not loaded is an error. */
START_TEST(bound_to_its_order)
{
	struct gym_registration got;
	struct gym_order o1, o2, o3;
	long long sid = pgt_schedule(db, 5), uid = pgt_user(db, "reg-bare");
	struct gym_actor a = pgt_actor_user(uid);
	int found = 1, created;

	order_with("reg-one", &k1, &o1);
	order_with("reg-two", &k1, &o2);
	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, 0, NULL, NULL, &o3, &created), GYM_OK);
	ck_assert_int_eq(gym_registration_get(db, &k1, o3.order_id, &got, &found), GYM_OK);
	ck_assert_int_eq(found, 0);
	{
		const char *p[2] = { o1.order_id, o2.order_id };

		pgt_execp(db, "UPDATE order_registrations SET (nonce, sealed) = (SELECT nonce, sealed "
		    "FROM order_registrations WHERE order_id = $1) WHERE order_id = $2", 2, p);
	}
	ck_assert_int_eq(gym_registration_get(db, &k1, o2.order_id, &got, &found), GYM_ECRYPTO);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(gym_registration_get(db, &k2, o1.order_id, &got, &found), GYM_ENOTFOUND);
	ck_assert_int_eq(found, 0);
}
END_TEST

/* Rotation: after k2 is put first, old records still open, new ones are
 * sealed under k2, a rekey re-seals the rest once, and then k1 can go. */
START_TEST(rekey)
{
	struct gym_registration got;
	struct gym_order o[3], o4;
	long long done = -1;
	int found;

	order_with("reg-rk-1", &k1, &o[0]);
	order_with("reg-rk-2", &k1, &o[1]);
	order_with("reg-rk-3", &k1, &o[2]);
	order_with("reg-rk-4", &k21, &o4);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM order_registrations WHERE key_id = 'k2'"),
	    1);
	ck_assert_int_eq(gym_registration_get(db, &k21, o[0].order_id, &got, &found), GYM_OK);
	ck_assert_int_eq(found, 1);
	/* k2 alone cannot open a k1 record: the rekey stops and says so */
	ck_assert_int_eq(gym_registration_rekey(db, &k2, 2, &done), GYM_ENOTFOUND);
	ck_assert_int_eq(gym_registration_rekey(db, &k21, 2, &done), GYM_OK);
	ck_assert_int_eq(done, 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM order_registrations WHERE key_id <> 'k2'"),
	    0);
	ck_assert_int_eq(gym_registration_rekey(db, &k21, 2, &done), GYM_OK);
	ck_assert_int_eq(done, 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(gym_registration_get(db, &k2, o[i].order_id, &got, &found), GYM_OK);
		ck_assert_int_eq(found, 1);
		ck_assert_str_eq(got.parent_phone, reg.parent_phone);
	}
}
END_TEST

/* Many at once (the operators' list) and the list filtered by phone. */
START_TEST(many_and_by_phone)
{
	struct gym_admin_order_filter f;
	struct gym_registration got[3];
	struct gym_order o1, o2, list[10];
	const char *ids[3];
	char index[65];
	long long next;
	int found[3], n = 0;

	order_with("reg-many-1", &k1, &o1);
	order_with("reg-many-2", &k1, &o2);
	ids[0] = o2.order_id;
	ids[1] = "NOSUCHORDER1";
	ids[2] = o1.order_id;
	ck_assert_int_eq(gym_registration_get_many(db, &k1, ids, 3, got, found), GYM_OK);
	ck_assert_int_eq(found[0], 1);
	ck_assert_int_eq(found[1], 0);
	ck_assert_int_eq(found[2], 1);
	ck_assert_str_eq(got[2].child_name, reg.child_name);
	ids[1] = "bad'id";
	ck_assert_int_eq(gym_registration_get_many(db, &k1, ids, 3, got, found), GYM_EINVAL);

	memset(&f, 0, sizeof(f));
	f.limit = 10;
	gym_pii_index(&k1, "13912345678", index);
	f.phone_index = index;
	ck_assert_int_eq(gym_admin_order_list(db, &f, list, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 2);
	gym_pii_index(&k1, "13912345679", index);
	ck_assert_int_eq(gym_admin_order_list(db, &f, list, &n, &next), GYM_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

Suite *
registration_suite(void)
{
	Suite *s = suite_create("registration");
	TCase *tc = tcase_create("sealed");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sealed_with_the_order);
	tcase_add_test(tc, bound_to_its_order);
	tcase_add_test(tc, rekey);
	tcase_add_test(tc, many_and_by_phone);
	suite_add_tcase(s, tc);
	return s;
}

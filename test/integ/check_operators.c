/*
 * check_operators.c: operators and their tokens against a real database.
 * Only the token's SHA-256 is stored (never the token, not even in the
 * audit log); the token authenticates with its role; a wrong, malformed or
 * revoked token does not; add and revoke leave one audit row each.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "crypto.h"
#include "integ.h"
#include "operators.h"
#include "pgtest.h"

static struct gym_db *db;

static void
setup(void)
{
	db = pgt_open();
}

static void
teardown(void)
{
	gym_db_free(db);
	db = NULL;
}

static long long
add(const char *name, int role, char token[GYM_OPERATOR_TOKEN_LEN + 1])
{
	long long id = 0;

	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, name, role, &id, token), GYM_OK);
	ck_assert_int_gt(id, 0);
	return id;
}

START_TEST(test_only_the_hash_is_stored)
{
	char token[GYM_OPERATOR_TOKEN_LEN + 1], hash[65], stored[80];
	const char *p[1] = { token };
	long long id = add("alice", GYM_ROLE_OPERATOR, token);
	char ids[24];
	const char *pi[1] = { ids };

	/* op_ and 40 alphanumerics */
	ck_assert_uint_eq(strlen(token), GYM_OPERATOR_TOKEN_LEN);
	ck_assert_int_eq(strncmp(token, "op_", 3), 0);
	ck_assert_uint_eq(strspn(token + 3, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz"), 40);
	snprintf(ids, sizeof(ids), "%lld", id);
	pgt_textp(db, "SELECT token_hash FROM operators WHERE id = $1::bigint", 1, pi, stored,
	    sizeof(stored));
	gym_sha256_hex(token, strlen(token), hash);
	ck_assert_str_eq(stored, hash);
	/* the token itself is nowhere: not in operators, not in the audit log */
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM operators o "
	    "WHERE o::text LIKE '%' || $1 || '%'", 1, p), 0);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_audit_log l "
	    "WHERE l::text LIKE '%' || substr($1, 4) || '%'", 1, p), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'operator' AND action_type = 'operator_added' AND new_status = 'active' "
	    "AND actor_type = 'system' AND response_snapshot->>'role' = 'operator' "
	    "AND response_snapshot->>'name' = 'alice'"), 1);
}
END_TEST

START_TEST(test_auth_and_roles)
{
	char op[GYM_OPERATOR_TOKEN_LEN + 1], au[GYM_OPERATOR_TOKEN_LEN + 1], wrong[80];
	long long op_id = add("op", GYM_ROLE_OPERATOR, op), au_id = add("au", GYM_ROLE_AUDITOR, au);
	long long id = 0;
	int role = 0;

	ck_assert_str_ne(op, au);
	ck_assert_int_eq(gym_operator_auth(db, op, &id, &role), GYM_OK);
	ck_assert_int_eq(id, op_id);
	ck_assert_int_eq(role, GYM_ROLE_OPERATOR);
	ck_assert_int_eq(gym_operator_auth(db, au, &id, &role), GYM_OK);
	ck_assert_int_eq(id, au_id);
	ck_assert_int_eq(role, GYM_ROLE_AUDITOR);

	/* the same shape, one character off */
	snprintf(wrong, sizeof(wrong), "%s", op);
	wrong[GYM_OPERATOR_TOKEN_LEN - 1] = wrong[GYM_OPERATOR_TOKEN_LEN - 1] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(gym_operator_auth(db, wrong, &id, &role), GYM_EUNAUTH);
	/* malformed: empty, short, long, no prefix, the hash itself */
	ck_assert_int_eq(gym_operator_auth(db, "", &id, &role), GYM_EUNAUTH);
	ck_assert_int_eq(gym_operator_auth(db, "op_abc", &id, &role), GYM_EUNAUTH);
	snprintf(wrong, sizeof(wrong), "%sx", op);
	ck_assert_int_eq(gym_operator_auth(db, wrong, &id, &role), GYM_EUNAUTH);
	snprintf(wrong, sizeof(wrong), "xx_%s", op + 3);
	ck_assert_int_eq(gym_operator_auth(db, wrong, &id, &role), GYM_EUNAUTH);
	gym_sha256_hex(op, strlen(op), wrong);
	ck_assert_int_eq(gym_operator_auth(db, wrong, &id, &role), GYM_EUNAUTH);
	ck_assert_int_eq(gym_operator_auth(db, NULL, &id, &role), GYM_EUNAUTH);
}
END_TEST

START_TEST(test_revoked_token_refused)
{
	char a[GYM_OPERATOR_TOKEN_LEN + 1], b[GYM_OPERATOR_TOKEN_LEN + 1];
	long long ida = add("a", GYM_ROLE_OPERATOR, a), idb = add("b", GYM_ROLE_AUDITOR, b);
	long long id = 0;
	int role = 0, changed = -1;

	ck_assert_int_eq(gym_operator_revoke(db, &pgt_actor_system, ida, &changed), GYM_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(gym_operator_auth(db, a, &id, &role), GYM_EUNAUTH);
	/* the other operator is untouched */
	ck_assert_int_eq(gym_operator_auth(db, b, &id, &role), GYM_OK);
	ck_assert_int_eq(id, idb);
	/* twice: nothing changes, no second audit row */
	ck_assert_int_eq(gym_operator_revoke(db, &pgt_actor_system, ida, &changed), GYM_OK);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "entity = 'operator' AND action_type = 'operator_revoked' AND old_status = 'active' "
	    "AND new_status = 'revoked'"), 1);
	ck_assert_int_eq(gym_operator_revoke(db, &pgt_actor_system, idb + 100, &changed),
	    GYM_ENOTFOUND);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM operators WHERE revoked_at IS NOT NULL"),
	    1);
}
END_TEST

START_TEST(test_list)
{
	char t[GYM_OPERATOR_TOKEN_LEN + 1];
	struct gym_operator o[4];
	long long a = add("张三", GYM_ROLE_OPERATOR, t), b = add("李四", GYM_ROLE_AUDITOR, t);
	int n = 0;

	ck_assert_int_eq(gym_operator_revoke(db, &pgt_actor_system, b, NULL), GYM_OK);
	ck_assert_int_eq(gym_operator_list(db, o, 4, &n), GYM_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(o[0].id, a);
	ck_assert_str_eq(o[0].name, "张三");
	ck_assert_int_eq(o[0].role, GYM_ROLE_OPERATOR);
	ck_assert_int_gt(o[0].created_at, 0);
	ck_assert_int_eq(o[0].revoked_at, 0);
	ck_assert_int_eq(o[1].id, b);
	ck_assert_int_eq(o[1].role, GYM_ROLE_AUDITOR);
	ck_assert_int_ge(o[1].revoked_at, o[1].created_at);
}
END_TEST

START_TEST(test_bad_input)
{
	char t[GYM_OPERATOR_TOKEN_LEN + 1], name[80];
	long long id = 0;

	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, "x", 0, &id, t), GYM_EINVAL);
	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, "x", 3, &id, t), GYM_EINVAL);
	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, "", GYM_ROLE_AUDITOR, &id, t),
	    GYM_EINVAL);
	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, "a\tb", GYM_ROLE_AUDITOR, &id,
	    t), GYM_EINVAL);
	memset(name, 'n', 65);
	name[65] = '\0';
	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, name, GYM_ROLE_AUDITOR, &id, t),
	    GYM_EINVAL);
	name[64] = '\0';
	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, name, GYM_ROLE_AUDITOR, &id, t),
	    GYM_OK);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM operators"), 1);
	ck_assert_int_eq(gym_operator_role_parse("operator"), GYM_ROLE_OPERATOR);
	ck_assert_int_eq(gym_operator_role_parse("auditor"), GYM_ROLE_AUDITOR);
	ck_assert_int_eq(gym_operator_role_parse("admin"), 0);
}
END_TEST

Suite *
operators_suite(void)
{
	Suite *s = suite_create("operators");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_only_the_hash_is_stored);
	tcase_add_test(tc, test_auth_and_roles);
	tcase_add_test(tc, test_revoked_token_refused);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * check_staff_auth.c: staff sign-in with a name and a password (issue 19)
 * against a real database: Argon2id stored, never the password; a session
 * is stored as its hash and authenticates until it is signed out, expires
 * or its operator is revoked; the CSRF token belongs to its session; five
 * failures lock the name out even for the right password, and a password
 * reset lifts it; sign-in, sign-out and lockout leave audit rows.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "crypto.h"
#include "integ.h"
#include "operators.h"
#include "password.h"
#include "pgtest.h"
#include "staff_auth.h"

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
add(const char *name, int role, const char *password)
{
	char token[GYM_OPERATOR_TOKEN_LEN + 1];
	long long id = 0;

	ck_assert_int_eq(gym_operator_add(db, &pgt_actor_system, name, role, &id, token), GYM_OK);
	if (password != NULL)
		ck_assert_int_eq(gym_operator_set_password(db, &pgt_actor_system, id, password),
		    GYM_OK);
	return id;
}

static long long
audit_rows(const char *action)
{
	const char *p[1] = { action };

	return pgt_countp(db, "SELECT count(*) FROM payment_audit_log WHERE entity = 'operator' "
	    "AND action_type = $1", 1, p);
}

START_TEST(test_password_is_argon2id_and_signs_in)
{
	struct gym_staff_session s, a;
	long long id = add("desk", GYM_ROLE_OPERATOR, "correct horse 1");
	const char *p[1] = { "correct horse 1" };
	char hash[65];
	const char *ph[1] = { hash };

	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM operators "
	    "WHERE password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%'"), 1);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM operators o "
	    "WHERE o::text LIKE '%' || $1 || '%'", 1, p), 0);
	ck_assert_int_eq(audit_rows("operator_password_set"), 1);

	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_OK);
	ck_assert_int_eq(s.operator_id, id);
	ck_assert_int_eq(s.role, GYM_ROLE_OPERATOR);
	ck_assert_str_eq(s.name, "desk");
	ck_assert_uint_eq(strlen(s.sid), GYM_STAFF_SID_LEN);
	ck_assert_uint_eq(strlen(s.csrf), GYM_STAFF_CSRF_LEN);
	ck_assert(gym_staff_csrf_ok(s.sid, s.csrf));
	/* about twelve hours */
	ck_assert_int_gt(s.expires_at, (int64_t)(gym_now() + GYM_STAFF_SESSION_TTL - 60) * 1000000);
	ck_assert_int_lt(s.expires_at, (int64_t)(gym_now() + GYM_STAFF_SESSION_TTL + 60) * 1000000);
	/* only the hash of the session id is stored */
	gym_sha256_hex(s.sid, strlen(s.sid), hash);
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM operator_sessions WHERE id_hash = $1",
	    1, ph), 1);
	ph[0] = s.sid;
	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM operator_sessions s "
	    "WHERE s::text LIKE '%' || $1 || '%'", 1, ph), 0);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'operator_signed_in' AND actor_type = 'operator' AND "
	    "response_snapshot->>'name' = 'desk'"), 1);

	ck_assert_int_eq(gym_staff_session_auth(db, s.sid, &a), GYM_OK);
	ck_assert_int_eq(a.operator_id, id);
	ck_assert_int_eq(a.role, GYM_ROLE_OPERATOR);
	ck_assert_str_eq(a.csrf, s.csrf);
}
END_TEST

START_TEST(test_wrong_unknown_and_tokenless)
{
	struct gym_staff_session s;

	add("desk", GYM_ROLE_AUDITOR, "correct horse 1");
	add("tokenonly", GYM_ROLE_OPERATOR, NULL);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 2", &s),
	    GYM_EUNAUTH);
	ck_assert_int_eq(s.operator_id, 0);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "nobody", "correct horse 1", &s),
	    GYM_EUNAUTH);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "tokenonly", "", &s),
	    GYM_EUNAUTH);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "", "x", &s), GYM_EUNAUTH);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM operator_signin_failures"), 3);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM operator_sessions"), 0);
	/* the auditor signs in as an auditor; a success forgets its failures */
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_OK);
	ck_assert_int_eq(s.role, GYM_ROLE_AUDITOR);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM operator_signin_failures "
	    "WHERE name = 'desk'"), 0);
	/* passwords password.h refuses are not set */
	ck_assert_int_eq(gym_operator_set_password(db, &pgt_actor_system, s.operator_id, "short"),
	    GYM_EINVAL);
	ck_assert_int_eq(gym_operator_set_password(db, &pgt_actor_system, 999999, "long enough 1"),
	    GYM_ENOTFOUND);
}
END_TEST

START_TEST(test_lockout_after_five_and_reset_lifts_it)
{
	struct gym_staff_session s;
	long long id = add("desk", GYM_ROLE_OPERATOR, "correct horse 1");

	for (int i = 0; i < GYM_STAFF_LOCK_FAILURES; i++)
		ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "guess guess",
		    &s), GYM_EUNAUTH);
	ck_assert_int_eq(audit_rows("operator_locked_out"), 1);
	/* locked: the right password does not open it, and is not counted */
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_E_TOO_MANY_REQUESTS);
	ck_assert_int_eq(pgt_count(db, "SELECT count(*) FROM operator_signin_failures"),
	    GYM_STAFF_LOCK_FAILURES);
	ck_assert_int_eq(audit_rows("operator_locked_out"), 1);
	/* another name is not locked */
	add("coach", GYM_ROLE_OPERATOR, "coach password");
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "coach", "coach password", &s),
	    GYM_OK);
	/* failures older than the window no longer count */
	pgt_exec(db, "UPDATE operator_signin_failures SET failed_at = failed_at - interval '16 min'");
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_OK);
	/* lock it again; a reset by the sysadmin lifts it */
	for (int i = 0; i < GYM_STAFF_LOCK_FAILURES; i++)
		ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "guess guess",
		    &s), GYM_EUNAUTH);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_E_TOO_MANY_REQUESTS);
	ck_assert_int_eq(gym_operator_set_password(db, &pgt_actor_system, id, "new horse 22"),
	    GYM_OK);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_EUNAUTH);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "new horse 22", &s),
	    GYM_OK);
}
END_TEST

START_TEST(test_session_ends)
{
	struct gym_staff_session s, s2, a;
	long long id = add("desk", GYM_ROLE_OPERATOR, "correct horse 1");

	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_OK);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s2),
	    GYM_OK);
	ck_assert_str_ne(s.sid, s2.sid);
	ck_assert_str_ne(s.csrf, s2.csrf);
	/* one session's CSRF token is not the other's */
	ck_assert(!gym_staff_csrf_ok(s.sid, s2.csrf));
	ck_assert(!gym_staff_csrf_ok(s.sid, NULL));
	ck_assert(!gym_staff_csrf_ok(s.sid, ""));
	/* signed out: refused; a second sign-out changes nothing */
	ck_assert_int_eq(gym_staff_signout(db, &pgt_actor_system, s.sid), GYM_OK);
	ck_assert_int_eq(gym_staff_session_auth(db, s.sid, &a), GYM_EUNAUTH);
	ck_assert_int_eq(gym_staff_signout(db, &pgt_actor_system, s.sid), GYM_OK);
	ck_assert_int_eq(audit_rows("operator_signed_out"), 1);
	ck_assert_int_eq(gym_staff_session_auth(db, s2.sid, &a), GYM_OK);
	/* expired: refused */
	pgt_exec(db, "UPDATE operator_sessions SET created_at = created_at - interval '13 hours', "
	    "expires_at = expires_at - interval '13 hours'");
	ck_assert_int_eq(gym_staff_session_auth(db, s2.sid, &a), GYM_EUNAUTH);
	/* revoked: refused even before it expires */
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_OK);
	ck_assert_int_eq(gym_operator_revoke(db, &pgt_actor_system, id, NULL), GYM_OK);
	ck_assert_int_eq(gym_staff_session_auth(db, s.sid, &a), GYM_EUNAUTH);
	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_EUNAUTH);
	/* malformed ids never reach the database */
	ck_assert_int_eq(gym_staff_session_auth(db, "short", &a), GYM_EUNAUTH);
	ck_assert_int_eq(gym_staff_session_auth(db, NULL, &a), GYM_EUNAUTH);
}
END_TEST

START_TEST(test_password_reset_ends_sessions)
{
	struct gym_staff_session s, a;
	long long id = add("desk", GYM_ROLE_OPERATOR, "correct horse 1");

	ck_assert_int_eq(gym_staff_signin(db, &pgt_actor_system, "desk", "correct horse 1", &s),
	    GYM_OK);
	ck_assert_int_eq(gym_operator_set_password(db, &pgt_actor_system, id, "another one 3"),
	    GYM_OK);
	ck_assert_int_eq(gym_staff_session_auth(db, s.sid, &a), GYM_EUNAUTH);
}
END_TEST

START_TEST(test_cookie_parse)
{
	char sid[GYM_STAFF_SID_LEN + 1], want[GYM_STAFF_SID_LEN + 1], c[256];

	ck_assert_int_eq(gym_random_alnum(want, GYM_STAFF_SID_LEN), GYM_OK);
	snprintf(c, sizeof(c), "theme=dark; " GYM_STAFF_COOKIE "=%s; other=1", want);
	ck_assert(gym_staff_cookie_sid(c, sid));
	ck_assert_str_eq(sid, want);
	snprintf(c, sizeof(c), GYM_STAFF_COOKIE "=%s", want);
	ck_assert(gym_staff_cookie_sid(c, sid));
	snprintf(c, sizeof(c), "x" GYM_STAFF_COOKIE "=%s", want);
	ck_assert(!gym_staff_cookie_sid(c, sid));
	snprintf(c, sizeof(c), GYM_STAFF_COOKIE "=%s!", want);
	ck_assert(!gym_staff_cookie_sid(c, sid));
	ck_assert(!gym_staff_cookie_sid(GYM_STAFF_COOKIE "=", sid));
	ck_assert(!gym_staff_cookie_sid(NULL, sid));
	ck_assert(!gym_password_verify(NULL, "anything at all"));
	ck_assert(!gym_password_verify("$argon2id$garbage", "anything at all"));
}
END_TEST

Suite *
staff_auth_suite(void)
{
	Suite *s = suite_create("staff_auth");
	TCase *tc = tcase_create("staff_auth");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_password_is_argon2id_and_signs_in);
	tcase_add_test(tc, test_wrong_unknown_and_tokenless);
	tcase_add_test(tc, test_lockout_after_five_and_reset_lifts_it);
	tcase_add_test(tc, test_session_ends);
	tcase_add_test(tc, test_password_reset_ends_sessions);
	tcase_add_test(tc, test_cookie_parse);
	suite_add_tcase(s, tc);
	return s;
}

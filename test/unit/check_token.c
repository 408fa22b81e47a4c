/*
 * check_token.c: unit tests of lib/token.c, the parents' bearer tokens
 * "v1.USERID.EXPIRY.MAC": a token verifies only with its own secret,
 * unchanged, before its expiry; every one-character change, another
 * user's id under a valid MAC, another secret and malformed shapes are
 * GYM_EUNAUTH.  (The MAC comparison is CRYPTO_memcmp through
 * gym_ct_equal: constant time is a property of the code, reviewed in
 * docs/security.md, not something a unit test can time.)
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "token.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1700000000

static const unsigned char secret[] = "unit-test-token-secret-0123456789abcdef";
static const unsigned char other[] = "unit-test-token-secret-0123456789abcdeF";
#define SLEN (sizeof(secret) - 1)

static void
issue(long long uid, long long exp, char tok[128])
{
	ck_assert_int_eq(gym_token_issue(secret, SLEN, uid, (time_t)exp, tok, 128), GYM_OK);
}

static enum gym_err
verify(const char *tok, long long *uid)
{
	return gym_token_verify(secret, SLEN, tok, NOW, uid);
}

START_TEST(test_round_trip)
{
	char tok[128];
	long long uid = 0;

	issue(42, NOW + 3600, tok);
	ck_assert_int_eq(strncmp(tok, "v1.42.1700003600.", 17), 0);
	ck_assert_uint_eq(strlen(tok), 17 + 43);
	ck_assert_int_eq(verify(tok, &uid), GYM_OK);
	ck_assert_int_eq(uid, 42);
}
END_TEST

START_TEST(test_expiry)
{
	char tok[128];
	long long uid = 0;

	issue(7, NOW, tok);		/* expires now: refused */
	ck_assert_int_eq(verify(tok, &uid), GYM_EUNAUTH);
	issue(7, NOW - 86400, tok);
	ck_assert_int_eq(verify(tok, &uid), GYM_EUNAUTH);
	issue(7, NOW + 1, tok);
	ck_assert_int_eq(verify(tok, &uid), GYM_OK);
}
END_TEST

/* every single character changed, at every position: refused */
START_TEST(test_every_byte)
{
	char tok[128], bad[128];
	long long uid = 0;
	size_t n;

	issue(1234, NOW + 60, tok);
	n = strlen(tok);
	for (size_t i = 0; i < n; i++) {
		static const char repl[] = { 'A', 'z', '0', '9', '.', '-', '_' };

		for (size_t r = 0; r < sizeof(repl); r++) {
			if (tok[i] == repl[r])
				continue;
			memcpy(bad, tok, n + 1);
			bad[i] = repl[r];
			uid = 0;
			ck_assert_msg(verify(bad, &uid) == GYM_EUNAUTH, "%s verified", bad);
			ck_assert_int_eq(uid, 0);
		}
	}
}
END_TEST

START_TEST(test_other_user_mac)
{
	char a[128], b[128], forged[160];
	long long uid = 0;

	/* user 5's MAC on user 6's id and expiry */
	issue(5, NOW + 60, a);
	issue(6, NOW + 60, b);
	snprintf(forged, sizeof(forged), "%.*s%s", (int)(strrchr(b, '.') - b), b, strrchr(a, '.'));
	ck_assert_int_eq(verify(forged, &uid), GYM_EUNAUTH);
	/* a later expiry under the old MAC */
	snprintf(forged, sizeof(forged), "v1.5.%lld%s", (long long)NOW + 999999, strrchr(a, '.'));
	ck_assert_int_eq(verify(forged, &uid), GYM_EUNAUTH);
	/* the same user id written another way */
	snprintf(forged, sizeof(forged), "v1.05.%lld%s", (long long)NOW + 60, strrchr(a, '.'));
	ck_assert_int_eq(verify(forged, &uid), GYM_EUNAUTH);
	snprintf(forged, sizeof(forged), "v1.+5.%lld%s", (long long)NOW + 60, strrchr(a, '.'));
	ck_assert_int_eq(verify(forged, &uid), GYM_EUNAUTH);
}
END_TEST

START_TEST(test_other_secret)
{
	char tok[128];
	long long uid = 0;

	issue(9, NOW + 60, tok);
	ck_assert_int_eq(gym_token_verify(other, sizeof(other) - 1, tok, NOW, &uid), GYM_EUNAUTH);
	ck_assert_int_eq(gym_token_verify(secret, SLEN - 1, tok, NOW, &uid), GYM_EUNAUTH);
}
END_TEST

static const char *const malformed[] = {
	"",
	"v1",
	"v1.",
	"v1.5",
	"v1.5.1700003600",
	"v1.5.1700003600.",
	"v2.5.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1.0.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1.-5.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1.5.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1.5.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1.5.1700003600x.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1. 5.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1.5.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	"v1.99999999999999999999999.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"Bearer v1.5.1700003600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"v1.5.1700003600.AAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"'; DROP TABLE users; --",
};

START_TEST(test_malformed)
{
	long long uid = 0;

	ck_assert_msg(verify(malformed[_i], &uid) == GYM_EUNAUTH, "\"%s\" verified", malformed[_i]);
	ck_assert_int_eq(uid, 0);
}
END_TEST

START_TEST(test_long_and_null)
{
	char big[4096];
	long long uid = 0;

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "v1.5.1700003600.", 16);
	ck_assert_int_eq(verify(big, &uid), GYM_EUNAUTH);
	ck_assert_int_eq(verify(NULL, &uid), GYM_EUNAUTH);
	/* issue refuses what could not be verified */
	ck_assert_int_eq(gym_token_issue(secret, SLEN, 0, NOW + 60, big, sizeof(big)), GYM_EINVAL);
	ck_assert_int_eq(gym_token_issue(secret, SLEN, -3, NOW + 60, big, sizeof(big)), GYM_EINVAL);
	ck_assert_int_eq(gym_token_issue(secret, SLEN, 3, NOW + 60, big, 64), GYM_EINVAL);
}
END_TEST

Suite *
token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("verify");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_every_byte);
	tcase_add_test(tc, test_other_user_mac);
	tcase_add_test(tc, test_other_secret);
	tcase_add_loop_test(tc, test_malformed, 0, NELEM(malformed));
	tcase_add_test(tc, test_long_and_null);
	suite_add_tcase(s, tc);
	return s;
}

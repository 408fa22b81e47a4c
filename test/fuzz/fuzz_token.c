/*
 * fuzz_token.c: parents' bearer tokens (lib/token.c gym_token_verify),
 * the value after "Bearer " in every authenticated request.
 *
 * First byte even: the rest is a token as a client sends it.  Property:
 * it verifies only if it is exactly the token gym_token_issue makes for
 * its user id and expiry (nothing else carries a valid MAC).
 * First byte odd: the next bytes give a user id, an expiry, a position and
 * a character; the harness issues that token, checks it verifies (when
 * not expired), then changes the one character and checks it no longer
 * does, wherever the change is (prefix, user id, expiry or MAC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "token.h"

#define NOW 1700000000

static const unsigned char secret[] = "fuzz-token-secret-0123456789abcdefghijklmnop";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static long long
take(const uint8_t **p, size_t *n, size_t k)
{
	unsigned long long v = 0;

	for (size_t i = 0; i < k && *n > 0; i++, (*p)++, (*n)--)
		v = v << 8 | **p;
	return (long long)v;
}

static void
raw(const uint8_t *data, size_t size)
{
	char *tok = fuzz_cstr(data, size), again[128];
	long long uid = 0, exp = 0;
	int used = 0;

	if (gym_token_verify(secret, sizeof(secret) - 1, tok, NOW, &uid) == GYM_OK) {
		if (sscanf(tok, "v1.%*lld.%lld%n", &exp, &used) != 1 ||
		    gym_token_issue(secret, sizeof(secret) - 1, uid, (time_t)exp, again,
		    sizeof(again)) != GYM_OK || strcmp(again, tok) != 0)
			fuzz_fail("token \"%s\" verified for user %lld", tok, uid);
	}
	free(tok);
}

static void
mutated(const uint8_t *data, size_t size)
{
	char tok[128];
	long long uid, exp, got = 0;
	size_t pos, len;
	char c;

	uid = take(&data, &size, 8);
	exp = take(&data, &size, 5);	/* up to ~35000 years: both sides of NOW */
	pos = (size_t)take(&data, &size, 2);
	c = (char)take(&data, &size, 1);
	if (gym_token_issue(secret, sizeof(secret) - 1, uid, (time_t)exp, tok, sizeof(tok)) != GYM_OK) {
		if (uid > 0)
			fuzz_fail("could not issue a token for user %lld", uid);
		return;
	}
	if ((gym_token_verify(secret, sizeof(secret) - 1, tok, NOW, &got) == GYM_OK) !=
	    (exp > NOW) || (exp > NOW && got != uid))
		fuzz_fail("fresh token %s (expiry %lld) verified wrongly", tok, exp);
	len = strlen(tok);
	pos %= len;
	if (tok[pos] == c || c == '\0')
		return;
	tok[pos] = c;
	if (gym_token_verify(secret, sizeof(secret) - 1, tok, NOW, &got) == GYM_OK)
		fuzz_fail("token with byte %zu changed still verifies: %s", pos, tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		raw(data + 1, size - 1);
	else
		mutated(data + 1, size - 1);
	return 0;
}

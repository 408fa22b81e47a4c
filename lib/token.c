/*
 * token.c: session token issue and verification (see token.h).  The MAC
 * is compared in constant time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "token.h"

static void
mac_b64url(const unsigned char *secret, size_t slen, const char *msg, char out[48])
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char m[33] = { 0 };
	size_t o = 0;

	gym_hmac_sha256(secret, slen, msg, strlen(msg), m);
	/* 33 bytes (32 + a zero pad byte) encode to exactly 44 characters */
	for (size_t i = 0; i < 33; i += 3) {
		unsigned v = (unsigned)m[i] << 16 | (unsigned)m[i + 1] << 8 | m[i + 2];

		out[o++] = al[(v >> 18) & 63];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = al[(v >> 6) & 63];
		out[o++] = al[v & 63];
	}
	out[43] = '\0';		/* the last character only encodes padding */
}

enum gym_err
gym_token_issue(const unsigned char *secret, size_t slen, long long user_id, time_t expires,
    char *out, size_t outsz)
{
	char msg[80], mac[48];

	if (user_id <= 0 || outsz < 128)
		return GYM_EINVAL;
	snprintf(msg, sizeof(msg), "v1.%lld.%lld", user_id, (long long)expires);
	mac_b64url(secret, slen, msg, mac);
	snprintf(out, outsz, "%s.%s", msg, mac);
	return GYM_OK;
}

enum gym_err
gym_token_verify(const unsigned char *secret, size_t slen, const char *token, time_t now,
    long long *user_id)
{
	char msg[80], mac[48];
	const char *dot;
	long long uid, exp;
	size_t n;
	int used = 0;

	if (token == NULL || (n = strlen(token)) > 120 || strncmp(token, "v1.", 3) != 0 ||
	    (dot = strrchr(token, '.')) == NULL || (size_t)(dot - token) >= sizeof(msg))
		return GYM_EUNAUTH;
	memcpy(msg, token, (size_t)(dot - token));
	msg[dot - token] = '\0';
	if (sscanf(msg, "v1.%lld.%lld%n", &uid, &exp, &used) != 2 || (size_t)used != strlen(msg) ||
	    uid <= 0)
		return GYM_EUNAUTH;
	mac_b64url(secret, slen, msg, mac);
	if (strlen(dot + 1) != 43 || !gym_ct_equal(mac, dot + 1, 43))
		return GYM_EUNAUTH;
	if (exp <= (long long)now)
		return GYM_EUNAUTH;
	*user_id = uid;
	return GYM_OK;
}

/*
 * token.h: parents' session tokens: "v1.USERID.EXPIRY.MAC" where MAC is
 * base64url(HMAC-SHA256(secret, "v1.USERID.EXPIRY")).  Stateless: any
 * worker on any host with the same secret verifies them.
 */
#ifndef GYM_TOKEN_H
#define GYM_TOKEN_H

#include <stddef.h>
#include <time.h>

#include "gym.h"

enum gym_err gym_token_issue(const unsigned char *secret, size_t slen, long long user_id,
    time_t expires, char *out, size_t outsz);
/* GYM_OK and *user_id, or GYM_EUNAUTH (malformed, forged or expired). */
enum gym_err gym_token_verify(const unsigned char *secret, size_t slen, const char *token,
    time_t now, long long *user_id);

#endif

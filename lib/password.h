/*
 * password.h: staff passwords as Argon2id (libargon2, the reference
 * implementation Debian ships) in its encoded form "$argon2id$v=19$m=...",
 * which carries the salt and the cost, so a later change of cost still
 * verifies the passwords set before it.
 */
#ifndef GYM_PASSWORD_H
#define GYM_PASSWORD_H

#include <stddef.h>

#include "gym.h"

#define GYM_PASSWORD_MIN	8	/* bytes */
#define GYM_PASSWORD_MAX	128
#define GYM_PASSWORD_ENCODED	128	/* room for the encoded hash */

/* 1 when pw is GYM_PASSWORD_MIN..MAX bytes without control characters. */
int gym_password_acceptable(const char *pw);
/* Hash pw with a fresh random salt into out: GYM_OK, GYM_EINVAL for a
 * password that is not acceptable, GYM_ECRYPTO when libargon2 fails. */
enum gym_err gym_password_hash(const char *pw, char out[GYM_PASSWORD_ENCODED]);
/* 1 when pw matches encoded, 0 otherwise (also for a malformed encoded).
 * With encoded NULL it spends the same time on a dummy hash and returns 0,
 * so an unknown name takes as long as a wrong password. */
int gym_password_verify(const char *encoded, const char *pw);

#endif

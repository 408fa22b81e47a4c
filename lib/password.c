/*
 * password.c: Argon2id through libargon2 (see password.h).  The cost is
 * OWASP's first Argon2id choice: 19 MiB, 2 passes, 1 lane (about 0.1 s on
 * one core here), so a worker stays responsive and a stolen table costs
 * an attacker the same memory per guess.
 */
#include <string.h>

#include <argon2.h>

#include "crypto.h"
#include "password.h"

#define T_COST	2
#define M_COST	19456	/* KiB */
#define LANES	1
#define SALT	22
#define HASHLEN	32

/* a hash of a random password nobody knows: verified against when there
 * is no operator, to spend the same time */
static const char dummy[] = "$argon2id$v=19$m=19456,t=2,p=1$"
    "ZHVtbXlzYWx0ZHVtbXlzYQ$kJ0RHxEjQGEcoXD6TjOYH6P7zuaZUl/bNVEUgepm2vE";

int
gym_password_acceptable(const char *pw)
{
	size_t n = pw ? strlen(pw) : 0;

	if (n < GYM_PASSWORD_MIN || n > GYM_PASSWORD_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
			return 0;
	return 1;
}

enum gym_err
gym_password_hash(const char *pw, char out[GYM_PASSWORD_ENCODED])
{
	char salt[SALT + 1];
	int rc;

	if (!gym_password_acceptable(pw))
		return GYM_EINVAL;
	/* 22 alphanumerics: 130 bits, above the 128 Argon2's authors ask of a salt */
	if (gym_random_alnum(salt, SALT) != GYM_OK)
		return GYM_ECRYPTO;
	rc = argon2id_hash_encoded(T_COST, M_COST, LANES, pw, strlen(pw), salt, SALT,
	    HASHLEN, out, GYM_PASSWORD_ENCODED);
	gym_wipe(salt, sizeof(salt));
	return rc == ARGON2_OK ? GYM_OK : GYM_ECRYPTO;
}

int
gym_password_verify(const char *encoded, const char *pw)
{
	int ok;

	if (pw == NULL || strlen(pw) > GYM_PASSWORD_MAX)
		pw = "";
	ok = argon2id_verify(encoded ? encoded : dummy, pw, strlen(pw)) == ARGON2_OK;
	return encoded != NULL && ok;
}

/*
 * operators.h: the gym's operators and their bearer tokens.  A token is
 * "op_" and 40 random alphanumerics, shown once when the operator is
 * added; only its lower-hex SHA-256 is stored.  Auditors read; operators
 * also change things.  A revoked operator's token is refused.
 */
#ifndef GYM_OPERATORS_H
#define GYM_OPERATORS_H

#include <stdint.h>

#include "booking.h"

#define GYM_ROLE_AUDITOR	1
#define GYM_ROLE_OPERATOR	2

#define GYM_OPERATOR_TOKEN_PREFIX	"op_"
#define GYM_OPERATOR_TOKEN_RANDOM	40
#define GYM_OPERATOR_TOKEN_LEN		(3 + GYM_OPERATOR_TOKEN_RANDOM)

struct gym_operator {
	long long id;
	char name[65];
	int role;			/* GYM_ROLE_* */
	int64_t created_at;
	int64_t revoked_at;		/* 0 while active */
};

/* "operator" or "auditor" for a GYM_ROLE_*; NULL for anything else. */
const char *gym_operator_role_name(int role);
/* GYM_ROLE_* for "operator" or "auditor"; 0 for anything else. */
int gym_operator_role_parse(const char *name);

/* The active operator holding token: GYM_OK with *id and *role, GYM_EUNAUTH
 * for a malformed, unknown or revoked token, GYM_EDB when the database
 * cannot answer.  One indexed lookup by the token's hash. */
enum gym_err gym_operator_auth(struct gym_db *, const char *token, long long *id, int *role);
/* Add an operator (name 1-64 printable bytes, role GYM_ROLE_*): token
 * receives the new token (shown once, never stored), *id the new id.
 * Writes an audit row (entity "operator", action "operator_added"). */
enum gym_err gym_operator_add(struct gym_db *, const struct gym_actor *, const char *name,
    int role, long long *id, char token[GYM_OPERATOR_TOKEN_LEN + 1]);
/* Operators by id, at most max of them (revoked ones too). */
enum gym_err gym_operator_list(struct gym_db *, struct gym_operator *out, int max, int *n);
/* Revoke an operator: GYM_ENOTFOUND when there is none; *changed is 0 when
 * it was revoked already (no audit row then), 1 otherwise (audit row
 * "operator_revoked"). */
enum gym_err gym_operator_revoke(struct gym_db *, const struct gym_actor *, long long id,
    int *changed);

/* The newest active operator called name: GYM_OK and *id, GYM_ENOTFOUND
 * when there is none. */
enum gym_err gym_operator_find_active(struct gym_db *, const char *name, long long *id);
/* One operator by id (revoked ones too): GYM_OK or GYM_ENOTFOUND. */
enum gym_err gym_operator_get(struct gym_db *, long long id, struct gym_operator *out);
/* Set or reset active operator id's sign-in password (staff_auth.h; stored
 * as Argon2id, password.h): ends the operator's sessions, forgets the
 * failed sign-ins of its name (so a reset also lifts a lockout), writes an
 * audit row "operator_password_set".  GYM_EINVAL for a password that
 * password.h does not accept, GYM_ENOTFOUND for no such active operator. */
enum gym_err gym_operator_set_password(struct gym_db *, const struct gym_actor *, long long id,
    const char *password);

#endif

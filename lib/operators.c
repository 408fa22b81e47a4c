/*
 * operators.c: operators and their tokens (see operators.h).  Owns the
 * operators table.  The token never reaches the database or a log: it is
 * hashed here and only the hash is stored and looked up.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "operators.h"
#include "password.h"

#define OPERATOR_COLS \
	"id, name, role, " \
	"(extract(epoch FROM created_at) * 1000000)::bigint AS created_us, " \
	"coalesce((extract(epoch FROM revoked_at) * 1000000)::bigint, 0) AS revoked_us "

static struct gym_stmt st_auth = { "operator_auth",
	"SELECT id, role FROM operators WHERE token_hash = $1 AND revoked_at IS NULL", 0 };
static struct gym_stmt st_insert = { "operator_insert",
	"INSERT INTO operators (name, role, token_hash, created_at) "
	"VALUES ($1, $2, $3, $4::timestamptz) RETURNING id", 0 };
static struct gym_stmt st_list = { "operator_list",
	"SELECT " OPERATOR_COLS "FROM operators ORDER BY id LIMIT $1::int", 0 };
static struct gym_stmt st_lock = { "operator_lock",
	"SELECT " OPERATOR_COLS "FROM operators WHERE id = $1::bigint FOR UPDATE", 0 };
static struct gym_stmt st_find_active = { "operator_find_active",
	"SELECT id FROM operators WHERE name = $1 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",
	0 };
static struct gym_stmt st_get = { "operator_get",
	"SELECT " OPERATOR_COLS "FROM operators WHERE id = $1::bigint", 0 };
static struct gym_stmt st_set_password = { "operator_set_password",
	"UPDATE operators SET password_hash = $2 WHERE id = $1::bigint AND revoked_at IS NULL "
	"RETURNING name, role", 0 };
static struct gym_stmt st_end_sessions = { "operator_end_sessions",
	"DELETE FROM operator_sessions WHERE operator_id = $1::bigint", 0 };
static struct gym_stmt st_forget_failures = { "operator_forget_failures",
	"DELETE FROM operator_signin_failures WHERE name = $1", 0 };
static struct gym_stmt st_revoke = { "operator_revoke",
	"UPDATE operators SET revoked_at = $2::timestamptz WHERE id = $1::bigint", 0 };

const char *
gym_operator_role_name(int role)
{
	switch (role) {
	case GYM_ROLE_AUDITOR:
		return "auditor";
	case GYM_ROLE_OPERATOR:
		return "operator";
	default:
		return NULL;
	}
}

int
gym_operator_role_parse(const char *name)
{
	if (name != NULL && strcmp(name, "auditor") == 0)
		return GYM_ROLE_AUDITOR;
	if (name != NULL && strcmp(name, "operator") == 0)
		return GYM_ROLE_OPERATOR;
	return 0;
}

/* 1 when token has the shape of an operator token. */
static int
token_shape(const char *token)
{
	size_t n = strlen(GYM_OPERATOR_TOKEN_PREFIX);
	static const char alnum[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	return strlen(token) == GYM_OPERATOR_TOKEN_LEN &&
	    strncmp(token, GYM_OPERATOR_TOKEN_PREFIX, n) == 0 &&
	    strspn(token + n, alnum) == GYM_OPERATOR_TOKEN_RANDOM;
}

enum gym_err
gym_operator_auth(struct gym_db *db, const char *token, long long *id, int *role)
{
	char hash[65];
	const char *p[1] = { hash };
	PGresult *r;
	enum gym_err e;

	if (token == NULL || !token_shape(token))
		return GYM_EUNAUTH;
	gym_sha256_hex(token, strlen(token), hash);
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_auth, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) != 1 ||
	    (*role = gym_operator_role_parse(gym_db_get(r, 0, "role"))) == 0)
		e = GYM_EUNAUTH;
	else
		*id = gym_db_get_ll(r, 0, "id");
	PQclear(r);
	return e;
}

static void
read_row(PGresult *r, int i, struct gym_operator *o)
{
	o->id = gym_db_get_ll(r, i, "id");
	snprintf(o->name, sizeof(o->name), "%s", gym_db_get(r, i, "name"));
	o->role = gym_operator_role_parse(gym_db_get(r, i, "role"));
	o->created_at = gym_db_get_ll(r, i, "created_us");
	o->revoked_at = gym_db_get_ll(r, i, "revoked_us");
}

/* The audit snapshot {"operator_id", "name", "role"}; NULL without memory. */
static char *
snapshot(long long id, const char *name, int role)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o != NULL && cJSON_AddNumberToObject(o, "operator_id", (double)id) != NULL &&
	    cJSON_AddStringToObject(o, "name", name) != NULL &&
	    cJSON_AddStringToObject(o, "role", gym_operator_role_name(role)) != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

struct add_arg {
	const struct gym_actor *actor;
	const char *name;
	int role;
	const char *hash;
	long long id;
};

static enum gym_err
add_tx(struct gym_db *db, void *v)
{
	struct add_arg *a = v;
	char now[40];
	const char *p[4] = { a->name, gym_operator_role_name(a->role), a->hash, now };
	struct gym_audit au = { "operator", "operator_added", NULL, 0, 0, NULL, "active", NULL };
	PGresult *r;
	enum gym_err e;
	char *snap;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_insert, 4, p, &r)) != GYM_OK)
		return e;
	a->id = gym_db_get_ll(r, 0, "id");
	PQclear(r);
	if ((snap = snapshot(a->id, a->name, a->role)) == NULL)
		return GYM_ENOMEM;
	au.response_snapshot = snap;
	e = gym_audit_write(db, a->actor, &au);
	cJSON_free(snap);
	return e;
}

/* 1 when name is 1-64 bytes with no control characters. */
static int
name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

enum gym_err
gym_operator_add(struct gym_db *db, const struct gym_actor *actor, const char *name,
    int role, long long *id, char token[GYM_OPERATOR_TOKEN_LEN + 1])
{
	char hash[65];
	struct add_arg a = { actor, name, role, hash, 0 };
	size_t pre = strlen(GYM_OPERATOR_TOKEN_PREFIX);
	enum gym_err e;

	if (!name_ok(name) || gym_operator_role_name(role) == NULL)
		return GYM_EINVAL;
	memcpy(token, GYM_OPERATOR_TOKEN_PREFIX, pre);
	if ((e = gym_random_alnum(token + pre, GYM_OPERATOR_TOKEN_RANDOM)) != GYM_OK)
		goto out;
	gym_sha256_hex(token, strlen(token), hash);
	if ((e = gym_db_tx(db, add_tx, &a)) == GYM_OK)
		*id = a.id;
out:
	if (e != GYM_OK)
		gym_wipe(token, GYM_OPERATOR_TOKEN_LEN + 1);
	return e;
}

enum gym_err
gym_operator_list(struct gym_db *db, struct gym_operator *out, int max, int *n)
{
	char lim[16];
	const char *p[1] = { lim };
	PGresult *r;
	enum gym_err e;

	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_list, 1, p, &r)) != GYM_OK)
		return e;
	*n = PQntuples(r);
	for (int i = 0; i < *n; i++)
		read_row(r, i, &out[i]);
	PQclear(r);
	return GYM_OK;
}

struct revoke_arg {
	const struct gym_actor *actor;
	long long id;
	int changed;
};

static enum gym_err
revoke_tx(struct gym_db *db, void *v)
{
	struct revoke_arg *a = v;
	char ids[24], now[40];
	const char *p[2] = { ids, now };
	struct gym_audit au = { "operator", "operator_revoked", NULL, 0, 0, "active", "revoked",
		NULL };
	struct gym_operator o;
	PGresult *r;
	enum gym_err e;
	char *snap;

	a->changed = 0;
	snprintf(ids, sizeof(ids), "%lld", a->id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	read_row(r, 0, &o);
	PQclear(r);
	if (o.revoked_at != 0)
		return GYM_OK;
	if ((e = gym_db_exec(db, &st_revoke, 2, p, NULL)) != GYM_OK)
		return e;
	if ((snap = snapshot(o.id, o.name, o.role)) == NULL)
		return GYM_ENOMEM;
	au.response_snapshot = snap;
	e = gym_audit_write(db, a->actor, &au);
	cJSON_free(snap);
	a->changed = e == GYM_OK;
	return e;
}

enum gym_err
gym_operator_revoke(struct gym_db *db, const struct gym_actor *actor, long long id,
    int *changed)
{
	struct revoke_arg a = { actor, id, 0 };
	enum gym_err e;

	if (id < 1)
		return GYM_ENOTFOUND;
	if ((e = gym_db_tx(db, revoke_tx, &a)) == GYM_OK && changed != NULL)
		*changed = a.changed;
	return e;
}

enum gym_err
gym_operator_find_active(struct gym_db *db, const char *name, long long *id)
{
	const char *p[1] = { name };
	PGresult *r;
	enum gym_err e;

	if (!name_ok(name))
		return GYM_ENOTFOUND;
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_find_active, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 1)
		*id = gym_db_get_ll(r, 0, "id");
	else
		e = GYM_ENOTFOUND;
	PQclear(r);
	return e;
}

enum gym_err
gym_operator_get(struct gym_db *db, long long id, struct gym_operator *out)
{
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;
	enum gym_err e;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_get, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 1)
		read_row(r, 0, out);
	else
		e = GYM_ENOTFOUND;
	PQclear(r);
	return e;
}

struct password_arg {
	const struct gym_actor *actor;
	long long id;
	const char *hash;
};

static enum gym_err
password_tx(struct gym_db *db, void *v)
{
	struct password_arg *a = v;
	char ids[24], name[65];
	const char *p[2] = { ids, a->hash }, *pn[1] = { name };
	struct gym_audit au = { "operator", "operator_password_set", NULL, 0, 0, NULL, NULL, NULL };
	PGresult *r;
	enum gym_err e;
	char *snap;
	int role;

	snprintf(ids, sizeof(ids), "%lld", a->id);
	if ((e = gym_db_exec(db, &st_set_password, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	snprintf(name, sizeof(name), "%s", gym_db_get(r, 0, "name"));
	role = gym_operator_role_parse(gym_db_get(r, 0, "role"));
	PQclear(r);
	if ((e = gym_db_exec(db, &st_end_sessions, 1, p, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_forget_failures, 1, pn, NULL)) != GYM_OK)
		return e;
	if ((snap = snapshot(a->id, name, role)) == NULL)
		return GYM_ENOMEM;
	au.response_snapshot = snap;
	e = gym_audit_write(db, a->actor, &au);
	cJSON_free(snap);
	return e;
}

enum gym_err
gym_operator_set_password(struct gym_db *db, const struct gym_actor *actor, long long id,
    const char *password)
{
	char hash[GYM_PASSWORD_ENCODED];
	struct password_arg a = { actor, id, hash };
	enum gym_err e;

	if (id < 1)
		return GYM_ENOTFOUND;
	if ((e = gym_password_hash(password, hash)) != GYM_OK)
		return e;
	e = gym_db_tx(db, password_tx, &a);
	gym_wipe(hash, sizeof(hash));
	return e;
}

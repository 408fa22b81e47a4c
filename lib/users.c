/*
 * users.c: parents, by WeChat openid.  The openid is stored here and
 * nowhere else; logs and snapshots carry the user id.
 */
#include <stdio.h>
#include <string.h>

#include "booking.h"

static struct gym_stmt st_upsert = { "user_upsert",
	"INSERT INTO users (openid, created_at, last_login_at) VALUES ($1, $2, $2) "
	"ON CONFLICT (openid) DO UPDATE SET last_login_at = EXCLUDED.last_login_at "
	"RETURNING id", 0 };
static struct gym_stmt st_openid = { "user_openid",
	"SELECT openid FROM users WHERE id = $1::bigint", 0 };

struct login_arg {
	const char *openid;
	long long id;
};

static enum gym_err
login_tx(struct gym_db *db, void *v)
{
	struct login_arg *a = v;
	char now[40];
	const char *p[2] = { a->openid, now };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_upsert, 2, p, &r)) != GYM_OK)
		return e;
	a->id = gym_db_get_ll(r, 0, "id");
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_user_login(struct gym_db *db, const char *openid, long long *user_id)
{
	struct login_arg a = { openid, 0 };
	enum gym_err e;

	if (openid == NULL || *openid == '\0' || strlen(openid) > 128)
		return GYM_EINVAL;
	if ((e = gym_db_tx(db, login_tx, &a)) == GYM_OK)
		*user_id = a.id;
	return e;
}

enum gym_err
gym_user_openid(struct gym_db *db, long long user_id, char *openid, size_t len)
{
	char id[24];
	const char *p[1] = { id };
	PGresult *r;
	enum gym_err e;

	snprintf(id, sizeof(id), "%lld", user_id);
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_openid, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_ENOTFOUND;
	else
		snprintf(openid, len, "%s", gym_db_get(r, 0, "openid"));
	PQclear(r);
	return e;
}

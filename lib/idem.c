/*
 * idem.c: Idempotency-Key storage (see idem.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idem.h"

static struct gym_stmt st_claim = { "idem_claim",
	"INSERT INTO idempotency_keys (scope, key, route, request_hash, created_at) "
	"VALUES ($1, $2, $3, $4, $5::timestamptz) ON CONFLICT (scope, key) DO UPDATE "
	"SET route = EXCLUDED.route, request_hash = EXCLUDED.request_hash, status_code = NULL, "
	"response_body = NULL, created_at = EXCLUDED.created_at "
	"WHERE idempotency_keys.created_at <= $5::timestamptz - interval '24 hours' "
	"RETURNING 1", 0 };
static struct gym_stmt st_get = { "idem_get",
	"SELECT request_hash, status_code, response_body FROM idempotency_keys "
	"WHERE scope = $1 AND key = $2", 0 };
static struct gym_stmt st_store = { "idem_store",
	"UPDATE idempotency_keys SET status_code = $3::int, response_body = $4 "
	"WHERE scope = $1 AND key = $2", 0 };
static struct gym_stmt st_drop = { "idem_drop",
	"DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status_code IS NULL", 0 };

enum gym_err
gym_idem_begin(struct gym_db *db, const char *scope, const char *key, const char *route,
    const char *hash, enum gym_idem_state *state, int *status, char **body)
{
	char now[40];
	const char *p[5] = { scope, key, route, hash, now };
	PGresult *r;
	enum gym_err e;

	*body = NULL;
	if (key == NULL || *key == '\0' || strlen(key) > 255)
		return GYM_EINVAL;
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_claim, 5, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 1) {
		PQclear(r);
		*state = GYM_IDEM_NEW;
		return GYM_OK;
	}
	PQclear(r);
	/* someone has the key: wait up to 5 s for its answer */
	for (int i = 0; i < 100; i++) {
		if ((e = gym_db_exec(db, &st_get, 2, p, &r)) != GYM_OK)
			return e;
		if (PQntuples(r) == 0) {	/* dropped after a 5xx: start over */
			PQclear(r);
			return gym_idem_begin(db, scope, key, route, hash, state, status, body);
		}
		if (strcmp(gym_db_get(r, 0, "request_hash"), hash) != 0) {
			PQclear(r);
			return GYM_E_IDEMPOTENCY_KEY_REUSED;
		}
		if (!gym_db_isnull(r, 0, "status_code")) {
			*status = (int)gym_db_get_ll(r, 0, "status_code");
			*body = strdup(gym_db_get(r, 0, "response_body") ?
			    gym_db_get(r, 0, "response_body") : "");
			PQclear(r);
			*state = GYM_IDEM_REPLAY;
			return *body ? GYM_OK : GYM_ENOMEM;
		}
		PQclear(r);
		usleep(50000);
	}
	return GYM_ECONFLICT;
}

enum gym_err
gym_idem_finish(struct gym_db *db, const char *scope, const char *key, int status,
    const char *body)
{
	char st[16];
	const char *p[4] = { scope, key, st, body };

	if (gym_db_ensure(db) != GYM_OK)
		return GYM_EDB;
	if (status >= 500)
		return gym_db_exec(db, &st_drop, 2, p, NULL);
	snprintf(st, sizeof(st), "%d", status);
	return gym_db_exec(db, &st_store, 4, p, NULL);
}

/*
 * notify_token.c: the mini program's access token, cached in
 * wx_access_tokens and shared by every process on every host.  Readers
 * take the cached token while it has more than REFRESH_S seconds left;
 * a refresh locks the cache row (SELECT ... FOR UPDATE), looks again (a
 * process it waited for may have refreshed it), and only then calls
 * stable_token, so one process asks WeChat however many want a token.
 * WeChat renews a stable token 5 minutes before it expires and keeps the
 * old one valid meanwhile, which is why the cache is refreshed 5 minutes
 * early.  force_refresh (20 a day at most) is used only when WeChat
 * refused a token that stable_token still hands out.
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "extern.h"
#include "log.h"
#include "notify.h"

#define REFRESH_S 300

static struct gym_stmt st_get = { "wxtoken_get",
	"SELECT access_token, (extract(epoch FROM expires_at) * 1000000)::bigint AS expires_us "
	"FROM wx_access_tokens WHERE appid = $1", 0 };
static struct gym_stmt st_seed = { "wxtoken_seed",
	"INSERT INTO wx_access_tokens (appid, access_token, expires_at, updated_at) "
	"VALUES ($1, '', 'epoch', $2::timestamptz) ON CONFLICT (appid) DO NOTHING", 0 };
static struct gym_stmt st_lock = { "wxtoken_lock",
	"SELECT access_token, (extract(epoch FROM expires_at) * 1000000)::bigint AS expires_us "
	"FROM wx_access_tokens WHERE appid = $1 FOR UPDATE", 0 };
static struct gym_stmt st_set = { "wxtoken_set",
	"UPDATE wx_access_tokens SET access_token = $2, expires_at = $3::timestamptz, "
	"updated_at = $4::timestamptz WHERE appid = $1", 0 };

struct token_arg {
	struct gym_wx_client *wx;
	const struct gym_config *cfg;
	const char *rejected;
	char *token;
	size_t len;
	int fresh;			/* the cached token is good */
};

/* Read the cache row (st) into a->token; a->fresh when it is usable. */
static enum gym_err
read_cache(struct gym_db *db, struct gym_stmt *st, struct token_arg *a)
{
	const char *p[1] = { a->cfg->wx_appid };
	const char *tok;
	PGresult *r;
	enum gym_err e;

	a->fresh = 0;
	if ((e = gym_db_exec(db, st, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) > 0 && (tok = gym_db_get(r, 0, "access_token")) != NULL &&
	    tok[0] != '\0' && strlen(tok) < a->len &&
	    gym_db_get_ll(r, 0, "expires_us") - gym_now_us() > (int64_t)REFRESH_S * 1000000 &&
	    (a->rejected == NULL || strcmp(tok, a->rejected) != 0)) {
		snprintf(a->token, a->len, "%s", tok);
		a->fresh = 1;
	}
	PQclear(r);
	return GYM_OK;
}

/* Ask WeChat, under the row lock. */
static enum gym_err
refresh_tx(struct gym_db *db, void *v)
{
	struct token_arg *a = v;
	char now[40], exp[40];
	const char *ps[2] = { a->cfg->wx_appid, now };
	const char *pu[4] = { a->cfg->wx_appid, a->token, exp, now };
	int expires_in = 0;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_seed, 2, ps, NULL)) != GYM_OK ||
	    (e = read_cache(db, &st_lock, a)) != GYM_OK || a->fresh)
		return e;
	if (a->wx == NULL)
		return GYM_EINTERNAL;
	if ((e = gym_wx_stable_token(a->wx, 0, a->token, a->len, &expires_in)) != GYM_OK)
		return e;
	if (a->rejected != NULL && strcmp(a->token, a->rejected) == 0) {
		gym_log_infox("notify: WeChat refused the current access token: forcing a new one");
		if ((e = gym_wx_stable_token(a->wx, 1, a->token, a->len, &expires_in)) != GYM_OK)
			return e;
	}
	gym_time_format(gym_now_us() + (int64_t)expires_in * 1000000, exp, sizeof(exp));
	gym_log_infox("notify: new access token, valid for %d s", expires_in);
	return gym_db_exec(db, &st_set, 4, pu, NULL);
}

enum gym_err
gym_notify_token(struct gym_db *db, struct gym_wx_client *wx, const struct gym_config *cfg,
    const char *rejected, char *token, size_t len)
{
	struct token_arg a = { wx, cfg, rejected, token, len, 0 };
	enum gym_err e;

	if (token == NULL || len == 0)
		return GYM_EINVAL;
	token[0] = '\0';
	if (cfg->wx_appid == NULL || cfg->wx_appid[0] == '\0')
		return GYM_EINTERNAL;
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = read_cache(db, &st_get, &a)) != GYM_OK)
		return e;
	if (a.fresh)
		return GYM_OK;
	if ((e = gym_db_tx(db, refresh_tx, &a)) != GYM_OK)
		gym_wipe(token, len);
	return e;
}

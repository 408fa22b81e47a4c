/*
 * staff_auth.c: name-and-password sign-in, cookie sessions, CSRF tokens
 * and the per-name lockout (see staff_auth.h).  Owns operator_sessions and
 * operator_signin_failures; reads operators.  A sign-in runs in one
 * transaction under an advisory lock on the name, so concurrent guesses
 * at one name are counted one after another and none slips past the limit.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "operators.h"
#include "password.h"
#include "staff_auth.h"

#define CSRF_LABEL "gym-staff-csrf-v1"

static struct gym_stmt st_name_lock = { "staff_name_lock",
	"SELECT pg_advisory_xact_lock(hashtextextended('gym_signin:' || $1, 0))", 0 };
static struct gym_stmt st_failures = { "staff_failures",
	"SELECT count(*) AS n FROM operator_signin_failures WHERE name = $1 "
	"AND failed_at > $2::timestamptz - make_interval(secs => $3::int)", 0 };
static struct gym_stmt st_find = { "staff_find",
	"SELECT id, role, name, password_hash FROM operators WHERE name = $1 "
	"AND revoked_at IS NULL AND password_hash IS NOT NULL ORDER BY id DESC LIMIT 1", 0 };
static struct gym_stmt st_fail = { "staff_fail",
	"INSERT INTO operator_signin_failures (name, failed_at) VALUES ($1, $2::timestamptz)", 0 };
static struct gym_stmt st_forget = { "staff_forget",
	"DELETE FROM operator_signin_failures WHERE name = $1 "
	"OR failed_at < $2::timestamptz - make_interval(secs => $3::int)", 0 };
static struct gym_stmt st_sweep = { "staff_sweep",
	"DELETE FROM operator_sessions WHERE expires_at <= $1::timestamptz", 0 };
static struct gym_stmt st_open = { "staff_open",
	"INSERT INTO operator_sessions (id_hash, operator_id, created_at, expires_at) "
	"VALUES ($1, $2::bigint, $3::timestamptz, $3::timestamptz + make_interval(secs => $4::int)) "
	"RETURNING (extract(epoch FROM expires_at) * 1000000)::bigint AS expires_us", 0 };
static struct gym_stmt st_auth = { "staff_auth",
	"SELECT o.id, o.role, o.name, "
	"(extract(epoch FROM s.expires_at) * 1000000)::bigint AS expires_us "
	"FROM operator_sessions s JOIN operators o ON o.id = s.operator_id "
	"WHERE s.id_hash = $1 AND s.expires_at > $2::timestamptz AND o.revoked_at IS NULL", 0 };
static struct gym_stmt st_close = { "staff_close",
	"WITH d AS (DELETE FROM operator_sessions WHERE id_hash = $1 RETURNING operator_id) "
	"SELECT d.operator_id, o.name FROM d JOIN operators o ON o.id = d.operator_id", 0 };

static int
sid_shape(const char *sid)
{
	static const char alnum[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	return sid != NULL && strlen(sid) == GYM_STAFF_SID_LEN &&
	    strspn(sid, alnum) == GYM_STAFF_SID_LEN;
}

void
gym_staff_csrf(const char *sid, char out[GYM_STAFF_CSRF_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char m[32];

	gym_hmac_sha256(sid, strlen(sid), CSRF_LABEL, strlen(CSRF_LABEL), m);
	for (size_t i = 0; i < sizeof(m); i++) {
		out[2 * i] = hex[m[i] >> 4];
		out[2 * i + 1] = hex[m[i] & 15];
	}
	out[GYM_STAFF_CSRF_LEN] = '\0';
	gym_wipe(m, sizeof(m));
}

int
gym_staff_csrf_ok(const char *sid, const char *token)
{
	char want[GYM_STAFF_CSRF_LEN + 1];
	int ok;

	if (!sid_shape(sid) || token == NULL || strlen(token) != GYM_STAFF_CSRF_LEN)
		return 0;
	gym_staff_csrf(sid, want);
	ok = gym_ct_equal(want, token, GYM_STAFF_CSRF_LEN);
	gym_wipe(want, sizeof(want));
	return ok;
}

int
gym_staff_cookie_sid(const char *cookie, char sid[GYM_STAFF_SID_LEN + 1])
{
	const size_t nlen = strlen(GYM_STAFF_COOKIE);
	const char *p = cookie;

	sid[0] = '\0';
	while (p != NULL && *p != '\0') {
		size_t vlen;

		p += strspn(p, " \t;");
		vlen = strcspn(p, ";");
		if (vlen == nlen + 1 + GYM_STAFF_SID_LEN && strncmp(p, GYM_STAFF_COOKIE, nlen) == 0 &&
		    p[nlen] == '=') {
			memcpy(sid, p + nlen + 1, GYM_STAFF_SID_LEN);
			sid[GYM_STAFF_SID_LEN] = '\0';
			if (sid_shape(sid))
				return 1;
			sid[0] = '\0';
		}
		p += vlen;
	}
	return 0;
}

/* 1 when name could be an operator's name (1-64 bytes, no controls). */
static int
name_shape(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* An audit row on the operator entity with {"name"} (and the id when
 * known) as its snapshot. */
static enum gym_err
audit(struct gym_db *db, const struct gym_actor *actor, const char *action, long long id,
    const char *name, const char *old_status, const char *new_status)
{
	struct gym_audit au = { "operator", action, NULL, 0, 0, old_status, new_status, NULL };
	cJSON *o = cJSON_CreateObject();
	enum gym_err e = GYM_ENOMEM;
	char *s = NULL;

	if (o != NULL && (id == 0 || cJSON_AddNumberToObject(o, "operator_id", (double)id)) &&
	    cJSON_AddStringToObject(o, "name", name) != NULL &&
	    (s = cJSON_PrintUnformatted(o)) != NULL) {
		au.response_snapshot = s;
		e = gym_audit_write(db, actor, &au);
	}
	cJSON_free(s);
	cJSON_Delete(o);
	return e;
}

struct signin_arg {
	const struct gym_actor *actor;
	const char *name, *password;
	struct gym_staff_session *out;
	enum gym_err verdict;		/* what the caller gets after COMMIT */
};

/* A wrong name or password: count it, and when it reaches the limit write
 * the lockout row.  The transaction commits (the count must stay). */
static enum gym_err
record_failure(struct gym_db *db, struct signin_arg *a, const char *now, long long before)
{
	const char *p[2] = { a->name, now };
	struct gym_actor sys = *a->actor;
	enum gym_err e;

	a->verdict = GYM_EUNAUTH;
	if ((e = gym_db_exec(db, &st_fail, 2, p, NULL)) != GYM_OK)
		return e;
	if (before + 1 < GYM_STAFF_LOCK_FAILURES)
		return GYM_OK;
	sys.type = "system";
	sys.id = 0;
	return audit(db, &sys, "operator_locked_out", 0, a->name, NULL, "locked");
}

static enum gym_err
open_session(struct gym_db *db, struct signin_arg *a, const char *now)
{
	struct gym_staff_session *s = a->out;
	char hash[65], ids[24], ttl[16], win[16];
	const char *po[4] = { hash, ids, now, ttl }, *pf[3] = { a->name, now, win };
	const char *pn[1] = { now };
	struct gym_actor op = *a->actor;
	PGresult *r;
	enum gym_err e;

	if ((e = gym_random_alnum(s->sid, GYM_STAFF_SID_LEN)) != GYM_OK)
		return e;
	gym_sha256_hex(s->sid, GYM_STAFF_SID_LEN, hash);
	snprintf(ids, sizeof(ids), "%lld", s->operator_id);
	snprintf(ttl, sizeof(ttl), "%d", GYM_STAFF_SESSION_TTL);
	snprintf(win, sizeof(win), "%d", GYM_STAFF_LOCK_WINDOW);
	if ((e = gym_db_exec(db, &st_forget, 3, pf, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_sweep, 1, pn, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_open, 4, po, &r)) != GYM_OK)
		return e;
	s->expires_at = gym_db_get_ll(r, 0, "expires_us");
	PQclear(r);
	gym_staff_csrf(s->sid, s->csrf);
	op.type = "operator";
	op.id = s->operator_id;
	a->verdict = GYM_OK;
	return audit(db, &op, "operator_signed_in", s->operator_id, s->name, NULL, "signed_in");
}

static enum gym_err
signin_tx(struct gym_db *db, void *v)
{
	struct signin_arg *a = v;
	char now[40], win[16];
	const char *p[3] = { a->name, now, win };
	const char *encoded = NULL;
	long long before;
	PGresult *r = NULL, *f;
	enum gym_err e;
	int ok;

	gym_db_now_param(now, sizeof(now));
	snprintf(win, sizeof(win), "%d", GYM_STAFF_LOCK_WINDOW);
	if ((e = gym_db_exec(db, &st_name_lock, 1, p, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_failures, 3, p, &f)) != GYM_OK)
		return e;
	before = gym_db_get_ll(f, 0, "n");
	PQclear(f);
	if (before >= GYM_STAFF_LOCK_FAILURES) {
		a->verdict = GYM_E_TOO_MANY_REQUESTS;
		return GYM_OK;
	}
	if ((e = gym_db_exec(db, &st_find, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 1)
		encoded = gym_db_get(r, 0, "password_hash");
	ok = gym_password_verify(encoded, a->password);
	if (ok) {
		a->out->operator_id = gym_db_get_ll(r, 0, "id");
		a->out->role = gym_operator_role_parse(gym_db_get(r, 0, "role"));
		snprintf(a->out->name, sizeof(a->out->name), "%s", gym_db_get(r, 0, "name"));
	}
	PQclear(r);
	if (!ok || a->out->role == 0)
		return record_failure(db, a, now, before);
	return open_session(db, a, now);
}

enum gym_err
gym_staff_signin(struct gym_db *db, const struct gym_actor *actor, const char *name,
    const char *password, struct gym_staff_session *out)
{
	struct signin_arg a = { actor, name, password, out, GYM_EUNAUTH };
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	if (!name_shape(name) || password == NULL)
		return GYM_EUNAUTH;
	if ((e = gym_db_tx(db, signin_tx, &a)) != GYM_OK)
		return e;
	if (a.verdict != GYM_OK)
		gym_wipe(out, sizeof(*out));
	return a.verdict;
}

enum gym_err
gym_staff_session_auth(struct gym_db *db, const char *sid, struct gym_staff_session *out)
{
	char hash[65], now[40];
	const char *p[2] = { hash, now };
	PGresult *r;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	if (!sid_shape(sid))
		return GYM_EUNAUTH;
	gym_sha256_hex(sid, GYM_STAFF_SID_LEN, hash);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_auth, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) != 1 ||
	    (out->role = gym_operator_role_parse(gym_db_get(r, 0, "role"))) == 0) {
		e = GYM_EUNAUTH;
	} else {
		out->operator_id = gym_db_get_ll(r, 0, "id");
		snprintf(out->name, sizeof(out->name), "%s", gym_db_get(r, 0, "name"));
		out->expires_at = gym_db_get_ll(r, 0, "expires_us");
		gym_staff_csrf(sid, out->csrf);
	}
	PQclear(r);
	return e;
}

struct signout_arg {
	const struct gym_actor *actor;
	const char *hash;
};

static enum gym_err
signout_tx(struct gym_db *db, void *v)
{
	struct signout_arg *a = v;
	const char *p[1] = { a->hash };
	struct gym_actor op = *a->actor;
	char name[65];
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, &st_close, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_OK;
	}
	op.type = "operator";
	op.id = gym_db_get_ll(r, 0, "operator_id");
	snprintf(name, sizeof(name), "%s", gym_db_get(r, 0, "name"));
	PQclear(r);
	return audit(db, &op, "operator_signed_out", op.id, name, "signed_in", "signed_out");
}

enum gym_err
gym_staff_signout(struct gym_db *db, const struct gym_actor *actor, const char *sid)
{
	char hash[65];
	struct signout_arg a = { actor, hash };

	if (!sid_shape(sid))
		return GYM_OK;
	gym_sha256_hex(sid, GYM_STAFF_SID_LEN, hash);
	return gym_db_tx(db, signout_tx, &a);
}

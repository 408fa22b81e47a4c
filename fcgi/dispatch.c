/*
 * dispatch.c: between the router and a handler: authentication (the
 * route's flags: a parent's token, or an operator's checked against the
 * operators table and the route's role, or a staff session cookie with its
 * CSRF token for unsafe methods), Idempotency-Key (replay or run
 * once, scoped to the parent or the operator), then the handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "hutil.h"
#include "idem.h"
#include "log.h"
#include "operators.h"
#include "token.h"

/* Operator routes: GYM_AUTH_AUDITOR takes either role, GYM_AUTH_OPERATOR
 * only operators (an auditor gets GYM_EFORBIDDEN).  A missing, unknown or
 * revoked token is GYM_EUNAUTH. */
static enum gym_err
authenticate_operator(const struct gym_route *rt, struct gym_req *req, const char *token)
{
	long long id = 0;
	int role = 0;
	enum gym_err e;

	if ((e = gym_operator_auth(req->ctx->db, token, &id, &role)) != GYM_OK)
		return e;
	req->operator_id = id;
	req->operator_role = role;
	if ((rt->flags & GYM_AUTH_OPERATOR) && role != GYM_ROLE_OPERATOR)
		return GYM_EFORBIDDEN;
	return GYM_OK;
}

/* The bearer token of the Authorization header, or (GYM_TOKEN_QUERY
 * routes, without that header) the access_token query parameter into buf;
 * NULL when there is none. */
static const char *
bearer(const struct gym_route *rt, const struct gym_req *req, char *buf, size_t len)
{
	const char *a = req->authorization;

	if (a != NULL)
		return strncasecmp(a, "Bearer ", 7) == 0 ? a + 7 : NULL;
	if ((rt->flags & GYM_TOKEN_QUERY) && gym_h_query(req, "access_token", buf, len) &&
	    buf[0] != '\0')
		return buf;
	return NULL;
}

/* 1 for the methods a CSRF token need not guard (they change nothing). */
static int
safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* An operator route without an Authorization header: the staff session
 * cookie (staff_auth.h), and for an unsafe method its CSRF token in
 * X-CSRF-Token (a missing or wrong one is GYM_EFORBIDDEN). */
static enum gym_err
authenticate_session(const struct gym_route *rt, struct gym_req *req)
{
	struct gym_staff_session s;
	enum gym_err e;

	if (!gym_staff_cookie_sid(req->cookie, req->staff_sid))
		return GYM_EUNAUTH;
	if ((e = gym_staff_session_auth(req->ctx->db, req->staff_sid, &s)) != GYM_OK) {
		req->staff_sid[0] = '\0';
		return e;
	}
	req->operator_id = s.operator_id;
	req->operator_role = s.role;
	if (!safe_method(req->method) && !gym_staff_csrf_ok(req->staff_sid, req->csrf_token))
		return GYM_EFORBIDDEN;
	if ((rt->flags & GYM_AUTH_OPERATOR) && s.role != GYM_ROLE_OPERATOR)
		return GYM_EFORBIDDEN;
	return GYM_OK;
}

static enum gym_err
authenticate(const struct gym_route *rt, struct gym_req *req)
{
	const struct gym_config *cfg = req->ctx->cfg;
	char qtoken[512];
	const char *t;

	if ((rt->flags & (GYM_AUTH_USER | GYM_AUTH_AUDITOR | GYM_AUTH_OPERATOR)) == 0)
		return GYM_OK;
	t = bearer(rt, req, qtoken, sizeof(qtoken));
	if (t == NULL && req->authorization == NULL && req->cookie != NULL &&
	    (rt->flags & (GYM_AUTH_AUDITOR | GYM_AUTH_OPERATOR)))
		return authenticate_session(rt, req);
	if (t == NULL)
		return GYM_EUNAUTH;
	if (rt->flags & (GYM_AUTH_AUDITOR | GYM_AUTH_OPERATOR))
		return authenticate_operator(rt, req, t);
	return gym_token_verify(cfg->token_secret, cfg->token_secret_len, t, gym_now(),
	    &req->user_id);
}

/* Run the handler; errors become error bodies here so they can be stored. */
static void
run(const struct gym_route *rt, struct gym_req *req, struct gym_resp *resp)
{
	enum gym_err e = rt->handler(req, resp);

	if (e != GYM_OK) {
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
		gym_error_response(e, req, resp);
	}
}

static enum gym_err
idempotent(const struct gym_route *rt, struct gym_req *req, struct gym_resp *resp)
{
	char scope[40], hash[65], *buf, *body = NULL;
	struct gym_idem k = { scope, req->idempotency_key, rt->pattern, hash };
	struct gym_idem_lock lock;
	enum gym_idem_state st;
	enum gym_err e;
	size_t n;
	int status = 0, kept = 0;

	if (req->operator_id != 0)
		snprintf(scope, sizeof(scope), "op:%lld", req->operator_id);
	else
		snprintf(scope, sizeof(scope), "user:%lld", req->user_id);
	n = strlen(req->method) + strlen(req->path) + req->body_len + 3;
	if ((buf = malloc(n)) == NULL)
		return GYM_ENOMEM;
	snprintf(buf, n, "%s %s\n", req->method, req->path);
	memcpy(buf + strlen(buf), req->body ? req->body : "", req->body_len + 1);
	gym_sha256_hex(buf, strlen(buf), hash);
	free(buf);
	e = gym_idem_begin(req->ctx->db, &k, req->ctx->cfg->idempotency_lease, &st, &status,
	    &body, &lock);
	if (e != GYM_OK)
		return e;
	if (st == GYM_IDEM_REPLAY) {
		resp->status = status;
		resp->body = body;
		resp->body_len = strlen(body);
		gym_resp_header(resp, "Idempotent-Replayed", "true");
		return GYM_OK;
	}
	run(rt, req, resp);
	if (gym_idem_finish(req->ctx->db, &k, &lock, resp->status ? resp->status : 200,
	    resp->body ? resp->body : "", &kept) != GYM_OK)
		gym_log_warnx("could not store the idempotent answer");
	else if (!kept)
		gym_log_warnx("idempotency key taken over after its lease of %d s: "
		    "this answer is not stored", req->ctx->cfg->idempotency_lease);
	return GYM_OK;
}

enum gym_err
gym_dispatch(const struct gym_route *rt, struct gym_req *req, struct gym_resp *resp)
{
	enum gym_err e;

	if ((e = authenticate(rt, req)) != GYM_OK)
		return e;
	if ((rt->flags & GYM_IDEMPOTENT) && req->idempotency_key != NULL)
		return idempotent(rt, req, resp);
	return rt->handler(req, resp);
}

/*
 * h_admin_session.c: staff sign-in for the console (staff_auth.h).
 *   POST   /admin/session  {name, password}: a session cookie
 *          (HttpOnly, Secure, SameSite=Strict, __Host- prefix) and the
 *          session's CSRF token; 401 for a wrong name or password, 429
 *          LOCKED_OUT while the name is locked out
 *   DELETE /admin/session  ends the cookie's session and clears the cookie
 *   GET    /admin/whoami   who is signed in (by cookie or bearer token),
 *          their role, and for a cookie the CSRF token (a new tab asks here)
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "handlers.h"
#include "hutil.h"
#include "log.h"
#include "operators.h"
#include "staff_auth.h"

static void
request_actor(const struct gym_req *req, struct gym_actor *a)
{
	memset(a, 0, sizeof(*a));
	a->type = "system";
	a->client_ip = req->client_ip;
	a->user_agent = req->user_agent;
	a->request_id = req->request_id;
}

static cJSON *
who_json(long long id, const char *name, int role)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "operator_id", (double)id);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "role", gym_operator_role_name(role));
	return o;
}

static enum gym_err
set_cookie(struct gym_resp *resp, const char *sid, int max_age)
{
	char c[256];

	snprintf(c, sizeof(c), "%s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict",
	    GYM_STAFF_COOKIE, sid, max_age);
	return gym_resp_header(resp, "Set-Cookie", c);
}

enum gym_err
gym_h_admin_session_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_staff_session s;
	struct gym_actor actor;
	const char *name = NULL, *password = NULL;
	cJSON *body = NULL, *out;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if (gym_json_str(body, "name", &name) != GYM_OK || gym_json_str(body, "password",
	    &password) != GYM_OK) {
		snprintf(resp->err_field, sizeof(resp->err_field), "%s",
		    name == NULL ? "name" : "password");
		cJSON_Delete(body);
		return GYM_EINVAL;
	}
	request_actor(req, &actor);
	e = gym_staff_signin(req->ctx->db, &actor, name, password, &s);
	cJSON_Delete(body);
	if (e == GYM_E_TOO_MANY_REQUESTS) {
		char ra[16];

		gym_error_simple(resp, 429, "LOCKED_OUT", "登录失败次数过多，请 15 分钟后再试",
		    req->request_id);
		snprintf(ra, sizeof(ra), "%d", GYM_STAFF_LOCK_WINDOW);
		if (gym_resp_header(resp, "Retry-After", ra) != GYM_OK)
			gym_log_warnx("could not add Retry-After");
		return GYM_OK;
	}
	if (e != GYM_OK)
		return e;
	e = set_cookie(resp, s.sid, GYM_STAFF_SESSION_TTL);
	if (e == GYM_OK)
		e = gym_resp_header(resp, "Cache-Control", "no-store");
	if (e != GYM_OK) {
		gym_wipe(&s, sizeof(s));
		return e;
	}
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "operator", who_json(s.operator_id, s.name, s.role));
	cJSON_AddStringToObject(out, "csrf_token", s.csrf);
	gym_h_add_time(out, "expires_at", s.expires_at);
	gym_wipe(&s, sizeof(s));
	return gym_resp_json(resp, 200, out);
}

enum gym_err
gym_h_admin_session_delete(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor actor;
	enum gym_err e;

	request_actor(req, &actor);
	if (req->staff_sid[0] != '\0' &&
	    (e = gym_staff_signout(req->ctx->db, &actor, req->staff_sid)) != GYM_OK)
		return e;
	if ((e = set_cookie(resp, "", 0)) != GYM_OK)
		return e;
	resp->status = 204;
	return GYM_OK;
}

enum gym_err
gym_h_admin_whoami(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_operator o;
	cJSON *out;
	enum gym_err e;

	if ((e = gym_operator_get(req->ctx->db, req->operator_id, &o)) != GYM_OK)
		return e;
	out = who_json(o.id, o.name, req->operator_role);
	cJSON_AddStringToObject(out, "signed_in_with", req->staff_sid[0] ? "password" : "token");
	if (req->staff_sid[0] != '\0') {
		char csrf[GYM_STAFF_CSRF_LEN + 1];

		gym_staff_csrf(req->staff_sid, csrf);
		cJSON_AddStringToObject(out, "csrf_token", csrf);
	}
	if (gym_resp_header(resp, "Cache-Control", "no-store") != GYM_OK)
		gym_log_warnx("could not add Cache-Control");
	return gym_resp_json(resp, 200, out);
}

/*
 * h_auth.c: POST /auth/wx-login: exchange the mini program's code at
 * WeChat's jscode2session, upsert the user, return a session token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"
#include "token.h"

enum gym_err
gym_h_login(struct gym_req *req, struct gym_resp *resp)
{
	const struct gym_config *cfg = req->ctx->cfg;
	struct gym_pay *pay = gym_h_pay(req);
	cJSON *body = NULL, *out;
	const char *code = NULL;
	char token[160];
	long long uid = 0;
	time_t exp;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if (gym_json_str(body, "code", &code) != GYM_OK || *code == '\0' || strlen(code) > 128) {
		cJSON_Delete(body);
		snprintf(resp->err_field, sizeof(resp->err_field), "code");
		return GYM_EINVAL;
	}
	e = gym_checkout_login(pay, code, &uid);
	cJSON_Delete(body);
	if (e != GYM_OK)
		return gym_h_upstream(pay, resp, e);
	exp = gym_now() + cfg->token_ttl;
	if ((e = gym_token_issue(cfg->token_secret, cfg->token_secret_len, uid, exp, token,
	    sizeof(token))) != GYM_OK)
		return e;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "token", token);
	gym_h_add_time(out, "expires_at", (int64_t)exp * 1000000);
	cJSON_AddNumberToObject(out, "user_id", (double)uid);
	return gym_resp_json(resp, 200, out);
}

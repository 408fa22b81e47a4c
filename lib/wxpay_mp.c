/*
 * wxpay_mp.c: the mini program server APIs (wxmp.h): code2session,
 * stable_token and subscribe messages, unsigned calls on wx_api_base
 * whose URLs and answers may hold secrets (wiped after use).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "wxmp.h"
#include "wxpay_transport.h"
#include "wxsign.h"

/* Mini program errcodes that mean "this js_code is no good". */
static const long bad_code_errcodes[] = { 40029, 40163, 40226, 41008 };

/* 1 when a mini program errcode (as the last error's code) means the
 * js_code itself is bad. */
static int
bad_js_code(const struct gym_wx_client *c)
{
	char *end;
	long code = strtol(c->err.code, &end, 10);
	size_t i;

	if (c->err.code[0] == '\0' || *end != '\0')
		return 0;
	for (i = 0; i < sizeof(bad_code_errcodes) / sizeof(bad_code_errcodes[0]); i++)
		if (code == bad_code_errcodes[i])
			return 1;
	return 0;
}

/* The jscode2session path and query; holds the AppSecret: free_secret. */
static char *
code2session_path(const struct gym_config *cfg, const char *js_code)
{
	char *appid = NULL, *secret = NULL, *code = NULL, *path = NULL;

	if ((appid = gym__wx_pct_escape(cfg->wx_appid)) != NULL &&
	    (secret = gym__wx_pct_escape(cfg->wx_app_secret)) != NULL &&
	    (code = gym__wx_pct_escape(js_code)) != NULL)
		path = gym_asprintf("/sns/jscode2session?appid=%s&secret=%s&js_code=%s"
		    "&grant_type=authorization_code", appid, secret, code);
	free(appid);
	gym__wx_free_secret(secret);
	gym__wx_free_secret(code);
	return path;
}

/* 1 when the mini program appid and secret are configured; else 0 with
 * a CONFIG error as the last error. */
static int
mp_configured(struct gym_wx_client *c)
{
	if (gym_nonempty(c->cfg->wx_appid) && gym_nonempty(c->cfg->wx_app_secret))
		return 1;
	gym__wx_own_error(c, "CONFIG", "appid or app secret not configured");
	return 0;
}

enum gym_err
gym_wx_code2session(struct gym_wx_client *c, const char *js_code,
    char *openid, size_t len)
{
	const struct gym_config *cfg = c->cfg;
	char *path = NULL;
	const char *oid;
	cJSON *j = NULL;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (openid == NULL || len == 0)
		goto out;
	openid[0] = '\0';
	rc = GYM_E_INVALID_CODE;
	if (!gym__wx_token_ok(js_code, MAX_JS_CODE))
		goto out;
	rc = GYM_EINTERNAL;
	if (!mp_configured(c))
		goto out;
	rc = GYM_ENOMEM;
	if ((path = code2session_path(cfg, js_code)) == NULL)
		goto out;
	if ((rc = gym__wx_mp_call(c, "GET", path, NULL, &j)) != GYM_OK) {
		if (rc == GYM_EUPSTREAM && c->err.http_status == 200 && bad_js_code(c))
			rc = GYM_E_INVALID_CODE;
		goto out;
	}
	if (!gym__wx_id_ok(oid = gym_json_string(j, "openid"), 1, MAX_OPENID, OPENID_CHARS)) {
		rc = gym__wx_bad_response(c, "GET", "/sns/jscode2session", "no openid");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (gym__wx_copy_out(openid, len, oid) == -1)
		goto out;
	rc = GYM_OK;
out:
	gym__wx_json_delete_secret(j);
	gym__wx_free_secret(path);
	return rc;
}

/* The stable_token request body; holds the AppSecret: free_secret. */
static char *
stable_token_body(const struct gym_config *cfg, int force_refresh)
{
	cJSON *j;
	char *body = NULL;

	if ((j = cJSON_CreateObject()) != NULL &&
	    cJSON_AddStringToObject(j, "grant_type", "client_credential") != NULL &&
	    cJSON_AddStringToObject(j, "appid", cfg->wx_appid) != NULL &&
	    cJSON_AddStringToObject(j, "secret", cfg->wx_app_secret) != NULL &&
	    cJSON_AddBoolToObject(j, "force_refresh", force_refresh != 0) != NULL)
		body = cJSON_PrintUnformatted(j);
	gym__wx_json_delete_secret(j);
	return body;
}

enum gym_err
gym_wx_stable_token(struct gym_wx_client *c, int force_refresh, char *token,
    size_t len, int *expires_in)
{
	static const char path[] = "/cgi-bin/stable_token";
	const struct gym_config *cfg = c->cfg;
	const cJSON *exp;
	const char *tok;
	char *body = NULL;
	cJSON *j = NULL;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (token == NULL || len == 0)
		goto out;
	token[0] = '\0';
	rc = GYM_EINTERNAL;
	if (!mp_configured(c))
		goto out;
	rc = GYM_ENOMEM;
	if ((body = stable_token_body(cfg, force_refresh)) == NULL)
		goto out;
	if ((rc = gym__wx_mp_call(c, "POST", path, body, &j)) != GYM_OK)
		goto out;
	tok = gym_json_string(j, "access_token");
	exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	if (!gym__wx_token_ok(tok, 1024) || !cJSON_IsNumber(exp) || exp->valuedouble < 0 ||
	    exp->valuedouble > 86400 * 30) {
		rc = gym__wx_bad_response(c, "POST", path, "no access_token or expires_in");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (gym__wx_copy_out(token, len, tok) == -1)
		goto out;
	if (expires_in != NULL)
		*expires_in = (int)exp->valuedouble;
	rc = GYM_OK;
out:
	gym__wx_json_delete_secret(j);
	gym__wx_free_secret(body);
	return rc;
}

enum gym_err
gym_wx_subscribe_send(struct gym_wx_client *c, const char *access_token,
    const char *json_body)
{
	char *esc = NULL, *path = NULL;
	cJSON *j = NULL;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (!gym__wx_token_ok(access_token, 1024) || !gym_nonempty(json_body))
		goto out;
	rc = GYM_ENOMEM;
	if ((esc = gym__wx_pct_escape(access_token)) == NULL ||
	    (path = gym_asprintf("/cgi-bin/message/subscribe/send?access_token=%s", esc)) == NULL)
		goto out;
	rc = gym__wx_mp_call(c, "POST", path, json_body, &j);
out:
	cJSON_Delete(j);
	gym__wx_free_secret(path);
	gym__wx_free_secret(esc);
	return rc;
}

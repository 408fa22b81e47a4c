/*
 * api_mp.c: jscode2session gives every js_code its own stable openid
 * ("o" + 27 characters of base64url(SHA-256(code)), so the same code logs
 * the same user in again); codes starting "invalid" are refused with
 * 40029 and codes starting "busy" with -1.  One access token lives 7200 s
 * (force_refresh replaces it).  Subscribe messages are checked the way
 * WeChat checks them and recorded for /sim/messages.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "crypto.h"

#include "api_mp.h"
#include "state.h"
#include "util.h"
#include "v3.h"

#define TOKEN_TTL 7200

/* 200 {"errcode":code,"errmsg":msg}. */
static void
mp_error(struct wxsim_resp *resp, long code, const char *msg)
{
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(j, "errcode", (double)code) == NULL ||
	    cJSON_AddStringToObject(j, "errmsg", msg) == NULL) {
		cJSON_Delete(j);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return;
	}
	wxsim_resp_json(resp, 200, j);
}

/* base64 of the first n bytes of SHA-256(prefix || s), URL-safe when url
 * is set; malloc'd, or NULL. */
static char *
digest_b64(const char *prefix, const char *s, size_t n, int url)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	char *b64 = NULL, *p;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prefix, strlen(prefix)) != 1 ||
	    EVP_DigestUpdate(ctx, s, strlen(s)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || n > mdlen ||
	    gym_b64_encode(md, n, &b64) != GYM_OK) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	EVP_MD_CTX_free(ctx);
	for (p = b64; url && *p; p++)
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	return b64;
}

void
wxsim_mp_jscode2session(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *appid = wxsim_http_param(req->query, "appid");
	char *secret = wxsim_http_param(req->query, "secret");
	char *code = wxsim_http_param(req->query, "js_code");
	char *grant = wxsim_http_param(req->query, "grant_type");
	char *oid = NULL, *sk = NULL, openid[29];
	cJSON *j = NULL;

	wxsim_state_lock(sim->state);
	sim->state->n.jscode2session_calls++;
	wxsim_state_unlock(sim->state);
	if (appid == NULL || appid[0] == '\0')
		mp_error(resp, 41002, "appid missing");
	else if (strcmp(appid, sim->cfg.appid) != 0)
		mp_error(resp, 40013, "invalid appid");
	else if (sim->cfg.secret != NULL && (secret == NULL || secret[0] == '\0'))
		mp_error(resp, 41004, "appsecret missing");
	else if (sim->cfg.secret != NULL && strcmp(secret, sim->cfg.secret) != 0)
		mp_error(resp, 40125, "invalid appsecret");
	else if (grant == NULL || strcmp(grant, "authorization_code") != 0)
		mp_error(resp, 40002, "invalid grant_type");
	else if (code == NULL || code[0] == '\0')
		mp_error(resp, 41008, "missing code");
	else if (strncmp(code, "invalid", 7) == 0)
		mp_error(resp, 40029, "invalid code");
	else if (strncmp(code, "busy", 4) == 0)
		mp_error(resp, -1, "system error");
	else if ((oid = digest_b64("", code, 32, 1)) == NULL ||
	    (sk = digest_b64("session_key:", code, 16, 0)) == NULL)
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
	else {
		snprintf(openid, sizeof(openid), "o%.27s", oid);
		if ((j = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(j, "session_key", sk) == NULL ||
		    cJSON_AddStringToObject(j, "openid", openid) == NULL) {
			cJSON_Delete(j);
			wxsim_resp_set(resp, 500, NULL, NULL, 0);
		} else
			wxsim_resp_json(resp, 200, j);
	}
	free(oid);
	free(sk);
	free(appid);
	free(secret);
	free(code);
	free(grant);
}

void
wxsim_mp_stable_token(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct wxsim_state *st = sim->state;
	const char *grant, *appid, *secret;
	char rnd[33];
	cJSON *j, *out = NULL, *force;
	time_t now = wxsim_util_now();

	wxsim_state_lock(st);
	st->n.stable_token_calls++;
	wxsim_state_unlock(st);
	if ((j = cJSON_ParseWithLength(req->body, req->blen)) == NULL || !cJSON_IsObject(j)) {
		mp_error(resp, 47001, "data format error");
		goto out;
	}
	grant = wxsim_v3_str(j, "grant_type");
	appid = wxsim_v3_str(j, "appid");
	secret = wxsim_v3_str(j, "secret");
	force = cJSON_GetObjectItemCaseSensitive(j, "force_refresh");
	if (grant == NULL || strcmp(grant, "client_credential") != 0) {
		mp_error(resp, 40002, "invalid grant_type");
		goto out;
	}
	if (appid == NULL || strcmp(appid, sim->cfg.appid) != 0) {
		mp_error(resp, 40013, "invalid appid");
		goto out;
	}
	if (sim->cfg.secret != NULL && (secret == NULL || strcmp(secret, sim->cfg.secret) != 0)) {
		mp_error(resp, 40125, "invalid appsecret");
		goto out;
	}
	if (force != NULL && !cJSON_IsBool(force)) {
		mp_error(resp, 47001, "data format error");
		goto out;
	}
	wxsim_state_lock(st);
	if (st->token[0] == '\0' || now >= st->token_expires || cJSON_IsTrue(force)) {
		if (gym_random_alnum(rnd, 32) != GYM_OK) {
			wxsim_state_unlock(st);
			wxsim_resp_set(resp, 500, NULL, NULL, 0);
			goto out;
		}
		snprintf(st->token, sizeof(st->token), "SIMTOKEN%s", rnd);
		st->token_expires = now + TOKEN_TTL;
	}
	if ((out = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(out, "access_token", st->token) == NULL ||
	    cJSON_AddNumberToObject(out, "expires_in", (double)(st->token_expires - now)) == NULL) {
		cJSON_Delete(out);
		out = NULL;
	}
	wxsim_state_unlock(st);
	if (out == NULL)
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
	else
		wxsim_resp_json(resp, 200, out);
out:
	cJSON_Delete(j);
}

/* The most characters a subscribe data key of this kind may hold, or -1
 * for kinds not listed; the kind is the key without its trailing digits. */
static long
value_limit(const char *key)
{
	static const struct {
		const char *kind;
		long max;
	} limits[] = {
		{ "thing", 20 }, { "character_string", 32 }, { "number", 32 },
		{ "letter", 32 }, { "symbol", 5 }, { "phrase", 5 }, { "name", 20 },
		{ "phone_number", 17 }, { "car_number", 8 }, { "amount", 32 },
		{ "time", 64 }, { "date", 64 },
	};
	size_t n = strlen(key), i;

	while (n > 0 && isdigit((unsigned char)key[n - 1]))
		n--;
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strlen(limits[i].kind) == n && strncmp(limits[i].kind, key, n) == 0)
			return limits[i].max;
	return -1;
}

/* NULL when data is acceptable, else the errmsg. */
static const char *
check_data(const cJSON *data, char *msg, size_t len)
{
	const cJSON *item, *v;
	long max, n;

	if (!cJSON_IsObject(data) || data->child == NULL)
		return "argument invalid! data invalid";
	cJSON_ArrayForEach(item, data) {
		v = cJSON_GetObjectItemCaseSensitive(item, "value");
		max = value_limit(item->string);
		if (!cJSON_IsString(v) || (n = wxsim_util_utf8_len(v->valuestring)) < 1 ||
		    (max >= 0 && n > max)) {
			snprintf(msg, len, "argument invalid! data.%s.value invalid",
			    item->string);
			return msg;
		}
	}
	return NULL;
}

static char *
dup_str(const cJSON *obj, const char *name, int *failed)
{
	const char *s = wxsim_v3_str(obj, name);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = 1;
	return d;
}

void
wxsim_mp_subscribe_send(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct wxsim_state *st = sim->state;
	char *token = wxsim_http_param(req->query, "access_token"), msg[128];
	const char *touser, *template_id, *bad;
	struct wxsim_message *m = NULL;
	cJSON *j = NULL, *out;
	int fail = 0, http = 0, failed = 0, valid;
	long msgid;

	wxsim_state_lock(st);
	st->n.subscribe_calls++;
	valid = token != NULL && st->token[0] != '\0' && strcmp(token, st->token) == 0;
	if (valid && wxsim_util_now() >= st->token_expires) {
		wxsim_state_unlock(st);
		mp_error(resp, 42001, "access_token expired");
		goto out;
	}
	if (valid && st->faults.subscribe_fail_count > 0) {
		st->faults.subscribe_fail_count--;
		fail = 1;
		http = st->faults.subscribe_fail_http;
	}
	wxsim_state_unlock(st);
	if (!valid) {
		mp_error(resp, 40001,
		    "invalid credential, access_token is invalid or not latest");
		goto out;
	}
	if (fail) {
		if (http)
			wxsim_resp_set(resp, 500, "text/plain", "system error\n", 13);
		else
			mp_error(resp, -1, "system error");
		goto out;
	}
	if ((j = cJSON_ParseWithLength(req->body, req->blen)) == NULL || !cJSON_IsObject(j)) {
		mp_error(resp, 47001, "data format error");
		goto out;
	}
	touser = wxsim_v3_str(j, "touser");
	template_id = wxsim_v3_str(j, "template_id");
	if (touser == NULL || touser[0] == '\0') {
		mp_error(resp, 40003, "invalid openid");
		goto out;
	}
	if (template_id == NULL || template_id[0] == '\0') {
		mp_error(resp, 40037, "invalid template_id");
		goto out;
	}
	if ((bad = check_data(cJSON_GetObjectItemCaseSensitive(j, "data"), msg,
	    sizeof(msg))) != NULL) {
		mp_error(resp, 47003, bad);
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		goto out;
	}
	m->touser = dup_str(j, "touser", &failed);
	m->template_id = dup_str(j, "template_id", &failed);
	m->page = dup_str(j, "page", &failed);
	m->state = dup_str(j, "miniprogram_state", &failed);
	m->lang = dup_str(j, "lang", &failed);
	wxsim_util_time_cst(wxsim_util_now(), m->time, sizeof(m->time));
	if (failed || (m->data = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(j, "data"),
	    1)) == NULL) {
		wxsim_message_free(m);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		goto out;
	}
	wxsim_state_lock(st);
	msgid = ++st->n.messages;
	if (wxsim_state_add_message(st, m) != 0) {
		st->n.messages--;
		wxsim_state_unlock(st);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		goto out;
	}
	wxsim_state_unlock(st);
	if ((out = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(out, "errcode", 0) == NULL ||
	    cJSON_AddStringToObject(out, "errmsg", "ok") == NULL ||
	    cJSON_AddNumberToObject(out, "msgid", (double)(3000000000L + msgid)) == NULL) {
		cJSON_Delete(out);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		goto out;
	}
	wxsim_resp_json(resp, 200, out);
out:
	cJSON_Delete(j);
	free(token);
}

/*
 * v3.c: the APIv3 pipeline around each merchant API handler.  A request
 * must carry WECHATPAY2-SHA256-RSA2048 credentials for our mchid and the
 * merchant certificate's serial, within 5 minutes of our clock, signed
 * over "METHOD\nURI\nTS\nNONCE\nBODY\n".  Every answer, errors and empty
 * 204s included, is signed over "TS\nNONCE\nBODY\n" with the platform key.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "wxsign.h"

#include "state.h"
#include "util.h"
#include "v3.h"

void
wxsim_v3_error(struct wxsim_resp *resp, int status, const char *code,
    const char *message, long wx_code)
{
	wxsim_resp_error(resp, status, code, message);
	resp->wx_code = wx_code;
}

void
wxsim_v3_param_error(struct wxsim_resp *resp, const char *location,
    const char *field, const char *why)
{
	cJSON *j = NULL, *d;
	char msg[512];

	snprintf(msg, sizeof(msg), "输入源“/%s/%s”映射到值字段校验失败: %s",
	    location, field, why);
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "code", "PARAM_ERROR") == NULL ||
	    cJSON_AddStringToObject(j, "message", msg) == NULL ||
	    (d = cJSON_AddObjectToObject(j, "detail")) == NULL ||
	    cJSON_AddStringToObject(d, "field", field) == NULL ||
	    cJSON_AddStringToObject(d, "location", location) == NULL ||
	    cJSON_AddStringToObject(d, "issue", why) == NULL) {
		cJSON_Delete(j);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return;
	}
	wxsim_resp_json(resp, 400, j);
	resp->wx_code = WXSIM_WX_PARAM;
}

cJSON *
wxsim_v3_body(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	cJSON *j;

	if ((j = cJSON_ParseWithLength(req->body, req->blen)) == NULL ||
	    !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		wxsim_v3_param_error(resp, "body", "body", "请求体不是合法的JSON对象");
		return NULL;
	}
	return j;
}

int
wxsim_v3_mchid_query(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *mchid = wxsim_http_param(req->query, "mchid");
	int rc = -1;

	if (mchid == NULL || mchid[0] == '\0')
		wxsim_v3_param_error(resp, "uri_template", "mchid", "缺少必填参数mchid");
	else if (strcmp(mchid, sim->cfg.mchid) != 0)
		wxsim_v3_error(resp, 400, "INVALID_REQUEST",
		    "mchid与请求方商户号不一致", WXSIM_WX_APPID_MCHID);
	else
		rc = 0;
	free(mchid);
	return rc;
}

const char *
wxsim_v3_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
wxsim_v3_int(const cJSON *obj, const char *name, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	double d;

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d > (double)LONG_MAX / 2 ||
	    d < (double)LONG_MIN / 2)
		return -1;
	*out = (long)d;
	return 1;
}

/* 401 SIGN_ERROR with WeChat's sign_information detail. */
static void
sign_error(struct wxsim_resp *resp, const struct wxsim_req *req,
    const struct gym_wx_auth *a, const char *issue)
{
	cJSON *j = NULL, *d, *dd, *si;
	char *head = NULL;
	size_t hlen;
	FILE *f;

	if ((f = open_memstream(&head, &hlen)) == NULL)
		goto fail;
	fprintf(f, "%s\n%s\n%s\n%s\n", req->method, req->target,
	    a != NULL ? a->timestamp : "", a != NULL ? a->nonce : "");
	if (fclose(f) != 0)
		goto fail;
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "code", "SIGN_ERROR") == NULL ||
	    cJSON_AddStringToObject(j, "message", "签名错误") == NULL ||
	    (d = cJSON_AddObjectToObject(j, "detail")) == NULL ||
	    cJSON_AddStringToObject(d, "field", "signature") == NULL ||
	    cJSON_AddStringToObject(d, "location", "authorization") == NULL ||
	    (dd = cJSON_AddObjectToObject(d, "detail")) == NULL ||
	    cJSON_AddStringToObject(dd, "issue", issue) == NULL ||
	    (si = cJSON_AddObjectToObject(d, "sign_information")) == NULL ||
	    cJSON_AddStringToObject(si, "method", req->method) == NULL ||
	    cJSON_AddStringToObject(si, "url", req->target) == NULL ||
	    cJSON_AddNumberToObject(si, "sign_message_length",
	    (double)(hlen + req->blen + 1)) == NULL ||
	    cJSON_AddStringToObject(si, "truncated_sign_message", head) == NULL)
		goto fail;
	free(head);
	wxsim_resp_json(resp, 401, j);
	resp->wx_code = WXSIM_WX_SIGN;
	return;
fail:
	free(head);
	cJSON_Delete(j);
	wxsim_v3_error(resp, 401, "SIGN_ERROR", "签名错误", WXSIM_WX_SIGN);
}

/* NULL when the request's credentials are good, else what is wrong. */
static const char *
check_auth(struct wxsim *sim, const struct wxsim_req *req, struct gym_wx_auth *a)
{
	const char *h = wxsim_http_header(req, "Authorization");
	char *msg = NULL;
	size_t mlen;
	long long ts, now;
	enum gym_err rc;

	if (h == NULL)
		return "missing Authorization";
	if (gym_wx_parse_authorization(h, a) != GYM_OK)
		return "malformed Authorization";
	if (strcmp(a->mchid, sim->cfg.mchid) != 0)
		return "mchid mismatch";
	if (strcmp(a->serial, sim->cfg.merchant_serial) != 0)
		return "serial_no is not the merchant certificate serial";
	if (a->timestamp[0] == '\0' || strlen(a->timestamp) > 12 ||
	    strspn(a->timestamp, "0123456789") != strlen(a->timestamp))
		return "timestamp is not unix seconds";
	ts = strtoll(a->timestamp, NULL, 10);
	now = (long long)wxsim_util_now();
	if (ts - now > 300 || now - ts > 300)
		return "timestamp expired";
	if ((rc = gym_wx_request_message(req->method, req->target, (long)ts,
	    a->nonce, req->body, req->blen, &msg, &mlen)) != GYM_OK)
		return "cannot build the sign message";
	rc = gym_rsa_verify(sim->merchant_pub, msg, mlen, a->signature);
	free(msg);
	return rc == GYM_OK ? NULL : "sign not match";
}

/* Sign resp as WeChat does (garbage when bad is set); 0 or -1. */
static int
sign_response(struct wxsim *sim, struct wxsim_resp *resp, int bad)
{
	char ts[24], nonce[33], rid[64], hex[45], *sig = NULL, *tampered = NULL;
	const char *body = resp->body != NULL ? resp->body : "";
	size_t blen = resp->body != NULL ? resp->blen : 0, i;
	int rc = -1;

	snprintf(ts, sizeof(ts), "%lld", (long long)wxsim_util_now());
	if (gym_random_alnum(nonce, 32) != GYM_OK || wxsim_util_hex(hex, 44) != 0)
		return -1;
	for (i = 0; hex[i]; i++)
		hex[i] = (char)toupper((unsigned char)hex[i]);
	snprintf(rid, sizeof(rid), "%s-%ld", hex, resp->wx_code);
	if (bad) {
		/* A valid base64 signature over other bytes. */
		if ((tampered = malloc(blen + 9)) == NULL)
			return -1;
		memcpy(tampered, body, blen);
		memcpy(tampered + blen, "tampered", 9);
		body = tampered;
		blen += 8;
	}
	if (gym_wx_sign_response(sim->platform_key, ts, nonce, body, blen, &sig) != GYM_OK)
		goto out;
	if (resp->ctype == NULL)
		resp->ctype = "application/json";
	if (wxsim_resp_header(resp, "Wechatpay-Timestamp", ts) != 0 ||
	    wxsim_resp_header(resp, "Wechatpay-Nonce", nonce) != 0 ||
	    wxsim_resp_header(resp, "Wechatpay-Signature", sig) != 0 ||
	    wxsim_resp_header(resp, "Wechatpay-Serial", sim->cfg.platform_serial) != 0 ||
	    wxsim_resp_header(resp, "Request-ID", rid) != 0)
		goto out;
	rc = 0;
out:
	free(sig);
	free(tampered);
	return rc;
}

static const char *
fault_code(int status)
{
	switch (status) {
	case 429: return "FREQUENCY_LIMITED";
	case 401: return "SIGN_ERROR";
	case 403: return "NO_AUTH";
	case 404: return "RESOURCE_NOT_EXISTS";
	default: return status >= 500 ? "SYSTEM_ERROR" : "INVALID_REQUEST";
	}
}

void
wxsim_v3_run(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp,
    wxsim_handler *h)
{
	struct wxsim_state *st = sim->state;
	struct gym_wx_auth a;
	const char *issue;
	long delay;
	int fail = 0, after = 0, bad;

	memset(&a, 0, sizeof(a));
	wxsim_state_lock(st);
	st->n.api_calls++;
	delay = st->faults.api_delay_ms;
	wxsim_state_unlock(st);
	if (delay > 0)
		wxsim_util_sleep_ms(delay, &sim->stop);

	if (h != NULL && (issue = check_auth(sim, req, &a)) != NULL) {
		wxsim_util_log("%s %s: SIGN_ERROR: %s", req->method, req->target, issue);
		wxsim_state_lock(st);
		st->n.sign_errors++;
		wxsim_state_unlock(st);
		sign_error(resp, req, a.timestamp[0] != '\0' ? &a : NULL, issue);
		goto sign;
	}
	wxsim_state_lock(st);
	if (h != NULL && st->faults.api_status != 0 && st->faults.api_fail_count != 0) {
		fail = st->faults.api_status;
		after = st->faults.api_fail_after;
		if (st->faults.api_fail_count > 0)
			st->faults.api_fail_count--;
	}
	wxsim_state_unlock(st);

	if (h == NULL) {
		if (resp->status == 0)
			wxsim_v3_error(resp, 404, "NOT_FOUND", "请求的资源不存在", 0);
	} else if (!fail || after)
		h(sim, req, resp);
	if (fail) {
		if (resp->status >= 200 && resp->status < 300)
			wxsim_util_log("%s %s: injected %d after a %d", req->method,
			    req->target, fail, resp->status);
		wxsim_v3_error(resp, fail, fault_code(fail), "系统错误，请稍后重试", 0);
	}
sign:
	wxsim_state_lock(st);
	bad = st->faults.api_bad_signature;
	wxsim_state_unlock(st);
	if (sign_response(sim, resp, bad) != 0) {
		wxsim_util_log("could not sign the response to %s %s", req->method,
		    req->target);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
	}
}

void
wxsim_v3_run_unsigned(struct wxsim *sim, const struct wxsim_req *req,
    struct wxsim_resp *resp, wxsim_handler *h)
{
	struct wxsim_state *st = sim->state;
	struct gym_wx_auth a;
	const char *issue;

	memset(&a, 0, sizeof(a));
	wxsim_state_lock(st);
	st->n.api_calls++;
	wxsim_state_unlock(st);
	if ((issue = check_auth(sim, req, &a)) != NULL) {
		wxsim_util_log("%s %s: SIGN_ERROR: %s", req->method, req->target, issue);
		wxsim_state_lock(st);
		st->n.sign_errors++;
		wxsim_state_unlock(st);
		sign_error(resp, req, a.timestamp[0] != '\0' ? &a : NULL, issue);
		if (sign_response(sim, resp, 0) != 0)
			wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return;
	}
	h(sim, req, resp);
}

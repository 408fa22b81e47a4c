/*
 * wxpay_pay.c: WeChat Pay APIv3 payments: JSAPI and Native prepay (with
 * the mini program's wx.requestPayment parameters), query, close, refund
 * and refund query, each one signed call (wxpay_transport.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "wxpay_transport.h"
#include "wxsign.h"

/* 1 when a string member of obj is absent or equal to want. */
static int
member_matches(const cJSON *obj, const char *name, const char *want)
{
	const char *v = gym_json_string(obj, name);

	return v == NULL || strcmp(v, want) == 0;
}

/* The JSAPI or native order body; *out is cJSON_free()d by the caller. */
static enum gym_err
order_body(const struct gym_config *cfg, const char *out_trade_no,
    const char *openid, long long total_fen, int64_t time_expire_us, char **out)
{
	cJSON *j = NULL, *o;
	char expire[40];
	enum gym_err rc = GYM_ENOMEM;

	*out = NULL;
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "appid", cfg->wx_appid) == NULL ||
	    cJSON_AddStringToObject(j, "mchid", cfg->wx_mchid) == NULL ||
	    cJSON_AddStringToObject(j, "description", cfg->wx_description) == NULL ||
	    cJSON_AddStringToObject(j, "out_trade_no", out_trade_no) == NULL)
		goto out;
	if (time_expire_us != 0) {
		gym_time_format_cst(time_expire_us, expire, sizeof(expire));
		if (cJSON_AddStringToObject(j, "time_expire", expire) == NULL)
			goto out;
	}
	if (cJSON_AddStringToObject(j, "notify_url", cfg->wx_notify_url) == NULL ||
	    (o = cJSON_AddObjectToObject(j, "amount")) == NULL ||
	    cJSON_AddNumberToObject(o, "total", (double)total_fen) == NULL ||
	    cJSON_AddStringToObject(o, "currency", "CNY") == NULL)
		goto out;
	if (openid != NULL && ((o = cJSON_AddObjectToObject(j, "payer")) == NULL ||
	    cJSON_AddStringToObject(o, "openid", openid) == NULL))
		goto out;
	if ((*out = cJSON_PrintUnformatted(j)) == NULL)
		goto out;
	rc = GYM_OK;
out:
	cJSON_Delete(j);
	return rc;
}

/* Create an order ("jsapi" or "native"); *json is the verified answer. */
static enum gym_err
prepay(struct gym_wx_client *c, const char *kind, const char *out_trade_no,
    const char *openid, long long total_fen, int64_t time_expire_us, cJSON **json)
{
	const struct gym_config *cfg = c->cfg;
	char path[64], *body = NULL;
	enum gym_err rc = GYM_EINVAL;

	*json = NULL;
	if (!gym__wx_id_ok(out_trade_no, 6, 32, OUT_TRADE_NO_CHARS) ||
	    total_fen < 1 || total_fen > MAX_TOTAL_FEN || time_expire_us < 0)
		goto out;
	rc = GYM_EINTERNAL;
	if (!gym_nonempty(cfg->wx_appid) || !gym_nonempty(cfg->wx_notify_url) ||
	    !gym_nonempty(cfg->wx_description) || !gym_nonempty(cfg->wx_mchid)) {
		gym__wx_own_error(c, "CONFIG", "appid, mchid, notify_url or description not configured");
		goto out;
	}
	snprintf(path, sizeof(path), "/v3/pay/transactions/%s", kind);
	if ((rc = order_body(cfg, out_trade_no, openid, total_fen, time_expire_us,
	    &body)) != GYM_OK)
		goto out;
	rc = gym__wx_v3_call(c, "POST", path, body, json);
out:
	cJSON_free(body);
	return rc;
}

/* Fill the mini program's wx.requestPayment parameters for prepay_id. */
static enum gym_err
pay_params(struct gym_wx_client *c, const char *prepay_id, struct gym_wx_payparams *out)
{
	const struct gym_config *cfg = c->cfg;
	char *sig = NULL;
	enum gym_err rc = GYM_EUPSTREAM;
	int n;

	if (gym__wx_copy_out(out->prepay_id, sizeof(out->prepay_id), prepay_id) == -1 ||
	    !gym__wx_token_ok(prepay_id, sizeof(out->prepay_id) - 1))
		goto out;
	n = snprintf(out->package, sizeof(out->package), "prepay_id=%s", prepay_id);
	if (n < 0 || (size_t)n >= sizeof(out->package))
		goto out;
	snprintf(out->timestamp, sizeof(out->timestamp), "%lld", (long long)gym_now());
	if ((rc = gym_random_alnum(out->nonce, NONCE_LEN)) != GYM_OK ||
	    (rc = gym_wx_paysign(cfg->wx_merchant_key, cfg->wx_appid, out->timestamp,
	    out->nonce, out->package, &sig)) != GYM_OK)
		goto out;
	rc = GYM_EINTERNAL;
	if (gym__wx_copy_out(out->pay_sign, sizeof(out->pay_sign), sig) == -1)
		goto out;
	rc = GYM_OK;
out:
	free(sig);
	return rc;
}

enum gym_err
gym_wx_prepay_jsapi(struct gym_wx_client *c, const char *out_trade_no,
    const char *openid, long long total_fen, int64_t time_expire_us,
    struct gym_wx_payparams *out)
{
	cJSON *j = NULL;
	const char *prepay_id;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (out == NULL)
		goto out;
	memset(out, 0, sizeof(*out));
	if (!gym__wx_id_ok(openid, 1, MAX_OPENID, OPENID_CHARS))
		goto out;
	if ((rc = prepay(c, "jsapi", out_trade_no, openid, total_fen,
	    time_expire_us, &j)) != GYM_OK)
		goto out;
	if ((prepay_id = gym_json_string(j, "prepay_id")) == NULL) {
		rc = gym__wx_bad_response(c, "POST", "/v3/pay/transactions/jsapi", "no prepay_id");
		goto out;
	}
	if ((rc = pay_params(c, prepay_id, out)) != GYM_OK) {
		memset(out, 0, sizeof(*out));
		if (rc == GYM_EUPSTREAM) {
			gym__wx_bad_response(c, "POST", "/v3/pay/transactions/jsapi",
			    "prepay_id unusable");
			goto out;
		}
		gym__wx_own_error(c, "PAYSIGN_FAILED", "could not sign the payment parameters");
		gym__wx_log_failure(c, "POST", "/v3/pay/transactions/jsapi", rc);
		goto out;
	}
	rc = GYM_OK;
out:
	cJSON_Delete(j);
	return rc;
}

enum gym_err
gym_wx_prepay_native(struct gym_wx_client *c, const char *out_trade_no,
    long long total_fen, int64_t time_expire_us, char *code_url, size_t len)
{
	cJSON *j = NULL;
	const char *url;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (code_url == NULL || len == 0)
		goto out;
	code_url[0] = '\0';
	if ((rc = prepay(c, "native", out_trade_no, NULL, total_fen,
	    time_expire_us, &j)) != GYM_OK)
		goto out;
	if ((url = gym_json_string(j, "code_url")) == NULL || !gym__wx_token_ok(url, 512)) {
		rc = gym__wx_bad_response(c, "POST", "/v3/pay/transactions/native", "no code_url");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (gym__wx_copy_out(code_url, len, url) == -1)
		goto out;
	rc = GYM_OK;
out:
	cJSON_Delete(j);
	return rc;
}

/* The path of an order: "/v3/pay/transactions/out-trade-no/NO" + tail. */
static char *
order_path(const char *out_trade_no, const char *tail)
{
	char *esc, *path;

	if ((esc = gym__wx_pct_escape(out_trade_no)) == NULL)
		return NULL;
	path = gym_asprintf("/v3/pay/transactions/out-trade-no/%s%s", esc, tail);
	free(esc);
	return path;
}

/* GET path (v3_call); an upstream error whose code is one of not_found
 * becomes GYM_ENOTFOUND. */
static enum gym_err
v3_get(struct gym_wx_client *c, const char *path, const char *const *not_found, cJSON **j)
{
	enum gym_err rc = gym__wx_v3_call(c, "GET", path, NULL, j);

	if (rc == GYM_EUPSTREAM && gym__wx_err_is(c, not_found))
		rc = GYM_ENOTFOUND;
	return rc;
}

/* The arguments of a call about one order: GYM_EINVAL for a malformed
 * out_trade_no, GYM_EINTERNAL without a configured mchid. */
static enum gym_err
order_args(const struct gym_wx_client *c, const char *out_trade_no)
{
	if (!gym__wx_id_ok(out_trade_no, 6, 32, OUT_TRADE_NO_CHARS))
		return GYM_EINVAL;
	if (!gym_nonempty(c->cfg->wx_mchid))
		return GYM_EINTERNAL;
	return GYM_OK;
}

enum gym_err
gym_wx_query(struct gym_wx_client *c, const char *out_trade_no, cJSON **txn)
{
	static const char *const not_found[] = { "ORDER_NOT_EXIST", NULL };
	char *path = NULL, *mchid = NULL, *tail = NULL;
	cJSON *j = NULL;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (txn == NULL)
		goto out;
	*txn = NULL;
	if ((rc = order_args(c, out_trade_no)) != GYM_OK)
		goto out;
	rc = GYM_ENOMEM;
	if ((mchid = gym__wx_pct_escape(c->cfg->wx_mchid)) == NULL ||
	    (tail = gym_asprintf("?mchid=%s", mchid)) == NULL ||
	    (path = order_path(out_trade_no, tail)) == NULL)
		goto out;
	if ((rc = v3_get(c, path, not_found, &j)) != GYM_OK)
		goto out;
	if (!member_matches(j, "mchid", c->cfg->wx_mchid) ||
	    gym_json_string(j, "out_trade_no") == NULL ||
	    strcmp(gym_json_string(j, "out_trade_no"), out_trade_no) != 0) {
		rc = gym__wx_bad_response(c, "GET", path, "transaction of another order");
		goto out;
	}
	*txn = j;
	j = NULL;
	rc = GYM_OK;
out:
	cJSON_Delete(j);
	free(path);
	free(tail);
	free(mchid);
	return rc;
}

enum gym_err
gym_wx_close(struct gym_wx_client *c, const char *out_trade_no)
{
	static const char *const paid[] = { "ORDERPAID", "ORDER_PAID",
	    "268449538", "268498689", NULL };
	static const char *const not_found[] = { "ORDER_NOT_EXIST", NULL };
	cJSON *b = NULL;
	char *path = NULL, *body = NULL;
	const char *num;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if ((rc = order_args(c, out_trade_no)) != GYM_OK)
		goto out;
	rc = GYM_ENOMEM;
	if ((path = order_path(out_trade_no, "/close")) == NULL ||
	    (b = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(b, "mchid", c->cfg->wx_mchid) == NULL ||
	    (body = cJSON_PrintUnformatted(b)) == NULL)
		goto out;
	if ((rc = gym__wx_v3_call(c, "POST", path, body, NULL)) == GYM_EUPSTREAM &&
	    c->err.http_status >= 300) {
		num = gym__wx_rid_code(c);
		if (gym__wx_err_is(c, paid) || strcmp(num, "268449538") == 0 ||
		    strcmp(num, "268498689") == 0)
			rc = GYM_ECONFLICT;
		else if (gym__wx_err_is(c, not_found) || strcmp(num, "268512771") == 0)
			rc = GYM_ENOTFOUND;
	}
out:
	cJSON_free(body);
	cJSON_Delete(b);
	free(path);
	return rc;
}

/* The refund request body; *out is cJSON_free()d by the caller. */
static enum gym_err
refund_body(const struct gym_config *cfg, const char *out_trade_no,
    const char *out_refund_no, const char *reason, long long refund_fen,
    long long total_fen, char **out)
{
	cJSON *j = NULL, *a;
	enum gym_err rc = GYM_ENOMEM;

	*out = NULL;
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "out_trade_no", out_trade_no) == NULL ||
	    cJSON_AddStringToObject(j, "out_refund_no", out_refund_no) == NULL)
		goto out;
	if (gym_nonempty(reason) && cJSON_AddStringToObject(j, "reason", reason) == NULL)
		goto out;
	if (gym_nonempty(cfg->wx_refund_notify_url) &&
	    cJSON_AddStringToObject(j, "notify_url", cfg->wx_refund_notify_url) == NULL)
		goto out;
	if ((a = cJSON_AddObjectToObject(j, "amount")) == NULL ||
	    cJSON_AddNumberToObject(a, "refund", (double)refund_fen) == NULL ||
	    cJSON_AddNumberToObject(a, "total", (double)total_fen) == NULL ||
	    cJSON_AddStringToObject(a, "currency", "CNY") == NULL ||
	    (*out = cJSON_PrintUnformatted(j)) == NULL)
		goto out;
	rc = GYM_OK;
out:
	cJSON_Delete(j);
	return rc;
}

/* A verified Refund must be the one we asked about. */
static enum gym_err
refund_check(struct gym_wx_client *c, const char *method, const char *path,
    const cJSON *j, const char *out_refund_no)
{
	const char *no = gym_json_string(j, "out_refund_no");

	if (no == NULL || strcmp(no, out_refund_no) != 0)
		return gym__wx_bad_response(c, method, path, "refund of another out_refund_no");
	return GYM_OK;
}

enum gym_err
gym_wx_refund_create(struct gym_wx_client *c, const char *out_trade_no,
    const char *out_refund_no, const char *reason, long long refund_fen,
    long long total_fen, cJSON **refund)
{
	static const char path[] = "/v3/refund/domestic/refunds";
	char *body = NULL;
	cJSON *j = NULL;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (refund == NULL)
		goto out;
	*refund = NULL;
	if (!gym__wx_id_ok(out_trade_no, 6, 32, OUT_TRADE_NO_CHARS) ||
	    !gym__wx_id_ok(out_refund_no, 1, 64, OUT_REFUND_NO_CHARS) ||
	    total_fen < 1 || total_fen > MAX_TOTAL_FEN ||
	    refund_fen < 1 || refund_fen > total_fen)
		goto out;
	if ((rc = refund_body(c->cfg, out_trade_no, out_refund_no, reason,
	    refund_fen, total_fen, &body)) != GYM_OK ||
	    (rc = gym__wx_v3_call(c, "POST", path, body, &j)) != GYM_OK ||
	    (rc = refund_check(c, "POST", path, j, out_refund_no)) != GYM_OK)
		goto out;
	*refund = j;
	j = NULL;
out:
	cJSON_Delete(j);
	cJSON_free(body);
	return rc;
}

enum gym_err
gym_wx_refund_query(struct gym_wx_client *c, const char *out_refund_no, cJSON **refund)
{
	static const char *const not_found[] = { "RESOURCE_NOT_EXISTS", NULL };
	char *path = NULL, *esc = NULL;
	cJSON *j = NULL;
	enum gym_err rc = GYM_EINVAL;

	gym__wx_begin(c);
	if (refund == NULL)
		goto out;
	*refund = NULL;
	if (!gym__wx_id_ok(out_refund_no, 1, 64, OUT_REFUND_NO_CHARS))
		goto out;
	rc = GYM_ENOMEM;
	if ((esc = gym__wx_pct_escape(out_refund_no)) == NULL ||
	    (path = gym_asprintf("/v3/refund/domestic/refunds/%s", esc)) == NULL)
		goto out;
	if ((rc = v3_get(c, path, not_found, &j)) != GYM_OK)
		goto out;
	if ((rc = refund_check(c, "GET", path, j, out_refund_no)) != GYM_OK)
		goto out;
	*refund = j;
	j = NULL;
out:
	cJSON_Delete(j);
	free(path);
	free(esc);
	return rc;
}

/*
 * wxpay.c: the merchant's WeChat client over wxhttp.c.  Owns the APIv3
 * calls (signed requests, verified answers), the mini program server
 * calls and the opening of notifications.
 *
 * Invariants:
 * - Every /v3 request is signed over the exact path and query sent and
 *   the exact body bytes sent; bodies are built with cJSON and never
 *   touched after signing.
 * - A 2xx answer is used only after its Wechatpay-* signature verified
 *   against the platform keyring; error bodies are only read for their
 *   code and message.
 * - One warn line at most per failed call: method, path without query,
 *   HTTP status, WeChat's code and request id.  Never a secret, a token,
 *   an openid or a body: the code2session URL carries the AppSecret and
 *   the subscribe URL the access token.
 * - Nothing is retried here.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "wxpay.h"
#include "wxsign.h"

#define HTTPS			"https://"
#define NONCE_LEN		32
#define MAX_TOTAL_FEN		2147483647LL	/* WeChat's amount is an int32 */
#define MAX_JS_CODE		256
#define MAX_OPENID		128
#define ALG_AES_GCM		"AEAD_AES_256_GCM"
#define OUT_TRADE_NO_CHARS	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-|*"
#define OUT_REFUND_NO_CHARS	OUT_TRADE_NO_CHARS "@"
#define OPENID_CHARS		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"

struct gym_wx_client {
	const struct gym_config *cfg;
	struct gym__wxhttp *http;
	char *pay_base;			/* wx_pay_base, no trailing '/' */
	const char *pay_prefix;		/* its path part, inside pay_base */
	char *api_base;			/* wx_api_base, no trailing '/' */
	struct gym_wx_error err;
	char request_id[128];		/* Request-ID of the last answer */
};

/* Mini program errcodes that mean "this js_code is no good". */
static const long bad_code_errcodes[] = { 40029, 40163, 40226, 41008 };


/* Free a string that held a secret. */
static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	gym_wipe(s, strlen(s));
	free(s);
}

/* Wipe every string of a tree (keys stay: they are ours). */
static void
json_wipe(cJSON *j)
{
	cJSON *it;

	for (it = j; it != NULL; it = it->next) {
		if (cJSON_IsString(it) && it->valuestring != NULL)
			gym_wipe(it->valuestring, strlen(it->valuestring));
		if (it->child != NULL)
			json_wipe(it->child);
	}
}

/* Delete a tree that held a secret (a session_key, a token). */
static void
json_delete_secret(cJSON *j)
{
	if (j == NULL)
		return;
	json_wipe(j->child);
	cJSON_Delete(j);
}

/* 1 when s is min to max characters, all from set. */
static int
id_ok(const char *s, size_t min, size_t max, const char *set)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n >= min && n <= max && strspn(s, set) == n;
}

/* 1 when s is printable ASCII of 1 to max bytes (an openid, a token). */
static int
token_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Percent-encode all but RFC 3986's unreserved characters; malloc'd. */
static char *
pct_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char unreserved[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz-._~";
	size_t n = strlen(s), i, o = 0;
	unsigned char ch;
	char *out;

	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch != '\0' && strchr(unreserved, ch) != NULL)
			out[o++] = (char)ch;
		else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

/* Copy src into dst[len]; 0, or -1 when it does not fit. */
static int
copy_out(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (dst == NULL || n >= len)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* An https:// base URL with a host: a copy without trailing '/'s and
 * *prefix pointing at its path part ("" or "/..."); NULL if not. */
static char *
base_dup(const char *url, const char **prefix)
{
	const char *host;
	size_t n;
	char *s;

	if (url == NULL || strncasecmp(url, HTTPS, strlen(HTTPS)) != 0)
		return NULL;
	host = url + strlen(HTTPS);
	if (*host == '\0' || *host == '/' || strpbrk(url, "?# \t\r\n") != NULL)
		return NULL;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if ((s = strndup(url, n)) == NULL)
		return NULL;
	if (prefix != NULL)
		*prefix = s + strlen(HTTPS) + strcspn(s + strlen(HTTPS), "/");
	return s;
}

/* ---- errors and logging ---- */

static void
own_error(struct gym_wx_client *c, const char *code, const char *msg)
{
	snprintf(c->err.code, sizeof(c->err.code), "%s", code);
	snprintf(c->err.message, sizeof(c->err.message), "%s", msg);
}

/* 1 when the last error's code is one of the NULL-terminated list. */
static int
err_is(const struct gym_wx_client *c, const char *const *codes)
{
	for (; *codes != NULL; codes++)
		if (strcmp(c->err.code, *codes) == 0)
			return 1;
	return 0;
}

/* The numeric code WeChat puts after the last '-' of Request-ID. */
static const char *
rid_code(const struct gym_wx_client *c)
{
	const char *p = strrchr(c->request_id, '-');

	return p != NULL ? p + 1 : "";
}

/* The one warn line of a failed call.  Our own codes carry a message we
 * wrote (curl's error text at most); WeChat's messages are left out, as
 * they may echo what we sent. */
static void
log_failure(const struct gym_wx_client *c, const char *method,
    const char *path, enum gym_err rc)
{
	static const char *const own[] = { "NETWORK", "TIMEOUT",
	    "SIGN_VERIFY_FAILED", "RESPONSE_TOO_LARGE", "BAD_RESPONSE",
	    "CURL_SETUP", "NOMEM", "CONFIG", "PAYSIGN_FAILED", NULL };

	if (rc == GYM_OK)
		return;
	gym_log_warnx("WeChat call %s %.*s failed: %s: HTTP %d, code %s%s%s%s%s",
	    method, (int)strcspn(path, "?"), path, gym_strerror(rc),
	    c->err.http_status, c->err.code[0] != '\0' ? c->err.code : "-",
	    err_is(c, own) ? ": " : "", err_is(c, own) ? c->err.message : "",
	    c->request_id[0] != '\0' ? ", request id " : "", c->request_id);
}

/* A non-2xx APIv3 answer: {"code","message"} into the last error. */
static enum gym_err
v3_error(struct gym_wx_client *c, const struct gym__wxhttp_resp *resp)
{
	cJSON *j = cJSON_ParseWithLength(resp->body, resp->len);
	const char *code = gym_json_string(j, "code"), *msg = gym_json_string(j, "message");

	if (code != NULL)
		snprintf(c->err.code, sizeof(c->err.code), "%s", code);
	else
		snprintf(c->err.code, sizeof(c->err.code), "HTTP_%ld", resp->status);
	snprintf(c->err.message, sizeof(c->err.message), "%s", msg != NULL ? msg : "");
	cJSON_Delete(j);
	return GYM_EUPSTREAM;
}

/* The answer's body as a JSON object into *json. */
static enum gym_err
parse_object(struct gym_wx_client *c, const struct gym__wxhttp_resp *resp, cJSON **json)
{
	cJSON *j = cJSON_ParseWithLength(resp->body, resp->len);

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		own_error(c, "BAD_RESPONSE", "answer is not a JSON object");
		return GYM_EUPSTREAM;
	}
	*json = j;
	return GYM_OK;
}

/* ---- APIv3 ---- */

/* Verify a 2xx answer's signature; never use its body otherwise. */
static enum gym_err
v3_verify(struct gym_wx_client *c, const struct gym__wxhttp_resp *resp)
{
	enum gym_err rc;

	rc = gym_wx_verify(&c->cfg->wx_platform, resp->timestamp, resp->nonce,
	    resp->serial, resp->signature, resp->body, resp->len, gym_now());
	if (rc == GYM_OK || rc == GYM_ENOMEM)
		return rc;
	own_error(c, "SIGN_VERIFY_FAILED", resp->signature[0] == '\0' ?
	    "answer carries no signature" : "answer signature did not verify");
	return GYM_EUPSTREAM;
}

/* The Wechatpay-Serial we ask WeChat to sign with: our first key. */
static const char *
v3_serial(const struct gym_wx_client *c)
{
	const struct gym_wx_keyring *kr = &c->cfg->wx_platform;

	return kr->n > 0 ? kr->k[0].serial : NULL;
}

/*
 * One signed APIv3 call: path (with its query) under wx_pay_base, body
 * NULL for GET.  A verified 2xx with json NULL is GYM_OK whatever the
 * body; with json, the body must be a JSON object (caller deletes).
 */
static enum gym_err
v3_call(struct gym_wx_client *c, const char *method, const char *path,
    const char *body, cJSON **json)
{
	const struct gym_config *cfg = c->cfg;
	struct gym__wxhttp_req req;
	struct gym__wxhttp_resp resp;
	char nonce[NONCE_LEN + 1], *url = NULL, *canon = NULL, *auth = NULL;
	size_t blen = body != NULL ? strlen(body) : 0;
	enum gym_err rc = GYM_EINTERNAL;

	if (json != NULL)
		*json = NULL;
	if (cfg->wx_merchant_key == NULL || !gym_nonempty(cfg->wx_mchid) ||
	    !gym_nonempty(cfg->wx_merchant_serial)) {
		own_error(c, "CONFIG", "merchant key, mchid or serial not configured");
		goto out;
	}
	rc = GYM_ENOMEM;
	if ((url = gym_asprintf("%s%s", c->pay_base, path)) == NULL ||
	    (canon = gym_asprintf("%s%s", c->pay_prefix, path)) == NULL)
		goto out;
	if ((rc = gym_random_alnum(nonce, NONCE_LEN)) != GYM_OK ||
	    (rc = gym_wx_authorization(cfg->wx_merchant_key, cfg->wx_mchid,
	    cfg->wx_merchant_serial, method, canon, (long)gym_now(), nonce,
	    body, blen, &auth)) != GYM_OK)
		goto out;
	req = (struct gym__wxhttp_req){ method, url, auth, v3_serial(c), body, blen };
	rc = gym__wxhttp_perform(c->http, &req, &resp, &c->err);
	snprintf(c->request_id, sizeof(c->request_id), "%s", resp.request_id);
	if (rc != GYM_OK)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		rc = v3_error(c, &resp);
		goto out;
	}
	if ((rc = v3_verify(c, &resp)) != GYM_OK)
		goto out;
	if (json != NULL && (rc = parse_object(c, &resp, json)) != GYM_OK)
		goto out;
	rc = GYM_OK;
out:
	log_failure(c, method, path, rc);
	free(auth);
	free(canon);
	free(url);
	return rc;
}

/* A verified answer that lacks what we asked for: BAD_RESPONSE, logged. */
static enum gym_err
bad_response(struct gym_wx_client *c, const char *method, const char *path,
    const char *what)
{
	own_error(c, "BAD_RESPONSE", what);
	log_failure(c, method, path, GYM_EUPSTREAM);
	return GYM_EUPSTREAM;
}

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
	if (!id_ok(out_trade_no, 6, 32, OUT_TRADE_NO_CHARS) ||
	    total_fen < 1 || total_fen > MAX_TOTAL_FEN || time_expire_us < 0)
		goto out;
	rc = GYM_EINTERNAL;
	if (!gym_nonempty(cfg->wx_appid) || !gym_nonempty(cfg->wx_notify_url) ||
	    !gym_nonempty(cfg->wx_description) || !gym_nonempty(cfg->wx_mchid)) {
		own_error(c, "CONFIG", "appid, mchid, notify_url or description not configured");
		goto out;
	}
	snprintf(path, sizeof(path), "/v3/pay/transactions/%s", kind);
	if ((rc = order_body(cfg, out_trade_no, openid, total_fen, time_expire_us,
	    &body)) != GYM_OK)
		goto out;
	rc = v3_call(c, "POST", path, body, json);
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

	if (copy_out(out->prepay_id, sizeof(out->prepay_id), prepay_id) == -1 ||
	    !token_ok(prepay_id, sizeof(out->prepay_id) - 1))
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
	if (copy_out(out->pay_sign, sizeof(out->pay_sign), sig) == -1)
		goto out;
	rc = GYM_OK;
out:
	free(sig);
	return rc;
}

/* ---- mini program server APIs ---- */

/*
 * One unsigned call under wx_api_base: path_query may hold a secret and
 * is never logged past its '?'.  The answer must be 200 with a JSON
 * object; a non-zero errcode is GYM_EUPSTREAM with the errcode as the
 * last error's code.  *json (caller deletes) on GYM_OK.  The transport's
 * copy of the answer is wiped: it may hold a session_key or a token.
 */
static enum gym_err
mp_call(struct gym_wx_client *c, const char *method, const char *path_query,
    const char *body, cJSON **json)
{
	struct gym__wxhttp_req req;
	struct gym__wxhttp_resp resp;
	const cJSON *ec;
	const char *msg;
	char *url = NULL;
	cJSON *j = NULL;
	enum gym_err rc = GYM_ENOMEM;

	*json = NULL;
	memset(&resp, 0, sizeof(resp));
	if ((url = gym_asprintf("%s%s", c->api_base, path_query)) == NULL)
		goto out;
	req = (struct gym__wxhttp_req){ method, url, NULL, NULL, body,
	    body != NULL ? strlen(body) : 0 };
	rc = gym__wxhttp_perform(c->http, &req, &resp, &c->err);
	if (rc != GYM_OK)
		goto out;
	if (resp.status != 200) {
		rc = v3_error(c, &resp);
		goto out;
	}
	if ((rc = parse_object(c, &resp, &j)) != GYM_OK)
		goto out;
	ec = cJSON_GetObjectItemCaseSensitive(j, "errcode");
	if (ec != NULL && (!cJSON_IsNumber(ec) || ec->valuedouble != 0)) {
		msg = gym_json_string(j, "errmsg");
		snprintf(c->err.code, sizeof(c->err.code), "%.0f",
		    cJSON_IsNumber(ec) ? ec->valuedouble : 0.0);
		snprintf(c->err.message, sizeof(c->err.message), "%s",
		    msg != NULL ? msg : "");
		rc = GYM_EUPSTREAM;
		goto out;
	}
	*json = j;
	j = NULL;
	rc = GYM_OK;
out:
	log_failure(c, method, path_query, rc);
	if (resp.body != NULL)
		gym_wipe(resp.body, resp.len);
	json_delete_secret(j);
	free_secret(url);
	return rc;
}

/* ---- public API ---- */

enum gym_err
gym_wx_client_new(const struct gym_config *cfg, struct gym_wx_client **out)
{
	struct gym_wx_client *c = NULL;
	enum gym_err rc = GYM_EINVAL;

	if (out == NULL)
		return GYM_EINVAL;
	*out = NULL;
	if (cfg == NULL)
		goto out;
	rc = GYM_ENOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->cfg = cfg;
	rc = GYM_EINVAL;
	if ((c->pay_base = base_dup(cfg->wx_pay_base, &c->pay_prefix)) == NULL ||
	    (c->api_base = base_dup(cfg->wx_api_base, NULL)) == NULL) {
		gym_log_errx("WeChat base URLs must be https:// URLs");
		goto out;
	}
	if ((rc = gym__wxhttp_new(cfg, &c->http)) != GYM_OK)
		goto out;
	*out = c;
	c = NULL;
	rc = GYM_OK;
out:
	gym_wx_client_free(c);
	return rc;
}

void
gym_wx_client_free(struct gym_wx_client *c)
{
	if (c == NULL)
		return;
	gym__wxhttp_free(c->http);
	free(c->pay_base);
	free(c->api_base);
	free(c);
}

const struct gym_wx_error *
gym_wx_last_error(const struct gym_wx_client *c)
{
	return &c->err;
}

/* Every public call starts with a clean last error. */
static void
begin(struct gym_wx_client *c)
{
	memset(&c->err, 0, sizeof(c->err));
	c->request_id[0] = '\0';
}

enum gym_err
gym_wx_prepay_jsapi(struct gym_wx_client *c, const char *out_trade_no,
    const char *openid, long long total_fen, int64_t time_expire_us,
    struct gym_wx_payparams *out)
{
	cJSON *j = NULL;
	const char *prepay_id;
	enum gym_err rc = GYM_EINVAL;

	begin(c);
	if (out == NULL)
		goto out;
	memset(out, 0, sizeof(*out));
	if (!id_ok(openid, 1, MAX_OPENID, OPENID_CHARS))
		goto out;
	if ((rc = prepay(c, "jsapi", out_trade_no, openid, total_fen,
	    time_expire_us, &j)) != GYM_OK)
		goto out;
	if ((prepay_id = gym_json_string(j, "prepay_id")) == NULL) {
		rc = bad_response(c, "POST", "/v3/pay/transactions/jsapi", "no prepay_id");
		goto out;
	}
	if ((rc = pay_params(c, prepay_id, out)) != GYM_OK) {
		memset(out, 0, sizeof(*out));
		if (rc == GYM_EUPSTREAM) {
			bad_response(c, "POST", "/v3/pay/transactions/jsapi",
			    "prepay_id unusable");
			goto out;
		}
		own_error(c, "PAYSIGN_FAILED", "could not sign the payment parameters");
		log_failure(c, "POST", "/v3/pay/transactions/jsapi", rc);
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

	begin(c);
	if (code_url == NULL || len == 0)
		goto out;
	code_url[0] = '\0';
	if ((rc = prepay(c, "native", out_trade_no, NULL, total_fen,
	    time_expire_us, &j)) != GYM_OK)
		goto out;
	if ((url = gym_json_string(j, "code_url")) == NULL || !token_ok(url, 512)) {
		rc = bad_response(c, "POST", "/v3/pay/transactions/native", "no code_url");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (copy_out(code_url, len, url) == -1)
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

	if ((esc = pct_escape(out_trade_no)) == NULL)
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
	enum gym_err rc = v3_call(c, "GET", path, NULL, j);

	if (rc == GYM_EUPSTREAM && err_is(c, not_found))
		rc = GYM_ENOTFOUND;
	return rc;
}

/* The arguments of a call about one order: GYM_EINVAL for a malformed
 * out_trade_no, GYM_EINTERNAL without a configured mchid. */
static enum gym_err
order_args(const struct gym_wx_client *c, const char *out_trade_no)
{
	if (!id_ok(out_trade_no, 6, 32, OUT_TRADE_NO_CHARS))
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

	begin(c);
	if (txn == NULL)
		goto out;
	*txn = NULL;
	if ((rc = order_args(c, out_trade_no)) != GYM_OK)
		goto out;
	rc = GYM_ENOMEM;
	if ((mchid = pct_escape(c->cfg->wx_mchid)) == NULL ||
	    (tail = gym_asprintf("?mchid=%s", mchid)) == NULL ||
	    (path = order_path(out_trade_no, tail)) == NULL)
		goto out;
	if ((rc = v3_get(c, path, not_found, &j)) != GYM_OK)
		goto out;
	if (!member_matches(j, "mchid", c->cfg->wx_mchid) ||
	    gym_json_string(j, "out_trade_no") == NULL ||
	    strcmp(gym_json_string(j, "out_trade_no"), out_trade_no) != 0) {
		rc = bad_response(c, "GET", path, "transaction of another order");
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

	begin(c);
	if ((rc = order_args(c, out_trade_no)) != GYM_OK)
		goto out;
	rc = GYM_ENOMEM;
	if ((path = order_path(out_trade_no, "/close")) == NULL ||
	    (b = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(b, "mchid", c->cfg->wx_mchid) == NULL ||
	    (body = cJSON_PrintUnformatted(b)) == NULL)
		goto out;
	if ((rc = v3_call(c, "POST", path, body, NULL)) == GYM_EUPSTREAM &&
	    c->err.http_status >= 300) {
		num = rid_code(c);
		if (err_is(c, paid) || strcmp(num, "268449538") == 0 ||
		    strcmp(num, "268498689") == 0)
			rc = GYM_ECONFLICT;
		else if (err_is(c, not_found) || strcmp(num, "268512771") == 0)
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
		return bad_response(c, method, path, "refund of another out_refund_no");
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

	begin(c);
	if (refund == NULL)
		goto out;
	*refund = NULL;
	if (!id_ok(out_trade_no, 6, 32, OUT_TRADE_NO_CHARS) ||
	    !id_ok(out_refund_no, 1, 64, OUT_REFUND_NO_CHARS) ||
	    total_fen < 1 || total_fen > MAX_TOTAL_FEN ||
	    refund_fen < 1 || refund_fen > total_fen)
		goto out;
	if ((rc = refund_body(c->cfg, out_trade_no, out_refund_no, reason,
	    refund_fen, total_fen, &body)) != GYM_OK ||
	    (rc = v3_call(c, "POST", path, body, &j)) != GYM_OK ||
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

	begin(c);
	if (refund == NULL)
		goto out;
	*refund = NULL;
	if (!id_ok(out_refund_no, 1, 64, OUT_REFUND_NO_CHARS))
		goto out;
	rc = GYM_ENOMEM;
	if ((esc = pct_escape(out_refund_no)) == NULL ||
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

	if ((appid = pct_escape(cfg->wx_appid)) != NULL &&
	    (secret = pct_escape(cfg->wx_app_secret)) != NULL &&
	    (code = pct_escape(js_code)) != NULL)
		path = gym_asprintf("/sns/jscode2session?appid=%s&secret=%s&js_code=%s"
		    "&grant_type=authorization_code", appid, secret, code);
	free(appid);
	free_secret(secret);
	free_secret(code);
	return path;
}

/* 1 when the mini program appid and secret are configured; else 0 with
 * a CONFIG error as the last error. */
static int
mp_configured(struct gym_wx_client *c)
{
	if (gym_nonempty(c->cfg->wx_appid) && gym_nonempty(c->cfg->wx_app_secret))
		return 1;
	own_error(c, "CONFIG", "appid or app secret not configured");
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

	begin(c);
	if (openid == NULL || len == 0)
		goto out;
	openid[0] = '\0';
	rc = GYM_E_INVALID_CODE;
	if (!token_ok(js_code, MAX_JS_CODE))
		goto out;
	rc = GYM_EINTERNAL;
	if (!mp_configured(c))
		goto out;
	rc = GYM_ENOMEM;
	if ((path = code2session_path(cfg, js_code)) == NULL)
		goto out;
	if ((rc = mp_call(c, "GET", path, NULL, &j)) != GYM_OK) {
		if (rc == GYM_EUPSTREAM && c->err.http_status == 200 && bad_js_code(c))
			rc = GYM_E_INVALID_CODE;
		goto out;
	}
	if (!id_ok(oid = gym_json_string(j, "openid"), 1, MAX_OPENID, OPENID_CHARS)) {
		rc = bad_response(c, "GET", "/sns/jscode2session", "no openid");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (copy_out(openid, len, oid) == -1)
		goto out;
	rc = GYM_OK;
out:
	json_delete_secret(j);
	free_secret(path);
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
	json_delete_secret(j);
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

	begin(c);
	if (token == NULL || len == 0)
		goto out;
	token[0] = '\0';
	rc = GYM_EINTERNAL;
	if (!mp_configured(c))
		goto out;
	rc = GYM_ENOMEM;
	if ((body = stable_token_body(cfg, force_refresh)) == NULL)
		goto out;
	if ((rc = mp_call(c, "POST", path, body, &j)) != GYM_OK)
		goto out;
	tok = gym_json_string(j, "access_token");
	exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	if (!token_ok(tok, 1024) || !cJSON_IsNumber(exp) || exp->valuedouble < 0 ||
	    exp->valuedouble > 86400 * 30) {
		rc = bad_response(c, "POST", path, "no access_token or expires_in");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (copy_out(token, len, tok) == -1)
		goto out;
	if (expires_in != NULL)
		*expires_in = (int)exp->valuedouble;
	rc = GYM_OK;
out:
	json_delete_secret(j);
	free_secret(body);
	return rc;
}

enum gym_err
gym_wx_subscribe_send(struct gym_wx_client *c, const char *access_token,
    const char *json_body)
{
	char *esc = NULL, *path = NULL;
	cJSON *j = NULL;
	enum gym_err rc = GYM_EINVAL;

	begin(c);
	if (!token_ok(access_token, 1024) || !gym_nonempty(json_body))
		goto out;
	rc = GYM_ENOMEM;
	if ((esc = pct_escape(access_token)) == NULL ||
	    (path = gym_asprintf("/cgi-bin/message/subscribe/send?access_token=%s", esc)) == NULL)
		goto out;
	rc = mp_call(c, "POST", path, json_body, &j);
out:
	cJSON_Delete(j);
	free_secret(path);
	free_secret(esc);
	return rc;
}

/* ---- notifications ---- */

/* Decrypt the envelope's resource; GYM_EINVAL for anything wrong. */
static enum gym_err
notify_decrypt(const struct gym_config *cfg, const cJSON *env, char **plain)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(env, "resource");
	const cJSON *ad = cJSON_GetObjectItemCaseSensitive(res, "associated_data");
	const char *alg = gym_json_string(res, "algorithm"), *ct = gym_json_string(res, "ciphertext");
	const char *nonce = gym_json_string(res, "nonce");
	char *pt = NULL;
	cJSON *pj = NULL;
	enum gym_err rc = GYM_EINVAL;

	*plain = NULL;
	if (!cJSON_IsObject(res) || alg == NULL || strcmp(alg, ALG_AES_GCM) != 0 ||
	    ct == NULL || nonce == NULL ||
	    (ad != NULL && !cJSON_IsString(ad) && !cJSON_IsNull(ad)))
		goto out;
	if ((rc = gym_aesgcm_decrypt(cfg->wx_apiv3_key, nonce,
	    cJSON_IsString(ad) ? ad->valuestring : "", ct, &pt, NULL)) != GYM_OK) {
		if (rc != GYM_ENOMEM)
			rc = GYM_EINVAL;
		goto out;
	}
	rc = GYM_EINVAL;
	if (!cJSON_IsObject(pj = cJSON_Parse(pt)))
		goto out;
	*plain = pt;
	pt = NULL;
	rc = GYM_OK;
out:
	cJSON_Delete(pj);
	free(pt);
	return rc;
}

enum gym_err
gym_wx_notify_open(const struct gym_config *cfg, const char *ts,
    const char *nonce, const char *serial, const char *signature,
    const char *body, size_t len, char *event_type, size_t etlen, char **plain)
{
	cJSON *env = NULL;
	const char *et;
	enum gym_err rc = GYM_EINVAL;

	if (plain != NULL)
		*plain = NULL;
	if (event_type != NULL && etlen > 0)
		event_type[0] = '\0';
	if (cfg == NULL || plain == NULL || (body == NULL && len > 0) ||
	    (event_type != NULL && etlen == 0))
		goto out;
	rc = gym_wx_verify(&cfg->wx_platform, ts, nonce, serial, signature,
	    body, len, gym_now());
	if (rc != GYM_OK) {
		if (rc != GYM_ENOMEM)
			rc = GYM_ECRYPTO;
		gym_log_warnx("WeChat notification refused: signature, serial or "
		    "timestamp failed (serial %.64s)", gym_nonempty(serial) ? serial : "-");
		goto out;
	}
	rc = GYM_EINTERNAL;
	if (!cfg->wx_have_apiv3_key) {
		gym_log_warnx("WeChat notification refused: no APIv3 key configured");
		goto out;
	}
	rc = GYM_EINVAL;
	if (!cJSON_IsObject(env = cJSON_ParseWithLength(body, len)) ||
	    (et = gym_json_string(env, "event_type")) == NULL ||
	    (event_type != NULL && copy_out(event_type, etlen, et) == -1)) {
		gym_log_warnx("WeChat notification refused: envelope unparseable");
		goto out;
	}
	if ((rc = notify_decrypt(cfg, env, plain)) != GYM_OK) {
		gym_log_warnx("WeChat notification refused: resource did not decrypt");
		if (event_type != NULL)
			event_type[0] = '\0';
		goto out;
	}
	rc = GYM_OK;
out:
	cJSON_Delete(env);
	return rc;
}

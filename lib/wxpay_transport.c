/*
 * wxpay_transport.c: the WeChat client (see wxpay_transport.h): its
 * lifecycle and last error, the signed APIv3 call and the mini program
 * call over wxpay_http.c, and the small helpers the API files share.
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

/* Free a string that held a secret. */
void
gym__wx_free_secret(char *s)
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
void
gym__wx_json_delete_secret(cJSON *j)
{
	if (j == NULL)
		return;
	json_wipe(j->child);
	cJSON_Delete(j);
}

/* 1 when s is min to max characters, all from set. */
int
gym__wx_id_ok(const char *s, size_t min, size_t max, const char *set)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n >= min && n <= max && strspn(s, set) == n;
}

/* 1 when s is printable ASCII of 1 to max bytes (an openid, a token). */
int
gym__wx_token_ok(const char *s, size_t max)
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
char *
gym__wx_pct_escape(const char *s)
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
int
gym__wx_copy_out(char *dst, size_t len, const char *src)
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

void
gym__wx_own_error(struct gym_wx_client *c, const char *code, const char *msg)
{
	snprintf(c->err.code, sizeof(c->err.code), "%s", code);
	snprintf(c->err.message, sizeof(c->err.message), "%s", msg);
}

/* 1 when the last error's code is one of the NULL-terminated list. */
int
gym__wx_err_is(const struct gym_wx_client *c, const char *const *codes)
{
	for (; *codes != NULL; codes++)
		if (strcmp(c->err.code, *codes) == 0)
			return 1;
	return 0;
}

/* The numeric code WeChat puts after the last '-' of Request-ID. */
const char *
gym__wx_rid_code(const struct gym_wx_client *c)
{
	const char *p = strrchr(c->request_id, '-');

	return p != NULL ? p + 1 : "";
}

/* The one warn line of a failed call.  Our own codes carry a message we
 * wrote (curl's error text at most); WeChat's messages are left out, as
 * they may echo what we sent. */
void
gym__wx_log_failure(const struct gym_wx_client *c, const char *method,
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
	    gym__wx_err_is(c, own) ? ": " : "", gym__wx_err_is(c, own) ? c->err.message : "",
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
		gym__wx_own_error(c, "BAD_RESPONSE", "answer is not a JSON object");
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
	gym__wx_own_error(c, "SIGN_VERIFY_FAILED", resp->signature[0] == '\0' ?
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
enum gym_err
gym__wx_v3_call(struct gym_wx_client *c, const char *method, const char *path,
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
		gym__wx_own_error(c, "CONFIG", "merchant key, mchid or serial not configured");
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
	req = (struct gym__wxhttp_req){ method, url, auth, v3_serial(c), body, blen, 0 };
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
	gym__wx_log_failure(c, method, path, rc);
	free(auth);
	free(canon);
	free(url);
	return rc;
}

enum gym_err
gym__wx_v3_download(struct gym_wx_client *c, const char *path, size_t max, char **out,
    size_t *len)
{
	const struct gym_config *cfg = c->cfg;
	struct gym__wxhttp_req req;
	struct gym__wxhttp_resp resp;
	char nonce[NONCE_LEN + 1], *url = NULL, *canon = NULL, *auth = NULL;
	enum gym_err rc = GYM_EINTERNAL;

	*out = NULL;
	*len = 0;
	if (cfg->wx_merchant_key == NULL || !gym_nonempty(cfg->wx_mchid) ||
	    !gym_nonempty(cfg->wx_merchant_serial)) {
		gym__wx_own_error(c, "CONFIG", "merchant key, mchid or serial not configured");
		goto out;
	}
	rc = GYM_ENOMEM;
	if ((url = gym_asprintf("%s%s", c->pay_base, path)) == NULL ||
	    (canon = gym_asprintf("%s%s", c->pay_prefix, path)) == NULL)
		goto out;
	if ((rc = gym_random_alnum(nonce, NONCE_LEN)) != GYM_OK ||
	    (rc = gym_wx_authorization(cfg->wx_merchant_key, cfg->wx_mchid,
	    cfg->wx_merchant_serial, "GET", canon, (long)gym_now(), nonce,
	    NULL, 0, &auth)) != GYM_OK)
		goto out;
	req = (struct gym__wxhttp_req){ "GET", url, auth, v3_serial(c), NULL, 0, max };
	rc = gym__wxhttp_perform(c->http, &req, &resp, &c->err);
	snprintf(c->request_id, sizeof(c->request_id), "%s", resp.request_id);
	if (rc != GYM_OK)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		rc = v3_error(c, &resp);
		goto out;
	}
	rc = GYM_ENOMEM;
	if ((*out = malloc(resp.len + 1)) == NULL)
		goto out;
	memcpy(*out, resp.body, resp.len);
	(*out)[resp.len] = '\0';
	*len = resp.len;
	rc = GYM_OK;
out:
	gym__wx_log_failure(c, "GET", path, rc);
	free(auth);
	free(canon);
	free(url);
	return rc;
}

/* A verified answer that lacks what we asked for: BAD_RESPONSE, logged. */
enum gym_err
gym__wx_bad_response(struct gym_wx_client *c, const char *method, const char *path,
    const char *what)
{
	gym__wx_own_error(c, "BAD_RESPONSE", what);
	gym__wx_log_failure(c, method, path, GYM_EUPSTREAM);
	return GYM_EUPSTREAM;
}

/* ---- mini program server APIs ---- */

/*
 * One unsigned call under wx_api_base: path_query may hold a secret and
 * is never logged past its '?'.  The answer must be 200 with a JSON
 * object; a non-zero errcode is GYM_EUPSTREAM with the errcode as the
 * last error's code.  *json (caller deletes) on GYM_OK.  The transport's
 * copy of the answer is wiped: it may hold a session_key or a token.
 */
enum gym_err
gym__wx_mp_call(struct gym_wx_client *c, const char *method, const char *path_query,
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
	    body != NULL ? strlen(body) : 0, 0 };
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
	gym__wx_log_failure(c, method, path_query, rc);
	if (resp.body != NULL)
		gym_wipe(resp.body, resp.len);
	gym__wx_json_delete_secret(j);
	gym__wx_free_secret(url);
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
void
gym__wx_begin(struct gym_wx_client *c)
{
	memset(&c->err, 0, sizeof(c->err));
	c->request_id[0] = '\0';
}

/*
 * alipay.c: the Alipay client (see alipay.h) over libcurl, in the style of
 * wxpay_http.c / wxpay_transport.c.
 *
 * Invariants:
 * - Every request is signed over the exact parameters sent (no empty
 *   parameter is ever sent); timestamps are China time, never localtime.
 * - An answer is used only after its signed node verified with Alipay's
 *   public key over the raw bytes; an unsigned error_response is a failed
 *   call.  Success is code "10000", whatever the HTTP status.
 * - One libcurl handle, reset per request: https only, peer verified,
 *   configured timeouts, no redirects, no signals, body capped.
 * - One warn line at most per failed call: method, HTTP status, code and
 *   sub_code.  Never a key, a signature or a body.  Nothing is retried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "alipay.h"
#include "json.h"
#include "log.h"

#define USER_AGENT		"gymd/1.0"
#define CHINA_OFFSET_S		(8 * 3600)
#define DEFAULT_CONNECT_MS	2000L
#define DEFAULT_TIMEOUT_MS	4000L
#define CODE_SUCCESS		"10000"

struct gym_ali_client {
	const struct gym_config *cfg;
	CURL *curl;
	char *buf;
	size_t len, cap;
	int too_large;
	char errbuf[CURL_ERROR_SIZE];
	struct gym_ali_error err;
};

int
gym_ali_configured(const struct gym_config *cfg)
{
	return cfg != NULL && gym_nonempty(cfg->ali_app_id) && cfg->ali_app_key != NULL &&
	    cfg->ali_public_key != NULL && gym_nonempty(cfg->ali_gateway_url);
}

void
gym_ali_time(time_t t, char out[20])
{
	struct tm tm;
	time_t cn = t + CHINA_OFFSET_S;

	gmtime_r(&cn, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

enum gym_err
gym_ali_time_parse(const char *s, time_t *t)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	int v[6] = { 0 }, k = 0;
	struct tm tm;
	size_t i;

	if (s == NULL || strlen(s) < sizeof(shape) - 1)
		return GYM_EINVAL;
	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] != 'd') {
			if (s[i] != shape[i])
				return GYM_EINVAL;
			k++;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return GYM_EINVAL;
		v[k] = v[k] * 10 + (s[i] - '0');
	}
	s += i;
	if (*s == '.' && strspn(s + 1, "0123456789") == 3)
		s += 4;
	if (*s != '\0' || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return GYM_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*t = timegm(&tm) - CHINA_OFFSET_S;
	return GYM_OK;
}

enum gym_err
gym_ali_request(const struct gym_config *cfg, const char *method, const char *biz_content,
    const char *timestamp, int with_notify, const char *return_url, struct gym_ali_params *out)
{
	char *sig = NULL;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	if (!gym_ali_configured(cfg))
		return GYM_EINTERNAL;
	if ((e = gym_ali_params_add(out, "app_id", cfg->ali_app_id)) != GYM_OK ||
	    (e = gym_ali_params_add(out, "method", method)) != GYM_OK ||
	    (e = gym_ali_params_add(out, "charset", "utf-8")) != GYM_OK ||
	    (e = gym_ali_params_add(out, "sign_type", "RSA2")) != GYM_OK ||
	    (e = gym_ali_params_add(out, "timestamp", timestamp)) != GYM_OK ||
	    (e = gym_ali_params_add(out, "version", "1.0")) != GYM_OK)
		goto out;
	if (with_notify && gym_nonempty(cfg->ali_notify_url) &&
	    (e = gym_ali_params_add(out, "notify_url", cfg->ali_notify_url)) != GYM_OK)
		goto out;
	if (gym_nonempty(return_url) &&
	    (e = gym_ali_params_add(out, "return_url", return_url)) != GYM_OK)
		goto out;
	if ((e = gym_ali_params_add(out, "biz_content", biz_content)) != GYM_OK ||
	    (e = gym_ali_sign(cfg->ali_app_key, out, &sig)) != GYM_OK ||
	    (e = gym_ali_params_add(out, "sign", sig)) != GYM_OK)
		goto out;
out:
	free(sig);
	if (e != GYM_OK)
		gym_ali_params_free(out);
	return e;
}

/* ---- client ---- */

enum gym_err
gym_ali_client_new(const struct gym_config *cfg, struct gym_ali_client **out)
{
	struct gym_ali_client *c;

	*out = NULL;
	if (!gym_ali_configured(cfg))
		return GYM_EINTERNAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return GYM_ENOMEM;
	c->cfg = cfg;
	c->cap = 4096;
	if ((c->buf = malloc(c->cap)) == NULL || (c->curl = curl_easy_init()) == NULL) {
		gym_ali_client_free(c);
		return GYM_ENOMEM;
	}
	*out = c;
	return GYM_OK;
}

void
gym_ali_client_free(struct gym_ali_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->buf);
	free(c);
}

const struct gym_ali_error *
gym_ali_last_error(const struct gym_ali_client *c)
{
	return &c->err;
}

void
gym_ali_error_set(struct gym_ali_client *c, int http_status, const char *code, const char *msg)
{
	memset(&c->err, 0, sizeof(c->err));
	c->err.http_status = http_status;
	snprintf(c->err.code, sizeof(c->err.code), "%s", code);
	snprintf(c->err.message, sizeof(c->err.message), "%s", msg);
}

static void
own_error(struct gym_ali_client *c, const char *code, const char *msg)
{
	snprintf(c->err.code, sizeof(c->err.code), "%s", code);
	snprintf(c->err.message, sizeof(c->err.message), "%s", msg);
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct gym_ali_client *c = arg;
	size_t total = size * n, ncap;
	char *nbuf;

	if (total > GYM_ALI_MAXBODY - c->len) {
		c->too_large = 1;
		return 0;
	}
	if (c->len + total + 1 > c->cap) {
		for (ncap = c->cap; ncap < c->len + total + 1; ncap *= 2)
			;
		if ((nbuf = realloc(c->buf, ncap)) == NULL)
			return 0;
		c->buf = nbuf;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, p, total);
	c->len += total;
	c->buf[c->len] = '\0';
	return total;
}

/* POST form to the gateway; GYM_OK when any HTTP answer came back. */
static enum gym_err
http_post(struct gym_ali_client *c, const char *form)
{
	const struct gym_config *cfg = c->cfg;
	struct curl_slist *hdr = NULL, *l;
	CURLcode cc;
	long status = 0;
	enum gym_err e = GYM_OK;

	curl_easy_reset(c->curl);
	c->len = 0;
	c->buf[0] = '\0';
	c->too_large = 0;
	c->errbuf[0] = '\0';
	if ((hdr = curl_slist_append(NULL,
	    "Content-Type: application/x-www-form-urlencoded;charset=utf-8")) == NULL ||
	    (l = curl_slist_append(hdr, "Expect:")) == NULL) {
		curl_slist_free_all(hdr);
		own_error(c, "NOMEM", "out of memory");
		return GYM_ENOMEM;
	}
	hdr = l;
	if ((cc = curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    (cc = curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https")) != CURLE_OK ||
#else
	    (cc = curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    (cc = curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    cfg->wx_connect_timeout_ms > 0 ? (long)cfg->wx_connect_timeout_ms :
	    DEFAULT_CONNECT_MS)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, cfg->wx_timeout_ms > 0 ?
	    (long)cfg->wx_timeout_ms : DEFAULT_TIMEOUT_MS)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_URL, cfg->ali_gateway_url)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_USERAGENT, USER_AGENT)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_POST, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(form))) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, form)) != CURLE_OK ||
	    (gym_nonempty(cfg->ali_cainfo) &&
	    (cc = curl_easy_setopt(c->curl, CURLOPT_CAINFO, cfg->ali_cainfo)) != CURLE_OK)) {
		own_error(c, "CURL_SETUP", curl_easy_strerror(cc));
		e = GYM_EINTERNAL;
		goto out;
	}
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	c->err.http_status = (int)status;
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		own_error(c, "TIMEOUT", c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cc));
		e = GYM_ETIMEOUT;
	} else if (c->too_large) {
		own_error(c, "RESPONSE_TOO_LARGE", "answer longer than the cap");
		e = GYM_EUPSTREAM;
	} else if (cc != CURLE_OK) {
		own_error(c, "NETWORK", c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cc));
		e = GYM_EUPSTREAM;
	}
out:
	curl_slist_free_all(hdr);
	return e;
}

static void
log_failure(const struct gym_ali_client *c, const char *method, enum gym_err e)
{
	if (e == GYM_OK)
		return;
	gym_log_warnx("Alipay call %s failed: %s: HTTP %d, code %s%s%s%s%s", method,
	    gym_strerror(e), c->err.http_status, c->err.code[0] != '\0' ? c->err.code : "-",
	    c->err.sub_code[0] != '\0' ? " " : "", c->err.sub_code,
	    c->err.sub_code[0] == '\0' && c->err.message[0] != '\0' ? ": " : "",
	    c->err.sub_code[0] == '\0' ? c->err.message : "");
}

enum gym_err
gym_ali_call(struct gym_ali_client *c, const char *method, const cJSON *biz, cJSON **node)
{
	struct gym_ali_params ps = { 0 };
	char ts[20], *bizs = NULL, *form = NULL;
	const char *code, *sub, *msg;
	enum gym_err e;

	*node = NULL;
	memset(&c->err, 0, sizeof(c->err));
	if ((bizs = cJSON_PrintUnformatted(biz)) == NULL) {
		e = GYM_ENOMEM;
		goto out;
	}
	gym_ali_time(gym_now(), ts);
	if ((e = gym_ali_request(c->cfg, method, bizs, ts,
	    strcmp(method, "alipay.trade.precreate") == 0, NULL, &ps)) != GYM_OK) {
		own_error(c, "CONFIG", "request could not be signed");
		goto out;
	}
	if ((e = gym_ali_form_encode(&ps, &form)) != GYM_OK ||
	    (e = http_post(c, form)) != GYM_OK)
		goto out;
	e = gym_ali_verify_response(c->cfg->ali_public_key, method, c->buf, c->len, node);
	if (e == GYM_ECRYPTO || e == GYM_EINVAL) {
		own_error(c, e == GYM_ECRYPTO ? "SIGN_VERIFY_FAILED" : "BAD_RESPONSE",
		    e == GYM_ECRYPTO ? "answer signature missing or did not verify" :
		    "answer is not a gateway answer");
		e = GYM_EUPSTREAM;
		goto out;
	}
	code = gym_json_string(*node, "code");
	sub = gym_json_string(*node, "sub_code");
	msg = gym_json_string(*node, "sub_msg");
	if (msg == NULL)
		msg = gym_json_string(*node, "msg");
	snprintf(c->err.code, sizeof(c->err.code), "%s", code != NULL ? code : "");
	snprintf(c->err.sub_code, sizeof(c->err.sub_code), "%s", sub != NULL ? sub : "");
	snprintf(c->err.message, sizeof(c->err.message), "%s", msg != NULL ? msg : "");
	if (e == GYM_OK && code != NULL && strcmp(code, CODE_SUCCESS) == 0) {
		memset(&c->err, 0, sizeof(c->err));
		goto out;
	}
	e = GYM_EUPSTREAM;
out:
	log_failure(c, method, e);
	gym_ali_params_free(&ps);
	free(form);
	cJSON_free(bizs);
	return e;
}

/* 1 when the last failure was the business sub_code. */
static int
sub_is(const struct gym_ali_client *c, const char *sub)
{
	return strcmp(c->err.sub_code, sub) == 0;
}

/* {"out_trade_no": ...} */
static cJSON *
biz_trade(const char *out_trade_no)
{
	cJSON *b = cJSON_CreateObject();

	if (b != NULL && cJSON_AddStringToObject(b, "out_trade_no", out_trade_no) == NULL) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

static int
add_yuan(cJSON *b, const char *name, long long fen)
{
	char y[24];

	gym_ali_yuan(fen, y, sizeof(y));
	return cJSON_AddStringToObject(b, name, y) != NULL;
}

enum gym_err
gym_ali_precreate(struct gym_ali_client *c, const char *out_trade_no, long long fen,
    const char *subject, int timeout_min, char *qr, size_t qrsz)
{
	cJSON *b, *node = NULL;
	char to[16];
	const char *q;
	enum gym_err e;

	if (fen <= 0 || timeout_min < 1 || timeout_min > 1440 || !gym_nonempty(subject))
		return GYM_EINVAL;
	snprintf(to, sizeof(to), "%dm", timeout_min);
	if ((b = biz_trade(out_trade_no)) == NULL || !add_yuan(b, "total_amount", fen) ||
	    cJSON_AddStringToObject(b, "subject", subject) == NULL ||
	    cJSON_AddStringToObject(b, "product_code", "FACE_TO_FACE_PAYMENT") == NULL ||
	    cJSON_AddStringToObject(b, "timeout_express", to) == NULL) {
		cJSON_Delete(b);
		return GYM_ENOMEM;
	}
	e = gym_ali_call(c, "alipay.trade.precreate", b, &node);
	cJSON_Delete(b);
	if (e == GYM_EUPSTREAM && (sub_is(c, "ACQ.TRADE_HAS_SUCCESS") ||
	    sub_is(c, "ACQ.TRADE_HAS_CLOSE")))
		e = GYM_ECONFLICT;
	if (e == GYM_OK && ((q = gym_json_string(node, "qr_code")) == NULL || q[0] == '\0' ||
	    strlen(q) >= qrsz)) {
		own_error(c, "BAD_RESPONSE", "no qr_code");
		e = GYM_EUPSTREAM;
	} else if (e == GYM_OK)
		memcpy(qr, q, strlen(q) + 1);
	cJSON_Delete(node);
	return e;
}

enum gym_err
gym_ali_pay_url(struct gym_ali_client *c, int wap, const char *out_trade_no, long long fen,
    const char *subject, int64_t expire_us, const char *return_url, char **url)
{
	struct gym_ali_params ps = { 0 };
	char ts[20], exp[20], *bizs = NULL, *q = NULL;
	cJSON *b;
	enum gym_err e = GYM_ENOMEM;

	*url = NULL;
	memset(&c->err, 0, sizeof(c->err));
	if (fen <= 0 || !gym_nonempty(subject))
		return GYM_EINVAL;
	if ((b = biz_trade(out_trade_no)) == NULL ||
	    cJSON_AddStringToObject(b, "product_code", wap ? "QUICK_WAP_WAY" :
	    "FAST_INSTANT_TRADE_PAY") == NULL || !add_yuan(b, "total_amount", fen) ||
	    cJSON_AddStringToObject(b, "subject", subject) == NULL)
		goto out;
	if (expire_us > 0) {
		gym_ali_time((time_t)(expire_us / 1000000), exp);
		if (cJSON_AddStringToObject(b, "time_expire", exp) == NULL)
			goto out;
	}
	if (wap && gym_nonempty(return_url) &&
	    cJSON_AddStringToObject(b, "quit_url", return_url) == NULL)
		goto out;
	if ((bizs = cJSON_PrintUnformatted(b)) == NULL)
		goto out;
	gym_ali_time(gym_now(), ts);
	if ((e = gym_ali_request(c->cfg, wap ? "alipay.trade.wap.pay" : "alipay.trade.page.pay",
	    bizs, ts, 1, return_url, &ps)) != GYM_OK ||
	    (e = gym_ali_form_encode(&ps, &q)) != GYM_OK)
		goto out;
	e = (*url = gym_asprintf("%s?%s", c->cfg->ali_gateway_url, q)) != NULL ? GYM_OK :
	    GYM_ENOMEM;
out:
	cJSON_Delete(b);
	cJSON_free(bizs);
	free(q);
	gym_ali_params_free(&ps);
	return e;
}

/* A call whose answer the caller reads: biz consumed, ACQ.TRADE_NOT_EXIST
 * is GYM_ENOTFOUND, *node only on GYM_OK. */
static enum gym_err
call_trade(struct gym_ali_client *c, const char *method, cJSON *biz, cJSON **node)
{
	enum gym_err e;

	if (biz == NULL)
		return GYM_ENOMEM;
	e = gym_ali_call(c, method, biz, node);
	cJSON_Delete(biz);
	if (e == GYM_EUPSTREAM && sub_is(c, "ACQ.TRADE_NOT_EXIST"))
		e = GYM_ENOTFOUND;
	if (e != GYM_OK) {
		cJSON_Delete(*node);
		*node = NULL;
	}
	return e;
}

enum gym_err
gym_ali_query(struct gym_ali_client *c, const char *out_trade_no, cJSON **node)
{
	*node = NULL;
	return call_trade(c, "alipay.trade.query", biz_trade(out_trade_no), node);
}

enum gym_err
gym_ali_close(struct gym_ali_client *c, const char *out_trade_no)
{
	cJSON *b = biz_trade(out_trade_no), *node = NULL;
	enum gym_err e;

	if (b == NULL)
		return GYM_ENOMEM;
	e = gym_ali_call(c, "alipay.trade.close", b, &node);
	cJSON_Delete(b);
	cJSON_Delete(node);
	if (e == GYM_EUPSTREAM && sub_is(c, "ACQ.TRADE_NOT_EXIST"))
		e = GYM_ENOTFOUND;
	else if (e == GYM_EUPSTREAM && (sub_is(c, "ACQ.TRADE_STATUS_ERROR") ||
	    sub_is(c, "ACQ.TRADE_HAS_SUCCESS") || sub_is(c, "ACQ.TRADE_HAS_FINISHED")))
		e = GYM_ECONFLICT;
	return e;
}

enum gym_err
gym_ali_refund(struct gym_ali_client *c, const char *out_trade_no, const char *out_request_no,
    long long fen, const char *reason, cJSON **node)
{
	cJSON *b;

	*node = NULL;
	if (fen <= 0 || !gym_nonempty(out_request_no))
		return GYM_EINVAL;
	if ((b = biz_trade(out_trade_no)) == NULL || !add_yuan(b, "refund_amount", fen) ||
	    cJSON_AddStringToObject(b, "out_request_no", out_request_no) == NULL ||
	    (gym_nonempty(reason) && cJSON_AddStringToObject(b, "refund_reason", reason) == NULL)) {
		cJSON_Delete(b);
		return GYM_ENOMEM;
	}
	return call_trade(c, "alipay.trade.refund", b, node);
}

enum gym_err
gym_ali_refund_query(struct gym_ali_client *c, const char *out_trade_no,
    const char *out_request_no, cJSON **node)
{
	cJSON *b;

	*node = NULL;
	if ((b = biz_trade(out_trade_no)) == NULL ||
	    cJSON_AddStringToObject(b, "out_request_no", out_request_no) == NULL) {
		cJSON_Delete(b);
		return GYM_ENOMEM;
	}
	return call_trade(c, "alipay.trade.fastpay.refund.query", b, node);
}

enum gym_err
gym_ali_bill_url(struct gym_ali_client *c, const char *bill_type, const char *date, char **url)
{
	cJSON *b = cJSON_CreateObject(), *node = NULL;
	const char *u;
	enum gym_err e;

	*url = NULL;
	if (b == NULL || cJSON_AddStringToObject(b, "bill_type", bill_type) == NULL ||
	    cJSON_AddStringToObject(b, "bill_date", date) == NULL) {
		cJSON_Delete(b);
		return GYM_ENOMEM;
	}
	e = gym_ali_call(c, "alipay.data.dataservice.bill.downloadurl.query", b, &node);
	cJSON_Delete(b);
	if (e == GYM_EUPSTREAM && strncmp(c->err.sub_code, "isp.bill_not_exist", 18) == 0)
		e = GYM_ENOTFOUND;
	if (e == GYM_OK) {
		if ((u = gym_json_string(node, "bill_download_url")) == NULL || u[0] == '\0') {
			own_error(c, "BAD_RESPONSE", "no bill_download_url");
			e = GYM_EUPSTREAM;
		} else if ((*url = strdup(u)) == NULL)
			e = GYM_ENOMEM;
	}
	cJSON_Delete(node);
	return e;
}

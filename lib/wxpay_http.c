/*
 * wxpay_http.c: the HTTPS transport of the WeChat client.  Owns the worker's
 * one libcurl easy handle and the response buffer.  Invariants: every
 * request starts from curl_easy_reset (connections and TLS sessions stay
 * cached), allows https only, verifies the peer, runs under the
 * configured connect and total timeouts, never follows redirects and
 * never raises signals; the body kept is at most GYM__WXHTTP_MAXBODY
 * bytes.  Nothing here logs: the caller knows which part of the URL is
 * safe to print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "wxpay_transport.h"

#define USER_AGENT	"gymd/1.0"
#define BUF_INITIAL	4096
/* When a hand-made configuration leaves a timeout 0 (libcurl: forever). */
#define DEFAULT_CONNECT_MS	2000L
#define DEFAULT_TIMEOUT_MS	4000L

struct gym__wxhttp {
	const struct gym_config *cfg;
	CURL *curl;
	char *buf;			/* the body, NUL-terminated */
	size_t len, cap;
	int too_large;			/* the write callback stopped: cap */
	int nomem;			/* the write callback stopped: realloc */
	size_t maxbody;			/* this request's cap */
	struct gym__wxhttp_resp *resp;	/* headers go here during a request */
	char errbuf[CURL_ERROR_SIZE];
};

/* The response headers kept, by name, and where each one goes. */
#define RESP_FIELD(name, member) \
	{ name, offsetof(struct gym__wxhttp_resp, member), \
	  sizeof(((struct gym__wxhttp_resp *)0)->member) }
static const struct resp_field {
	const char *name;
	size_t off, size;
} resp_fields[] = {
	RESP_FIELD("Wechatpay-Timestamp", timestamp),
	RESP_FIELD("Wechatpay-Nonce", nonce),
	RESP_FIELD("Wechatpay-Serial", serial),
	RESP_FIELD("Wechatpay-Signature", signature),
	RESP_FIELD("Request-ID", request_id),
};
#define RESP_NFIELDS (sizeof(resp_fields) / sizeof(resp_fields[0]))

static void
clear_headers(struct gym__wxhttp_resp *r)
{
	size_t i;

	for (i = 0; i < RESP_NFIELDS; i++)
		((char *)r)[resp_fields[i].off] = '\0';
}

static void
set_error(struct gym_wx_error *err, const char *code, const char *msg)
{
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->message, sizeof(err->message), "%s", msg);
}

/*
 * CURLOPT_HEADERFUNCTION: one header line at a time, not NUL-terminated.
 * A status line starts a new header block (after a 1xx), so what an
 * earlier block set is forgotten.  Names compare case-insensitively; a
 * value too long for its field leaves the field empty, which fails
 * verification rather than checking a truncated signature.
 */
static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct gym__wxhttp *h = arg;
	const struct resp_field *f;
	size_t total = size * n, namelen, vlen, i;
	const char *colon, *v;
	char *dst;

	if (total >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		clear_headers(h->resp);
		return total;
	}
	if ((colon = memchr(p, ':', total)) == NULL)
		return total;
	namelen = (size_t)(colon - p);
	v = colon + 1;
	vlen = total - namelen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (i = 0; i < RESP_NFIELDS; i++) {
		f = &resp_fields[i];
		if (strlen(f->name) != namelen || strncasecmp(f->name, p, namelen) != 0)
			continue;
		dst = (char *)h->resp + f->off;
		if (vlen >= f->size || memchr(v, '\0', vlen) != NULL)
			vlen = 0;
		memcpy(dst, v, vlen);
		dst[vlen] = '\0';
	}
	return total;
}

/* CURLOPT_WRITEFUNCTION: append to the buffer, abort past the cap. */
static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct gym__wxhttp *h = arg;
	size_t total = size * n, ncap;
	char *nbuf;

	if (total > h->maxbody - h->len) {
		h->too_large = 1;
		return 0;
	}
	if (h->len + total + 1 > h->cap) {
		ncap = h->cap;
		while (ncap < h->len + total + 1)
			ncap *= 2;
		if ((nbuf = realloc(h->buf, ncap)) == NULL) {
			h->nomem = 1;
			return 0;
		}
		h->buf = nbuf;
		h->cap = ncap;
	}
	memcpy(h->buf + h->len, p, total);
	h->len += total;
	h->buf[h->len] = '\0';
	return total;
}

/* Append "Name: value" to *list; 0 or -1. */
static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist *l;
	size_t n = strlen(name) + strlen(value) + 3;
	char *line;

	if ((line = malloc(n)) == NULL)
		return -1;
	snprintf(line, n, "%s: %s", name, value);
	l = curl_slist_append(*list, line);
	free(line);
	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

/* The request headers; NULL when out of memory.  "Expect:" with no
 * value stops libcurl from sending Expect: 100-continue. */
static struct curl_slist *
make_headers(const struct gym__wxhttp_req *req)
{
	struct curl_slist *list = NULL, *l;
	static const char *const fixed[] = {
		"Accept: application/json",
		"Content-Type: application/json",
		"Expect:",
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if ((l = curl_slist_append(list, fixed[i])) == NULL)
			goto fail;
		list = l;
	}
	if (req->authorization != NULL &&
	    add_header(&list, "Authorization", req->authorization) == -1)
		goto fail;
	if (req->wechatpay_serial != NULL &&
	    add_header(&list, "Wechatpay-Serial", req->wechatpay_serial) == -1)
		goto fail;
	return list;
fail:
	curl_slist_free_all(list);
	return NULL;
}

/* The options every request gets; CURLE_OK or the first failure. */
static CURLcode
set_common(struct gym__wxhttp *h, const struct gym__wxhttp_req *req,
    struct curl_slist *headers)
{
	const struct gym_config *cfg = h->cfg;
	CURL *c = h->curl;
	CURLcode cc;

	if ((cc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    (cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https")) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https")) != CURLE_OK ||
#else
	    (cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    (cc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    cfg->wx_connect_timeout_ms > 0 ? (long)cfg->wx_connect_timeout_ms :
	    DEFAULT_CONNECT_MS)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->wx_timeout_ms > 0 ?
	    (long)cfg->wx_timeout_ms : DEFAULT_TIMEOUT_MS)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_URL, req->url)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEDATA, h)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_HEADERDATA, h)) != CURLE_OK)
		return cc;
	if (cfg->wx_cainfo != NULL && cfg->wx_cainfo[0] != '\0' &&
	    (cc = curl_easy_setopt(c, CURLOPT_CAINFO, cfg->wx_cainfo)) != CURLE_OK)
		return cc;
	return CURLE_OK;
}

/* The method and body; CURLE_OK or the first failure. */
static CURLcode
set_method(struct gym__wxhttp *h, const struct gym__wxhttp_req *req)
{
	CURLcode cc;

	if (strcmp(req->method, "GET") == 0)
		return curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	if ((cc = curl_easy_setopt(h->curl, CURLOPT_POST, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)req->blen)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS,
	    req->blen > 0 ? req->body : "")) != CURLE_OK)
		return cc;
	return CURLE_OK;
}

/*
 * A transport failure into err.  The error buffer names the host and
 * port at most, but if it ever quoted a URL (with a query: a secret or a
 * token) the generic text is used instead.
 */
static enum gym_err
transport_error(struct gym__wxhttp *h, CURLcode cc, struct gym_wx_error *err)
{
	const char *msg = h->errbuf[0] != '\0' && strchr(h->errbuf, '?') == NULL ?
	    h->errbuf : curl_easy_strerror(cc);

	if (cc == CURLE_WRITE_ERROR && h->too_large) {
		set_error(err, "RESPONSE_TOO_LARGE", "response body over the size limit");
		return GYM_EUPSTREAM;
	}
	if (cc == CURLE_WRITE_ERROR && h->nomem) {
		set_error(err, "NOMEM", "out of memory reading the response");
		return GYM_ENOMEM;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		set_error(err, "TIMEOUT", msg);
		return GYM_ETIMEOUT;
	}
	set_error(err, "NETWORK", msg);
	return GYM_EUPSTREAM;
}

enum gym_err
gym__wxhttp_new(const struct gym_config *cfg, struct gym__wxhttp **out)
{
	struct gym__wxhttp *h = NULL;
	enum gym_err rc = GYM_ENOMEM;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->buf = malloc(BUF_INITIAL)) == NULL)
		goto out;
	h->cap = BUF_INITIAL;
	h->buf[0] = '\0';
	h->cfg = cfg;
	/* The first easy handle also runs curl_global_init: workers are
	 * single-threaded, so that is safe here. */
	rc = GYM_ESYSTEM;
	if ((h->curl = curl_easy_init()) == NULL)
		goto out;
	*out = h;
	h = NULL;
	rc = GYM_OK;
out:
	gym__wxhttp_free(h);
	return rc;
}

void
gym__wxhttp_free(struct gym__wxhttp *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->buf);
	free(h);
}

enum gym_err
gym__wxhttp_perform(struct gym__wxhttp *h, const struct gym__wxhttp_req *req,
    struct gym__wxhttp_resp *resp, struct gym_wx_error *err)
{
	struct curl_slist *headers = NULL;
	long status = 0;
	CURLcode cc;
	enum gym_err rc = GYM_ENOMEM;

	memset(resp, 0, sizeof(*resp));
	resp->body = h->buf;
	h->len = 0;
	h->buf[0] = '\0';
	h->too_large = 0;
	h->nomem = 0;
	h->maxbody = req->maxbody > 0 ? req->maxbody : GYM__WXHTTP_MAXBODY;
	h->errbuf[0] = '\0';
	h->resp = resp;
	curl_easy_reset(h->curl);
	if ((headers = make_headers(req)) == NULL)
		goto out;
	rc = GYM_EINTERNAL;
	if ((cc = set_common(h, req, headers)) != CURLE_OK ||
	    (cc = set_method(h, req)) != CURLE_OK) {
		set_error(err, "CURL_SETUP", curl_easy_strerror(cc));
		goto out;
	}
	cc = curl_easy_perform(h->curl);
	if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	resp->status = status;
	err->http_status = (int)status;
	if (cc != CURLE_OK) {
		rc = transport_error(h, cc, err);
		goto out;
	}
	rc = GYM_OK;
out:
	/* the buffer may have moved while growing */
	resp->body = h->buf;
	resp->len = h->len;
	h->resp = NULL;
	/* the handle keeps pointers to these: drop them before freeing */
	(void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	return rc;
}

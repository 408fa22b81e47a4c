/*
 * check_push.c: live push through nginx's Nchan (issue 17).  Subscribers
 * connect by EventSource (and WebSocket) to /api/v1/push/...; gymd's job
 * publishes what committed changes left in push_outbox.  Each test
 * subscribes first, waits until Nchan has taken the subscriber, then makes
 * the change, so a message that arrives was pushed, not read back.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <openssl/ssl.h>

#include "e2e.h"
#include "regfields.h"

#define SSE_MAX (64 * 1024)

/* One EventSource subscriber running in its own thread. */
struct sse {
	char base[128];		/* the web host: e2e_base() or another */
	char path[256];
	char auth[E2E_TOKEN_MAX + 32];	/* "Authorization: Bearer ..." or "" */
	char last_id[96];		/* Last-Event-ID to resume from, or "" */
	int timeout_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	char buf[SSE_MAX];
	size_t len;
	long status;
	volatile int stop;
};

static size_t
sse_write(char *p, size_t size, size_t n, void *arg)
{
	struct sse *s = arg;
	size_t k = size * n;

	pthread_mutex_lock(&s->mu);
	if (s->len + k >= SSE_MAX)
		k = SSE_MAX - 1 - s->len;
	memcpy(s->buf + s->len, p, k);
	s->len += k;
	s->buf[s->len] = '\0';
	pthread_mutex_unlock(&s->mu);
	return size * n;
}

static int
sse_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct sse *s = arg;

	(void)a, (void)b, (void)c, (void)d;
	return s->stop ? 1 : 0;
}

static void *
sse_run(void *arg)
{
	struct sse *s = arg;
	struct curl_slist *h = NULL;
	char url[512], cainfo[512], lid[128];
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "%s%s", s->base, s->path);
	h = curl_slist_append(h, "Accept: text/event-stream");
	if (s->auth[0] != '\0')
		h = curl_slist_append(h, s->auth);
	if (s->last_id[0] != '\0') {
		snprintf(lid, sizeof(lid), "Last-Event-ID: %s", s->last_id);
		h = curl_slist_append(h, lid);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CAINFO, e2e_var_path("tls/cert.pem", cainfo, sizeof(cainfo)));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sse_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

/* Start a subscriber on base + path (token: Bearer header, or NULL). */
static struct sse *
sse_start_at(const char *base, const char *path, const char *token, const char *last_id)
{
	struct sse *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	snprintf(s->base, sizeof(s->base), "%s", base);
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (token != NULL)
		snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", token);
	if (last_id != NULL)
		snprintf(s->last_id, sizeof(s->last_id), "%s", last_id);
	s->timeout_ms = 20000;
	pthread_mutex_init(&s->mu, NULL);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, sse_run, s), 0);
	return s;
}

/* The same on the test stack's nginx. */
static struct sse *
sse_start(const char *path, const char *token, const char *last_id)
{
	return sse_start_at(e2e_base(), path, token, last_id);
}

/* 1 when needle appeared in what s received within timeout_ms. */
static int
sse_wait(struct sse *s, const char *needle, int timeout_ms)
{
	long long end = e2e_now_ms() + timeout_ms;
	int found;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		found = strstr(s->buf, needle) != NULL;
		pthread_mutex_unlock(&s->mu);
		if (found || e2e_now_ms() >= end)
			return found;
		e2e_sleep_ms(20);
	}
}

static void
sse_stop(struct sse *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
}

/* The id: line of the event whose data holds needle, into out. */
static int
sse_event_id(struct sse *s, const char *needle, char *out, size_t len)
{
	const char *d = strstr(s->buf, needle), *id = NULL, *p;

	if (d == NULL)
		return 0;
	for (p = s->buf; (p = strstr(p, "id: ")) != NULL && p < d; p += 4)
		id = p + 4;
	if (id == NULL)
		return 0;
	snprintf(out, len, "%.*s", (int)strcspn(id, "\r\n"), id);
	return 1;
}

/* A WebSocket subscriber, as wx.connectSocket is one: TLS to the API's
 * port and the upgrade (ws_open), then the server's frames (ws_wait). */
struct ws {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	char got[16384];	/* the text frames' payloads so far */
	size_t used;
};

static struct ws *
ws_open(const char *path, const char *token)
{
	const char *base = e2e_base(), *colon = strrchr(base, ':');
	struct sockaddr_in sa = { 0 };
	struct timeval tv = { 0, 200 * 1000 };
	char req[2048], cainfo[512], hdr[4096];
	long long end = e2e_now_ms() + 10000;
	size_t hl = 0;
	struct ws *w = calloc(1, sizeof(*w));

	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(colon);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(w->fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(w->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_ptr_nonnull(w->ctx = SSL_CTX_new(TLS_client_method()));
	ck_assert_int_eq(SSL_CTX_load_verify_locations(w->ctx,
	    e2e_var_path("tls/cert.pem", cainfo, sizeof(cainfo)), NULL), 1);
	SSL_CTX_set_verify(w->ctx, SSL_VERIFY_PEER, NULL);
	ck_assert_ptr_nonnull(w->ssl = SSL_new(w->ctx));
	SSL_set_fd(w->ssl, w->fd);
	ck_assert_int_eq(SSL_connect(w->ssl), 1);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1%s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	    "Authorization: Bearer %s\r\n\r\n", path, colon, token);
	ck_assert_int_eq(SSL_write(w->ssl, req, (int)strlen(req)), (int)strlen(req));
	/* the answer's head, a byte at a time (frames may follow it) */
	while (hl < sizeof(hdr) - 1 && e2e_now_ms() < end &&
	    (hl < 4 || memcmp(hdr + hl - 4, "\r\n\r\n", 4) != 0))
		if (SSL_read(w->ssl, hdr + hl, 1) == 1)
			hl++;
	hdr[hl] = '\0';
	ck_assert_msg(strncmp(hdr, "HTTP/1.1 101", 12) == 0, "no upgrade: %s", hdr);
	/* RFC 6455's own example key and its accept value */
	ck_assert_ptr_nonnull(strstr(hdr, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	return w;
}

/* Read exactly len bytes into p before end: 1, or 0 at the deadline. */
static int
ws_read(struct ws *w, void *p, size_t len, long long end)
{
	size_t got = 0;
	int n;

	while (got < len && e2e_now_ms() < end)
		if ((n = SSL_read(w->ssl, (char *)p + got, (int)(len - got))) > 0)
			got += (size_t)n;
	return got == len;
}

/* Frames until needle is among the text payloads: 1, or 0 after timeout_ms. */
static int
ws_wait(struct ws *w, const char *needle, int timeout_ms)
{
	long long end = e2e_now_ms() + timeout_ms;
	unsigned char h[10];
	unsigned long long len;
	size_t ext;

	while (strstr(w->got, needle) == NULL) {
		if (!ws_read(w, h, 2, end))
			return 0;
		ck_assert_msg((h[1] & 0x80) == 0, "a masked frame from the server");
		ext = (h[1] & 0x7f) == 126 ? 2 : (h[1] & 0x7f) == 127 ? 8 : 0;
		len = h[1] & 0x7f;
		if (ext > 0) {
			if (!ws_read(w, h + 2, ext, end))
				return 0;
			len = 0;
			for (size_t i = 0; i < ext; i++)
				len = len << 8 | h[2 + i];
		}
		ck_assert_uint_lt(w->used + len, sizeof(w->got));
		if (!ws_read(w, w->got + w->used, len, end))
			return 0;
		if ((h[0] & 0x0f) == 0x1)	/* text: a message; else a ping */
			w->used += len;
		w->got[w->used] = '\0';
	}
	return 1;
}

static void
ws_close(struct ws *w)
{
	SSL_free(w->ssl);
	SSL_CTX_free(w->ctx);
	close(w->fd);
	free(w);
}

/* A parent with a pending order on a new class. */
static void
pending_order(const char *tag, char *token, long long *sid, char *oid)
{
	char st[32];
	long long rid;

	e2e_user(tag, token);
	*sid = e2e_schedule(3);
	rid = e2e_hold(token, *sid);
	e2e_order_create(token, *sid, rid, oid, st);
	ck_assert_str_eq(st, "pending");
}

START_TEST(test_push_order_paid_eventsource)
{
	char token[E2E_TOKEN_MAX], oid[64], path[128];
	long long sid;
	struct sse *s;

	pending_order("push-paid", token, &sid, oid);
	snprintf(path, sizeof(path), "/api/v1/push/orders/%s", oid);
	s = sse_start(path, token, NULL);
	/* Nchan took the subscriber: its first comment, then the order's
	 * newest message (pending, written when the order was made) */
	ck_assert_msg(sse_wait(s, "\"status\": \"pending\"", 10000),
	    "no pending state on the order's channel: %s", s->buf);
	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_msg(sse_wait(s, "\"status\": \"paid\"", 10000),
	    "the paid state was not pushed: %s", s->buf);
	ck_assert_ptr_nonnull(strstr(s->buf, "\"version\": "));
	ck_assert_ptr_nonnull(strstr(s->buf, oid));
	sse_stop(s);
	ck_assert_int_eq(s->status, 200);
	free(s);
}
END_TEST

/* The same by WebSocket, on one connection: the order's state as it is,
 * then the payment as it happens. */
START_TEST(test_push_order_paid_websocket)
{
	char token[E2E_TOKEN_MAX], oid[64], path[128];
	long long sid;
	struct ws *w;

	pending_order("push-ws", token, &sid, oid);
	snprintf(path, sizeof(path), "/api/v1/push/orders/%s", oid);
	w = ws_open(path, token);
	ck_assert_msg(ws_wait(w, "\"status\": \"pending\"", 10000),
	    "no pending state by WebSocket: %s", w->got);
	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_msg(ws_wait(w, "\"status\": \"paid\"", 10000),
	    "no paid state by WebSocket: %s", w->got);
	ws_close(w);
}
END_TEST

/* Only the order's parent may subscribe; the token may be a query
 * parameter (EventSource and wx.connectSocket set no headers). */
START_TEST(test_push_order_other_parent_refused)
{
	char token[E2E_TOKEN_MAX], other[E2E_TOKEN_MAX], oid[64], path[E2E_TOKEN_MAX + 128];
	long long sid;
	struct e2e_resp r = { 0 };
	struct sse *s;

	pending_order("push-owner", token, &sid, oid);
	e2e_user("push-other", other);
	snprintf(path, sizeof(path), "/api/v1/push/orders/%s", oid);
	e2e_request("GET", path, other, NULL, "Accept: text/event-stream", &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(e2e_code(&r), "NOT_FOUND");
	e2e_request("GET", path, NULL, NULL, "Accept: text/event-stream", &r);
	ck_assert_int_eq(r.status, 401);
	e2e_request("GET", path, "not-a-token", NULL, "Accept: text/event-stream", &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);

	snprintf(path, sizeof(path), "/api/v1/push/orders/%s?access_token=%s", oid, token);
	s = sse_start(path, NULL, NULL);
	ck_assert_msg(sse_wait(s, "\"status\": \"pending\"", 10000),
	    "access_token did not subscribe: %s", s->buf);
	sse_stop(s);
	free(s);
	snprintf(path, sizeof(path), "/api/v1/push/orders/%s?access_token=%s", oid, other);
	e2e_request("GET", path, NULL, NULL, "Accept: text/event-stream", &r);
	ck_assert_int_eq(r.status, 404);
	e2e_resp_free(&r);
}
END_TEST

/* A class's channel carries its seat count when a hold takes a seat. */
START_TEST(test_push_class_seats)
{
	char token[E2E_TOKEN_MAX], path[128];
	long long sid = e2e_schedule(4);
	struct sse *s;

	e2e_user("push-class", token);
	snprintf(path, sizeof(path), "/api/v1/push/course-schedules/%lld", sid);
	s = sse_start(path, NULL, NULL);
	ck_assert_msg(sse_wait(s, "\"available\": 4", 10000), "no count: %s", s->buf);
	(void)e2e_hold(token, sid);
	ck_assert_msg(sse_wait(s, "\"available\": 3", 10000), "the hold was not pushed: %s", s->buf);
	sse_stop(s);
	free(s);
}
END_TEST

/* A subscriber that reconnects with Last-Event-ID gets what was published
 * while it was away, and nothing it already had. */
START_TEST(test_push_resume)
{
	char token[E2E_TOKEN_MAX], oid[64], path[128], id[96];
	long long sid;
	struct sse *s;

	pending_order("push-resume", token, &sid, oid);
	snprintf(path, sizeof(path), "/api/v1/push/orders/%s", oid);
	s = sse_start(path, token, NULL);
	ck_assert(sse_wait(s, "\"status\": \"pending\"", 10000));
	ck_assert_msg(sse_event_id(s, "\"status\": \"pending\"", id, sizeof(id)), "%s", s->buf);
	sse_stop(s);
	free(s);

	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_int_eq(e2e_wait_sql_int("SELECT count(*) FROM push_outbox", 0, 10000), 0);
	e2e_sleep_ms(300);

	s = sse_start(path, token, id);
	ck_assert_msg(sse_wait(s, "\"status\": \"paid\"", 10000), "not resumed: %s", s->buf);
	ck_assert_ptr_null(strstr(s->buf, "\"status\": \"pending\""));
	sse_stop(s);
	free(s);
}
END_TEST

/* The console's channel: operators and auditors only. */
START_TEST(test_push_console)
{
	char token[E2E_TOKEN_MAX], oid[64], op[128], path[256];
	long long sid;
	struct e2e_resp r = { 0 };
	struct sse *s;

	e2e_operator("push-console", "auditor", op, sizeof(op));
	e2e_request("GET", "/api/v1/push/console", NULL, NULL, "Accept: text/event-stream", &r);
	ck_assert_int_eq(r.status, 401);
	e2e_user("push-parent", token);
	e2e_request("GET", "/api/v1/push/console", token, NULL, "Accept: text/event-stream", &r);
	ck_assert_int_eq(r.status, 401);
	e2e_resp_free(&r);

	snprintf(path, sizeof(path), "/api/v1/push/console?access_token=%s", op);
	s = sse_start(path, NULL, NULL);
	ck_assert(sse_wait(s, ": hi", 10000));
	pending_order("push-console-order", token, &sid, oid);
	ck_assert_msg(sse_wait(s, oid, 10000), "the new order was not pushed: %s", s->buf);
	sse_stop(s);
	free(s);
}
END_TEST

/* nginx's own command line for the test stack (stack.sh's). */
static void
nginx_ctl(const char *signal_or_start)
{
	char rel[512], prefix[PATH_MAX], cmd[2048 + PATH_MAX * 3], out[512];
	int rc;

	/* -p wants an absolute prefix: a relative -e is taken under it */
	ck_assert_ptr_nonnull(realpath(e2e_var_path("nginx", rel, sizeof(rel)), prefix));
	if (signal_or_start == NULL)
		snprintf(cmd, sizeof(cmd), "nginx -p '%s' -c '%s/nginx.conf' -e '%s/logs/error.log' 2>&1",
		    prefix, prefix, prefix);
	else
		snprintf(cmd, sizeof(cmd), "nginx -p '%s' -c '%s/nginx.conf' -e '%s/logs/error.log' "
		    "-s %s 2>&1", prefix, prefix, prefix, signal_or_start);
	rc = e2e_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, out);
}

/* The API's port answers (1) or refuses (0) within timeout_ms. */
static int
api_up_within(int want, int timeout_ms)
{
	long long end = e2e_now_ms() + timeout_ms;
	struct e2e_resp r = { 0 };
	int up;

	do {
		up = e2e_request_nock("GET", "/healthz", NULL, NULL, NULL, &r) == 0 && r.status == 200;
		if (up == want)
			break;
		e2e_sleep_ms(100);
	} while (e2e_now_ms() < end);
	e2e_resp_free(&r);
	return up == want;
}

/* nginx restarted while an order changed: the publish failed (counted, the
 * change kept), Nchan's messages are gone with its memory, and the client
 * that comes back reads the order's true state from the API. */
START_TEST(test_push_nginx_restart)
{
	char token[E2E_TOKEN_MAX], oid[64], path[128], st[32];
	const char *p[1] = { oid };
	struct e2e_resp r = { 0 };
	long long failed0, failed1;
	long long sid;
	struct sse *s;

	pending_order("push-restart", token, &sid, oid);
	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	failed0 = e2e_metric(r.body, "gymd_push_failed_total");
	ck_assert_int_ge(failed0, 0);
	snprintf(path, sizeof(path), "/api/v1/push/orders/%s", oid);
	s = sse_start(path, token, NULL);
	ck_assert(sse_wait(s, "\"status\": \"pending\"", 10000));

	nginx_ctl("stop");
	ck_assert_msg(api_up_within(0, 10000), "nginx did not stop");
	sse_stop(s);
	free(s);
	/* the change, while nginx is down (a late expiry, as the sweep makes) */
	e2e_sql_exec(e2e_pg(), "UPDATE payment_orders SET status = 'expired', updated_at = now() "
	    "WHERE order_id = $1", 1, p);
	ck_assert_int_eq(e2e_wait_sql_int("SELECT count(*) FROM push_outbox", 0, 10000), 0);
	nginx_ctl(NULL);
	ck_assert_msg(api_up_within(1, 10000), "nginx did not come back");

	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	failed1 = e2e_metric(r.body, "gymd_push_failed_total");
	ck_assert_msg(failed1 >= failed0 + 2, "push failures %lld -> %lld", failed0, failed1);
	e2e_resp_free(&r);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "expired");
	/* and the push works again */
	s = sse_start(path, token, NULL);
	ck_assert(sse_wait(s, ": hi", 10000));
	e2e_sql_exec(e2e_pg(), "UPDATE payment_orders SET status = 'cancelled', updated_at = now() "
	    "WHERE order_id = $1", 1, p);
	ck_assert_msg(sse_wait(s, "\"status\": \"cancelled\"", 10000), "after the restart: %s", s->buf);
	sse_stop(s);
	free(s);
}
END_TEST

/* A second web host: the test stack's nginx.conf with every listening port
 * 10 higher and its own prefix, in front of the same gymd.  gymd publishes
 * to both (two push_url lines, stack.sh).  Its prefix into prefix2. */
static void
second_nginx(char *prefix2, size_t len)
{
	char rel[512], prefix[PATH_MAX], conf[PATH_MAX + 32], conf2[PATH_MAX * 2], line[4096];
	char cmd[6 * PATH_MAX], out[512];
	FILE *in, *o;
	int rc;

	ck_assert_ptr_nonnull(realpath(e2e_var_path("nginx", rel, sizeof(rel)), prefix));
	snprintf(prefix2, len, "%s2", prefix);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/logs' '%s/tmp'", prefix2, prefix2);
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 0);
	snprintf(conf, sizeof(conf), "%s/nginx.conf", prefix);
	snprintf(conf2, sizeof(conf2), "%s/nginx.conf", prefix2);
	ck_assert_ptr_nonnull(in = fopen(conf, "r"));
	ck_assert_ptr_nonnull(o = fopen(conf2, "w"));
	while (fgets(line, sizeof(line), in) != NULL) {
		char *l = strstr(line, "listen 127.0.0.1:"), *at;
		size_t plen = strlen(prefix);

		if (l != NULL) {
			char *num = l + strlen("listen 127.0.0.1:"), *rest;
			long port = strtol(num, &rest, 10);

			fprintf(o, "%.*s%ld%s", (int)(num - line), line, port + 10, rest);
			continue;
		}
		/* pid, logs and temp paths under the new prefix */
		for (l = line; (at = strstr(l, prefix)) != NULL; l = at + plen)
			fprintf(o, "%.*s%s", (int)(at - l), l, prefix2);
		fputs(l, o);
	}
	fclose(in);
	ck_assert_int_eq(fclose(o), 0);
	snprintf(cmd, sizeof(cmd), "nginx -p '%s' -c '%s' -e '%s/logs/error.log' 2>&1",
	    prefix2, conf2, prefix2);
	rc = e2e_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "second nginx: exit %d: %s", rc, out);
}

/* Two web hosts: a parent subscribed on the second one hears of a payment
 * whose notification came in through the first (no shared store: gymd
 * publishes to every host's Nchan). */
START_TEST(test_push_two_web_hosts)
{
	char token[E2E_TOKEN_MAX], oid[64], path[128], base2[64], prefix2[PATH_MAX + 8];
	char cmd[4 * PATH_MAX], out[512];
	const char *colon = strrchr(e2e_base(), ':');
	long long sid;
	struct sse *s;

	ck_assert_ptr_nonnull(colon);
	second_nginx(prefix2, sizeof(prefix2));
	pending_order("push-2hosts", token, &sid, oid);
	snprintf(path, sizeof(path), "/api/v1/push/orders/%s", oid);
	snprintf(base2, sizeof(base2), "https://127.0.0.1:%ld", atol(colon + 1) + 10);
	s = sse_start_at(base2, path, token, NULL);
	ck_assert_msg(sse_wait(s, ": hi", 10000), "the second host: %s", s->buf);
	e2e_prepay(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_msg(sse_wait(s, "\"status\": \"paid\"", 10000),
	    "the payment did not reach the second host: %s", s->buf);
	sse_stop(s);
	free(s);
	snprintf(cmd, sizeof(cmd), "nginx -p '%s' -c '%s/nginx.conf' -e '%s/logs/error.log' -s stop",
	    prefix2, prefix2, prefix2);
	ck_assert_int_eq(e2e_run(cmd, out, sizeof(out)), 0);
}
END_TEST

Suite *
push_suite(void)
{
	Suite *s = suite_create("push");
	TCase *tc = tcase_create("push");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_push_order_paid_eventsource);
	tcase_add_test(tc, test_push_order_paid_websocket);
	tcase_add_test(tc, test_push_order_other_parent_refused);
	tcase_add_test(tc, test_push_class_seats);
	tcase_add_test(tc, test_push_resume);
	tcase_add_test(tc, test_push_console);
	tcase_add_test(tc, test_push_nginx_restart);
	tcase_add_test(tc, test_push_two_web_hosts);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * e2e.c: HTTP, simulator, database and notification helpers for the
 * end-to-end tests (see e2e.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>

#include "crypto.h"
#include "e2e.h"
#include "regfields.h"
#include "wxsign.h"

#define DEFAULT_PGURI "host=127.0.0.1 port=15433 dbname=gym user=gym"

static const char *
env_or(const char *name, const char *dflt)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? s : dflt;
}

const char *e2e_base(void) { return env_or("GYM_E2E_BASE", "https://127.0.0.1:18443"); }
const char *e2e_sim_base(void) { return env_or("GYM_E2E_SIM", "http://127.0.0.1:19180"); }
const char *e2e_conf(void) { return env_or("GYM_E2E_CONF", "var/test/gymd.conf"); }
const char *e2e_var(void) { return env_or("GYM_E2E_VAR", "var/test"); }
const char *e2e_bin(void) { return env_or("GYM_BIN", "bin"); }
const char *e2e_pguri(void) { return env_or("GYM_E2E_PGURI", DEFAULT_PGURI); }
const char *e2e_vectors(void) { return env_or("GYM_VECTORS_DIR", "test/vectors"); }

char *
e2e_var_path(const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", e2e_var(), rel);
	return buf;
}

long long
e2e_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
e2e_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

char *
e2e_uniq(const char *prefix, char *buf, size_t len)
{
	static unsigned n;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "%s-%ld-%lld-%u", prefix, (long)getpid(),
	    (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, n++);
	return buf;
}

/* ---- responses ------------------------------------------------------------------ */

void
e2e_resp_free(struct e2e_resp *r)
{
	free(r->body);
	free(r->headers);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

const char *
e2e_header(const struct e2e_resp *r, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	const char *p = r->headers;

	while (p != NULL && *p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t linelen = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (linelen > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl;

			while (v < p + linelen && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(p + linelen - v);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (len > 0) {
				if (vl >= len)
					vl = len - 1;
				memcpy(buf, v, vl);
				buf[vl] = '\0';
			}
			return buf;
		}
		if (eol == NULL)
			break;
		p = eol + 2;
	}
	return NULL;
}

const char *
e2e_str(const struct e2e_resp *r, const char *member)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(r->json, member);

	return cJSON_IsString(j) ? j->valuestring : "";
}

double
e2e_num(const struct e2e_resp *r, const char *member)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(r->json, member);

	return cJSON_IsNumber(j) ? j->valuedouble : -1;
}

const char *
e2e_code(const struct e2e_resp *r)
{
	return e2e_str(r, "code");
}

/* ---- libcurl -------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

struct xfer {
	CURL *h;
	struct curl_slist *hdrs;
	struct buf body, head;
	struct e2e_resp *out;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;

	return buf_add(&x->body, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	/* a new status line (after 100 Continue): start over */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		x->head.len = 0;
	return buf_add(&x->head, ptr, n) == 0 ? n : 0;
}

static void
curl_global(void)
{
	static pid_t inited;

	if (inited != getpid()) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = getpid();
	}
}

/* Set up x for one request to base + path; 0 or -1. */
static int
xfer_setup(struct xfer *x, const char *base, const char *method, const char *path,
    const char *token, const char *body, const char *extra, struct e2e_resp *out)
{
	char url[2048], line[1024], cainfo[1024];

	curl_global();
	memset(x, 0, sizeof(*x));
	e2e_resp_free(out);
	x->out = out;
	if ((x->h = curl_easy_init()) == NULL)
		return -1;
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)E2E_TIMEOUT_MS);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(x->h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	if (strncmp(base, "https:", 6) == 0) {
		curl_easy_setopt(x->h, CURLOPT_CAINFO, e2e_var_path("tls/cert.pem", cainfo, sizeof(cainfo)));
		curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	/* JSON unless the caller asks for something else */
	if (extra == NULL || strncasecmp(extra, "Accept:", 7) != 0)
		x->hdrs = curl_slist_append(x->hdrs, "Accept: application/json");
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		x->hdrs = curl_slist_append(x->hdrs, line);
	}
	if (body != NULL) {
		x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/json");
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	while (extra != NULL && *extra != '\0') {
		size_t n = strcspn(extra, "\n");

		if (n > 0 && n < sizeof(line)) {
			memcpy(line, extra, n);
			line[n] = '\0';
			x->hdrs = curl_slist_append(x->hdrs, line);
		}
		extra += n;
		if (*extra == '\n')
			extra++;
	}
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	return 0;
}

/* Move what x received into its e2e_resp and free x. */
static void
xfer_finish(struct xfer *x, CURLcode rc)
{
	struct e2e_resp *r = x->out;

	if (rc == CURLE_OK)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME, &r->seconds);
	if (x->body.p == NULL)
		buf_add(&x->body, "", 0);
	if (x->head.p == NULL)
		buf_add(&x->head, "", 0);
	r->body = x->body.p;
	r->len = x->body.len;
	r->headers = x->head.p;
	r->json = r->len > 0 ? cJSON_ParseWithLength(r->body, r->len) : NULL;
	if (e2e_header(r, "X-Request-Id", r->rid, sizeof(r->rid)) == NULL)
		r->rid[0] = '\0';
	if (e2e_header(r, "Allow", r->allow, sizeof(r->allow)) == NULL)
		r->allow[0] = '\0';
	if (e2e_header(r, "Content-Type", r->ctype, sizeof(r->ctype)) == NULL)
		r->ctype[0] = '\0';
	curl_slist_free_all(x->hdrs);
	curl_easy_cleanup(x->h);
	x->h = NULL;
	x->hdrs = NULL;
}

static int
do_request(const char *base, const char *method, const char *path, const char *token,
    const char *body, const char *extra, struct e2e_resp *out, char *err, size_t errlen)
{
	struct xfer x;
	CURLcode rc;

	if (xfer_setup(&x, base, method, path, token, body, extra, out) == -1) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	rc = curl_easy_perform(x.h);
	xfer_finish(&x, rc);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s %s%s: %s", method, base, path, curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

int
e2e_request_nock(const char *method, const char *path, const char *token,
    const char *body, const char *extra, struct e2e_resp *out)
{
	char err[512];

	return do_request(e2e_base(), method, path, token, body, extra, out, err, sizeof(err));
}

void
e2e_request(const char *method, const char *path, const char *token,
    const char *body, const char *extra, struct e2e_resp *out)
{
	char err[512];

	if (do_request(e2e_base(), method, path, token, body, extra, out, err, sizeof(err)) == -1)
		ck_abort_msg("transport error: %s", err);
}

void
e2e_sim(const char *method, const char *path, const char *body, struct e2e_resp *out)
{
	char err[512];

	if (do_request(e2e_sim_base(), method, path, NULL, body, NULL, out, err, sizeof(err)) == -1)
		ck_abort_msg("simulator transport error: %s", err);
}

void
e2e_request_many(struct e2e_req *reqs, size_t n)
{
	struct xfer *x;
	CURLM *m;
	int running = 0;
	size_t i;

	curl_global();
	x = calloc(n, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	m = curl_multi_init();
	ck_assert_ptr_nonnull(m);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	for (i = 0; i < n; i++) {
		memset(&reqs[i].resp, 0, sizeof(reqs[i].resp));
		ck_assert_int_eq(xfer_setup(&x[i], e2e_base(), reqs[i].method, reqs[i].path,
		    reqs[i].token, reqs[i].body, reqs[i].extra, &reqs[i].resp), 0);
		curl_easy_setopt(x[i].h, CURLOPT_PRIVATE, &x[i]);
		curl_multi_add_handle(m, x[i].h);
	}
	do {
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct xfer *done = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&done);
			curl_multi_remove_handle(m, done->h);
			xfer_finish(done, msg->data.result);
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0);
	/* anything left (multi error): finish it as a transport error */
	for (i = 0; i < n; i++) {
		if (x[i].h != NULL) {
			curl_multi_remove_handle(m, x[i].h);
			xfer_finish(&x[i], CURLE_FAILED_INIT);
		}
	}
	curl_multi_cleanup(m);
	free(x);
}

long long
e2e_login(const char *code, char *token_out)
{
	struct e2e_resp r = { 0 };
	char *body;
	cJSON *o = cJSON_CreateObject();
	long long uid;

	cJSON_AddStringToObject(o, "code", code);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	e2e_request("POST", E2E_API "/auth/wx-login", NULL, body, NULL, &r);
	free(body);
	ck_assert_msg(r.status == 200, "login with code %s: HTTP %ld %s", code, r.status, r.body);
	ck_assert_msg(strlen(e2e_str(&r, "token")) > 0 && strlen(e2e_str(&r, "token")) < E2E_TOKEN_MAX,
	    "login: no token in %s", r.body);
	strcpy(token_out, e2e_str(&r, "token"));
	uid = (long long)e2e_num(&r, "user_id");
	e2e_resp_free(&r);
	return uid;
}

/* ---- PostgreSQL ------------------------------------------------------------------- */

PGconn *
e2e_pg(void)
{
	static PGconn *pg;
	static pid_t owner;

	if (pg != NULL && owner == getpid() && PQstatus(pg) == CONNECTION_OK)
		return pg;
	/* a connection of another process (before fork) is dropped, not closed */
	if (pg != NULL && owner == getpid())
		PQfinish(pg);
	pg = PQconnectdb(e2e_pguri());
	owner = getpid();
	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "cannot connect to %s: %s", e2e_pguri(),
	    PQerrorMessage(pg));
	return pg;
}

static PGresult *
query(PGconn *pg, const char *sql, int n, const char *const *params, int want)
{
	PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	int st = PQresultStatus(res);

	if (st != want && !(want == PGRES_COMMAND_OK && st == PGRES_TUPLES_OK)) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
		PQclear(res);
		ck_abort_msg("SQL failed: %s: %s", sql, msg);
	}
	return res;
}

long long
e2e_sql_intp(PGconn *pg, const char *sql, int n, const char *const *params)
{
	PGresult *res = query(pg, sql, n, params, PGRES_TUPLES_OK);
	long long v = 0;

	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

long long
e2e_sql_int(PGconn *pg, const char *sql)
{
	return e2e_sql_intp(pg, sql, 0, NULL);
}

char *
e2e_sql_text(PGconn *pg, const char *sql, int n, const char *const *params, char *buf,
    size_t len)
{
	PGresult *res = query(pg, sql, n, params, PGRES_TUPLES_OK);

	if (len > 0)
		buf[0] = '\0';
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return buf;
}

void
e2e_sql_exec(PGconn *pg, const char *sql, int n, const char *const *params)
{
	PQclear(query(pg, sql, n, params, PGRES_COMMAND_OK));
}

long long
e2e_wait_sql_intp(const char *sql, int n, const char *const *params, long long expected,
    int timeout_ms)
{
	long long end = e2e_now_ms() + timeout_ms, v;

	for (;;) {
		v = e2e_sql_intp(e2e_pg(), sql, n, params);
		if (v == expected || e2e_now_ms() >= end)
			return v;
		e2e_sleep_ms(50);
	}
}

long long
e2e_wait_sql_int(const char *sql, long long expected, int timeout_ms)
{
	return e2e_wait_sql_intp(sql, 0, NULL, expected, timeout_ms);
}

/* ---- gymd's log ---------------------------------------------------------------------- */

long long
e2e_gymd_log_size(void)
{
	char path[1024];
	struct stat st;

	if (stat(e2e_var_path("log/gymd.log", path, sizeof(path)), &st) != 0)
		return 0;
	return (long long)st.st_size;
}

char *
e2e_gymd_log_since(long long off)
{
	char path[1024], *buf;
	long long end = e2e_gymd_log_size();
	size_t got = 0;
	FILE *f;

	if (end < off)
		off = 0;	/* rotated or truncated: all of it */
	buf = calloc(1, (size_t)(end - off) + 1);
	ck_assert_ptr_nonnull(buf);
	if ((f = fopen(e2e_var_path("log/gymd.log", path, sizeof(path)), "r")) != NULL) {
		if (fseeko(f, (off_t)off, SEEK_SET) == 0)
			got = fread(buf, 1, (size_t)(end - off), f);
		fclose(f);
	}
	buf[got] = '\0';
	return buf;
}

/* ---- job passes --------------------------------------------------------------------- */

long long
e2e_metric(const char *text, const char *name)
{
	size_t nl = strlen(name);
	const char *p;

	for (p = text; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
			return strtoll(p + nl + 1, NULL, 10);
	}
	return -1;
}

long long
e2e_job_runs(void)
{
	struct e2e_resp r = { 0 };
	long long v = -1;

	if (e2e_request_nock("GET", "/metrics", NULL, NULL, NULL, &r) == 0 && r.status == 200 &&
	    r.body != NULL)
		v = e2e_metric(r.body, "gymd_job_runs_total");
	e2e_resp_free(&r);
	return v;
}

void
e2e_wait_job_passes(int passes, int timeout_ms)
{
	long long end = e2e_now_ms() + timeout_ms, start = e2e_job_runs(), now = start;

	ck_assert_msg(start >= 0, "gymd_job_runs_total not found in GET /metrics");
	while (now < start + passes && e2e_now_ms() < end) {
		e2e_sleep_ms(20);
		now = e2e_job_runs();
	}
	ck_assert_msg(now >= start + passes, "job passes: %lld -> %lld in %d ms, %d wanted",
	    start, now, timeout_ms, passes);
}

/* ---- processes ---------------------------------------------------------------------- */

int
e2e_run(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	char tmp[512];
	size_t used = 0, n;
	int st;

	if (f == NULL)
		return -1;
	if (out != NULL && len > 0)
		out[0] = '\0';
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (out != NULL && used + 1 < len) {
			size_t k = n < len - 1 - used ? n : len - 1 - used;

			memcpy(out + used, tmp, k);
			used += k;
			out[used] = '\0';
		}
	}
	st = pclose(f);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

long
e2e_pidfile(const char *name)
{
	char rel[256], path[1024];
	FILE *f;
	long pid = -1;

	snprintf(rel, sizeof(rel), "run/%s.pid", name);
	if ((f = fopen(e2e_var_path(rel, path, sizeof(path)), "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

long long
e2e_schedule_named(const char *course, long start_s, int capacity)
{
	char cmd[2048], out[256], starts[40], ends[40];
	time_t t = time(NULL) + start_s;
	struct tm tm;
	int rc;

	gmtime_r(&t, &tm);
	strftime(starts, sizeof(starts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	t += 3600;
	gmtime_r(&t, &tm);
	strftime(ends, sizeof(ends), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(cmd, sizeof(cmd),
	    "'%s/gymctl' -c '%s' schedule add --course '%s' --starts %s --ends %s --capacity %d",
	    e2e_bin(), e2e_conf(), course, starts, ends, capacity);
	rc = e2e_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "gymctl schedule add failed (exit %d): %s", rc, cmd);
	ck_assert_msg(atoll(out) > 0, "gymctl schedule add printed '%s'", out);
	return atoll(out);
}

long long
e2e_schedule(int capacity)
{
	char name[96];
	static unsigned k;

	/* tomorrow, spread over the day so classes of one run do not pile up */
	e2e_uniq("e2e", name, sizeof(name));
	return e2e_schedule_named(name, 86400 + (long)((getpid() % 600) * 60 + (k++ % 60) * 60),
	    capacity);
}

/* ---- notifications ------------------------------------------------------------------ */

char *
e2e_notify_headers(const char *ts, const char *nonce, const char *serial, const char *signature)
{
	struct buf b = { 0 };
	char line[1024];

	buf_add(&b, "", 0);
	buf_add(&b, "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048", 50);
	if (ts != NULL) {
		snprintf(line, sizeof(line), "\nWechatpay-Timestamp: %s", ts);
		buf_add(&b, line, strlen(line));
	}
	if (nonce != NULL) {
		snprintf(line, sizeof(line), "\nWechatpay-Nonce: %s", nonce);
		buf_add(&b, line, strlen(line));
	}
	if (serial != NULL) {
		snprintf(line, sizeof(line), "\nWechatpay-Serial: %s", serial);
		buf_add(&b, line, strlen(line));
	}
	if (signature != NULL) {
		snprintf(line, sizeof(line), "\nWechatpay-Signature: %s", signature);
		buf_add(&b, line, strlen(line));
	}
	ck_assert_ptr_nonnull(b.p);
	return b.p;
}

void
e2e_notify_post(const char *path, const char *body, const char *ts, const char *nonce,
    const char *serial, const char *signature, struct e2e_resp *out)
{
	char *h = e2e_notify_headers(ts, nonce, serial, signature);

	e2e_request("POST", path, NULL, body, h, out);
	free(h);
}

static void
read_apiv3_key(unsigned char key[32])
{
	char path[1024], line[128] = "";
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/keys/apiv3_key.txt", e2e_vectors());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	ck_assert_msg(n == 32, "%s: the APIv3 key must be 32 characters", path);
	memcpy(key, line, 32);
}

char *
e2e_notify_envelope(const char *event_type, const char *plaintext, int corrupt)
{
	unsigned char key[32];
	char nonce[13], id[40], *ct = NULL, *out;
	cJSON *o, *res;
	time_t now = time(NULL);
	struct tm tm;
	char created[40];

	read_apiv3_key(key);
	ck_assert_int_eq(gym_random_alnum(nonce, 12), GYM_OK);
	ck_assert_int_eq(gym_aesgcm_encrypt(key, nonce, "transaction", plaintext,
	    strlen(plaintext), &ct), GYM_OK);
	gym_wipe(key, sizeof(key));
	if (corrupt) {
		/* change one base64 character of the ciphertext body (not the padding) */
		ct[2] = ct[2] == 'A' ? 'B' : 'A';
	}
	ck_assert_int_eq(gym_random_alnum(id, 32), GYM_OK);
	localtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S+08:00", &tm);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "create_time", created);
	cJSON_AddStringToObject(o, "resource_type", "encrypt-resource");
	cJSON_AddStringToObject(o, "event_type", event_type);
	cJSON_AddStringToObject(o, "summary", "支付成功");
	res = cJSON_AddObjectToObject(o, "resource");
	cJSON_AddStringToObject(res, "original_type", "transaction");
	cJSON_AddStringToObject(res, "algorithm", "AEAD_AES_256_GCM");
	cJSON_AddStringToObject(res, "ciphertext", ct);
	cJSON_AddStringToObject(res, "associated_data", "transaction");
	cJSON_AddStringToObject(res, "nonce", nonce);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(ct);
	ck_assert_ptr_nonnull(out);
	return out;
}

char *
e2e_transaction_json(const char *out_trade_no, const char *transaction_id, long total_fen,
    const char *openid)
{
	cJSON *o = cJSON_CreateObject(), *a, *p;
	char when[40], *out;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	cJSON_AddStringToObject(o, "appid", E2E_APPID);
	cJSON_AddStringToObject(o, "mchid", E2E_MCHID);
	cJSON_AddStringToObject(o, "out_trade_no", out_trade_no);
	cJSON_AddStringToObject(o, "transaction_id", transaction_id);
	cJSON_AddStringToObject(o, "trade_type", "JSAPI");
	cJSON_AddStringToObject(o, "trade_state", "SUCCESS");
	cJSON_AddStringToObject(o, "trade_state_desc", "支付成功");
	cJSON_AddStringToObject(o, "bank_type", "OTHERS");
	cJSON_AddStringToObject(o, "attach", "");
	cJSON_AddStringToObject(o, "success_time", when);
	p = cJSON_AddObjectToObject(o, "payer");
	cJSON_AddStringToObject(p, "openid", openid != NULL ? openid : "oE2eTestOpenid000000000000000");
	a = cJSON_AddObjectToObject(o, "amount");
	cJSON_AddNumberToObject(a, "total", (double)total_fen);
	cJSON_AddNumberToObject(a, "payer_total", (double)total_fen);
	cJSON_AddStringToObject(a, "currency", "CNY");
	cJSON_AddStringToObject(a, "payer_currency", "CNY");
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ck_assert_ptr_nonnull(out);
	return out;
}

char *
e2e_platform_sign(const char *ts, const char *nonce, const char *body)
{
	char path[1024], *sig = NULL;
	EVP_PKEY *key = NULL;

	snprintf(path, sizeof(path), "%s/keys/platform_key.pem", e2e_vectors());
	ck_assert_msg(gym_key_load_private(path, &key) == GYM_OK, "cannot load %s", path);
	ck_assert_int_eq(gym_wx_sign_response(key, ts, nonce, body, strlen(body), &sig), GYM_OK);
	EVP_PKEY_free(key);
	return sig;
}

/* ---- booking and payment steps ---------------------------------------------------------- */

void
e2e_faults(const char *json)
{
	struct e2e_resp r = { 0 };

	e2e_sim("POST", "/sim/faults", json, &r);
	ck_assert_msg(r.status == 200, "/sim/faults %s: %ld %s", json, r.status, r.body);
	e2e_resp_free(&r);
}

void
e2e_operator(const char *tag, const char *role, char *token, size_t len)
{
	char cmd[2048], name[96];
	size_t n;
	int rc;

	e2e_uniq(tag, name, sizeof(name));
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' operator add '%s' --role %s 2>/dev/null",
	    e2e_bin(), e2e_conf(), name, role);
	rc = e2e_run(cmd, token, len);
	n = strcspn(token, "\n");
	ck_assert_msg(rc == 0 && n == 43 && strncmp(token, "op_", 3) == 0,
	    "gymctl operator add: exit %d, '%s'", rc, token);
	token[n] = '\0';
}

long long
e2e_user(const char *tag, char *token)
{
	char code[96];

	return e2e_login(e2e_uniq(tag, code, sizeof(code)), token);
}

int
e2e_available(long long sid)
{
	struct e2e_resp r = { 0 };
	char path[128];
	int n;

	snprintf(path, sizeof(path), E2E_API "/course-schedules/%lld", sid);
	e2e_request("GET", path, NULL, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	n = (int)e2e_num(&r, "available");
	e2e_resp_free(&r);
	return n;
}

long long
e2e_hold(const char *token, long long sid)
{
	struct e2e_resp r = { 0 };
	char body[96];
	long long rid;

	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", sid);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "seat-reserve: %ld %s", r.status, r.body);
	rid = (long long)e2e_num(&r, "reservation_id");
	e2e_resp_free(&r);
	return rid;
}

void
e2e_order_create(const char *token, long long sid, long long rid, char *oid, char *st)
{
	struct e2e_resp r = { 0 };
	char body[512];

	snprintf(body, sizeof(body), "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,"
	    "\"reservation_id\":%lld}", sid, rid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "orders/create: %ld %s", r.status, r.body);
	snprintf(oid, 40, "%s", e2e_str(&r, "order_id"));
	if (st != NULL)
		snprintf(st, 24, "%s", e2e_str(&r, "status"));
	e2e_resp_free(&r);
}

void
e2e_prepay(const char *token, const char *oid)
{
	struct e2e_resp r = { 0 };
	char body[128];

	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"trade_type\":\"JSAPI\"}", oid);
	e2e_request("POST", E2E_API "/payment/wxpay/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 200, "wxpay/create: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
}

void
e2e_sim_pay(const char *oid, int force)
{
	struct e2e_resp r = { 0 };
	char body[128];

	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\"%s}", oid, force ? ",\"force\":true" : "");
	e2e_sim("POST", "/sim/pay", body, &r);
	ck_assert_msg(r.status == 200, "/sim/pay %s: %ld %s", oid, r.status, r.body);
	e2e_resp_free(&r);
}

int
e2e_sim_messages(const char *openid, cJSON **last)
{
	struct e2e_resp r = { 0 };
	const cJSON *items, *m;
	int n = 0;

	if (last != NULL)
		*last = NULL;
	e2e_sim("GET", "/sim/messages", NULL, &r);
	ck_assert_msg(r.status == 200 && r.json != NULL, "/sim/messages: %ld", r.status);
	items = cJSON_GetObjectItemCaseSensitive(r.json, "items");
	ck_assert_msg(cJSON_IsArray(items), "/sim/messages: no items");
	cJSON_ArrayForEach(m, items) {
		const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "touser"));

		if (to == NULL || strcmp(to, openid) != 0)
			continue;
		n++;
		if (last != NULL) {
			cJSON_Delete(*last);
			*last = cJSON_Duplicate(m, 1);
		}
	}
	e2e_resp_free(&r);
	return n;
}

char *
e2e_order_status(const char *token, const char *oid, char *st)
{
	struct e2e_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET order: %ld %s", r.status, r.body);
	snprintf(st, 24, "%s", e2e_str(&r, "status"));
	e2e_resp_free(&r);
	return st;
}

char *
e2e_wait_status(const char *token, const char *oid, const char *want, int timeout_ms, char *st)
{
	long long end = e2e_now_ms() + timeout_ms;

	while (strcmp(e2e_order_status(token, oid, st), want) != 0 && e2e_now_ms() < end)
		e2e_sleep_ms(100);
	return st;
}

long long
e2e_sql_int1(const char *sql, const char *arg)
{
	const char *p[1] = { arg };

	return e2e_sql_intp(e2e_pg(), sql, 1, p);
}

/* ---- processes ------------------------------------------------------------------------ */

int
e2e_alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ok = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
		ok = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return ok;
}

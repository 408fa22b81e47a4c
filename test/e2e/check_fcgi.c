/*
 * check_fcgi.c: gymd's FastCGI listener itself, reached as an attacker
 * would who can connect to it (issue 13, finding 4; docs/security.md says
 * it must never be reachable from outside, and these tests show what is
 * left when it is):
 *
 * - idle_connections: more idle TCP connections to gymd's port than there
 *   are workers used to hold every worker for good (libfcgi blocks reading
 *   params); now each is closed after read_timeout, and a request through
 *   nginx is answered within a bound meanwhile.
 * - kept_connections: kept connections (fastcgi_keep_conn) beyond the number
 *   of workers are each answered; a request that is not kept closes its
 *   worker's idle ones.
 * - untrusted_peer: a caller from 127.0.0.2 (not one of trusted_proxies)
 *   writes X-Request-Id and X-Real-IP: gymd takes neither (its audit row
 *   has the socket's peer address and a request id of gymd's own), and it
 *   is not told /metrics exists.
 *
 * The FastCGI records are written by hand (FastCGI 1.0: a BEGIN_REQUEST,
 * PARAMS, an empty PARAMS, STDIN, an empty STDIN).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"

#define MAXCONN 64

/* The first "key = value" integer (or the text, when s is not NULL) of the
 * stack's gymd.conf; dflt when absent. */
static int
conf_value(const char *key, int dflt, char *s, size_t slen)
{
	char line[512], k[64];
	FILE *f = fopen(e2e_conf(), "r");
	int v = dflt, found = 0;

	while (!found && f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *val = strchr(line, '=');

		if (val == NULL || sscanf(line, " %63[^ =]", k) != 1 || strcmp(k, key) != 0)
			continue;
		val += 1 + strspn(val + 1, " \t");
		val[strcspn(val, " \t\r\n")] = '\0';
		found = 1;
		if (s != NULL)
			snprintf(s, slen, "%s", val);
		else
			v = atoi(val);
	}
	if (f != NULL)
		fclose(f);
	return v;
}

/* A TCP connection to gymd's listen address from source address src
 * (NULL: any); -1 when it cannot be made. */
static int
fcgi_connect(const char *src)
{
	char listen[128] = "", *colon;
	struct sockaddr_in sa, me;
	struct timeval tv = { 20, 0 };
	int fd;

	conf_value("listen", 0, listen, sizeof(listen));
	if ((colon = strrchr(listen, ':')) == NULL)
		return -1;
	*colon = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, listen, &sa.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (src != NULL) {
		memset(&me, 0, sizeof(me));
		me.sin_family = AF_INET;
		inet_pton(AF_INET, src, &me.sin_addr);
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Append one FastCGI record of request 1 to buf at *off. */
static void
record(unsigned char *buf, size_t *off, int type, const void *data, size_t len)
{
	unsigned char h[8] = { 1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8),
	    (unsigned char)(len & 0xff), 0, 0 };

	memcpy(buf + *off, h, 8);
	memcpy(buf + *off + 8, data, len);
	*off += 8 + len;
}

/* Append one name-value pair (both shorter than 128 bytes). */
static void
pair(unsigned char *p, size_t *off, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	p[(*off)++] = (unsigned char)n;
	p[(*off)++] = (unsigned char)v;
	memcpy(p + *off, name, n);
	memcpy(p + *off + n, value, v);
	*off += n + v;
}

/* Write one request on fd: params are NULL-terminated name, value pairs;
 * body may be NULL; keep asks gymd to keep the connection (FCGI_KEEP_CONN).
 * 0, or -1. */
static int
fcgi_send(int fd, const char *const *params, const char *body, int keep)
{
	const unsigned char begin[8] = { 0, 1, keep ? 1 : 0, 0, 0, 0, 0, 0 };
	unsigned char req[8192], pv[4096];
	size_t off = 0, po = 0;

	for (size_t i = 0; params[i] != NULL; i += 2)
		pair(pv, &po, params[i], params[i + 1]);
	record(req, &off, 1, begin, sizeof(begin));
	record(req, &off, 4, pv, po);
	record(req, &off, 4, "", 0);
	if (body != NULL && *body != '\0')
		record(req, &off, 5, body, strlen(body));
	record(req, &off, 5, "", 0);
	return write(fd, req, off) == (ssize_t)off ? 0 : -1;
}

/* Read the answer to one request from fd: the CGI response (headers and
 * body) into out; 0 at its END_REQUEST, -1 when the connection ended or
 * timed out first. */
static int
fcgi_answer(int fd, char *out, size_t outlen)
{
	unsigned char h[8], rec[65536 + 256];
	size_t got = 0;
	int ended = 0;

	while (!ended) {
		size_t clen, plen, n = 0;
		ssize_t k;

		for (n = 0; n < 8 && (k = read(fd, h + n, 8 - n)) > 0; n += (size_t)k)
			;
		if (n < 8)
			break;
		clen = (size_t)h[4] << 8 | h[5];
		plen = h[6];
		for (n = 0; n < clen + plen && (k = read(fd, rec + n, clen + plen - n)) > 0;
		    n += (size_t)k)
			;
		if (n < clen + plen)
			break;
		if (h[1] == 6 && got + clen < outlen) {	/* STDOUT */
			memcpy(out + got, rec, clen);
			got += clen;
		}
		ended = h[1] == 3;	/* END_REQUEST */
	}
	out[got < outlen ? got : outlen - 1] = '\0';
	return ended ? 0 : -1;
}

/*
 * One request straight to gymd from src on a connection of its own (see
 * fcgi_send).  The CGI response into out; 0, or -1 when gymd did not answer.
 */
static int
fcgi_request(const char *src, const char *const *params, const char *body, char *out,
    size_t outlen)
{
	int fd, rc;

	if ((fd = fcgi_connect(src)) == -1)
		return -1;
	rc = fcgi_send(fd, params, body, 0) == 0 ? fcgi_answer(fd, out, outlen) : -1;
	close(fd);
	return rc;
}

/* ---- kept connections ---------------------------------------------------------------- */

/*
 * nginx keeps the public reads' FastCGI connections open (fastcgi_keep_conn,
 * nginx/gym.conf).  Three times as many kept connections as gymd has
 * workers: every one is answered, twice, in an order no worker chose (a
 * worker that waited on one kept connection alone, as gymd's did, leaves
 * the others unanswered).  Then requests that are not kept: each worker
 * closes its idle kept connections before it answers one.
 */
START_TEST(kept_connections)
{
	const char *read_[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/healthz",
		"REMOTE_ADDR", "127.0.0.1", NULL };
	int workers = conf_value("workers", 4, NULL, 0);
	int n = 3 * workers, fds[MAXCONN], answered = 0, again = 0, closed = 0, after = 0;
	char out[65536];

	ck_assert_int_le(n, MAXCONN);
	for (int i = 0; i < n; i++) {
		ck_assert_msg((fds[i] = fcgi_connect(NULL)) >= 0, "connect %d", i);
		ck_assert_int_eq(fcgi_send(fds[i], read_, NULL, 1), 0);
	}
	for (int i = 0; i < n; i++)
		answered += fcgi_answer(fds[i], out, sizeof(out)) == 0 &&
		    strncmp(out, "Status: 200", 11) == 0;
	/* the second round, last connection first */
	for (int i = n - 1; i >= 0; i--)
		ck_assert_int_eq(fcgi_send(fds[i], read_, NULL, 1), 0);
	for (int i = n - 1; i >= 0; i--)
		again += fcgi_answer(fds[i], out, sizeof(out)) == 0 &&
		    strncmp(out, "Status: 200", 11) == 0;
	/* Then, on each kept connection still open in turn, a request nginx
	 * would not keep (any location but the reads): the worker serving it
	 * closes its other idle kept connections before it answers.  3 x workers
	 * connections: some worker holds at least 3, so at least 2 are closed by
	 * gymd before their turn comes. */
	for (int i = 0; i < n; i++) {
		char c;
		ssize_t k = recv(fds[i], &c, 1, MSG_DONTWAIT);

		if (k == 0 || (k == -1 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			closed++;
			close(fds[i]);
			continue;
		}
		after += fcgi_send(fds[i], read_, NULL, 0) == 0 &&
		    fcgi_answer(fds[i], out, sizeof(out)) == 0 &&
		    strncmp(out, "Status: 200", 11) == 0;
		close(fds[i]);
	}
	fprintf(stderr, "kept_connections: %d kept connections to %d workers: %d answered, "
	    "%d again; then requests not kept: %d closed by gymd first, %d answered\n", n,
	    workers, answered, again, closed, after);
	ck_assert_int_eq(answered, n);
	ck_assert_int_eq(again, n);
	ck_assert_int_eq(closed + after, n);
	ck_assert_int_ge(closed, 2);
}
END_TEST

/* ---- idle connections -------------------------------------------------------------- */

START_TEST(idle_connections)
{
	int workers = conf_value("workers", 4, NULL, 0);
	int rt = conf_value("read_timeout", 10, NULL, 0);
	int n = workers + 2, fds[MAXCONN], open_ = 0, closed = 0;
	long long t0, took, end, timeouts0 = -1, timeouts1 = -1;
	struct e2e_resp r = { 0 };
	long st;

	ck_assert_int_le(n, MAXCONN);
	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	timeouts0 = e2e_metric(r.body, "gymd_fcgi_read_timeouts_total");
	e2e_resp_free(&r);
	for (int i = 0; i < n; i++)
		if ((fds[i] = fcgi_connect(NULL)) >= 0)
			open_++;
	/* a normal request through nginx, while every worker holds one */
	e2e_sleep_ms(300);
	t0 = e2e_now_ms();
	e2e_request_nock("GET", "/healthz", NULL, NULL, NULL, &r);
	took = e2e_now_ms() - t0;
	st = r.status;
	e2e_resp_free(&r);
	/* every idle connection is closed by gymd (end of file or reset) */
	for (end = e2e_now_ms() + (3 * rt + 5) * 1000LL; closed < open_ && e2e_now_ms() < end;) {
		closed = 0;
		for (int i = 0; i < n; i++) {
			char c;
			ssize_t k;

			if (fds[i] < 0)
				continue;
			k = recv(fds[i], &c, 1, MSG_DONTWAIT);
			if (k == 0 || (k == -1 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				close(fds[i]);
				fds[i] = -2;
			}
		}
		for (int i = 0; i < n; i++)
			closed += fds[i] == -2;
		if (closed < open_)
			e2e_sleep_ms(100);
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	e2e_request("GET", "/metrics", NULL, NULL, NULL, &r);
	timeouts1 = e2e_metric(r.body, "gymd_fcgi_read_timeouts_total");
	e2e_resp_free(&r);
	fprintf(stderr, "idle_connections: %d idle connections to %d workers (read_timeout %d s): "
	    "/healthz %ld after %lld ms; %d closed by gymd; read timeouts %lld -> %lld\n", open_,
	    workers, rt, st, took, closed, timeouts0, timeouts1);
	ck_assert_int_eq(open_, n);
	ck_assert_msg(st == 200, "/healthz through nginx: %ld after %lld ms", st, took);
	ck_assert_msg(took <= (2LL * rt + 3) * 1000, "/healthz took %lld ms (read_timeout %d s)",
	    took, rt);
	ck_assert_msg(closed == n, "%d of %d idle connections closed by gymd", closed, n);
	ck_assert_msg(timeouts1 - timeouts0 >= workers, "gymd_fcgi_read_timeouts_total "
	    "%lld -> %lld", timeouts0, timeouts1);
}
END_TEST

/* ---- a caller that is not a proxy ------------------------------------------------------ */

START_TEST(untrusted_peer)
{
	static const char forged_rid[] = "forgedrid0000000000000000000000a";
	const char *metrics[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/metrics",
		"REMOTE_ADDR", "127.0.0.1", "HTTP_X_REAL_IP", "127.0.0.1", NULL };
	const char *notify[] = { "REQUEST_METHOD", "POST",
		"REQUEST_URI", "/api/v1/payment/wxpay/callback", "CONTENT_TYPE", "application/json",
		"CONTENT_LENGTH", "2", "REMOTE_ADDR", "198.51.100.7",
		"HTTP_X_REAL_IP", "198.51.100.7", "HTTP_X_REQUEST_ID", forged_rid, NULL };
	const char *p[1] = { forged_rid };
	char out[65536], ip[64] = "";
	long long before = e2e_sql_int(e2e_pg(), "SELECT coalesce(max(id), 0) FROM payment_audit_log");
	char bs[24];
	const char *pb[1] = { bs };
	int rc;

	/* 127.0.0.2 is this host, but not in trusted_proxies (127.0.0.1 ::1 unix) */
	rc = fcgi_request("127.0.0.2", metrics, NULL, out, sizeof(out));
	ck_assert_msg(rc == 0, "no answer from gymd to 127.0.0.2");
	ck_assert_msg(strncmp(out, "Status: 404", 11) == 0, "/metrics to 127.0.0.2: %.300s", out);
	ck_assert_msg(strstr(out, "gymd_requests_total") == NULL, "/metrics answered: %.300s", out);

	rc = fcgi_request("127.0.0.2", notify, "{}", out, sizeof(out));
	ck_assert_msg(rc == 0, "no answer from gymd to 127.0.0.2");
	ck_assert_msg(strstr(out, forged_rid) == NULL, "the forged request id came back: %.300s",
	    out);
	snprintf(bs, sizeof(bs), "%lld", before);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log WHERE "
	    "request_id = $1", 1, p), 0);
	e2e_sql_text(e2e_pg(), "SELECT client_ip FROM payment_audit_log WHERE id > $1 AND "
	    "action_type = 'notification_rejected' ORDER BY id DESC LIMIT 1", 1, pb, ip, sizeof(ip));
	ck_assert_msg(strcmp(ip, "127.0.0.2") == 0, "audit row client_ip %s, want 127.0.0.2", ip);
}
END_TEST

Suite *
fcgi_suite(void)
{
	Suite *s = suite_create("fcgi");
	TCase *tc = tcase_create("listener");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, untrusted_peer);
	tcase_add_test(tc, idle_connections);
	tcase_add_test(tc, kept_connections);
	suite_add_tcase(s, tc);
	return s;
}

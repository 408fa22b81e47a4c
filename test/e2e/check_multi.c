/*
 * check_multi.c: two gymd instances on one database behind one nginx
 * upstream.  Instance A is the test stack's gymd.  The fixture starts
 * instance B, a copy of var/test/gymd.conf with its own FastCGI port (A's
 * + 50), the same database, jobs = yes, a sweep batch of 100 and
 * application_name gym-multi-b, and a small nginx of its own
 * (var/test/nginx-multi/, HTTPS on the stack's port + 50) whose upstream
 * has A and B, with fastcgi_next_upstream off so that a request one
 * instance fails is not quietly served by the other.  Both are stopped
 * after the last test, also when a test failed.
 *
 *   flow_on_both    the booking and payment flow through that nginx, four
 *                   parents; every request nginx logged went to the one
 *                   instance it names, whose log has its request id exactly
 *                   once while the other's has not; both served requests.
 *   sweep_once      2,000 lapsed holds swept by both job processes at once:
 *                   the test holds a lock on the audit log's id sequence
 *                   (an ALTER SEQUENCE it rolls back), which a sweep meets
 *                   at its first audit row, after it claimed its batch (an
 *                   empty order sweep writes none and passes), so a
 *                   sweeper stops inside its batch; it makes the holds
 *                   lapse chunk by chunk until a sweeper of each instance
 *                   waits with a batch of its own; then everything goes.
 *                   Exactly one hold_expired audit row per hold, the seats
 *                   left held by the expired holds but free to book, and
 *                   both instances' job lines report expired holds.
 *   reconcile_once  20 orders prepaid through the pair and paid at the
 *                   simulator with their notifications dropped, released to
 *                   the reconciliation of both job processes the same way
 *                   (two chunks, locks on their holds): each order is paid
 *                   with one query transaction, one payment_received audit
 *                   row and one "reconciled order" line across both logs,
 *                   and each instance reconciled some.
 *
 * Both logs are read from where they were when the fixture started.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"
#include "regfields.h"

#define PORT_STEP	50		/* B's and the pair nginx's ports: the stack's + 50 */
#define APP_B		"gym-multi-b"
#define HOLDS		2000
#define CHUNK		100
#define ORDERS		20

#define FAULTS_DROP	"{\"notify_drop\":true}"
#define FAULTS_RESET	"{\"notify_drop\":false}"

static struct {
	int ready;
	char err[768];
	long pid_b;
	int port_a, port_b, port_ngx;
	char base[96];			/* https://127.0.0.1:port_ngx */
	char var[256];			/* absolute GYM_E2E_VAR */
	char conf_b[320], log_b[320], log_a[320], pid_file_b[320], ngx[320];
	long long log_a_off, log_b_off;
} M;

/* ---- small helpers (no Check: the fixture runs in the parent) ------------------------- */

/* pid is alive, runs a program called name, and its command line mentions
 * needle (our config or prefix: a stale pid file never names someone else's). */
static int
runs(long pid, const char *name, const char *needle)
{
	char path[64], exe[PATH_MAX], cmd[4096];
	const char *base;
	ssize_t n;
	size_t got;
	FILE *f;

	if (!e2e_alive(pid))
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return 0;
	exe[n] = '\0';
	if ((base = strrchr(exe, '/')) == NULL)
		base = exe;
	else
		base++;
	if (strncmp(base, name, strlen(name)) != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	got = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	for (size_t i = 0; i < got; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[got] = '\0';
	return strstr(cmd, needle) != NULL;
}

static long
read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

/* When pid runs name with needle in its command line: signal it, wait up to
 * wait_ms, then SIGKILL what is left of its process group (pid leads it). */
static void
stop_group(long pid, const char *name, const char *needle, int sig, int wait_ms)
{
	long long end = e2e_now_ms() + wait_ms;

	if (pid <= 0 || !runs(pid, name, needle))
		return;
	kill((pid_t)pid, sig);
	while (e2e_alive(pid) && e2e_now_ms() < end)
		e2e_sleep_ms(50);
	if (kill(-(pid_t)pid, 0) == 0) {
		kill(-(pid_t)pid, SIGKILL);
		e2e_sleep_ms(200);
	}
}

static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* The file from offset on, NUL-terminated (caller frees); "" when unreadable. */
static char *
slurp_from(const char *path, long long off)
{
	FILE *f = fopen(path, "r");
	long long size = file_size(path);
	char *buf;
	size_t n = 0;

	if (off > size)
		off = 0;	/* the log was started over */
	if ((buf = malloc((size_t)(size - off) + 1)) == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	if (f != NULL) {
		if (fseeko(f, (off_t)off, SEEK_SET) == 0)
			n = fread(buf, 1, (size_t)(size - off), f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int
count_str(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += nl)
		n++;
	return n;
}

/* The port of the "listen = HOST:PORT" line of conf, or -1. */
static int
conf_port(const char *conf)
{
	char line[1024], *colon;
	FILE *f = fopen(conf, "r");
	int port = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "listen = ", 9) == 0 && (colon = strrchr(line, ':')) != NULL)
			port = atoi(colon + 1);
	fclose(f);
	return port;
}

/* The port of a base URL "https://HOST:PORT". */
static int
url_port(const char *url)
{
	const char *colon = strrchr(url, ':');

	return colon != NULL ? atoi(colon + 1) : -1;
}

/* GET uri over FastCGI straight to 127.0.0.1:port, the answer in out: 1 when 200. */
static int
fcgi_get(int port, const char *uri, char *out, size_t len)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "timeout 5 env -i PATH=/usr/bin:/bin REQUEST_METHOD=GET "
	    "REQUEST_URI=%s SCRIPT_NAME=%s SERVER_PROTOCOL=HTTP/1.1 "
	    "REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect 127.0.0.1:%d 2>&1", uri, uri, port);
	return e2e_run(cmd, out, len) == 0 && strncmp(out, "Status: 200", 11) == 0;
}

static int
fcgi_healthy(int port)
{
	char out[512];

	return fcgi_get(port, "/healthz", out, sizeof(out));
}

/* gymd_job_runs_total of the instance on port, or -1. */
static long long
job_runs(int port)
{
	static char out[256 * 1024];

	return fcgi_get(port, "/metrics", out, sizeof(out)) ?
	    e2e_metric(out, "gymd_job_runs_total") : -1;
}

/* Both instances' job processes finish two more passes (so a whole pass
 * began and ended on each): the lines of the passes that did the work are
 * in the logs.  At most 10 s. */
static void
wait_job_passes_both(void)
{
	long long a0 = job_runs(M.port_a), b0 = job_runs(M.port_b), a = a0, b = b0;
	long long end = e2e_now_ms() + 10000;

	ck_assert_msg(a0 >= 0 && b0 >= 0, "gymd_job_runs_total: A %lld, B %lld", a0, b0);
	while ((a < a0 + 2 || b < b0 + 2) && e2e_now_ms() < end) {
		e2e_sleep_ms(20);
		a = job_runs(M.port_a);
		b = job_runs(M.port_b);
	}
	ck_assert_msg(a >= a0 + 2 && b >= b0 + 2, "job passes in 10 s: A %lld -> %lld, B %lld -> %lld",
	    a0, a, b0, b);
}

/* B's config: A's, with B's listen, application_name, batch and lock timeout. */
static int
write_conf_b(void)
{
	char line[4096];
	FILE *in = fopen(e2e_conf(), "r"), *out;
	int ok = 1;

	if (in == NULL)
		return 0;
	if ((out = fopen(M.conf_b, "w")) == NULL) {
		fclose(in);
		return 0;
	}
	fprintf(out, "# instance B of test/e2e/check_multi.c: %s with the changes at the end\n",
	    e2e_conf());
	while (fgets(line, sizeof(line), in) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "listen = ", 9) == 0)
			fprintf(out, "listen = 127.0.0.1:%d\n", M.port_b);
		else if (strncmp(line, "db = ", 5) == 0)
			fprintf(out, "%s application_name=%s\n", line, APP_B);
		else if (strncmp(line, "jobs = ", 7) == 0 || strncmp(line, "job_interval_ms", 15) == 0 ||
		    strncmp(line, "sweep_batch", 11) == 0 || strncmp(line, "db_lock_timeout_ms", 18) == 0)
			continue;
		else
			fprintf(out, "%s\n", line);
	}
	fprintf(out, "jobs = yes\njob_interval_ms = 100\nsweep_batch = %d\n"
	    "db_lock_timeout_ms = 30000\n", CHUNK);
	ok = !ferror(out) && !ferror(in);
	fclose(in);
	ok &= fclose(out) == 0;
	return ok;
}

static int
write_nginx_conf(void)
{
	char path[400], user[64] = "";
	FILE *f;

	if (geteuid() == 0)
		snprintf(user, sizeof(user), "%s", getpwnam("www-data") != NULL ?
		    "user www-data;" : "user nobody nogroup;");
	snprintf(path, sizeof(path), "%s/nginx.conf", M.ngx);
	if ((f = fopen(path, "w")) == NULL)
		return 0;
	fprintf(f,
	    "# nginx in front of gymd A and B, for test/e2e/check_multi.c (generated)\n"
	    "%s\n"
	    "worker_processes 2;\n"
	    "daemon on;\n"
	    "pid %s/nginx.pid;\n"
	    "error_log %s/logs/error.log warn;\n"
	    "events {\n    worker_connections 256;\n}\n"
	    "http {\n"
	    "    map $http_x_request_id $gym_rid {\n"
	    "        \"~^[A-Za-z0-9._:-]{1,64}$\" $http_x_request_id;\n"
	    "        default                    $request_id;\n"
	    "    }\n"
	    "    log_format multi 'rid=$gym_rid up=$upstream_addr status=$status \"$request\"';\n"
	    "    access_log %s/logs/access.log multi;\n"
	    "    client_body_temp_path %s/tmp/body;\n"
	    "    proxy_temp_path %s/tmp/proxy;\n"
	    "    fastcgi_temp_path %s/tmp/fastcgi;\n"
	    "    uwsgi_temp_path %s/tmp/uwsgi;\n"
	    "    scgi_temp_path %s/tmp/scgi;\n"
	    "    upstream gymd_pair {\n"
	    "        server 127.0.0.1:%d;\n"
	    "        server 127.0.0.1:%d;\n"
	    "    }\n"
	    "    server {\n"
	    "        listen 127.0.0.1:%d ssl;\n"
	    "        ssl_certificate %s/tls/cert.pem;\n"
	    "        ssl_certificate_key %s/tls/key.pem;\n"
	    "        client_max_body_size 64k;\n"
	    "        client_body_buffer_size 64k;\n"
	    "        location / {\n"
	    "            include /etc/nginx/fastcgi_params;\n"
	    "            fastcgi_param HTTP_X_REQUEST_ID $gym_rid;\n"
	    "            fastcgi_param HTTP_X_REAL_IP $remote_addr;\n"
	    "            fastcgi_pass gymd_pair;\n"
	    "            fastcgi_next_upstream off;\n"
	    "            fastcgi_keep_conn off;\n"
	    "            fastcgi_read_timeout 30s;\n"
	    "        }\n"
	    "    }\n"
	    "}\n",
	    user, M.ngx, M.ngx, M.ngx, M.ngx, M.ngx, M.ngx, M.ngx, M.ngx,
	    M.port_a, M.port_b, M.port_ngx, M.var, M.var);
	return fclose(f) == 0;
}

static void
nginx_stop(void)
{
	char pidf[400];

	snprintf(pidf, sizeof(pidf), "%s/nginx.pid", M.ngx);
	stop_group(read_pid(pidf), "nginx", M.ngx, SIGQUIT, 10000);
	unlink(pidf);
}

static void
gymd_b_stop(void)
{
	stop_group(M.pid_b > 0 ? M.pid_b : read_pid(M.pid_file_b), "gymd", M.conf_b, SIGTERM, 15000);
	M.pid_b = -1;
	unlink(M.pid_file_b);
}

static void
sim_faults_nock(const char *json)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "curl -s -m 5 -o /dev/null -X POST -H 'Content-Type: "
	    "application/json' -d '%s' '%s/sim/faults'", json, e2e_sim_base());
	(void)e2e_run(cmd, NULL, 0);
}

/* GET /healthz through the pair's nginx: the status (0: no answer). */
static long
pair_health(void)
{
	struct e2e_resp r = { 0 };
	char *old = getenv("GYM_E2E_BASE") ? strdup(getenv("GYM_E2E_BASE")) : NULL;
	long st;

	setenv("GYM_E2E_BASE", M.base, 1);
	e2e_request_nock("GET", "/healthz", NULL, NULL, NULL, &r);
	st = r.status;
	e2e_resp_free(&r);
	if (old != NULL) {
		setenv("GYM_E2E_BASE", old, 1);
		free(old);
	} else
		unsetenv("GYM_E2E_BASE");
	return st;
}

#define FAIL_SETUP(...) do { snprintf(M.err, sizeof(M.err), __VA_ARGS__); return; } while (0)

static void
pair_start(void)
{
	char cmd[2048], out[256], dir[1200], var[PATH_MAX];
	long long end;

	memset(&M, 0, sizeof(M));
	M.pid_b = -1;
	if (realpath(e2e_var(), var) == NULL)
		FAIL_SETUP("%.200s: %s", e2e_var(), strerror(errno));
	if (strlen(var) >= sizeof(M.var))
		FAIL_SETUP("%.200s: path too long", var);
	memcpy(M.var, var, strlen(var) + 1);
	snprintf(M.conf_b, sizeof(M.conf_b), "%s/gymd-multi-b.conf", M.var);
	snprintf(M.log_b, sizeof(M.log_b), "%s/log/gymd-multi-b.log", M.var);
	snprintf(M.log_a, sizeof(M.log_a), "%s/log/gymd.log", M.var);
	snprintf(M.pid_file_b, sizeof(M.pid_file_b), "%s/run/gymd-multi-b.pid", M.var);
	snprintf(M.ngx, sizeof(M.ngx), "%s/nginx-multi", M.var);
	if ((M.port_a = conf_port(e2e_conf())) <= 0 || url_port(e2e_base()) <= 0)
		FAIL_SETUP("no listen port in %s or no port in %s", e2e_conf(), e2e_base());
	M.port_b = M.port_a + PORT_STEP;
	M.port_ngx = url_port(e2e_base()) + PORT_STEP;
	snprintf(M.base, sizeof(M.base), "https://127.0.0.1:%d", M.port_ngx);

	/* leftovers of an interrupted run would hold the ports */
	nginx_stop();
	gymd_b_stop();

	if (!write_conf_b())
		FAIL_SETUP("could not write %s", M.conf_b);
	M.log_a_off = file_size(M.log_a);
	M.log_b_off = file_size(M.log_b);
	snprintf(cmd, sizeof(cmd), "setsid '%s/gymd' -c '%s' >>'%s' 2>&1 </dev/null & echo $!",
	    e2e_bin(), M.conf_b, M.log_b);
	if (e2e_run(cmd, out, sizeof(out)) != 0 || (M.pid_b = atol(out)) <= 0)
		FAIL_SETUP("could not start gymd B: %.600s", cmd);
	snprintf(cmd, sizeof(cmd), "echo %ld >'%s'", M.pid_b, M.pid_file_b);
	(void)e2e_run(cmd, NULL, 0);
	for (end = e2e_now_ms() + 15000; !fcgi_healthy(M.port_b); e2e_sleep_ms(100))
		if (e2e_now_ms() > end || !e2e_alive(M.pid_b))
			FAIL_SETUP("gymd B (pid %ld, 127.0.0.1:%d) does not answer /healthz: see %s",
			    M.pid_b, M.port_b, M.log_b);

	snprintf(dir, sizeof(dir), "mkdir -p '%s/logs' '%s/tmp' && : >'%s/logs/access.log'",
	    M.ngx, M.ngx, M.ngx);
	if (e2e_run(dir, NULL, 0) != 0 || !write_nginx_conf())
		FAIL_SETUP("could not write %s/nginx.conf", M.ngx);
	snprintf(cmd, sizeof(cmd), "n=$(command -v nginx || echo /usr/sbin/nginx); "
	    "\"$n\" -p '%s/' -c '%s/nginx.conf' -e '%s/logs/error.log' 2>&1",
	    M.ngx, M.ngx, M.ngx);
	if (e2e_run(cmd, out, sizeof(out)) != 0)
		FAIL_SETUP("nginx for the pair did not start on 127.0.0.1:%d: %s", M.port_ngx, out);
	for (end = e2e_now_ms() + 10000; pair_health() != 200; e2e_sleep_ms(100))
		if (e2e_now_ms() > end)
			FAIL_SETUP("%s/healthz does not answer 200", M.base);
	fprintf(stderr, "multi: gymd A 127.0.0.1:%d, gymd B 127.0.0.1:%d (pid %ld), nginx %s\n",
	    M.port_a, M.port_b, M.pid_b, M.base);
	M.ready = 1;
}

static void
pair_stop(void)
{
	sim_faults_nock(FAULTS_RESET);
	nginx_stop();
	gymd_b_stop();
}

/* ---- in the tests ------------------------------------------------------------------- */

static void
use_pair(void)
{
	ck_assert_msg(M.ready, "the pair is not up: %s", M.err);
	ck_assert_msg(e2e_alive(M.pid_b), "gymd B (pid %ld) is gone: see %s", M.pid_b, M.log_b);
	setenv("GYM_E2E_BASE", M.base, 1);
}

static void
login(const char *tag, char *token)
{
	char code[96];

	e2e_login(e2e_uniq(tag, code, sizeof(code)), token);
}

static void
get_ok(const char *path, const char *token)
{
	struct e2e_resp r = { 0 };

	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	e2e_resp_free(&r);
}

/* Hold a seat of sid, open an order on it and prepay it (JSAPI): the
 * order_id into oid[40]. */
static void
prepaid_order(const char *token, long long sid, char *oid)
{
	struct e2e_resp r = { 0 };
	char body[512];
	long long rid;

	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", sid);
	e2e_request("POST", E2E_API "/bookings/seat-reserve", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "seat-reserve: %ld %s", r.status, r.body);
	rid = (long long)e2e_num(&r, "reservation_id");
	snprintf(body, sizeof(body), "{" TEST_REGISTRATION ",\"course_schedule_id\":%lld,\"reservation_id\":%lld}", sid, rid);
	e2e_request("POST", E2E_API "/payment/orders/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "orders/create: %ld %s", r.status, r.body);
	snprintf(oid, 40, "%s", e2e_str(&r, "order_id"));
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"trade_type\":\"JSAPI\"}", oid);
	e2e_request("POST", E2E_API "/payment/wxpay/create", token, body, NULL, &r);
	ck_assert_msg(r.status == 200, "wxpay/create: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
}

static void
sim_pay(const char *oid)
{
	struct e2e_resp r = { 0 };
	char body[96];

	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\"}", oid);
	e2e_sim("POST", "/sim/pay", body, &r);
	ck_assert_msg(r.status == 200, "/sim/pay %s: %ld %s", oid, r.status, r.body);
	e2e_resp_free(&r);
}

/* Poll the order through the pair until it is paid; then confirm the booking. */
static void
paid_and_confirmed(const char *token, const char *oid)
{
	struct e2e_resp r = { 0 };
	char path[128], body[96], st[24] = "";
	long long end = e2e_now_ms() + 10000;

	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	do {
		e2e_request("GET", path, token, NULL, NULL, &r);
		ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
		snprintf(st, sizeof(st), "%s", e2e_str(&r, "status"));
		if (strcmp(st, "paid") != 0)
			e2e_sleep_ms(100);
	} while (strcmp(st, "paid") != 0 && e2e_now_ms() < end);
	ck_assert_msg(strcmp(st, "paid") == 0, "order %s is %s 10 s after the payment", oid, st);
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\"}", oid);
	e2e_request("POST", E2E_API "/bookings/confirm", token, body, NULL, &r);
	ck_assert_msg(r.status == 200, "confirm %s: %ld %s", oid, r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "confirmed");
	e2e_resp_free(&r);
}

/* Both instances' logs since the fixture started. */
static void
logs(char **a, char **b)
{
	*a = slurp_from(M.log_a, M.log_a_off);
	*b = slurp_from(M.log_b, M.log_b_off);
	ck_assert_ptr_nonnull(*a);
	ck_assert_ptr_nonnull(*b);
}

/* A second connection to the database (the test's own, e2e_pg(), stays free). */
static PGconn *
pg_other(void)
{
	PGconn *c = PQconnectdb(e2e_pguri());

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to %s: %s", e2e_pguri(),
	    PQerrorMessage(c));
	return c;
}

/*
 * Job backends waiting on a lock of the test's: "A", "B" or "AB" into out.
 * B is the backend named APP_B; A any other, not the test's own.
 */
static void
blocked(PGconn *lk, char *out, size_t len)
{
	char lkpid[24];
	const char *p[2] = { lkpid, APP_B };

	snprintf(lkpid, sizeof(lkpid), "%d", PQbackendPID(lk));
	e2e_sql_text(e2e_pg(),
	    "SELECT coalesce(string_agg(DISTINCT CASE WHEN application_name = $2 THEN 'B' ELSE 'A' END, "
	    "'' ORDER BY CASE WHEN application_name = $2 THEN 'B' ELSE 'A' END), '') "
	    "FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
	    "AND state = 'active' AND pid <> pg_backend_pid() AND pid <> $1::int "
	    "AND backend_type = 'client backend'", 2, p, out, len);
}

/*
 * With lk holding locks the jobs will wait on, call release(k) for chunk
 * k = 0, 1, ... each time another job backend has started waiting, until
 * backends of both instances wait (or no chunk is left, or 10 s passed).
 * Returns the chunks released; what waited into seen ("AB" when both).
 */
static int
release_until_both(PGconn *lk, int (*release)(int k, void *arg), void *arg, int chunks,
    char *seen, size_t len)
{
	long long end = e2e_now_ms() + 10000;
	int k = 0;
	size_t waiting = 0;

	seen[0] = '\0';
	while (k < chunks && release(k, arg) > 0) {
		k++;
		/* wait for one more waiter */
		while (strlen(seen) <= waiting && e2e_now_ms() < end) {
			e2e_sleep_ms(20);
			blocked(lk, seen, len);
		}
		if (strcmp(seen, "AB") == 0 || e2e_now_ms() >= end)
			break;
		waiting = strlen(seen);
	}
	return k;
}

/* Sum of N over "job=run status=ok expired=N" lines in log. */
static long
expired_sum(const char *log, int *lines)
{
	const char *p = log, *key = "job=run status=ok expired=";
	long sum = 0;

	*lines = 0;
	while ((p = strstr(p, key)) != NULL) {
		p += strlen(key);
		sum += atol(p);
		(*lines)++;
	}
	return sum;
}

/* ---- 1. the flow on both ------------------------------------------------------------- */

START_TEST(flow_on_both)
{
	char token[E2E_TOKEN_MAX], oid[40], path[400], rid[80], up[64], needle[128], sids[24];
	const char *ps[1] = { sids };
	char *acc, *la, *lb, *line, *save = NULL;
	long long sid;
	int on_a = 0, on_b = 0, bad = 0, n = 0;

	use_pair();
	sid = e2e_schedule(8);
	snprintf(sids, sizeof(sids), "%lld", sid);
	snprintf(path, sizeof(path), E2E_API "/course-schedules/%lld", sid);
	for (int u = 0; u < 4; u++) {
		login("multi-flow", token);
		get_ok(E2E_API "/course-schedules", NULL);
		get_ok(path, NULL);
		prepaid_order(token, sid, oid);
		sim_pay(oid);
		paid_and_confirmed(token, oid);
	}
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM bookings WHERE "
	    "course_schedule_id = $1::bigint AND status = 'confirmed'", 1, ps), 4);

	e2e_sleep_ms(300);	/* a log line follows its answer */
	snprintf(path, sizeof(path), "%s/logs/access.log", M.ngx);
	acc = slurp_from(path, 0);
	ck_assert_ptr_nonnull(acc);
	logs(&la, &lb);
	for (line = strtok_r(acc, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		int ca, cb, port;

		if (sscanf(line, "rid=%79s up=%63s", rid, up) != 2)
			continue;
		n++;
		snprintf(needle, sizeof(needle), "rid=%s method=", rid);
		ca = count_str(la, needle);
		cb = count_str(lb, needle);
		port = url_port(up);
		if (port == M.port_a && ca == 1 && cb == 0)
			on_a++;
		else if (port == M.port_b && cb == 1 && ca == 0)
			on_b++;
		else if (bad++ < 5)
			fprintf(stderr, "flow_on_both: nginx sent %s to %s; lines in A's log %d, "
			    "in B's %d\n", rid, up, ca, cb);
	}
	fprintf(stderr, "flow_on_both: %d requests through the pair: %d served by A, %d by B\n",
	    n, on_a, on_b);
	free(acc);
	free(la);
	free(lb);
	ck_assert_msg(n >= 4 * 8, "nginx logged %d requests, expected at least %d", n, 4 * 8);
	ck_assert_msg(bad == 0, "%d requests not logged exactly once by the instance nginx sent "
	    "them to (above)", bad);
	ck_assert_msg(on_a > 0 && on_b > 0, "one instance served nothing: A %d, B %d", on_a, on_b);
}
END_TEST

/* ---- 2. 2,000 lapsed holds, two sweepers --------------------------------------------- */

struct sweep_arg {
	char sid[24];
};

/*
 * The next CHUNK of the schedule's holds (all that are left when k < 0)
 * lapse now; returns how many.  Only holds that have not lapsed yet are
 * touched: the lapsed ones may be locked by a sweeper that waits on the
 * test's other connection, and waiting on it here would stall both.
 */
static int
holds_lapse(int k, void *v)
{
	struct sweep_arg *a = v;
	char lim[16];
	const char *p[2] = { a->sid, lim };
	PGresult *r;
	int n;

	snprintf(lim, sizeof(lim), "%d", k < 0 ? HOLDS : CHUNK);
	r = PQexecParams(e2e_pg(), "UPDATE seat_reservations SET expires_at = now() - interval '1 minute' "
	    "WHERE id IN (SELECT id FROM seat_reservations WHERE course_schedule_id = $1::bigint "
	    "AND expires_at > now() ORDER BY id LIMIT $2::int) AND expires_at > now()",
	    2, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "lapse: %s", PQerrorMessage(e2e_pg()));
	n = atoi(PQcmdTuples(r));
	PQclear(r);
	return n;
}

START_TEST(sweep_once)
{
	struct sweep_arg a;
	char tag[96], seen[8] = "", *la, *lb;
	const char *p[2] = { a.sid, tag };
	long long sid, t0;
	long ea, eb;
	int chunks, runs_a, runs_b;
	PGconn *lk;
	PGresult *r;

	use_pair();
	sid = e2e_schedule(HOLDS);
	snprintf(a.sid, sizeof(a.sid), "%lld", sid);
	e2e_uniq("oMultiSweep", tag, sizeof(tag));
	/* HOLDS parents, each with a hold on a seat of sid; the holds lapse only
	 * when released below, the seats' own hold time has passed already */
	e2e_sql_exec(e2e_pg(), "INSERT INTO users (openid, created_at, last_login_at) "
	    "SELECT $2 || '-' || g, now(), now() FROM generate_series(1, "
	    "(SELECT capacity FROM course_schedules WHERE id = $1::bigint)) g", 2, p);
	e2e_sql_exec(e2e_pg(),
	    "WITH u AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM users "
	    "  WHERE openid LIKE $2 || '-%'), "
	    "s AS (SELECT id, seat_no FROM seats WHERE course_schedule_id = $1::bigint), "
	    "r AS (INSERT INTO seat_reservations (user_id, course_schedule_id, seat_id, status, "
	    "  expires_at, created_at, updated_at) SELECT u.id, $1::bigint, s.id, 'temporary', "
	    "  now() + interval '1 hour', now(), now() FROM u JOIN s ON s.seat_no = u.n "
	    "  RETURNING id, seat_id) "
	    "UPDATE seats SET state = 'held', reservation_id = r.id, "
	    "  held_until = now() - interval '1 minute' FROM r WHERE seats.id = r.seat_id", 2, p);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM seat_reservations WHERE "
	    "course_schedule_id = $1::bigint AND status = 'temporary'", 1, p), HOLDS);

	/* the audit ids locked: a sweeper that claimed a batch waits for its
	 * first audit id (nextval's lock conflicts with ALTER SEQUENCE's; the
	 * sweep writes no seat that could be locked instead).  Rolled back. */
	lk = pg_other();
	e2e_sql_exec(lk, "BEGIN", 0, NULL);
	e2e_sql_exec(lk, "ALTER SEQUENCE payment_audit_log_id_seq CACHE 1", 0, NULL);
	t0 = e2e_now_ms();
	chunks = release_until_both(lk, holds_lapse, &a, HOLDS / CHUNK, seen, sizeof(seen));
	(void)holds_lapse(-1, &a);	/* all of them */
	r = PQexec(lk, "ROLLBACK");
	PQclear(r);
	PQfinish(lk);
	fprintf(stderr, "sweep_once: %d chunk(s) of %d released before both waited (%s) after "
	    "%lld ms\n", chunks, CHUNK, seen, e2e_now_ms() - t0);

	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM seat_reservations WHERE "
	    "course_schedule_id = $1::bigint AND status = 'temporary'", 1, p, 0, 20000), 0);
	wait_job_passes_both();	/* the runs' log lines */
	ck_assert_str_eq(seen, "AB");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM seat_reservations WHERE "
	    "course_schedule_id = $1::bigint AND status = 'expired'", 1, p), HOLDS);
	/* the sweep writes no seat: each stays held by its expired hold, and
	 * is free to book (held_until has passed) */
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM seats s JOIN "
	    "seat_reservations r ON r.id = s.reservation_id AND r.seat_id = s.id WHERE "
	    "s.course_schedule_id = $1::bigint AND s.state = 'held' AND r.status = 'expired' "
	    "AND s.held_until <= now()", 1, p), HOLDS);
	ck_assert_int_eq(e2e_available(sid), HOLDS);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'hold_expired' AND reservation_id IN (SELECT id FROM seat_reservations "
	    "WHERE course_schedule_id = $1::bigint)", 1, p), HOLDS);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(DISTINCT reservation_id) FROM "
	    "payment_audit_log WHERE action_type = 'hold_expired' AND reservation_id IN "
	    "(SELECT id FROM seat_reservations WHERE course_schedule_id = $1::bigint)", 1, p), HOLDS);
	logs(&la, &lb);
	ea = expired_sum(la, &runs_a);
	eb = expired_sum(lb, &runs_b);
	fprintf(stderr, "sweep_once: job lines report %ld expired by A (%d runs), %ld by B (%d runs)\n",
	    ea, runs_a, eb, runs_b);
	free(la);
	free(lb);
	ck_assert_msg(ea > 0 && eb > 0, "a job process logged no expired rows: A %ld, B %ld", ea, eb);
	ck_assert_msg(ea + eb >= HOLDS, "the job lines report %ld expired rows, fewer than %d",
	    ea + eb, HOLDS);
}
END_TEST

/* ---- 3. lost notifications, two reconcilers ------------------------------------------ */

struct rec_arg {
	char oids[ORDERS][40];
};

/* Orders [k * ORDERS/2, (k + 1) * ORDERS/2) become due for reconciliation. */
static int
orders_due(int k, void *v)
{
	struct rec_arg *a = v;
	int n = 0;

	if (k >= 2)
		return 0;
	for (int i = k * ORDERS / 2; i < (k + 1) * ORDERS / 2; i++) {
		const char *p[1] = { a->oids[i] };

		e2e_sql_exec(e2e_pg(), "UPDATE payment_orders SET prepay_at = now() - interval "
		    "'1 minute' WHERE order_id = $1", 1, p);
		n++;
	}
	return n;
}

START_TEST(reconcile_once)
{
	struct rec_arg a;
	char token[E2E_TOKEN_MAX], sids[24], needle[96], seen[8] = "", *la, *lb;
	const char *ps[1] = { sids };
	long long sid, t0;
	int chunks, on_a = 0, on_b = 0, bad = 0;
	PGconn *lk;
	PGresult *r;

	use_pair();
	e2e_faults(FAULTS_DROP);
	sid = e2e_schedule(ORDERS);
	snprintf(sids, sizeof(sids), "%lld", sid);
	for (int i = 0; i < ORDERS; i++) {
		const char *p[1] = { a.oids[i] };

		login("multi-rec", token);
		prepaid_order(token, sid, a.oids[i]);
		/* not due before the test says so (wx.reconcile_after_s is 2 s) */
		e2e_sql_exec(e2e_pg(), "UPDATE payment_orders SET prepay_at = now() + interval "
		    "'1 hour' WHERE order_id = $1", 1, p);
	}
	for (int i = 0; i < ORDERS; i++)
		sim_pay(a.oids[i]);

	/* the holds locked: a reconciler confirming a payment waits on them */
	lk = pg_other();
	e2e_sql_exec(lk, "BEGIN", 0, NULL);
	ck_assert_int_eq(e2e_sql_intp(lk, "SELECT count(*) FROM (SELECT id FROM seat_reservations "
	    "WHERE course_schedule_id = $1::bigint FOR UPDATE) x", 1, ps), ORDERS);
	t0 = e2e_now_ms();
	chunks = release_until_both(lk, orders_due, &a, 2, seen, sizeof(seen));
	if (chunks < 2)		/* the second chunk (not due, so locked by nobody) */
		(void)orders_due(1, &a);
	r = PQexec(lk, "COMMIT");
	PQclear(r);
	PQfinish(lk);
	fprintf(stderr, "reconcile_once: %d chunk(s) of %d released before both waited (%s) after "
	    "%lld ms\n", chunks, ORDERS / 2, seen, e2e_now_ms() - t0);

	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM payment_orders WHERE "
	    "course_schedule_id = $1::bigint AND status = 'paid'", 1, ps, ORDERS, 20000), ORDERS);
	e2e_faults(FAULTS_RESET);
	wait_job_passes_both();	/* the runs' log lines */
	ck_assert_str_eq(seen, "AB");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_transactions t "
	    "JOIN payment_orders o USING (order_id) WHERE o.course_schedule_id = $1::bigint", 1, ps),
	    ORDERS);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(DISTINCT t.order_id) FROM "
	    "payment_transactions t JOIN payment_orders o USING (order_id) WHERE "
	    "o.course_schedule_id = $1::bigint AND t.source = 'query' AND t.outcome = 'paid'", 1, ps),
	    ORDERS);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_audit_log l "
	    "JOIN payment_orders o USING (order_id) WHERE o.course_schedule_id = $1::bigint "
	    "AND l.action_type = 'payment_received'", 1, ps), ORDERS);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM bookings WHERE "
	    "course_schedule_id = $1::bigint AND status = 'confirmed'", 1, ps), ORDERS);

	logs(&la, &lb);
	for (int i = 0; i < ORDERS; i++) {
		int ca, cb;

		snprintf(needle, sizeof(needle), "reconciled order %s: ", a.oids[i]);
		ca = count_str(la, needle);
		cb = count_str(lb, needle);
		snprintf(needle, sizeof(needle), "reconciled order %s: paid", a.oids[i]);
		if (ca + cb != 1 || count_str(la, needle) + count_str(lb, needle) != 1) {
			if (bad++ < 5)
				fprintf(stderr, "reconcile_once: order %s reconciled %d times by A, "
				    "%d by B\n", a.oids[i], ca, cb);
		}
		on_a += ca;
		on_b += cb;
	}
	free(la);
	free(lb);
	fprintf(stderr, "reconcile_once: %d orders reconciled by A, %d by B\n", on_a, on_b);
	ck_assert_msg(bad == 0, "%d orders not reconciled exactly once (above)", bad);
	ck_assert_msg(on_a > 0 && on_b > 0, "one job process reconciled nothing: A %d, B %d",
	    on_a, on_b);
}
END_TEST

static void
teardown(void)
{
	sim_faults_nock(FAULTS_RESET);
}

Suite *
multi_suite(void)
{
	Suite *s = suite_create("multi");
	TCase *tc = tcase_create("two_instances");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, pair_start, pair_stop);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, flow_on_both);
	tcase_add_test(tc, sweep_once);
	tcase_add_test(tc, reconcile_once);
	suite_add_tcase(s, tc);
	return s;
}

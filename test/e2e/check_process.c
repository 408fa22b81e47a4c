/*
 * check_process.c: the master/worker behaviour of gymd through the whole
 * stack: a SIGKILLed worker is replaced, and the master's log line names
 * the signal and the route it was serving (idle, or the request a seat
 * lock holds in the handler), SIGHUP under load drops nothing,
 * SIGTERM lets a request in flight finish, PostgreSQL going away and
 * coming back gives 503 UNAVAILABLE and then a recovery without restart,
 * and job_processes = 2 loaded by a reload gives two job processes (and
 * back to one).
 *
 * The tests disturb the shared test stack, so they run in this order in
 * one TCase, and each one puts the stack back (restart_stack, no Check
 * asserts) before it asserts what it measured: a failing test never
 * leaves gymd or PostgreSQL down for the next one.  A checked setup does
 * the same before every test, and an unchecked teardown after the last.
 *
 * Workers and the job process are both children of the master; a worker
 * is told apart by its epoll set (anon_inode:[eventpoll]), which only
 * gym_worker_run() creates.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"
#include "procfs.h"


/* ---- processes -------------------------------------------------------------------- */

/* The master's worker children (sorted as listed); returns how many. */
static int
workers(long master, long *w)
{
	long kids[PROCFS_MAXKIDS];
	int n = procfs_children(master, kids), k = 0;

	for (int i = 0; i < n; i++)
		if (procfs_has_epoll(kids[i]))
			w[k++] = kids[i];
	return k;
}

static int
contains(const long *set, int n, long pid)
{
	for (int i = 0; i < n; i++)
		if (set[i] == pid)
			return 1;
	return 0;
}

/* The master's children that are not workers: its job processes. */
static int
job_processes(long master)
{
	long kids[PROCFS_MAXKIDS];
	int n = procfs_children(master, kids), k = 0;

	for (int i = 0; i < n; i++)
		k += !procfs_has_epoll(kids[i]);
	return k;
}

/* ---- the stack -------------------------------------------------------------------- */

/* GET path without Check: the status (0 on a transport error); the
 * "code" member into code when not NULL. */
static long
get_status(const char *path, char *code, size_t len)
{
	struct e2e_resp r = { 0 };
	long st;

	e2e_request_nock("GET", path, NULL, NULL, NULL, &r);
	st = r.status;
	if (code != NULL)
		snprintf(code, len, "%s", r.json != NULL ? e2e_code(&r) : "");
	e2e_resp_free(&r);
	return st;
}

/* Poll /healthz until 200 or timeout_ms; 1 when it answered 200. */
static int
wait_healthy(int timeout_ms)
{
	long long end = e2e_now_ms() + timeout_ms;

	for (;;) {
		if (get_status("/healthz", NULL, 0) == 200)
			return 1;
		if (e2e_now_ms() >= end)
			return 0;
		e2e_sleep_ms(100);
	}
}

static void
sh(const char *cmd)
{
	char line[2048], log[1024];

	snprintf(line, sizeof(line), "%s >>'%s' 2>&1", cmd,
	    e2e_var_path("log/check_process.log", log, sizeof(log)));
	(void)e2e_run(line, NULL, 0);
}

/*
 * Put the test stack back without Check: PostgreSQL up, the gymd master
 * alive, /healthz 200 (restarting the whole stack when it is not).
 * GYM_BIN is inherited by stack.sh.  Returns 1 when healthy.
 */
static int
restart_stack(void)
{
	if (e2e_run("bash test/env/pg.sh status test >/dev/null 2>&1", NULL, 0) != 0)
		sh("bash test/env/pg.sh start test");
	if (e2e_alive(e2e_pidfile("gymd")) && wait_healthy(3000))
		return 1;
	sh("bash test/env/stack.sh start test");
	return wait_healthy(30000);
}

static void
setup(void)
{
	ck_assert_msg(restart_stack(), "the test stack is not healthy (see %s/log/check_process.log)",
	    e2e_var());
}

static void
teardown_all(void)
{
	(void)restart_stack();
}

/* ---- 1. a killed worker is replaced -------------------------------------------------- */

START_TEST(worker_killed)
{
	long master = e2e_pidfile("gymd"), before[PROCFS_MAXKIDS], after[PROCFS_MAXKIDS];
	long w[PROCFS_MAXKIDS], nw2[PROCFS_MAXKIDS];
	int nbefore, nafter = 0, nw, replaced = 0;
	long long t0, took = -1, logoff = e2e_gymd_log_size();
	char needle[160], *log;
	long st;

	ck_assert_msg(e2e_alive(master), "gymd master %ld not running", master);
	nbefore = procfs_children(master, before);
	nw = workers(master, w);
	ck_assert_msg(nw >= 1, "no worker among the %d children of %ld", nbefore, master);
	ck_assert_int_eq(kill((pid_t)w[0], SIGKILL), 0);
	t0 = e2e_now_ms();
	while (e2e_now_ms() - t0 < 1000) {
		nafter = procfs_children(master, after);
		/* a new worker counts once it has its epoll set */
		if (nafter == nbefore && !contains(after, nafter, w[0]) &&
		    workers(master, nw2) == nw) {
			replaced = 1;
			took = e2e_now_ms() - t0;
			break;
		}
		e2e_sleep_ms(10);
	}
	st = get_status("/healthz", NULL, 0);
	if (!replaced || st != 200)
		(void)restart_stack();
	ck_assert_msg(replaced, "worker %ld killed: master %ld has %d children after 1 s (had %d)",
	    w[0], master, nafter, nbefore);
	ck_assert_msg(st == 200, "/healthz after the kill: %ld", st);
	fprintf(stderr, "worker_killed: %ld replaced in %lld ms\n", w[0], took);
	/* the master's line: the signal by name, no core, between requests */
	snprintf(needle, sizeof(needle), "worker %ld was killed by signal %d (SIGKILL: ", w[0],
	    SIGKILL);
	log = e2e_gymd_log_since(logoff);
	ck_assert_msg(strstr(log, needle) != NULL, "no \"%s\" in gymd.log:\n%s", needle, log);
	ck_assert_msg(strstr(strstr(log, needle), "no core dump, idle after") != NULL,
	    "the line of worker %ld does not say idle:\n%s", w[0], log);
	free(log);
}
END_TEST

/* ---- 1b. a worker killed inside a request: its route is in the report --------------- */

/*
 * A class of one seat, a parent's token for tag and the seat-reserve body
 * for that class, and the seat locked FOR UPDATE in a transaction left open
 * on pg: to a hold the seat looks claimed by a claim in flight, so the hold
 * waits inside its handler (looking again after short pauses, up to the
 * lock timeout) until pg ends it.
 */
static void
locked_seat(PGconn *pg, const char *tag, char *token, char *body, size_t bodylen)
{
	char code[96], sidbuf[24];
	const char *p[1] = { sidbuf };
	long long sid = e2e_schedule(1);
	PGresult *res;
	int locked;

	e2e_login(e2e_uniq(tag, code, sizeof(code)), token);
	snprintf(sidbuf, sizeof(sidbuf), "%lld", sid);
	snprintf(body, bodylen, "{\"course_schedule_id\":%lld}", sid);
	e2e_sql_exec(pg, "BEGIN", 0, NULL);
	res = PQexecParams(pg, "SELECT id FROM seats WHERE course_schedule_id = $1 FOR UPDATE",
	    1, NULL, p, NULL, NULL, 0);
	locked = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : -1;
	PQclear(res);
	ck_assert_msg(locked == 1, "locked %d seats of schedule %lld", locked, sid);
}

/* Lines of log that contain both a and b. */
static int
lines_with(const char *log, const char *a, const char *b)
{
	const char *p = log, *nl;
	int n = 0;

	while (*p != '\0') {
		size_t len;
		char line[1024];

		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
		n += strstr(line, a) != NULL && strstr(line, b) != NULL;
		p += len + (nl != NULL);
	}
	return n;
}

/*
 * A client posts the seat-reserve body (with the extra headers) whose seat
 * pg holds locked; once its worker waits for the seat (its backend's last
 * statement is the hold's look at the class's seats, or a lock wait), every
 * worker is SIGKILLed (which one serves it is not known from here), then
 * pg is closed (the lock goes with it) and the client reaped.  Returns the
 * backends that waited (0: none within 3 s, nothing killed); the workers
 * and how many were killed into *nw and *killed.
 */
static long long
kill_held(long master, PGconn *pg, const char *token, const char *body, const char *extra,
    int *nw, int *killed)
{
	long w[PROCFS_MAXKIDS];
	long long waiting = 0;
	pid_t kid;

	if ((kid = fork()) == 0) {
		struct e2e_resp r = { 0 };

		e2e_request_nock("POST", E2E_API "/bookings/seat-reserve", token, body, extra, &r);
		_exit(0);
	}
	ck_assert_int_ge(kid, 0);
	for (long long end = e2e_now_ms() + 3000; waiting == 0 && e2e_now_ms() < end;
	    e2e_sleep_ms(20))
		waiting = e2e_sql_int(e2e_pg(), "SELECT count(*) FROM pg_stat_activity WHERE "
		    "pid <> pg_backend_pid() AND (wait_event_type = 'Lock' OR "
		    "query LIKE 'SELECT EXISTS (SELECT 1 FROM seats WHERE course_schedule_id%')");
	*nw = workers(master, w);
	*killed = 0;
	for (int i = 0; i < *nw && waiting > 0; i++)
		*killed += kill((pid_t)w[i], SIGKILL) == 0;
	PQfinish(pg);
	waitpid(kid, NULL, 0);
	return waiting;
}

START_TEST(worker_killed_serving)
{
	long master = e2e_pidfile("gymd");
	char token[E2E_TOKEN_MAX], body[96], *log = NULL;
	long long logoff, waiting, end;
	PGconn *pg;
	int nw, killed = 0, serving = 0, idle = 0;

	ck_assert_msg(e2e_alive(master), "gymd master %ld not running", master);
	pg = PQconnectdb(e2e_pguri());
	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s", PQerrorMessage(pg));
	locked_seat(pg, "proc-crash", token, body, sizeof(body));

	logoff = e2e_gymd_log_size();
	waiting = kill_held(master, pg, token, body, NULL, &nw, &killed);
	/* the master's lines, one per worker */
	for (end = e2e_now_ms() + 5000; e2e_now_ms() < end; e2e_sleep_ms(50)) {
		free(log);
		log = e2e_gymd_log_since(logoff);
		if (lines_with(log, "was killed by signal 9 (SIGKILL: ", "unexpectedly") >= killed)
			break;
	}
	serving = lines_with(log, "(SIGKILL: ", ", serving POST /bookings/seat-reserve after ");
	idle = lines_with(log, "(SIGKILL: ", ", idle after ");
	fprintf(stderr, "worker_killed_serving: %d workers killed: %d serving the hold, %d idle\n",
	    killed, serving, idle);
	(void)restart_stack();
	ck_assert_msg(waiting > 0, "no hold waited for the locked seat within 3 s");
	ck_assert_int_eq(killed, nw);
	ck_assert_msg(serving == 1 && idle == killed - 1, "%d lines name the route, %d say idle, "
	    "%d workers killed; gymd.log:\n%s", serving, idle, killed, log);
	free(log);
	ck_assert_msg(wait_healthy(3000), "stack not healthy after the workers were replaced");
}
END_TEST

/* ---- 1c. an Idempotency-Key whose worker was killed is taken over -------------------- */

/* The idempotency_lease of the stack's gymd.conf (gymd's default: 60). */
static int
conf_lease(void)
{
	char line[512];
	FILE *f = fopen(e2e_conf(), "r");
	int lease = 60;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		(void)sscanf(line, " idempotency_lease = %d", &lease);
	if (f != NULL)
		fclose(f);
	return lease;
}

/*
 * Issue 13, finding 1: the worker serving a hold with Idempotency-Key K is
 * SIGKILLed (its key row claimed, no answer).  Before the lease every
 * retry with K waited 5 s and got 409 for 24 hours.  Now a retry inside
 * the lease is told 409 CONFLICT at once, and once the lease is over a
 * retry takes the key over and completes: one hold, replayed after.
 */
START_TEST(idempotency_key_after_kill)
{
	long master = e2e_pidfile("gymd");
	char token[E2E_TOKEN_MAX], body[96], key[80], hdr[120], code[64] = "", rep[16];
	long long waiting = 0, end, t0, first_ms = -1, done_ms = -1;
	long first = 0, last = 0, replay = 0;
	int nw, killed = 0, lease = conf_lease(), tries = 0;
	struct e2e_resp r = { 0 };
	PGconn *pg;

	ck_assert_msg(e2e_alive(master), "gymd master %ld not running", master);
	pg = PQconnectdb(e2e_pguri());
	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s", PQerrorMessage(pg));
	locked_seat(pg, "proc-idem", token, body, sizeof(body));
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", e2e_uniq("pk", key, sizeof(key)));
	waiting = kill_held(master, pg, token, body, hdr, &nw, &killed);
	(void)wait_healthy(5000);
	/* the client retries with K until it is answered, for lease + 10 s */
	t0 = e2e_now_ms();
	for (end = t0 + (lease + 10) * 1000LL; e2e_now_ms() < end; e2e_sleep_ms(250)) {
		long long s0 = e2e_now_ms();

		e2e_request_nock("POST", E2E_API "/bookings/seat-reserve", token, body, hdr, &r);
		last = r.status;
		if (tries++ == 0) {
			first = r.status;
			first_ms = e2e_now_ms() - s0;
			snprintf(code, sizeof(code), "%s", r.json != NULL ? e2e_code(&r) : "");
		}
		e2e_resp_free(&r);
		if (last == 201) {
			done_ms = e2e_now_ms() - t0;
			break;
		}
	}
	/* and once more: the stored answer */
	e2e_request_nock("POST", E2E_API "/bookings/seat-reserve", token, body, hdr, &r);
	replay = r.status == 201 && e2e_header(&r, "Idempotent-Replayed", rep, sizeof(rep)) != NULL;
	e2e_resp_free(&r);
	fprintf(stderr, "idempotency_key_after_kill: %d workers killed; first retry %ld %s in "
	    "%lld ms; %d tries, 201 after %lld ms (lease %d s)\n", killed, first, code, first_ms,
	    tries, done_ms, lease);
	(void)restart_stack();
	ck_assert_msg(waiting > 0, "no hold waited for the locked seat within 3 s");
	ck_assert_int_eq(killed, nw);
	/* inside the lease: 409 at once, not after 5 s */
	ck_assert_msg(first == 409 || first == 201, "first retry: %ld", first);
	if (first == 409)
		ck_assert_str_eq(code, "CONFLICT");
	ck_assert_msg(first_ms < 1000, "the first retry took %lld ms", first_ms);
	ck_assert_msg(last == 201, "the key was never taken over: last answer %ld after %d tries",
	    last, tries);
	ck_assert_msg(done_ms <= (lease + 3) * 1000LL, "completed after %lld ms, lease %d s",
	    done_ms, lease);
	ck_assert_msg(replay, "the answer was not stored for replay");
	{
		const char *p[1] = { key };

		ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM idempotency_keys "
		    "WHERE key = $1 AND status_code = 201 AND locked_at IS NULL", 1, p), 1);
	}
}
END_TEST

/* ---- 2. SIGHUP twice under load ----------------------------------------------------- */

struct tally {
	long ok, bad, transport;
	long last_bad_status;
};

static void
load_child(int fd, const char *sched_path, long long deadline)
{
	struct tally t = { 0 };
	struct e2e_resp r = { 0 };
	int i = 0;

	while (e2e_now_ms() < deadline) {
		const char *path = (i++ & 1) ? "/healthz" : sched_path;

		if (e2e_request_nock("GET", path, NULL, NULL, NULL, &r) != 0 || r.status == 0)
			t.transport++;
		else if (r.status < 200 || r.status > 299) {
			t.bad++;
			t.last_bad_status = r.status;
		} else
			t.ok++;
		e2e_resp_free(&r);
	}
	(void)!write(fd, &t, sizeof(t));
	_exit(0);
}

START_TEST(reload_under_load)
{
	enum { NLOAD = 4 };
	long master = e2e_pidfile("gymd"), before[PROCFS_MAXKIDS], after[PROCFS_MAXKIDS];
	int nbefore, nafter = 0, fds[2], stale = 1, hups = 0;
	pid_t kids[NLOAD];
	struct tally sum = { 0 }, t;
	char path[128];
	long long sid, start, deadline;

	ck_assert_msg(e2e_alive(master), "gymd master %ld not running", master);
	sid = e2e_schedule(10);
	snprintf(path, sizeof(path), E2E_API "/course-schedules/%lld", sid);
	nbefore = workers(master, before);
	ck_assert_int_ge(nbefore, 1);
	ck_assert_int_eq(pipe(fds), 0);
	start = e2e_now_ms();
	deadline = start + 10000;
	for (int i = 0; i < NLOAD; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			close(fds[0]);
			load_child(fds[1], path, deadline);
		}
	}
	close(fds[1]);
	e2e_sleep_ms(2000);
	hups += kill((pid_t)master, SIGHUP) == 0;
	e2e_sleep_ms((int)(start + 6000 - e2e_now_ms()));
	hups += kill((pid_t)master, SIGHUP) == 0;
	for (int i = 0; i < NLOAD; i++) {
		ssize_t n = read(fds[0], &t, sizeof(t));

		if (n == (ssize_t)sizeof(t)) {
			sum.ok += t.ok;
			sum.bad += t.bad;
			sum.transport += t.transport;
			if (t.last_bad_status)
				sum.last_bad_status = t.last_bad_status;
		} else
			sum.transport += 1000000;	/* a load process died */
	}
	close(fds[0]);
	for (int i = 0; i < NLOAD; i++)
		waitpid(kids[i], NULL, 0);
	/* the old generation drains: none of the first workers is left */
	for (long long end = e2e_now_ms() + 5000; e2e_now_ms() < end; e2e_sleep_ms(50)) {
		nafter = workers(master, after);
		stale = 0;
		for (int i = 0; i < nbefore; i++)
			stale += contains(after, nafter, before[i]);
		if (stale == 0 && nafter == nbefore)
			break;
	}
	fprintf(stderr, "reload_under_load: %ld ok, %ld non-2xx (last %ld), %ld transport errors "
	    "in %lld ms; workers %d -> %d, %d old left\n", sum.ok, sum.bad, sum.last_bad_status,
	    sum.transport, e2e_now_ms() - start, nbefore, nafter, stale);
	if (!e2e_alive(master) || !wait_healthy(3000))
		(void)restart_stack();
	ck_assert_int_eq(hups, 2);
	ck_assert_msg(sum.ok > 0, "no request succeeded under load");
	ck_assert_msg(sum.bad == 0 && sum.transport == 0,
	    "%ld non-2xx (last %ld) and %ld transport errors during the reloads",
	    sum.bad, sum.last_bad_status, sum.transport);
	ck_assert_msg(stale == 0, "%d workers of before the reload still run", stale);
	ck_assert_int_eq(nafter, nbefore);
}
END_TEST

/* ---- 3. SIGTERM drains a request in flight -------------------------------------------- */

START_TEST(term_drains_inflight)
{
	long master = e2e_pidfile("gymd");
	char token[E2E_TOKEN_MAX], body[96];
	long long t0, exited_ms = -1, req_ms = -1;
	PGconn *pg;
	PGresult *res;
	int fds[2], committed, st;
	long child_status = -1;
	pid_t kid;

	ck_assert_msg(e2e_alive(master), "gymd master %ld not running", master);
	pg = e2e_pg();
	locked_seat(pg, "proc-term", token, body, sizeof(body));

	ck_assert_int_eq(pipe(fds), 0);
	t0 = e2e_now_ms();
	if ((kid = fork()) == 0) {
		struct e2e_resp r = { 0 };
		long s;

		close(fds[0]);
		e2e_request_nock("POST", E2E_API "/bookings/seat-reserve", token, body, NULL, &r);
		s = r.status;
		(void)!write(fds[1], &s, sizeof(s));
		_exit(0);
	}
	ck_assert_int_ge(kid, 0);
	close(fds[1]);
	e2e_sleep_ms(300);
	st = kill((pid_t)master, SIGTERM);
	e2e_sleep_ms(1000);
	res = PQexec(pg, "COMMIT");
	committed = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (read(fds[0], &child_status, sizeof(child_status)) != (ssize_t)sizeof(child_status))
		child_status = -1;
	req_ms = e2e_now_ms() - t0;
	close(fds[0]);
	waitpid(kid, NULL, 0);
	while (e2e_now_ms() - t0 < 15000) {
		if (!e2e_alive(master)) {
			exited_ms = e2e_now_ms() - t0;
			break;
		}
		e2e_sleep_ms(50);
	}
	fprintf(stderr, "term_drains_inflight: request %ld after %lld ms, master exited after "
	    "%lld ms\n", child_status, req_ms, exited_ms);
	(void)restart_stack();
	ck_assert_int_eq(st, 0);
	ck_assert_msg(committed, "COMMIT of the seat lock failed");
	ck_assert_msg(child_status == 201, "seat-reserve in flight during SIGTERM answered %ld "
	    "(-1: the child died, 0: transport error)", child_status);
	ck_assert_msg(exited_ms >= 0, "gymd master %ld still running 15 s after SIGTERM", master);
	ck_assert_msg(wait_healthy(1000), "stack not healthy after the restart");
}
END_TEST

/* ---- 4. PostgreSQL down and back --------------------------------------------------------- */

START_TEST(database_down)
{
	long master = e2e_pidfile("gymd"), before[PROCFS_MAXKIDS], after[PROCFS_MAXKIDS];
	char path[128], code[64], bad[256] = "";
	long long sid, t0, recovered_ms = -1;
	int nbefore, nafter, same = 1, down_ok = 1;

	ck_assert_msg(e2e_alive(master), "gymd master %ld not running", master);
	sid = e2e_schedule(5);
	snprintf(path, sizeof(path), E2E_API "/course-schedules/%lld", sid);
	nbefore = workers(master, before);
	ck_assert_int_ge(nbefore, 1);
	sh("bash test/env/pg.sh stop test");

	/* every worker should answer 503 UNAVAILABLE: ask more than once each */
	for (int i = 0; i < 2 * nbefore + 2 && down_ok; i++) {
		const char *paths[2] = { "/healthz", path };

		for (int j = 0; j < 2 && down_ok; j++) {
			long st = get_status(paths[j], code, sizeof(code));

			if (st != 503 || strcmp(code, "UNAVAILABLE") != 0) {
				down_ok = 0;
				snprintf(bad, sizeof(bad), "GET %s with the database down: %ld %s",
				    paths[j], st, code);
			}
		}
	}
	nafter = workers(master, after);
	for (int i = 0; i < nbefore; i++)
		same &= contains(after, nafter, before[i]);
	same &= nafter == nbefore && e2e_alive(master);

	sh("bash test/env/pg.sh start test");
	t0 = e2e_now_ms();
	while (e2e_now_ms() - t0 < 10000) {
		if (get_status("/healthz", NULL, 0) == 200 && get_status(path, NULL, 0) == 200) {
			recovered_ms = e2e_now_ms() - t0;
			break;
		}
		e2e_sleep_ms(100);
	}
	fprintf(stderr, "database_down: %s; workers kept: %s; recovered after %lld ms\n",
	    down_ok ? "503 UNAVAILABLE" : bad, same ? "yes" : "no", recovered_ms);
	(void)restart_stack();
	ck_assert_msg(down_ok, "%s", bad);
	ck_assert_msg(same, "master %ld or its workers did not survive the database outage "
	    "(%d workers before, %d after)", master, nbefore, nafter);
	ck_assert_msg(recovered_ms >= 0, "no recovery within 10 s of PostgreSQL coming back");
}
END_TEST

/* ---- 5. job_processes ------------------------------------------------------------------ */

/* Write text to path; 1 on success. */
static int
put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return 0;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* Poll until the master has want job processes and nworkers workers, at
 * most 10 s; the job processes it had last. */
static int
wait_jobs(long master, int want, int nworkers)
{
	long w[PROCFS_MAXKIDS];
	int n = -1;

	for (long long end = e2e_now_ms() + 10000; e2e_now_ms() < end; e2e_sleep_ms(50))
		if ((n = job_processes(master)) == want && workers(master, w) == nworkers)
			break;
	return n;
}

START_TEST(job_processes_two)
{
	long master = e2e_pidfile("gymd"), w[PROCFS_MAXKIDS];
	char conf[1024], *orig = NULL, *two = NULL;
	int nw, before, with_two = -1, back = -1, wrote = 0, restored = 0;
	size_t len;
	FILE *f;

	ck_assert_msg(e2e_alive(master), "gymd master %ld not running", master);
	nw = workers(master, w);
	before = wait_jobs(master, 1, nw);
	e2e_var_path("gymd.conf", conf, sizeof(conf));
	if ((f = fopen(conf, "r")) != NULL) {
		orig = calloc(1, 1 << 16);
		len = orig != NULL ? fread(orig, 1, (1 << 16) - 1, f) : 0;
		fclose(f);
		if (orig != NULL && len > 0 && len < (1 << 16) - 1 &&
		    (two = malloc(len + 64)) != NULL) {
			snprintf(two, len + 64, "%s%sjob_processes = 2\n", orig,
			    orig[len - 1] == '\n' ? "" : "\n");
			wrote = put_file(conf, two);
		}
	}
	if (wrote && kill((pid_t)master, SIGHUP) == 0)
		with_two = wait_jobs(master, 2, nw);
	/* the file as it was, and one job process again */
	if (wrote && (restored = put_file(conf, orig)) && kill((pid_t)master, SIGHUP) == 0)
		back = wait_jobs(master, 1, nw);
	fprintf(stderr, "job_processes_two: job processes %d, with job_processes = 2: %d, "
	    "back to the default: %d\n", before, with_two, back);
	free(orig);
	free(two);
	if (!e2e_alive(master) || !wait_healthy(3000) || back != 1)
		(void)restart_stack();
	ck_assert_msg(wrote, "could not add job_processes = 2 to %s", conf);
	ck_assert_msg(restored, "could not restore %s", conf);
	ck_assert_int_eq(before, 1);
	ck_assert_msg(with_two == 2, "job_processes = 2: the master has %d job processes", with_two);
	ck_assert_msg(back == 1, "job_processes back to 1: the master has %d job processes", back);
}
END_TEST

Suite *
process_suite(void)
{
	Suite *s = suite_create("process");
	TCase *tc = tcase_create("signals");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_unchecked_fixture(tc, NULL, teardown_all);
	tcase_add_test(tc, worker_killed);
	tcase_add_test(tc, worker_killed_serving);
	tcase_add_test(tc, idempotency_key_after_kill);
	tcase_add_test(tc, reload_under_load);
	tcase_add_test(tc, term_drains_inflight);
	tcase_add_test(tc, database_down);
	tcase_add_test(tc, job_processes_two);
	suite_add_tcase(s, tc);
	return s;
}

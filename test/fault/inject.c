/*
 * inject.c: the two fault lanes.  Each lane takes its kinds in a shuffled
 * round (so every kind comes once per round), waits a random gap, injects
 * one, keeps it for a while and puts things back.  The process lane: a
 * burst of SIGKILLs to random gymd workers, PostgreSQL stopped for 1-2 s,
 * PostgreSQL SIGKILLed (crash recovery at the restart), SIGHUP to the
 * master (reload), a full gymd restart (SIGTERM, start
 * again).  The WeChat lane, through the simulators' POST /sim/faults (the
 * WeChat one's, and the same members at the Alipay one's): API
 * calls slower than wx.timeout_ms, API calls answering 500 or 503 (before
 * or after doing the work), notifications dropped, duplicated, delayed and
 * reordered; one time in three two of these at once.  Every injection is
 * counted in fault_sh->faults.  A lane stops when stop_faults is set or
 * the driver is gone.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

static int
stopping(void)
{
	return atomic_load(&fault_sh->stop_faults) != 0 || fault_orphaned();
}

/* Sleep ms, in steps, returning early (1) when the lane must stop. */
static int
nap(long ms)
{
	long long end = fault_now_ms() + ms;

	while (fault_now_ms() < end) {
		if (stopping())
			return 1;
		fault_sleep_ms(50);
	}
	return stopping();
}

static void
injected(enum fault_kind k, const char *detail)
{
	atomic_fetch_add(&fault_sh->faults[k], 1);
	fault_log("fault %s%s%s", fault_kind_name(k), detail[0] ? ": " : "", detail);
}

static void
shuffle(enum fault_kind *k, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)fault_rand((unsigned long)i + 1);
		enum fault_kind t = k[i];

		k[i] = k[j];
		k[j] = t;
	}
}

/* ---- the process lane ----------------------------------------------------------------- */

static void
kill_workers(void)
{
	long w[64], master;
	int n, bursts = 1 + (int)fault_rand(3);
	char detail[64];

	for (int b = 0; b < bursts; b++) {
		if ((master = fault_gymd_master()) <= 0 || (n = fault_gymd_workers(master, w, 64)) < 1) {
			fault_log("worker_kill: no worker found");
			return;
		}
		long victim = w[fault_rand((unsigned long)n)];

		if (kill((pid_t)victim, SIGKILL) == 0) {
			snprintf(detail, sizeof(detail), "SIGKILL worker %ld", victim);
			injected(FK_worker_kill, detail);
		}
		if (nap(200 + (long)fault_rand(400)))
			return;
	}
}

static void
pg_restart(void)
{
	long down = 1000 + (long)fault_rand(1001);
	char detail[64];

	if (fault_shell("bash test/env/pg.sh stop test") != 0) {
		fault_log("pg_restart: pg.sh stop failed");
		return;
	}
	snprintf(detail, sizeof(detail), "PostgreSQL stopped for %ld ms", down);
	injected(FK_pg_restart, detail);
	fault_sleep_ms(down);		/* not cut short: the stop must be undone */
	for (int i = 0; i < 5 && fault_shell("bash test/env/pg.sh start test") != 0; i++) {
		fault_log("pg_restart: pg.sh start failed; again");
		fault_sleep_ms(500);
	}
}

/*
 * SIGKILL the postmaster (no clean stop: what was not on disk is gone and
 * crash recovery runs at the next start), wait for its backends to notice
 * and go, start it again.
 */
static void
pg_crash(void)
{
	char detail[96];
	int i;

	if (fault_shell("d=\"$(bash test/env/pg.sh datadir test)\" && "
	    "p=\"$(head -n 1 \"$d/postmaster.pid\")\" && [ -n \"$p\" ] && kill -KILL \"$p\"") != 0) {
		fault_log("pg_crash: no postmaster to kill");
		return;
	}
	injected(FK_pg_crash, "SIGKILL postmaster");
	fault_sleep_ms(300 + (long)fault_rand(700));	/* not cut short */
	for (i = 0; i < 20 && fault_shell("bash test/env/pg.sh start test") != 0; i++)
		fault_sleep_ms(500);
	snprintf(detail, sizeof(detail), "PostgreSQL %s after crash recovery (%d retries)",
	    i < 20 ? "up" : "NOT up", i);
	fault_log("pg_crash: %s", detail);
}

static void
reload(void)
{
	long master = fault_gymd_master();
	char detail[64];

	if (master <= 0) {
		fault_log("gymd_reload: no master");
		return;
	}
	if (kill((pid_t)master, SIGHUP) == 0) {
		snprintf(detail, sizeof(detail), "SIGHUP master %ld", master);
		injected(FK_gymd_reload, detail);
	}
}

static void
restart(void)
{
	long before = fault_gymd_master(), t0 = (long)fault_now_ms();
	char detail[96];
	int rc;

	rc = fault_gymd_restart();
	snprintf(detail, sizeof(detail), "master %ld replaced by %ld in %ld ms%s", before,
	    fault_gymd_master(), (long)fault_now_ms() - t0, rc == 0 ? "" : " (NOT HEALTHY)");
	injected(FK_gymd_restart, detail);
}

void
fault_lane_process(unsigned long long seed, long gap_ms)
{
	enum fault_kind kinds[] = { FK_worker_kill, FK_pg_restart, FK_pg_crash, FK_gymd_reload,
	    FK_gymd_restart };
	int n = (int)(sizeof(kinds) / sizeof(kinds[0]));

	fault_rand_seed(seed);
	while (!stopping()) {
		shuffle(kinds, n);
		for (int i = 0; i < n && !stopping(); i++) {
			if (nap(gap_ms / 2 + (long)fault_rand((unsigned long)gap_ms + 1)))
				break;
			switch (kinds[i]) {
			case FK_worker_kill: kill_workers(); break;
			case FK_pg_restart: pg_restart(); break;
			case FK_pg_crash: pg_crash(); break;
			case FK_gymd_reload: reload(); break;
			case FK_gymd_restart: restart(); break;
			default: break;
			}
		}
	}
	/* put back: PostgreSQL up, a healthy gymd */
	if (!fault_pg_running())
		fault_shell("bash test/env/pg.sh start test");
	if (fault_gymd_ensure() != 0)
		fault_log("process lane: gymd could not be started again");
}

/* ---- the WeChat lane ----------------------------------------------------------------- */

/* The same faults at both payment simulators (the Alipay one, when the
 * stack has it, takes the WeChat simulator's members). */
static int
sim_faults(const char *json)
{
	struct fault_resp r = { 0 };
	long st = fault_sim("POST", "/sim/faults", json, &r), ast = 200;

	if (st != 200)
		fault_log("POST /sim/faults %s: %ld %s", json, st, r.body ? r.body : "");
	if (fault_env_alisim()[0] != '\0' &&
	    (ast = fault_alisim("POST", "/sim/faults", json, &r)) != 200)
		fault_log("POST alisim /sim/faults %s: %ld %s", json, ast, r.body ? r.body : "");
	fault_resp_free(&r);
	return st == 200 && ast == 200 ? 0 : -1;
}

int
fault_sim_clear(void)
{
	return sim_faults("{\"api_status\":0,\"api_fail_count\":0,\"api_fail_after\":false,"
	    "\"api_delay_ms\":0,\"notify_drop\":false,\"notify_duplicate\":1,"
	    "\"notify_delay_ms\":0,\"notify_reorder\":false}");
}

/* One simulator fault as members of a JSON object: set and undo. */
static void
wechat_members(enum fault_kind k, char *set, size_t len, const char **undo)
{
	switch (k) {
	case FK_wx_timeout:
		/* wx.timeout_ms is 3000 in the test profile */
		snprintf(set, len, "\"api_delay_ms\":%ld", 3300 + (long)fault_rand(700));
		*undo = "\"api_delay_ms\":0";
		break;
	case FK_wx_5xx:
		/* api_fail_after: the call does its work and then answers 5xx */
		snprintf(set, len, "\"api_status\":%d,\"api_fail_count\":%ld,\"api_fail_after\":%s",
		    fault_rand(2) ? 500 : 503, 5 + (long)fault_rand(30),
		    fault_rand(2) ? "true" : "false");
		*undo = "\"api_status\":0,\"api_fail_count\":0,\"api_fail_after\":false";
		break;
	case FK_notify_drop:
		snprintf(set, len, "\"notify_drop\":true");
		*undo = "\"notify_drop\":false";
		break;
	case FK_notify_duplicate:
		snprintf(set, len, "\"notify_duplicate\":%ld", 2 + (long)fault_rand(3));
		*undo = "\"notify_duplicate\":1";
		break;
	case FK_notify_delay:
		snprintf(set, len, "\"notify_delay_ms\":%ld", 500 + (long)fault_rand(2500));
		*undo = "\"notify_delay_ms\":0";
		break;
	default:
		snprintf(set, len, "\"notify_reorder\":true");
		*undo = "\"notify_reorder\":false";
		break;
	}
}

/*
 * Inject kind k (and, one time in three, a second kind at the same time:
 * WeChat's outages do not come one at a time), keep it 2-4 s, undo it.
 */
static void
wechat_fault(enum fault_kind k, const enum fault_kind *kinds, int n)
{
	char set1[128], set2[128], json[300], undo[300];
	const char *undo1, *undo2;
	enum fault_kind k2 = k;

	wechat_members(k, set1, sizeof(set1), &undo1);
	if (fault_rand(3) == 0)
		k2 = kinds[fault_rand((unsigned long)n)];
	if (k2 != k) {
		wechat_members(k2, set2, sizeof(set2), &undo2);
		snprintf(json, sizeof(json), "{%s,%s}", set1, set2);
		snprintf(undo, sizeof(undo), "{%s,%s}", undo1, undo2);
	} else {
		snprintf(json, sizeof(json), "{%s}", set1);
		snprintf(undo, sizeof(undo), "{%s}", undo1);
	}
	if (sim_faults(json) != 0)
		return;
	injected(k, json);
	if (k2 != k)
		atomic_fetch_add(&fault_sh->faults[k2], 1);
	(void)nap(2000 + (long)fault_rand(2001));
	for (int i = 0; i < 10 && sim_faults(undo) != 0; i++)
		fault_sleep_ms(300);
}

void
fault_lane_wechat(unsigned long long seed, long gap_ms)
{
	enum fault_kind kinds[] = { FK_wx_timeout, FK_wx_5xx, FK_notify_drop,
	    FK_notify_duplicate, FK_notify_delay, FK_notify_reorder };
	int n = (int)(sizeof(kinds) / sizeof(kinds[0]));

	fault_rand_seed(seed);
	while (!stopping()) {
		shuffle(kinds, n);
		for (int i = 0; i < n && !stopping(); i++) {
			if (nap(gap_ms / 2 + (long)fault_rand((unsigned long)gap_ms + 1)))
				break;
			wechat_fault(kinds[i], kinds, n);
		}
	}
	for (int i = 0; i < 10 && fault_sim_clear() != 0; i++)
		fault_sleep_ms(300);
}

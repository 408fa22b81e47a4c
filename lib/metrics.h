/*
 * metrics.h: process-wide counters in one anonymous shared mapping that
 * the master creates before it forks, so every worker adds to the same
 * numbers (with __atomic builtins) and any worker can render them for
 * GET /metrics in the Prometheus text format.
 *
 * It lives in lib/, not fcgi/, so that lib modules can bump the named
 * counters: in processes that never called gym_metrics_init (gymctl, the
 * tests) every update is a no-op.
 */
#ifndef GYM_METRICS_H
#define GYM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "gym.h"

/* Route slots: a route's position in the router's const table (identical
 * in every worker); anything else counts under route "other". */
#define GYM_METRICS_ROUTES 64

/* Create the mapping; call once, in the master, before any fork.
 * GYM_ESYSTEM when mmap fails.  Calling it again is a no-op. */
enum gym_err gym_metrics_init(void);

/* Count one answered request: route_index from gym_route_index() or -1,
 * method and pattern label the slot the first time it is used (NULL for
 * requests that matched no route), us is the time spent. */
void gym_metrics_request(int route_index, const char *method, const char *pattern,
    int status, int64_t us);

/* Add delta to a named counter: "payments_paid", "payments_failed",
 * "notify_duplicate", "job_runs", "job_failures", "db_errors",
 * "fcgi_read_timeouts", "upstream_refused", "upstream_parent_busy", "recon_days",
 * "recon_discrepancies".  Other names are ignored. */
void gym_metrics_add(const char *name, long delta);
/* The same for a counter with a reason label (notify_rejected: signature,
 * decrypt, plaintext, mismatch; any other reason counts as "other"). */
void gym_metrics_add_reason(const char *name, const char *reason, long delta);

/* The master's bookkeeping: live worker processes, and workers replaced
 * after an unexpected exit or after reaching max_requests. */
void gym_metrics_set_workers(long n);
void gym_metrics_worker_restart(void);
void gym_metrics_worker_retired(void);

/*
 * What each child of the master is serving, for the master's report when
 * one dies: a slot per child, numbered by the master (0 ..
 * GYM_METRICS_PROCS - 1).  The master clears a slot with
 * gym_metrics_proc_reset() before it forks the child that will own it; the
 * child names its slot once with gym_metrics_proc_self(); a worker calls
 * gym_metrics_serving() when a request comes in (-1, NULL, NULL: not
 * routed yet) and again with its route, and gym_metrics_idle() once it
 * answered.  After the child died, gym_metrics_proc_route() writes
 * "METHOD /pattern" into buf, "an unrouted request", or "" when it was
 * serving nothing; it returns buf.
 */
#define GYM_METRICS_PROCS 1024
void gym_metrics_proc_reset(int proc);
void gym_metrics_proc_self(int proc);
void gym_metrics_serving(int route_index, const char *method, const char *pattern);
void gym_metrics_idle(void);
char *gym_metrics_proc_route(int proc, char *buf, size_t len);

/*
 * The worker budget for WeChat calls (upstream_gate.c): a flag per child.
 * gym_metrics_upstream_enter(budget) raises this child's flag when fewer
 * than budget others have theirs up, and answers 1; else 0 (counted in
 * "upstream_refused").  A process without the mapping or a slot (gymctl,
 * the tests) always enters.  gym_metrics_upstream_leave() lowers it; the
 * master lowers a dead child's with gym_metrics_upstream_clear(proc) (and
 * gym_metrics_proc_reset clears it too).  gym_metrics_upstream_count():
 * the flags up now.
 */
int gym_metrics_upstream_enter(int budget);
void gym_metrics_upstream_leave(void);
void gym_metrics_upstream_clear(int proc);
long gym_metrics_upstream_count(void);

/* Render everything as Prometheus text (exposition format 0.0.4).  *out
 * is malloc'd and NUL-terminated (caller frees).  GYM_EINTERNAL when the
 * mapping was never created, GYM_ENOMEM when the text could not be built. */
enum gym_err gym_metrics_render(char **out, size_t *len);

/*
 * What waits for a person and what will expire (issue 19), read by the
 * worker that answers /metrics (from the database and its config), then
 * appended to the rendered text by gym_metrics_render_state: *out is
 * gym_metrics_render's buffer, grown with realloc.  With have_db 0 (the
 * database did not answer) the counts are left out, not reported as 0.
 */
struct gym_metrics_state {
	int have_db;
	long long attention;		/* the needs-attention queue (admin.h) */
	long long refunds_in_progress;	/* pending or processing */
	long long refunds_abnormal;	/* WeChat could not pay out: a person acts */
	int nkeys;
	struct {
		char serial[96];
		double days;		/* until the certificate expires (< 0: expired) */
	} keys[8];
};
enum gym_err gym_metrics_render_state(const struct gym_metrics_state *, char **out, size_t *len);

#endif

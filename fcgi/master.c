/*
 * master.c: the prefork master (style.md section 8).
 *
 * The master holds the listening socket, the configuration and the
 * metrics mapping, and nothing else: it never opens a database
 * connection, so no child can inherit one.  Its children are the workers
 * of the current generation (one per slot), the draining workers of the
 * previous generation during a reload, and the job processes: with
 * jobs = yes, job_processes of them (one per job slot).  Every job claims
 * its rows with FOR UPDATE SKIP LOCKED, so they share the work as job
 * processes on several hosts do.
 *
 * Signals are blocked all the time except inside pselect(); the handlers
 * only set flags, and the loop acts on them.  Every child we sent SIGTERM
 * gets SIGKILL shutdown_timeout seconds later if it is still there.
 *
 * Deaths: a worker that exits 0 unasked retired after max_requests and is
 * replaced at once.  Anything else we did not ask for is a crash: replaced
 * too, but more than 2 x workers crashes in 10 s slow respawns to one a
 * second, and more than 10 x workers in 60 s stops the service with exit
 * status 1, for systemd to restart (php-fpm's emergency restart, moved to
 * the supervisor above us).
 *
 * Reload (SIGHUP): the file is parsed again and the old configuration
 * kept when it is invalid.  Otherwise a new generation of workers is
 * forked first and the old one sent SIGTERM; the socket never closes, so
 * no connection is refused.  A HUP that arrives while the old generation
 * is still draining is remembered and acted on when it is gone.  A job
 * process is replaced only after the old one of its slot has exited, so
 * that a slot never has two at once; slots beyond a lowered job_processes
 * are just stopped.
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "trial_limits.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "notify.h"
#include "worker.h"

/* two generations of workers and of job processes */
#define MAX_KIDS	(2 * (GYM_WORKERS_MAX + GYM_JOB_PROCESSES_MAX))
#define DEATHS_KEPT	(10 * GYM_WORKERS_MAX + 1)
#define BURST_MS	10000			/* 2 x workers deaths: back off */
#define CEILING_MS	60000			/* 10 x workers deaths: give up */
#define BACKOFF_MS	1000
#define TICK_MS		1000

/* a child's entry in kids[] names its slot in the metrics mapping */
_Static_assert(MAX_KIDS <= GYM_METRICS_PROCS, "a metrics slot per child");

enum kind { K_WORKER, K_JOB };
enum state { S_RUNNING, S_STOPPING };

struct kid {
	pid_t pid;		/* -1: a free entry */
	enum kind kind;
	unsigned gen;
	int slot;
	int64_t started;	/* ms, monotonic */
	int64_t kill_at;	/* 0 = not asked to stop; else when to SIGKILL */
	int killed;
};

struct master {
	const char *path;
	struct gym_config *cfg;
	int listen_fd;
	int force_debug;
	pid_t pid;
	sigset_t waitmask;	/* the mask we started with */
	enum state state;
	int exit_code;
	unsigned gen;
	int hup_pending;
	int64_t next_spawn;	/* no fork before this (backoff, fork failure) */
	struct kid kids[MAX_KIDS];
	int64_t deaths[DEATHS_KEPT];	/* ring of unexpected death times */
	size_t ndeaths;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;
static volatile sig_atomic_t job_stop;	/* in the job process */

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
on_job_term(int sig)
{
	(void)sig;
	job_stop = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
log_setup(const struct master *m)
{
	gym_log_init("gymd", m->force_debug ? GYM_LOG_DEBUG : m->cfg->log_level);
}

static const char *
kind_name(const struct kid *k)
{
	return k->kind == K_WORKER ? "worker" : "job process";
}

/* The job process: SIGTERM sets job_stop, which gym_jobs_run() polls. */
static int
job_main(const struct master *m)
{
	static const int ignored[] = { SIGINT, SIGHUP, SIGPIPE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (sigaction(ignored[i], &sa, NULL) == -1)
			return 1;
	sa.sa_handler = on_job_term;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigprocmask(SIG_SETMASK, &m->waitmask, NULL) == -1) {
		gym_log_err("could not set up the job process's signals");
		return 1;
	}
	gym_log_debugx("job process ready");
	return gym_jobs_run(m->cfg, &job_stop);
}

/*
 * In a new child: handlers back to their defaults while every signal is
 * still blocked, then keep only SIGTERM blocked until the worker or job
 * code installs its own handler (a TERM sent meanwhile stays pending).
 * The master's death becomes a SIGTERM on Linux; getppid() covers the
 * moment before that was set up.
 */
static void
child_main(const struct master *m, enum kind kind, int proc)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t mask;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
#ifdef __linux__
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		gym_log_warn("could not ask for SIGTERM on the master's death");
#endif
	if (getppid() != m->pid)
		_exit(0);
	mask = m->waitmask;
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_SETMASK, &mask, NULL) == -1) {
		gym_log_err("could not reset the signal mask");
		_exit(1);
	}
	gym_metrics_proc_self(proc);
	/* the message templates the lib's transactions enqueue with */
	gym_notify_configure(m->cfg);
	/* and the hold's and order's lengths */
	gym_limits_configure(m->cfg);
	exit(kind == K_WORKER ? gym_worker_run(m->cfg, m->listen_fd) : job_main(m));
}

/* Fork a child of the current generation; 0 on success, -1 on failure. */
static int
spawn(struct master *m, enum kind kind, int slot, int64_t now)
{
	struct kid *k = NULL;
	pid_t pid;

	for (size_t i = 0; i < MAX_KIDS && k == NULL; i++)
		if (m->kids[i].pid == -1)
			k = &m->kids[i];
	if (k == NULL) {
		gym_log_errx("no room for another child process");
		m->next_spawn = now + BACKOFF_MS;
		return -1;
	}
	gym_metrics_proc_reset((int)(k - m->kids));
	if ((pid = fork()) == -1) {
		gym_log_err("could not fork");
		m->next_spawn = now + BACKOFF_MS;
		return -1;
	}
	if (pid == 0)
		child_main(m, kind, (int)(k - m->kids));
	k->pid = pid;
	k->kind = kind;
	k->gen = m->gen;
	k->slot = slot;
	k->started = now;
	k->kill_at = 0;
	k->killed = 0;
	gym_log_debugx("started %s %ld (generation %u, slot %d)", kind_name(k),
	    (long)pid, k->gen, slot);
	return 0;
}

/* Unexpected deaths within the last window ms. */
static size_t
deaths_within(const struct master *m, int64_t now, int64_t window)
{
	size_t n = m->ndeaths < DEATHS_KEPT ? m->ndeaths : DEATHS_KEPT, c = 0;

	for (size_t i = 0; i < n; i++)
		if (now - m->deaths[i] < window)
			c++;
	return c;
}

static int
backing_off(const struct master *m, int64_t now)
{
	return deaths_within(m, now, BURST_MS) > 2 * (size_t)m->cfg->workers;
}

static void
term_kid(struct kid *k, int timeout_s, int64_t now)
{
	if (k->pid == -1 || k->kill_at != 0)
		return;
	if (kill(k->pid, SIGTERM) == -1 && errno != ESRCH)
		gym_log_warn("could not send SIGTERM to %s %ld", kind_name(k), (long)k->pid);
	k->kill_at = now + (int64_t)timeout_s * 1000;
	if (k->kill_at == 0)
		k->kill_at = 1;
}

static void
begin_stop(struct master *m, int code, int64_t now)
{
	m->state = S_STOPPING;
	m->exit_code = code;
	for (size_t i = 0; i < MAX_KIDS; i++)
		term_kid(&m->kids[i], m->cfg->shutdown_timeout, now);
}

static void
kill_all(struct master *m)
{
	for (size_t i = 0; i < MAX_KIDS; i++) {
		struct kid *k = &m->kids[i];

		if (k->pid == -1 || k->killed)
			continue;
		if (kill(k->pid, SIGKILL) == -1 && errno != ESRCH)
			gym_log_warn("could not send SIGKILL to %ld", (long)k->pid);
		k->killed = 1;
	}
}

static void
record_death(struct master *m, int64_t now)
{
	size_t burst, total;
	int was_backing_off = backing_off(m, now);

	m->deaths[m->ndeaths++ % DEATHS_KEPT] = now;
	burst = deaths_within(m, now, BURST_MS);
	total = deaths_within(m, now, CEILING_MS);
	if (total > 10 * (size_t)m->cfg->workers) {
		gym_log_errx("%zu unexpected exits within %d s: stopping", total,
		    CEILING_MS / 1000);
		begin_stop(m, 1, now);
	} else if (!was_backing_off && burst > 2 * (size_t)m->cfg->workers)
		gym_log_warnx("%zu unexpected exits within %d s: respawning one "
		    "process a second", burst, BURST_MS / 1000);
}

/* The name of signal sig ("SIGSEGV"), or NULL for one not listed. */
static const char *
signame(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGABRT, "SIGABRT" }, { SIGALRM, "SIGALRM" }, { SIGBUS, "SIGBUS" },
		{ SIGFPE, "SIGFPE" }, { SIGHUP, "SIGHUP" }, { SIGILL, "SIGILL" },
		{ SIGINT, "SIGINT" }, { SIGKILL, "SIGKILL" }, { SIGPIPE, "SIGPIPE" },
		{ SIGQUIT, "SIGQUIT" }, { SIGSEGV, "SIGSEGV" }, { SIGSYS, "SIGSYS" },
		{ SIGTERM, "SIGTERM" }, { SIGTRAP, "SIGTRAP" }, { SIGUSR1, "SIGUSR1" },
		{ SIGUSR2, "SIGUSR2" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return NULL;
}

/*
 * How a child ended, into how: "exited with status N", or for a signal
 * "was killed by signal 11 (SIGSEGV: Segmentation fault), core dumped,
 * serving POST /bookings/seat-reserve" (the route its slot of the metrics
 * mapping names; "idle" for a worker between requests).
 */
static void
describe_end(const struct master *m, const struct kid *k, int st, char *how, size_t len)
{
	const char *name, *desc;
	char route[160];
	int sig, core = 0;

	if (!WIFSIGNALED(st)) {
		snprintf(how, len, "exited with status %d", WEXITSTATUS(st));
		return;
	}
	sig = WTERMSIG(st);
	name = signame(sig);
	desc = strsignal(sig);
#ifdef WCOREDUMP
	core = WCOREDUMP(st) != 0;
#endif
	gym_metrics_proc_route((int)(k - m->kids), route, sizeof(route));
	snprintf(how, len, "was killed by signal %d (%s: %s), %s%s%s", sig,
	    name != NULL ? name : "?", desc != NULL ? desc : "unknown signal",
	    core ? "core dumped" : "no core dump",
	    k->kind != K_WORKER ? "" : route[0] != '\0' ? ", serving " : ", idle",
	    k->kind == K_WORKER ? route : "");
}

/* Log how a child ended and decide whether that was expected. */
static void
bury(struct master *m, struct kid *k, int st, int64_t now)
{
	double life = (double)(now - k->started) / 1000.0;
	char how[320];
	int unasked = k->kill_at == 0 && m->state == S_RUNNING;

	describe_end(m, k, st, how, sizeof(how));
	/* killed inside a WeChat call: its place in the budget is free again */
	gym_metrics_upstream_clear((int)(k - m->kids));
	if (!unasked)
		gym_log_infox("%s %ld %s after %.1f s", kind_name(k), (long)k->pid, how, life);
	else if (k->kind == K_WORKER && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		gym_log_infox("worker %ld retired after %.1f s", (long)k->pid, life);
		gym_metrics_worker_retired();
	} else {
		gym_log_warnx("%s %ld %s after %.1f s, unexpectedly; replacing it",
		    kind_name(k), (long)k->pid, how, life);
		if (k->kind == K_WORKER)
			gym_metrics_worker_restart();
		record_death(m, now);
	}
	k->pid = -1;
}

static void
count_workers(const struct master *m)
{
	long n = 0;

	for (size_t i = 0; i < MAX_KIDS; i++)
		if (m->kids[i].pid != -1 && m->kids[i].kind == K_WORKER)
			n++;
	gym_metrics_set_workers(n);
}

static void
reap(struct master *m)
{
	int64_t now = now_ms();
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		size_t i;

		for (i = 0; i < MAX_KIDS; i++)
			if (m->kids[i].pid == pid)
				break;
		if (i == MAX_KIDS) {
			gym_log_debugx("reaped unknown child %ld", (long)pid);
			continue;
		}
		bury(m, &m->kids[i], st, now);
	}
	if (pid == -1 && errno != ECHILD)
		gym_log_err("waitpid");
	count_workers(m);
}

static int
has_kid(const struct master *m, enum kind kind, int slot)
{
	for (size_t i = 0; i < MAX_KIDS; i++) {
		const struct kid *k = &m->kids[i];

		if (k->pid == -1 || k->kind != kind)
			continue;
		/* a job process of any generation counts: a new one waits for
		 * the old one of its slot to go */
		if (k->slot == slot && (kind == K_JOB || k->gen == m->gen))
			return 1;
	}
	return 0;
}

/* Fill the current generation's empty worker slots and the job slots
 * (0 .. job_processes - 1).  force skips the backoff pacing (a reload's
 * new generation). */
static void
spawn_missing(struct master *m, int force)
{
	int64_t now = now_ms();
	int njobs = m->cfg->jobs ? m->cfg->job_processes : 0;

	for (int i = 0; i < m->cfg->workers + njobs; i++) {
		enum kind kind = i < m->cfg->workers ? K_WORKER : K_JOB;
		int slot = kind == K_WORKER ? i : i - m->cfg->workers;

		if (has_kid(m, kind, slot))
			continue;
		if (!force && now < m->next_spawn)
			break;
		if (spawn(m, kind, slot, now) == -1)
			break;
		if (!force && backing_off(m, now))
			m->next_spawn = now + BACKOFF_MS;
	}
	count_workers(m);
}

static int
draining(const struct master *m)
{
	for (size_t i = 0; i < MAX_KIDS; i++)
		if (m->kids[i].pid != -1 && m->kids[i].gen != m->gen &&
		    m->kids[i].kind == K_WORKER)
			return 1;
	return 0;
}

static void
reload(struct master *m)
{
	struct gym_config nc;
	char err[1024];
	int64_t now;

	m->hup_pending = 0;
	if (gym_config_load(m->path, &nc, err, sizeof(err)) != GYM_OK) {
		gym_log_errx("could not reload, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(nc.listen, m->cfg->listen) != 0)
		gym_log_warnx("listen changed to %s: the socket stays on %s until gymd "
		    "is restarted", nc.listen, m->cfg->listen);
	if (nc.workers > GYM_WORKERS_MAX) {
		gym_log_errx("could not reload: more than %d workers", GYM_WORKERS_MAX);
		gym_config_free(&nc);
		return;
	}
	gym_config_free(m->cfg);
	*m->cfg = nc;
	log_setup(m);
	m->gen++;
	spawn_missing(m, 1);
	now = now_ms();
	for (size_t i = 0; i < MAX_KIDS; i++)
		if (m->kids[i].gen != m->gen)
			term_kid(&m->kids[i], m->cfg->shutdown_timeout, now);
	gym_log_infox("reloaded %s: generation %u, %d workers", m->path, m->gen,
	    m->cfg->workers);
}

/* SIGKILL children that outstayed their SIGTERM; returns the ms until the
 * next such deadline (at most TICK_MS). */
static int64_t
escalate(struct master *m, int64_t now)
{
	int64_t wait = TICK_MS;

	for (size_t i = 0; i < MAX_KIDS; i++) {
		struct kid *k = &m->kids[i];

		if (k->pid == -1 || k->kill_at == 0 || k->killed)
			continue;
		if (now >= k->kill_at) {
			gym_log_warnx("%s %ld did not stop within %d s, killing it",
			    kind_name(k), (long)k->pid, m->cfg->shutdown_timeout);
			if (kill(k->pid, SIGKILL) == -1 && errno != ESRCH)
				gym_log_warn("could not send SIGKILL to %ld", (long)k->pid);
			k->killed = 1;
		} else if (k->kill_at - now < wait)
			wait = k->kill_at - now;
	}
	return wait;
}

static int
live(const struct master *m)
{
	for (size_t i = 0; i < MAX_KIDS; i++)
		if (m->kids[i].pid != -1)
			return 1;
	return 0;
}

static void
on_flags(struct master *m)
{
	if (got_chld) {
		got_chld = 0;
		reap(m);
	}
	if (got_term) {
		got_term = 0;
		if (m->state == S_RUNNING) {
			gym_log_infox("stopping: letting requests in flight finish");
			begin_stop(m, 0, now_ms());
		} else {
			gym_log_warnx("stop signal again: killing every process now");
			kill_all(m);
		}
	}
	if (got_hup) {
		got_hup = 0;
		if (m->state != S_RUNNING)
			gym_log_infox("ignoring SIGHUP while stopping");
		else if (draining(m)) {
			gym_log_infox("reload already in progress, queued");
			m->hup_pending = 1;
		} else
			m->hup_pending = 1;
	}
}

static int
signals_setup(struct master *m)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &block, &m->waitmask) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&m->waitmask, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sa.sa_flags = sigs[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	}
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	return sigaction(SIGPIPE, &sa, NULL);
}

int
gym_master_run(const char *cfgpath, struct gym_config *cfg, int listen_fd,
    int force_debug)
{
	static struct master m;
	struct timespec ts;
	int64_t now, wait;

	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < MAX_KIDS; i++)
		m.kids[i].pid = -1;
	m.path = cfgpath;
	m.cfg = cfg;
	m.listen_fd = listen_fd;
	m.force_debug = force_debug;
	m.pid = getpid();
	m.gen = 1;
	if (cfg->workers < 1 || cfg->workers > GYM_WORKERS_MAX) {
		gym_log_errx("workers must be from 1 to %d", GYM_WORKERS_MAX);
		return 1;
	}
	if (signals_setup(&m) == -1) {
		gym_log_err("could not set up the master's signals");
		return 1;
	}
	if (gym_metrics_init() != GYM_OK)
		return 1;
	if (cfg->job_processes < 1 || cfg->job_processes > GYM_JOB_PROCESSES_MAX) {
		gym_log_errx("job_processes must be from 1 to %d", GYM_JOB_PROCESSES_MAX);
		return 1;
	}
	gym_log_infox("started: %d worker%s and %d job process%s, listening on %s",
	    cfg->workers, cfg->workers == 1 ? "" : "s", cfg->jobs ? cfg->job_processes : 0,
	    cfg->jobs && cfg->job_processes == 1 ? "" : "es", cfg->listen);

	for (;;) {
		on_flags(&m);
		if (m.state == S_RUNNING && m.hup_pending && !draining(&m))
			reload(&m);
		if (m.state == S_RUNNING)
			spawn_missing(&m, 0);
		now = now_ms();
		wait = escalate(&m, now);
		if (m.state == S_STOPPING && !live(&m))
			break;
		if (m.state == S_RUNNING && m.next_spawn > now && m.next_spawn - now < wait)
			wait = m.next_spawn - now;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000L;
		if (pselect(0, NULL, NULL, NULL, &ts, &m.waitmask) == -1 && errno != EINTR) {
			gym_log_err("pselect");
			begin_stop(&m, 1, now_ms());
		}
	}
	gym_log_infox("stopped");
	return m.exit_code;
}

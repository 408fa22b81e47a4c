/*
 * metrics.c: the shared counters and their Prometheus rendering.
 *
 * Invariants: the mapping is created once, before the first fork, and
 * never unmapped; every write is a relaxed __atomic add or store, so no
 * lock exists that a dying worker could leave held.  A route slot is
 * labelled once, by whoever uses it first (state 0 -> 1 -> 2 by CAS);
 * the renderer skips slots whose label is not complete yet.  Histogram
 * _count is derived from the buckets at render time, so the +Inf bucket
 * always equals _count even while workers are writing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "version.h"

static const int status_codes[] = {
	200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 422, 429,
	500, 502, 503, 504,
};
#define NSTATUS (sizeof(status_codes) / sizeof(status_codes[0]) + 1)	/* + other */

static const long bucket_us[] = {
	1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000,
};
static const char *const bucket_le[] = {
	"0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	"0.5", "1", "2.5", "5", "+Inf",
};
#define NBUCKET (sizeof(bucket_le) / sizeof(bucket_le[0]))

static const struct {
	const char *name;
	const char *reason;	/* the reason label, or NULL */
	const char *help;
} named[] = {
	{ "payments_paid", NULL, "Payments confirmed by WeChat Pay." },
	{ "payments_failed", NULL, "Payments that failed or were closed." },
	{ "notify_duplicate", NULL, "WeChat notifications already processed." },
	/* one series per reason, next to each other (one HELP for them) */
	{ "notify_rejected", "signature", "WeChat notifications refused, by reason." },
	{ "notify_rejected", "decrypt", NULL },
	{ "notify_rejected", "plaintext", NULL },
	{ "notify_rejected", "mismatch", NULL },
	{ "notify_rejected", "other", NULL },
	{ "job_runs", NULL, "Background job runs." },
	{ "job_failures", NULL, "Background job runs that failed." },
	{ "push_published", NULL, "Live push messages Nchan took." },
	{ "push_failed", NULL, "Live push messages that could not be published (dropped)." },
	{ "db_errors", NULL, "Requests or jobs that found the database unavailable." },
	{ "fcgi_read_timeouts", NULL, "FastCGI connections closed for sending no whole request "
	    "within read_timeout." },
	{ "upstream_refused", NULL, "Requests answered 503 because upstream_workers workers "
	    "were already inside a WeChat call." },
	{ "upstream_parent_busy", NULL, "Requests answered 429 because the same parent already "
	    "had a WeChat call running." },
	{ "recon_days", NULL, "Days reconciled against a channel's bill." },
	{ "recon_discrepancies", NULL, "Bill reconciliation discrepancies found (bad files "
	    "included)." },
};
#define NNAMED (sizeof(named) / sizeof(named[0]))

#define SLOT_EMPTY	0
#define SLOT_LABELLING	1
#define SLOT_READY	2

struct slot {
	int state;
	char method[12];
	char route[116];
	unsigned long long status[NSTATUS];
	unsigned long long bucket[NBUCKET];	/* not cumulative */
	unsigned long long sum_us;
};

struct shm {
	int64_t started_us;	/* when the master mapped this: its start */
	struct slot slot[GYM_METRICS_ROUTES + 1];	/* the last is "other" */
	unsigned long long named[NNAMED];
	long long workers;
	unsigned long long restarts;
	unsigned long long retirements;
	/* per child of the master: 0 idle, SERVING_UNROUTED, or a route
	 * slot's index + 1 */
	int serving[GYM_METRICS_PROCS];
	/* per child: 1 while it is inside a WeChat call (the worker budget) */
	int upstream[GYM_METRICS_PROCS];
};

#define SERVING_UNROUTED	(GYM_METRICS_ROUTES + 2)

static struct shm *shm;
static int self_proc = -1;	/* this process's serving[] slot */

enum gym_err
gym_metrics_init(void)
{
	void *p;
	struct slot *other;
	struct timespec ts;

	if (shm != NULL)
		return GYM_OK;
	p = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		gym_log_err("could not map %zu bytes for metrics", sizeof(*shm));
		return GYM_ESYSTEM;
	}
	shm = p;	/* anonymous mappings start zeroed */
	/* the wall clock, not gym_now_us(): a test's clock offset is no start time */
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		shm->started_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	other = &shm->slot[GYM_METRICS_ROUTES];
	snprintf(other->method, sizeof(other->method), "other");
	snprintf(other->route, sizeof(other->route), "other");
	other->state = SLOT_READY;
	return GYM_OK;
}

static void
slot_label(struct slot *s, const char *method, const char *pattern)
{
	int expect = SLOT_EMPTY;

	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_READY)
		return;
	if (!__atomic_compare_exchange_n(&s->state, &expect, SLOT_LABELLING, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	snprintf(s->method, sizeof(s->method), "%s", method);
	snprintf(s->route, sizeof(s->route), "%s", pattern);
	__atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
}

void
gym_metrics_request(int route_index, const char *method, const char *pattern,
    int status, int64_t us)
{
	struct slot *s;
	size_t i;

	if (shm == NULL)
		return;
	if (route_index < 0 || route_index >= GYM_METRICS_ROUTES ||
	    method == NULL || pattern == NULL)
		s = &shm->slot[GYM_METRICS_ROUTES];
	else {
		s = &shm->slot[route_index];
		slot_label(s, method, pattern);
	}
	for (i = 0; i < NSTATUS - 1; i++)
		if (status_codes[i] == status)
			break;
	__atomic_fetch_add(&s->status[i], 1, __ATOMIC_RELAXED);
	if (us < 0)
		us = 0;
	for (i = 0; i < NBUCKET - 1; i++)
		if (us <= bucket_us[i])
			break;
	__atomic_fetch_add(&s->bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->sum_us, (unsigned long long)us, __ATOMIC_RELAXED);
}

void
gym_metrics_add(const char *name, long delta)
{
	gym_metrics_add_reason(name, NULL, delta);
}

void
gym_metrics_add_reason(const char *name, const char *reason, long delta)
{
	size_t other = NNAMED;

	if (shm == NULL || name == NULL || delta <= 0)	/* counters only grow */
		return;
	for (size_t i = 0; i < NNAMED; i++) {
		if (strcmp(named[i].name, name) != 0)
			continue;
		if (named[i].reason != NULL && strcmp(named[i].reason, "other") == 0)
			other = i;
		if ((named[i].reason == NULL) != (reason == NULL) ||
		    (reason != NULL && strcmp(named[i].reason, reason) != 0))
			continue;
		__atomic_fetch_add(&shm->named[i], (unsigned long long)delta, __ATOMIC_RELAXED);
		return;
	}
	/* a reason not listed counts as "other" */
	if (reason != NULL && other < NNAMED)
		__atomic_fetch_add(&shm->named[other], (unsigned long long)delta,
		    __ATOMIC_RELAXED);
}

void
gym_metrics_set_workers(long n)
{
	if (shm != NULL)
		__atomic_store_n(&shm->workers, (long long)n, __ATOMIC_RELAXED);
}

void
gym_metrics_worker_restart(void)
{
	if (shm != NULL)
		__atomic_fetch_add(&shm->restarts, 1, __ATOMIC_RELAXED);
}

void
gym_metrics_worker_retired(void)
{
	if (shm != NULL)
		__atomic_fetch_add(&shm->retirements, 1, __ATOMIC_RELAXED);
}

void
gym_metrics_proc_reset(int proc)
{
	if (shm != NULL && proc >= 0 && proc < GYM_METRICS_PROCS) {
		__atomic_store_n(&shm->serving[proc], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&shm->upstream[proc], 0, __ATOMIC_SEQ_CST);
	}
}

void
gym_metrics_upstream_clear(int proc)
{
	if (shm != NULL && proc >= 0 && proc < GYM_METRICS_PROCS)
		__atomic_store_n(&shm->upstream[proc], 0, __ATOMIC_SEQ_CST);
}

long
gym_metrics_upstream_count(void)
{
	long n = 0;

	if (shm != NULL)
		for (int i = 0; i < GYM_METRICS_PROCS; i++)
			n += __atomic_load_n(&shm->upstream[i], __ATOMIC_SEQ_CST) != 0;
	return n;
}

/*
 * Raise this child's flag, then count the raised flags: over the budget,
 * lower it again.  Two children entering at once may both see the other
 * and both back off (never both enter beyond the budget); a child killed
 * while its flag is up is cleared by the master (gym_metrics_upstream_clear
 * when it buries it, gym_metrics_proc_reset before the slot is reused).
 */
int
gym_metrics_upstream_enter(int budget)
{
	if (shm == NULL || self_proc < 0)
		return 1;			/* no shared budget in this process */
	__atomic_store_n(&shm->upstream[self_proc], 1, __ATOMIC_SEQ_CST);
	if (gym_metrics_upstream_count() <= budget)
		return 1;
	__atomic_store_n(&shm->upstream[self_proc], 0, __ATOMIC_SEQ_CST);
	gym_metrics_add("upstream_refused", 1);
	return 0;
}

void
gym_metrics_upstream_leave(void)
{
	if (shm != NULL && self_proc >= 0)
		__atomic_store_n(&shm->upstream[self_proc], 0, __ATOMIC_SEQ_CST);
}

void
gym_metrics_proc_self(int proc)
{
	self_proc = proc >= 0 && proc < GYM_METRICS_PROCS ? proc : -1;
}

void
gym_metrics_serving(int route_index, const char *method, const char *pattern)
{
	int v = SERVING_UNROUTED;

	if (shm == NULL || self_proc < 0)
		return;
	if (route_index >= 0 && route_index < GYM_METRICS_ROUTES && method != NULL &&
	    pattern != NULL) {
		/* labelled now, so that a request that never ends has a name */
		slot_label(&shm->slot[route_index], method, pattern);
		v = route_index + 1;
	}
	__atomic_store_n(&shm->serving[self_proc], v, __ATOMIC_RELAXED);
}

void
gym_metrics_idle(void)
{
	if (shm != NULL && self_proc >= 0)
		__atomic_store_n(&shm->serving[self_proc], 0, __ATOMIC_RELAXED);
}

char *
gym_metrics_proc_route(int proc, char *buf, size_t len)
{
	const struct slot *s;
	int v;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (shm == NULL || proc < 0 || proc >= GYM_METRICS_PROCS)
		return buf;
	v = __atomic_load_n(&shm->serving[proc], __ATOMIC_RELAXED);
	if (v == SERVING_UNROUTED)
		snprintf(buf, len, "an unrouted request");
	else if (v > 0 && v <= GYM_METRICS_ROUTES) {
		s = &shm->slot[v - 1];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_READY)
			snprintf(buf, len, "%s %s", s->method, s->route);
		else
			snprintf(buf, len, "route %d", v - 1);
	}
	return buf;
}

/* A label value with \, " and newline escaped, as the format wants. */
static void
put_label(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void
put_labels(FILE *fp, const struct slot *s)
{
	fputs("{method=\"", fp);
	put_label(fp, s->method);
	fputs("\",route=\"", fp);
	put_label(fp, s->route);
	fputc('"', fp);
}

static void
render_requests(FILE *fp)
{
	unsigned long long v;

	fputs("# HELP gymd_requests_total Requests answered, by route and status.\n"
	    "# TYPE gymd_requests_total counter\n", fp);
	for (size_t r = 0; r <= GYM_METRICS_ROUTES; r++) {
		const struct slot *s = &shm->slot[r];

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY)
			continue;
		for (size_t i = 0; i < NSTATUS; i++) {
			if ((v = __atomic_load_n(&s->status[i], __ATOMIC_RELAXED)) == 0)
				continue;
			fputs("gymd_requests_total", fp);
			put_labels(fp, s);
			if (i < NSTATUS - 1)
				fprintf(fp, ",status=\"%d\"} %llu\n", status_codes[i], v);
			else
				fprintf(fp, ",status=\"other\"} %llu\n", v);
		}
	}
}

static void
render_durations(FILE *fp)
{
	unsigned long long cum, sum;

	fputs("# HELP gymd_request_duration_seconds Time spent on a request, by route.\n"
	    "# TYPE gymd_request_duration_seconds histogram\n", fp);
	for (size_t r = 0; r <= GYM_METRICS_ROUTES; r++) {
		const struct slot *s = &shm->slot[r];

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY)
			continue;
		cum = 0;
		for (size_t i = 0; i < NBUCKET; i++)
			cum += __atomic_load_n(&s->bucket[i], __ATOMIC_RELAXED);
		if (cum == 0)
			continue;
		cum = 0;
		for (size_t i = 0; i < NBUCKET; i++) {
			cum += __atomic_load_n(&s->bucket[i], __ATOMIC_RELAXED);
			fputs("gymd_request_duration_seconds_bucket", fp);
			put_labels(fp, s);
			fprintf(fp, ",le=\"%s\"} %llu\n", bucket_le[i], cum);
		}
		sum = __atomic_load_n(&s->sum_us, __ATOMIC_RELAXED);
		fputs("gymd_request_duration_seconds_sum", fp);
		put_labels(fp, s);
		fprintf(fp, "} %llu.%06llu\n", sum / 1000000, sum % 1000000);
		fputs("gymd_request_duration_seconds_count", fp);
		put_labels(fp, s);
		fprintf(fp, "} %llu\n", cum);
	}
}

static void
render_process(FILE *fp)
{
	int64_t t = shm->started_us;

	fputs("# HELP gymd_build_info The gymd build (git describe); always 1.\n"
	    "# TYPE gymd_build_info gauge\n"
	    "gymd_build_info{version=\"", fp);
	put_label(fp, gym_version());
	fputs("\"} 1\n", fp);
	fprintf(fp, "# HELP process_start_time_seconds Start time of the gymd master since the epoch.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %lld.%06lld\n",
	    (long long)(t / 1000000), (long long)(t % 1000000));
	fprintf(fp, "# HELP gymd_workers Worker processes alive.\n"
	    "# TYPE gymd_workers gauge\n"
	    "gymd_workers %lld\n",
	    __atomic_load_n(&shm->workers, __ATOMIC_RELAXED));
	fprintf(fp, "# HELP gymd_worker_restarts_total Workers replaced after an unexpected exit.\n"
	    "# TYPE gymd_worker_restarts_total counter\n"
	    "gymd_worker_restarts_total %llu\n",
	    __atomic_load_n(&shm->restarts, __ATOMIC_RELAXED));
	fprintf(fp, "# HELP gymd_worker_retirements_total Workers replaced after max_requests.\n"
	    "# TYPE gymd_worker_retirements_total counter\n"
	    "gymd_worker_retirements_total %llu\n",
	    __atomic_load_n(&shm->retirements, __ATOMIC_RELAXED));
	fprintf(fp, "# HELP gymd_upstream_calls Workers inside a WeChat call now.\n"
	    "# TYPE gymd_upstream_calls gauge\n"
	    "gymd_upstream_calls %ld\n", gym_metrics_upstream_count());
	for (size_t i = 0; i < NNAMED; i++) {
		if (named[i].help != NULL)
			fprintf(fp, "# HELP gymd_%s_total %s\n# TYPE gymd_%s_total counter\n",
			    named[i].name, named[i].help, named[i].name);
		if (named[i].reason != NULL)
			fprintf(fp, "gymd_%s_total{reason=\"%s\"} %llu\n", named[i].name,
			    named[i].reason, __atomic_load_n(&shm->named[i], __ATOMIC_RELAXED));
		else
			fprintf(fp, "gymd_%s_total %llu\n", named[i].name,
			    __atomic_load_n(&shm->named[i], __ATOMIC_RELAXED));
	}
}

enum gym_err
gym_metrics_render(char **out, size_t *len)
{
	FILE *fp;
	char *buf = NULL;
	size_t n = 0;
	int bad;

	*out = NULL;
	*len = 0;
	if (shm == NULL)
		return GYM_EINTERNAL;
	if ((fp = open_memstream(&buf, &n)) == NULL) {
		gym_log_err("could not open a memory stream for metrics");
		return GYM_ENOMEM;
	}
	render_requests(fp);
	render_durations(fp);
	render_process(fp);
	bad = ferror(fp);
	if (fclose(fp) != 0 || bad) {
		gym_log_errx("could not render metrics");
		free(buf);
		return GYM_ENOMEM;
	}
	*out = buf;
	*len = n;
	return GYM_OK;
}

enum gym_err
gym_metrics_render_state(const struct gym_metrics_state *st, char **out, size_t *len)
{
	char *add = NULL;
	size_t n = 0;
	FILE *fp;
	char *grown;
	int bad;

	if ((fp = open_memstream(&add, &n)) == NULL)
		return GYM_ENOMEM;
	if (st->have_db) {
		fprintf(fp, "# HELP gymd_attention_orders Orders in the needs-attention queue: money "
		    "to return without a seat, waiting for an operator.\n"
		    "# TYPE gymd_attention_orders gauge\n"
		    "gymd_attention_orders %lld\n", st->attention);
		fprintf(fp, "# HELP gymd_refunds_waiting Refunds not finished: in_progress (WeChat "
		    "has not answered yet), abnormal (WeChat could not pay out; a person acts).\n"
		    "# TYPE gymd_refunds_waiting gauge\n"
		    "gymd_refunds_waiting{state=\"in_progress\"} %lld\n"
		    "gymd_refunds_waiting{state=\"abnormal\"} %lld\n",
		    st->refunds_in_progress, st->refunds_abnormal);
	}
	if (st->nkeys > 0)
		fputs("# HELP gymd_wx_platform_cert_expiry_days Days until each WeChat Pay platform "
		    "certificate expires (public keys have no expiry and are not listed).\n"
		    "# TYPE gymd_wx_platform_cert_expiry_days gauge\n", fp);
	for (int i = 0; i < st->nkeys && i < 8; i++) {
		fputs("gymd_wx_platform_cert_expiry_days{serial=\"", fp);
		put_label(fp, st->keys[i].serial);
		fprintf(fp, "\"} %.2f\n", st->keys[i].days);
	}
	bad = ferror(fp);
	if (fclose(fp) != 0 || bad || add == NULL) {
		free(add);
		return GYM_ENOMEM;
	}
	if ((grown = realloc(*out, *len + n + 1)) == NULL) {
		free(add);
		return GYM_ENOMEM;
	}
	memcpy(grown + *len, add, n + 1);
	*out = grown;
	*len += n;
	free(add);
	return GYM_OK;
}

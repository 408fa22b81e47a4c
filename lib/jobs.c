/*
 * jobs.c: the job process's loop, forked and supervised by gymd's master.
 * Every job_interval_ms: expire lapsed orders and holds (batches claimed
 * with SKIP LOCKED), ask WeChat about pending orders whose notification has
 * not come, close the WeChat orders of orders that ended, carry refunds
 * through (refund_job.c), offer freed seats to waiting parents
 * (waitlist.c) and send the messages to parents (notify_send.c).
 *
 * The waitlist's offer pass runs every run, after the sweeps: it looks at
 * the seats themselves, so it catches a seat however it came free (a hold
 * released or lapsed, an order cancelled, failed or expired, a refund, a
 * capacity raised), whichever process or host freed it.  An offer thus
 * follows its seat within one job_interval_ms (1 s by default), and the
 * message goes out in the same run.
 * Every claim skips locked rows, so jobs on several hosts never process a
 * row twice.
 *
 * Logging: one structured line per run, with the run's own request id
 * (rid=job-N, N counting this process's runs; the lines a run writes while
 * it works carry the same id):
 *   rid=job-N job=run status=ok expired=E reconciled=R refunds=F messages=M ms=T
 * at info when the run did something, at debug when it found nothing to
 * do: at the default job_interval_ms (1 s) an info line per idle run would
 * be 86,400 lines a day per host, drowning the request lines, and
 * gymd_job_runs_total already shows that the job is alive.  A run that
 * failed (database unreachable, a sweep that failed) logs status=failed at
 * warning, at most once per FAIL_LOG_S seconds while the failures last,
 * with the number of consecutive failed runs; the first good run after
 * them logs at info with after_failed_runs=N.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bill.h"
#include "booking.h"
#include "db.h"
#include "jobs.h"
#include "products.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "push.h"
#include "reconcile.h"
#include "refunds.h"
#include "waitlist.h"
#include "wxmp.h"

#define FAIL_LOG_S 10

static const struct gym_actor job_actor = { "system", 0, NULL, "job", NULL, NULL };

/* Messages to parents one sender pass claims; a full pass is followed by
 * another at once, for up to SEND_BUDGET_MS of a job run, so a class
 * opening's hundreds of confirmations go out in seconds, not 50 a run. */
#define NOTIFY_BATCH 50
/* Classes one offer pass serves (the rest at the next run). */
#define WAITLIST_CLASSES 64
#define SEND_BUDGET_MS 5000
/* Live push: outbox rows a pass takes, how often the wait looks for them. */
#define PUSH_BATCH 200
#define PUSH_POLL_MS 100
#define PUSH_CLASSES_MS 250

/* Expire lapsed orders, then lapsed holds, batch after batch: the number of
 * rows expired, or -1 when a sweep failed. */
static int
sweep_all(struct gym_db *db, const struct gym_config *cfg, volatile sig_atomic_t *stop)
{
	int n = 0, total = 0;

	do {
		if (gym_sweep_orders(db, cfg->sweep_batch, &n) != GYM_OK)
			return -1;
		total += n;
	} while (n == cfg->sweep_batch && !*stop);
	do {
		if (gym_sweep_holds(db, cfg->sweep_batch, &n) != GYM_OK)
			return -1;
		total += n;
	} while (n == cfg->sweep_batch && !*stop);
	return total;
}

/* Publish what waits in the outbox, pass after pass while passes are full. */
/* Expire lapsed credits in batches of sweep_batch parents; -1 on failure. */
static int
credits_expire_all(struct gym_db *db, const struct gym_config *cfg, volatile sig_atomic_t *stop)
{
	int n, total = 0;

	do {
		if (gym_credits_expire(db, cfg->sweep_batch, &n) != GYM_OK)
			return -1;
		total += n;
	} while (n > 0 && !*stop);
	return total;
}

static void
push_all(struct gym_push *push, struct gym_db *db, volatile sig_atomic_t *stop)
{
	int n = 0;

	do {
		if (gym_push_pass(push, db, PUSH_BATCH, &n) != GYM_OK)
			break;
	} while (n == PUSH_BATCH && !*stop);
}

static double elapsed_ms(const struct timespec *t0);

/* Live push between the job's other steps: the outbox when rows wait, and
 * every PUSH_CLASSES_MS the seat counts, so a client hears of a change
 * within about that long however long a run's other steps take (a run
 * sending thousands of messages takes seconds). */
struct pusher {
	struct gym_push *push;
	struct timespec classes_at;
	volatile sig_atomic_t *stop;
};

static void
push_tick(struct pusher *p, struct gym_db *db)
{
	int any;

	if (p->push == NULL)
		return;
	if (elapsed_ms(&p->classes_at) >= PUSH_CLASSES_MS) {
		clock_gettime(CLOCK_MONOTONIC, &p->classes_at);
		(void)gym_push_classes(db);
	}
	if (gym_push_pending(db, &any) == GYM_OK && any)
		push_all(p->push, db, p->stop);
}

/* Wait ms between runs, with a push tick every PUSH_POLL_MS. */
static void
pause_ms(int ms, struct pusher *p, struct gym_db *db, volatile sig_atomic_t *stop)
{
	const struct timespec step = { 0, 50 * 1000 * 1000 };

	for (int waited = 0; waited < ms && !*stop; waited += 50) {
		nanosleep(&step, NULL);
		if (waited % PUSH_POLL_MS == 0)
			push_tick(p, db);
	}
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Send due messages to parents, pass after pass while passes come back
 * full, within SEND_BUDGET_MS of the run's start t0: how many went out. */
static int
send_all(struct gym_db *db, struct gym_wx_client *wx, const struct gym_config *cfg,
    const struct timespec *t0, struct pusher *p, volatile sig_atomic_t *stop)
{
	int sent, total = 0;

	do {
		if (gym_notify_send_batch(db, wx, cfg, NOTIFY_BATCH, &sent) != GYM_OK)
			break;
		total += sent;
		push_tick(p, db);
	} while (sent == NOTIFY_BATCH && !*stop && elapsed_ms(t0) < SEND_BUDGET_MS);
	return total;
}

/* What one run did: expired < 0 when it failed. */
struct run {
	int expired, reconciled, refunds, messages;
	double ms;
};

/* The run's line (see the header comment). */
static void
log_run(const struct run *r, long *failed_runs, time_t *last_fail_log)
{
	time_t now;

	if (r->expired >= 0) {
		if (*failed_runs > 0)
			gym_log_infox("job=run status=ok expired=%d reconciled=%d refunds=%d "
			    "messages=%d ms=%.1f after_failed_runs=%ld", r->expired, r->reconciled,
			    r->refunds, r->messages, r->ms, *failed_runs);
		else if (r->expired > 0 || r->reconciled > 0 || r->refunds > 0 || r->messages > 0)
			gym_log_infox("job=run status=ok expired=%d reconciled=%d refunds=%d "
			    "messages=%d ms=%.1f", r->expired, r->reconciled, r->refunds,
			    r->messages, r->ms);
		else
			gym_log_debugx("job=run status=ok expired=0 reconciled=0 refunds=0 "
			    "messages=0 ms=%.1f", r->ms);
		*failed_runs = 0;
		return;
	}
	(*failed_runs)++;
	now = time(NULL);
	if (*failed_runs == 1 || now - *last_fail_log >= FAIL_LOG_S) {
		*last_fail_log = now;
		gym_log_warnx("job=run status=failed failed_runs=%ld reconciled=%d refunds=%d "
		    "messages=%d ms=%.1f", *failed_runs, r->reconciled, r->refunds, r->messages,
		    r->ms);
	}
}

int
gym_jobs_run(const struct gym_config *cfg, volatile sig_atomic_t *stop)
{
	struct gym_db *db = NULL;
	struct gym_wx_client *wx = NULL;
	struct gym_channels chans = { { NULL } };
	struct gym_push *push = NULL;
	struct pusher pu = { 0 };
	struct timespec t0;
	int paying;
	struct run r;
	char rid[32];
	unsigned long runs = 0;
	long failed_runs = 0;
	int ran;
	time_t last_fail_log = 0;

	gym_log_set_request_id("job");
	if (gym_db_new(cfg->db, cfg->db_lock_timeout_ms, &db) != GYM_OK)
		return 1;
	if (gym_wx_client_new(cfg, &wx) != GYM_OK)
		gym_log_warnx("job: no WeChat client: subscribe messages are off");
	if (gym_push_new(cfg->push_url, cfg->push_urls, &push) != GYM_OK)
		gym_log_warnx("job: push_url is not usable: live push is off");
	pu.push = push;
	pu.stop = stop;
	if (!(paying = gym_channels_start_all(&chans, cfg) == GYM_OK))
		gym_log_warnx("job: a payment channel could not be made: reconciliation is off");
	while (!*stop) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		snprintf(rid, sizeof(rid), "job-%lu", ++runs);
		gym_log_set_request_id(rid);
		memset(&r, 0, sizeof(r));
		r.expired = -1;
		ran = 0;
		if (gym_db_ensure(db) == GYM_OK) {
			r.expired = sweep_all(db, cfg, stop);
			/* holds and orders that raced a class's cancel */
			(void)gym_schedule_cancel_sweep(db, &job_actor, NULL);
			/* lapsed credits (products.h); a failure waits for the next run */
			(void)credits_expire_all(db, cfg, stop);
			{
				int told;	/* 7 days before they run out */

				(void)gym_reminders_pass(db, cfg->sweep_batch, &told);
			}
			if (r.expired >= 0 &&
			    gym_waitlist_offer_pass(db, WAITLIST_CLASSES, NULL) != GYM_OK)
				r.expired = -1;
			r.reconciled = paying ? gym_reconcile_run(db, &chans, cfg) : 0;
			push_tick(&pu, db);
			r.refunds = paying ? gym_refund_job_run(db, &chans, cfg) : 0;
			push_tick(&pu, db);
			/* yesterday's bills, once it is past reconcile_bill_time */
			if (paying)
				(void)gym_recon_job_run(db, &chans, cfg);
			if (wx != NULL)
				r.messages = send_all(db, wx, cfg, &t0, &pu, stop);
			/* seat counts (a lapse changes one with no write), then
			 * the outbox; with push off the outbox is only emptied */
			if (push != NULL)
				(void)gym_push_classes(db);
			push_all(push, db, stop);
			ran = 1;
		}
		if (r.expired < 0)
			gym_metrics_add("job_failures", 1);
		r.ms = elapsed_ms(&t0);
		log_run(&r, &failed_runs, &last_fail_log);
		/* after the pass's log lines: a test that saw the count move
		 * can read them (e2e_wait_job_passes) */
		if (ran)
			gym_metrics_add("job_runs", 1);
		gym_log_set_request_id("job");
		pause_ms(cfg->job_interval_ms, &pu, db, stop);
	}
	gym_channels_release(&chans);
	gym_push_free(push);
	gym_wx_client_free(wx);
	gym_db_free(db);
	return 0;
}

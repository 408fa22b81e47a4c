/*
 * jobs.c: the job process's loop, forked and supervised by gymd's master.
 * Every job_interval_ms: expire lapsed orders and holds (batches claimed
 * with SKIP LOCKED), ask WeChat about pending orders whose notification has
 * not come, close the WeChat orders of orders that ended, and carry
 * refunds through (refund_job.c).  Every claim skips locked rows, so jobs
 * on several hosts never process a row twice.
 */
#include <time.h>

#include "booking.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "reconcile.h"
#include "refunds.h"
#include "wxpay.h"

/* Messages to parents one job pass sends at most. */
#define NOTIFY_BATCH 50

static void
sweep_all(struct gym_db *db, const struct gym_config *cfg, volatile sig_atomic_t *stop)
{
	int n = 0, total = 0;

	do {
		if (gym_sweep_orders(db, cfg->sweep_batch, &n) != GYM_OK) {
			gym_metrics_add("job_failures", 1);
			return;
		}
		total += n;
	} while (n == cfg->sweep_batch && !*stop);
	do {
		if (gym_sweep_holds(db, cfg->sweep_batch, &n) != GYM_OK) {
			gym_metrics_add("job_failures", 1);
			return;
		}
		total += n;
	} while (n == cfg->sweep_batch && !*stop);
	if (total > 0)
		gym_log_infox("job=sweep expired=%d", total);
}

static void
pause_ms(int ms, volatile sig_atomic_t *stop)
{
	const struct timespec step = { 0, 50 * 1000 * 1000 };

	for (int waited = 0; waited < ms && !*stop; waited += 50)
		nanosleep(&step, NULL);
}

int
gym_jobs_run(const struct gym_config *cfg, volatile sig_atomic_t *stop)
{
	struct gym_db *db = NULL;
	struct gym_wx_client *wx = NULL;
	struct timespec t0, t1;
	int n, sent;

	gym_log_set_request_id("job");
	if (gym_db_new(cfg->db, cfg->db_lock_timeout_ms, &db) != GYM_OK)
		return 1;
	if (gym_wx_client_new(cfg, &wx) != GYM_OK)
		gym_log_warnx("job: no WeChat Pay client: reconciliation is off");
	while (!*stop) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (gym_db_ensure(db) == GYM_OK) {
			sweep_all(db, cfg, stop);
			n = wx != NULL ? gym_reconcile_run(db, wx, cfg) : 0;
			n += wx != NULL ? gym_refund_job_run(db, wx, cfg) : 0;
			if (wx != NULL)
				gym_notify_send_batch(db, wx, cfg, NOTIFY_BATCH, &sent);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			gym_log_debugx("job=run reconciled=%d ms=%ld", n,
			    (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
			gym_metrics_add("job_runs", 1);
		} else
			gym_metrics_add("job_failures", 1);
		pause_ms(cfg->job_interval_ms, stop);
	}
	gym_wx_client_free(wx);
	gym_db_free(db);
	return 0;
}

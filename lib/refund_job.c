/*
 * refund_job.c: the job's part in refunds (see refunds.h): automatic
 * refunds of orders left in 'refunding' (a late payment without a seat, a
 * second trial), resending pending refunds whose create call failed, and
 * asking WeChat about refunds whose notification has not come.
 *
 * Every claim is one statement, committed before WeChat is called:
 * FOR UPDATE SKIP LOCKED picks rows no other job holds, and the claim
 * moves the row's next_send_at or polled_at forward, so a second job
 * process (or the next pass) leaves it alone until it is due again.  A
 * refund sent twice anyway is harmless: WeChat keys it by out_refund_no.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "refunds.h"

#define BATCH 20

static struct gym_stmt st_claim_orders = { "refund_claim_orders",
	"SELECT o.order_id FROM payment_orders o WHERE o.status = 'refunding' "
	"AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = o.order_id) "
	"AND ($2::boolean OR o.attention_reason IS NULL) "
	"ORDER BY o.updated_at LIMIT $1::int FOR UPDATE OF o SKIP LOCKED", 0 };
/* first due after_s after creation (the requester sends at once), then
 * after_s, 2 after_s, 4 after_s ... at most an hour apart */
static struct gym_stmt st_claim_send = { "refund_claim_send",
	"UPDATE refunds SET send_attempts = send_attempts + 1, next_send_at = $1::timestamptz + "
	" make_interval(secs => least(3600, $2::int * power(2, least(send_attempts, 12)))) "
	"WHERE id = ANY(ARRAY(SELECT id FROM refunds WHERE status = 'pending' "
	" AND coalesce(next_send_at, created_at + make_interval(secs => $2::int)) <= $1::timestamptz "
	" ORDER BY created_at LIMIT $3::int FOR UPDATE SKIP LOCKED)) RETURNING out_refund_no", 0 };
/* processing: after_s after the last word; abnormal: ten times that */
static struct gym_stmt st_claim_poll = { "refund_claim_poll",
	"UPDATE refunds SET polled_at = $1::timestamptz "
	"WHERE id = ANY(ARRAY(SELECT id FROM refunds WHERE status IN ('processing', 'abnormal') "
	" AND greatest(updated_at, polled_at) <= $1::timestamptz - "
	"  make_interval(secs => CASE WHEN status = 'abnormal' THEN 10 ELSE 1 END * $2::int) "
	" ORDER BY updated_at LIMIT $3::int FOR UPDATE SKIP LOCKED)) RETURNING out_refund_no", 0 };

static const struct gym_actor job_actor = { "system", 0, NULL, "refund_job", NULL, NULL };

enum gym_err
gym_refund_claim_orders(struct gym_db *db, int late_too, char (*ids)[72], int max, int *n)
{
	char lim[16];
	const char *p[2] = { lim, late_too ? "true" : "false" };

	snprintf(lim, sizeof(lim), "%d", max);
	return gym_db_claim_ids(db, &st_claim_orders, 2, p, (char *)ids, sizeof(*ids), max, n);
}

static enum gym_err
claim_due(struct gym_db *db, struct gym_stmt *st, int after_s, char (*ids)[72], int max, int *n)
{
	char now[40], secs[16], lim[16];
	const char *p[3] = { now, secs, lim };

	gym_db_now_param(now, sizeof(now));
	snprintf(secs, sizeof(secs), "%d", after_s > 0 ? after_s : 1);
	snprintf(lim, sizeof(lim), "%d", max);
	return gym_db_claim_ids(db, st, 3, p, (char *)ids, sizeof(*ids), max, n);
}

enum gym_err
gym_refund_claim_send(struct gym_db *db, int after_s, char (*ids)[72], int max, int *n)
{
	return claim_due(db, &st_claim_send, after_s, ids, max, n);
}

enum gym_err
gym_refund_claim_poll(struct gym_db *db, int after_s, char (*ids)[72], int max, int *n)
{
	return claim_due(db, &st_claim_poll, after_s, ids, max, n);
}

enum gym_err
gym_refund_poll(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg,
    const char *out_refund_no, char *outcome, size_t len)
{
	struct gym_channel_refund answer;
	struct gym_channel *ch;
	struct gym_refund f;
	enum gym_err e;

	snprintf(outcome, len, "pending");
	if ((e = gym_refund_get(db, 0, out_refund_no, &f)) != GYM_OK ||
	    (e = gym_channels_for_trade(chans, db, cfg, f.out_trade_no, &ch)) != GYM_OK ||
	    (e = gym_channel_refund_query(ch, f.out_trade_no, out_refund_no, &answer)) != GYM_OK)
		return e;
	e = gym_refund_apply_answer(db, &job_actor, cfg, ch, &answer, "query", outcome, len);
	gym_channel_refund_clear(&answer);
	return e;
}

/* (a) a system refund for each order left in 'refunding' without one; one
 * waiting in the needs-attention queue only with late_payment_refund = auto. */
static int
auto_refunds(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg)
{
	char ids[BATCH][72];
	struct gym_refund f;
	enum gym_err e;
	int n = 0, created;

	if (gym_refund_claim_orders(db, cfg->late_payment_refund_auto, ids, BATCH, &n) != GYM_OK)
		return 0;
	for (int i = 0; i < n; i++) {
		e = gym_refund_request(db, &job_actor, ids[i], GYM_REFUND_AUTO_REASON, "system", 0,
		    &f, &created);
		if (e != GYM_OK) {
			gym_log_warnx("could not start the automatic refund of order %s: %s",
			    ids[i], gym_strerror(e));
			continue;
		}
		gym_log_infox("job=refund order %s: automatic refund %s", ids[i], f.out_refund_no);
		/* a refund someone else just made is theirs to send */
		if (created)
			(void)gym_refund_send(db, chans, cfg, &job_actor, f.out_refund_no, NULL);
	}
	return n;
}

int
gym_refund_job_run(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg)
{
	char ids[BATCH][72], outcome[16];
	int n = 0, total;
	enum gym_err e;

	total = auto_refunds(db, chans, cfg);
	if (gym_refund_claim_send(db, cfg->wx_reconcile_after_s, ids, BATCH, &n) == GYM_OK)
		for (int i = 0; i < n; i++, total++)
			(void)gym_refund_send(db, chans, cfg, &job_actor, ids[i], NULL);
	if (gym_refund_claim_poll(db, cfg->wx_reconcile_after_s, ids, BATCH, &n) != GYM_OK)
		return total;
	for (int i = 0; i < n; i++, total++) {
		e = gym_refund_poll(db, chans, cfg, ids[i], outcome, sizeof(outcome));
		if (e == GYM_OK)
			gym_log_infox("job=refund polled %s: %s", ids[i], outcome);
		else
			gym_log_warnx("job=refund could not poll %s: %s", ids[i], gym_strerror(e));
	}
	return total;
}

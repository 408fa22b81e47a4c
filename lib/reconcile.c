/*
 * reconcile.c: see reconcile.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attempts.h"
#include "json.h"
#include "log.h"
#include "payevent.h"
#include "reconcile.h"

static int
same(const char *got, const char *want)
{
	return got != NULL && want != NULL && *want != '\0' && strcmp(got, want) == 0;
}

const char *
gym_txn_parse(const cJSON *txn, const struct gym_config *cfg, struct gym_wx_txn *t)
{
	const cJSON *amount = cJSON_GetObjectItemCaseSensitive(txn, "amount");
	enum gym_err e;

	memset(t, 0, sizeof(*t));
	t->out_trade_no = gym_json_string(txn, "out_trade_no");
	t->transaction_id = gym_json_string(txn, "transaction_id");
	t->trade_state = gym_json_string(txn, "trade_state");
	t->trade_state_desc = gym_json_string(txn, "trade_state_desc");
	t->trade_type = gym_json_string(txn, "trade_type");
	t->bank_type = gym_json_string(txn, "bank_type");
	t->appid = gym_json_string(txn, "appid");
	t->mchid = gym_json_string(txn, "mchid");
	t->success_time = gym_json_string(txn, "success_time");
	t->total = t->payer_total = -1;
	if (t->out_trade_no == NULL || t->trade_state == NULL)
		return "fields missing";
	if (!same(t->mchid, cfg->wx_mchid) || !same(t->appid, cfg->wx_appid))
		return "mchid or appid do not match";
	/* WeChat always sends the currency, and only ever CNY */
	if (!same(gym_json_string(amount, "currency"), "CNY"))
		return "currency is not CNY";
	if (gym_json_fen(amount, "total", &t->total) != GYM_OK)
		return "amount.total is not a whole number of fen";
	if ((e = gym_json_fen(amount, "payer_total", &t->payer_total)) != GYM_OK &&
	    e != GYM_ENOTFOUND)
		return "amount.payer_total is not a whole number of fen";
	return NULL;
}

enum gym_err
gym_txn_apply_json(struct gym_db *db, const struct gym_actor *a, const struct gym_config *cfg,
    const cJSON *txn, const char *source, char *outcome, size_t len)
{
	struct gym_pay_event ev;
	enum gym_err e;

	if ((e = gym_pay_event_wechat(txn, cfg, &ev)) == GYM_OK)
		e = gym_pay_event_apply(db, a, &ev, source, outcome, len);
	gym_pay_event_clear(&ev);
	return e;
}

/* What channel ch says about a trade, into the one apply path. */
static enum gym_err
apply_trade(struct gym_db *db, const struct gym_actor *a, struct gym_channel *ch,
    const struct gym_config *cfg, const struct gym_channel_trade *t, char *outcome, size_t len)
{
	struct gym_pay_event ev;
	enum gym_err e;

	if (strcmp(gym_channel_name(ch), "alipay") != 0)
		return gym_txn_apply_json(db, a, cfg, t->doc, "query", outcome, len);
	if ((e = gym_pay_event_alipay(t, cfg, "query", &ev)) == GYM_OK)
		e = gym_pay_event_apply(db, a, &ev, "query", outcome, len);
	gym_pay_event_clear(&ev);
	return e;
}

enum gym_err
gym_reconcile_order(struct gym_db *db, struct gym_channel *ch, const struct gym_config *cfg,
    const char *out_trade_no, char *outcome, size_t len)
{
	struct gym_actor a = { "system", 0, NULL, "reconcile", NULL, NULL };
	struct gym_channel_trade t;
	enum gym_err e;

	snprintf(outcome, len, "pending");
	if ((e = gym_channel_query(ch, out_trade_no, &t)) != GYM_OK) {
		/* Alipay knows a precreated trade only once it is scanned */
		if (e == GYM_ENOTFOUND && strcmp(gym_channel_name(ch), "alipay") == 0)
			return GYM_OK;
		return e;
	}
	e = apply_trade(db, &a, ch, cfg, &t, outcome, len);
	gym_channel_trade_clear(&t);
	return e;
}

/*
 * The pending orders with a prepay that are due a question: the latest
 * point of the schedule ($2, ascending seconds after the prepay; after the
 * last, every last seconds) that has passed is later than the last question
 * (reconciled_at, which a parent's confirm also sets).  The claim is a
 * lease: a question lost with its job is asked at the next point.
 */
#define AGE_S "extract(epoch FROM $1::timestamptz - prepay_at)"
#define LAST_S "($2::int[])[array_length($2::int[], 1)]"
#define DUE_S "(CASE WHEN " AGE_S " >= " LAST_S " THEN " LAST_S " * floor(" AGE_S " / " LAST_S ") " \
	"ELSE (SELECT max(p) FROM unnest($2::int[]) p WHERE p <= " AGE_S ") END)"
static struct gym_stmt st_claim_rec = { "reconcile_claim",
	"UPDATE payment_orders SET reconciled_at = $1::timestamptz WHERE id = ANY(ARRAY("
	" SELECT id FROM payment_orders WHERE status = 'pending' AND prepay_at IS NOT NULL "
	" AND prepay_at <= $1::timestamptz - make_interval(secs => ($2::int[])[1]) "
	" AND (reconciled_at IS NULL OR reconciled_at < prepay_at + make_interval(secs => " DUE_S ")) "
	" ORDER BY coalesce(reconciled_at, prepay_at) LIMIT $3::int FOR UPDATE SKIP LOCKED)) "
	"RETURNING coalesce(out_trade_no, order_id) AS order_id", 0 };
/*
 * Ended orders whose payment attempt is still open at WeChat.  The claim
 * (wx_closed_at) is a lease, not a mark: the attempt stays open until the
 * close (or the payment a close found) is recorded, so a claim whose work
 * was lost (PostgreSQL gone between WeChat's ORDERPAID and applying the
 * payment) is claimed again $3 seconds later instead of never.  Driven by
 * the open attempts (payment_attempts_one_open), not by every ended order.
 */
static struct gym_stmt st_claim_close = { "close_claim",
	"UPDATE payment_orders SET wx_closed_at = $1::timestamptz WHERE id = ANY(ARRAY("
	" SELECT o.id FROM payment_attempts t JOIN payment_orders o ON o.order_id = t.order_id "
	" WHERE t.state = 'open' AND o.status IN ('expired', 'cancelled', 'failed') "
	" AND (o.wx_closed_at IS NULL OR "
	"  o.wx_closed_at <= $1::timestamptz - make_interval(secs => $3::int)) "
	" ORDER BY o.updated_at LIMIT $2::int FOR UPDATE OF o SKIP LOCKED)) "
	"RETURNING coalesce(out_trade_no, order_id) AS order_id", 0 };
static struct gym_stmt st_close_retry = { "close_retry",
	"UPDATE payment_orders SET wx_closed_at = NULL WHERE order_id = coalesce("
	" (SELECT order_id FROM payment_attempts WHERE out_trade_no = $1), $1)", 0 };

enum gym_err
gym_reconcile_claim(struct gym_db *db, const int *schedule, int points, char (*ids)[33], int max,
    int *n)
{
	char now[40], secs[16 * GYM_RECONCILE_POINTS_MAX + 2], lim[16];
	const char *p[3] = { now, secs, lim };
	size_t used = 0;

	if (points < 1 || points > GYM_RECONCILE_POINTS_MAX)
		return GYM_EINVAL;
	gym_db_now_param(now, sizeof(now));
	/* an array literal of the schedule: {10,30,60} */
	for (int i = 0; i < points; i++)
		used += (size_t)snprintf(secs + used, sizeof(secs) - used, "%c%d", i == 0 ? '{' : ',',
		    schedule[i]);
	snprintf(secs + used, sizeof(secs) - used, "}");
	snprintf(lim, sizeof(lim), "%d", max);
	return gym_db_claim_ids(db, &st_claim_rec, 3, p, (char *)ids, sizeof(*ids), max, n);
}

enum gym_err
gym_close_claim(struct gym_db *db, int lease_s, char (*ids)[33], int max, int *n)
{
	char now[40], lim[16], lease[16];
	const char *p[3] = { now, lim, lease };

	gym_db_now_param(now, sizeof(now));
	snprintf(lim, sizeof(lim), "%d", max);
	snprintf(lease, sizeof(lease), "%d", lease_s);
	return gym_db_claim_ids(db, &st_claim_close, 3, p, (char *)ids, sizeof(*ids), max, n);
}

enum gym_err
gym_close_retry_later(struct gym_db *db, const char *out_trade_no)
{
	const char *p[1] = { out_trade_no };

	return gym_db_exec(db, &st_close_retry, 1, p, NULL);
}

void
gym_close_attempt(struct gym_db *db, struct gym_channel *ch, const struct gym_config *cfg,
    const struct gym_actor *a, const char *out_trade_no)
{
	char outcome[32];
	enum gym_err e;

	e = gym_channel_close(ch, out_trade_no);
	if (e == GYM_ECONFLICT)		/* paid at the channel after all: apply it */
		gym_reconcile_order(db, ch, cfg, out_trade_no, outcome, sizeof(outcome));
	else if (e == GYM_OK || e == GYM_ENOTFOUND) {
		if (gym_attempt_end(db, a, out_trade_no, "closed", NULL, NULL) != GYM_OK)
			gym_log_warnx("could not record attempt %s closed", out_trade_no);
	} else {
		gym_log_warnx("could not close %s at %s: %s (the job retries)", out_trade_no,
		    gym_channel_name(ch), gym_strerror(e));
		gym_close_retry_later(db, out_trade_no);
	}
}

int
gym_reconcile_run(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg)
{
	struct gym_actor a = { "system", 0, NULL, "close", NULL, NULL };
	struct gym_channel *ch;
	char ids[20][33], outcome[32];
	int n = 0, total = 0;
	enum gym_err e;

	if (gym_reconcile_claim(db, cfg->wx_reconcile_schedule, cfg->wx_reconcile_points, ids, 20,
	    &n) == GYM_OK)
		for (int i = 0; i < n; i++, total++)
			if ((e = gym_channels_for_trade(chans, db, cfg, ids[i], &ch)) == GYM_OK &&
			    (e = gym_reconcile_order(db, ch, cfg, ids[i], outcome,
			    sizeof(outcome))) == GYM_OK)
				gym_log_infox("reconciled order %s: %s", ids[i], outcome);
	if (gym_close_claim(db, cfg->wx_reconcile_after_s, ids, 20, &n) != GYM_OK)
		return total;
	for (int i = 0; i < n; i++, total++) {
		if ((e = gym_channels_for_trade(chans, db, cfg, ids[i], &ch)) != GYM_OK) {
			gym_log_warnx("no channel for attempt %s: %s", ids[i], gym_strerror(e));
			gym_close_retry_later(db, ids[i]);
			continue;
		}
		gym_close_attempt(db, ch, cfg, &a, ids[i]);
	}
	return total;
}

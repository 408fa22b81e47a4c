/*
 * recon_report.c: what the console reads of reconciliation and money:
 * a day's runs and discrepancies (with what to do about each), the open
 * discrepancies of every day, an operator's resolution (audited), and the
 * daily finance report (gross, refunds, fees, net, counts, per channel).
 *
 * The day views are built as JSON by PostgreSQL (one statement each);
 * the report comes back as rows for the door to render as JSON or CSV.
 * Days are China days (Asia/Shanghai), the bill's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bill.h"
#include "booking.h"
#include "recon_report.h"

#define ACTION_SQL \
	"CASE d.kind " \
	" WHEN 'missing_here' THEN 'The channel took this money and no paid order here has it: " \
	"find the parent by out_trade_no, then give the seat or refund at the channel.' " \
	" WHEN 'missing_there' THEN 'Paid or refunded here, not in the channel''s bill: query the " \
	"trade at the channel before anything else; the bill of the next day may hold it.' " \
	" WHEN 'amount_mismatch' THEN 'The amounts differ: compare the order with the channel''s " \
	"merchant platform and refund the difference there.' " \
	" WHEN 'status_mismatch' THEN 'The states differ: query the trade or refund at the " \
	"channel and correct ours.' " \
	" ELSE 'The bill did not download whole: the job tries again; gymctl reconcile --date D " \
	"--force fetches it by hand.' END"

#define DISC_JSON \
	"jsonb_build_object('id', d.id, 'channel', d.channel, 'date', d.bill_date::text, " \
	" 'kind', d.kind, 'out_trade_no', d.out_trade_no, 'out_refund_no', d.out_refund_no, " \
	" 'order_id', d.order_id, 'bill_amount_fen', d.bill_amount_fen, " \
	" 'our_amount_fen', d.our_amount_fen, 'bill_state', d.bill_state, " \
	" 'our_state', d.our_state, 'evidence', d.evidence, 'action', " ACTION_SQL ", " \
	" 'created_at', to_char(d.created_at AT TIME ZONE 'UTC', " \
	"  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'resolved', d.resolved_at IS NOT NULL, " \
	" 'resolved_at', to_char(d.resolved_at AT TIME ZONE 'UTC', " \
	"  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'resolved_by', d.resolved_by, " \
	" 'resolution_note', d.resolution_note)"

static struct gym_stmt st_day = { "recon_day_json",
	"SELECT jsonb_build_object('date', $1::date::text, "
	" 'runs', coalesce((SELECT jsonb_agg(jsonb_build_object('channel', r.channel, "
	"  'state', r.state, 'tries', r.tries, 'bill_rows', r.bill_rows, 'matched', r.matched, "
	"  'discrepancies', r.discrepancies, 'gross_fen', r.gross_fen, "
	"  'refund_fen', r.refund_fen, 'fee_fen', r.fee_fen, "
	"  'net_fen', r.gross_fen - r.refund_fen - r.fee_fen, "
	"  'fund_in_fen', r.fund_in_fen, 'fund_out_fen', r.fund_out_fen, "
	"  'error_code', r.error_code, 'error_message', r.error_message, "
	"  'finished_at', to_char(r.finished_at AT TIME ZONE 'UTC', "
	"   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) ORDER BY r.channel) "
	"  FROM recon_runs r WHERE r.bill_date = $1::date "
	"  AND ($2::text IS NULL OR r.channel = $2)), '[]'::jsonb), "
	" 'discrepancies', coalesce((SELECT jsonb_agg(" DISC_JSON " ORDER BY d.id) "
	"  FROM recon_discrepancies d WHERE d.bill_date = $1::date "
	"  AND ($2::text IS NULL OR d.channel = $2)), '[]'::jsonb))::text AS j", 0 };

static struct gym_stmt st_open = { "recon_open_json",
	"SELECT jsonb_build_object('count', (SELECT count(*) FROM recon_discrepancies "
	"  WHERE resolved_at IS NULL), "
	" 'items', coalesce((SELECT jsonb_agg(x.j ORDER BY x.id DESC) FROM (SELECT d.id, "
	"  " DISC_JSON " AS j FROM recon_discrepancies d WHERE d.resolved_at IS NULL "
	"  ORDER BY d.id DESC LIMIT $1::int) x), '[]'::jsonb))::text AS j", 0 };

/* the gauges: open discrepancies, and failed days of the last 90 (older
 * bills are gone at the channel) */
static struct gym_stmt st_gauges = { "recon_gauges",
	"SELECT (SELECT count(*) FROM recon_discrepancies WHERE resolved_at IS NULL) AS open, "
	" (SELECT count(*) FROM recon_runs WHERE state = 'failed' "
	"  AND bill_date >= $1::date - 90) AS failed_days", 0 };

static struct gym_stmt st_resolve = { "recon_resolve",
	"UPDATE recon_discrepancies d SET resolved_at = $2::timestamptz, resolved_by = $3::bigint, "
	" resolution_note = $4 WHERE d.id = $1::bigint AND d.resolved_at IS NULL "
	"RETURNING d.order_id, d.kind, (" DISC_JSON ")::text AS j", 0 };

static struct gym_stmt st_exists = { "recon_disc_exists",
	"SELECT 1 FROM recon_discrepancies WHERE id = $1::bigint", 0 };

static struct gym_stmt st_report = { "recon_report_daily",
	"WITH days AS (SELECT d::date AS day FROM generate_series($1::date, $2::date, "
	"  interval '1 day') d), "
	" chans AS (SELECT unnest(ARRAY['wechat', 'alipay']) AS channel), "
	" lo AS (SELECT $1::date::timestamp AT TIME ZONE 'Asia/Shanghai' AS t), "
	" hi AS (SELECT ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' AS t), "
	" pay AS (SELECT (t.success_time AT TIME ZONE 'Asia/Shanghai')::date AS day, a.channel, "
	"  sum(t.amount_fen) AS gross, count(*) AS n FROM payment_transactions t "
	"  JOIN payment_attempts a ON a.transaction_id = t.transaction_id "
	"  WHERE t.success_time >= (SELECT t FROM lo) AND t.success_time < (SELECT t FROM hi) "
	"  GROUP BY 1, 2), "
	" ref AS (SELECT (r.completed_at AT TIME ZONE 'Asia/Shanghai')::date AS day, "
	"  o.payment_method AS channel, sum(r.amount_fen) AS amount, count(*) AS n "
	"  FROM refunds r JOIN payment_orders o ON o.order_id = r.order_id "
	"  WHERE r.status = 'success' AND r.completed_at >= (SELECT t FROM lo) "
	"  AND r.completed_at < (SELECT t FROM hi) GROUP BY 1, 2), "
	" fee AS (SELECT bill_date AS day, channel, sum(fee_fen) AS fees FROM recon_lines "
	"  WHERE bill_date BETWEEN $1::date AND $2::date GROUP BY 1, 2) "
	"SELECT days.day::text AS day, chans.channel, coalesce(pay.gross, 0) AS gross, "
	" coalesce(ref.amount, 0) AS refunds, coalesce(fee.fees, 0) AS fees, "
	" coalesce(pay.n, 0) AS payments, coalesce(ref.n, 0) AS refund_count "
	"FROM days CROSS JOIN chans LEFT JOIN pay USING (day, channel) "
	" LEFT JOIN ref USING (day, channel) LEFT JOIN fee USING (day, channel) "
	"ORDER BY days.day, chans.channel", 0 };


long
gym_days_between(const char *a, const char *b)
{
	struct tm ta, tb;

	memset(&ta, 0, sizeof(ta));
	memset(&tb, 0, sizeof(tb));
	sscanf(a, "%4d-%2d-%2d", &ta.tm_year, &ta.tm_mon, &ta.tm_mday);
	sscanf(b, "%4d-%2d-%2d", &tb.tm_year, &tb.tm_mon, &tb.tm_mday);
	ta.tm_year -= 1900;
	tb.tm_year -= 1900;
	ta.tm_mon--;
	tb.tm_mon--;
	return (long)((timegm(&tb) - timegm(&ta)) / 86400);
}

/* The one text column of a one-row result, copied. */
static enum gym_err
one_text(struct gym_db *db, struct gym_stmt *st, int n, const char *const *p, char **out)
{
	PGresult *res = NULL;
	enum gym_err e;

	*out = NULL;
	if ((e = gym_db_exec(db, st, n, p, &res)) != GYM_OK)
		return e;
	if (PQntuples(res) != 1)
		e = GYM_EINTERNAL;
	else if ((*out = strdup(PQgetvalue(res, 0, 0))) == NULL)
		e = GYM_ENOMEM;
	PQclear(res);
	return e;
}

enum gym_err
gym_recon_day_json(struct gym_db *db, const char *channel, const char *date, char **json)
{
	const char *p[2] = { date, channel };

	*json = NULL;
	if (!gym_bill_date_ok(date))
		return GYM_EINVAL;
	return one_text(db, &st_day, 2, p, json);
}

enum gym_err
gym_recon_open_json(struct gym_db *db, int limit, char **json)
{
	char lim[16];
	const char *p[1] = { lim };

	snprintf(lim, sizeof(lim), "%d", limit);
	return one_text(db, &st_open, 1, p, json);
}

enum gym_err
gym_recon_gauges(struct gym_db *db, long long *open, long long *failed_days)
{
	PGresult *res = NULL;
	char today[40];
	const char *p[1] = { today };
	enum gym_err e;

	*open = *failed_days = 0;
	gym_time_format_cst(gym_now_us(), today, sizeof(today));
	today[10] = '\0';
	if ((e = gym_db_exec(db, &st_gauges, 1, p, &res)) != GYM_OK)
		return e;
	if (PQntuples(res) == 1) {
		*open = gym_db_get_ll(res, 0, "open");
		*failed_days = gym_db_get_ll(res, 0, "failed_days");
	}
	PQclear(res);
	return GYM_OK;
}

struct resolve_ctx {
	const struct gym_actor *actor;
	const char *id, *note;
	char *json;
};

static enum gym_err
resolve_tx(struct gym_db *db, void *arg)
{
	struct resolve_ctx *r = arg;
	struct gym_audit au;
	char now[40], op[24], order_id[72], kind[32];
	const char *p[4] = { r->id, now, op, r->note };
	PGresult *res = NULL;
	enum gym_err e;
	int n;

	gym_db_now_param(now, sizeof(now));
	snprintf(op, sizeof(op), "%lld", r->actor->id);
	if ((e = gym_db_exec(db, &st_resolve, 4, p, &res)) != GYM_OK)
		return e;
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		if ((e = gym_db_exec(db, &st_exists, 1, p, &res)) != GYM_OK)
			return e;
		n = PQntuples(res);
		PQclear(res);
		return n == 0 ? GYM_ENOTFOUND : GYM_ECONFLICT;	/* resolved already */
	}
	gym_db_copy(res, 0, "order_id", order_id, sizeof(order_id));
	gym_db_copy(res, 0, "kind", kind, sizeof(kind));
	free(r->json);
	if ((r->json = strdup(gym_db_get(res, 0, "j"))) == NULL) {
		PQclear(res);
		return GYM_ENOMEM;
	}
	PQclear(res);
	memset(&au, 0, sizeof(au));
	au.entity = "payment";
	au.action = "reconciliation_resolved";
	au.order_id = order_id[0] != '\0' ? order_id : NULL;
	au.old_status = kind;
	au.new_status = "resolved";
	au.response_snapshot = r->json;
	return gym_audit_write(db, r->actor, &au);
}

enum gym_err
gym_recon_resolve(struct gym_db *db, const struct gym_actor *actor, long long id,
    const char *note, char **json)
{
	struct resolve_ctx r;
	char ids[24];
	enum gym_err e;

	*json = NULL;
	if (id <= 0)
		return GYM_ENOTFOUND;
	snprintf(ids, sizeof(ids), "%lld", id);
	r = (struct resolve_ctx){ actor, ids, note, NULL };
	if ((e = gym_db_tx(db, resolve_tx, &r)) != GYM_OK) {
		free(r.json);
		return e;
	}
	*json = r.json;
	return GYM_OK;
}

/* A report row's money columns (gross, refunds, fees, payments,
 * refund_count). */
static void
read_money(PGresult *res, int i, long long *gross, long long *refund, long long *fee,
    long long *payments, long long *refunds)
{
	*gross = gym_db_get_ll(res, i, "gross");
	*refund = gym_db_get_ll(res, i, "refunds");
	*fee = gym_db_get_ll(res, i, "fees");
	*payments = gym_db_get_ll(res, i, "payments");
	*refunds = gym_db_get_ll(res, i, "refund_count");
}

enum gym_err
gym_report_daily(struct gym_db *db, const char *from, const char *to,
    struct gym_report_row **rows, int *n)
{
	const char *p[2] = { from, to };
	PGresult *res = NULL;
	struct gym_report_row *r;
	enum gym_err e;
	int i, m;

	*rows = NULL;
	*n = 0;
	if (!gym_bill_date_ok(from) || !gym_bill_date_ok(to) || strcmp(from, to) > 0 ||
	    gym_days_between(from, to) >= GYM_REPORT_MAX_DAYS)
		return GYM_EINVAL;
	if ((e = gym_db_exec(db, &st_report, 2, p, &res)) != GYM_OK)
		return e;
	m = PQntuples(res);
	if (m > GYM_REPORT_MAX_ROWS) {
		PQclear(res);
		return GYM_EINVAL;
	}
	if ((r = calloc((size_t)m + 1, sizeof(*r))) == NULL) {
		PQclear(res);
		return GYM_ENOMEM;
	}
	for (i = 0; i < m; i++) {
		gym_db_copy(res, i, "day", r[i].date, sizeof(r[i].date));
		gym_db_copy(res, i, "channel", r[i].channel, sizeof(r[i].channel));
		read_money(res, i, &r[i].gross_fen, &r[i].refund_fen, &r[i].fee_fen,
		    &r[i].payments, &r[i].refunds);
	}
	PQclear(res);
	*rows = r;
	*n = m;
	return GYM_OK;
}

/* $1 from, $2 to, $3 'month' or 'day', $4 'product' or 'channel' */
#define PERIOD(ts) "to_char(" ts ", CASE WHEN $3 = 'month' THEN 'YYYY-MM' ELSE 'YYYY-MM-DD' END)"
#define KEY(chan) "CASE WHEN $4 = 'product' THEN coalesce(p.name, '') ELSE " chan " END"
static struct gym_stmt st_summary = { "recon_report_summary",
	"WITH lo AS (SELECT $1::date::timestamp AT TIME ZONE 'Asia/Shanghai' AS t), "
	" hi AS (SELECT ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' AS t), "
	" pay AS (SELECT " PERIOD("t.success_time AT TIME ZONE 'Asia/Shanghai'") " AS period, "
	"  " KEY("a.channel") " AS key, sum(t.amount_fen) AS gross, count(*) AS n "
	"  FROM payment_transactions t JOIN payment_attempts a ON a.transaction_id = t.transaction_id "
	"  JOIN payment_orders o ON o.order_id = t.order_id LEFT JOIN products p ON p.id = o.product_id "
	"  WHERE t.success_time >= (SELECT t FROM lo) AND t.success_time < (SELECT t FROM hi) "
	"  GROUP BY 1, 2), "
	" ref AS (SELECT " PERIOD("r.completed_at AT TIME ZONE 'Asia/Shanghai'") " AS period, "
	"  " KEY("o.payment_method") " AS key, sum(r.amount_fen) AS amount, count(*) AS n "
	"  FROM refunds r JOIN payment_orders o ON o.order_id = r.order_id "
	"  LEFT JOIN products p ON p.id = o.product_id "
	"  WHERE r.status = 'success' AND r.completed_at >= (SELECT t FROM lo) "
	"  AND r.completed_at < (SELECT t FROM hi) GROUP BY 1, 2), "
	" fee AS (SELECT " PERIOD("l.bill_date") " AS period, " KEY("l.channel") " AS key, "
	"  sum(l.fee_fen) AS fees FROM recon_lines l "
	"  LEFT JOIN payment_orders o ON o.order_id = l.order_id "
	"  LEFT JOIN products p ON p.id = o.product_id "
	"  WHERE l.bill_date BETWEEN $1::date AND $2::date GROUP BY 1, 2), "
	" k AS (SELECT period, key FROM pay UNION SELECT period, key FROM ref "
	"  UNION SELECT period, key FROM fee) "
	"SELECT k.period, k.key, coalesce(pay.gross, 0) AS gross, coalesce(ref.amount, 0) AS refunds, "
	" coalesce(fee.fees, 0) AS fees, coalesce(pay.n, 0) AS payments, "
	" coalesce(ref.n, 0) AS refund_count "
	"FROM k LEFT JOIN pay USING (period, key) LEFT JOIN ref USING (period, key) "
	" LEFT JOIN fee USING (period, key) ORDER BY k.period, k.key LIMIT $5::int", 0 };

enum gym_err
gym_report_summary(struct gym_db *db, const char *from, const char *to, int by_month,
    int by_product, struct gym_report_sum **rows, int *n)
{
	char lim[16];
	const char *p[5] = { from, to, by_month ? "month" : "day", by_product ? "product" : "channel",
	    lim };
	PGresult *res = NULL;
	struct gym_report_sum *r;
	enum gym_err e;
	int m;

	*rows = NULL;
	*n = 0;
	if (!gym_bill_date_ok(from) || !gym_bill_date_ok(to) || strcmp(from, to) > 0 ||
	    gym_days_between(from, to) >= GYM_REPORT_SUM_MAX_DAYS)
		return GYM_EINVAL;
	snprintf(lim, sizeof(lim), "%d", GYM_REPORT_SUM_MAX_ROWS + 1);
	if ((e = gym_db_exec(db, &st_summary, 5, p, &res)) != GYM_OK)
		return e;
	m = PQntuples(res);
	if (m > GYM_REPORT_SUM_MAX_ROWS) {
		PQclear(res);
		return GYM_EINVAL;
	}
	if ((r = calloc((size_t)m + 1, sizeof(*r))) == NULL) {
		PQclear(res);
		return GYM_ENOMEM;
	}
	for (int i = 0; i < m; i++) {
		gym_db_copy(res, i, "period", r[i].period, sizeof(r[i].period));
		gym_db_copy(res, i, "key", r[i].key, sizeof(r[i].key));
		read_money(res, i, &r[i].gross_fen, &r[i].refund_fen, &r[i].fee_fen,
		    &r[i].payments, &r[i].refunds);
	}
	PQclear(res);
	*rows = r;
	*n = m;
	return GYM_OK;
}

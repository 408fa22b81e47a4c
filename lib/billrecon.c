/*
 * billrecon.c: a day's reconciliation against the channel's bill (see
 * bill.h).
 *
 * Invariants:
 * - One row per channel and day in recon_runs.  Whoever wants to work on
 *   a day first claims it with one INSERT ... ON CONFLICT DO UPDATE WHERE
 *   (a new day, a failed day due again, a running day whose lease lapsed,
 *   or a done day when forced) that stamps a fresh claim_token; a second
 *   process gets no row back and leaves the day alone.  The bill is
 *   fetched with no transaction open.
 * - Everything a good bill changes (its lines, the discrepancies, the
 *   summary, state done) is written in one transaction that first checks
 *   the claim is still ours.  A failed download or a bad file writes only
 *   the day's state (failed, why) and, for a bad file, one bad_file
 *   discrepancy; it can never touch another day.
 * - Matching is SQL over the lines just written: a payment line against
 *   the payment attempt of its out_trade_no (paid here: the attempt is
 *   paid or the money is recorded in payment_transactions), a refund line
 *   against the refund of its out_refund_no; the other way, the payments
 *   recorded with a success_time on the day and the refunds completed on
 *   it that no bill line of the channel names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"

#define LEASE "interval '10 minutes'"
#define CHUNK 5000			/* bill lines per INSERT */
#define JOB_RETRY_S 600			/* a failed day, again after */

static struct gym_stmt st_claim = { "recon_claim",
	"INSERT INTO recon_runs (channel, bill_date, state, claim_token, lease_until, started_at) "
	"VALUES ($1, $2::date, 'running', $3, $4::timestamptz + " LEASE ", $4::timestamptz) "
	"ON CONFLICT (channel, bill_date) DO UPDATE SET state = 'running', "
	" claim_token = EXCLUDED.claim_token, lease_until = EXCLUDED.lease_until, "
	" tries = recon_runs.tries + 1, started_at = EXCLUDED.started_at, "
	" error_code = NULL, error_message = NULL, finished_at = NULL "
	"WHERE (recon_runs.state = 'failed' AND recon_runs.finished_at <= "
	"  $4::timestamptz - make_interval(secs => $6::int)) "
	" OR (recon_runs.state = 'running' AND recon_runs.lease_until < $4::timestamptz) "
	" OR ($5::boolean AND recon_runs.state = 'done') "
	"RETURNING id", 0 };

static struct gym_stmt st_fail = { "recon_fail",
	"UPDATE recon_runs SET state = 'failed', error_code = $3, error_message = $4, "
	" finished_at = $5::timestamptz WHERE id = $1::bigint AND claim_token = $2 "
	" AND state = 'running'", 0 };

static struct gym_stmt st_bad_file = { "recon_bad_file",
	"INSERT INTO recon_discrepancies (run_id, channel, bill_date, kind, evidence, created_at) "
	"SELECT id, channel, bill_date, 'bad_file', jsonb_build_object('error_code', $3::text, "
	" 'why', $4::text), $5::timestamptz FROM recon_runs "
	"WHERE id = $1::bigint AND claim_token = $2 ON CONFLICT DO NOTHING", 0 };

static struct gym_stmt st_own = { "recon_own",
	"SELECT id FROM recon_runs WHERE id = $1::bigint AND claim_token = $2 "
	" AND state = 'running' FOR UPDATE", 0 };

static struct gym_stmt st_clear = { "recon_clear",
	"WITH l AS (DELETE FROM recon_lines WHERE run_id = $1::bigint) "
	"DELETE FROM recon_discrepancies WHERE run_id = $1::bigint AND resolved_at IS NULL "
	" AND kind <> 'bad_file'", 0 };

/* a whole bill now: the bad file of an earlier try is settled */
static struct gym_stmt st_settle_bad = { "recon_settle_bad",
	"UPDATE recon_discrepancies SET resolved_at = $2::timestamptz, "
	" resolution_note = 'a later download of the bill was whole' "
	"WHERE run_id = $1::bigint AND kind = 'bad_file' AND resolved_at IS NULL", 0 };

/* the lines, each with the order its out_trade_no names here (or NULL) */
static struct gym_stmt st_lines = { "recon_lines",
	"INSERT INTO recon_lines (run_id, channel, bill_date, kind, traded_at, transaction_id, "
	" out_trade_no, trade_state, refund_id, out_refund_no, refund_state, amount_fen, fee_fen, "
	" order_id) "
	"SELECT r.id, r.channel, r.bill_date, u.kind, u.t::timestamp AT TIME ZONE 'Asia/Shanghai', "
	" u.txid, u.otn, u.st, NULLIF(u.rid, ''), NULLIF(u.orn, ''), NULLIF(u.rst, ''), u.amt, u.fee, "
	" a.order_id "
	"FROM recon_runs r CROSS JOIN unnest($2::text[], $3::text[], $4::text[], $5::text[], "
	" $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[]) "
	" AS u(kind, t, txid, otn, st, rid, orn, rst, amt, fee) "
	"LEFT JOIN payment_attempts a ON a.out_trade_no = u.otn AND a.channel = r.channel "
	"WHERE r.id = $1::bigint", 0 };

/* fresh statistics for the matching (a 100,000-row bill otherwise gets a
 * nested-loop plan from the empty table's) */
static struct gym_stmt st_analyze = { "recon_analyze", "ANALYZE recon_lines", 0 };

/* The discrepancies, one statement each kind; $1 run, $2 now. */
#define DISC_COLS "INSERT INTO recon_discrepancies (run_id, channel, bill_date, kind, " \
	"out_trade_no, out_refund_no, order_id, bill_amount_fen, our_amount_fen, bill_state, " \
	"our_state, evidence, created_at) "
#define LINE_JSON "(to_jsonb(l) - 'id' - 'run_id')"
#define PAID_HERE "(coalesce(a.state = 'paid', false) OR EXISTS (SELECT 1 FROM " \
	"payment_transactions t WHERE t.transaction_id = l.transaction_id))"
#define DAY_START "(rr.bill_date::timestamp AT TIME ZONE 'Asia/Shanghai')"
#define DAY_END "((rr.bill_date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')"

static struct gym_stmt st_disc[] = {
	/* paid there, unknown or not paid here: money with no seat */
	{ "recon_d_pay_here", DISC_COLS
	"SELECT l.run_id, l.channel, l.bill_date, 'missing_here', l.out_trade_no, NULL, a.order_id, "
	" l.amount_fen, NULL, l.trade_state, coalesce(a.state, 'unknown'), "
	" jsonb_build_object('bill', " LINE_JSON ", 'attempt', CASE WHEN a.id IS NULL THEN NULL "
	"  ELSE jsonb_build_object('order_id', a.order_id, 'state', a.state, "
	"  'transaction_id', a.transaction_id) END), $2::timestamptz "
	"FROM recon_lines l LEFT JOIN payment_attempts a ON a.out_trade_no = l.out_trade_no "
	" AND a.channel = l.channel "
	"WHERE l.run_id = $1::bigint AND l.kind = 'payment' AND l.trade_state = 'SUCCESS' "
	" AND NOT " PAID_HERE " ON CONFLICT DO NOTHING", 0 },
	/* paid here, the bill says otherwise (REVOKED, ...) */
	{ "recon_d_pay_state", DISC_COLS
	"SELECT l.run_id, l.channel, l.bill_date, 'status_mismatch', l.out_trade_no, NULL, "
	" a.order_id, l.amount_fen, o.amount_fen, l.trade_state, 'paid', "
	" jsonb_build_object('bill', " LINE_JSON ", 'attempt', jsonb_build_object('order_id', "
	" a.order_id, 'state', a.state)), $2::timestamptz "
	"FROM recon_lines l JOIN payment_attempts a ON a.out_trade_no = l.out_trade_no "
	" AND a.channel = l.channel JOIN payment_orders o ON o.order_id = a.order_id "
	"WHERE l.run_id = $1::bigint AND l.kind = 'payment' AND l.trade_state <> 'SUCCESS' "
	" AND " PAID_HERE " ON CONFLICT DO NOTHING", 0 },
	{ "recon_d_pay_amount", DISC_COLS
	"SELECT l.run_id, l.channel, l.bill_date, 'amount_mismatch', l.out_trade_no, NULL, "
	" a.order_id, l.amount_fen, o.amount_fen, l.trade_state, a.state, "
	" jsonb_build_object('bill', " LINE_JSON ", 'order', jsonb_build_object('order_id', "
	" o.order_id, 'amount_fen', o.amount_fen, 'status', o.status)), $2::timestamptz "
	"FROM recon_lines l JOIN payment_attempts a ON a.out_trade_no = l.out_trade_no "
	" AND a.channel = l.channel JOIN payment_orders o ON o.order_id = a.order_id "
	"WHERE l.run_id = $1::bigint AND l.kind = 'payment' AND l.amount_fen <> o.amount_fen "
	" AND " PAID_HERE " ON CONFLICT DO NOTHING", 0 },
	{ "recon_d_ref_here", DISC_COLS
	"SELECT l.run_id, l.channel, l.bill_date, 'missing_here', l.out_trade_no, l.out_refund_no, "
	" l.order_id, l.amount_fen, NULL, l.refund_state, 'unknown', "
	" jsonb_build_object('bill', " LINE_JSON "), $2::timestamptz "
	"FROM recon_lines l WHERE l.run_id = $1::bigint AND l.kind = 'refund' "
	" AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.out_refund_no = l.out_refund_no) "
	" ON CONFLICT DO NOTHING", 0 },
	{ "recon_d_ref_state", DISC_COLS
	"SELECT l.run_id, l.channel, l.bill_date, 'status_mismatch', l.out_trade_no, "
	" l.out_refund_no, r.order_id, l.amount_fen, r.amount_fen, l.refund_state, r.status, "
	" jsonb_build_object('bill', " LINE_JSON ", 'refund', jsonb_build_object('order_id', "
	" r.order_id, 'status', r.status, 'amount_fen', r.amount_fen)), $2::timestamptz "
	"FROM recon_lines l JOIN refunds r ON r.out_refund_no = l.out_refund_no "
	"WHERE l.run_id = $1::bigint AND l.kind = 'refund' "
	" AND (l.refund_state = 'SUCCESS') <> (r.status = 'success') ON CONFLICT DO NOTHING", 0 },
	{ "recon_d_ref_amount", DISC_COLS
	"SELECT l.run_id, l.channel, l.bill_date, 'amount_mismatch', l.out_trade_no, "
	" l.out_refund_no, r.order_id, l.amount_fen, r.amount_fen, l.refund_state, r.status, "
	" jsonb_build_object('bill', " LINE_JSON ", 'refund', jsonb_build_object('order_id', "
	" r.order_id, 'status', r.status, 'amount_fen', r.amount_fen)), $2::timestamptz "
	"FROM recon_lines l JOIN refunds r ON r.out_refund_no = l.out_refund_no "
	"WHERE l.run_id = $1::bigint AND l.kind = 'refund' AND l.amount_fen <> r.amount_fen "
	" ON CONFLICT DO NOTHING", 0 },
	/* paid here on the day, in no bill of the channel */
	{ "recon_d_pay_there", DISC_COLS
	"SELECT rr.id, rr.channel, rr.bill_date, 'missing_there', a.out_trade_no, NULL, "
	" a.order_id, NULL, t.amount_fen, NULL, a.state, "
	" jsonb_build_object('transaction', to_jsonb(t) - 'payload'), $2::timestamptz "
	"FROM recon_runs rr JOIN payment_attempts a ON a.channel = rr.channel "
	" JOIN payment_transactions t ON t.transaction_id = a.transaction_id "
	"WHERE rr.id = $1::bigint AND t.success_time >= " DAY_START
	" AND t.success_time < " DAY_END
	" AND NOT EXISTS (SELECT 1 FROM recon_lines l WHERE l.channel = rr.channel "
	"  AND l.kind = 'payment' AND l.transaction_id = t.transaction_id) "
	" ON CONFLICT DO NOTHING", 0 },
	{ "recon_d_ref_there", DISC_COLS
	"SELECT rr.id, rr.channel, rr.bill_date, 'missing_there', o.out_trade_no, r.out_refund_no, "
	" r.order_id, NULL, r.amount_fen, NULL, r.status, "
	" jsonb_build_object('refund', to_jsonb(r)), $2::timestamptz "
	"FROM recon_runs rr JOIN payment_orders o ON o.payment_method = rr.channel "
	" JOIN refunds r ON r.order_id = o.order_id "
	"WHERE rr.id = $1::bigint AND r.status = 'success' AND r.completed_at >= " DAY_START
	" AND r.completed_at < " DAY_END
	" AND NOT EXISTS (SELECT 1 FROM recon_lines l WHERE l.channel = rr.channel "
	"  AND l.kind = 'refund' AND l.out_refund_no = r.out_refund_no) "
	" ON CONFLICT DO NOTHING", 0 },
};
#define NDISC (sizeof(st_disc) / sizeof(st_disc[0]))

static struct gym_stmt st_done = { "recon_done",
	"UPDATE recon_runs r SET state = 'done', finished_at = $2::timestamptz, "
	" bill_rows = (SELECT count(*) FROM recon_lines WHERE run_id = r.id), "
	" discrepancies = (SELECT count(*) FROM recon_discrepancies WHERE run_id = r.id "
	"  AND resolved_at IS NULL), "
	" matched = (SELECT count(*) FROM recon_lines l WHERE l.run_id = r.id AND NOT EXISTS "
	"  (SELECT 1 FROM recon_discrepancies d WHERE d.run_id = r.id AND d.resolved_at IS NULL "
	"  AND d.out_trade_no = l.out_trade_no "
	"  AND coalesce(d.out_refund_no, '') = coalesce(l.out_refund_no, ''))), "
	" gross_fen = $3::bigint, refund_fen = $4::bigint, fee_fen = $5::bigint, "
	" fund_in_fen = $6::bigint, fund_out_fen = $7::bigint "
	"WHERE id = $1::bigint RETURNING discrepancies", 0 };

static struct gym_stmt st_get = { "recon_get",
	"SELECT r.id, r.channel, r.bill_date::text AS bill_date, r.state, r.bill_rows, r.matched, "
	" r.discrepancies, r.gross_fen, r.refund_fen, r.fee_fen, "
	" coalesce(r.fund_in_fen, 0) AS fund_in_fen, coalesce(r.fund_out_fen, 0) AS fund_out_fen, "
	" (r.fund_in_fen IS NOT NULL)::int AS have_fund_flow, "
	" coalesce(r.error_code, '') AS error_code, coalesce(r.error_message, '') AS error_message, "
	" (SELECT count(*) FROM recon_discrepancies d WHERE d.run_id = r.id "
	"  AND d.resolved_at IS NULL) AS unresolved "
	"FROM recon_runs r WHERE r.channel = $1 AND r.bill_date = $2::date", 0 };

/* ---- array parameters ---- */

struct arr {
	char *s;
	size_t len;
	FILE *f;
	int n;
};

static int
arr_open(struct arr *a)
{
	memset(a, 0, sizeof(*a));
	if ((a->f = open_memstream(&a->s, &a->len)) == NULL)
		return -1;
	fputc('{', a->f);
	return 0;
}

/* One element, quoted (the bill's text is ours to escape). */
static void
arr_text(struct arr *a, const char *v)
{
	if (a->n++ > 0)
		fputc(',', a->f);
	fputc('"', a->f);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', a->f);
		fputc(*v, a->f);
	}
	fputc('"', a->f);
}

static void
arr_num(struct arr *a, long long v)
{
	if (a->n++ > 0)
		fputc(',', a->f);
	fprintf(a->f, "%lld", v);
}

static int
arr_close(struct arr *a)
{
	fputc('}', a->f);
	if (fclose(a->f) != 0) {
		a->f = NULL;
		return -1;
	}
	a->f = NULL;
	return a->s != NULL ? 0 : -1;
}

static void
arr_free(struct arr *a)
{
	if (a->f != NULL)
		fclose(a->f);
	free(a->s);
	a->s = NULL;
	a->f = NULL;
}

/* ---- the write of a good bill ---- */

struct write_ctx {
	const char *run_id, *token;
	const struct gym_bill *bill;
	const struct gym_fundflow *ff;	/* NULL when none */
	long long discrepancies;
};

static enum gym_err
insert_lines(struct gym_db *db, const char *run_id, const struct gym_bill *b, size_t from,
    size_t to)
{
	struct arr a[10];
	const char *p[11];
	enum gym_err e = GYM_ENOMEM;
	size_t i;
	int k, opened = 0;

	for (k = 0; k < 10; k++, opened++)
		if (arr_open(&a[k]) != 0)
			goto out;
	for (i = from; i < to; i++) {
		const struct gym_bill_row *r = &b->rows[i];

		arr_text(&a[0], r->refund ? "refund" : "payment");
		arr_text(&a[1], r->time);
		arr_text(&a[2], r->transaction_id);
		arr_text(&a[3], r->out_trade_no);
		arr_text(&a[4], r->trade_state);
		arr_text(&a[5], r->refund_id);
		arr_text(&a[6], r->out_refund_no);
		arr_text(&a[7], r->refund_state);
		arr_num(&a[8], r->amount_fen);
		arr_num(&a[9], r->fee_fen);
	}
	for (k = 0; k < 10; k++)
		if (arr_close(&a[k]) != 0)
			goto out;
	p[0] = run_id;
	for (k = 0; k < 10; k++)
		p[k + 1] = a[k].s;
	e = gym_db_exec(db, &st_lines, 11, p, NULL);
out:
	for (k = 0; k < opened; k++)
		arr_free(&a[k]);
	return e;
}

static enum gym_err
write_tx(struct gym_db *db, void *arg)
{
	struct write_ctx *w = arg;
	const struct gym_bill *b = w->bill;
	char now[40], gross[24], refund[24], fee[24], fin[24], fout[24];
	const char *own[2] = { w->run_id, w->token };
	const char *pn[2] = { w->run_id, now };
	const char *pd[7] = { w->run_id, now, gross, refund, fee,
	    w->ff != NULL ? fin : NULL, w->ff != NULL ? fout : NULL };
	PGresult *res = NULL;
	enum gym_err e;
	size_t i;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_own, 2, own, &res)) != GYM_OK)
		return e;
	i = (size_t)PQntuples(res);
	PQclear(res);
	if (i == 0)
		return GYM_ECONFLICT;	/* the claim lapsed and someone else has it */
	if ((e = gym_db_exec(db, &st_clear, 1, own, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_settle_bad, 2, pn, NULL)) != GYM_OK)
		return e;
	for (i = 0; i < b->n; i += CHUNK)
		if ((e = insert_lines(db, w->run_id, b, i, i + CHUNK < b->n ? i + CHUNK : b->n)) !=
		    GYM_OK)
			return e;
	if (b->n >= 1000 && (e = gym_db_exec(db, &st_analyze, 0, NULL, NULL)) != GYM_OK)
		return e;
	for (i = 0; i < NDISC; i++)
		if ((e = gym_db_exec(db, &st_disc[i], 2, pn, NULL)) != GYM_OK)
			return e;
	snprintf(gross, sizeof(gross), "%lld", b->gross_fen);
	snprintf(refund, sizeof(refund), "%lld", b->refund_fen);
	snprintf(fee, sizeof(fee), "%lld", b->fee_fen);
	if (w->ff != NULL) {
		snprintf(fin, sizeof(fin), "%lld", w->ff->in_fen);
		snprintf(fout, sizeof(fout), "%lld", w->ff->out_fen);
	}
	if ((e = gym_db_exec(db, &st_done, 7, pd, &res)) != GYM_OK)
		return e;
	w->discrepancies = PQntuples(res) == 1 ? gym_db_get_ll(res, 0, "discrepancies") : 0;
	PQclear(res);
	return GYM_OK;
}

/* ---- the day ---- */


/* Mark the claimed day failed; a bad file also leaves a discrepancy. */
static void
fail_day(struct gym_db *db, const char *run_id, const char *token, const char *code,
    const char *why, int bad_file, struct gym_recon_summary *out)
{
	char now[40];
	const char *p[5] = { run_id, token, code, why, now };

	gym_db_now_param(now, sizeof(now));
	if (gym_db_exec(db, &st_fail, 5, p, NULL) != GYM_OK)
		gym_log_warnx("reconcile %s %s: could not mark the day failed", out->channel,
		    out->date);
	if (bad_file) {
		if (gym_db_exec(db, &st_bad_file, 5, p, NULL) != GYM_OK)
			gym_log_warnx("reconcile %s %s: could not record the bad file",
			    out->channel, out->date);
		else
			gym_metrics_add("recon_discrepancies", 1);
	}
	snprintf(out->state, sizeof(out->state), "failed");
	snprintf(out->error_code, sizeof(out->error_code), "%s", code);
	snprintf(out->error_message, sizeof(out->error_message), "%s", why);
	gym_log_warnx("reconcile %s %s: failed: %s: %s", out->channel, out->date, code, why);
}

/* Fetch one bill; GYM_OK, or the failure recorded (fail_day). */
static enum gym_err
fetch(struct gym_channel *ch, enum gym_bill_kind kind, const char *date, char **text,
    size_t *len, int *bad_file)
{
	const struct gym_channel_error *ce;
	enum gym_err e = gym_channel_bill(ch, kind, date, text, len);

	ce = gym_channel_last_error(ch);
	*bad_file = e == GYM_EUPSTREAM && (strcmp(ce->code, "BAD_FILE") == 0 ||
	    strcmp(ce->code, "BAD_HASH") == 0);
	return e;
}

static enum gym_err
claim(struct gym_db *db, const char *channel, const char *date, int force, int retry_after_s,
    char *run_id, size_t idlen, char *token)
{
	char now[40], due[16];
	const char *p[6] = { channel, date, token, now, force ? "true" : "false", due };
	PGresult *res = NULL;
	enum gym_err e;

	if ((e = gym_random_alnum(token, 24)) != GYM_OK)
		return e;
	gym_db_now_param(now, sizeof(now));
	snprintf(due, sizeof(due), "%d", retry_after_s);
	if ((e = gym_db_exec(db, &st_claim, 6, p, &res)) != GYM_OK)
		return e;
	run_id[0] = '\0';
	if (PQntuples(res) == 1)
		gym_db_copy(res, 0, "id", run_id, idlen);
	PQclear(res);
	return GYM_OK;
}

static enum gym_err
recon_day(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg,
    const char *channel, const char *date, int force, int retry_after_s,
    struct gym_recon_summary *out)
{
	struct gym_channel *ch = NULL;
	struct gym_bill bill;
	struct gym_fundflow ff;
	struct write_ctx w;
	char run_id[24], token[25], why[256], *text = NULL;
	size_t len = 0;
	int bad_file = 0, have_ff = 0;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	memset(&bill, 0, sizeof(bill));
	snprintf(out->channel, sizeof(out->channel), "%s", channel != NULL ? channel : "");
	snprintf(out->date, sizeof(out->date), "%s", date != NULL ? date : "");
	if (!gym_bill_date_ok(date) || channel == NULL)
		return GYM_EINVAL;
	if ((e = gym_channels_get(chans, cfg, channel, &ch)) != GYM_OK)
		return e == GYM_E_UNKNOWN_CHANNEL ? GYM_EINVAL : e;
	if (!gym_channel_has_bill(ch))
		return GYM_EINVAL;
	if ((e = claim(db, channel, date, force, retry_after_s, run_id, sizeof(run_id),
	    token)) != GYM_OK)
		return e;
	if (run_id[0] == '\0')			/* done already, or someone's on it */
		return gym_recon_get(db, channel, date, out);
	out->fetched = 1;
	/* the trade bill: a day with nothing at the channel is an empty bill */
	e = fetch(ch, GYM_BILL_TRADES, date, &text, &len, &bad_file);
	if (e == GYM_ENOTFOUND)
		e = GYM_OK;
	else if (e == GYM_OK && (e = gym_bill_parse(channel, text, len, &bill, why,
	    sizeof(why))) != GYM_OK) {
		if (e == GYM_EINVAL)
			fail_day(db, run_id, token, "BAD_FILE", why, 1, out);
		goto out;
	}
	if (e != GYM_OK) {
		fail_day(db, run_id, token, gym_channel_last_error(ch)->code,
		    gym_channel_last_error(ch)->message, bad_file, out);
		goto out;
	}
	free(text);
	text = NULL;
	/* the fund-flow bill: its totals beside the trade bill's */
	e = fetch(ch, GYM_BILL_FUNDFLOW, date, &text, &len, &bad_file);
	if (e == GYM_OK) {
		if ((e = gym_bill_parse_fundflow(channel, text, len, &ff, why,
		    sizeof(why))) != GYM_OK) {
			fail_day(db, run_id, token, "BAD_FILE", why, 1, out);
			goto out;
		}
		have_ff = 1;
	} else if (e != GYM_ENOTFOUND) {
		fail_day(db, run_id, token, gym_channel_last_error(ch)->code,
		    gym_channel_last_error(ch)->message, bad_file, out);
		goto out;
	}
	w = (struct write_ctx){ run_id, token, &bill, have_ff ? &ff : NULL, 0 };
	if ((e = gym_db_tx(db, write_tx, &w)) != GYM_OK) {
		if (e != GYM_ECONFLICT)
			fail_day(db, run_id, token, "DB", gym_strerror(e), 0, out);
		goto out;
	}
	if (w.discrepancies > 0)
		gym_metrics_add("recon_discrepancies", (long)w.discrepancies);
	gym_metrics_add("recon_days", 1);
	if ((e = gym_recon_get(db, channel, date, out)) == GYM_OK) {
		out->fetched = 1;
		gym_log_infox("reconcile %s %s: done: %lld bill rows, %lld matched, "
		    "%lld discrepancies", channel, date, out->bill_rows, out->matched,
		    out->discrepancies);
	}
out:
	gym_bill_free(&bill);
	free(text);
	if (e == GYM_EINVAL)
		e = GYM_EUPSTREAM;		/* a bad file: the channel's fault */
	return e;
}

enum gym_err
gym_recon_day(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg,
    const char *channel, const char *date, int force, struct gym_recon_summary *out)
{
	return recon_day(db, chans, cfg, channel, date, force, 0, out);
}

enum gym_err
gym_recon_day_text(struct gym_db *db, const char *channel, const char *date, const char *text,
    size_t len, struct gym_recon_summary *out)
{
	struct gym_bill bill;
	struct write_ctx w;
	char run_id[24], token[25], why[256];
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	snprintf(out->channel, sizeof(out->channel), "%s", channel);
	snprintf(out->date, sizeof(out->date), "%s", date);
	if (!gym_bill_date_ok(date))
		return GYM_EINVAL;
	if ((e = claim(db, channel, date, 1, 0, run_id, sizeof(run_id), token)) != GYM_OK)
		return e;
	if (run_id[0] == '\0')
		return gym_recon_get(db, channel, date, out);
	out->fetched = 1;
	if ((e = gym_bill_parse(channel, text, len, &bill, why, sizeof(why))) != GYM_OK) {
		if (e == GYM_EINVAL)
			fail_day(db, run_id, token, "BAD_FILE", why, 1, out);
		return e;
	}
	w = (struct write_ctx){ run_id, token, &bill, NULL, 0 };
	e = gym_db_tx(db, write_tx, &w);
	gym_bill_free(&bill);
	if (e != GYM_OK) {
		if (e != GYM_ECONFLICT)
			fail_day(db, run_id, token, "DB", gym_strerror(e), 0, out);
		return e;
	}
	return gym_recon_get(db, channel, date, out);
}

enum gym_err
gym_recon_get(struct gym_db *db, const char *channel, const char *date,
    struct gym_recon_summary *out)
{
	const char *p[2] = { channel, date };
	PGresult *res = NULL;
	enum gym_err e;

	memset(out, 0, sizeof(*out));
	snprintf(out->channel, sizeof(out->channel), "%s", channel);
	snprintf(out->date, sizeof(out->date), "%s", date);
	if (!gym_bill_date_ok(date))
		return GYM_EINVAL;
	if ((e = gym_db_exec(db, &st_get, 2, p, &res)) != GYM_OK)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return GYM_ENOTFOUND;
	}
	out->run_id = gym_db_get_ll(res, 0, "id");
	gym_db_copy(res, 0, "state", out->state, sizeof(out->state));
	out->bill_rows = gym_db_get_ll(res, 0, "bill_rows");
	out->matched = gym_db_get_ll(res, 0, "matched");
	out->discrepancies = gym_db_get_ll(res, 0, "discrepancies");
	out->unresolved = gym_db_get_ll(res, 0, "unresolved");
	out->gross_fen = gym_db_get_ll(res, 0, "gross_fen");
	out->refund_fen = gym_db_get_ll(res, 0, "refund_fen");
	out->fee_fen = gym_db_get_ll(res, 0, "fee_fen");
	out->fund_in_fen = gym_db_get_ll(res, 0, "fund_in_fen");
	out->fund_out_fen = gym_db_get_ll(res, 0, "fund_out_fen");
	out->have_fund_flow = gym_db_get_ll(res, 0, "have_fund_flow") != 0;
	gym_db_copy(res, 0, "error_code", out->error_code, sizeof(out->error_code));
	gym_db_copy(res, 0, "error_message", out->error_message, sizeof(out->error_message));
	PQclear(res);
	return GYM_OK;
}

/* Minutes after China midnight of hh:mm, or -1. */
static int
minutes_of(const char *hhmm)
{
	int h, m;
	char tail;

	if (hhmm == NULL || sscanf(hhmm, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 ||
	    m < 0 || m > 59)
		return -1;
	return h * 60 + m;
}

/* The days of channel the job owes, oldest first: those from first to
 * last not done, none before the channel's first run (a fresh install
 * starts with last alone). */
static struct gym_stmt st_due = { "recon_due",
	"SELECT g.d::date::text AS day FROM generate_series($2::date, $3::date, "
	" interval '1 day') AS g(d) "
	"WHERE g.d::date >= coalesce((SELECT min(bill_date) FROM recon_runs "
	"  WHERE channel = $1), $3::date) "
	" AND NOT EXISTS (SELECT 1 FROM recon_runs r WHERE r.channel = $1 "
	"  AND r.bill_date = g.d::date AND r.state = 'done') "
	"ORDER BY 1", 0 };

int
gym_recon_job_run(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg)
{
	struct gym_recon_summary s;
	const struct gym_channel_ops *ops;
	char now[40], yday[40], first[40], day[11];
	const char *p[3] = { NULL, first, yday };
	PGresult *res;
	int64_t us = gym_now_us();
	int at = minutes_of(cfg->reconcile_bill_time), n = 0, back, row;
	size_t i;

	if (at < 0)
		return 0;		/* off */
	gym_time_format_cst(us, now, sizeof(now));	/* 2026-12-04T10:30:00+08:00 */
	if ((now[11] - '0') * 600 + (now[12] - '0') * 60 + (now[14] - '0') * 10 +
	    (now[15] - '0') < at)
		return 0;
	back = cfg->reconcile_catchup_days > 0 ? cfg->reconcile_catchup_days : 1;
	gym_time_format_cst(us - 86400LL * 1000000, yday, sizeof(yday));
	gym_time_format_cst(us - 86400LL * 1000000 * back, first, sizeof(first));
	yday[10] = first[10] = '\0';
	for (i = 0; (ops = gym_channel_nth(i)) != NULL; i++) {
		if (ops->bill == NULL)
			continue;
		p[0] = ops->name;
		/* the days not done (a failed one waits out its retry in the claim) */
		if (gym_db_exec(db, &st_due, 3, p, &res) != GYM_OK)
			continue;
		for (row = 0; row < PQntuples(res); row++) {
			gym_db_copy(res, row, "day", day, sizeof(day));
			if (recon_day(db, chans, cfg, ops->name, day, 0, JOB_RETRY_S, &s) ==
			    GYM_OK && s.fetched)
				n++;
		}
		PQclear(res);
	}
	return n;
}

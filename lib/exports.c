/*
 * exports.c: the accountant's CSV files (exports.h).  PostgreSQL writes
 * each cell as text (China time, yuan with two decimals); this file writes
 * the header from the column names and quotes every cell (csv.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "exports.h"
#include "recon_report.h"

#define CST(col) "to_char(" col " AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')"
#define YUAN(col) "to_char((" col ") / 100.0, 'FM999999990.00')"
/* $1 from, $2 to: the range's bounds as instants */
#define LO "($1::date::timestamp AT TIME ZONE 'Asia/Shanghai')"
#define HI "(($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')"

static struct gym_stmt st_payments = { "export_payments",
	"SELECT " CST("t.success_time") " AS paid_at_cst, o.order_id, "
	" coalesce(a.out_trade_no, o.order_id) AS out_trade_no, t.transaction_id, "
	" coalesce(a.channel, o.payment_method) AS channel, coalesce(t.trade_type, a.trade_type, '') "
	" AS trade_type, coalesce(p.kind, '') AS product_kind, coalesce(p.name, '') AS product, "
	" " YUAN("t.amount_fen") " AS amount_yuan, t.amount_fen, "
	" coalesce((SELECT sum(r.amount_fen) FROM refunds r WHERE r.order_id = o.order_id "
	"  AND r.status = 'success'), 0) AS refunded_fen, o.status AS order_status, t.outcome "
	"FROM payment_transactions t JOIN payment_orders o ON o.order_id = t.order_id "
	"LEFT JOIN payment_attempts a ON a.transaction_id = t.transaction_id "
	"LEFT JOIN products p ON p.id = o.product_id "
	"WHERE t.success_time >= " LO " AND t.success_time < " HI
	" AND ($3::text IS NULL OR coalesce(a.channel, o.payment_method) = $3) "
	"ORDER BY t.success_time, t.id LIMIT $4::int", 0 };

static struct gym_stmt st_refunds = { "export_refunds",
	"SELECT " CST("r.created_at") " AS asked_at_cst, "
	" coalesce(" CST("r.completed_at") ", '') AS refunded_at_cst, r.out_refund_no, r.order_id, "
	" o.payment_method AS channel, coalesce(p.name, '') AS product, "
	" " YUAN("r.amount_fen") " AS amount_yuan, r.amount_fen, r.status, r.reason, "
	" r.initiated_by, coalesce(op.name, '') AS operator "
	"FROM refunds r JOIN payment_orders o ON o.order_id = r.order_id "
	"LEFT JOIN products p ON p.id = o.product_id "
	"LEFT JOIN operators op ON op.id = r.operator_id "
	"WHERE coalesce(r.completed_at, r.created_at) >= " LO
	" AND coalesce(r.completed_at, r.created_at) < " HI
	" AND ($3::text IS NULL OR o.payment_method = $3) "
	"ORDER BY r.created_at, r.id LIMIT $4::int", 0 };

/* the lines of the channel's day (one run a channel and day: a rerun
 * replaces its lines), each with what it matched: the order, and "matched"
 * or the kind of its discrepancy.  $2 is the same day as $1. */
static struct gym_stmt st_bill = { "export_bill",
	"SELECT l.bill_date::text AS bill_date, " CST("l.traded_at") " AS traded_at_cst, l.kind, "
	" l.transaction_id, l.out_trade_no, coalesce(l.out_refund_no, '') AS out_refund_no, "
	" l.trade_state, coalesce(l.refund_state, '') AS refund_state, "
	" " YUAN("l.amount_fen") " AS amount_yuan, l.amount_fen, " YUAN("l.fee_fen")
	" AS fee_yuan, l.fee_fen, coalesce(l.order_id, '') AS order_id, "
	" coalesce((SELECT d.kind FROM recon_discrepancies d WHERE d.run_id = l.run_id "
	"  AND d.out_trade_no = l.out_trade_no "
	"  AND d.out_refund_no IS NOT DISTINCT FROM l.out_refund_no ORDER BY d.id LIMIT 1), "
	"  'matched') AS match "
	"FROM recon_lines l WHERE l.bill_date = $1::date AND l.channel = $3 "
	" AND l.bill_date = $2::date "
	"ORDER BY l.traded_at, l.id LIMIT $4::int", 0 };

static int
channel_ok(const char *c)
{
	return c != NULL && (strcmp(c, "wechat") == 0 || strcmp(c, "alipay") == 0);
}

enum gym_err
gym_export_csv(struct gym_db *db, enum gym_export kind, const char *from, const char *to,
    const char *channel, struct gym_csv *out)
{
	struct gym_stmt *st = kind == GYM_EXPORT_PAYMENTS ? &st_payments :
	    kind == GYM_EXPORT_REFUNDS ? &st_refunds : &st_bill;
	char lim[16];
	const char *p[4];
	PGresult *r = NULL;
	enum gym_err e;
	int rows, cols, rc;

	memset(out, 0, sizeof(*out));
	if (kind == GYM_EXPORT_BILL) {
		if (!gym_bill_date_ok(from) || !channel_ok(channel))
			return GYM_EINVAL;
		to = from;
	} else if (!gym_bill_date_ok(from) || !gym_bill_date_ok(to) ||
	    gym_days_between(from, to) < 0 || gym_days_between(from, to) >= GYM_EXPORT_MAX_DAYS ||
	    (channel != NULL && !channel_ok(channel)))
		return GYM_EINVAL;
	snprintf(lim, sizeof(lim), "%d", GYM_EXPORT_MAX_ROWS + 1);
	p[0] = from;
	p[1] = to;
	p[2] = channel;
	p[3] = lim;
	if ((e = gym_db_exec(db, st, 4, p, &r)) != GYM_OK)
		return e;
	rows = PQntuples(r);
	cols = PQnfields(r);
	if (rows > GYM_EXPORT_MAX_ROWS) {
		PQclear(r);
		return GYM_EINVAL;
	}
	rc = gym_csv_begin(out);
	for (int j = 0; j < cols; j++)
		rc |= gym_csv_field(out, PQfname(r, j), j == cols - 1);
	for (int i = 0; i < rows && rc == 0; i++)
		for (int j = 0; j < cols; j++)
			rc |= gym_csv_field(out, PQgetvalue(r, i, j), j == cols - 1);
	PQclear(r);
	if (rc != 0) {
		free(out->p);
		memset(out, 0, sizeof(*out));
		return GYM_ENOMEM;
	}
	return GYM_OK;
}

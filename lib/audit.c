/*
 * audit.c: payment_audit_log rows.  Written inside the transaction of the
 * change they record, so a change and its audit row commit together or not
 * at all.  Snapshots given here must already be masked (no openid, token
 * or code): see gym_json_mask().
 */
#include <stdio.h>

#include "booking.h"

static struct gym_stmt st_audit = { "audit_insert",
	"INSERT INTO payment_audit_log (entity, action_type, order_id, reservation_id, "
	"booking_id, actor_type, actor_id, client_ip, user_agent, request_id, old_status, "
	"new_status, request_snapshot, response_snapshot, created_at) "
	"VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6, $7, $8, left($9, 512), $10, $11, $12, "
	"$13::jsonb, $14::jsonb, $15::timestamptz)", 0 };

static const char *
ll_or_null(long long v, char *buf, size_t len)
{
	if (v == 0)
		return NULL;
	snprintf(buf, len, "%lld", v);
	return buf;
}

enum gym_err
gym_audit_write(struct gym_db *db, const struct gym_actor *a, const struct gym_audit *au)
{
	char res[24], book[24], actor[24], now[40];
	const char *p[15];

	gym_db_now_param(now, sizeof(now));
	p[0] = au->entity;
	p[1] = au->action;
	p[2] = au->order_id;
	p[3] = ll_or_null(au->reservation_id, res, sizeof(res));
	p[4] = ll_or_null(au->booking_id, book, sizeof(book));
	p[5] = a->type;
	p[6] = ll_or_null(a->id, actor, sizeof(actor));
	p[7] = a->client_ip;
	p[8] = a->user_agent;
	p[9] = a->request_id;
	p[10] = au->old_status;
	p[11] = au->new_status;
	p[12] = a->request_snapshot;
	p[13] = au->response_snapshot;
	p[14] = now;
	return gym_db_exec(db, &st_audit, 15, p, NULL);
}

struct record_arg {
	const struct gym_actor *a;
	const struct gym_audit *au;
};

static enum gym_err
record_tx(struct gym_db *db, void *v)
{
	struct record_arg *r = v;

	return gym_audit_write(db, r->a, r->au);
}

enum gym_err
gym_audit_record(struct gym_db *db, const struct gym_actor *a, const struct gym_audit *au)
{
	struct record_arg r = { a, au };

	return gym_db_tx(db, record_tx, &r);
}

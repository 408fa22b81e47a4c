/*
 * attempts.c: see attempts.h.
 */
#include <stdio.h>
#include <string.h>

#include "attempts.h"
#include "extern.h"

static struct gym_stmt st_of_order = { "attempt_of_order",
	"SELECT out_trade_no, trade_type, state FROM payment_attempts WHERE order_id = $1 "
	"ORDER BY id", 0 };
static struct gym_stmt st_end = { "attempt_end",
	"UPDATE payment_attempts SET state = $2, error_code = coalesce($3, error_code), "
	"error_message = coalesce($4, error_message), "
	"transaction_id = coalesce($5, transaction_id), "
	"updated_at = $6::timestamptz, ended_at = $6::timestamptz "
	"WHERE out_trade_no = $1 AND state = 'open' RETURNING order_id", 0 };
static struct gym_stmt st_list = { "attempt_list",
	"SELECT out_trade_no, channel, trade_type, state, transaction_id, error_code, "
	"error_message, (extract(epoch FROM created_at) * 1000000)::bigint AS created_us, "
	"(extract(epoch FROM ended_at) * 1000000)::bigint AS ended_us "
	"FROM payment_attempts WHERE order_id = $1 ORDER BY id LIMIT $2::int", 0 };

enum gym_err
gym_attempt_next(struct gym_db *db, const struct gym_order *o, const char *trade_type,
    char out_trade_no[GYM_OUT_TRADE_NO_LEN], char supersede[GYM_OUT_TRADE_NO_LEN])
{
	const char *p[1] = { o->order_id };
	PGresult *r;
	enum gym_err e;
	int n, open = -1;

	out_trade_no[0] = supersede[0] = '\0';
	if ((e = gym_db_exec(db, &st_of_order, 1, p, &r)) != GYM_OK)
		return e;
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		enum gym_attempt_state st;

		if (!gym_attempt_state_parse(gym_db_get(r, i, "state"), &st))
			e = GYM_EINTERNAL;
		else if (st == GYM_ATTEMPT_OPEN)
			open = i;
	}
	if (e != GYM_OK) {
		PQclear(r);
		return e;
	}
	if (open >= 0 && strcmp(gym_db_get(r, open, "trade_type"), trade_type) == 0)
		gym_db_copy(r, open, "out_trade_no", out_trade_no, GYM_OUT_TRADE_NO_LEN);
	else {
		if (open >= 0)
			gym_db_copy(r, open, "out_trade_no", supersede, GYM_OUT_TRADE_NO_LEN);
		/* the first is the order id (23 characters), then "-2", "-3", ... */
		if (n == 0)
			snprintf(out_trade_no, GYM_OUT_TRADE_NO_LEN, "%s", o->order_id);
		else if (snprintf(out_trade_no, GYM_OUT_TRADE_NO_LEN, "%s-%d", o->order_id, n + 1) >=
		    GYM_OUT_TRADE_NO_LEN)
			e = GYM_ECONFLICT;	/* no out_trade_no left for it */
	}
	PQclear(r);
	return e;
}

enum gym_err
gym__attempt_end(struct gym_db *db, const struct gym_actor *a, const char *out_trade_no,
    enum gym_attempt_state to, const char *transaction_id, const char *code,
    const char *message)
{
	char now[40], action[40], snap[200], oid[GYM_OUT_TRADE_NO_LEN];
	const char *state = gym_attempt_state_name(to);
	const char *p[6] = { out_trade_no, state, code, message, transaction_id, now };
	struct gym_audit au = { "attempt", action, oid, 0, 0,
	    gym_attempt_state_name(GYM_ATTEMPT_OPEN), state, snap };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_end, 6, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_OK;			/* ended before */
	}
	gym_db_copy(r, 0, "order_id", oid, sizeof(oid));
	PQclear(r);
	snprintf(action, sizeof(action), "attempt_%s", state);
	snprintf(snap, sizeof(snap), "{\"out_trade_no\":\"%s\",\"state\":\"%s\"}", out_trade_no,
	    state);
	return gym_audit_write(db, a, &au);
}

struct end_arg {
	const struct gym_actor *actor;
	const char *out_trade_no;
	enum gym_attempt_state state;
	const char *code, *message;
};

static enum gym_err
end_tx(struct gym_db *db, void *v)
{
	struct end_arg *a = v;

	return gym__attempt_end(db, a->actor, a->out_trade_no, a->state, NULL, a->code,
	    a->message);
}

enum gym_err
gym_attempt_end(struct gym_db *db, const struct gym_actor *actor, const char *out_trade_no,
    const char *state, const char *code, const char *message)
{
	struct end_arg a = { actor, out_trade_no, GYM_ATTEMPT_CLOSED, code, message };

	/* only an end: never back to open, never paid without a transaction */
	if (!gym_attempt_state_parse(state, &a.state) || a.state == GYM_ATTEMPT_OPEN ||
	    a.state == GYM_ATTEMPT_PAID)
		return GYM_EINVAL;
	return gym_db_tx(db, end_tx, &a);
}

enum gym_err
gym_attempt_list(struct gym_db *db, const char *order_id, struct gym_attempt *out, int max,
    int *n)
{
	char lim[16];
	const char *p[2] = { order_id, lim };
	PGresult *r;
	enum gym_err e;

	*n = 0;
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_exec(db, &st_list, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && i < max; i++) {
		struct gym_attempt *t = &out[i];

		memset(t, 0, sizeof(*t));
		gym_db_copy(r, i, "out_trade_no", t->out_trade_no, sizeof(t->out_trade_no));
		gym_db_copy(r, i, "channel", t->channel, sizeof(t->channel));
		gym_db_copy(r, i, "trade_type", t->trade_type, sizeof(t->trade_type));
		gym_db_copy(r, i, "state", t->state, sizeof(t->state));
		gym_db_copy(r, i, "transaction_id", t->transaction_id, sizeof(t->transaction_id));
		gym_db_copy(r, i, "error_code", t->error_code, sizeof(t->error_code));
		gym_db_copy(r, i, "error_message", t->error_message, sizeof(t->error_message));
		t->created_at = gym_db_get_ll(r, i, "created_us");
		t->ended_at = gym_db_get_ll(r, i, "ended_us");
		(*n)++;
	}
	PQclear(r);
	return GYM_OK;
}

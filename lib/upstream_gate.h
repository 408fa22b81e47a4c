/*
 * upstream_gate.h: bounds on the requests that wait for WeChat, so one
 * parent (or WeChat answering slowly) cannot take every worker:
 *
 *  - a parent has at most one WeChat-calling request running, across
 *    workers and hosts: a session advisory lock on (GYM_GATE_LOCK_NS,
 *    user_id) taken with pg_try_advisory_lock on the worker's own
 *    connection and released after the call (a dead worker's connection
 *    ends, and the lock with it); a second one answers
 *    GYM_E_TOO_MANY_REQUESTS (429);
 *  - at most cfg->upstream_workers workers of this host are inside a
 *    WeChat call at once (metrics.c's per-child flags); beyond it
 *    GYM_E_BUSY (503, Retry-After);
 *  - a confirm asks WeChat about one order at most once every
 *    cfg->wx_query_spacing_s seconds (gym_gate_query_claim).
 *
 * The use-cases (checkout.c) call these; the doors never do.
 */
#ifndef GYM_UPSTREAM_GATE_H
#define GYM_UPSTREAM_GATE_H

#include "config.h"
#include "db.h"

/* The advisory lock namespace (the first int key): "gymU". */
#define GYM_GATE_LOCK_NS 0x67796d55

struct gym_gate {
	long long user_id;	/* whose lock is held, 0: none */
	int slot;		/* 1: this worker's budget flag is up */
};

/* Enter before calling WeChat: the parent's lock (user_id > 0; 0 for a
 * caller with no user yet, such as a login), then the worker budget.
 * GYM_OK (leave with gym_gate_leave, on every path), GYM_E_TOO_MANY_REQUESTS,
 * GYM_E_BUSY, or a database error; on an error nothing is held. */
enum gym_err gym_gate_enter(struct gym_db *, const struct gym_config *, long long user_id,
    struct gym_gate *);
/* Release what g holds (a no-op for what it does not). */
void gym_gate_leave(struct gym_db *, struct gym_gate *);

/* Claim the right to ask WeChat about a pending order now: one atomic
 * UPDATE of payment_orders.reconciled_at, the column the job's reconcile
 * claim uses, so hosts, workers and the job agree.  *claimed 1 when it was
 * last asked spacing_s or more seconds ago (or never), else 0.  The job
 * asks about an order wx.reconcile_after_s after the last question, so a
 * parent who keeps asking delays the job's question, never the order's. */
enum gym_err gym_gate_query_claim(struct gym_db *, const char *order_id, int spacing_s,
    int *claimed);

#endif

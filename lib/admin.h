/*
 * admin.h: what the operators' API reads: orders filtered and paged, one
 * order in full (reservation, WeChat transactions, refunds, audit trail)
 * and the audit log filtered and paged.  Reads only: changes go through
 * the modules that own them (schedules.c, refunds).  Pages are newest
 * first by id; a page's cursor is the id of its last row.
 */
#ifndef GYM_ADMIN_H
#define GYM_ADMIN_H

#include <stdint.h>

#include "booking.h"

#define GYM_ADMIN_LIMIT_DEFAULT	50
#define GYM_ADMIN_LIMIT_MAX	200

/* An order (o) in the operators' needs-attention queue: money that must go
 * back without a seat, no refund under way or done (a closed one puts it
 * back).  Shared by the queue's reads and the refund job. */
#define GYM_ATTENTION_SQL \
	"o.attention_reason IS NOT NULL AND o.status = 'refunding' AND NOT EXISTS (" \
	"SELECT 1 FROM refunds f WHERE f.order_id = o.order_id AND f.status <> 'closed')"

struct gym_admin_order_filter {
	const char *status;		/* NULL = any */
	long long schedule_id;		/* 0 = any */
	long long product_id;		/* 0 = any: the orders of this product */
	const char *phone_index;	/* NULL = any; else gym_pii_index of a phone */
	int attention;			/* 1: only the needs-attention queue */
	int64_t from, to;		/* created_at in [from, to); 0 = unbounded */
	long long before;		/* cursor: only ids below it; 0 = from the newest */
	int limit;			/* 1 .. GYM_ADMIN_LIMIT_MAX */
	/* issue 19, search: NULL = any */
	const char *order_id;		/* this order */
	const char *transaction_id;	/* the order a payment's transaction id is of */
	const char *order_ids;		/* a bigint-free text[] literal "{A,B}": one of these */
};

/* admin_search.c: the orders among the newest GYM_ADMIN_NAME_SCAN
 * registrations whose child's name contains name, as a text[] literal
 * "{A,B,...}" (malloc'd, "{}" when none) for the order_ids filter.  Names
 * are sealed (pii.h), so they are opened and compared here, not in SQL. */
#define GYM_ADMIN_NAME_SCAN	2000
struct gym_pii_keys;
enum gym_err gym_admin_child_name_orders(struct gym_db *, const struct gym_pii_keys *,
    const char *name, char **order_ids);

struct gym_admin_audit_filter {
	const char *order_id;		/* NULL = any */
	const char *action_type;	/* NULL = any */
	int64_t from, to;		/* created_at in [from, to); 0 = unbounded */
	long long before;		/* cursor, as above */
	int limit;
};

/* One payment_audit_log row.  request_snapshot is malloc'd JSON or NULL. */
struct gym_audit_entry {
	long long id;
	char entity[16];
	char action_type[64];
	char order_id[33];		/* "" when none */
	long long reservation_id;	/* 0 when none */
	long long booking_id;		/* 0 when none */
	char actor_type[16];
	char actor_id[24];		/* "" when none */
	char client_ip[64];
	char request_id[64];
	char old_status[32];		/* "" when none */
	char new_status[32];
	char *request_snapshot;
	int64_t created_at;
};

/* One payment_transactions row, without the payload (the payer is in it). */
struct gym_txn {
	char transaction_id[64];
	char trade_state[32];
	char trade_type[16];
	int amount_fen;
	int has_payer_total;
	int payer_total;
	int64_t success_time;		/* 0 when unknown */
	char source[8];
	char outcome[24];
	int64_t created_at;
};

struct gym_admin_order {
	struct gym_order order;
	struct gym_txn *txns;
	int ntxns;
	struct gym_audit_entry *audit;	/* oldest first */
	int naudit;
};

/* Up to f->limit orders into out (room for f->limit); *next is the cursor
 * of the next page, 0 when this is the last one. */
enum gym_err gym_admin_order_list(struct gym_db *, const struct gym_admin_order_filter *,
    struct gym_order *out, int *n, long long *next);
/* The order with everything recorded about it; GYM_ENOTFOUND when none.
 * Free with gym_admin_order_free(), also after an error. */
enum gym_err gym_admin_order_get(struct gym_db *, const char *order_id,
    struct gym_admin_order *);
void gym_admin_order_free(struct gym_admin_order *);

/* A page of the audit log into *out (malloc'd, *n entries; free with
 * gym_admin_audit_free); *next as for orders. */
enum gym_err gym_admin_audit_list(struct gym_db *, const struct gym_admin_audit_filter *,
    struct gym_audit_entry **out, int *n, long long *next);
void gym_admin_audit_free(struct gym_audit_entry *, int n);

#endif

/*
 * member_find.c: finding a parent by phone or child's name (see
 * member_find.h).  Both end in one statement that groups the matching
 * orders by parent, newest first, and keeps each parent's newest match.
 */
#include <stdio.h>
#include <stdlib.h>

#include "admin.h"
#include "member_find.h"

static struct gym_stmt st_by_phone = { "member_by_phone",
	"SELECT o.user_id, (array_agg(o.order_id ORDER BY o.id DESC))[1] AS order_id "
	"FROM order_registrations r JOIN payment_orders o ON o.order_id = r.order_id "
	"WHERE r.phone_index = $1 GROUP BY o.user_id ORDER BY max(o.id) DESC LIMIT $2::int", 0 };

static struct gym_stmt st_by_orders = { "member_by_orders",
	"SELECT o.user_id, (array_agg(o.order_id ORDER BY o.id DESC))[1] AS order_id "
	"FROM payment_orders o WHERE o.order_id = ANY($1::text[]) "
	"GROUP BY o.user_id ORDER BY max(o.id) DESC LIMIT $2::int", 0 };

static enum gym_err
matches(struct gym_db *db, struct gym_stmt *st, const char *arg, struct gym_member_match *out,
    int max, int *n)
{
	char lim[16];
	const char *p[2] = { arg, lim };
	PGresult *r;
	enum gym_err e;

	*n = 0;
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, st, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && i < max; i++, (*n)++) {
		out[i].user_id = gym_db_get_ll(r, i, "user_id");
		gym_db_copy(r, i, "order_id", out[i].order_id, sizeof(out[i].order_id));
	}
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_member_find_by_phone(struct gym_db *db, const char *phone_index,
    struct gym_member_match *out, int max, int *n)
{
	return matches(db, &st_by_phone, phone_index, out, max, n);
}

enum gym_err
gym_member_find_by_child(struct gym_db *db, const struct gym_pii_keys *keys, const char *name,
    struct gym_member_match *out, int max, int *n)
{
	char *ids = NULL;
	enum gym_err e;

	*n = 0;
	if ((e = gym_admin_child_name_orders(db, keys, name, &ids)) != GYM_OK)
		return e;
	e = matches(db, &st_by_orders, ids, out, max, n);
	free(ids);
	return e;
}

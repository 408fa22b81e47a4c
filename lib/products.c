/*
 * products.c: the catalogue (products.h).  Operators add membership plans
 * and class packs, change their name, price, length or credits, and take
 * them off sale; the trial's row comes from migration 0022 and its price is
 * the contract's (the table's CHECK).  A price change touches no order:
 * each order keeps its own amount_fen.  Each change writes its audit row.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "log.h"
#include "products.h"

#define PRODUCT_COLS "id, kind, name, price_fen, coalesce(days, 0) AS days, " \
	"coalesce(credits, 0) AS credits, active "

static struct gym_stmt st_list = { "product_list",
	"SELECT " PRODUCT_COLS "FROM products WHERE active OR $1::boolean ORDER BY id LIMIT $2::int", 0 };
static struct gym_stmt st_get = { "product_get",
	"SELECT " PRODUCT_COLS "FROM products WHERE id = $1::bigint", 0 };
static struct gym_stmt st_insert = { "product_insert",
	"INSERT INTO products (kind, name, price_fen, days, credits, active, created_at, updated_at) "
	"VALUES ($1, $2, $3::int, $4::int, NULLIF($5::int, 0), true, $6::timestamptz, "
	"$6::timestamptz) RETURNING " PRODUCT_COLS, 0 };
/* Unchanged fields: $2 NULL, $3 0, $4 0, $5 0, $6 NULL.  The credits of a
 * product that has none stay NULL (the kind's CHECK). */
static struct gym_stmt st_update = { "product_update",
	"UPDATE products SET name = coalesce($2, name), "
	"price_fen = CASE WHEN $3::int > 0 THEN $3::int ELSE price_fen END, "
	"days = CASE WHEN $4::int > 0 AND days IS NOT NULL THEN $4::int ELSE days END, "
	"credits = CASE WHEN $5::int > 0 AND credits IS NOT NULL THEN $5::int ELSE credits END, "
	"active = coalesce($6::boolean, active), updated_at = $7::timestamptz "
	"WHERE id = $1::bigint RETURNING " PRODUCT_COLS, 0 };

static const char *const kind_names[] = { "trial", "membership", "class_pack" };

const char *
gym_product_kind_name(enum gym_product_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

int
gym_product_kind_parse(const char *s, enum gym_product_kind *k)
{
	for (int i = 0; s != NULL && i < 3; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum gym_product_kind)i;
			return 1;
		}
	return 0;
}

static enum gym_err
read_product(PGresult *r, int i, struct gym_product *p)
{
	memset(p, 0, sizeof(*p));
	p->id = gym_db_get_ll(r, i, "id");
	gym_db_copy(r, i, "name", p->name, sizeof(p->name));
	p->price_fen = gym_db_get_ll(r, i, "price_fen");
	p->days = (int)gym_db_get_ll(r, i, "days");
	p->credits = (int)gym_db_get_ll(r, i, "credits");
	p->active = strcmp(gym_db_get(r, i, "active"), "t") == 0;
	if (!gym_product_kind_parse(gym_db_get(r, i, "kind"), &p->kind)) {
		gym_log_errx("product %lld: unknown kind", p->id);
		return GYM_EINTERNAL;
	}
	return GYM_OK;
}

enum gym_err
gym_product_list(struct gym_db *db, int all, struct gym_product *out, int max, int *n)
{
	char lim[16];
	const char *p[2] = { all ? "true" : "false", lim };
	PGresult *r;
	enum gym_err e;

	*n = 0;
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_list, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r) && i < max; i++)
		if ((e = read_product(r, i, &out[i])) == GYM_OK)
			*n = i + 1;
	PQclear(r);
	return e;
}

enum gym_err
gym_product_get(struct gym_db *db, long long id, struct gym_product *out)
{
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;
	enum gym_err e;

	gym__ll(ids, sizeof(ids), id);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_get, 1, p, &r)) != GYM_OK)
		return e;
	e = PQntuples(r) == 0 ? GYM_E_PRODUCT_UNAVAILABLE : read_product(r, 0, out);
	PQclear(r);
	return e;
}

/* The product's JSON for the audit row (snap at least 600 bytes). */
static void
snapshot(const struct gym_product *p, char *snap, size_t len)
{
	snprintf(snap, len, "{\"product_id\":%lld,\"kind\":\"%s\",\"price_fen\":%lld,\"days\":%d,"
	    "\"credits\":%d,\"active\":%s}", p->id, gym_product_kind_name(p->kind), p->price_fen,
	    p->days, p->credits, p->active ? "true" : "false");
}

struct product_arg {
	const struct gym_actor *actor;
	long long id;
	const struct gym_product_change *ch;
	struct gym_product *p;
};

static enum gym_err
create_tx(struct gym_db *db, void *v)
{
	struct product_arg *a = v;
	char price[24], days[16], credits[16], now[40], snap[600];
	const char *p[6] = { gym_product_kind_name(a->p->kind), a->p->name, price, days, credits,
	    now };
	struct gym_audit au = { "product", "product_created", NULL, 0, 0, NULL, "active", snap };
	PGresult *r;
	enum gym_err e;

	gym__ll(price, sizeof(price), a->p->price_fen);
	snprintf(days, sizeof(days), "%d", a->p->days);
	snprintf(credits, sizeof(credits), "%d", a->p->credits);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_insert, 6, p, &r)) != GYM_OK)
		return e == GYM_ECONFLICT ? GYM_EINVAL : e;
	e = read_product(r, 0, a->p);
	PQclear(r);
	snapshot(a->p, snap, sizeof(snap));
	return e != GYM_OK ? e : gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_product_create(struct gym_db *db, const struct gym_actor *actor, struct gym_product *p)
{
	struct product_arg a = { actor, 0, NULL, p };

	if (p->kind == GYM_PRODUCT_TRIAL || p->name[0] == '\0' || p->price_fen <= 0 ||
	    p->price_fen > 10000000 || p->days < 1 || p->days > 3660 ||
	    (p->kind == GYM_PRODUCT_CLASS_PACK) != (p->credits > 0) || p->credits > 1000)
		return GYM_EINVAL;
	return gym_db_tx(db, create_tx, &a);
}

static enum gym_err
update_tx(struct gym_db *db, void *v)
{
	struct product_arg *a = v;
	char id[24], price[24], days[16], credits[16], now[40], snap[600];
	const char *p[7] = { id, a->ch->name, price, days, credits,
	    a->ch->active < 0 ? NULL : a->ch->active ? "true" : "false", now };
	struct gym_audit au = { "product", "product_changed", NULL, 0, 0, NULL, NULL, snap };
	PGresult *r;
	enum gym_err e;

	gym__ll(id, sizeof(id), a->id);
	gym__ll(price, sizeof(price), a->ch->price_fen);
	snprintf(days, sizeof(days), "%d", a->ch->days);
	snprintf(credits, sizeof(credits), "%d", a->ch->credits);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_update, 7, p, &r)) != GYM_OK)
		return e;
	e = PQntuples(r) == 0 ? GYM_E_PRODUCT_UNAVAILABLE : read_product(r, 0, a->p);
	PQclear(r);
	if (e != GYM_OK)
		return e;
	snapshot(a->p, snap, sizeof(snap));
	au.new_status = a->p->active ? "active" : "inactive";
	return gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_product_update(struct gym_db *db, const struct gym_actor *actor, long long id,
    const struct gym_product_change *ch, struct gym_product *out)
{
	struct product_arg a = { actor, id, ch, out };

	if (ch->price_fen < 0 || ch->price_fen > 10000000 || ch->days < 0 || ch->days > 3660 ||
	    ch->credits < 0 || ch->credits > 1000 || (ch->name != NULL && ch->name[0] == '\0'))
		return GYM_EINVAL;
	return gym_db_tx(db, update_tx, &a);	/* the trial's price: 23514, EINVAL */
}

/*
 * admin_search.c: the operators' search by a child's name (see admin.h).
 * Registrations are sealed per order, so the newest GYM_ADMIN_NAME_SCAN
 * are opened in batches and compared in memory; the clear names never
 * leave this function.  Good for a front desk looking up this season's
 * trial classes; older orders are found by phone or order id.
 */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "crypto.h"
#include "pii.h"
#include "registration.h"

#define BATCH 200

static struct gym_stmt st_newest = { "admin_newest_registrations",
	"SELECT order_id FROM order_registrations ORDER BY created_at DESC, order_id LIMIT $1::int",
	0 };

/* Append id to the literal in *buf (size *cap, used *len). */
static int
append(char **buf, size_t *len, size_t *cap, const char *id)
{
	size_t n = strlen(id);

	if (*len + n + 3 > *cap) {
		size_t c = (*cap + n + 3) * 2;
		char *b = realloc(*buf, c);

		if (b == NULL)
			return 0;
		*buf = b;
		*cap = c;
	}
	if (*len > 1)
		(*buf)[(*len)++] = ',';
	memcpy(*buf + *len, id, n);
	*len += n;
	return 1;
}

enum gym_err
gym_admin_child_name_orders(struct gym_db *db, const struct gym_pii_keys *keys,
    const char *name, char **order_ids)
{
	struct gym_registration *regs = NULL;
	const char *ids[BATCH], *p[1] = { NULL };
	char lim[16], *buf = NULL;
	size_t len = 1, cap = 64;
	int found[BATCH], rows, matches = 0;
	PGresult *r = NULL;
	enum gym_err e;

	*order_ids = NULL;
	snprintf(lim, sizeof(lim), "%d", GYM_ADMIN_NAME_SCAN);
	p[0] = lim;
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_newest, 1, p, &r)) != GYM_OK)
		return e;
	e = GYM_ENOMEM;
	if ((regs = calloc(BATCH, sizeof(*regs))) == NULL || (buf = malloc(cap)) == NULL)
		goto out;
	buf[0] = '{';
	rows = PQntuples(r);
	e = GYM_OK;
	for (int at = 0; e == GYM_OK && at < rows && matches < GYM_ADMIN_LIMIT_MAX; at += BATCH) {
		int n = rows - at < BATCH ? rows - at : BATCH;

		for (int i = 0; i < n; i++)
			ids[i] = gym_db_get(r, at + i, "order_id");
		if ((e = gym_registration_get_many(db, keys, ids, n, regs, found)) != GYM_OK)
			break;
		for (int i = 0; i < n && matches < GYM_ADMIN_LIMIT_MAX; i++) {
			if (!found[i] || strstr(regs[i].child_name, name) == NULL)
				continue;
			if (!append(&buf, &len, &cap, ids[i])) {
				e = GYM_ENOMEM;
				break;
			}
			matches++;
		}
		gym_wipe(regs, BATCH * sizeof(*regs));
	}
	if (e == GYM_OK) {
		buf[len++] = '}';
		buf[len] = '\0';
		*order_ids = buf;
		buf = NULL;
	}
out:
	PQclear(r);
	free(regs);
	free(buf);
	return e;
}

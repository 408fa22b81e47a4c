/*
 * class_kind.c: a class is a trial class (the default) or a regular one
 * that members book (products.h).  Set by an operator when the class is
 * made; the change writes its audit row.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "products.h"

static struct gym_stmt st_kind = { "class_set_kind",
	"UPDATE course_schedules SET kind = $2 WHERE id = $1::bigint "
	"RETURNING (SELECT kind FROM course_schedules WHERE id = $1::bigint) AS old", 0 };

struct kind_arg {
	const struct gym_actor *actor;
	long long id;
	const char *kind;
};

static enum gym_err
kind_tx(struct gym_db *db, void *v)
{
	struct kind_arg *a = v;
	char id[24], old[16], snap[120];
	const char *p[2] = { id, a->kind };
	struct gym_audit au = { "schedule", "schedule_kind_changed", NULL, 0, 0, old, a->kind,
	    snap };
	PGresult *r;
	enum gym_err e;

	gym__ll(id, sizeof(id), a->id);
	if ((e = gym_db_exec(db, &st_kind, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_E_SCHEDULE_NOT_FOUND;
	}
	gym_db_copy(r, 0, "old", old, sizeof(old));
	PQclear(r);
	snprintf(snap, sizeof(snap), "{\"course_schedule_id\":%lld,\"kind\":\"%s\"}", a->id,
	    a->kind);
	return gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_schedule_set_kind(struct gym_db *db, const struct gym_actor *actor, long long id,
    const char *kind)
{
	struct kind_arg a = { actor, id, kind };

	if (kind == NULL || (strcmp(kind, "trial") != 0 && strcmp(kind, "regular") != 0))
		return GYM_EINVAL;
	return gym_db_tx(db, kind_tx, &a);
}

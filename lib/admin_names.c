/*
 * admin_names.c: class and operator names by id for the operators' pages
 * (see admin_names.h).  The ids go as one bigint[] parameter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_names.h"

static struct gym_stmt st_classes = { "admin_class_names",
	"SELECT id, course_name, (extract(epoch FROM starts_at) * 1000000)::bigint AS starts_us "
	"FROM course_schedules WHERE id = ANY($1::bigint[])", 0 };
static struct gym_stmt st_operators = { "admin_operator_names",
	"SELECT id, name FROM operators WHERE id = ANY($1::bigint[])", 0 };

/* "{1,2,3}" for ids (malloc'd), NULL without memory. */
static char *
id_array(const long long *ids, int n)
{
	size_t len = 3 + (size_t)n * 21, o = 1;
	char *s = malloc(len);

	if (s == NULL)
		return NULL;
	s[0] = '{';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, len - o, "%s%lld", i ? "," : "", ids[i] > 0 ? ids[i] : 0);
	snprintf(s + o, len - o, "}");
	return s;
}

static enum gym_err
lookup(struct gym_db *db, struct gym_stmt *st, const long long *ids, int n, PGresult **r)
{
	char *arr;
	const char *p[1];
	enum gym_err e;

	if ((arr = id_array(ids, n)) == NULL)
		return GYM_ENOMEM;
	p[0] = arr;
	if ((e = gym_db_ensure(db)) == GYM_OK)
		e = gym_db_exec(db, st, 1, p, r);
	free(arr);
	return e;
}

enum gym_err
gym_admin_class_names(struct gym_db *db, const long long *ids, int n, struct gym_class_name *out)
{
	PGresult *r;
	enum gym_err e;

	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = ids[i];
	}
	if (n <= 0)
		return GYM_OK;
	if ((e = lookup(db, &st_classes, ids, n, &r)) != GYM_OK)
		return e;
	for (int k = 0; k < PQntuples(r); k++) {
		long long id = gym_db_get_ll(r, k, "id");

		for (int i = 0; i < n; i++) {
			if (ids[i] != id)
				continue;
			snprintf(out[i].course_name, sizeof(out[i].course_name), "%s",
			    gym_db_get(r, k, "course_name"));
			out[i].starts_at = gym_db_get_ll(r, k, "starts_us");
		}
	}
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_admin_operator_names(struct gym_db *db, const long long *ids, int n,
    struct gym_operator_name *out)
{
	PGresult *r;
	enum gym_err e;

	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = ids[i];
	}
	if (n <= 0)
		return GYM_OK;
	if ((e = lookup(db, &st_operators, ids, n, &r)) != GYM_OK)
		return e;
	for (int k = 0; k < PQntuples(r); k++) {
		long long id = gym_db_get_ll(r, k, "id");

		for (int i = 0; i < n; i++)
			if (ids[i] == id)
				snprintf(out[i].name, sizeof(out[i].name), "%s", gym_db_get(r, k, "name"));
	}
	PQclear(r);
	return GYM_OK;
}

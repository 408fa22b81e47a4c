/*
 * hadmin_names.c: names beside the ids in the operators' answers (issue
 * 19): "course_name" and "course_starts_at" beside "course_schedule_id",
 * "operator_name" beside a refund's "operator_id", "actor_name" beside an
 * operator's "actor_id" in audit rows.  One lookup per answer.
 */
#include <stdlib.h>
#include <string.h>

#include "admin_names.h"
#include "hadmin.h"
#include "hutil.h"

#define MAX_IDS 256

/* The id in member name of o (a number or a digit string); 0 for none. */
static long long
member_id(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsNumber(v))
		return (long long)v->valuedouble;
	if (cJSON_IsString(v) && v->valuestring[0] != '\0' &&
	    strspn(v->valuestring, "0123456789") == strlen(v->valuestring))
		return atoll(v->valuestring);
	return 0;
}

/* The objects of items to name, at most MAX_IDS, with their ids. */
static int
collect(cJSON *items, const char *id_member, const char *actor_type, cJSON **objs,
    long long *ids)
{
	cJSON *o;
	int n = 0;

	cJSON_ArrayForEach(o, items) {
		const char *t;

		if (n == MAX_IDS)
			break;
		if (actor_type != NULL && ((t = gym_json_string(o, "actor_type")) == NULL ||
		    strcmp(t, actor_type) != 0))
			continue;
		if ((ids[n] = member_id(o, id_member)) <= 0)
			continue;
		objs[n++] = o;
	}
	return n;
}

enum gym_err
gym_h_name_classes(struct gym_db *db, cJSON *items)
{
	struct gym_class_name *names;
	cJSON *objs[MAX_IDS];
	long long ids[MAX_IDS];
	enum gym_err e;
	int n = collect(items, "course_schedule_id", NULL, objs, ids);

	if (n == 0)
		return GYM_OK;
	if ((names = calloc((size_t)n, sizeof(*names))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_admin_class_names(db, ids, n, names)) == GYM_OK)
		for (int i = 0; i < n; i++) {
			if (names[i].course_name[0] == '\0')
				continue;
			cJSON_AddStringToObject(objs[i], "course_name", names[i].course_name);
			gym_h_add_time(objs[i], "course_starts_at", names[i].starts_at);
		}
	free(names);
	return e;
}

enum gym_err
gym_h_name_operators(struct gym_db *db, cJSON *items, const char *id_member,
    const char *actor_type, const char *name_member)
{
	struct gym_operator_name *names;
	cJSON *objs[MAX_IDS];
	long long ids[MAX_IDS];
	enum gym_err e;
	int n = collect(items, id_member, actor_type, objs, ids);

	if (n == 0)
		return GYM_OK;
	if ((names = calloc((size_t)n, sizeof(*names))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_admin_operator_names(db, ids, n, names)) == GYM_OK)
		for (int i = 0; i < n; i++)
			if (names[i].name[0] != '\0')
				cJSON_AddStringToObject(objs[i], name_member, names[i].name);
	free(names);
	return e;
}

/*
 * h_admin_schedules.c: POST /admin/course-schedules (create a class) and
 * PATCH /admin/course-schedules/{id} (change its capacity, never below the
 * seats held or confirmed).  Operators only; schedules.c writes the audit
 * row with the operator as the actor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"

#define NAME_MAX_CHARS 100
#define CAPACITY_MAX 10000

static enum gym_err
bad(struct gym_resp *resp, const char *field)
{
	snprintf(resp->err_field, sizeof(resp->err_field), "%s", field);
	return GYM_EINVAL;
}

/* UTF-8 characters in s (continuation bytes not counted). */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static enum gym_err
capacity(const cJSON *body, struct gym_resp *resp, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "capacity");

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > CAPACITY_MAX ||
	    v->valuedouble != (double)(int)v->valuedouble)
		return bad(resp, "capacity");
	*out = (int)v->valuedouble;
	return GYM_OK;
}

static enum gym_err
time_member(const cJSON *body, const char *name, struct gym_resp *resp, int64_t *out)
{
	const char *s;

	if (gym_json_str(body, name, &s) != GYM_OK || gym_time_parse(s, out) == -1)
		return bad(resp, name);
	return GYM_OK;
}

static enum gym_err
create_fields(const cJSON *body, struct gym_resp *resp, const char **name, int64_t *starts,
    int64_t *ends, int *cap)
{
	enum gym_err e;

	if (gym_json_str(body, "course_name", name) != GYM_OK || (*name)[0] == '\0' ||
	    chars(*name) > NAME_MAX_CHARS)
		return bad(resp, "course_name");
	if ((e = time_member(body, "starts_at", resp, starts)) != GYM_OK ||
	    (e = time_member(body, "ends_at", resp, ends)) != GYM_OK)
		return e;
	if (*starts <= gym_now_us())
		return bad(resp, "starts_at");
	if (*ends <= *starts)
		return bad(resp, "ends_at");
	return capacity(body, resp, cap);
}

enum gym_err
gym_h_admin_schedule_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_schedule s;
	cJSON *body = NULL;
	const char *name = NULL;
	char *snap = NULL;
	int64_t starts = 0, ends = 0;
	long long id = 0;
	int cap = 0;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = create_fields(body, resp, &name, &starts, &ends, &cap)) == GYM_OK) {
		gym_h_actor(req, &a, &snap);
		e = gym_schedule_create(req->ctx->db, &a, name, starts, ends, cap, &id);
		free(snap);
	}
	cJSON_Delete(body);
	/* the fields were checked: what schedules.c refuses is a name too long in bytes */
	if (e == GYM_EINVAL && resp->err_field[0] == '\0')
		snprintf(resp->err_field, sizeof(resp->err_field), "course_name");
	if (e != GYM_OK || (e = gym_schedule_get(req->ctx->db, id, &s)) != GYM_OK)
		return e;
	return gym_resp_json(resp, 201, gym_h_schedule_json(&s));
}

enum gym_err
gym_h_admin_schedule_update(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_schedule s;
	cJSON *body = NULL;
	char *snap = NULL;
	long long id;
	int cap = 0;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &id, GYM_E_SCHEDULE_NOT_FOUND)) != GYM_OK ||
	    (e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = capacity(body, resp, &cap)) == GYM_OK) {
		gym_h_actor(req, &a, &snap);
		e = gym_schedule_set_capacity(req->ctx->db, &a, id, cap);
		free(snap);
	}
	cJSON_Delete(body);
	if (e != GYM_OK || (e = gym_schedule_get(req->ctx->db, id, &s)) != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, gym_h_schedule_json(&s));
}

/*
 * h_admin_schedules.c: POST /admin/course-schedules (create a class),
 * PATCH /admin/course-schedules/{id} (rename, move, or change its capacity,
 * never below the seats held or confirmed; parents with paid bookings are
 * told of a new name or time) and POST .../{id}/cancel.  Operators only;
 * schedules.c and schedule_changes.c write the audit rows with the operator
 * as the actor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"
#include "products.h"

#define NAME_MAX_CHARS 100
#define CAPACITY_MAX 10000

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
		return gym_h_bad(resp, "capacity");
	*out = (int)v->valuedouble;
	return GYM_OK;
}

static enum gym_err
time_member(const cJSON *body, const char *name, struct gym_resp *resp, int64_t *out)
{
	const char *s;

	if (gym_json_str(body, name, &s) != GYM_OK || gym_time_parse(s, out) == -1)
		return gym_h_bad(resp, name);
	return GYM_OK;
}

static enum gym_err
create_fields(const cJSON *body, struct gym_resp *resp, const char **name, int64_t *starts,
    int64_t *ends, int *cap)
{
	enum gym_err e;

	if (gym_json_str(body, "course_name", name) != GYM_OK || (*name)[0] == '\0' ||
	    chars(*name) > NAME_MAX_CHARS)
		return gym_h_bad(resp, "course_name");
	if ((e = time_member(body, "starts_at", resp, starts)) != GYM_OK ||
	    (e = time_member(body, "ends_at", resp, ends)) != GYM_OK)
		return e;
	if (*starts <= gym_now_us())
		return gym_h_bad(resp, "starts_at");
	if (*ends <= *starts)
		return gym_h_bad(resp, "ends_at");
	return capacity(body, resp, cap);
}

enum gym_err
gym_h_admin_schedule_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_schedule s;
	cJSON *body = NULL;
	const char *name = NULL, *kind;
	char *snap = NULL;
	int64_t starts = 0, ends = 0;
	long long id = 0;
	int cap = 0;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	kind = gym_json_string(body, "kind");
	if (cJSON_GetObjectItemCaseSensitive(body, "kind") != NULL && (kind == NULL ||
	    (strcmp(kind, "trial") != 0 && strcmp(kind, "regular") != 0)))
		e = gym_h_bad(resp, "kind");
	else if ((e = create_fields(body, resp, &name, &starts, &ends, &cap)) == GYM_OK) {
		gym_h_actor(req, &a, &snap);
		e = gym_schedule_create(req->ctx->db, &a, name, starts, ends, cap, &id);
		/* a regular class (members book it: products.h) */
		if (e == GYM_OK && kind != NULL && strcmp(kind, "regular") == 0)
			e = gym_schedule_set_kind(req->ctx->db, &a, id, kind);
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

/* PATCH: any of course_name, starts_at, ends_at, capacity (at least one). */
static enum gym_err
change_fields(const cJSON *body, struct gym_resp *resp, struct gym_schedule_change *c)
{
	enum gym_err e;

	memset(c, 0, sizeof(*c));
	c->capacity = -1;
	if (cJSON_GetObjectItemCaseSensitive(body, "course_name") != NULL &&
	    (gym_json_str(body, "course_name", &c->course_name) != GYM_OK ||
	    c->course_name[0] == '\0' || chars(c->course_name) > NAME_MAX_CHARS))
		return gym_h_bad(resp, "course_name");
	if (cJSON_GetObjectItemCaseSensitive(body, "starts_at") != NULL &&
	    (e = time_member(body, "starts_at", resp, &c->starts_at)) != GYM_OK)
		return e;
	if (cJSON_GetObjectItemCaseSensitive(body, "ends_at") != NULL &&
	    (e = time_member(body, "ends_at", resp, &c->ends_at)) != GYM_OK)
		return e;
	if (cJSON_GetObjectItemCaseSensitive(body, "capacity") != NULL &&
	    (e = capacity(body, resp, &c->capacity)) != GYM_OK)
		return e;
	if (c->course_name == NULL && c->starts_at == 0 && c->ends_at == 0 && c->capacity < 0)
		return gym_h_bad(resp, "body");
	return GYM_OK;
}

enum gym_err
gym_h_admin_schedule_update(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_schedule_change c;
	struct gym_actor a;
	struct gym_schedule s;
	cJSON *body = NULL, *o;
	const char *field = NULL;
	char *snap = NULL;
	long long id;
	int told = 0;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &id, GYM_E_SCHEDULE_NOT_FOUND)) != GYM_OK ||
	    (e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = change_fields(body, resp, &c)) == GYM_OK) {
		gym_h_actor(req, &a, &snap);
		if ((e = gym_schedule_update(req->ctx->db, &a, id, &c, &field, &told)) == GYM_EINVAL &&
		    field != NULL)
			(void)gym_h_bad(resp, field);
		free(snap);
	}
	cJSON_Delete(body);
	if (e != GYM_OK || (e = gym_schedule_get(req->ctx->db, id, &s)) != GYM_OK)
		return e;
	o = gym_h_schedule_json(&s);
	cJSON_AddNumberToObject(o, "parents_told", told);
	return gym_resp_json(resp, 200, o);
}

#define CANCEL_REASON_DEFAULT "课程取消"
#define CANCEL_REASON_MAX_CHARS 80

/* POST .../cancel {reason?}: see schedule_changes.c.  The same answer however
 * often it is pressed; only the first press cancels. */
enum gym_err
gym_h_admin_schedule_cancel(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_class_cancel out;
	struct gym_actor a;
	struct gym_schedule s;
	cJSON *body = NULL, *o;
	const char *reason = CANCEL_REASON_DEFAULT;
	char *snap = NULL;
	long long id;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &id, GYM_E_SCHEDULE_NOT_FOUND)) != GYM_OK ||
	    (e = gym_h_body(req, resp, 1, &body)) != GYM_OK)
		return e;
	if (cJSON_GetObjectItemCaseSensitive(body, "reason") != NULL &&
	    (gym_json_str(body, "reason", &reason) != GYM_OK || reason[0] == '\0' ||
	    chars(reason) > CANCEL_REASON_MAX_CHARS)) {
		cJSON_Delete(body);
		return gym_h_bad(resp, "reason");
	}
	gym_h_actor(req, &a, &snap);
	e = gym_schedule_cancel(req->ctx->db, &a, id, reason, req->operator_id, &out);
	free(snap);
	cJSON_Delete(body);
	if (e != GYM_OK || (e = gym_schedule_get(req->ctx->db, id, &s)) != GYM_OK)
		return e;
	o = gym_h_schedule_json(&s);
	cJSON_AddBoolToObject(o, "already_cancelled", out.already);
	cJSON_AddNumberToObject(o, "orders_cancelled", out.orders_cancelled);
	cJSON_AddNumberToObject(o, "holds_released", out.holds_released);
	cJSON_AddNumberToObject(o, "refunds_started", out.refunds);
	cJSON_AddNumberToObject(o, "parents_told", out.told);
	return gym_resp_json(resp, 200, o);
}

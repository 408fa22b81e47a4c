/*
 * h_waitlist.c: a parent's waitlists (lib/waitlist.h): join a full class's
 * waitlist, list their own entries (place in the queue, or the seat offered
 * to them as a hold), leave.
 */
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "hutil.h"
#include "waitlist.h"

#define MAX_MINE 20

/* An entry as the contract shows it; an offer's hold as a reservation. */
static cJSON *
entry_json(const struct gym_waitlist_entry *w)
{
	cJSON *o = cJSON_CreateObject();
	struct gym_reservation h = { w->hold_id, w->schedule_id, 0, GYM_HOLD_TEMPORARY,
	    w->offer_expires_at };

	cJSON_AddNumberToObject(o, "id", (double)w->id);
	cJSON_AddNumberToObject(o, "course_schedule_id", (double)w->schedule_id);
	cJSON_AddStringToObject(o, "state", gym_waitlist_state_name(w->state));
	if (w->position > 0)
		cJSON_AddNumberToObject(o, "position", w->position);
	else
		cJSON_AddNullToObject(o, "position");
	gym_h_add_time(o, "joined_at", w->joined_at);
	if (w->hold_id != 0)
		cJSON_AddItemToObject(o, "hold", gym_h_reservation_json(&h));
	else
		cJSON_AddNullToObject(o, "hold");
	return o;
}

enum gym_err
gym_h_waitlist_join(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_waitlist_entry w;
	cJSON *body = NULL;
	char *snap = NULL;
	long long sid;
	int created = 0;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = gym_h_id(body, "course_schedule_id", resp, &sid)) == GYM_OK) {
		gym_h_actor(req, &a, &snap);
		e = gym_waitlist_join(req->ctx->db, &a, req->user_id, sid, &w, &created);
		free(snap);
	}
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, created ? 201 : 200, entry_json(&w));
}

enum gym_err
gym_h_waitlist_mine(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_waitlist_entry w[MAX_MINE];
	cJSON *out, *items;
	enum gym_err e;
	int n = 0;

	if ((e = gym_waitlist_mine(req->ctx->db, req->user_id, w, MAX_MINE, &n)) != GYM_OK)
		return e;
	out = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(out, "items");
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(items, entry_json(&w[i]));
	return gym_resp_json(resp, 200, out);
}

enum gym_err
gym_h_waitlist_leave(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	cJSON *out;
	char v[32], *snap = NULL;
	long long sid;
	enum gym_err e;
	int left = 0;

	if (!gym_h_query(req, "course_schedule_id", v, sizeof(v)) ||
	    gym_h_path_id(v, &sid, GYM_EINVAL) != GYM_OK) {
		snprintf(resp->err_field, sizeof(resp->err_field), "course_schedule_id");
		return GYM_EINVAL;
	}
	gym_h_actor(req, &a, &snap);
	e = gym_waitlist_leave(req->ctx->db, &a, req->user_id, sid, &left);
	free(snap);
	if (e != GYM_OK)
		return e;
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "course_schedule_id", (double)sid);
	cJSON_AddBoolToObject(out, "left", left);
	return gym_resp_json(resp, 200, out);
}

/*
 * h_schedules.c: GET /course-schedules and /course-schedules/{id}.
 */
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "hutil.h"

#define MAX_LIST 200

enum gym_err
gym_h_schedule_list(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_schedule *s;
	char v[64];
	int64_t from = gym_now_us(), to = from + 90LL * 86400 * 1000000;
	cJSON *out, *items;
	enum gym_err e;
	int n = 0;

	if (gym_h_query(req, "from", v, sizeof(v)) && gym_time_parse(v, &from) == -1) {
		snprintf(resp->err_field, sizeof(resp->err_field), "from");
		return GYM_EINVAL;
	}
	if (gym_h_query(req, "to", v, sizeof(v)) && gym_time_parse(v, &to) == -1) {
		snprintf(resp->err_field, sizeof(resp->err_field), "to");
		return GYM_EINVAL;
	}
	if ((s = calloc(MAX_LIST, sizeof(*s))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_schedule_list(req->ctx->db, from, to, s, MAX_LIST, &n)) != GYM_OK) {
		free(s);
		return e;
	}
	out = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(out, "items");
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(items, gym_h_schedule_json(&s[i]));
	free(s);
	return gym_resp_json(resp, 200, out);
}

enum gym_err
gym_h_schedule_get(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_schedule s;
	long long id;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &id, GYM_E_SCHEDULE_NOT_FOUND)) != GYM_OK ||
	    (e = gym_schedule_get(req->ctx->db, id, &s)) != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, gym_h_schedule_json(&s));
}

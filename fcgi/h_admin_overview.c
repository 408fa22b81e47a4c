/*
 * h_admin_overview.c: GET /admin/overview[?day=YYYY-MM-DD]: the console's
 * first page (overview.h): the day's classes with their seats taken, the
 * orders paid that day and their sum, refunds in progress or stuck, and
 * the needs-attention count.  Operators and auditors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hadmin.h"
#include "hutil.h"
#include "overview.h"

enum gym_err
gym_h_admin_overview(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_overview *ov;
	char day[16], yuan[32];
	const char *d = NULL;
	cJSON *o, *a, *c;
	enum gym_err e;

	if (gym_h_query(req, "day", day, sizeof(day)))
		d = day;
	if ((ov = calloc(1, sizeof(*ov))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_overview_get(req->ctx->db, d, ov)) != GYM_OK) {
		free(ov);
		if (e == GYM_EINVAL)
			snprintf(resp->err_field, sizeof(resp->err_field), "day");
		return e;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "day", ov->day);
	cJSON_AddStringToObject(o, "time_zone", GYM_GYM_TZ);
	a = cJSON_AddArrayToObject(o, "classes");
	for (int i = 0; i < ov->nclasses; i++) {
		const struct gym_overview_class *k = &ov->classes[i];

		c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "id", (double)k->id);
		cJSON_AddStringToObject(c, "course_name", k->course_name);
		gym_h_add_time(c, "starts_at", k->starts_at);
		cJSON_AddNumberToObject(c, "capacity", k->capacity);
		cJSON_AddNumberToObject(c, "booked", k->booked);
		cJSON_AddNumberToObject(c, "held", k->held);
		cJSON_AddBoolToObject(c, "cancelled", k->cancelled);
		cJSON_AddItemToArray(a, c);
	}
	cJSON_AddNumberToObject(o, "paid_orders", (double)ov->paid_orders);
	cJSON_AddNumberToObject(o, "paid_fen", (double)ov->paid_fen);
	snprintf(yuan, sizeof(yuan), "%lld.%02lld", ov->paid_fen / 100, ov->paid_fen % 100);
	cJSON_AddStringToObject(o, "paid_amount", yuan);
	cJSON_AddNumberToObject(o, "refunds_in_progress", (double)ov->refunds_in_progress);
	cJSON_AddNumberToObject(o, "refunds_abnormal", (double)ov->refunds_abnormal);
	cJSON_AddNumberToObject(o, "attention", (double)ov->attention);
	free(ov);
	return gym_resp_json(resp, 200, o);
}

/*
 * h_bookings.c: seat holds (seat-reserve, seat-release) and the booking
 * confirmation the mini program asks for after requestPayment:ok.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"

enum gym_err
gym_h_hold_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_reservation res;
	cJSON *body = NULL;
	char *snap = NULL;
	long long sid;
	int created = 0;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = gym_h_id(body, "course_schedule_id", resp, &sid)) == GYM_OK) {
		gym_h_actor(req, &a, &snap);
		e = gym_hold_create(req->ctx->db, &a, req->user_id, sid, &res, &created);
		free(snap);
		if (e == GYM_E_SOLD_OUT)
			gym_h_alternatives(req, resp, sid);
	}
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, created ? 201 : 200, gym_h_reservation_json(&res));
}

enum gym_err
gym_h_hold_release(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_reservation res;
	cJSON *body = NULL;
	char v[32], *snap = NULL;
	long long rid = 0;
	enum gym_err e;

	if (gym_h_query(req, "reservation_id", v, sizeof(v))) {
		if (gym_h_path_id(v, &rid, GYM_ENOTFOUND) != GYM_OK)
			return GYM_ENOTFOUND;
	} else {
		if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
			return e;
		e = gym_h_id(body, "reservation_id", resp, &rid);
		cJSON_Delete(body);
		if (e != GYM_OK)
			return e;
	}
	gym_h_actor(req, &a, &snap);
	e = gym_hold_release(req->ctx->db, &a, req->user_id, rid, &res);
	free(snap);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, gym_h_reservation_json(&res));
}

enum gym_err
gym_h_booking_confirm(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_booking b;
	cJSON *body = NULL;
	const char *oid = NULL;
	char order_id[40];
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if (gym_json_str(body, "order_id", &oid) != GYM_OK || strlen(oid) >= sizeof(order_id)) {
		/* oid points into body: decide before freeing it */
		e = oid != NULL && strlen(oid) >= sizeof(order_id) ? GYM_ENOTFOUND : GYM_EINVAL;
		cJSON_Delete(body);
		snprintf(resp->err_field, sizeof(resp->err_field), "order_id");
		return e;
	}
	snprintf(order_id, sizeof(order_id), "%s", oid);
	cJSON_Delete(body);
	if ((e = gym_checkout_confirm(gym_h_pay(req), req->user_id, order_id, &b)) != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, gym_h_booking_json(&b));
}

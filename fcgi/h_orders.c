/*
 * h_orders.c: POST /payment/orders/create, GET /payment/orders/{id},
 * POST /payment/orders/{id}/cancel.  The price, the registration rules
 * and the cancel's close at WeChat are lib's (gym_registration_from_json,
 * gym_checkout_order_create, gym_checkout_cancel); a client amount is only
 * passed on for lib to compare.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"
#include "crypto.h"
#include "products.h"

/* The body's optional amount ("amount": yuan text or number, "amount_fen"). */
static void
client_amount(const cJSON *body, struct gym_client_amount *ca)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "amount");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(body, "amount_fen");

	memset(ca, 0, sizeof(*ca));
	if (f != NULL) {
		ca->has_fen = 1;
		/* not a number: NaN never matches the price */
		ca->fen = cJSON_IsNumber(f) ? f->valuedouble : (double)NAN;
	}
	if (a == NULL)
		return;
	if (cJSON_IsString(a))
		ca->yuan_text = a->valuestring;
	else {
		ca->has_yuan_number = 1;
		ca->yuan_number = cJSON_IsNumber(a) ? a->valuedouble : (double)NAN;
	}
}

/* {product_id, upgrade?} for a membership or a class pack. */
static enum gym_err
product_order(struct gym_req *req, struct gym_resp *resp, const cJSON *body, struct gym_order *o)
{
	struct gym_client_amount ca;
	struct gym_actor a;
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(body, "upgrade");
	char *snap = NULL;
	long long pid;
	enum gym_err e;

	if ((e = gym_h_id(body, "product_id", resp, &pid)) != GYM_OK)
		return e;
	if (up != NULL && !cJSON_IsBool(up)) {
		snprintf(resp->err_field, sizeof(resp->err_field), "upgrade");
		return GYM_EINVAL;
	}
	client_amount(body, &ca);
	gym_h_actor(req, &a, &snap);
	e = gym_product_order_create(req->ctx->db, &a, req->user_id, pid, cJSON_IsTrue(up), &ca, o);
	free(snap);
	if (e == GYM_EINVAL)	/* a trial names its class */
		snprintf(resp->err_field, sizeof(resp->err_field), "course_schedule_id");
	return e;
}

enum gym_err
gym_h_order_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_client_amount ca;
	struct gym_registration reg;
	struct gym_actor a;
	struct gym_order o;
	const char *field;
	cJSON *body = NULL;
	char *snap = NULL;
	long long sid, rid = 0;
	int created = 0;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	memset(&reg, 0, sizeof(reg));
	/* a membership or class pack: no class, no registration (products.h) */
	if (cJSON_GetObjectItemCaseSensitive(body, "course_schedule_id") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(body, "product_id") != NULL) {
		e = product_order(req, resp, body, &o);
		created = 1;
		goto out;
	}
	if ((e = gym_h_id(body, "course_schedule_id", resp, &sid)) != GYM_OK)
		goto out;
	if ((e = gym_json_id(body, "reservation_id", &rid)) == GYM_EINVAL) {
		snprintf(resp->err_field, sizeof(resp->err_field), "reservation_id");
		goto out;
	}
	if ((e = gym_registration_from_json(body, &reg, &field)) != GYM_OK) {
		snprintf(resp->err_field, sizeof(resp->err_field), "%s", field);
		goto out;
	}
	client_amount(body, &ca);
	gym_h_actor(req, &a, &snap);
	e = gym_checkout_order_create(gym_h_pay(req), &a, req->user_id, sid, rid, &ca, &reg, &o,
	    &created);
	if (e == GYM_EINVAL)
		snprintf(resp->err_field, sizeof(resp->err_field), "reservation_id");
	else if (e == GYM_E_SOLD_OUT)
		gym_h_alternatives(req, resp, sid);
out:
	gym_wipe(&reg, sizeof(reg));
	free(snap);
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, created ? 201 : 200, gym_h_order_json(&o));
}

enum gym_err
gym_h_order_get(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_order o;
	enum gym_err e;

	if ((e = gym_order_get(req->ctx->db, req->user_id, req->args[0], &o)) != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, gym_h_order_json(&o));
}

enum gym_err
gym_h_order_cancel(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_order o;
	char *snap = NULL;
	enum gym_err e;

	gym_h_actor(req, &a, &snap);
	e = gym_checkout_cancel(gym_h_pay(req), &a, req->user_id, req->args[0], &o);
	free(snap);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, gym_h_order_json(&o));
}

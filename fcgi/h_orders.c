/*
 * h_orders.c: POST /payment/orders/create, GET /payment/orders/{id},
 * POST /payment/orders/{id}/cancel.  The price is the server's: a client
 * amount other than 200.00 is refused with AMOUNT_MISMATCH and audited.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"
#include "wxclient.h"

/* 1 when the body's optional amount is absent or exactly the price. */
static int
amount_ok(const cJSON *body)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "amount");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(body, "amount_fen");

	if (f != NULL && !(cJSON_IsNumber(f) && f->valuedouble == GYM_PRICE_FEN))
		return 0;
	if (a == NULL)
		return 1;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, "200.00") == 0 || strcmp(a->valuestring, "200") == 0 ||
		    strcmp(a->valuestring, "200.0") == 0;
	return cJSON_IsNumber(a) && fabs(a->valuedouble - 200.0) < 1e-9;
}

static enum gym_err
audit_mismatch(struct gym_req *req, const struct gym_actor *a)
{
	struct gym_audit au = { "order", "amount_mismatch", NULL, 0, 0, NULL, NULL, NULL };

	(void)req;
	return gym_audit_record(req->ctx->db, a, &au);
}

enum gym_err
gym_h_order_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_actor a;
	struct gym_order o;
	cJSON *body = NULL;
	char *snap = NULL;
	long long sid, rid = 0;
	int created = 0;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = gym_h_id(body, "course_schedule_id", resp, &sid)) != GYM_OK)
		goto out;
	if ((e = gym_json_id(body, "reservation_id", &rid)) == GYM_EINVAL) {
		snprintf(resp->err_field, sizeof(resp->err_field), "reservation_id");
		goto out;
	}
	gym_h_actor(req, &a, &snap);
	if (!amount_ok(body)) {
		audit_mismatch(req, &a);
		e = GYM_E_AMOUNT_MISMATCH;
		goto out;
	}
	e = gym_order_create(req->ctx->db, &a, req->user_id, sid, rid, &o, &created);
	if (e == GYM_EINVAL)
		snprintf(resp->err_field, sizeof(resp->err_field), "reservation_id");
out:
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
	e = gym_order_cancel(req->ctx->db, &a, req->user_id, req->args[0], &o);
	free(snap);
	if (e != GYM_OK)
		return e;
	if (o.prepay_id[0] != '\0' || o.code_url[0] != '\0')
		gym_wxclient_close(req, o.order_id);
	return gym_resp_json(resp, 200, gym_h_order_json(&o));
}

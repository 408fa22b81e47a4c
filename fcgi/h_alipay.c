/*
 * h_alipay.c: POST /payment/alipay/create {order_id, trade_type "QR" |
 * "PAGE" | "WAP", return_url?}: the QR text (qr_code, and the PNG's URL)
 * or the signed gateway URL the browser opens (pay_url).  The prepay
 * itself is gym_checkout_prepay_alipay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"

struct ali_req {
	char order_id[40];
	enum gym_trade trade;
	char return_url[GYM_RETURN_URL_MAX + 1];
};

static enum gym_err
parse(struct gym_req *req, struct gym_resp *resp, struct ali_req *p)
{
	cJSON *body = NULL;
	const cJSON *ru;
	const char *oid = NULL, *tt = NULL;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	ru = cJSON_GetObjectItemCaseSensitive(body, "return_url");
	if (gym_json_str(body, "order_id", &oid) != GYM_OK || *oid == '\0') {
		snprintf(resp->err_field, sizeof(resp->err_field), "order_id");
		e = GYM_EINVAL;
	} else if (gym_json_str(body, "trade_type", &tt) != GYM_OK ||
	    gym_ali_trade_parse(tt, &p->trade) != GYM_OK) {
		snprintf(resp->err_field, sizeof(resp->err_field), "trade_type");
		e = GYM_EINVAL;
	} else if (ru != NULL && !cJSON_IsNull(ru) && (!cJSON_IsString(ru) ||
	    !gym_return_url_ok(ru->valuestring))) {
		snprintf(resp->err_field, sizeof(resp->err_field), "return_url");
		e = GYM_EINVAL;
	} else if (strlen(oid) >= sizeof(p->order_id))
		e = GYM_ENOTFOUND;
	else {
		snprintf(p->order_id, sizeof(p->order_id), "%s", oid);
		if (cJSON_IsString(ru))
			snprintf(p->return_url, sizeof(p->return_url), "%s", ru->valuestring);
	}
	cJSON_Delete(body);
	return e;
}

static cJSON *
prepay_json(const struct gym_prepay *pp)
{
	const struct gym_order *o = &pp->order;
	cJSON *out = cJSON_CreateObject();
	char url[96];

	cJSON_AddStringToObject(out, "order_id", o->order_id);
	cJSON_AddStringToObject(out, "payment_method", "alipay");
	if (pp->trade == GYM_TRADE_NATIVE) {
		snprintf(url, sizeof(url), "/api/v1/payment/wxpay/qrcode/%s", o->order_id);
		cJSON_AddStringToObject(out, "qr_code", pp->pay_params.code_url);
		cJSON_AddStringToObject(out, "qrcode_url", url);
	} else
		cJSON_AddStringToObject(out, "pay_url", pp->pay_params.pay_url);
	return out;
}

enum gym_err
gym_h_alipay_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_pay *pay = gym_h_pay(req);
	struct gym_prepay pp;
	struct ali_req p;
	struct gym_actor a;
	char *snap = NULL;
	enum gym_err e;

	memset(&p, 0, sizeof(p));
	if ((e = parse(req, resp, &p)) != GYM_OK)
		return e;
	gym_h_actor(req, &a, &snap);
	e = gym_checkout_prepay_alipay(pay, &a, req->user_id, p.order_id, p.trade,
	    p.return_url[0] != '\0' ? p.return_url : NULL, &pp);
	free(snap);
	if (e != GYM_OK)
		return gym_h_upstream(pay, resp, e);
	return gym_resp_json(resp, 200, prepay_json(&pp));
}

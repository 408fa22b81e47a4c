/*
 * h_wxpay.c: POST /payment/wxpay/create (JSAPI pay_params or a Native
 * code_url; the prepay itself is gym_checkout_prepay) and
 * GET /payment/wxpay/qrcode/{order_id}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"

struct pay_req {
	char order_id[40];
	enum gym_trade trade;
};

static enum gym_err
parse(struct gym_req *req, struct gym_resp *resp, struct pay_req *p)
{
	cJSON *body = NULL;
	const char *oid = NULL, *tt = NULL;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if (gym_json_str(body, "order_id", &oid) != GYM_OK || *oid == '\0') {
		snprintf(resp->err_field, sizeof(resp->err_field), "order_id");
		e = GYM_EINVAL;
	} else if (gym_json_str(body, "trade_type", &tt) != GYM_OK ||
	    gym_trade_parse(tt, &p->trade) != GYM_OK) {
		snprintf(resp->err_field, sizeof(resp->err_field), "trade_type");
		e = GYM_EINVAL;
	} else if (strlen(oid) >= sizeof(p->order_id))
		e = GYM_ENOTFOUND;
	else
		snprintf(p->order_id, sizeof(p->order_id), "%s", oid);
	cJSON_Delete(body);
	return e;
}

static cJSON *
prepay_json(const struct gym_prepay *pp)
{
	const struct gym_order *o = &pp->order;
	cJSON *out = cJSON_CreateObject(), *params;
	char url[96];

	cJSON_AddStringToObject(out, "order_id", o->order_id);
	if (pp->trade == GYM_TRADE_NATIVE) {
		snprintf(url, sizeof(url), "/api/v1/payment/wxpay/qrcode/%s", o->order_id);
		cJSON_AddStringToObject(out, "code_url", pp->pay_params.code_url);
		cJSON_AddStringToObject(out, "qrcode_url", url);
		return out;
	}
	cJSON_AddStringToObject(out, "prepay_id", pp->pay_params.prepay_id);
	params = cJSON_AddObjectToObject(out, "pay_params");
	cJSON_AddStringToObject(params, "timeStamp", pp->pay_params.timestamp);
	cJSON_AddStringToObject(params, "nonceStr", pp->pay_params.nonce);
	cJSON_AddStringToObject(params, "package", pp->pay_params.package);
	cJSON_AddStringToObject(params, "signType", "RSA");
	cJSON_AddStringToObject(params, "paySign", pp->pay_params.pay_sign);
	return out;
}

enum gym_err
gym_h_wxpay_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_pay *pay = gym_h_pay(req);
	struct gym_prepay pp;
	struct pay_req p;
	struct gym_actor a;
	char *snap = NULL;
	enum gym_err e;

	memset(&p, 0, sizeof(p));
	if ((e = parse(req, resp, &p)) != GYM_OK)
		return e;
	gym_h_actor(req, &a, &snap);
	e = gym_checkout_prepay(pay, &a, req->user_id, p.order_id, p.trade, &pp);
	free(snap);
	if (e != GYM_OK)
		return gym_h_upstream(pay, resp, e);
	return gym_resp_json(resp, 200, prepay_json(&pp));
}

enum gym_err
gym_h_wxpay_qrcode(struct gym_req *req, struct gym_resp *resp)
{
	unsigned char *png = NULL;
	size_t len = 0;
	enum gym_err e;

	if ((e = gym_checkout_qr_png(gym_h_pay(req), req->user_id, req->args[0], &png, &len)) !=
	    GYM_OK)
		return e;
	resp->status = 200;
	resp->content_type = "image/png";
	resp->body = (char *)png;
	resp->body_len = len;
	return GYM_OK;
}

/*
 * h_wxpay.c: POST /payment/wxpay/create (JSAPI pay_params or a Native
 * code_url) and GET /payment/wxpay/qrcode/{order_id}.  The order keeps its
 * out_trade_no across retries; WeChat's time_expire is the hold's expiry,
 * fixed at the first prepay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"
#include "qrpng.h"
#include "wxclient.h"

struct pay_req {
	char order_id[40];
	int native;
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
	    (strcmp(tt, "JSAPI") != 0 && strcmp(tt, "NATIVE") != 0)) {
		snprintf(resp->err_field, sizeof(resp->err_field), "trade_type");
		e = GYM_EINVAL;
	} else if (strlen(oid) >= sizeof(p->order_id))
		e = GYM_ENOTFOUND;
	else {
		snprintf(p->order_id, sizeof(p->order_id), "%s", oid);
		p->native = strcmp(tt, "NATIVE") == 0;
	}
	cJSON_Delete(body);
	return e;
}

static enum gym_err
prepay(struct gym_req *req, struct gym_resp *resp, const struct pay_req *p,
    const struct gym_order *o, cJSON *out)
{
	struct gym_wx_client *wx;
	struct gym_wx_payparams pp;
	struct gym_actor a;
	int64_t te = o->wx_time_expire ? o->wx_time_expire : o->res.expires_at;
	char openid[160], code_url[256], url[96], *snap = NULL;
	cJSON *params;
	enum gym_err e;

	if ((e = gym_wxclient_get(req->ctx, &wx)) != GYM_OK)
		return e;
	if (p->native)
		e = gym_wx_prepay_native(wx, o->order_id, o->amount_fen, te, code_url,
		    sizeof(code_url));
	else if ((e = gym_user_openid(req->ctx->db, req->user_id, openid, sizeof(openid))) == GYM_OK)
		e = gym_wx_prepay_jsapi(wx, o->order_id, openid, o->amount_fen, te, &pp);
	if (e == GYM_EUPSTREAM || e == GYM_ETIMEOUT)
		gym_wxclient_detail(req->ctx, resp);
	if (e != GYM_OK)
		return e;
	gym_h_actor(req, &a, &snap);
	e = gym_order_record_prepay(req->ctx->db, &a, o->order_id, p->native ? "NATIVE" : "JSAPI",
	    p->native ? NULL : pp.prepay_id, p->native ? code_url : NULL, te);
	free(snap);
	if (e != GYM_OK)
		return e;
	cJSON_AddStringToObject(out, "order_id", o->order_id);
	if (p->native) {
		snprintf(url, sizeof(url), "/api/v1/payment/wxpay/qrcode/%s", o->order_id);
		cJSON_AddStringToObject(out, "code_url", code_url);
		cJSON_AddStringToObject(out, "qrcode_url", url);
		return GYM_OK;
	}
	cJSON_AddStringToObject(out, "prepay_id", pp.prepay_id);
	params = cJSON_AddObjectToObject(out, "pay_params");
	cJSON_AddStringToObject(params, "timeStamp", pp.timestamp);
	cJSON_AddStringToObject(params, "nonceStr", pp.nonce);
	cJSON_AddStringToObject(params, "package", pp.package);
	cJSON_AddStringToObject(params, "signType", "RSA");
	cJSON_AddStringToObject(params, "paySign", pp.pay_sign);
	return GYM_OK;
}

enum gym_err
gym_h_wxpay_create(struct gym_req *req, struct gym_resp *resp)
{
	struct pay_req p;
	struct gym_order o;
	struct gym_actor a;
	char *snap = NULL;
	cJSON *out;
	enum gym_err e;

	memset(&p, 0, sizeof(p));
	if ((e = parse(req, resp, &p)) != GYM_OK)
		return e;
	gym_h_actor(req, &a, &snap);
	e = gym_order_prepare_pay(req->ctx->db, &a, req->user_id, p.order_id, &o);
	free(snap);
	if (e == GYM_E_ORDER_ALREADY_PAID)
		e = GYM_E_ORDER_NOT_PAYABLE;
	if (e != GYM_OK)
		return e;
	if ((out = cJSON_CreateObject()) == NULL)
		return GYM_ENOMEM;
	if ((e = prepay(req, resp, &p, &o, out)) != GYM_OK) {
		cJSON_Delete(out);
		return e;
	}
	return gym_resp_json(resp, 200, out);
}

enum gym_err
gym_h_wxpay_qrcode(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_order o;
	unsigned char *png = NULL;
	size_t len = 0;
	enum gym_err e;

	if ((e = gym_order_get(req->ctx->db, req->user_id, req->args[0], &o)) != GYM_OK)
		return e;
	if (strcmp(o.status, "pending") != 0 || o.code_url[0] == '\0')
		return GYM_E_ORDER_NOT_PAYABLE;
	if ((e = gym_qr_png(o.code_url, 6, &png, &len)) != GYM_OK)
		return e;
	resp->status = 200;
	resp->content_type = "image/png";
	resp->body = (char *)png;
	resp->body_len = len;
	return GYM_OK;
}

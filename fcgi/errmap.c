/*
 * errmap.c: the only table from enum gym_err to an HTTP status, the
 * contract's error code and a message fit to show a parent (api.md), and
 * the JSON error body {"code", "message", "request_id"} built from it.
 * A value outside the table (GYM_OK included) answers 500 INTERNAL_ERROR:
 * handing an unknown error to a client as success would be worse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "log.h"

struct errmap {
	int status;
	const char *code;
	const char *message;
};

#define M_INTERNAL { 500, "INTERNAL_ERROR", "系统繁忙，请稍后再试" }

static const struct errmap map[GYM_ERR__COUNT] = {
	[GYM_ENOMEM] = M_INTERNAL,
	[GYM_EINVAL] = { 400, "INVALID_REQUEST", "请求参数有误" },
	[GYM_ENOTFOUND] = { 404, "NOT_FOUND", "未找到" },
	[GYM_ECONFLICT] = { 409, "CONFLICT", "操作冲突，请刷新后重试" },
	[GYM_ERETRY] = { 503, "UNAVAILABLE", "服务繁忙，请稍后再试" },
	[GYM_EDB] = { 503, "UNAVAILABLE", "服务暂时不可用，请稍后再试" },
	[GYM_EINTERNAL] = M_INTERNAL,
	[GYM_EUPSTREAM] = { 502, "UPSTREAM_ERROR", "微信服务暂时不可用，请稍后再试" },
	[GYM_ETIMEOUT] = { 504, "UPSTREAM_TIMEOUT", "微信服务响应超时，请稍后再试" },
	[GYM_ECRYPTO] = M_INTERNAL,
	[GYM_ESYSTEM] = M_INTERNAL,
	[GYM_EUNAUTH] = { 401, "UNAUTHORIZED", "登录已失效，请重新登录" },
	[GYM_EFORBIDDEN] = { 403, "FORBIDDEN", "没有权限执行此操作" },
	[GYM_E_SCHEDULE_NOT_FOUND] = { 404, "SCHEDULE_NOT_FOUND", "课程不存在" },
	[GYM_E_SOLD_OUT] = { 409, "SOLD_OUT", "名额已满" },
	[GYM_E_TRIAL_ALREADY_BOOKED] = { 409, "TRIAL_ALREADY_BOOKED",
	    "您已预约过体验课，无法重复预约" },
	[GYM_E_ACTIVE_HOLD_EXISTS] = { 409, "ACTIVE_HOLD_EXISTS",
	    "您有一个未完成的预约，请先完成支付或取消" },
	[GYM_E_ALREADY_CONFIRMED] = { 409, "ALREADY_CONFIRMED", "预约已确认，无法取消" },
	[GYM_E_PAYMENT_PENDING] = { 409, "PAYMENT_PENDING", "支付结果确认中，请稍后再试" },
	[GYM_E_ORDER_NOT_PAYABLE] = { 409, "ORDER_NOT_PAYABLE", "该订单当前无法支付" },
	[GYM_E_ORDER_ALREADY_PAID] = { 409, "ORDER_ALREADY_PAID", "订单已支付" },
	[GYM_E_AMOUNT_MISMATCH] = { 400, "AMOUNT_MISMATCH", "订单金额有误" },
	[GYM_E_INVALID_CODE] = { 400, "INVALID_CODE", "登录凭证无效，请重新登录" },
	[GYM_E_IDEMPOTENCY_KEY_REUSED] = { 422, "IDEMPOTENCY_KEY_REUSED",
	    "请求标识已被其他请求使用" },
	[GYM_E_NOT_REFUNDABLE] = { 409, "NOT_REFUNDABLE", "该订单不可退款" },
	[GYM_E_REFUND_IN_PROGRESS] = { 409, "REFUND_IN_PROGRESS", "退款正在处理中" },
	[GYM_E_CAPACITY_BELOW_BOOKED] = { 409, "CAPACITY_BELOW_BOOKED",
	    "名额不能少于已预约人数" },
	[GYM_E_TOO_MANY_REQUESTS] = { 429, "TOO_MANY_REQUESTS", "请求过于频繁，请稍后再试" },
	[GYM_E_BUSY] = { 503, "UNAVAILABLE", "服务繁忙，请稍后再试" },
	[GYM_E_UNKNOWN_CHANNEL] = M_INTERNAL,
	[GYM_E_SEATS_AVAILABLE] = { 409, "SEATS_AVAILABLE", "该课程还有名额，请直接预约" },
	[GYM_E_CLASS_CANCELLED] = { 409, "CLASS_CANCELLED", "该课程已取消" },
	[GYM_E_PRODUCT_UNAVAILABLE] = { 404, "PRODUCT_UNAVAILABLE", "该商品不存在或已下架" },
	[GYM_E_NO_ENTITLEMENT] = { 409, "NO_ENTITLEMENT", "没有可用的会籍或课时" },
	[GYM_E_NOT_UPGRADE] = { 409, "NOT_AN_UPGRADE", "只能升级到更高级的会籍" },
	[GYM_E_WRONG_CLASS_KIND] = { 409, "WRONG_CLASS_KIND",
	    "体验课只能预约体验课程，会员课程请使用会籍或课时预约" },
};

static const struct errmap internal = M_INTERNAL;

static const struct errmap *
lookup(enum gym_err e)
{
	if ((int)e <= GYM_OK || e >= GYM_ERR__COUNT || map[e].code == NULL)
		return &internal;
	return &map[e];
}

int
gym_error_status(enum gym_err e)
{
	return lookup(e)->status;
}

const char *
gym_error_code(enum gym_err e)
{
	return lookup(e)->code;
}

/*
 * Build the error body into resp, replacing any body a handler left.
 * field and detail are added when not NULL.  When even that cannot be
 * allocated, the answer is a bodiless 500 (resp.c still writes headers).
 */
static void
error_body(struct gym_resp *resp, int status, const char *code, const char *message,
    const char *rid, const char *field, const char *detail, const char *alternatives)
{
	cJSON *o, *alt = NULL;

	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->content_type = NULL;
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "code", code) == NULL ||
	    cJSON_AddStringToObject(o, "message", message) == NULL ||
	    cJSON_AddStringToObject(o, "request_id", rid ? rid : "") == NULL ||
	    (field != NULL && cJSON_AddStringToObject(o, "field", field) == NULL) ||
	    (detail != NULL && cJSON_AddStringToObject(o, "detail", detail) == NULL) ||
	    (alternatives != NULL && ((alt = cJSON_Parse(alternatives)) == NULL ||
	    !cJSON_AddItemToObject(o, "alternatives", alt)))) {
		if (alt != NULL && cJSON_GetObjectItem(o, "alternatives") != alt)
			cJSON_Delete(alt);
		cJSON_Delete(o);
		gym_log_errx("could not build the error body for %d %s", status, code);
		resp->status = 500;
		return;
	}
	if (gym_resp_json(resp, status, o) != GYM_OK) {
		gym_log_errx("could not print the error body for %d %s", status, code);
		resp->status = 500;
	}
}

void
gym_error_simple(struct gym_resp *resp, int status, const char *code,
    const char *message, const char *rid)
{
	error_body(resp, status, code, message, rid, NULL, NULL, NULL);
}

void
gym_error_response(enum gym_err e, const struct gym_req *req, struct gym_resp *resp)
{
	const struct errmap *m = lookup(e);
	const char *rid = req != NULL ? req->request_id : NULL;
	const char *field = NULL, *detail = NULL, *alternatives = NULL;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", m->message);
	if (e == GYM_EINVAL && resp->err_field[0] != '\0') {
		field = resp->err_field;
		snprintf(msg, sizeof(msg), "%s: %s", m->message, field);
	}
	if (e == GYM_EUPSTREAM && resp->err_detail[0] != '\0')
		detail = resp->err_detail;
	/* SOLD_OUT: the classes to try instead (an empty list when none) */
	if (e == GYM_E_SOLD_OUT)
		alternatives = resp->err_alternatives[0] != '\0' ? resp->err_alternatives : "[]";
	error_body(resp, m->status, m->code, msg, rid, field, detail, alternatives);
	/* the WeChat gates: a short wait is enough */
	if ((e == GYM_E_TOO_MANY_REQUESTS || e == GYM_E_BUSY) &&
	    gym_resp_header(resp, "Retry-After", "1") != GYM_OK)
		gym_log_warnx("could not add Retry-After");
}

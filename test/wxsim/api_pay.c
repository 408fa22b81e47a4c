/*
 * api_pay.c: prepay, query and close.  An order is created by its first
 * prepay and keyed by out_trade_no.  Repeating a prepay with the same
 * appid, amount, description, trade type and time_expire hands out a
 * fresh prepay_id (Native: the same code_url); anything else under the
 * same out_trade_no is 268498688, "订单号重复".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#include "api_pay.h"
#include "state.h"
#include "util.h"
#include "v3.h"

#define OUT_TRADE_NO_CHARS \
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-|*"
#define MIN_EXPIRE	60			/* at least a minute ahead */
#define MAX_EXPIRE	(90L * 24 * 3600)	/* at most 90 days */
#define DEFAULT_EXPIRE	(7L * 24 * 3600)

/* A prepay request's fields, pointing into its JSON. */
struct prepay {
	const char *appid, *mchid, *description, *out_trade_no, *notify_url;
	const char *time_expire, *attach, *openid;
	long total;
	time_t expire_at;
};

static const char *
state_desc(enum wxsim_trade_state s)
{
	switch (s) {
	case WXSIM_NOTPAY: return "订单未支付";
	case WXSIM_SUCCESS: return "支付成功";
	case WXSIM_REFUND: return "转入退款";
	case WXSIM_CLOSED: return "订单已关闭";
	case WXSIM_PAYERROR: return "支付失败，请重新下单支付";
	}
	return "";
}

cJSON *
wxsim_pay_transaction(const struct wxsim_order *o)
{
	cJSON *j, *a, *p;
	int paid = o->transaction_id[0] != '\0';

	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(j, "appid", o->appid) == NULL ||
	    cJSON_AddStringToObject(j, "mchid", o->mchid) == NULL ||
	    cJSON_AddStringToObject(j, "out_trade_no", o->out_trade_no) == NULL ||
	    (paid && cJSON_AddStringToObject(j, "transaction_id", o->transaction_id) == NULL) ||
	    cJSON_AddStringToObject(j, "trade_type", o->trade_type) == NULL ||
	    cJSON_AddStringToObject(j, "trade_state", wxsim_state_name(o->state)) == NULL ||
	    cJSON_AddStringToObject(j, "trade_state_desc", state_desc(o->state)) == NULL ||
	    (paid && cJSON_AddStringToObject(j, "bank_type", "OTHERS") == NULL) ||
	    (o->attach != NULL && cJSON_AddStringToObject(j, "attach", o->attach) == NULL) ||
	    (paid && cJSON_AddStringToObject(j, "success_time", o->success_time) == NULL) ||
	    (p = cJSON_AddObjectToObject(j, "payer")) == NULL ||
	    (o->openid != NULL && cJSON_AddStringToObject(p, "openid", o->openid) == NULL) ||
	    (a = cJSON_AddObjectToObject(j, "amount")) == NULL ||
	    cJSON_AddNumberToObject(a, "total", (double)o->total) == NULL ||
	    (paid && cJSON_AddNumberToObject(a, "payer_total", (double)o->total) == NULL) ||
	    cJSON_AddStringToObject(a, "currency", "CNY") == NULL ||
	    cJSON_AddStringToObject(a, "payer_currency", "CNY") == NULL ||
	    cJSON_AddArrayToObject(j, "promotion_detail") == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int
wxsim_pay_settle(struct wxsim_state *st, struct wxsim_order *o, enum wxsim_trade_state to)
{
	char digits[24];
	int tries;

	if (to == WXSIM_SUCCESS) {
		for (tries = 0; tries < 10; tries++) {
			if (wxsim_util_digits(digits, 23) != 0)
				return -1;
			snprintf(o->transaction_id, sizeof(o->transaction_id), "42000%s", digits);
			if (wxsim_state_order_by_txid(st, o->transaction_id) == o)
				break;
		}
		if (tries == 10) {
			o->transaction_id[0] = '\0';
			return -1;
		}
		wxsim_util_time_cst(wxsim_util_now(), o->success_time, sizeof(o->success_time));
		st->n.paid++;
	}
	o->state = to;
	return 0;
}

/* Read and check a prepay body into p; 0, or -1 after answering. */
static int
parse_prepay(struct wxsim *sim, const cJSON *j, int jsapi, struct prepay *p,
    struct wxsim_resp *resp)
{
	const cJSON *amount, *payer;
	const char *currency;
	long n;
	time_t now = wxsim_util_now();

	memset(p, 0, sizeof(*p));
	if ((p->appid = wxsim_v3_str(j, "appid")) == NULL || p->appid[0] == '\0') {
		wxsim_v3_param_error(resp, "body", "appid", "缺少必填参数appid");
		return -1;
	}
	if ((p->mchid = wxsim_v3_str(j, "mchid")) == NULL || p->mchid[0] == '\0') {
		wxsim_v3_param_error(resp, "body", "mchid", "缺少必填参数mchid");
		return -1;
	}
	if ((p->description = wxsim_v3_str(j, "description")) == NULL ||
	    (n = wxsim_util_utf8_len(p->description)) < 1 || n > 127) {
		wxsim_v3_param_error(resp, "body", "description",
		    "description必须是1到127个字符的UTF-8字符串");
		return -1;
	}
	if ((p->out_trade_no = wxsim_v3_str(j, "out_trade_no")) == NULL ||
	    !wxsim_util_charset(p->out_trade_no, 6, 32, OUT_TRADE_NO_CHARS)) {
		wxsim_v3_param_error(resp, "body", "out_trade_no",
		    "out_trade_no必须是6到32位数字、大小写字母或_-|*");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "time_expire") != NULL &&
	    ((p->time_expire = wxsim_v3_str(j, "time_expire")) == NULL ||
	    wxsim_util_rfc3339(p->time_expire, &p->expire_at) != 0)) {
		wxsim_v3_param_error(resp, "body", "time_expire",
		    "字符串必须是符合 RFC3339 日期时间格式");
		return -1;
	}
	if ((p->notify_url = wxsim_v3_str(j, "notify_url")) == NULL ||
	    strlen(p->notify_url) > 255 ||
	    (strncmp(p->notify_url, "https://", 8) != 0 &&
	    strncmp(p->notify_url, "http://", 7) != 0) ||
	    strchr(p->notify_url, '?') != NULL || strchr(p->notify_url, ' ') != NULL) {
		wxsim_v3_param_error(resp, "body", "notify_url",
		    "notify_url必须是不带参数、长度不超过255的http(s)地址");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "attach") != NULL &&
	    ((p->attach = wxsim_v3_str(j, "attach")) == NULL ||
	    wxsim_util_utf8_len(p->attach) < 0 || wxsim_util_utf8_len(p->attach) > 128)) {
		wxsim_v3_param_error(resp, "body", "attach", "attach长度不能超过128");
		return -1;
	}
	amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
	if (!cJSON_IsObject(amount) || wxsim_v3_int(amount, "total", &p->total) != 1 ||
	    p->total < 1) {
		wxsim_v3_param_error(resp, "body", "amount.total",
		    "amount.total必须是大于0的整数(分)");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(amount, "currency") != NULL &&
	    ((currency = wxsim_v3_str(amount, "currency")) == NULL ||
	    strcmp(currency, "CNY") != 0)) {
		wxsim_v3_param_error(resp, "body", "amount.currency", "currency必须是CNY");
		return -1;
	}
	payer = cJSON_GetObjectItemCaseSensitive(j, "payer");
	if (jsapi && (!cJSON_IsObject(payer) ||
	    (p->openid = wxsim_v3_str(payer, "openid")) == NULL || p->openid[0] == '\0' ||
	    strlen(p->openid) > 128)) {
		wxsim_v3_param_error(resp, "body", "payer.openid", "JSAPI支付必须传openid");
		resp->wx_code = WXSIM_WX_OPENID;
		return -1;
	}
	if (strcmp(p->appid, sim->cfg.appid) != 0) {
		wxsim_v3_error(resp, 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配",
		    WXSIM_WX_APPID_MCHID);
		return -1;
	}
	if (strcmp(p->mchid, sim->cfg.mchid) != 0) {
		wxsim_v3_error(resp, 400, "INVALID_REQUEST",
		    "请求体中的mchid与请求方商户号不一致", WXSIM_WX_APPID_MCHID);
		return -1;
	}
	/* WeChat moves a too-early expiry to a minute ahead and caps it at
	 * 90 days; without one the order lives 7 days. */
	if (p->time_expire == NULL)
		p->expire_at = now + DEFAULT_EXPIRE;
	else if (p->expire_at < now + MIN_EXPIRE)
		p->expire_at = now + MIN_EXPIRE;
	else if (p->expire_at > now + MAX_EXPIRE)
		p->expire_at = now + MAX_EXPIRE;
	return 0;
}

/* Same order parameters as the first prepay? */
static int
same_params(const struct wxsim_order *o, const struct prepay *p, const char *trade_type)
{
	time_t a, b;

	if (strcmp(o->appid, p->appid) != 0 || o->total != p->total ||
	    strcmp(o->description, p->description) != 0 ||
	    strcmp(o->trade_type, trade_type) != 0)
		return 0;
	if ((o->time_expire == NULL) != (p->time_expire == NULL))
		return 0;
	if (o->time_expire != NULL && (wxsim_util_rfc3339(o->time_expire, &a) != 0 ||
	    wxsim_util_rfc3339(p->time_expire, &b) != 0 || a != b))
		return 0;
	return 1;
}

static char *
dup_opt(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = 1;
	return d;
}

static struct wxsim_order *
order_new(const struct prepay *p, const char *trade_type)
{
	struct wxsim_order *o;
	char pr[9];
	int failed = 0;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->out_trade_no = dup_opt(p->out_trade_no, &failed);
	o->appid = dup_opt(p->appid, &failed);
	o->mchid = dup_opt(p->mchid, &failed);
	o->description = dup_opt(p->description, &failed);
	o->notify_url = dup_opt(p->notify_url, &failed);
	o->attach = dup_opt(p->attach, &failed);
	o->openid = dup_opt(p->openid, &failed);
	o->time_expire = dup_opt(p->time_expire, &failed);
	snprintf(o->trade_type, sizeof(o->trade_type), "%s", trade_type);
	o->total = p->total;
	o->created = wxsim_util_now();
	o->expire_at = p->expire_at;
	o->state = WXSIM_NOTPAY;
	if (strcmp(trade_type, "NATIVE") == 0) {
		/* 8 random alphanumerics, as in weixin://wxpay/bizpayurl?pr=JyC91EIz1 */
		if (gym_random_alnum(pr, 8) != GYM_OK)
			failed = 1;
		snprintf(o->code_url, sizeof(o->code_url), "weixin://wxpay/bizpayurl?pr=%s", pr);
	}
	if (failed) {
		wxsim_order_free(o);
		return NULL;
	}
	return o;
}

/* A fresh prepay_id for o, remembered for /sim/request-payment: "wx",
 * the CST time to the second and 16 hex digits (32 characters). */
static int
new_prepay(struct wxsim_state *st, struct wxsim_order *o)
{
	struct wxsim_prepay *pp;
	struct tm tm;
	char stamp[16], hex[17];
	time_t t = wxsim_util_now() + 8 * 3600;

	if (gmtime_r(&t, &tm) == NULL || strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm) == 0 ||
	    wxsim_util_hex(hex, 16) != 0 || (pp = calloc(1, sizeof(*pp))) == NULL)
		return -1;
	snprintf(pp->prepay_id, sizeof(pp->prepay_id), "wx%s%s", stamp, hex);
	pp->issued = wxsim_util_now();
	if ((pp->out_trade_no = strdup(o->out_trade_no)) == NULL) {
		wxsim_prepay_free(pp);
		return -1;
	}
	snprintf(o->prepay_id, sizeof(o->prepay_id), "%s", pp->prepay_id);
	o->prepay_count++;
	return wxsim_state_add_prepay(st, pp);
}

/* 200 {"prepay_id"} or {"code_url"} for o. */
static void
prepay_answer(struct wxsim_resp *resp, const struct wxsim_order *o)
{
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL ||
	    (o->code_url[0] != '\0' ?
	    cJSON_AddStringToObject(j, "code_url", o->code_url) :
	    cJSON_AddStringToObject(j, "prepay_id", o->prepay_id)) == NULL) {
		cJSON_Delete(j);
		wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
		return;
	}
	wxsim_resp_json(resp, 200, j);
}

static void
prepay(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp, int jsapi)
{
	struct wxsim_state *st = sim->state;
	const char *trade_type = jsapi ? "JSAPI" : "NATIVE";
	struct wxsim_order *o, *created = NULL;
	struct prepay p;
	cJSON *j;

	if ((j = wxsim_v3_body(req, resp)) == NULL)
		return;
	if (parse_prepay(sim, j, jsapi, &p, resp) != 0) {
		cJSON_Delete(j);
		return;
	}
	wxsim_state_lock(st);
	st->n.prepay_calls++;
	if ((o = wxsim_state_order(st, p.out_trade_no)) != NULL) {
		if (o->state == WXSIM_SUCCESS || o->state == WXSIM_REFUND) {
			wxsim_v3_error(resp, 400, "ORDERPAID", "该订单已支付", WXSIM_WX_PAID);
			goto out;
		}
		if (o->state == WXSIM_CLOSED) {
			wxsim_v3_error(resp, 400, "ORDER_CLOSED", "订单已关闭", 0);
			goto out;
		}
		if (!same_params(o, &p, trade_type)) {
			wxsim_v3_error(resp, 400, "INVALID_REQUEST",
			    "268498688 订单号重复：同一商户订单号的下单参数与之前不一致",
			    WXSIM_WX_DUPLICATE);
			goto out;
		}
		if (wxsim_util_now() > o->expire_at) {
			wxsim_v3_error(resp, 400, "INVALID_REQUEST", "订单已过期",
			    WXSIM_WX_EXPIRED);
			goto out;
		}
		if (o->state == WXSIM_PAYERROR)
			o->state = WXSIM_NOTPAY;
	} else {
		if ((created = order_new(&p, trade_type)) == NULL ||
		    wxsim_state_add_order(st, created) != 0) {
			wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
			goto out;
		}
		o = created;
	}
	if (new_prepay(st, o) != 0) {
		wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
		goto out;
	}
	prepay_answer(resp, o);
out:
	wxsim_state_unlock(st);
	cJSON_Delete(j);
}

void
wxsim_pay_jsapi(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	prepay(sim, req, resp, 1);
}

void
wxsim_pay_native(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	prepay(sim, req, resp, 0);
}

static void
answer_order(struct wxsim_resp *resp, const struct wxsim_order *o)
{
	cJSON *j;

	if (o == NULL) {
		wxsim_v3_error(resp, 404, "ORDER_NOT_EXIST", "订单不存在", WXSIM_WX_NOT_FOUND);
		return;
	}
	if ((j = wxsim_pay_transaction(o)) == NULL) {
		wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
		return;
	}
	wxsim_resp_json(resp, 200, j);
}

void
wxsim_pay_query(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	if (wxsim_v3_mchid_query(sim, req, resp) != 0)
		return;
	wxsim_state_lock(sim->state);
	answer_order(resp, wxsim_state_order(sim->state, req->params[0]));
	wxsim_state_unlock(sim->state);
}

void
wxsim_pay_query_id(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	if (wxsim_v3_mchid_query(sim, req, resp) != 0)
		return;
	wxsim_state_lock(sim->state);
	answer_order(resp, wxsim_state_order_by_txid(sim->state, req->params[0]));
	wxsim_state_unlock(sim->state);
}

void
wxsim_pay_close(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct wxsim_state *st = sim->state;
	struct wxsim_order *o;
	const char *mchid;
	cJSON *j;

	if ((j = wxsim_v3_body(req, resp)) == NULL)
		return;
	if ((mchid = wxsim_v3_str(j, "mchid")) == NULL || mchid[0] == '\0') {
		wxsim_v3_param_error(resp, "body", "mchid", "缺少必填参数mchid");
		goto out;
	}
	if (strcmp(mchid, sim->cfg.mchid) != 0) {
		wxsim_v3_error(resp, 400, "INVALID_REQUEST",
		    "请求体中的mchid与请求方商户号不一致", WXSIM_WX_APPID_MCHID);
		goto out;
	}
	wxsim_state_lock(st);
	st->n.close_calls++;
	if ((o = wxsim_state_order(st, req->params[0])) == NULL)
		wxsim_v3_error(resp, 404, "ORDER_NOT_EXIST", "订单不存在", WXSIM_WX_NOT_FOUND);
	else if (o->state == WXSIM_SUCCESS || o->state == WXSIM_REFUND)
		wxsim_v3_error(resp, 400, "ORDERPAID", "订单已支付", WXSIM_WX_PAID);
	else {
		o->state = WXSIM_CLOSED;
		o->close_count++;
		wxsim_resp_set(resp, 204, NULL, NULL, 0);
	}
	wxsim_state_unlock(st);
out:
	cJSON_Delete(j);
}

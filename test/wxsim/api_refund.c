/*
 * api_refund.c: refunds, idempotent per out_refund_no: asking again with
 * the same out_refund_no answers the refund already made and never makes
 * a second one.  Refunds of one order may not add up to more than it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api_refund.h"
#include "notify.h"
#include "sched.h"
#include "state.h"
#include "util.h"
#include "v3.h"

#define OUT_REFUND_NO_CHARS \
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-|*@"

/* The job that settles one refund. */
struct settle {
	struct wxsim *sim;
	unsigned gen;
	char *out_refund_no;
};

/* The Refund object the API answers; NULL when out of memory. */
static cJSON *
refund_json(const struct wxsim_refund *r)
{
	cJSON *j, *a;

	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(j, "refund_id", r->refund_id) == NULL ||
	    cJSON_AddStringToObject(j, "out_refund_no", r->out_refund_no) == NULL ||
	    cJSON_AddStringToObject(j, "transaction_id", r->transaction_id) == NULL ||
	    cJSON_AddStringToObject(j, "out_trade_no", r->out_trade_no) == NULL ||
	    cJSON_AddStringToObject(j, "channel", "ORIGINAL") == NULL ||
	    cJSON_AddStringToObject(j, "user_received_account", "支付用户零钱") == NULL ||
	    (r->success_time[0] != '\0' &&
	    cJSON_AddStringToObject(j, "success_time", r->success_time) == NULL) ||
	    cJSON_AddStringToObject(j, "create_time", r->create_time) == NULL ||
	    cJSON_AddStringToObject(j, "status", r->status) == NULL ||
	    cJSON_AddStringToObject(j, "funds_account", "AVAILABLE") == NULL ||
	    (a = cJSON_AddObjectToObject(j, "amount")) == NULL ||
	    cJSON_AddNumberToObject(a, "total", (double)r->total) == NULL ||
	    cJSON_AddNumberToObject(a, "refund", (double)r->refund) == NULL ||
	    cJSON_AddArrayToObject(a, "from") == NULL ||
	    cJSON_AddNumberToObject(a, "payer_total", (double)r->total) == NULL ||
	    cJSON_AddNumberToObject(a, "payer_refund", (double)r->refund) == NULL ||
	    cJSON_AddNumberToObject(a, "settlement_refund", (double)r->refund) == NULL ||
	    cJSON_AddNumberToObject(a, "settlement_total", (double)r->total) == NULL ||
	    cJSON_AddNumberToObject(a, "discount_refund", 0) == NULL ||
	    cJSON_AddStringToObject(a, "currency", "CNY") == NULL ||
	    cJSON_AddArrayToObject(j, "promotion_detail") == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* The decrypted resource of a REFUND.* notification, as text. */
static char *
refund_plain(const struct wxsim_refund *r, const char *mchid)
{
	cJSON *j, *a;
	char *s = NULL;

	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(j, "mchid", mchid) != NULL &&
	    cJSON_AddStringToObject(j, "transaction_id", r->transaction_id) != NULL &&
	    cJSON_AddStringToObject(j, "out_trade_no", r->out_trade_no) != NULL &&
	    cJSON_AddStringToObject(j, "refund_id", r->refund_id) != NULL &&
	    cJSON_AddStringToObject(j, "out_refund_no", r->out_refund_no) != NULL &&
	    cJSON_AddStringToObject(j, "refund_status", r->status) != NULL &&
	    (r->success_time[0] == '\0' ||
	    cJSON_AddStringToObject(j, "success_time", r->success_time) != NULL) &&
	    cJSON_AddStringToObject(j, "user_received_account", "支付用户零钱") != NULL &&
	    (a = cJSON_AddObjectToObject(j, "amount")) != NULL &&
	    cJSON_AddNumberToObject(a, "total", (double)r->total) != NULL &&
	    cJSON_AddNumberToObject(a, "refund", (double)r->refund) != NULL &&
	    cJSON_AddNumberToObject(a, "payer_total", (double)r->total) != NULL &&
	    cJSON_AddNumberToObject(a, "payer_refund", (double)r->refund) != NULL)
		s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static void
settle_free(void *arg)
{
	struct settle *s = arg;

	if (s == NULL)
		return;
	free(s->out_refund_no);
	free(s);
}

/* PROCESSING -> final status, then the notification. */
static int64_t
settle(void *arg)
{
	struct settle *s = arg;
	struct wxsim_state *st = s->sim->state;
	struct wxsim_refund *r;
	struct wxsim_order *o;
	char *plain = NULL, *url = NULL, event[32], summary[32];

	wxsim_state_lock(st);
	if (s->gen != st->gen || (r = wxsim_state_refund(st, s->out_refund_no)) == NULL ||
	    strcmp(r->status, "PROCESSING") != 0) {
		wxsim_state_unlock(st);
		return -1;
	}
	snprintf(r->status, sizeof(r->status), "%s", r->final_status);
	o = wxsim_state_order(st, r->out_trade_no);
	if (strcmp(r->status, "SUCCESS") == 0) {
		wxsim_util_time_cst(wxsim_util_now(), r->success_time, sizeof(r->success_time));
		if (o != NULL)
			o->state = WXSIM_REFUND;
		snprintf(summary, sizeof(summary), "退款成功");
	} else if (strcmp(r->status, "CLOSED") == 0) {
		if (o != NULL)
			o->refunded -= r->refund;
		snprintf(summary, sizeof(summary), "退款关闭");
	} else
		snprintf(summary, sizeof(summary), "退款异常");
	snprintf(event, sizeof(event), "REFUND.%s", r->status);
	if (r->notify_url != NULL && (url = strdup(r->notify_url)) != NULL)
		plain = refund_plain(r, s->sim->cfg.mchid);
	wxsim_state_unlock(st);
	wxsim_util_log("refund %s: %s", s->out_refund_no, event);
	if (plain != NULL)
		wxsim_notify_send(s->sim, url, event, summary, "refund", s->out_refund_no, plain);
	else if (url != NULL)
		wxsim_util_log("could not build the notification of refund %s",
		    s->out_refund_no);
	if (plain != NULL)
		cJSON_free(plain);
	free(url);
	return -1;
}

/* Fields of a refund request; 0, or -1 after answering. */
static int
parse_refund(const cJSON *j, const char **out_refund_no, const char **out_trade_no,
    const char **transaction_id, const char **reason, const char **notify_url,
    long *refund, long *total, struct wxsim_resp *resp)
{
	const cJSON *amount;
	const char *currency;
	long n;

	*out_refund_no = wxsim_v3_str(j, "out_refund_no");
	*out_trade_no = wxsim_v3_str(j, "out_trade_no");
	*transaction_id = wxsim_v3_str(j, "transaction_id");
	*reason = wxsim_v3_str(j, "reason");
	*notify_url = wxsim_v3_str(j, "notify_url");
	if (!wxsim_util_charset(*out_refund_no, 1, 64, OUT_REFUND_NO_CHARS)) {
		wxsim_v3_param_error(resp, "body", "out_refund_no",
		    "out_refund_no必须是1到64位数字、大小写字母或_-|*@");
		return -1;
	}
	if ((*out_trade_no == NULL || (*out_trade_no)[0] == '\0') &&
	    (*transaction_id == NULL || (*transaction_id)[0] == '\0')) {
		wxsim_v3_param_error(resp, "body", "out_trade_no",
		    "transaction_id和out_trade_no必须二选一");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "reason") != NULL &&
	    (*reason == NULL || (n = wxsim_util_utf8_len(*reason)) < 0 || n > 80)) {
		wxsim_v3_param_error(resp, "body", "reason", "reason长度不能超过80");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "notify_url") != NULL &&
	    (*notify_url == NULL || strlen(*notify_url) > 256 ||
	    (strncmp(*notify_url, "https://", 8) != 0 &&
	    strncmp(*notify_url, "http://", 7) != 0) || strchr(*notify_url, '?') != NULL)) {
		wxsim_v3_param_error(resp, "body", "notify_url",
		    "notify_url必须是不带参数、长度不超过256的http(s)地址");
		return -1;
	}
	amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
	if (!cJSON_IsObject(amount) || wxsim_v3_int(amount, "refund", refund) != 1 ||
	    *refund < 1) {
		wxsim_v3_param_error(resp, "body", "amount.refund",
		    "amount.refund必须是大于0的整数(分)");
		return -1;
	}
	if (wxsim_v3_int(amount, "total", total) != 1 || *total < 1) {
		wxsim_v3_param_error(resp, "body", "amount.total",
		    "amount.total必须是大于0的整数(分)");
		return -1;
	}
	if ((currency = wxsim_v3_str(amount, "currency")) == NULL ||
	    strcmp(currency, "CNY") != 0) {
		wxsim_v3_param_error(resp, "body", "amount.currency", "currency必须是CNY");
		return -1;
	}
	return 0;
}

static void
answer_refund(struct wxsim_resp *resp, const struct wxsim_refund *r)
{
	cJSON *j;

	if ((j = refund_json(r)) == NULL) {
		wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
		return;
	}
	wxsim_resp_json(resp, 200, j);
}

void
wxsim_refund_create(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct wxsim_state *st = sim->state;
	const char *out_refund_no, *out_trade_no, *transaction_id, *reason, *notify_url;
	struct wxsim_refund *r = NULL;
	struct wxsim_order *o;
	struct settle *s = NULL;
	char digits[28];
	long refund, total, delay = 0;
	cJSON *j;

	if ((j = wxsim_v3_body(req, resp)) == NULL)
		return;
	if (parse_refund(j, &out_refund_no, &out_trade_no, &transaction_id, &reason,
	    &notify_url, &refund, &total, resp) != 0) {
		cJSON_Delete(j);
		return;
	}
	wxsim_state_lock(st);
	if ((r = wxsim_state_refund(st, out_refund_no)) != NULL) {
		/* The same out_refund_no: the same refund, never a second. */
		answer_refund(resp, r);
		r = NULL;
		goto out;
	}
	o = out_trade_no != NULL && out_trade_no[0] != '\0' ?
	    wxsim_state_order(st, out_trade_no) :
	    wxsim_state_order_by_txid(st, transaction_id);
	if (o != NULL && transaction_id != NULL && transaction_id[0] != '\0' &&
	    strcmp(o->transaction_id, transaction_id) != 0)
		o = NULL;
	if (o == NULL || (o->state != WXSIM_SUCCESS && o->state != WXSIM_REFUND)) {
		wxsim_v3_error(resp, 404, "RESOURCE_NOT_EXISTS", "订单不存在或未支付",
		    WXSIM_WX_NOT_FOUND);
		goto out;
	}
	if (total != o->total) {
		wxsim_v3_error(resp, 400, "INVALID_REQUEST", "订单金额与原订单金额不一致", 0);
		goto out;
	}
	if (refund > total || refund > o->total - o->refunded) {
		wxsim_v3_error(resp, 400, "INVALID_REQUEST", "申请退款金额超过订单可退金额", 0);
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->out_refund_no = strdup(out_refund_no)) == NULL ||
	    (r->out_trade_no = strdup(o->out_trade_no)) == NULL ||
	    (reason != NULL && (r->reason = strdup(reason)) == NULL) ||
	    (notify_url != NULL && (r->notify_url = strdup(notify_url)) == NULL) ||
	    wxsim_util_digits(digits, 27) != 0 ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    (s->out_refund_no = strdup(out_refund_no)) == NULL) {
		wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
		goto out;
	}
	snprintf(r->refund_id, sizeof(r->refund_id), "50%s", digits);
	snprintf(r->transaction_id, sizeof(r->transaction_id), "%s", o->transaction_id);
	r->refund = refund;
	r->total = total;
	snprintf(r->status, sizeof(r->status), "PROCESSING");
	snprintf(r->final_status, sizeof(r->final_status), "%s", st->faults.refund_result);
	wxsim_util_time_cst(wxsim_util_now(), r->create_time, sizeof(r->create_time));
	delay = st->faults.refund_delay_ms >= 0 ? st->faults.refund_delay_ms :
	    sim->cfg.refund_delay_ms;
	s->sim = sim;
	s->gen = st->gen;
	o->refunded += refund;
	answer_refund(resp, r);
	if (wxsim_state_add_refund(st, r) != 0) {
		r = NULL;
		o->refunded -= refund;
		wxsim_v3_error(resp, 500, "SYSTEM_ERROR", "系统错误", 0);
		goto out;
	}
	r = NULL;
	st->n.refunds_created++;
	wxsim_state_unlock(st);
	wxsim_util_log("refund %s of %s: %ld fen, PROCESSING", out_refund_no,
	    out_trade_no != NULL ? out_trade_no : transaction_id, refund);
	if (wxsim_sched_add(sim->sched, delay, settle, settle_free, s) != 0)
		wxsim_util_log("could not schedule the settlement of refund %s", out_refund_no);
	cJSON_Delete(j);
	return;
out:
	wxsim_state_unlock(st);
	wxsim_refund_free(r);
	settle_free(s);
	cJSON_Delete(j);
}

void
wxsim_refund_query(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct wxsim_refund *r;

	wxsim_state_lock(sim->state);
	if ((r = wxsim_state_refund(sim->state, req->params[0])) == NULL)
		wxsim_v3_error(resp, 404, "RESOURCE_NOT_EXISTS", "退款单不存在",
		    WXSIM_WX_NOT_FOUND);
	else
		answer_refund(resp, r);
	wxsim_state_unlock(sim->state);
}

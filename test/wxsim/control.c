/*
 * control.c: the /sim endpoints and /healthz.  Errors here are
 * {"code","message"} with a 4xx status; nothing is signed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "crypto.h"

#include "api_pay.h"
#include "control.h"
#include "notify.h"
#include "sched.h"
#include "state.h"
#include "util.h"
#include "v3.h"

#define PREPAY_TTL (2 * 3600)

/* The result of playing the payer. */
struct payment {
	int status;			/* HTTP status to answer */
	const char *code, *message;	/* when status is not 200 */
	cJSON *tx;			/* the Transaction, when 200 */
};

static int
is_form(const struct wxsim_req *req)
{
	const char *ct = wxsim_http_header(req, "Content-Type");

	return ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* Argument name from the JSON body j, the form body or the query;
 * malloc'd or NULL. */
static char *
arg(const struct wxsim_req *req, const cJSON *j, const char *name)
{
	const cJSON *v;
	char *s;

	if (j != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(j, name);
		if (cJSON_IsString(v))
			return strdup(v->valuestring);
		if (cJSON_IsBool(v))
			return strdup(cJSON_IsTrue(v) ? "true" : "false");
		return NULL;
	}
	if (is_form(req) && (s = wxsim_http_param(req->body, name)) != NULL)
		return s;
	return wxsim_http_param(req->query, name);
}

static int
arg_bool(const struct wxsim_req *req, const cJSON *j, const char *name)
{
	char *s = arg(req, j, name);
	int v = s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0);

	free(s);
	return v;
}

/* The request body as a JSON object when it is JSON; *bad when it should
 * have been and is not. */
static cJSON *
json_body(const struct wxsim_req *req, int *bad)
{
	cJSON *j;

	*bad = 0;
	if (req->blen == 0 || is_form(req))
		return NULL;
	if ((j = cJSON_ParseWithLength(req->body, req->blen)) == NULL || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		*bad = 1;
		return NULL;
	}
	return j;
}

void
wxsim_control_healthz(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	(void)sim;
	(void)req;
	wxsim_resp_set(resp, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

/*
 * Pay the order named by out_trade_no, code_url or prepay_id, leaving it
 * in state to.  A paid order is refused (ORDERPAID) unless resend is set,
 * which sends its TRANSACTION.SUCCESS again; a closed or expired one
 * unless force is set.
 */
static void
pay(struct wxsim *sim, const char *out_trade_no, const char *code_url,
    const char *prepay_id, enum wxsim_trade_state to, int force, int resend,
    time_t success_at, struct payment *p)
{
	struct wxsim_state *st = sim->state;
	struct wxsim_order *o = NULL, copy;
	struct wxsim_prepay *pp;
	char *plain = NULL, *url = NULL, *ref = NULL;
	cJSON *tx;

	memset(p, 0, sizeof(*p));
	wxsim_state_lock(st);
	if (out_trade_no != NULL && out_trade_no[0] != '\0')
		o = wxsim_state_order(st, out_trade_no);
	else if (code_url != NULL && code_url[0] != '\0')
		o = wxsim_state_order_by_code_url(st, code_url);
	else if (prepay_id != NULL && (pp = wxsim_state_prepay(st, prepay_id)) != NULL)
		o = wxsim_state_order(st, pp->out_trade_no);
	p->status = 409;
	if (o == NULL) {
		p->status = 404;
		p->code = "ORDER_NOT_EXIST";
		p->message = "no such order";
	} else if ((o->state == WXSIM_SUCCESS || o->state == WXSIM_REFUND) &&
	    !(resend && to == WXSIM_SUCCESS)) {
		p->code = "ORDERPAID";
		p->message = "the order is paid already (resend:true sends its notification again)";
	} else if (o->state == WXSIM_CLOSED && !force) {
		p->code = "ORDER_CLOSED";
		p->message = "the order is closed (force:true pays it anyway)";
	} else if (o->state != WXSIM_SUCCESS && o->state != WXSIM_REFUND && !force &&
	    wxsim_util_now() > o->expire_at) {
		p->code = "ORDER_EXPIRED";
		p->message = "the order has expired (force:true pays it anyway)";
	} else if (o->state != WXSIM_SUCCESS && o->state != WXSIM_REFUND &&
	    wxsim_pay_settle(st, o, to) != 0) {
		p->status = 500;
		p->code = "SYSTEM_ERROR";
		p->message = "could not settle the order";
	} else
		p->status = 200;
	/* paid as if at success_at (a bill of an earlier day) */
	if (p->status == 200 && success_at != 0 && o->transaction_id[0] != '\0')
		wxsim_util_time_cst(success_at, o->success_time, sizeof(o->success_time));
	if (p->status == 200) {
		if ((p->tx = wxsim_pay_transaction(o)) == NULL) {
			p->status = 500;
			p->code = "SYSTEM_ERROR";
			p->message = "out of memory";
		} else if (o->state == WXSIM_SUCCESS || o->state == WXSIM_REFUND) {
			/* The notification describes the payment itself. */
			copy = *o;
			copy.state = WXSIM_SUCCESS;
			if ((tx = wxsim_pay_transaction(&copy)) != NULL)
				plain = cJSON_PrintUnformatted(tx);
			cJSON_Delete(tx);
			url = strdup(o->notify_url);
			ref = strdup(o->out_trade_no);
		}
	}
	if (p->status == 200)
		wxsim_util_log("payer: %s -> %s", o->out_trade_no, wxsim_state_name(o->state));
	wxsim_state_unlock(st);
	if (plain != NULL && url != NULL && ref != NULL)
		wxsim_notify_send(sim, url, "TRANSACTION.SUCCESS", "支付成功",
		    "transaction", ref, plain);
	else if (p->status == 200 && to == WXSIM_SUCCESS)
		wxsim_util_log("could not build the payment notification");
	if (plain != NULL)
		cJSON_free(plain);
	free(url);
	free(ref);
}

static void
answer_payment(struct wxsim_resp *resp, struct payment *p, int html)
{
	char page[1024], *esc;

	if (html) {
		esc = wxsim_util_html_escape(p->status == 200 ? "支付成功" :
		    p->message != NULL ? p->message : "error");
		snprintf(page, sizeof(page), "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
		    "<title>wxsim</title></head><body><p>%s</p><p><a href=\"/sim/pay\">"
		    "返回</a></p></body></html>\n", esc != NULL ? esc : "");
		free(esc);
		wxsim_resp_set(resp, p->status, "text/html; charset=utf-8", page, strlen(page));
		cJSON_Delete(p->tx);
	} else if (p->status == 200)
		wxsim_resp_json(resp, 200, p->tx);
	else
		wxsim_resp_error(resp, p->status, p->code, p->message);
	p->tx = NULL;
}

void
wxsim_control_pay(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *no = NULL, *code_url = NULL, *prepay_id = NULL, *state = NULL, *at = NULL;
	enum wxsim_trade_state to = WXSIM_SUCCESS;
	time_t success_at = 0;
	struct payment p;
	cJSON *j;
	int bad;

	j = json_body(req, &bad);
	if (bad) {
		wxsim_resp_error(resp, 400, "INVALID_REQUEST", "the body is not a JSON object");
		return;
	}
	no = arg(req, j, "out_trade_no");
	code_url = arg(req, j, "code_url");
	prepay_id = arg(req, j, "prepay_id");
	state = arg(req, j, "trade_state");
	at = arg(req, j, "success_time");
	if (at != NULL && wxsim_util_rfc3339(at, &success_at) != 0)
		wxsim_resp_error(resp, 400, "INVALID_REQUEST", "success_time must be RFC 3339");
	else if (state != NULL && (wxsim_state_parse(state, &to) != 0 ||
	    (to != WXSIM_SUCCESS && to != WXSIM_PAYERROR && to != WXSIM_CLOSED)))
		wxsim_resp_error(resp, 400, "INVALID_REQUEST",
		    "trade_state must be SUCCESS, PAYERROR or CLOSED");
	else if (no == NULL && code_url == NULL && prepay_id == NULL)
		wxsim_resp_error(resp, 400, "INVALID_REQUEST",
		    "out_trade_no, code_url or prepay_id is required");
	else {
		pay(sim, no, code_url, prepay_id, to, arg_bool(req, j, "force"),
		    arg_bool(req, j, "resend"), success_at, &p);
		answer_payment(resp, &p, is_form(req));
	}
	free(no);
	free(code_url);
	free(prepay_id);
	free(state);
	free(at);
	cJSON_Delete(j);
}

/* {"errMsg":msg} with the status, as wx.requestPayment reports. */
static void
request_payment_error(struct wxsim_resp *resp, int status, const char *msg)
{
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "errMsg", msg) == NULL) {
		cJSON_Delete(j);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return;
	}
	wxsim_resp_json(resp, status, j);
}

void
wxsim_control_request_payment(struct wxsim *sim, const struct wxsim_req *req,
    struct wxsim_resp *resp)
{
	const char *appid, *ts, *nonce, *package, *sign_type, *pay_sign, *result;
	char *msg = NULL, prepay_id[64], no[64], oappid[64], err[256];
	struct wxsim_prepay *pp;
	struct wxsim_order *o;
	enum wxsim_trade_state to = WXSIM_SUCCESS;
	struct payment p;
	cJSON *j, *out;
	int bad, n, found = 0, expired = 0;

	if ((j = json_body(req, &bad)) == NULL) {
		request_payment_error(resp, 400, "requestPayment:fail invalid arguments");
		return;
	}
	appid = wxsim_v3_str(j, "appId");
	ts = wxsim_v3_str(j, "timeStamp");
	nonce = wxsim_v3_str(j, "nonceStr");
	package = wxsim_v3_str(j, "package");
	sign_type = wxsim_v3_str(j, "signType");
	pay_sign = wxsim_v3_str(j, "paySign");
	result = wxsim_v3_str(j, "result");
	if (ts == NULL || ts[0] == '\0' || strspn(ts, "0123456789") != strlen(ts) ||
	    nonce == NULL || nonce[0] == '\0' || strlen(nonce) > 32 ||
	    package == NULL || pay_sign == NULL) {
		request_payment_error(resp, 400, "requestPayment:fail invalid arguments "
		    "(timeStamp, nonceStr, package and paySign are strings)");
		goto out;
	}
	if (sign_type == NULL || strcmp(sign_type, "RSA") != 0) {
		request_payment_error(resp, 400, "requestPayment:fail signType must be RSA");
		goto out;
	}
	if (strncmp(package, "prepay_id=", 10) != 0 ||
	    (size_t)snprintf(prepay_id, sizeof(prepay_id), "%s", package + 10) >=
	    sizeof(prepay_id)) {
		request_payment_error(resp, 400, "requestPayment:fail invalid package");
		goto out;
	}
	wxsim_state_lock(sim->state);
	if ((pp = wxsim_state_prepay(sim->state, prepay_id)) != NULL &&
	    (o = wxsim_state_order(sim->state, pp->out_trade_no)) != NULL) {
		found = 1;
		snprintf(no, sizeof(no), "%s", o->out_trade_no);
		snprintf(oappid, sizeof(oappid), "%s", o->appid);
		expired = wxsim_util_now() - pp->issued > PREPAY_TTL;
	}
	wxsim_state_unlock(sim->state);
	if (!found) {
		request_payment_error(resp, 400, "requestPayment:fail prepay_id not found");
		goto out;
	}
	if (expired) {
		request_payment_error(resp, 400, "requestPayment:fail prepay_id expired");
		goto out;
	}
	if (appid != NULL && strcmp(appid, oappid) != 0) {
		request_payment_error(resp, 400, "requestPayment:fail appId mismatch");
		goto out;
	}
	/* paySign is over "appId\ntimeStamp\nnonceStr\npackage\n". */
	n = snprintf(NULL, 0, "%s\n%s\n%s\n%s\n", oappid, ts, nonce, package);
	if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL) {
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		goto out;
	}
	snprintf(msg, (size_t)n + 1, "%s\n%s\n%s\n%s\n", oappid, ts, nonce, package);
	if (gym_rsa_verify(sim->merchant_pub, msg, (size_t)n, pay_sign) != GYM_OK) {
		wxsim_util_log("request-payment %s: paySign does not verify", no);
		request_payment_error(resp, 400, "requestPayment:fail paySign invalid");
		goto out;
	}
	if (result != NULL && strcmp(result, "cancel") == 0) {
		request_payment_error(resp, 200, "requestPayment:fail cancel");
		goto out;
	}
	if (result != NULL && strcmp(result, "PAYERROR") == 0)
		to = WXSIM_PAYERROR;
	pay(sim, no, NULL, NULL, to, 0, 0, 0, &p);
	if (p.status != 200) {
		snprintf(err, sizeof(err), "requestPayment:fail %s", p.message);
		request_payment_error(resp, p.status, err);
		goto out;
	}
	if ((out = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(out, "errMsg", to == WXSIM_SUCCESS ?
	    "requestPayment:ok" : "requestPayment:fail payment failed") == NULL ||
	    !cJSON_AddItemToObject(out, "transaction", p.tx)) {
		cJSON_Delete(p.tx);
		cJSON_Delete(out);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		goto out;
	}
	wxsim_resp_json(resp, 200, out);
out:
	free(msg);
	cJSON_Delete(j);
}

/* One order on the pay page, with its pay buttons while it is payable. */
static void
page_order(FILE *f, const struct wxsim_order *o)
{
	char *desc = wxsim_util_html_escape(o->description);
	char *no = wxsim_util_html_escape(o->out_trade_no);

	if (desc == NULL || no == NULL) {
		free(desc);
		free(no);
		return;
	}
	fprintf(f, "<div class=\"order\"><p>%s</p><p class=\"amount\">¥%ld.%02ld</p>"
	    "<p>商户订单号 %s · %s · %s</p>", desc, o->total / 100, o->total % 100,
	    no, o->trade_type, wxsim_state_name(o->state));
	if (o->state == WXSIM_NOTPAY || o->state == WXSIM_PAYERROR)
		fprintf(f, "<form method=\"post\" action=\"/sim/pay\">"
		    "<input type=\"hidden\" name=\"out_trade_no\" value=\"%s\">"
		    "<button type=\"submit\">支付</button> "
		    "<button type=\"submit\" name=\"trade_state\" value=\"PAYERROR\">"
		    "支付失败</button></form>", no);
	fprintf(f, "</div>\n");
	free(desc);
	free(no);
}

void
wxsim_control_pay_page(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *no = wxsim_http_param(req->query, "out_trade_no"), *page = NULL;
	struct wxsim_order *o;
	size_t len = 0, i, shown = 0;
	FILE *f;

	if ((f = open_memstream(&page, &len)) == NULL) {
		free(no);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return;
	}
	fprintf(f, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<title>微信支付 (模拟)</title><style>body{font-family:sans-serif;margin:2em}"
	    ".order{border:1px solid #ccc;padding:1em;margin:1em 0}"
	    ".amount{font-size:2em}button{font-size:1.2em;padding:.4em 1.5em}"
	    "</style></head><body><h1>微信支付 (模拟)</h1>\n");
	wxsim_state_lock(sim->state);
	for (i = sim->state->orders.n; i > 0; i--) {
		o = sim->state->orders.v[i - 1];
		if (no != NULL ? strcmp(o->out_trade_no, no) != 0 :
		    (o->state != WXSIM_NOTPAY && o->state != WXSIM_PAYERROR))
			continue;
		page_order(f, o);
		if (++shown == 50)
			break;
	}
	wxsim_state_unlock(sim->state);
	if (shown == 0)
		fprintf(f, "<p>%s</p>", no != NULL ? "订单不存在" : "没有待支付的订单");
	fprintf(f, "</body></html>\n");
	if (fclose(f) != 0 || page == NULL)
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
	else
		wxsim_resp_set(resp, no != NULL && shown == 0 ? 404 : 200,
		    "text/html; charset=utf-8", page, len);
	free(page);
	free(no);
}

static cJSON *
faults_json(const struct wxsim_faults *f)
{
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddNumberToObject(j, "api_status", f->api_status) == NULL ||
	    cJSON_AddNumberToObject(j, "api_fail_count", (double)f->api_fail_count) == NULL ||
	    cJSON_AddBoolToObject(j, "api_fail_after", f->api_fail_after) == NULL ||
	    cJSON_AddNumberToObject(j, "api_delay_ms", (double)f->api_delay_ms) == NULL ||
	    cJSON_AddBoolToObject(j, "api_bad_signature", f->api_bad_signature) == NULL ||
	    cJSON_AddBoolToObject(j, "notify_drop", f->notify_drop) == NULL ||
	    cJSON_AddNumberToObject(j, "notify_duplicate", (double)f->notify_duplicate) == NULL ||
	    cJSON_AddNumberToObject(j, "notify_delay_ms", (double)f->notify_delay_ms) == NULL ||
	    cJSON_AddBoolToObject(j, "notify_reorder", f->notify_reorder) == NULL ||
	    cJSON_AddBoolToObject(j, "notify_bad_signature", f->notify_bad_signature) == NULL ||
	    cJSON_AddNumberToObject(j, "subscribe_fail_count",
	    (double)f->subscribe_fail_count) == NULL ||
	    cJSON_AddBoolToObject(j, "subscribe_fail_http", f->subscribe_fail_http) == NULL ||
	    cJSON_AddStringToObject(j, "refund_result", f->refund_result) == NULL ||
	    cJSON_AddNumberToObject(j, "refund_delay_ms", (double)f->refund_delay_ms) == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

void
wxsim_control_faults_get(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	cJSON *j;

	(void)req;
	wxsim_state_lock(sim->state);
	j = faults_json(&sim->state->faults);
	wxsim_state_unlock(sim->state);
	wxsim_resp_json(resp, 200, j);
}

/* An integer fault in [min, max]: 1 set, 0 absent, -1 invalid. */
static int
fault_long(const cJSON *j, const char *name, long min, long max, long *out)
{
	long v;
	int rc = wxsim_v3_int(j, name, &v);

	if (rc == 1 && (v < min || v > max))
		return -1;
	if (rc == 1)
		*out = v;
	return rc;
}

static int
fault_bool(const cJSON *j, const char *name, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v);
	return 1;
}

void
wxsim_control_faults_set(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	static const char *const known[] = {
		"api_status", "api_fail_count", "api_fail_after", "api_delay_ms",
		"api_bad_signature", "notify_drop", "notify_duplicate", "notify_delay_ms",
		"notify_reorder", "notify_bad_signature", "subscribe_fail_count",
		"subscribe_fail_http", "refund_result", "refund_delay_ms", "expire_token",
	};
	struct wxsim_state *st = sim->state;
	struct wxsim_faults f;
	const cJSON *item;
	const char *rr;
	char msg[128];
	bool expire = false, was_reorder;
	long status = 0;
	size_t i;
	int bad = 0, has_status = 0, has_count = 0;
	cJSON *j, *out;

	if ((j = json_body(req, &bad)) == NULL) {
		wxsim_resp_error(resp, 400, "INVALID_REQUEST", "the body must be a JSON object");
		return;
	}
	cJSON_ArrayForEach(item, j) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(item->string, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(msg, sizeof(msg), "unknown fault %.64s", item->string);
			wxsim_resp_error(resp, 400, "UNKNOWN_FAULT", msg);
			cJSON_Delete(j);
			return;
		}
	}
	wxsim_state_lock(st);
	f = st->faults;
	was_reorder = f.notify_reorder;
	status = f.api_status;
	if ((has_status = fault_long(j, "api_status", 0, 599, &status)) < 0 ||
	    (has_status == 1 && status != 0 && status < 100) ||
	    (has_count = fault_long(j, "api_fail_count", -1, 1000000, &f.api_fail_count)) < 0 ||
	    fault_bool(j, "api_fail_after", &f.api_fail_after) < 0 ||
	    fault_long(j, "api_delay_ms", 0, 600000, &f.api_delay_ms) < 0 ||
	    fault_bool(j, "api_bad_signature", &f.api_bad_signature) < 0 ||
	    fault_bool(j, "notify_drop", &f.notify_drop) < 0 ||
	    fault_long(j, "notify_duplicate", 0, 20, &f.notify_duplicate) < 0 ||
	    fault_long(j, "notify_delay_ms", 0, 3600000, &f.notify_delay_ms) < 0 ||
	    fault_bool(j, "notify_reorder", &f.notify_reorder) < 0 ||
	    fault_bool(j, "notify_bad_signature", &f.notify_bad_signature) < 0 ||
	    fault_long(j, "subscribe_fail_count", 0, 1000000, &f.subscribe_fail_count) < 0 ||
	    fault_bool(j, "subscribe_fail_http", &f.subscribe_fail_http) < 0 ||
	    fault_long(j, "refund_delay_ms", -1, 3600000, &f.refund_delay_ms) < 0 ||
	    fault_bool(j, "expire_token", &expire) < 0)
		bad = 1;
	if (cJSON_GetObjectItemCaseSensitive(j, "refund_result") != NULL) {
		rr = wxsim_v3_str(j, "refund_result");
		if (rr == NULL || (strcmp(rr, "SUCCESS") != 0 && strcmp(rr, "ABNORMAL") != 0 &&
		    strcmp(rr, "CLOSED") != 0))
			bad = 1;
		else
			snprintf(f.refund_result, sizeof(f.refund_result), "%s", rr);
	}
	if (bad) {
		wxsim_state_unlock(st);
		wxsim_resp_error(resp, 400, "INVALID_REQUEST", "a fault has a bad value");
		cJSON_Delete(j);
		return;
	}
	f.api_status = (int)status;
	/* A status without a count fails every call until cleared. */
	if (has_status == 1 && has_count == 0)
		f.api_fail_count = -1;
	if (f.notify_duplicate < 1)
		f.notify_duplicate = 1;
	st->faults = f;
	if (expire)
		st->token_expires = 0;
	out = faults_json(&st->faults);
	wxsim_state_unlock(st);
	if (was_reorder && !f.notify_reorder)
		wxsim_notify_release(sim);
	wxsim_util_log("faults: %.*s", (int)(req->blen > 400 ? 400 : req->blen), req->body);
	wxsim_resp_json(resp, 200, out);
	cJSON_Delete(j);
}

void
wxsim_control_reset(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	(void)req;
	wxsim_state_lock(sim->state);
	wxsim_state_reset(sim->state);
	wxsim_state_unlock(sim->state);
	wxsim_sched_clear(sim->sched);
	wxsim_util_set_offset(0);
	wxsim_util_log("reset");
	wxsim_resp_set(resp, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

static void
answer_clock(struct wxsim_resp *resp)
{
	char now[32];
	time_t t = wxsim_util_now();
	cJSON *j;

	wxsim_util_time_cst(t, now, sizeof(now));
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(j, "offset_seconds", (double)wxsim_util_get_offset()) == NULL ||
	    cJSON_AddNumberToObject(j, "unix", (double)t) == NULL ||
	    cJSON_AddStringToObject(j, "now", now) == NULL) {
		cJSON_Delete(j);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return;
	}
	wxsim_resp_json(resp, 200, j);
}

void
wxsim_control_clock_get(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	(void)sim;
	(void)req;
	answer_clock(resp);
}

void
wxsim_control_clock_set(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	long off;
	cJSON *j;
	int bad;

	(void)sim;
	if ((j = json_body(req, &bad)) == NULL ||
	    wxsim_v3_int(j, "offset_seconds", &off) != 1 || off < -3650L * 86400 ||
	    off > 3650L * 86400) {
		cJSON_Delete(j);
		wxsim_resp_error(resp, 400, "INVALID_REQUEST",
		    "the body must be {\"offset_seconds\": integer}");
		return;
	}
	cJSON_Delete(j);
	wxsim_util_set_offset(off);
	wxsim_util_log("clock offset %+ld s", off);
	answer_clock(resp);
}

static cJSON *
order_json(const struct wxsim_order *o)
{
	char t[32], e[32];
	cJSON *j;

	wxsim_util_time_cst(o->created, t, sizeof(t));
	wxsim_util_time_cst(o->expire_at, e, sizeof(e));
	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(j, "out_trade_no", o->out_trade_no) == NULL ||
	    cJSON_AddStringToObject(j, "state", wxsim_state_name(o->state)) == NULL ||
	    cJSON_AddStringToObject(j, "trade_state", wxsim_state_name(o->state)) == NULL ||
	    cJSON_AddStringToObject(j, "transaction_id", o->transaction_id) == NULL ||
	    cJSON_AddNumberToObject(j, "prepay_count", o->prepay_count) == NULL ||
	    cJSON_AddNumberToObject(j, "close_count", o->close_count) == NULL ||
	    cJSON_AddStringToObject(j, "trade_type", o->trade_type) == NULL ||
	    cJSON_AddStringToObject(j, "appid", o->appid) == NULL ||
	    cJSON_AddStringToObject(j, "mchid", o->mchid) == NULL ||
	    cJSON_AddStringToObject(j, "description", o->description) == NULL ||
	    cJSON_AddNumberToObject(j, "total", (double)o->total) == NULL ||
	    cJSON_AddNumberToObject(j, "refunded", (double)o->refunded) == NULL ||
	    (o->openid != NULL && cJSON_AddStringToObject(j, "openid", o->openid) == NULL) ||
	    cJSON_AddStringToObject(j, "notify_url", o->notify_url) == NULL ||
	    (o->attach != NULL && cJSON_AddStringToObject(j, "attach", o->attach) == NULL) ||
	    (o->time_expire != NULL &&
	    cJSON_AddStringToObject(j, "time_expire", o->time_expire) == NULL) ||
	    cJSON_AddStringToObject(j, "expire_at", e) == NULL ||
	    cJSON_AddStringToObject(j, "created", t) == NULL ||
	    cJSON_AddStringToObject(j, "prepay_id", o->prepay_id) == NULL ||
	    (o->code_url[0] != '\0' &&
	    cJSON_AddStringToObject(j, "code_url", o->code_url) == NULL) ||
	    (o->success_time[0] != '\0' &&
	    cJSON_AddStringToObject(j, "success_time", o->success_time) == NULL)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* {"items":[each of vec as json()]}; NULL when out of memory.  Locked. */
static cJSON *
items(const struct wxsim_vec *vec, cJSON *(*json)(const void *))
{
	cJSON *j, *a, *it;
	size_t i;

	if ((j = cJSON_CreateObject()) == NULL || (a = cJSON_AddArrayToObject(j, "items")) == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	for (i = 0; i < vec->n; i++) {
		if ((it = json(vec->v[i])) == NULL || !cJSON_AddItemToArray(a, it)) {
			cJSON_Delete(it);
			cJSON_Delete(j);
			return NULL;
		}
	}
	return j;
}

static cJSON *
order_item(const void *p)
{
	return order_json(p);
}

void
wxsim_control_orders(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	cJSON *j;

	(void)req;
	wxsim_state_lock(sim->state);
	j = items(&sim->state->orders, order_item);
	wxsim_state_unlock(sim->state);
	wxsim_resp_json(resp, 200, j);
}

void
wxsim_control_order(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct wxsim_order *o;
	cJSON *j = NULL;

	wxsim_state_lock(sim->state);
	if ((o = wxsim_state_order(sim->state, req->params[0])) != NULL)
		j = order_json(o);
	wxsim_state_unlock(sim->state);
	if (o == NULL)
		wxsim_resp_error(resp, 404, "ORDER_NOT_EXIST", "no such order");
	else
		wxsim_resp_json(resp, 200, j);
}

static cJSON *
refund_item(const void *p)
{
	const struct wxsim_refund *r = p;
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(j, "out_refund_no", r->out_refund_no) == NULL ||
	    cJSON_AddStringToObject(j, "refund_id", r->refund_id) == NULL ||
	    cJSON_AddStringToObject(j, "out_trade_no", r->out_trade_no) == NULL ||
	    cJSON_AddStringToObject(j, "transaction_id", r->transaction_id) == NULL ||
	    cJSON_AddStringToObject(j, "status", r->status) == NULL ||
	    cJSON_AddNumberToObject(j, "refund", (double)r->refund) == NULL ||
	    cJSON_AddNumberToObject(j, "total", (double)r->total) == NULL ||
	    (r->reason != NULL && cJSON_AddStringToObject(j, "reason", r->reason) == NULL) ||
	    (r->notify_url != NULL &&
	    cJSON_AddStringToObject(j, "notify_url", r->notify_url) == NULL) ||
	    cJSON_AddStringToObject(j, "create_time", r->create_time) == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

void
wxsim_control_refunds(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	cJSON *j;

	(void)req;
	wxsim_state_lock(sim->state);
	j = items(&sim->state->refunds, refund_item);
	wxsim_state_unlock(sim->state);
	wxsim_resp_json(resp, 200, j);
}

void
wxsim_control_stats(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct wxsim_state *st = sim->state;
	size_t pending = wxsim_sched_pending(sim->sched);
	cJSON *j;

	(void)req;
	wxsim_state_lock(st);
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(j, "orders", (double)st->orders.n) == NULL ||
	    cJSON_AddNumberToObject(j, "paid", (double)st->n.paid) == NULL ||
	    cJSON_AddNumberToObject(j, "refunds_created", (double)st->n.refunds_created) == NULL ||
	    cJSON_AddNumberToObject(j, "notifications_sent",
	    (double)st->n.notifications_sent) == NULL ||
	    cJSON_AddNumberToObject(j, "notification_attempts",
	    (double)st->n.notification_attempts) == NULL ||
	    cJSON_AddNumberToObject(j, "messages", (double)st->n.messages) == NULL ||
	    cJSON_AddNumberToObject(j, "stable_token_calls",
	    (double)st->n.stable_token_calls) == NULL ||
	    cJSON_AddNumberToObject(j, "notifications_created",
	    (double)st->n.notifications_created) == NULL ||
	    cJSON_AddNumberToObject(j, "notifications_held", (double)st->held.n) == NULL ||
	    cJSON_AddNumberToObject(j, "jobs_pending", (double)pending) == NULL ||
	    cJSON_AddNumberToObject(j, "api_calls", (double)st->n.api_calls) == NULL ||
	    cJSON_AddNumberToObject(j, "sign_errors", (double)st->n.sign_errors) == NULL ||
	    cJSON_AddNumberToObject(j, "prepay_calls", (double)st->n.prepay_calls) == NULL ||
	    cJSON_AddNumberToObject(j, "close_calls", (double)st->n.close_calls) == NULL ||
	    cJSON_AddNumberToObject(j, "subscribe_calls", (double)st->n.subscribe_calls) == NULL ||
	    cJSON_AddNumberToObject(j, "jscode2session_calls",
	    (double)st->n.jscode2session_calls) == NULL) {
		cJSON_Delete(j);
		j = NULL;
	}
	wxsim_state_unlock(st);
	wxsim_resp_json(resp, 200, j);
}

static cJSON *
message_item(const void *p)
{
	const struct wxsim_message *m = p;
	cJSON *j, *d;

	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(j, "touser", m->touser) == NULL ||
	    cJSON_AddStringToObject(j, "template_id", m->template_id) == NULL ||
	    (m->page != NULL && cJSON_AddStringToObject(j, "page", m->page) == NULL) ||
	    (m->state != NULL &&
	    cJSON_AddStringToObject(j, "miniprogram_state", m->state) == NULL) ||
	    (m->lang != NULL && cJSON_AddStringToObject(j, "lang", m->lang) == NULL) ||
	    cJSON_AddStringToObject(j, "time", m->time) == NULL ||
	    (d = cJSON_Duplicate(m->data, 1)) == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	if (!cJSON_AddItemToObject(j, "data", d)) {
		cJSON_Delete(d);
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

void
wxsim_control_messages(struct wxsim *sim, const struct wxsim_req *req, struct wxsim_resp *resp)
{
	cJSON *j;

	(void)req;
	wxsim_state_lock(sim->state);
	j = items(&sim->state->messages, message_item);
	wxsim_state_unlock(sim->state);
	wxsim_resp_json(resp, 200, j);
}

static cJSON *
attempt_item(const void *p)
{
	const struct wxsim_attempt *a = p;
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(j, "id", a->notify_id) == NULL ||
	    cJSON_AddStringToObject(j, "url", a->url) == NULL ||
	    cJSON_AddStringToObject(j, "event_type", a->event_type) == NULL ||
	    cJSON_AddStringToObject(j, "ref", a->ref) == NULL ||
	    cJSON_AddNumberToObject(j, "attempt", a->attempt) == NULL ||
	    cJSON_AddNumberToObject(j, "status", (double)a->status) == NULL ||
	    (a->error != NULL && cJSON_AddStringToObject(j, "error", a->error) == NULL) ||
	    cJSON_AddBoolToObject(j, "bad_signature", a->bad_signature) == NULL ||
	    cJSON_AddStringToObject(j, "time", a->time) == NULL) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

void
wxsim_control_notifications(struct wxsim *sim, const struct wxsim_req *req,
    struct wxsim_resp *resp)
{
	cJSON *j;

	(void)req;
	wxsim_state_lock(sim->state);
	j = items(&sim->state->attempts, attempt_item);
	wxsim_state_unlock(sim->state);
	wxsim_resp_json(resp, 200, j);
}

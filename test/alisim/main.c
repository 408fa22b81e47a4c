/*
 * main.c: alisim, an offline Alipay classic-gateway server for tests
 * (/work/shared/docs/alipay.md).  One TLS listener (--listen, with
 * --tls-cert/--tls-key; lib/alipay.c speaks only https), one request per
 * connection, answered in turn (a test load, not a benchmark).  It reuses
 * wxsim's HTTP and TLS server pieces.
 *
 *   POST /gateway.do  form parameters (query string and body both read):
 *     the request's RSA2 sign is verified with the app's public key
 *     (--app-pub) over the sorted parameters, sign_type included; app_id
 *     and a timestamp within 15 minutes (China time) are required.  Every
 *     answer is signed with Alipay's key (--alipay-key) over the node's
 *     exact bytes, '/' written "\/" as the real gateway does.  Methods:
 *     alipay.trade.precreate, .query, .close, .refund (out_request_no
 *     idempotent, fund_change N on a retry), .fastpay.refund.query,
 *     alipay.data.dataservice.bill.downloadurl.query (bill_type trade or
 *     signcustomer; another is isv.invalid-parameter).  A precreated trade
 *     does not exist for query/close until it is scanned or paid.
 *     alipay.trade.page.pay and .wap.pay (GET or POST, as a browser
 *     opens them: verified the same way) answer the cashier page.
 *   control (same listener): POST /sim/scan?out_trade_no=, /sim/pay?...,
 *     /sim/close?...: the buyer scans, pays, or the trade times out
 *     (/sim/pay&paid_at=<unix seconds>: paid as if then, for a bill of
 *     an earlier day).
 *     /sim/pay answers 200 with the signed trade_status_sync form it POSTs
 *     to the trade's notify_url (again after Alipay's intervals until it
 *     is answered "success": notify.c); 404 unknown, 409 not payable.
 *     GET /sim/pay: the buyer's pages (pages.c); GET /sim/trade?out_trade_no=
 *     the trade as JSON (status, notifications received and tried);
 *     GET /sim/orders, /sim/refunds: all of them in wxsim's shape;
 *     POST /sim/faults: wxsim's fault members (alisim.h, struct alisim_faults);
 *     GET /sim/bill/download?bizType=&billDate=: the bill zip (bill.c) that
 *     bill.downloadurl.query points to.  GET|POST /sim/bill-faults: what
 *     the bill gets wrong (alisim.h); POST /sim/reset: every trade
 *     forgotten, no bill faults.  GET /healthz.
 * SIGTERM or SIGINT stops it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alipay.h"
#include "alipay_sign.h"
#include "alisim.h"
#include "crypto.h"
#include "http.h"
#include "json.h"
#include "tls.h"

#define MAX_TRADES	ALISIM_MAX_TRADES
#define MAX_REFUNDS	ALISIM_MAX_REFUNDS
#define IO_TIMEOUT_S	5
#define TS_WINDOW_S	(15 * 60)

static struct alisim_trade trades[MAX_TRADES];
static int ntrades;
static EVP_PKEY *app_pub;
EVP_PKEY *alisim_key;
const char *alisim_app_id = "2021000000000001";
const char *alisim_seller_id = "2088000000000001";
const char *alisim_notify_ca;
const char *alisim_listen;
double alisim_retry_scale = 1.0;
struct alisim_faults alisim_faults = { 0, 0, 0, 0, 0, 1, 0 };
static volatile sig_atomic_t stopping;
static time_t started;			/* for trade numbers */

static void do_page(const cJSON *, const struct gym_ali_params *, struct wxsim_resp *);

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static struct alisim_trade *
find(const char *no)
{
	for (int i = 0; no != NULL && i < ntrades; i++)
		if (strcmp(trades[i].out_trade_no, no) == 0)
			return &trades[i];
	return NULL;
}

struct alisim_trade *
alisim_find(const char *no)
{
	return find(no);
}

struct alisim_trade *
alisim_nth(int i)
{
	return i >= 0 && i < ntrades ? &trades[i] : NULL;
}

/* A new trade (NULL when the table is full) with the request's notify_url. */
static struct alisim_trade *
trade_open(const char *no, long long fen, const char *subject, const struct gym_ali_params *ps)
{
	const char *nu = gym_ali_params_get(ps, "notify_url");
	struct alisim_trade *t;

	if (ntrades == MAX_TRADES)
		return NULL;
	t = &trades[ntrades++];
	memset(t, 0, sizeof(*t));
	snprintf(t->out_trade_no, sizeof(t->out_trade_no), "%s", no);
	/* Alipay's trade numbers are unique for ever: this run's start time and
	 * pid in front of the count, so a restarted simulator repeats none */
	snprintf(t->trade_no, sizeof(t->trade_no), "2026%010lld%06d%08d", (long long)started,
	    (int)(getpid() % 1000000), ntrades);
	snprintf(t->subject, sizeof(t->subject), "%s", subject);
	snprintf(t->method, sizeof(t->method), "%s", gym_ali_params_get(ps, "method"));
	t->total_fen = fen;
	snprintf(t->notify_url, sizeof(t->notify_url), "%s", nu != NULL ? nu : "");
	return t;
}

/* The node's text with '/' written "\/", as the gateway sends it. */
static char *
escaped(const cJSON *node)
{
	char *s = cJSON_PrintUnformatted(node), *o, *p;
	size_t n = 0;

	if (s == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++)
		n += *p == '/' ? 2 : 1;
	if ((o = malloc(n + 1)) != NULL) {
		n = 0;
		for (p = s; *p != '\0'; p++) {
			if (*p == '/')
				o[n++] = '\\';
			o[n++] = *p;
		}
		o[n] = '\0';
	}
	cJSON_free(s);
	return o;
}

/* {"<node>":<node>,"sign":"..."} signed with Alipay's key; node deleted. */
static void
answer(struct wxsim_resp *resp, const char *method, cJSON *node)
{
	char name[128], *text = escaped(node), *sig = NULL, *body = NULL;

	if (gym_ali_response_node(method, name, sizeof(name)) != GYM_OK)
		snprintf(name, sizeof(name), "error_response");
	if (text != NULL && gym_rsa_sign(alisim_key, text, strlen(text), &sig) == GYM_OK &&
	    (body = gym_asprintf("{\"%s\":%s,\"sign\":\"%s\"}", name, text, sig)) != NULL)
		wxsim_resp_set(resp, 200, "text/html;charset=utf-8", body, strlen(body));
	else
		wxsim_resp_set(resp, 500, "text/plain", "nomem", 5);
	cJSON_Delete(node);
	free(text);
	free(sig);
	free(body);
}

static cJSON *
node_code(const char *code, const char *msg, const char *sub, const char *submsg)
{
	cJSON *n = cJSON_CreateObject();

	cJSON_AddStringToObject(n, "code", code);
	cJSON_AddStringToObject(n, "msg", msg);
	if (sub != NULL) {
		cJSON_AddStringToObject(n, "sub_code", sub);
		cJSON_AddStringToObject(n, "sub_msg", submsg);
	}
	return n;
}

static cJSON *
fail(const char *sub, const char *submsg)
{
	return node_code("40004", "Business Failed", sub, submsg);
}

static void
add_yuan(cJSON *n, const char *name, long long fen)
{
	char y[24];

	gym_ali_yuan(fen, y, sizeof(y));
	cJSON_AddStringToObject(n, name, y);
}

static cJSON *
do_precreate(const cJSON *biz, const struct gym_ali_params *ps)
{
	const char *no = gym_json_string(biz, "out_trade_no");
	struct alisim_trade *t = find(no);
	long long fen;
	cJSON *n;
	char qr[128];

	if (no == NULL || strlen(no) > 64 ||
	    gym_ali_fen(gym_json_string(biz, "total_amount"), &fen) != GYM_OK || fen <= 0 ||
	    gym_json_string(biz, "subject") == NULL)
		return fail("ACQ.INVALID_PARAMETER", "参数无效");
	if (t != NULL && t->total_fen != fen)
		return fail("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改");
	if (t != NULL && t->st == T_SUCCESS)
		return fail("ACQ.TRADE_HAS_SUCCESS", "交易已被支付");
	if (t != NULL && t->st == T_CLOSED)
		return fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭");
	if (t == NULL && (t = trade_open(no, fen, gym_json_string(biz, "subject"), ps)) == NULL)
		return node_code("20000", "Service Currently Unavailable", "isp.unknow-error",
		    "系统繁忙");
	n = node_code("10000", "Success", NULL, NULL);
	cJSON_AddStringToObject(n, "out_trade_no", no);
	snprintf(qr, sizeof(qr), "https://qr.alipay.com/bax%s", t->trade_no + 12);
	cJSON_AddStringToObject(n, "qr_code", qr);
	return n;
}

const char *
alisim_status_word(const struct alisim_trade *t)
{
	return t->st == T_WAIT ? "WAIT_BUYER_PAY" : t->st == T_SUCCESS ? "TRADE_SUCCESS" :
	    "TRADE_CLOSED";
}

static cJSON *
do_query(const cJSON *biz)
{
	struct alisim_trade *t = find(gym_json_string(biz, "out_trade_no"));
	char when[20];
	cJSON *n;

	if (t == NULL || !t->scanned)
		return fail("ACQ.TRADE_NOT_EXIST", "交易不存在");
	n = node_code("10000", "Success", NULL, NULL);
	cJSON_AddStringToObject(n, "out_trade_no", t->out_trade_no);
	cJSON_AddStringToObject(n, "trade_no", t->trade_no);
	cJSON_AddStringToObject(n, "trade_status", alisim_status_word(t));
	add_yuan(n, "total_amount", t->total_fen);
	if (t->paid_at != 0) {
		add_yuan(n, "buyer_pay_amount", t->total_fen);
		cJSON_AddStringToObject(n, "buyer_user_id", "2088102177846880");
		gym_ali_time(t->paid_at, when);
		cJSON_AddStringToObject(n, "send_pay_date", when);
	}
	if (t->refunded_fen > 0)
		add_yuan(n, "refund_fee", t->refunded_fen);
	return n;
}

static cJSON *
do_close(const cJSON *biz)
{
	struct alisim_trade *t = find(gym_json_string(biz, "out_trade_no"));
	cJSON *n;

	if (t == NULL || !t->scanned)
		return fail("ACQ.TRADE_NOT_EXIST", "交易不存在");
	if (t->st == T_SUCCESS)
		return fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
	t->st = T_CLOSED;
	n = node_code("10000", "Success", NULL, NULL);
	cJSON_AddStringToObject(n, "out_trade_no", t->out_trade_no);
	cJSON_AddStringToObject(n, "trade_no", t->trade_no);
	return n;
}

static cJSON *
do_refund(const cJSON *biz)
{
	struct alisim_trade *t = find(gym_json_string(biz, "out_trade_no"));
	const char *rq = gym_json_string(biz, "out_request_no");
	long long fen;
	int i, again = 0;
	char when[20];
	cJSON *n;

	if (rq == NULL)
		rq = gym_json_string(biz, "out_trade_no");
	if (t == NULL || !t->scanned)
		return fail("ACQ.TRADE_NOT_EXIST", "交易不存在");
	if (gym_ali_fen(gym_json_string(biz, "refund_amount"), &fen) != GYM_OK || fen <= 0)
		return fail("ACQ.INVALID_PARAMETER", "参数无效");
	for (i = 0; i < t->nrefunds; i++)
		if (strcmp(t->refunds[i].no, rq) == 0) {
			if (t->refunds[i].fen != fen)
				return fail("ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求");
			again = 1;
		}
	if (!again) {
		if (t->paid_at == 0)
			return fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
		if (t->refunded_fen + fen > t->total_fen || t->nrefunds == MAX_REFUNDS)
			return fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "撤销或退款金额与订单金额不一致");
		snprintf(t->refunds[t->nrefunds].no, sizeof(t->refunds[0].no), "%s", rq);
		t->refunds[t->nrefunds].at = time(NULL);
		t->refunds[t->nrefunds++].fen = fen;
		t->refunded_fen += fen;
		if (t->refunded_fen == t->total_fen)
			t->st = T_CLOSED;
	}
	n = node_code("10000", "Success", NULL, NULL);
	cJSON_AddStringToObject(n, "fund_change", again ? "N" : "Y");
	gym_ali_time(time(NULL), when);
	cJSON_AddStringToObject(n, "gmt_refund_pay", when);
	cJSON_AddStringToObject(n, "out_trade_no", t->out_trade_no);
	add_yuan(n, "refund_fee", t->refunded_fen);
	add_yuan(n, "send_back_fee", fen);
	cJSON_AddStringToObject(n, "trade_no", t->trade_no);
	return n;
}

static cJSON *
do_refund_query(const cJSON *biz)
{
	struct alisim_trade *t = find(gym_json_string(biz, "out_trade_no"));
	const char *rq = gym_json_string(biz, "out_request_no");
	cJSON *n;

	if (t == NULL || !t->scanned)
		return fail("ACQ.TRADE_NOT_EXIST", "交易不存在");
	n = node_code("10000", "Success", NULL, NULL);
	for (int i = 0; rq != NULL && i < t->nrefunds; i++)
		if (strcmp(t->refunds[i].no, rq) == 0) {
			cJSON_AddStringToObject(n, "out_request_no", rq);
			cJSON_AddStringToObject(n, "out_trade_no", t->out_trade_no);
			cJSON_AddStringToObject(n, "trade_no", t->trade_no);
			add_yuan(n, "refund_amount", t->refunds[i].fen);
			add_yuan(n, "total_amount", t->total_fen);
			cJSON_AddStringToObject(n, "refund_status", "REFUND_SUCCESS");
		}
	return n;		/* nothing but code/msg: no such refund */
}

static cJSON *
do_bill(const cJSON *biz)
{
	const char *d = gym_json_string(biz, "bill_date"), *type = gym_json_string(biz, "bill_type");
	char url[256];
	cJSON *n;

	if (type == NULL || (strcmp(type, "trade") != 0 && strcmp(type, "signcustomer") != 0))
		return fail("isv.invalid-parameter", "参数有误bill_type");
	if (d == NULL || strlen(d) != 10)
		return fail("isp.bill_not_exist", "账单不存在");
	n = node_code("10000", "Success", NULL, NULL);
	snprintf(url, sizeof(url), "https://%s/sim/bill/download?bizType=%s&fileType=csv.zip"
	    "&billDate=%.10s", alisim_listen, type, d);
	cJSON_AddStringToObject(n, "bill_download_url", url);
	return n;
}

/* Merge the query string's and the body's form parameters. */
static int
params_of(const struct wxsim_req *req, struct gym_ali_params *ps)
{
	struct gym_ali_params b = { 0 };

	memset(ps, 0, sizeof(*ps));
	if (req->query[0] != '\0' && gym_ali_form_parse(req->query, strlen(req->query), ps) != GYM_OK)
		return -1;
	if (req->blen > 0 && gym_ali_form_parse(req->body, req->blen, &b) != GYM_OK) {
		gym_ali_params_free(ps);
		return -1;
	}
	for (size_t i = 0; i < b.n; i++)
		if (gym_ali_params_add(ps, b.p[i].key, b.p[i].value) != GYM_OK) {
			gym_ali_params_free(&b);
			gym_ali_params_free(ps);
			return -1;
		}
	gym_ali_params_free(&b);
	return 0;
}

static void
gateway(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct gym_ali_params ps;
	const char *method, *sig, *ts;
	char *text = NULL;
	size_t len;
	time_t t;
	cJSON *biz = NULL, *node;

	if (params_of(req, &ps) != 0) {
		wxsim_resp_set(resp, 400, "text/plain", "bad form", 8);
		return;
	}
	method = gym_ali_params_get(&ps, "method");
	sig = gym_ali_params_get(&ps, "sign");
	ts = gym_ali_params_get(&ps, "timestamp");
	if (method == NULL || sig == NULL || gym_ali_params_get(&ps, "app_id") == NULL) {
		node = node_code("40001", "Missing Required Arguments", method == NULL ?
		    "isv.missing-method" : sig == NULL ? "isv.missing-signature" :
		    "isv.missing-app-id", "缺少参数");
		answer(resp, method != NULL ? method : "error", node);
		goto out;
	}
	if (gym_ali_sign_content(&ps, 0, &text, &len) != GYM_OK ||
	    gym_rsa_verify(app_pub, text, len, sig) != GYM_OK) {
		answer(resp, method, node_code("40002", "Invalid Arguments",
		    "isv.invalid-signature", "验签出错"));
		goto out;
	}
	if (strcmp(gym_ali_params_get(&ps, "app_id"), alisim_app_id) != 0) {
		answer(resp, method, node_code("40002", "Invalid Arguments",
		    "isv.invalid-app-id", "无效的AppID参数"));
		goto out;
	}
	if (gym_ali_time_parse(ts, &t) != GYM_OK || labs((long)(t - time(NULL))) > TS_WINDOW_S ||
	    gym_ali_params_get(&ps, "sign_type") == NULL ||
	    strcmp(gym_ali_params_get(&ps, "sign_type"), "RSA2") != 0) {
		answer(resp, method, node_code("40002", "Invalid Arguments",
		    "isv.invalid-timestamp", "非法的时间戳参数"));
		goto out;
	}
	biz = cJSON_Parse(gym_ali_params_get(&ps, "biz_content") != NULL ?
	    gym_ali_params_get(&ps, "biz_content") : "");
	if (!cJSON_IsObject(biz))
		node = node_code("40002", "Invalid Arguments", "isv.invalid-biz-content", "参数无效");
	else if (strcmp(method, "alipay.trade.page.pay") == 0 ||
	    strcmp(method, "alipay.trade.wap.pay") == 0) {
		do_page(biz, &ps, resp);
		goto out;
	} else if (strcmp(method, "alipay.trade.precreate") == 0)
		node = do_precreate(biz, &ps);
	else if (strcmp(method, "alipay.trade.query") == 0)
		node = do_query(biz);
	else if (strcmp(method, "alipay.trade.close") == 0)
		node = do_close(biz);
	else if (strcmp(method, "alipay.trade.refund") == 0)
		node = do_refund(biz);
	else if (strcmp(method, "alipay.trade.fastpay.refund.query") == 0)
		node = do_refund_query(biz);
	else if (strcmp(method, "alipay.data.dataservice.bill.downloadurl.query") == 0)
		node = do_bill(biz);
	else {
		const char *e = "{\"error_response\":{\"code\":\"40002\",\"msg\":\"Invalid Arguments\","
		    "\"sub_code\":\"isv.invalid-method\",\"sub_msg\":\"不存在的方法名\"}}";

		wxsim_resp_set(resp, 200, "text/html;charset=utf-8", e, strlen(e));
		goto out;
	}
	answer(resp, method, node);
out:
	cJSON_Delete(biz);
	free(text);
	gym_ali_params_free(&ps);
}

/*
 * alipay.trade.page.pay / .wap.pay, opened by the buyer's browser: the
 * trade exists from now on (WAIT_BUYER_PAY) with the request's notify_url
 * and return_url, and the cashier is the answer.  A time_expire that has
 * passed closes it.
 */
static void
do_page(const cJSON *biz, const struct gym_ali_params *ps, struct wxsim_resp *resp)
{
	const char *no = gym_json_string(biz, "out_trade_no");
	const char *te = gym_json_string(biz, "time_expire"), *ru;
	struct alisim_trade *t = find(no);
	long long fen;
	time_t until;

	if (no == NULL || strlen(no) > 64 ||
	    gym_ali_fen(gym_json_string(biz, "total_amount"), &fen) != GYM_OK || fen <= 0 ||
	    gym_json_string(biz, "subject") == NULL) {
		wxsim_resp_set(resp, 400, "text/plain; charset=utf-8", "参数无效", strlen("参数无效"));
		return;
	}
	if (t != NULL && t->total_fen != fen) {
		wxsim_resp_set(resp, 409, "text/plain; charset=utf-8", "交易信息被篡改",
		    strlen("交易信息被篡改"));
		return;
	}
	if (t == NULL && (t = trade_open(no, fen, gym_json_string(biz, "subject"), ps)) == NULL) {
		wxsim_resp_set(resp, 503, "text/plain", "full", 4);
		return;
	}
	t->scanned = 1;
	if ((ru = gym_ali_params_get(ps, "return_url")) != NULL)
		snprintf(t->return_url, sizeof(t->return_url), "%s", ru);
	if (t->st == T_WAIT && te != NULL && gym_ali_time_parse(te, &until) == GYM_OK &&
	    until <= time(NULL))
		t->st = T_CLOSED;
	alisim_page_cashier(t, resp);
}

void
alisim_reset(void)
{
	ntrades = 0;
	memset(&alisim_bill_faults, 0, sizeof(alisim_bill_faults));
}

int
alisim_pay(struct alisim_trade *t, time_t when)
{
	if (t->st != T_WAIT)
		return -1;
	t->scanned = 1;
	t->st = T_SUCCESS;
	t->paid_at = when != 0 ? when : time(NULL);
	alisim_notify(t);
	return 0;
}

static void
trade_json(const struct alisim_trade *t, struct wxsim_resp *resp)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "out_trade_no", t->out_trade_no);
	cJSON_AddStringToObject(j, "trade_no", t->trade_no);
	cJSON_AddStringToObject(j, "trade_status", alisim_status_word(t));
	cJSON_AddStringToObject(j, "method", t->method);
	cJSON_AddStringToObject(j, "return_url", t->return_url);
	cJSON_AddNumberToObject(j, "total_fen", (double)t->total_fen);
	cJSON_AddNumberToObject(j, "refunded_fen", (double)t->refunded_fen);
	cJSON_AddNumberToObject(j, "refunds", t->nrefunds);
	cJSON_AddNumberToObject(j, "notified", t->notified);
	cJSON_AddNumberToObject(j, "notify_tries", t->notify_tries);
	wxsim_resp_json(resp, 200, j);
}

static void
bill(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *d = wxsim_http_param(req->query, "billDate");
	char *type = wxsim_http_param(req->query, "bizType");
	unsigned char *zip = NULL;
	size_t len = 0;
	int account = type != NULL && strcmp(type, "signcustomer") == 0;

	free(type);
	if (d == NULL || strlen(d) != 10 || alisim_bill_zip(d, account ? ALISIM_BILL_ACCOUNT :
	    ALISIM_BILL_TRADE, &zip, &len) != 0)
		wxsim_resp_set(resp, 404, "text/plain", "no such bill", 12);
	else {
		wxsim_resp_set(resp, 200, "application/zip", (const char *)zip, len);
		wxsim_resp_header(resp, "Content-Disposition",
		    "attachment; filename=\"20880000000000010156_bill.csv.zip\"");
	}
	free(zip);
	free(d);
}

/*
 * GET /sim/orders and /sim/refunds: every trade and refund in the WeChat
 * simulator's shape ({"items":[...]}, amounts in fen, WeChat's words:
 * SUCCESS, REFUND (closed by a full refund), CLOSED, NOTPAY), so the
 * fault driver's checker holds both channels to the same invariants.
 */
static void
lists(int refunds, struct wxsim_resp *resp)
{
	cJSON *j = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(j, "items"), *x;
	const struct alisim_trade *t;

	for (int i = 0; (t = alisim_nth(i)) != NULL; i++) {
		if (refunds) {
			for (int r = 0; r < t->nrefunds; r++) {
				x = cJSON_CreateObject();
				cJSON_AddStringToObject(x, "out_refund_no", t->refunds[r].no);
				cJSON_AddStringToObject(x, "out_trade_no", t->out_trade_no);
				cJSON_AddStringToObject(x, "status", "SUCCESS");
				cJSON_AddNumberToObject(x, "refund", (double)t->refunds[r].fen);
				cJSON_AddNumberToObject(x, "total", (double)t->total_fen);
				cJSON_AddItemToArray(items, x);
			}
			continue;
		}
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "out_trade_no", t->out_trade_no);
		cJSON_AddStringToObject(x, "trade_state", t->st == T_WAIT ? "NOTPAY" :
		    t->st == T_SUCCESS ? "SUCCESS" : t->refunded_fen > 0 ? "REFUND" : "CLOSED");
		cJSON_AddStringToObject(x, "transaction_id", t->paid_at != 0 ? t->trade_no : "");
		cJSON_AddNumberToObject(x, "total", (double)t->total_fen);
		cJSON_AddNumberToObject(x, "refunded", (double)t->refunded_fen);
		cJSON_AddItemToArray(items, x);
	}
	wxsim_resp_json(resp, 200, j);
}

/* A member of the faults object: 1 set, 0 absent, -1 bad. */
static int
fault_num(const cJSON *j, const char *name, long lo, long hi, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	if (v == NULL)
		return 0;
	if (cJSON_IsBool(v) && lo == 0 && hi == 1) {
		*out = cJSON_IsTrue(v);
		return 1;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)lo || v->valuedouble > (double)hi)
		return -1;
	*out = (long)v->valuedouble;
	return 1;
}

/* POST /sim/faults {members as wxsim's}: the members given change. */
static void
faults(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	static const struct {
		const char *name;
		long lo, hi;
	} m[] = { { "api_status", 0, 599 }, { "api_fail_count", -1, 1000000 },
	    { "api_fail_after", 0, 1 }, { "api_delay_ms", 0, 60000 }, { "notify_drop", 0, 1 },
	    { "notify_duplicate", 1, 10 }, { "notify_delay_ms", 0, 600000 },
	    { "notify_reorder", 0, 1 } };
	struct alisim_faults f = alisim_faults;
	long *dst[] = { NULL, &f.api_fail_count, NULL, &f.api_delay_ms, NULL,
	    &f.notify_duplicate, &f.notify_delay_ms, NULL };
	cJSON *j = cJSON_ParseWithLength(req->body != NULL ? req->body : "", req->blen);
	long v;
	int rc = cJSON_IsObject(j) ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < sizeof(m) / sizeof(m[0]); i++) {
		if ((rc = fault_num(j, m[i].name, m[i].lo, m[i].hi, &v)) <= 0) {
			rc = rc < 0 ? -1 : 0;
			continue;
		}
		rc = 0;
		if (dst[i] != NULL)
			*dst[i] = v;
		else if (i == 0)
			f.api_status = (int)v;
		else if (i == 2)
			f.api_fail_after = (int)v;
		else if (i == 4)
			f.notify_drop = (int)v;
	}
	cJSON_Delete(j);
	if (rc != 0) {
		wxsim_resp_set(resp, 400, "text/plain", "bad faults", 10);
		return;
	}
	alisim_faults = f;
	wxsim_resp_set(resp, 200, "application/json", "{}", 2);
}

/* A gateway call under the faults: the delay, then the status to answer
 * instead (0: none) before or after the call's work. */
static void
gateway_faulty(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	struct alisim_faults *f = &alisim_faults;
	int fail = f->api_status >= 500 && f->api_fail_count != 0;

	if (f->api_delay_ms > 0)
		usleep((useconds_t)f->api_delay_ms * 1000);
	if (fail && f->api_fail_count > 0)
		f->api_fail_count--;
	if (!fail || f->api_fail_after)
		gateway(req, resp);
	if (fail) {
		wxsim_resp_free(resp);
		memset(resp, 0, sizeof(*resp));
		wxsim_resp_set(resp, f->api_status, "text/plain", "Service Unavailable", 19);
	}
}

/* GET /sim/...: the buyer's pages, a trade as JSON, the lists, the bill file. */
static void
control_get(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *no;
	struct alisim_trade *t;

	if (strcmp(req->path, "/sim/pay") == 0) {
		alisim_page_pay_get(req, resp);
		return;
	}
	if (strcmp(req->path, "/sim/orders") == 0 || strcmp(req->path, "/sim/refunds") == 0) {
		lists(strcmp(req->path, "/sim/refunds") == 0, resp);
		return;
	}
	if (strcmp(req->path, "/sim/bill/download") == 0) {
		bill(req, resp);
		return;
	}
	if (strcmp(req->path, "/sim/trade") != 0) {
		wxsim_resp_set(resp, 404, "text/plain", "not found", 9);
		return;
	}
	no = wxsim_http_param(req->query, "out_trade_no");
	t = find(no);
	free(no);
	if (t == NULL)
		wxsim_resp_set(resp, 404, "text/plain", "no such trade", 13);
	else
		trade_json(t, resp);
}

static void
control(const struct wxsim_req *req, struct wxsim_resp *resp)
{
	char *no = wxsim_http_param(req->query, "out_trade_no"), *body;
	char *browser = wxsim_http_param(req->query, "browser");
	char *at = wxsim_http_param(req->query, "paid_at"), *stop = NULL;
	struct alisim_trade *t = find(no);
	int page = browser != NULL && strcmp(browser, "1") == 0;
	long long paid_at = at != NULL ? strtoll(at, &stop, 10) : 0;

	free(no);
	free(browser);
	if (at != NULL && (stop == at || *stop != '\0' || paid_at <= 0)) {
		free(at);
		wxsim_resp_set(resp, 400, "text/plain", "bad paid_at", 11);
		return;
	}
	free(at);
	if (t == NULL) {
		wxsim_resp_set(resp, 404, "text/plain", "no such trade", 13);
		return;
	}
	if (strcmp(req->path, "/sim/scan") == 0) {
		t->scanned = 1;
		wxsim_resp_set(resp, 200, "text/plain", "scanned", 7);
	} else if (strcmp(req->path, "/sim/close") == 0 && t->st == T_WAIT) {
		t->scanned = 1;
		t->st = T_CLOSED;
		wxsim_resp_set(resp, 200, "text/plain", "closed", 6);
	} else if (strcmp(req->path, "/sim/pay") == 0 && alisim_pay(t, (time_t)paid_at) == 0) {
		if (page) {
			alisim_page_paid(t, resp);
			return;
		}
		if ((body = alisim_notification(t)) == NULL) {
			wxsim_resp_set(resp, 500, "text/plain", "nomem", 5);
			return;
		}
		wxsim_resp_set(resp, 200, "application/x-www-form-urlencoded", body, strlen(body));
		free(body);
	} else
		wxsim_resp_set(resp, 409, "text/plain", "not payable", 11);
}

static void
serve(SSL_CTX *ctx, int fd)
{
	struct wxsim_io io = { fd, NULL };
	struct wxsim_req req;
	struct wxsim_resp resp;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int st = 0;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((io.ssl = wxsim_tls_accept(ctx, fd, IO_TIMEOUT_S * 1000, "peer")) == NULL)
		return;
	if (wxsim_http_read(&io, &req, &st) != 0) {
		if (st != 0) {
			wxsim_resp_set(&resp, st, "text/plain", "bad request", 11);
			wxsim_http_write(&io, &resp);
		}
	} else {
		if (strcmp(req.path, "/gateway.do") == 0 && (strcmp(req.method, "POST") == 0 ||
		    strcmp(req.method, "GET") == 0))
			gateway_faulty(&req, &resp);
		else if (strcmp(req.path, "/sim/faults") == 0 && strcmp(req.method, "POST") == 0)
			faults(&req, &resp);
		else if (strcmp(req.path, "/sim/bill-faults") == 0 &&
		    strcmp(req.method, "POST") == 0)
			alisim_bill_faults_post(&req, &resp);
		else if (strcmp(req.path, "/sim/bill-faults") == 0)
			alisim_bill_faults_get(&resp);
		else if (strcmp(req.path, "/sim/reset") == 0 && strcmp(req.method, "POST") == 0) {
			alisim_reset();
			wxsim_resp_set(&resp, 200, "application/json", "{}", 2);
		}
		else if (strncmp(req.path, "/sim/", 5) == 0 && strcmp(req.method, "POST") == 0)
			control(&req, &resp);
		else if (strncmp(req.path, "/sim/", 5) == 0 && strcmp(req.method, "GET") == 0)
			control_get(&req, &resp);
		else if (strcmp(req.path, "/healthz") == 0)
			wxsim_resp_set(&resp, 200, "text/plain", "ok", 2);
		else
			wxsim_resp_set(&resp, 404, "text/plain", "not found", 9);
		wxsim_http_write(&io, &resp);
	}
	wxsim_http_req_free(&req);
	wxsim_resp_free(&resp);
	wxsim_tls_close(io.ssl);
}

static int
listen_on(const char *hostport)
{
	struct sockaddr_in sa;
	char host[64];
	const char *colon = strrchr(hostport, ':');
	int fd, on = 1;

	if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
		return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (strcmp(host, "127.0.0.1") != 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;			/* loopback only */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: alisim --listen 127.0.0.1:PORT --tls-cert PEM --tls-key PEM "
	    "--app-pub PEM --alipay-key PEM [--app-id ID] [--seller-id PID] [--notify-cainfo PEM]\n"
	    "              [--retry-scale F]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *addr = NULL, *cert = NULL, *key = NULL, *pub = NULL, *ak = NULL, *rs = NULL;
	struct sigaction sa;
	struct pollfd pfd;
	SSL_CTX *ctx;
	int lfd, fd;

	for (int i = 1; i < argc; i++) {
		const char **dst = strcmp(argv[i], "--listen") == 0 ? &addr :
		    strcmp(argv[i], "--tls-cert") == 0 ? &cert :
		    strcmp(argv[i], "--tls-key") == 0 ? &key :
		    strcmp(argv[i], "--app-pub") == 0 ? &pub :
		    strcmp(argv[i], "--alipay-key") == 0 ? &ak :
		    strcmp(argv[i], "--app-id") == 0 ? &alisim_app_id :
		    strcmp(argv[i], "--seller-id") == 0 ? &alisim_seller_id :
		    strcmp(argv[i], "--notify-cainfo") == 0 ? &alisim_notify_ca :
		    strcmp(argv[i], "--retry-scale") == 0 ? &rs : NULL;

		if (dst == NULL || i + 1 == argc)
			usage();
		*dst = argv[++i];
	}
	if (addr == NULL || cert == NULL || key == NULL || pub == NULL || ak == NULL)
		usage();
	alisim_listen = addr;
	started = time(NULL);
	if (rs != NULL && ((alisim_retry_scale = strtod(rs, NULL)) <= 0 || alisim_retry_scale > 10))
		usage();
	if (gym_key_load_public(pub, &app_pub) != GYM_OK ||
	    gym_key_load_private(ak, &alisim_key) != GYM_OK) {
		fprintf(stderr, "alisim: cannot load the keys\n");
		return 1;
	}
	if ((ctx = wxsim_tls_ctx_new(cert, key)) == NULL)
		return 1;
	if ((lfd = listen_on(addr)) == -1) {
		fprintf(stderr, "alisim: cannot listen on %s: %s\n", addr, strerror(errno));
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "alisim: listening on https://%s\n", addr);
	while (!stopping) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		alisim_notify_tick();
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		serve(ctx, fd);
		close(fd);
	}
	close(lfd);
	SSL_CTX_free(ctx);
	EVP_PKEY_free(app_pub);
	EVP_PKEY_free(alisim_key);
	curl_global_cleanup();
	return 0;
}

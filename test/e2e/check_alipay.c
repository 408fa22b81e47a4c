/*
 * check_alipay.c: Alipay through nginx and gymd against the stack's Alipay
 * simulator (test/alisim, its own TLS; the stack's alipay.* keys are the
 * test vectors' keys).  The notify URL: a notification signed with
 * Alipay's key pays the order once however often it arrives, 20 copies at
 * once included (the answer is the literal "success", the booking is
 * confirmed); a forged one (another key), a tampered one (amount changed
 * after signing), a wrong amount and another app's are answered "failure"
 * and change nothing.  POST /payment/alipay/create: a QR order and a page
 * pay order (the browser's cashier, back to return_url with signed
 * parameters) paid through the simulator, which notifies gymd; an unpaid
 * order switched from WeChat to Alipay and paid (the WeChat attempt
 * superseded); an operator's refund through Alipay (alipay.trade.refund
 * with out_request_no, once however often asked); the bill through the
 * channel (the simulator's zip of GBK CSV), reconciled by gymctl reconcile
 * --channel alipay (the order's line matched, with its fee; the account's
 * 账务明细 read for the money in and out) and shown by GET
 * /admin/reconciliation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <curl/curl.h>

#include "alipay_sign.h"
#include "channel.h"
#include "config.h"
#include "crypto.h"
#include "e2e.h"

#define ALI_NOTIFY E2E_API "/payment/alipay/notify"
#define ALI_CREATE E2E_API "/payment/alipay/create"
#define PLATFORM_KEY "alipay_platform_key.pem"

/* A trade_status_sync notification for oid, form-encoded (caller frees):
 * signed with Alipay's test key, then total_amount replaced by tamper
 * when that is not NULL. */
static char *
notification_by(const char *key_file, const char *oid, const char *app_id, const char *total,
    const char *tamper)
{
	struct gym_ali_params ps = { 0 };
	char path[512], *text = NULL, *sig = NULL, *body = NULL;
	EVP_PKEY *key = NULL;
	char trade_no[64];
	size_t len;

	/* Alipay's trade number: one per trade (an order here) */
	snprintf(trade_no, sizeof(trade_no), "20261204220014%s", oid + 11);
	snprintf(path, sizeof(path), "%s/keys/%s", e2e_vectors(), key_file);
	ck_assert_int_eq(gym_key_load_private(path, &key), GYM_OK);
	ck_assert(gym_ali_params_add(&ps, "notify_type", "trade_status_sync") == GYM_OK &&
	    gym_ali_params_add(&ps, "notify_id", oid) == GYM_OK &&
	    gym_ali_params_add(&ps, "app_id", app_id) == GYM_OK &&
	    gym_ali_params_add(&ps, "seller_id", "2088000000000001") == GYM_OK &&
	    gym_ali_params_add(&ps, "charset", "utf-8") == GYM_OK &&
	    gym_ali_params_add(&ps, "trade_status", "TRADE_SUCCESS") == GYM_OK &&
	    gym_ali_params_add(&ps, "out_trade_no", oid) == GYM_OK &&
	    gym_ali_params_add(&ps, "trade_no", trade_no) == GYM_OK &&
	    gym_ali_params_add(&ps, "total_amount", total) == GYM_OK &&
	    gym_ali_params_add(&ps, "gmt_payment", "2026-12-04 20:00:00") == GYM_OK &&
	    gym_ali_params_add(&ps, "buyer_id", "2088102000000042") == GYM_OK &&
	    gym_ali_params_add(&ps, "sign_type", "RSA2") == GYM_OK);
	ck_assert_int_eq(gym_ali_sign_content(&ps, 1, &text, &len), GYM_OK);
	ck_assert_int_eq(gym_rsa_sign(key, text, len, &sig), GYM_OK);
	ck_assert_int_eq(gym_ali_params_add(&ps, "sign", sig), GYM_OK);
	ck_assert_int_eq(gym_ali_form_encode(&ps, &body), GYM_OK);
	if (tamper != NULL) {
		char *at = strstr(body, "total_amount=");

		ck_assert_ptr_nonnull(at);
		ck_assert_uint_eq(strlen(tamper), strlen(total));
		memcpy(at + strlen("total_amount="), tamper, strlen(tamper));
	}
	free(text);
	free(sig);
	EVP_PKEY_free(key);
	gym_ali_params_free(&ps);
	return body;
}

static char *
notification(const char *oid, const char *app_id, const char *total, const char *tamper)
{
	return notification_by(PLATFORM_KEY, oid, app_id, total, tamper);
}

static void
post(const char *body, long status, const char *answer)
{
	struct e2e_resp r = { 0 };

	e2e_request("POST", ALI_NOTIFY, NULL, body, NULL, &r);
	ck_assert_int_eq(r.status, status);
	ck_assert_uint_eq(r.len, strlen(answer));
	ck_assert(memcmp(r.body, answer, r.len) == 0);
	e2e_resp_free(&r);
}

/* A pending order of a new parent: its id into oid[40], its total as yuan. */
static void
pending(const char *tag, char *oid, char *yuan, size_t len)
{
	char token[512];
	const char *p[1] = { oid };
	long long sid = e2e_schedule(5), fen;

	e2e_user(tag, token);
	e2e_order_create(token, sid, e2e_hold(token, sid), oid, NULL);
	fen = e2e_sql_intp(e2e_pg(), "SELECT amount_fen FROM payment_orders WHERE order_id = $1",
	    1, p);
	snprintf(yuan, len, "%lld.%02lld", fen / 100, fen % 100);
}

/* The order is in status with n transaction rows and n bookings. */
static void
settled(const char *oid, const char *status, long long n)
{
	const char *p[2] = { oid, status };

	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_orders WHERE "
	    "order_id = $1 AND status = $2", 2, p), 1);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_transactions "
	    "WHERE order_id = $1", 1, p), n);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM bookings WHERE "
	    "order_id = $1", 1, p), n);
}

START_TEST(test_notify_paid_once)
{
	char oid[40], yuan[32], *body;
	int i;

	pending("ali-paid", oid, yuan, sizeof(yuan));
	body = notification(oid, "2021000000000001", yuan, NULL);
	for (i = 0; i < 3; i++)
		post(body, 200, "success");
	free(body);
	settled(oid, "paid", 1);
}
END_TEST

START_TEST(test_notify_refused)
{
	char oid[40], yuan[32], wrong[32], *body;

	pending("ali-bad", oid, yuan, sizeof(yuan));
	snprintf(wrong, sizeof(wrong), "%s", yuan);
	wrong[0] = wrong[0] == '9' ? '8' : (char)(wrong[0] + 1);
	/* tampered after signing */
	body = notification(oid, "2021000000000001", yuan, wrong);
	post(body, 400, "failure");
	free(body);
	/* signed, but not the order's amount */
	body = notification(oid, "2021000000000001", wrong, NULL);
	post(body, 400, "failure");
	free(body);
	/* signed, but for another app */
	body = notification(oid, "2021000000000009", yuan, NULL);
	post(body, 400, "failure");
	free(body);
	/* forged: signed with a key that is not Alipay's (the app's own) */
	body = notification_by("alipay_app_key.pem", oid, "2021000000000001", yuan, NULL);
	post(body, 400, "failure");
	free(body);
	settled(oid, "pending", 0);
}
END_TEST

START_TEST(test_notify_concurrent)
{
	struct e2e_req reqs[20];
	char oid[40], yuan[32], *body;
	size_t i;

	pending("ali-many", oid, yuan, sizeof(yuan));
	body = notification(oid, "2021000000000001", yuan, NULL);
	memset(reqs, 0, sizeof(reqs));
	for (i = 0; i < 20; i++) {
		reqs[i].method = "POST";
		reqs[i].path = ALI_NOTIFY;
		reqs[i].body = body;
	}
	e2e_request_many(reqs, 20);
	for (i = 0; i < 20; i++) {
		ck_assert_msg(reqs[i].resp.status == 200 && reqs[i].resp.len == 7 &&
		    memcmp(reqs[i].resp.body, "success", 7) == 0, "copy %zu: %ld %s", i,
		    reqs[i].resp.status, reqs[i].resp.body);
		e2e_resp_free(&reqs[i].resp);
	}
	free(body);
	settled(oid, "paid", 1);
}
END_TEST

/* ---- the Alipay simulator -------------------------------------------------------------- */

/* The simulator's base URL (https://127.0.0.1:PORT), from the stack's
 * alipay.gateway_url. */
static const char *
alisim_base(void)
{
	static char base[256];
	char line[512];
	FILE *f;

	if (base[0] != '\0')
		return base;
	ck_assert_ptr_nonnull(f = fopen(e2e_conf(), "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v, *end;

		if (strncmp(line, "alipay.gateway_url", 18) != 0 || (v = strchr(line, '=')) == NULL)
			continue;
		for (v++; *v == ' '; v++)
			;
		if ((end = strstr(v, "/gateway.do")) != NULL)
			*end = '\0';
		snprintf(base, sizeof(base), "%s", v);
	}
	fclose(f);
	ck_assert_msg(base[0] != '\0', "no alipay.gateway_url in %s", e2e_conf());
	return base;
}

struct ali_resp {
	long status;
	char *body;
	char location[2048];
};

static size_t
ali_collect(char *p, size_t size, size_t n, void *arg)
{
	struct ali_resp *r = arg;
	size_t old = r->body != NULL ? strlen(r->body) : 0;
	char *nb = realloc(r->body, old + size * n + 1);

	if (nb == NULL)
		return 0;
	memcpy(nb + old, p, size * n);
	nb[old + size * n] = '\0';
	r->body = nb;
	return size * n;
}

static size_t
ali_header(char *p, size_t size, size_t n, void *arg)
{
	struct ali_resp *r = arg;

	if (size * n > 10 && strncasecmp(p, "Location: ", 10) == 0)
		snprintf(r->location, sizeof(r->location), "%.*s", (int)(size * n - 12), p + 10);
	return size * n;
}

/* method url (absolute, or a path on the simulator) with body (POST; may
 * be ""); no redirects followed. */
static void
ali(const char *method, const char *url, const char *body, struct ali_resp *r)
{
	char ca[512], full[4096];
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	ck_assert_ptr_nonnull(c);
	snprintf(full, sizeof(full), "%s%s", url[0] == '/' ? alisim_base() : "", url);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_CAINFO, e2e_var_path("tls/cert.pem", ca, sizeof(ca)));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ali_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ali_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	if (r->body == NULL)
		r->body = strdup("");
}

/* GET /sim/trade?out_trade_no=otn: the member name of the trade. */
static long long
trade_num(const char *otn, const char *name)
{
	struct ali_resp r;
	char path[160];
	cJSON *j, *v;
	long long n;

	snprintf(path, sizeof(path), "/sim/trade?out_trade_no=%s", otn);
	ali("GET", path, NULL, &r);
	ck_assert_msg(r.status == 200, "%s: %ld", path, r.status);
	ck_assert_ptr_nonnull(j = cJSON_Parse(r.body));
	ck_assert_ptr_nonnull(v = cJSON_GetObjectItemCaseSensitive(j, name));
	n = (long long)v->valuedouble;
	cJSON_Delete(j);
	free(r.body);
	return n;
}

/* A parent's new pending order: its token and id. */
static void
parent_order(const char *tag, char *token, char *oid)
{
	long long sid = e2e_schedule(5);

	e2e_user(tag, token);
	e2e_order_create(token, sid, e2e_hold(token, sid), oid, NULL);
}

/* POST /payment/alipay/create; asserts 200 and the channel. */
static void
create(const char *token, const char *oid, const char *trade, const char *return_url,
    struct e2e_resp *r)
{
	char body[512];

	if (return_url != NULL)
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"trade_type\":\"%s\","
		    "\"return_url\":\"%s\"}", oid, trade, return_url);
	else
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"trade_type\":\"%s\"}", oid,
		    trade);
	e2e_request("POST", ALI_CREATE, token, body, NULL, r);
	ck_assert_msg(r->status == 200, "alipay/create: %ld %s", r->status, r->body);
	ck_assert_str_eq(e2e_str(r, "order_id"), oid);
}

/* The order's payment_method as the parent's API shows it. */
static void
method_is(const char *token, const char *oid, const char *want)
{
	struct e2e_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(e2e_str(&r, "payment_method"), want);
	e2e_resp_free(&r);
}

/* The simulator's buyer pays out_trade_no otn (its notification goes to
 * gymd through nginx); the order turns paid, booked once. */
static void
pay_at_alisim(const char *token, const char *oid, const char *otn)
{
	struct ali_resp a;
	char path[160], st[24];

	snprintf(path, sizeof(path), "/sim/pay?out_trade_no=%s", otn);
	ali("POST", path, "", &a);
	ck_assert_msg(a.status == 200, "alisim pay: %ld %s", a.status, a.body);
	free(a.body);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 10000, st), "paid");
	ck_assert_int_eq(trade_num(otn, "notified"), 1);
	settled(oid, "paid", 1);
}

START_TEST(test_create_qr_paid)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40];

	parent_order("ali-qr", token, oid);
	create(token, oid, "QR", NULL, &r);
	ck_assert_msg(strncmp(e2e_str(&r, "qr_code"), "https://qr.alipay.com/", 22) == 0, "%s",
	    r.body);
	ck_assert_str_eq(e2e_str(&r, "payment_method"), "alipay");
	e2e_resp_free(&r);
	method_is(token, oid, "alipay");
	/* the first attempt's out_trade_no is the order id */
	pay_at_alisim(token, oid, oid);
}
END_TEST

START_TEST(test_create_page_paid)
{
	struct e2e_resp r = { 0 };
	struct ali_resp a;
	char token[E2E_TOKEN_MAX], oid[40], ret[256], path[256];

	parent_order("ali-page", token, oid);
	snprintf(ret, sizeof(ret), "%s/demo/?order_id=%s", e2e_base(), oid);
	/* bad input first: an unknown trade type, a return_url that is not http(s) */
	e2e_request("POST", ALI_CREATE, token, "{\"order_id\":\"x\",\"trade_type\":\"JSAPI\"}",
	    NULL, &r);
	ck_assert_int_eq(r.status, 400);
	snprintf(path, sizeof(path), "{\"order_id\":\"%s\",\"trade_type\":\"PAGE\","
	    "\"return_url\":\"javascript:alert(1)\"}", oid);
	e2e_request("POST", ALI_CREATE, token, path, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(e2e_str(&r, "code"), "INVALID_REQUEST");
	create(token, oid, "PAGE", ret, &r);
	ck_assert_msg(strncmp(e2e_str(&r, "pay_url"), alisim_base(), strlen(alisim_base())) == 0,
	    "%s", r.body);
	/* the browser opens the signed URL: the simulator verifies it, the cashier */
	ali("GET", e2e_str(&r, "pay_url"), NULL, &a);
	ck_assert_msg(a.status == 200 && strstr(a.body, "确认付款") != NULL, "%ld %s", a.status,
	    a.body);
	free(a.body);
	e2e_resp_free(&r);
	/* the buyer pays: back to return_url with Alipay's signed parameters */
	snprintf(path, sizeof(path), "/sim/pay?browser=1&out_trade_no=%s", oid);
	ali("POST", path, "", &a);
	ck_assert_int_eq(a.status, 303);
	ck_assert_msg(strncmp(a.location, ret, strlen(ret)) == 0 &&
	    strstr(a.location, "&sign=") != NULL, "%s", a.location);
	free(a.body);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 10000, path), "paid");
	settled(oid, "paid", 1);
}
END_TEST

START_TEST(test_switch_from_wechat)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], otn[48];
	const char *p[1] = { oid };

	parent_order("ali-switch", token, oid);
	e2e_prepay(token, oid);			/* WeChat JSAPI first */
	method_is(token, oid, "wechat");
	create(token, oid, "QR", NULL, &r);
	e2e_resp_free(&r);
	method_is(token, oid, "alipay");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_attempts WHERE "
	    "order_id = $1 AND channel = 'wechat' AND state = 'superseded'", 1, p), 1);
	e2e_sql_text(e2e_pg(), "SELECT out_trade_no FROM payment_attempts WHERE order_id = $1 "
	    "AND channel = 'alipay' AND state = 'open'", 1, p, otn, sizeof(otn));
	ck_assert_str_ne(otn, oid);
	pay_at_alisim(token, oid, otn);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM payment_attempts WHERE "
	    "order_id = $1 AND channel = 'alipay' AND state = 'paid'", 1, p), 1);
}
END_TEST

/* POST /admin/refunds for oid (amount_fen 0: not named); asserts 202 and
 * the refund's status; its out_refund_no into no[80]. */
static void
refund(const char *op, const char *oid, const char *reason, int amount_fen, const char *want,
    char *no)
{
	struct e2e_resp r = { 0 };
	char body[256];

	if (amount_fen > 0)
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"%s\","
		    "\"amount_fen\":%d}", oid, reason, amount_fen);
	else
		snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"%s\"}", oid,
		    reason);
	e2e_request("POST", E2E_API "/admin/refunds", op, body, NULL, &r);
	ck_assert_msg(r.status == 202, "refund: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), want);
	snprintf(no, 80, "%s", e2e_str(&r, "out_refund_no"));
	e2e_resp_free(&r);
}

START_TEST(test_refund)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], op[128], oid[40], no[80], no2[80], st[24], body[256];
	const char *p[1] = { oid };

	parent_order("ali-refund", token, oid);
	create(token, oid, "QR", NULL, &r);
	e2e_resp_free(&r);
	pay_at_alisim(token, oid, oid);
	e2e_operator("ali-refund", "operator", op, sizeof(op));
	/* 50.00 back (alipay.trade.refund is synchronous: done at once); the
	 * order stays paid, its booking confirmed; pressed twice: one refund */
	refund(op, oid, "少上一节课", 5000, "success", no);
	refund(op, oid, "少上一节课", 5000, "success", no2);
	ck_assert_str_eq(no2, no);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "paid");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM bookings WHERE order_id = $1 "
	    "AND status = 'confirmed'", 1, p), 1);
	ck_assert_int_eq(trade_num(oid, "refunds"), 1);
	ck_assert_int_eq(trade_num(oid, "refunded_fen"), 5000);
	/* no amount of nothing, and not more than is left: refused, nothing sent */
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"r\",\"amount_fen\":0}",
	    oid);
	e2e_request("POST", E2E_API "/admin/refunds", op, body, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	e2e_resp_free(&r);
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"reason\":\"r\","
	    "\"amount_fen\":20000}", oid);
	e2e_request("POST", E2E_API "/admin/refunds", op, body, NULL, &r);
	ck_assert_msg(r.status == 400, "%ld %s", r.status, r.body);
	e2e_resp_free(&r);
	ck_assert_int_eq(trade_num(oid, "refunds"), 1);
	/* the rest: the order is refunded, the booking cancelled */
	refund(op, oid, "家长临时有事", 0, "success", no2);
	ck_assert_str_ne(no2, no);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "refunded");
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM bookings WHERE order_id = $1 "
	    "AND status = 'confirmed'", 1, p), 0);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT sum(amount_fen) FROM refunds WHERE "
	    "order_id = $1 AND status = 'success'", 1, p), 20000);
	ck_assert_int_eq(trade_num(oid, "refunds"), 2);
	ck_assert_int_eq(trade_num(oid, "refunded_fen"), 20000);
}
END_TEST

/* j's string member name, "" when absent. */
static const char *
member(const cJSON *j, const char *name)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));

	return v != NULL ? v : "";
}

START_TEST(test_bill)
{
	struct gym_config cfg;
	struct gym_channel *ch = NULL;
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], day[40], err[256], *text = NULL;
	char cmd[2048], out[1024], op[128], path[160];
	const char *p[1] = { oid };
	const cJSON *run, *fin, *fout;
	size_t len = 0;
	int rc;

	parent_order("ali-bill", token, oid);
	create(token, oid, "QR", NULL, &r);
	e2e_resp_free(&r);
	pay_at_alisim(token, oid, oid);
	gym_time_format_cst((int64_t)time(NULL) * 1000000, day, sizeof(day));
	day[10] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(gym_config_load(e2e_conf(), &cfg, err, sizeof(err)), GYM_OK);
	ck_assert_int_eq(gym_channel_new(&cfg, GYM_CHANNEL_ALIPAY, &ch), GYM_OK);
	ck_assert_int_eq(gym_channel_bill(ch, GYM_BILL_TRADES, day, &text, &len), GYM_OK);
	ck_assert_ptr_nonnull(strstr(text, "#支付宝业务明细查询"));
	ck_assert_msg(strstr(text, oid) != NULL, "%s not in the bill:\n%s", oid, text);
	ck_assert_ptr_nonnull(strstr(text, "交易"));
	free(text);
	/* the account's 账务明细 (its 汇总, which starts alike, passed over) */
	ck_assert_int_eq(gym_channel_bill(ch, GYM_BILL_FUNDFLOW, day, &text, &len), GYM_OK);
	ck_assert_ptr_nonnull(strstr(text, "#支付宝账务明细查询"));
	ck_assert_ptr_nonnull(strstr(text, "\n账务流水号,"));
	ck_assert_msg(strstr(text, oid) != NULL, "%s not in the account's bill:\n%s", oid, text);
	free(text);
	gym_channel_free(ch);
	gym_config_free(&cfg);
	/* the day reconciled by hand: the order's line matched, no discrepancy
	 * names it (orders paid here only by the notify tests' signed
	 * notifications are rightly missing there) */
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' reconcile --date %s --channel alipay "
	    "--force 2>&1", e2e_bin(), e2e_conf(), day);
	rc = e2e_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "gymctl reconcile: exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "channel alipay") != NULL && strstr(out, "state done") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "fund flow in ") != NULL, "%s", out);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM recon_lines WHERE channel = "
	    "'alipay' AND out_trade_no = $1 AND order_id = $1 AND kind = 'payment' "
	    "AND amount_fen = 20000 AND fee_fen = 120", 1, p), 1);
	ck_assert_int_eq(e2e_sql_intp(e2e_pg(), "SELECT count(*) FROM recon_discrepancies "
	    "WHERE channel = 'alipay' AND out_trade_no = $1", 1, p), 0);
	/* the console's day shows Alipay's run */
	e2e_operator("ali-bill", "operator", op, sizeof(op));
	snprintf(path, sizeof(path), E2E_API "/admin/reconciliation?date=%s", day);
	e2e_request("GET", path, op, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(r.json, "runs"))
		if (strcmp(member(run, "channel"), "alipay") == 0)
			break;
	ck_assert_msg(run != NULL, "no alipay run: %s", r.body);
	ck_assert_str_eq(member(run, "state"), "done");
	/* the fund flow: at least this order's 200 yuan in, its fee out */
	fin = cJSON_GetObjectItemCaseSensitive(run, "fund_in_fen");
	fout = cJSON_GetObjectItemCaseSensitive(run, "fund_out_fen");
	ck_assert_msg(cJSON_IsNumber(fin) && cJSON_IsNumber(fout) && fin->valuedouble >= 20000 &&
	    fout->valuedouble >= 120, "%s", r.body);
	e2e_resp_free(&r);
}
END_TEST

Suite *
alipay_suite(void)
{
	Suite *s = suite_create("alipay");
	TCase *tc = tcase_create("notify");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_notify_paid_once);
	tcase_add_test(tc, test_notify_refused);
	tcase_add_test(tc, test_notify_concurrent);
	suite_add_tcase(s, tc);
	tc = tcase_create("alisim");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_qr_paid);
	tcase_add_test(tc, test_create_page_paid);
	tcase_add_test(tc, test_switch_from_wechat);
	tcase_add_test(tc, test_refund);
	tcase_add_test(tc, test_bill);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * check_pay.c: WeChat Pay through the whole stack: JSAPI and Native
 * prepay, payment through the simulator and its signed notification,
 * notifications we build and sign ourselves (duplicates, forgeries,
 * replays, probes, wrong amounts), the reconciliation of a lost
 * notification, late payments, an upstream that is slow or failing, and
 * what the log must never contain.  The simulator's faults are put back to
 * their defaults before and after every test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "crypto.h"
#include "e2e.h"

#define CALLBACK E2E_API "/payment/wxpay/callback"

/* Every fault of test/wxsim at its default (state.c wxsim_state_faults_default). */
#define FAULTS_DEFAULT "{\"api_status\":0,\"api_fail_count\":-1,\"api_fail_after\":false," \
	"\"api_delay_ms\":0,\"api_bad_signature\":false,\"notify_drop\":false," \
	"\"notify_duplicate\":1,\"notify_delay_ms\":0,\"notify_reorder\":false," \
	"\"notify_bad_signature\":false}"

static void
faults_reset(void)
{
	e2e_faults(FAULTS_DEFAULT);
}

/* Hold a seat of sid and open an order on it: the order_id into oid[40]. */
static long long
order(const char *token, long long sid, char *oid)
{
	char st[24];
	long long rid = e2e_hold(token, sid);

	e2e_order_create(token, sid, rid, oid, st);
	ck_assert_str_eq(st, "pending");
	return rid;
}

static void
wxpay_create(const char *token, const char *oid, const char *trade_type, struct e2e_resp *r)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"trade_type\":\"%s\"}", oid, trade_type);
	e2e_request("POST", E2E_API "/payment/wxpay/create", token, body, NULL, r);
}

static void
prepay_ok(const char *token, const char *oid)
{
	struct e2e_resp r = { 0 };

	wxpay_create(token, oid, "JSAPI", &r);
	ck_assert_msg(r.status == 200, "wxpay/create: %ld %s", r.status, r.body);
	e2e_resp_free(&r);
}

static void
cancel(const char *token, const char *oid)
{
	struct e2e_resp r = { 0 };
	char path[128];

	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s/cancel", oid);
	e2e_request("POST", path, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "cancel: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "cancelled");
	e2e_resp_free(&r);
}

static void
setup(void)
{
	faults_reset();
}

static void
teardown(void)
{
	faults_reset();
}

/* ---- prepay and payment ----------------------------------------------------------------- */

START_TEST(jsapi_flow)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], st[24], msg[512], path[1024], rids[24];
	const cJSON *pp;
	const char *ts, *nonce, *pkg, *sign;
	EVP_PKEY *cert = NULL;
	long long sid = e2e_schedule(5), rid;
	int before;

	e2e_user("pay-jsapi", token);
	before = e2e_available(sid);
	ck_assert_int_eq(before, 5);
	rid = order(token, sid, oid);
	wxpay_create(token, oid, "JSAPI", &r);
	ck_assert_msg(r.status == 200, "wxpay/create: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	pp = cJSON_GetObjectItemCaseSensitive(r.json, "pay_params");
	ck_assert_msg(cJSON_IsObject(pp), "no pay_params in %s", r.body);
	ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pp, "timeStamp")),
	    "timeStamp must be a string: %s", r.body);
	ts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, "timeStamp"));
	nonce = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, "nonceStr"));
	pkg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, "package"));
	sign = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, "paySign"));
	ck_assert_ptr_nonnull(ts);
	ck_assert_ptr_nonnull(nonce);
	ck_assert_ptr_nonnull(pkg);
	ck_assert_ptr_nonnull(sign);
	ck_assert_uint_eq(strspn(ts, "0123456789"), strlen(ts));
	ck_assert_msg(labs(atol(ts) - (long)time(NULL)) < 60, "timeStamp %s is not now", ts);
	ck_assert_uint_gt(strlen(nonce), 0);
	ck_assert_uint_le(strlen(nonce), 32);
	ck_assert_int_eq(strncmp(pkg, "prepay_id=", 10), 0);
	ck_assert_str_eq(pkg + 10, e2e_str(&r, "prepay_id"));
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, "signType")), "RSA");
	snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s\n", E2E_APPID, ts, nonce, pkg);
	snprintf(path, sizeof(path), "%s/keys/merchant_cert.pem", e2e_vectors());
	ck_assert_int_eq(gym_key_load_public(path, &cert), GYM_OK);
	ck_assert_msg(gym_rsa_verify(cert, msg, strlen(msg), sign) == GYM_OK, "paySign does not verify");
	/* and it is bound to the message: another nonce does not verify */
	snprintf(msg, sizeof(msg), "%s\n%s\n%sX\n%s\n", E2E_APPID, ts, nonce, pkg);
	ck_assert_int_ne(gym_rsa_verify(cert, msg, strlen(msg), sign), GYM_OK);
	EVP_PKEY_free(cert);
	ck_assert_int_eq(e2e_available(sid), before - 1);

	/* before the payment, confirm says it is pending */
	snprintf(msg, sizeof(msg), "{\"order_id\":\"%s\"}", oid);
	e2e_request("POST", E2E_API "/bookings/confirm", token, msg, NULL, &r);
	ck_assert_msg(r.status == 409, "confirm before paying: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "PAYMENT_PENDING");

	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
	e2e_request("POST", E2E_API "/bookings/confirm", token, msg, NULL, &r);
	ck_assert_msg(r.status == 200, "confirm: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "status"), "confirmed");
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_int_eq((long long)e2e_num(&r, "course_schedule_id"), sid);
	ck_assert_int_gt((long long)e2e_num(&r, "booking_id"), 0);
	ck_assert_int_eq(e2e_available(sid), before - 1);
	snprintf(rids, sizeof(rids), "%lld", rid);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM seat_reservations WHERE id = $1::bigint "
	    "AND status = 'confirmed'", rids), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM seats WHERE reservation_id = $1::bigint "
	    "AND state = 'confirmed'", rids), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE order_id = $1 "
	    "AND outcome = 'paid' AND source = 'notify' AND amount_fen = 20000", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM bookings WHERE order_id = $1 "
	    "AND status = 'confirmed'", oid), 1);
	e2e_resp_free(&r);
}
END_TEST

START_TEST(native_qrcode)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], url[160], want[160];
	long long sid = e2e_schedule(3);

	e2e_user("pay-native", token);
	order(token, sid, oid);
	wxpay_create(token, oid, "NATIVE", &r);
	ck_assert_msg(r.status == 200, "wxpay/create NATIVE: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	ck_assert_msg(strncmp(e2e_str(&r, "code_url"), "weixin://", 9) == 0, "code_url %s", r.body);
	snprintf(want, sizeof(want), E2E_API "/payment/wxpay/qrcode/%s", oid);
	ck_assert_str_eq(e2e_str(&r, "qrcode_url"), want);
	snprintf(url, sizeof(url), "%s", e2e_str(&r, "qrcode_url"));
	e2e_request("GET", url, token, NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "qrcode: %ld %s", r.status, r.body);
	ck_assert_str_eq(r.ctype, "image/png");
	ck_assert_uint_gt(r.len, 100);
	ck_assert_uint_lt(r.len, 2048);	/* 1-bit, deflated (issue 19: was 49,574) */
	ck_assert_int_eq(memcmp(r.body, sig, sizeof(sig)), 0);
	e2e_resp_free(&r);
}
END_TEST

/* The state of one attempt (out_trade_no), "" when there is none. */
static char *
attempt_state(const char *otn, char *buf, size_t len)
{
	PGconn *pg = PQconnectdb(e2e_pguri());
	const char *p[1] = { otn };
	e2e_sql_text(pg, "SELECT coalesce((SELECT state || '/' || coalesce(error_code, '') "
	    "FROM payment_attempts WHERE out_trade_no = $1), '')", 1, p, buf, len);
	PQfinish(pg);
	return buf;
}

/*
 * JSAPI, then Native on the same order (a parent who leaves the mini
 * program for the front desk's QR code): WeChat takes one trade type per
 * out_trade_no, so the Native attempt has its own and the JSAPI one is
 * closed at WeChat first.  Paying the QR code pays the order once; the
 * closed JSAPI attempt can no longer be paid; both keep their rows.
 */
START_TEST(switch_trade_type)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], otn2[48], st[24], buf[96], path[96];
	long long sid = e2e_schedule(3);

	e2e_user("pay-switch", token);
	order(token, sid, oid);
	prepay_ok(token, oid);
	ck_assert_str_eq(attempt_state(oid, buf, sizeof(buf)), "open/");
	wxpay_create(token, oid, "NATIVE", &r);
	ck_assert_msg(r.status == 200, "NATIVE after JSAPI: %ld %s", r.status, r.body);
	ck_assert_msg(strncmp(e2e_str(&r, "code_url"), "weixin://", 9) == 0, "%s", r.body);
	snprintf(otn2, sizeof(otn2), "%s-2", oid);
	ck_assert_str_eq(attempt_state(oid, buf, sizeof(buf)), "superseded/");
	ck_assert_str_eq(attempt_state(otn2, buf, sizeof(buf)), "open/");
	/* the JSAPI order is closed at WeChat: it cannot be paid any more */
	snprintf(path, sizeof(path), "/sim/orders/%s", oid);
	e2e_sim("GET", path, NULL, &r);
	ck_assert_msg(r.status == 200 && strstr(r.body, "CLOSED") != NULL, "sim order: %s", r.body);
	/* asking for the QR code again is the same attempt, not a third */
	wxpay_create(token, oid, "NATIVE", &r);
	ck_assert_msg(r.status == 200, "NATIVE again: %ld %s", r.status, r.body);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_attempts WHERE order_id = $1",
	    oid), 2);
	e2e_sim_pay(otn2, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE "
	    "order_id = $1 AND outcome = 'paid'", oid), 1);
	ck_assert_str_eq(attempt_state(otn2, buf, sizeof(buf)), "paid/");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_orders WHERE order_id = $1 "
	    "AND out_trade_no = $1 || '-2'", oid), 1);
	/* the order shows its channel */
	snprintf(path, sizeof(path), E2E_API "/payment/orders/%s", oid);
	e2e_request("GET", path, token, NULL, NULL, &r);
	ck_assert_str_eq(e2e_str(&r, "payment_method"), "wechat");
	e2e_resp_free(&r);
}
END_TEST

/* A payment that fails at WeChat (PAYERROR: no notification comes) is
 * found by the booking confirmation's one question; the attempt keeps its
 * row with WeChat's code, the order fails and its seat is freed. */
START_TEST(payerror_attempt_row)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], body[96], st[24], buf[96];
	long long sid = e2e_schedule(1);

	e2e_user("pay-payerror", token);
	order(token, sid, oid);
	prepay_ok(token, oid);
	ck_assert_int_eq(e2e_available(sid), 0);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"trade_state\":\"PAYERROR\"}", oid);
	e2e_sim("POST", "/sim/pay", body, &r);
	ck_assert_msg(r.status == 200, "/sim/pay PAYERROR: %ld %s", r.status, r.body);
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\"}", oid);
	e2e_request("POST", E2E_API "/bookings/confirm", token, body, NULL, &r);
	ck_assert_msg(r.status != 200, "confirm of a failed payment: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "failed");
	ck_assert_str_eq(attempt_state(oid, buf, sizeof(buf)), "failed/PAYERROR");
	ck_assert_int_eq(e2e_available(sid), 1);
	e2e_resp_free(&r);
}
END_TEST

/* The same failure with no client call at all (the parent closed the mini
 * program; the test only reads the database and the simulator): the job's
 * questions (wx.reconcile_schedule, 2 s on the test stack, 10 s in
 * production) find it, the seat is free within 15 s, the order failed,
 * and the parent's payment_failed message is sent once. */
START_TEST(payerror_found_by_the_job)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], body[96], buf[96], uid[24], openid[129];
	const char *po[1] = { oid }, *pu[1] = { uid };
	long long sid = e2e_schedule(1), t0, took;

	snprintf(uid, sizeof(uid), "%lld", e2e_user("pay-payerror-job", token));
	e2e_sql_text(e2e_pg(), "SELECT openid FROM users WHERE id = $1::bigint", 1, pu, openid,
	    sizeof(openid));
	order(token, sid, oid);
	prepay_ok(token, oid);
	ck_assert_int_eq(e2e_available(sid), 0);
	snprintf(body, sizeof(body), "{\"out_trade_no\":\"%s\",\"trade_state\":\"PAYERROR\"}", oid);
	e2e_sim("POST", "/sim/pay", body, &r);
	ck_assert_msg(r.status == 200, "/sim/pay PAYERROR: %ld %s", r.status, r.body);
	t0 = e2e_now_ms();
	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM seats s JOIN payment_orders o "
	    "ON o.course_schedule_id = s.course_schedule_id WHERE o.order_id = $1 "
	    "AND s.state = 'free'", 1, po, 1, 15000), 1);
	took = e2e_now_ms() - t0;
	fprintf(stderr, "payerror_found_by_the_job: seat free %lld ms after the failure\n", took);
	ck_assert_int_lt(took, 15000);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_orders WHERE order_id = $1 "
	    "AND status = 'failed'", oid), 1);
	ck_assert_str_eq(attempt_state(oid, buf, sizeof(buf)), "failed/PAYERROR");
	ck_assert_int_eq(e2e_available(sid), 1);
	/* the parent is told once: one row sent, one message at WeChat, and
	 * still one after more job passes */
	ck_assert_int_eq(e2e_wait_sql_intp("SELECT count(*) FROM parent_notifications WHERE "
	    "order_id = $1 AND kind = 'payment_failed' AND status = 'sent'", 1, po, 1, 10000), 1);
	ck_assert_int_eq(e2e_sim_messages(openid, NULL), 1);
	e2e_wait_job_passes(3, 10000);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM parent_notifications WHERE "
	    "order_id = $1", oid), 1);
	ck_assert_int_eq(e2e_sim_messages(openid, NULL), 1);
	e2e_resp_free(&r);
}
END_TEST

/* ---- notifications we build ------------------------------------------------------------ */

struct note {
	char ts[24], nonce[40], *body, *sig;
};

/* A signed TRANSACTION.SUCCESS of plain: timestamp now + ts_off. */
static void
note_sign(struct note *n, char *plain, long ts_off, int corrupt)
{
	snprintf(n->ts, sizeof(n->ts), "%ld", (long)time(NULL) + ts_off);
	ck_assert_int_eq(gym_random_alnum(n->nonce, 32), GYM_OK);
	n->body = e2e_notify_envelope("TRANSACTION.SUCCESS", plain, corrupt);
	free(plain);
	n->sig = e2e_platform_sign(n->ts, n->nonce, n->body);
}

/* A signed TRANSACTION.SUCCESS for oid: timestamp now + ts_off. */
static void
note_build(struct note *n, const char *oid, const char *txid, long total, long ts_off, int corrupt)
{
	note_sign(n, e2e_transaction_json(oid, txid, total, NULL), ts_off, corrupt);
}

/* The same, with amount.total the JSON number text total (20000.5). */
static void
note_build_total(struct note *n, const char *oid, const char *txid, const char *total)
{
	char *plain = e2e_transaction_json(oid, txid, 20000, NULL);
	cJSON *j = cJSON_Parse(plain);

	free(plain);
	ck_assert_ptr_nonnull(j);
	ck_assert(cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(j, "amount"),
	    "total", cJSON_Parse(total)));
	plain = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	ck_assert_ptr_nonnull(plain);
	note_sign(n, plain, 0, 0);
}

static void
note_free(struct note *n)
{
	free(n->body);
	free(n->sig);
}

static char *
txid(char *buf, size_t len)
{
	static unsigned k;
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(buf, len, "4200%07ld%013lld%03u", (long)getpid() % 10000000,
	    (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000, k++ % 1000);
	return buf;
}

#define CONCURRENT 20

START_TEST(notify_concurrent_duplicates)
{
	static struct e2e_req rq[CONCURRENT];
	struct note n;
	char token[E2E_TOKEN_MAX], oid[40], tx[40], st[24], *hdr;
	long long sid = e2e_schedule(3);
	int i;

	e2e_user("pay-dup", token);
	order(token, sid, oid);
	note_build(&n, oid, txid(tx, sizeof(tx)), 20000, 0, 0);
	hdr = e2e_notify_headers(n.ts, n.nonce, E2E_PLATFORM_SERIAL, n.sig);
	for (i = 0; i < CONCURRENT; i++)
		rq[i] = (struct e2e_req){ "POST", CALLBACK, NULL, n.body, hdr, { 0 } };
	e2e_request_many(rq, CONCURRENT);
	for (i = 0; i < CONCURRENT; i++) {
		ck_assert_msg(rq[i].resp.status == 204, "notification %d: %ld %s", i,
		    rq[i].resp.status, rq[i].resp.body);
		e2e_resp_free(&rq[i].resp);
	}
	free(hdr);
	note_free(&n);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE order_id = $1", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE transaction_id = $1 "
	    "AND outcome = 'paid'", tx), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM bookings WHERE order_id = $1", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'booking_confirmed'", oid), 1);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "paid");
	ck_assert_int_eq(e2e_available(sid), 2);
}
END_TEST

/* What a refused notification must leave: the status, the audit row of
 * this very request, and an order that did not move. */
static void
assert_refused(const struct e2e_resp *r, long status, const char *oid, const char *token,
    const char *what)
{
	char st[24];

	ck_assert_msg(r->status == status, "%s: want %ld, got %ld %s", what, status, r->status, r->body);
	ck_assert_msg(r->json != NULL && strcmp(e2e_code(r), "FAIL") == 0, "%s: body %s", what, r->body);
	ck_assert_msg(strlen(r->rid) > 0, "%s: no X-Request-Id", what);
	ck_assert_msg(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'notification_rejected' AND request_id = $1", r->rid) == 1,
	    "%s: no notification_rejected audit row for request %s", what, r->rid);
	ck_assert_msg(strcmp(e2e_order_status(token, oid, st), "pending") == 0, "%s: order is %s", what, st);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE order_id = $1", oid), 0);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM bookings WHERE order_id = $1", oid), 0);
}

START_TEST(notify_refused)
{
	struct e2e_resp r = { 0 };
	struct note n, other;
	char token[E2E_TOKEN_MAX], oid[40], tx[40], probe[80];
	long long sid = e2e_schedule(3);

	e2e_user("pay-refused", token);
	order(token, sid, oid);

	/* forged: a signature over another body */
	note_build(&n, oid, txid(tx, sizeof(tx)), 20000, 0, 0);
	note_build(&other, oid, tx, 20000, 0, 0);
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, other.sig, &r);
	assert_refused(&r, 401, oid, token, "forged");
	note_free(&other);

	/* replayed: signed correctly, ten minutes ago */
	note_free(&n);
	note_build(&n, oid, tx, 20000, -600, 0);
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, n.sig, &r);
	assert_refused(&r, 401, oid, token, "replayed");

	/* probe */
	note_free(&n);
	note_build(&n, oid, tx, 20000, 0, 0);
	snprintf(probe, sizeof(probe), "WECHATPAY/SIGNTEST/%s", n.nonce);
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, probe, &r);
	assert_refused(&r, 401, oid, token, "probe");

	/* unknown serial, valid signature */
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, "1111111111111111111111111111111111111111",
	    n.sig, &r);
	assert_refused(&r, 401, oid, token, "unknown serial");

	/* no signature headers at all */
	e2e_notify_post(CALLBACK, n.body, NULL, NULL, NULL, NULL, &r);
	assert_refused(&r, 401, oid, token, "unsigned");

	/* undecryptable: valid signature over a corrupted ciphertext */
	note_free(&n);
	note_build(&n, oid, tx, 20000, 0, 1);
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, n.sig, &r);
	assert_refused(&r, 400, oid, token, "undecryptable");

	/* 1 fen instead of 20000, properly signed and encrypted */
	note_free(&n);
	note_build(&n, oid, tx, 1, 0, 0);
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, n.sig, &r);
	assert_refused(&r, 400, oid, token, "amount 1 fen");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'payment_rejected'", oid), 1);

	/* 20000.5 fen, properly signed: once truncated to 20000 and paid; and
	 * numbers no integer holds */
	note_free(&n);
	note_build_total(&n, oid, tx, "20000.5");
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, n.sig, &r);
	assert_refused(&r, 400, oid, token, "amount 20000.5");
	note_free(&n);
	note_build_total(&n, oid, tx, "1e308");
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, n.sig, &r);
	assert_refused(&r, 400, oid, token, "amount 1e308");

	/* and the genuine one still goes through afterwards */
	note_free(&n);
	note_build(&n, oid, tx, 20000, 0, 0);
	e2e_notify_post(CALLBACK, n.body, n.ts, n.nonce, E2E_PLATFORM_SERIAL, n.sig, &r);
	ck_assert_msg(r.status == 204, "genuine: %ld %s", r.status, r.body);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE order_id = $1", oid), 1);
	note_free(&n);
	e2e_resp_free(&r);
}
END_TEST

/* ---- lost notification, late payments ------------------------------------------------- */

START_TEST(notify_dropped_reconciled)
{
	char token[E2E_TOKEN_MAX], oid[40], st[24];
	long long sid = e2e_schedule(3);

	e2e_user("pay-drop", token);
	order(token, sid, oid);
	prepay_ok(token, oid);
	e2e_faults("{\"notify_drop\":true}");
	e2e_sim_pay(oid, 0);
	/* the job asks WeChat wx.reconcile_after_s (2 s) after the prepay */
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 10000, st), "paid");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE order_id = $1 "
	    "AND source = 'query' AND outcome = 'paid'", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM bookings WHERE order_id = $1 "
	    "AND status = 'confirmed'", oid), 1);
}
END_TEST

START_TEST(late_payment_free_seat)
{
	char token[E2E_TOKEN_MAX], oid[40], st[24];
	long long sid = e2e_schedule(3);

	e2e_user("pay-late", token);
	order(token, sid, oid);
	prepay_ok(token, oid);
	ck_assert_int_eq(e2e_available(sid), 2);
	cancel(token, oid);
	ck_assert_int_eq(e2e_available(sid), 3);
	e2e_sim_pay(oid, 1);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE order_id = $1 "
	    "AND outcome = 'late_paid'", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM bookings WHERE order_id = $1 "
	    "AND status = 'confirmed'", oid), 1);
	ck_assert_int_eq(e2e_available(sid), 2);
}
END_TEST

START_TEST(late_payment_no_seat)
{
	char ta[E2E_TOKEN_MAX], tb[E2E_TOKEN_MAX], oid[40], st[24];
	long long sid = e2e_schedule(1);

	e2e_user("pay-late-a", ta);
	e2e_user("pay-late-b", tb);
	order(ta, sid, oid);
	prepay_ok(ta, oid);
	cancel(ta, oid);
	e2e_hold(tb, sid);
	ck_assert_int_eq(e2e_available(sid), 0);
	e2e_sim_pay(oid, 1);
	/* refunding, in the operators' needs-attention queue (the refund is
	 * theirs to start: check_refund.c late_payment_waits_for_operator) */
	ck_assert_str_eq(e2e_wait_status(ta, oid, "refunding", 10000, st), "refunding");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_transactions WHERE order_id = $1 "
	    "AND outcome = 'late_refunded'", oid), 1);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_orders WHERE order_id = $1 "
	    "AND attention_reason = 'late_no_seat'", oid), 1);
	e2e_wait_job_passes(2, 10000);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM refunds WHERE order_id = $1", oid), 0);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM bookings WHERE order_id = $1", oid), 0);
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_audit_log WHERE order_id = $1 "
	    "AND action_type = 'auto_refund_required'", oid), 1);
	/* B keeps the seat */
	ck_assert_int_eq(e2e_available(sid), 0);
}
END_TEST

/* ---- upstream faults ---------------------------------------------------------------------- */

START_TEST(upstream_slow_then_failing)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], st[24], path[128];
	long long sid = e2e_schedule(3);

	e2e_user("pay-slow", token);
	order(token, sid, oid);

	e2e_faults("{\"api_delay_ms\":4000}");
	wxpay_create(token, oid, "JSAPI", &r);
	ck_assert_msg(r.status == 504, "slow WeChat: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "UPSTREAM_TIMEOUT");
	ck_assert_msg(r.seconds < 4.0, "the 504 took %.2f s (wx.timeout_ms is 3000)", r.seconds);
	ck_assert_msg(r.seconds > 2.5, "the 504 came after %.2f s, before wx.timeout_ms", r.seconds);

	e2e_faults("{\"api_delay_ms\":0,\"api_status\":500,\"api_fail_count\":1}");
	wxpay_create(token, oid, "JSAPI", &r);
	ck_assert_msg(r.status == 502, "failing WeChat: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_code(&r), "UPSTREAM_ERROR");
	ck_assert_str_eq(e2e_str(&r, "detail"), "SYSTEM_ERROR");
	ck_assert_str_eq(e2e_order_status(token, oid, st), "pending");

	/* the fault is spent: the retry works, with the same out_trade_no */
	wxpay_create(token, oid, "JSAPI", &r);
	ck_assert_msg(r.status == 200, "retry: %ld %s", r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "order_id"), oid);
	snprintf(path, sizeof(path), "/sim/orders/%s", oid);
	e2e_sim("GET", path, NULL, &r);
	ck_assert_msg(r.status == 200, "simulator has no order %s: %ld %s", oid, r.status, r.body);
	ck_assert_str_eq(e2e_str(&r, "out_trade_no"), oid);
	ck_assert_str_eq(e2e_str(&r, "trade_state"), "NOTPAY");
	ck_assert_int_eq((int)e2e_num(&r, "total"), 20000);
	ck_assert_str_eq(e2e_order_status(token, oid, st), "pending");
	ck_assert_int_eq(e2e_sql_int1("SELECT count(*) FROM payment_orders WHERE user_id = "
	    "(SELECT user_id FROM payment_orders WHERE order_id = $1)", oid), 1);
	e2e_resp_free(&r);
}
END_TEST

/*
 * One parent cannot slow every other parent (issue 13): WeChat answering in
 * 2 s, 8 concurrent confirms of one unpaid order reach WeChat once (the
 * order's query spacing); the others answer PAYMENT_PENDING at once from
 * the database, and another client's GET /course-schedules answers
 * quickly meanwhile.  Then 4 concurrent prepays of that parent: one reaches
 * WeChat, the others answer 429 TOO_MANY_REQUESTS with Retry-After at once.
 */
#define BURST 8

START_TEST(upstream_one_parent_bounded)
{
	static struct e2e_req rq[BURST + 2];
	char token[E2E_TOKEN_MAX], oid[40], body[128], ra[16];
	long long sid = e2e_schedule(3);
	int i, slow = 0, pending = 0, ok = 0, limited = 0;

	e2e_user("pay-burst", token);
	order(token, sid, oid);
	prepay_ok(token, oid);
	e2e_faults("{\"api_delay_ms\":2000}");

	snprintf(body, sizeof(body), "{\"order_id\":\"%s\"}", oid);
	for (i = 0; i < BURST; i++)
		rq[i] = (struct e2e_req){ "POST", E2E_API "/bookings/confirm", token, body, NULL,
		    { 0 } };
	rq[BURST] = (struct e2e_req){ "GET", E2E_API "/course-schedules", NULL, NULL, NULL,
	    { 0 } };
	rq[BURST + 1] = rq[BURST];
	e2e_request_many(rq, BURST + 2);
	for (i = 0; i < BURST; i++) {
		ck_assert_msg(rq[i].resp.status == 409 &&
		    strcmp(e2e_code(&rq[i].resp), "PAYMENT_PENDING") == 0,
		    "confirm %d: %ld %s", i, rq[i].resp.status, rq[i].resp.body);
		if (rq[i].resp.seconds >= 1.5)
			slow++;
		else
			pending++;
	}
	ck_assert_msg(slow <= 1, "%d confirms waited for WeChat", slow);
	ck_assert_int_ge(pending, BURST - 1);
	for (i = BURST; i < BURST + 2; i++)
		ck_assert_msg(rq[i].resp.status == 200 && rq[i].resp.seconds < 1.0,
		    "GET /course-schedules meanwhile: %ld in %.3f s", rq[i].resp.status,
		    rq[i].resp.seconds);
	for (i = 0; i < BURST + 2; i++)
		e2e_resp_free(&rq[i].resp);

	/* one WeChat call per parent at a time */
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\",\"trade_type\":\"JSAPI\"}", oid);
	for (i = 0; i < 4; i++)
		rq[i] = (struct e2e_req){ "POST", E2E_API "/payment/wxpay/create", token, body,
		    NULL, { 0 } };
	e2e_request_many(rq, 4);
	for (i = 0; i < 4; i++) {
		if (rq[i].resp.status == 200) {
			ok++;
		} else {
			ck_assert_msg(rq[i].resp.status == 429 &&
			    strcmp(e2e_code(&rq[i].resp), "TOO_MANY_REQUESTS") == 0 &&
			    rq[i].resp.seconds < 1.0,
			    "prepay %d: %ld in %.3f s %s", i, rq[i].resp.status, rq[i].resp.seconds,
			    rq[i].resp.body);
			ck_assert_ptr_nonnull(e2e_header(&rq[i].resp, "Retry-After", ra, sizeof(ra)));
			ck_assert_str_eq(ra, "1");
			limited++;
		}
		e2e_resp_free(&rq[i].resp);
	}
	ck_assert_int_ge(ok, 1);
	ck_assert_int_eq(ok + limited, 4);
	e2e_faults("{\"api_delay_ms\":0}");
}
END_TEST

/* ---- logs ------------------------------------------------------------------------------------ */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, k;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = (n + 65536 + 1) * 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		if ((k = fread(buf + n, 1, 65536, f)) == 0)
			break;
		n += k;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

START_TEST(log_hygiene)
{
	struct e2e_resp r = { 0 };
	char token[E2E_TOKEN_MAX], oid[40], st[24], openid[160], uid[24], path[1024], body[96];
	char rid[80];
	const char *p[1] = { uid };
	const char *mac;
	long long sid = e2e_schedule(3);
	char *log;
	size_t len;

	snprintf(uid, sizeof(uid), "%lld", e2e_user("pay-log", token));
	order(token, sid, oid);
	prepay_ok(token, oid);
	e2e_sim_pay(oid, 0);
	ck_assert_str_eq(e2e_wait_status(token, oid, "paid", 5000, st), "paid");
	snprintf(body, sizeof(body), "{\"order_id\":\"%s\"}", oid);
	e2e_request("POST", E2E_API "/bookings/confirm", token, body, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(rid, sizeof(rid), "%s", r.rid);
	e2e_resp_free(&r);
	e2e_sql_text(e2e_pg(), "SELECT openid FROM users WHERE id = $1::bigint", 1, p, openid,
	    sizeof(openid));
	ck_assert_msg(openid[0] == 'o' && strlen(openid) == 28, "unexpected openid '%s'", openid);

	log = slurp(e2e_var_path("log/gymd.log", path, sizeof(path)), &len);
	ck_assert_msg(len > 0, "%s is empty", path);
	ck_assert_msg(strstr(log, rid) != NULL, "%s does not mention request %s: wrong log?", path, rid);
	ck_assert_msg(strstr(log, openid) == NULL, "%s contains the openid %s", path, openid);
	ck_assert_msg(strstr(log, token) == NULL, "%s contains a session token", path);
	mac = strrchr(token, '.');
	ck_assert_msg(mac == NULL || strlen(mac + 1) < 16 || strstr(log, mac + 1) == NULL,
	    "%s contains the MAC of a session token", path);
	free(log);
}
END_TEST

Suite *
pay_suite(void)
{
	Suite *s = suite_create("pay");
	TCase *t;

	t = tcase_create("flow");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, jsapi_flow);
	tcase_add_test(t, native_qrcode);
	tcase_add_test(t, switch_trade_type);
	tcase_add_test(t, payerror_attempt_row);
	tcase_add_test(t, payerror_found_by_the_job);
	suite_add_tcase(s, t);

	t = tcase_create("notify");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, notify_concurrent_duplicates);
	tcase_add_test(t, notify_refused);
	tcase_add_test(t, notify_dropped_reconciled);
	tcase_add_test(t, late_payment_free_seat);
	tcase_add_test(t, late_payment_no_seat);
	suite_add_tcase(s, t);

	t = tcase_create("upstream");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, upstream_slow_then_failing);
	tcase_add_test(t, upstream_one_parent_bounded);
	tcase_add_test(t, log_hygiene);
	suite_add_tcase(s, t);
	return s;
}

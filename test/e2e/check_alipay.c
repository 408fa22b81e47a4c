/*
 * check_alipay.c: Alipay's notify URL through nginx and gymd (the stack's
 * alipay.* keys are the test vectors' keys): a notification signed with
 * Alipay's key pays the order once however often it arrives (the answer
 * is the literal "success", the booking is confirmed); a tampered one
 * (amount changed after signing), a wrong amount and another app's are
 * answered "failure" and change nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "alipay_sign.h"
#include "crypto.h"
#include "e2e.h"

#define ALI_NOTIFY E2E_API "/payment/alipay/notify"

/* A trade_status_sync notification for oid, form-encoded (caller frees):
 * signed with Alipay's test key, then total_amount replaced by tamper
 * when that is not NULL. */
static char *
notification(const char *oid, const char *app_id, const char *total, const char *tamper)
{
	struct gym_ali_params ps = { 0 };
	char path[512], *text = NULL, *sig = NULL, *body = NULL;
	EVP_PKEY *key = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/keys/alipay_platform_key.pem", e2e_vectors());
	ck_assert_int_eq(gym_key_load_private(path, &key), GYM_OK);
	ck_assert(gym_ali_params_add(&ps, "notify_type", "trade_status_sync") == GYM_OK &&
	    gym_ali_params_add(&ps, "notify_id", oid) == GYM_OK &&
	    gym_ali_params_add(&ps, "app_id", app_id) == GYM_OK &&
	    gym_ali_params_add(&ps, "seller_id", "2088000000000001") == GYM_OK &&
	    gym_ali_params_add(&ps, "charset", "utf-8") == GYM_OK &&
	    gym_ali_params_add(&ps, "trade_status", "TRADE_SUCCESS") == GYM_OK &&
	    gym_ali_params_add(&ps, "out_trade_no", oid) == GYM_OK &&
	    gym_ali_params_add(&ps, "trade_no", "2026120422001400000000000042") == GYM_OK &&
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
	settled(oid, "pending", 0);
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
	suite_add_tcase(s, tc);
	return s;
}

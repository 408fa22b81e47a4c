/*
 * check_alipay.c: Alipay through the channel seam (lib/channel_alipay.c,
 * lib/alipay.c) against the Alipay simulator test/alisim on its own TLS
 * listener (GYM_TEST_ALISIM_BASE, started by test/run_all.sh suite_integ):
 * a QR payment not there until scanned, then waiting, then paid; the
 * simulator's signed notification opened by the channel and a tampered
 * copy refused; close before and after the scan and of a paid trade;
 * partial refunds with out_request_no (a retry moves nothing), the last
 * one closing the trade, one too many refused; the refund query; a page
 * pay URL; the bill URL; a request signed with the wrong key and an
 * answer checked with the wrong key both fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/evp.h>
#include <curl/curl.h>

#include "alipay.h"
#include "channel.h"
#include "crypto.h"
#include "integ.h"
#include "json.h"
#include "simtest.h"

#define ENV_ALISIM "GYM_TEST_ALISIM_BASE"

static struct gym_config cfg;
static struct gym_channel *ch;

static char *
key_path(const char *name)
{
	const char *d = getenv("GYM_VECTORS_DIR");

	return gym_asprintf("%s/keys/%s", d != NULL && *d != '\0' ? d : "test/vectors", name);
}

static EVP_PKEY *
key(const char *name, int private)
{
	char *p = key_path(name);
	EVP_PKEY *k = NULL;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(private ? gym_key_load_private(p, &k) : gym_key_load_public(p, &k),
	    GYM_OK);
	free(p);
	return k;
}

static void
setup(void)
{
	simt_config(&cfg);
	/* the test stack's own alipay.* lines (stack.sh) give way to these */
	free(cfg.ali_app_id);
	free(cfg.ali_seller_id);
	free(cfg.ali_gateway_url);
	free(cfg.ali_notify_url);
	free(cfg.ali_cainfo);
	EVP_PKEY_free(cfg.ali_app_key);
	EVP_PKEY_free(cfg.ali_public_key);
	cfg.ali_app_id = strdup("2021000000000001");
	cfg.ali_seller_id = strdup("2088000000000001");
	cfg.ali_gateway_url = gym_asprintf("%s/gateway.do", getenv(ENV_ALISIM));
	cfg.ali_notify_url = strdup("https://127.0.0.1:9/api/v1/payment/alipay/callback");
	cfg.ali_cainfo = strdup(getenv(SIMT_ENV_CA));
	cfg.ali_app_key = key("alipay_app_key.pem", 1);
	cfg.ali_public_key = key("alipay_platform_pub.pem", 0);
	ck_assert_int_eq(gym_channel_new(&cfg, GYM_CHANNEL_ALIPAY, &ch), GYM_OK);
}

static void
teardown(void)
{
	gym_channel_free(ch);
	ch = NULL;
	gym_config_free(&cfg);
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	char **buf = arg;
	size_t old = *buf != NULL ? strlen(*buf) : 0;
	char *nb = realloc(*buf, old + size * n + 1);

	if (nb == NULL)
		return 0;
	memcpy(nb + old, p, size * n);
	nb[old + size * n] = '\0';
	*buf = nb;
	return size * n;
}

/* POST /sim/<what>?out_trade_no=no: the status, *body the answer. */
static long
ctl(const char *what, const char *no, char **body)
{
	char *url = gym_asprintf("%s/sim/%s?out_trade_no=%s", getenv(ENV_ALISIM), what, no);
	char *buf = NULL;
	CURL *c = curl_easy_init();
	long status = 0;

	ck_assert_ptr_nonnull(url);
	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_CAINFO, getenv(SIMT_ENV_CA));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 8000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	free(url);
	if (body != NULL)
		*body = buf;
	else
		free(buf);
	return status;
}

/* A fresh trade, precreated (QR) through the channel. */
static void
precreate(char *no, size_t len)
{
	struct gym_channel_payment p = { NULL, GYM_TRADE_NATIVE, NULL, 20000, 0, NULL };
	struct gym_channel_params *out = calloc(1, sizeof(*out));

	ck_assert_ptr_nonnull(out);
	p.out_trade_no = simt_trade_no(no, len);
	ck_assert_int_eq(gym_channel_pay(ch, &p, out), GYM_OK);
	ck_assert_msg(strncmp(out->code_url, "https://qr.alipay.com/", 22) == 0, "%s",
	    out->code_url);
	free(out);
}

static enum gym_err
open_form(const char *body, struct gym_channel_event *ev)
{
	const struct gym_channel_notice n = { NULL, 0, body, strlen(body) };

	memset(ev, 0, sizeof(*ev));
	return gym_channel_open_event(ch, &n, ev);
}

START_TEST(test_qr_paid)
{
	struct gym_channel_trade t;
	struct gym_channel_event ev;
	char no[40], *form = NULL, *p;

	precreate(no, sizeof(no));
	/* not scanned yet: Alipay knows no trade */
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_ENOTFOUND);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "ACQ.TRADE_NOT_EXIST");
	ck_assert_int_eq(ctl("scan", no, NULL), 200);
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_PAYING);
	ck_assert_str_eq(t.state_code, "WAIT_BUYER_PAY");
	gym_channel_trade_clear(&t);
	ck_assert_int_eq(ctl("pay", no, &form), 200);
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_PAID);
	ck_assert_str_eq(t.out_trade_no, no);
	ck_assert_int_eq(t.amount_fen, 20000);
	ck_assert_int_eq(t.payer_fen, 20000);
	ck_assert_int_ne(t.success_us, 0);
	ck_assert_int_ne(strlen(t.transaction_id), 0);
	/* the notification the simulator sent opens into the same payment */
	ck_assert_int_eq(open_form(form, &ev), GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_PAYMENT);
	ck_assert_int_eq(ev.trade.state, GYM_CHANNEL_PAID);
	ck_assert_str_eq(ev.trade.out_trade_no, no);
	ck_assert_str_eq(ev.trade.transaction_id, t.transaction_id);
	ck_assert_int_eq(ev.trade.amount_fen, 20000);
	gym_channel_event_clear(&ev);
	gym_channel_trade_clear(&t);
	/* the amount changed after signing: refused */
	ck_assert_ptr_nonnull(p = strstr(form, "total_amount=200.00"));
	p[strlen("total_amount=")] = '1';
	ck_assert_int_eq(open_form(form, &ev), GYM_ECRYPTO);
	ck_assert_int_eq(ctl("pay", no, NULL), 409);		/* paid once */
	free(form);
}
END_TEST

START_TEST(test_close)
{
	struct gym_channel_trade t;
	char no[40];

	precreate(no, sizeof(no));
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_ENOTFOUND);	/* never scanned */
	ck_assert_int_eq(ctl("scan", no, NULL), 200);
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_OK);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_CLOSED);
	gym_channel_trade_clear(&t);
	ck_assert_int_eq(ctl("pay", no, NULL), 409);
	/* a paid trade cannot be closed */
	precreate(no, sizeof(no));
	ck_assert_int_eq(ctl("pay", no, NULL), 200);
	ck_assert_int_eq(gym_channel_close(ch, no), GYM_ECONFLICT);
}
END_TEST

START_TEST(test_refunds)
{
	struct gym_channel_refund_req r = { NULL, "RF1", "trial", 5000, 20000 };
	struct gym_channel_refund f;
	struct gym_channel_trade t;
	struct gym_ali_client *c;
	cJSON *node;
	char no[40];

	precreate(no, sizeof(no));
	ck_assert_int_eq(ctl("pay", no, NULL), 200);
	r.out_trade_no = no;
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_OK);
	ck_assert_int_eq(f.state, GYM_CHANNEL_REFUND_SUCCESS);
	ck_assert_int_eq(f.refund_fen, 5000);
	ck_assert_str_eq(gym_json_string(f.doc, "fund_change"), "Y");
	gym_channel_refund_clear(&f);
	/* the same out_request_no again: done already, nothing moves */
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_OK);
	ck_assert_str_eq(gym_json_string(f.doc, "fund_change"), "N");
	ck_assert_str_eq(gym_json_string(f.doc, "refund_fee"), "50.00");
	gym_channel_refund_clear(&f);
	r.out_refund_no = "RF2";
	r.refund_fen = 15000;
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_OK);
	ck_assert_str_eq(gym_json_string(f.doc, "refund_fee"), "200.00");
	gym_channel_refund_clear(&f);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_OK);
	ck_assert_int_eq(t.state, GYM_CHANNEL_REFUNDED);
	gym_channel_trade_clear(&t);
	r.out_refund_no = "RF3";
	r.refund_fen = 1;
	ck_assert_int_eq(gym_channel_refund_send(ch, &r, &f), GYM_EUPSTREAM);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
	/* the refund query through the seam (it names the trade) */
	ck_assert_int_eq(gym_channel_refund_query(ch, no, "RF1", &f), GYM_OK);
	ck_assert_int_eq(f.state, GYM_CHANNEL_REFUND_SUCCESS);
	ck_assert_int_eq(f.refund_fen, 5000);
	ck_assert_str_eq(f.out_refund_no, "RF1");
	gym_channel_refund_clear(&f);
	ck_assert_int_eq(gym_channel_refund_query(ch, no, "RF9", &f), GYM_ENOTFOUND);
	ck_assert_int_eq(gym_ali_client_new(&cfg, &c), GYM_OK);
	ck_assert_int_eq(gym_ali_refund_query(c, no, "RF1", &node), GYM_OK);
	ck_assert_str_eq(gym_json_string(node, "refund_status"), "REFUND_SUCCESS");
	ck_assert_str_eq(gym_json_string(node, "refund_amount"), "50.00");
	cJSON_Delete(node);
	ck_assert_int_eq(gym_ali_refund_query(c, no, "RF9", &node), GYM_OK);
	ck_assert_ptr_null(gym_json_string(node, "refund_status"));	/* none */
	cJSON_Delete(node);
	gym_ali_client_free(c);
}
END_TEST

START_TEST(test_page_and_bill)
{
	struct gym_channel_payment p = { NULL, GYM_TRADE_PAGE, NULL, 20000, 0,
	    "https://gym.example.com/pay/return" };
	struct gym_channel_params *out = calloc(1, sizeof(*out));
	struct gym_ali_client *c;
	char no[40], *url;

	ck_assert_ptr_nonnull(out);
	p.out_trade_no = simt_trade_no(no, sizeof(no));
	ck_assert_int_eq(gym_channel_pay(ch, &p, out), GYM_OK);
	ck_assert(strncmp(out->pay_url, cfg.ali_gateway_url, strlen(cfg.ali_gateway_url)) == 0);
	ck_assert_ptr_nonnull(strstr(out->pay_url, "method=alipay.trade.page.pay"));
	free(out);
	ck_assert_int_eq(gym_ali_client_new(&cfg, &c), GYM_OK);
	ck_assert_int_eq(gym_ali_bill_url(c, "2026-11-21", &url), GYM_OK);
	ck_assert_ptr_nonnull(strstr(url, "billDate=2026-11-21"));
	free(url);
	gym_ali_client_free(c);
}
END_TEST

/* Our request signed with a key Alipay does not know; Alipay's answer
 * checked with a key that is not Alipay's. */
START_TEST(test_wrong_keys)
{
	struct gym_channel_trade t;
	EVP_PKEY *good;
	char no[40];

	precreate(no, sizeof(no));
	good = cfg.ali_app_key;
	cfg.ali_app_key = key("alipay_platform_key.pem", 1);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_EUPSTREAM);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "isv.invalid-signature");
	EVP_PKEY_free(cfg.ali_app_key);
	cfg.ali_app_key = good;
	good = cfg.ali_public_key;
	cfg.ali_public_key = key("alipay_app_pub.pem", 0);
	ck_assert_int_eq(gym_channel_query(ch, no, &t), GYM_EUPSTREAM);
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "SIGN_VERIFY_FAILED");
	EVP_PKEY_free(cfg.ali_public_key);
	cfg.ali_public_key = good;
}
END_TEST

Suite *
alipay_suite(void)
{
	Suite *s = suite_create("alipay");
	TCase *tc = tcase_create("alisim");

	if (!simt_available("alipay") || getenv(ENV_ALISIM) == NULL ||
	    *getenv(ENV_ALISIM) == '\0') {
		if (getenv(ENV_ALISIM) == NULL)
			fprintf(stderr, "skipped: alipay: %s not set\n", ENV_ALISIM);
		return s;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_qr_paid);
	tcase_add_test(tc, test_close);
	tcase_add_test(tc, test_refunds);
	tcase_add_test(tc, test_page_and_bill);
	tcase_add_test(tc, test_wrong_keys);
	suite_add_tcase(s, tc);
	return s;
}

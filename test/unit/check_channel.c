/*
 * check_channel.c: unit tests of the payment-channel seam without I/O
 * (lib/channel.c, lib/channels.c): the registry finds WeChat Pay by its
 * payment_method and refuses any other name, a process's channels are
 * made once each, notification headers are found without case, a
 * notification without its signature headers is refused as a signature
 * failure before anything is opened, and notifications signed with the
 * test keys (test/vectors) open into the neutral event: each of WeChat's
 * trade and refund states, amounts, ids and times.  The channel's calls
 * against the simulator are test/integ/check_channel.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "channel.h"
#include "crypto.h"
#include "unit.h"
#include "vectors.h"
#include "wxsign.h"

static struct gym_config cfg;

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	/* nothing is sent: port 9 would only answer "NETWORK" */
	cfg.wx_pay_base = (char *)(uintptr_t)"https://127.0.0.1:9";
	cfg.wx_api_base = (char *)(uintptr_t)"https://127.0.0.1:9";
}

START_TEST(test_registry_finds_wechat)
{
	const struct gym_channel_ops *ops = gym_channel_find("wechat");

	ck_assert_ptr_eq(ops, &gym_channel_wechat);
	ck_assert_str_eq(ops->name, GYM_CHANNEL_WECHAT);
	ck_assert_ptr_eq(gym_channel_nth(0), &gym_channel_wechat);
	ck_assert_ptr_eq(gym_channel_nth(1), &gym_channel_alipay);
	ck_assert_ptr_eq(gym_channel_find("alipay"), &gym_channel_alipay);
	ck_assert_ptr_null(gym_channel_nth(2));
	ck_assert_ptr_null(gym_channel_nth(GYM_CHANNEL_MAX));
	/* every op a caller may reach is there, WeChat's daily bill too;
	 * Alipay's bill comes later */
	ck_assert(ops->start != NULL && ops->stop != NULL && ops->pay != NULL &&
	    ops->query != NULL && ops->close != NULL && ops->refund_send != NULL &&
	    ops->refund_query != NULL && ops->open_event != NULL && ops->bill != NULL);
	ck_assert(gym_channel_alipay.bill != NULL);	/* Alipay's bill zip */
}
END_TEST

START_TEST(test_registry_refuses_unknown)
{
	static const char *const names[] = { "Alipay", "WeChat", "wechat ", "", "wx" };
	struct gym_channel *ch = (struct gym_channel *)1;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_msg(gym_channel_find(names[i]) == NULL, "\"%s\"", names[i]);
		ck_assert_int_eq(gym_channel_new(&cfg, names[i], &ch), GYM_E_UNKNOWN_CHANNEL);
		ck_assert_ptr_null(ch);
	}
	ck_assert_ptr_null(gym_channel_find(NULL));
	ck_assert_int_eq(gym_channel_new(&cfg, NULL, &ch), GYM_E_UNKNOWN_CHANNEL);
	ck_assert_str_eq(gym_strerror(GYM_E_UNKNOWN_CHANNEL), "unknown payment channel");
}
END_TEST

START_TEST(test_channel_new_wechat)
{
	struct gym_channel *ch = NULL;
	char *text = (char *)1;
	size_t len = 1;

	ck_assert_int_eq(gym_channel_new(&cfg, "wechat", &ch), GYM_OK);
	ck_assert_ptr_nonnull(ch);
	ck_assert_str_eq(gym_channel_name(ch), "wechat");
	ck_assert_str_eq(gym_channel_last_error(ch)->code, "");
	/* the daily bill: a date that is not YYYY-MM-DD never leaves */
	ck_assert(gym_channel_has_bill(ch));
	ck_assert_int_eq(gym_channel_bill(ch, GYM_BILL_TRADES, "2026-12-4", &text, &len),
	    GYM_EINVAL);
	ck_assert_ptr_null(text);
	ck_assert_uint_eq(len, 0);
	gym_channel_free(ch);
	gym_channel_free(NULL);

	/* the client's own refusal comes through: not an https base */
	cfg.wx_pay_base = (char *)(uintptr_t)"http://127.0.0.1:9";
	ck_assert_int_eq(gym_channel_new(&cfg, "wechat", &ch), GYM_EINVAL);
	ck_assert_ptr_null(ch);
}
END_TEST

START_TEST(test_channels_made_once)
{
	struct gym_channels set = { { NULL } };
	struct gym_channel *a = NULL, *b = NULL, *c = (struct gym_channel *)1;

	ck_assert_int_eq(gym_channels_get(&set, &cfg, "wechat", &a), GYM_OK);
	ck_assert_int_eq(gym_channels_get(&set, &cfg, "wechat", &b), GYM_OK);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_eq(set.made[0], a);
	ck_assert_int_eq(gym_channels_get(&set, &cfg, "paypal", &c), GYM_E_UNKNOWN_CHANNEL);
	ck_assert_ptr_null(c);
	/* Alipay not configured: not available, and start_all goes on */
	c = (struct gym_channel *)1;
	ck_assert_int_eq(gym_channels_get(&set, &cfg, "alipay", &c), GYM_ENOTFOUND);
	ck_assert_ptr_null(c);
	ck_assert_ptr_null(set.made[1]);
	ck_assert_int_eq(gym_channels_start_all(&set, &cfg), GYM_OK);
	ck_assert_ptr_eq(set.made[0], a);
	ck_assert_ptr_null(set.made[1]);
	gym_channels_release(&set);
	ck_assert_ptr_null(set.made[0]);
	gym_channels_release(&set);
}
END_TEST

START_TEST(test_notice_headers)
{
	const struct gym_channel_header h[] = {
		{ "Wechatpay-Timestamp", "1700000000" }, { "wechatpay-serial", "ABC" },
		{ "Wechatpay-Nonce", NULL },
	};
	const struct gym_channel_notice n = { h, 3, "{}", 2 };

	ck_assert_str_eq(gym_channel_header(&n, "WECHATPAY-TIMESTAMP"), "1700000000");
	ck_assert_str_eq(gym_channel_header(&n, "Wechatpay-Serial"), "ABC");
	ck_assert_ptr_null(gym_channel_header(&n, "Wechatpay-Nonce"));
	ck_assert_ptr_null(gym_channel_header(&n, "Wechatpay-Signature"));
}
END_TEST

/* No signature, serial or timestamp: a signature failure, nothing opened. */
START_TEST(test_event_without_signature)
{
	const struct gym_channel_header full[] = {
		{ "Wechatpay-Timestamp", "1700000000" }, { "Wechatpay-Nonce", "n" },
		{ "Wechatpay-Serial", "ABC" }, { "Wechatpay-Signature", "c2ln" },
	};
	struct gym_channel_header h[4];
	struct gym_channel_notice n = { h, 4, "{}", 2 };
	struct gym_channel_event ev;
	struct gym_channel *ch;
	size_t drop;

	ck_assert_int_eq(gym_channel_new(&cfg, "wechat", &ch), GYM_OK);
	for (drop = 0; drop < 4; drop++) {
		if (drop == 1)
			continue;		/* the nonce is the verifier's to refuse */
		memcpy(h, full, sizeof(h));
		h[drop].value = NULL;
		ck_assert_int_eq(gym_channel_open_event(ch, &n, &ev), GYM_ECRYPTO);
		ck_assert_str_eq(gym_channel_last_error(ch)->code, "SIGN_VERIFY_FAILED");
		ck_assert_ptr_null(ev.trade.doc);
		ck_assert_ptr_null(ev.refund.doc);
	}
	/* all there but no platform key configured: still a signature failure */
	memcpy(h, full, sizeof(h));
	ck_assert_int_eq(gym_channel_open_event(ch, &n, &ev), GYM_ECRYPTO);
	gym_channel_free(ch);
}
END_TEST

/* ---- notifications signed with the test keys ---- */

static cJSON *root;
static EVP_PKEY *platform_priv;

static void
setup_keys(void)
{
	char *pub, *key;
	size_t len;

	setup();
	gym_clock_set_offset(0);
	root = vec_load();
	pub = vec_key_path(root, "platform_public_key");
	ck_assert_int_eq(gym_wx_keyring_add(&cfg.wx_platform, vec_str(root, "platform_serial"),
	    pub), GYM_OK);
	free(pub);
	key = vec_read(vec_str(cJSON_GetObjectItemCaseSensitive(root, "keys"), "apiv3_key"),
	    &len);
	ck_assert_uint_eq(len, 32);
	memcpy(cfg.wx_apiv3_key, key, 32);
	cfg.wx_have_apiv3_key = 1;
	gym_wipe(key, len);
	free(key);
	platform_priv = vec_key(root, "platform_private_key", 1);
}

static void
teardown_keys(void)
{
	gym_wx_keyring_free(&cfg.wx_platform);
	EVP_PKEY_free(platform_priv);
	platform_priv = NULL;
	cJSON_Delete(root);
	root = NULL;
}

/* Open plaintext as WeChat would send it (event_type, encrypted with the
 * APIv3 key, signed by the platform key now) through the channel. */
static enum gym_err
open_plain(const char *event_type, const char *plain, struct gym_channel_event *ev)
{
	char ts[24], body[4096], *ct = NULL, *sig = NULL;
	struct gym_channel_header h[4] = {
		{ "Wechatpay-Timestamp", ts }, { "Wechatpay-Nonce", "N0nce" },
		{ "Wechatpay-Serial", vec_str(root, "platform_serial") },
		{ "Wechatpay-Signature", NULL },
	};
	struct gym_channel_notice n = { h, 4, body, 0 };
	struct gym_channel *ch;
	enum gym_err e;

	ck_assert_int_eq(gym_aesgcm_encrypt(cfg.wx_apiv3_key, "Kj7QIyUiYx1q", "transaction",
	    plain, strlen(plain), &ct), GYM_OK);
	n.len = (size_t)snprintf(body, sizeof(body), "{\"id\":\"EV-1\",\"event_type\":\"%s\","
	    "\"resource_type\":\"encrypt-resource\",\"resource\":{\"algorithm\":"
	    "\"AEAD_AES_256_GCM\",\"ciphertext\":\"%s\",\"associated_data\":"
	    "\"transaction\",\"nonce\":\"Kj7QIyUiYx1q\"}}", event_type, ct);
	ck_assert_uint_lt(n.len, sizeof(body));
	free(ct);
	snprintf(ts, sizeof(ts), "%lld", (long long)gym_now());
	ck_assert_int_eq(gym_wx_sign_response(platform_priv, ts, "N0nce", body, n.len, &sig),
	    GYM_OK);
	h[3].value = sig;
	ck_assert_int_eq(gym_channel_new(&cfg, "wechat", &ch), GYM_OK);
	e = gym_channel_open_event(ch, &n, ev);
	gym_channel_free(ch);
	free(sig);
	return e;
}

static const struct {
	const char *word;
	enum gym_channel_state state;
} trade_rows[] = {
	{ "SUCCESS", GYM_CHANNEL_PAID }, { "NOTPAY", GYM_CHANNEL_PAYING },
	{ "USERPAYING", GYM_CHANNEL_PAYING }, { "PAYERROR", GYM_CHANNEL_FAILED },
	{ "REVOKED", GYM_CHANNEL_FAILED }, { "CLOSED", GYM_CHANNEL_CLOSED },
	{ "REFUND", GYM_CHANNEL_REFUNDED }, { "ACCEPT", GYM_CHANNEL_UNKNOWN },
	{ "success", GYM_CHANNEL_UNKNOWN },
};

START_TEST(test_payment_event_states)
{
	struct gym_channel_event ev;
	char plain[512];
	int paid = trade_rows[_i].state == GYM_CHANNEL_PAID;

	snprintf(plain, sizeof(plain), "{\"mchid\":\"1900000001\",\"out_trade_no\":\"GYM1A\","
	    "\"transaction_id\":\"4200000001\",\"trade_state\":\"%s\","
	    "\"success_time\":\"2026-11-21T16:05:00+08:00\",\"payer\":{\"openid\":\"oP1\"},"
	    "\"amount\":{\"total\":20000,\"payer_total\":19900,\"currency\":\"CNY\"}}",
	    trade_rows[_i].word);
	ck_assert_int_eq(open_plain("TRANSACTION.SUCCESS", plain, &ev), GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_PAYMENT);
	ck_assert_str_eq(ev.event_type, "TRANSACTION.SUCCESS");
	ck_assert_int_eq(ev.trade.state, trade_rows[_i].state);
	ck_assert_str_eq(ev.trade.state_code, trade_rows[_i].word);
	ck_assert_str_eq(ev.trade.out_trade_no, "GYM1A");
	ck_assert_str_eq(ev.trade.transaction_id, "4200000001");
	ck_assert_str_eq(ev.trade.payer_id, "oP1");
	ck_assert_int_eq(ev.trade.amount_fen, 20000);
	ck_assert_int_eq(ev.trade.payer_fen, 19900);
	/* 16:05 in China is 08:05 UTC; a time only once paid */
	ck_assert(ev.trade.success_us == (paid ? 1795248300LL * 1000000 : 0));
	ck_assert_ptr_nonnull(ev.trade.doc);
	ck_assert_ptr_null(ev.refund.doc);
	gym_channel_event_clear(&ev);
	ck_assert_ptr_null(ev.trade.doc);
}
END_TEST

static const struct {
	const char *word;
	enum gym_channel_refund_state state;
} refund_rows[] = {
	{ "SUCCESS", GYM_CHANNEL_REFUND_SUCCESS }, { "PROCESSING", GYM_CHANNEL_REFUND_PROCESSING },
	{ "CLOSED", GYM_CHANNEL_REFUND_CLOSED }, { "ABNORMAL", GYM_CHANNEL_REFUND_ABNORMAL },
	{ "FAILED", GYM_CHANNEL_REFUND_UNKNOWN },
};

START_TEST(test_refund_event_states)
{
	struct gym_channel_event ev;
	char plain[512];

	snprintf(plain, sizeof(plain), "{\"mchid\":\"1900000001\",\"out_trade_no\":\"GYM1A\","
	    "\"out_refund_no\":\"RF1\",\"refund_id\":\"5030000001\",\"refund_status\":\"%s\","
	    "\"amount\":{\"total\":20000,\"refund\":15000}}", refund_rows[_i].word);
	ck_assert_int_eq(open_plain("REFUND.SUCCESS", plain, &ev), GYM_OK);
	ck_assert_int_eq(ev.kind, GYM_CHANNEL_EVENT_REFUND);
	ck_assert_int_eq(ev.refund.state, refund_rows[_i].state);
	ck_assert_str_eq(ev.refund.state_code, refund_rows[_i].word);
	ck_assert_str_eq(ev.refund.out_refund_no, "RF1");
	ck_assert_str_eq(ev.refund.out_trade_no, "GYM1A");
	ck_assert_str_eq(ev.refund.refund_id, "5030000001");
	ck_assert_int_eq(ev.refund.refund_fen, 15000);
	ck_assert_int_eq(ev.refund.total_fen, 20000);
	ck_assert(ev.refund.success_us == 0);		/* no success_time sent */
	ck_assert_ptr_nonnull(ev.refund.doc);
	ck_assert_ptr_null(ev.trade.doc);
	gym_channel_event_clear(&ev);
}
END_TEST

/* Fields left out stay empty (-1 for amounts): whether the trade is ours
 * is decided where it is applied, not here. */
START_TEST(test_event_missing_fields)
{
	struct gym_channel_event ev;

	ck_assert_int_eq(open_plain("TRANSACTION.SUCCESS", "{\"out_trade_no\":\"GYM1A\"}", &ev),
	    GYM_OK);
	ck_assert_int_eq(ev.trade.state, GYM_CHANNEL_UNKNOWN);
	ck_assert_str_eq(ev.trade.state_code, "");
	ck_assert_str_eq(ev.trade.transaction_id, "");
	ck_assert_int_eq(ev.trade.amount_fen, -1);
	ck_assert_int_eq(ev.trade.payer_fen, -1);
	gym_channel_event_clear(&ev);
	/* amounts that are not whole fen are not amounts */
	ck_assert_int_eq(open_plain("TRANSACTION.SUCCESS", "{\"trade_state\":\"SUCCESS\","
	    "\"amount\":{\"total\":200.5}}", &ev), GYM_OK);
	ck_assert_int_eq(ev.trade.amount_fen, -1);
	gym_channel_event_clear(&ev);
	/* a plaintext that is not an object does not open */
	ck_assert_int_eq(open_plain("TRANSACTION.SUCCESS", "[1]", &ev), GYM_EINVAL);
	ck_assert_ptr_null(ev.trade.doc);
}
END_TEST

Suite *
channel_suite(void)
{
	Suite *s = suite_create("channel");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_registry_finds_wechat);
	tcase_add_test(tc, test_registry_refuses_unknown);
	tcase_add_test(tc, test_channel_new_wechat);
	tcase_add_test(tc, test_channels_made_once);
	tcase_add_test(tc, test_notice_headers);
	tcase_add_test(tc, test_event_without_signature);
	suite_add_tcase(s, tc);

	tc = tcase_create("events");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_add_loop_test(tc, test_payment_event_states, 0,
	    (int)(sizeof(trade_rows) / sizeof(trade_rows[0])));
	tcase_add_loop_test(tc, test_refund_event_states, 0,
	    (int)(sizeof(refund_rows) / sizeof(refund_rows[0])));
	tcase_add_test(tc, test_event_missing_fields);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * check_channel.c: unit tests of the payment-channel seam without I/O
 * (lib/channel.c, lib/channels.c): the registry finds WeChat Pay by its
 * payment_method and refuses any other name, a process's channels are
 * made once each, notification headers are found without case, and a
 * notification without its signature headers is refused as a signature
 * failure before anything is opened.  The channel's calls against the
 * simulator are test/integ/check_channel.c's.
 */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "channel.h"
#include "unit.h"

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
	ck_assert_ptr_null(gym_channel_nth(1));		/* alipay: issue 16 */
	ck_assert_ptr_null(gym_channel_nth(GYM_CHANNEL_MAX));
	/* every op a caller may reach is there; the daily bill comes later */
	ck_assert(ops->start != NULL && ops->stop != NULL && ops->pay != NULL &&
	    ops->query != NULL && ops->close != NULL && ops->refund_send != NULL &&
	    ops->refund_query != NULL && ops->open_event != NULL);
	ck_assert(ops->bill == NULL);
}
END_TEST

START_TEST(test_registry_refuses_unknown)
{
	static const char *const names[] = { "alipay", "WeChat", "wechat ", "", "wx" };
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
	/* no daily bill yet (issue 18) */
	ck_assert_int_eq(gym_channel_bill(ch, "2026-12-04", &text, &len), GYM_ENOTFOUND);
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
	ck_assert_int_eq(gym_channels_get(&set, &cfg, "alipay", &c), GYM_E_UNKNOWN_CHANNEL);
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
	return s;
}

/*
 * check_payevent.c: the channel-neutral payment event (lib/payevent.c)
 * against PostgreSQL: an Alipay notification and a WeChat transaction,
 * each filled by its channel, pay the order once through the one apply
 * path (a repeat is a duplicate, one transaction row, one booking); an
 * Alipay event that is not ours (app_id, seller_id, currency, amount not
 * whole fen, amount not the order's) is refused with no effect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "alipay_sign.h"
#include "integ.h"
#include "payevent.h"
#include "pgtest.h"

static struct gym_db *db;
static struct gym_config cfg;
static char app_id[] = "2021000000000001", seller[] = "2088000000000001",
    wx_appid[] = "wxd678efh567hg6787", wx_mchid[] = "1230000109";

static void
setup(void)
{
	db = pgt_open();
	memset(&cfg, 0, sizeof(cfg));
	cfg.ali_app_id = app_id;
	cfg.ali_seller_id = seller;
	cfg.wx_appid = wx_appid;
	cfg.wx_mchid = wx_mchid;
}

static void
teardown(void)
{
	pgt_close(&db);
}

static void
new_order(const char *openid, struct gym_order *o)
{
	struct gym_actor a;
	long long uid = pgt_user(db, openid), sid = pgt_schedule(db, 5);
	int created;

	a = pgt_actor_user(uid);
	ck_assert_int_eq(gym_order_create(db, &a, uid, sid, 0, NULL, NULL, o, &created), GYM_OK);
}

static long long
count1(const char *sql, const char *arg)
{
	const char *p[1] = { arg };

	return pgt_countp(db, sql, 1, p);
}

/* Alipay's paid notification for the order, its fields as strings, as
 * the channel hands it over (t owns doc). */
static void
ali_trade(const struct gym_order *o, struct gym_channel_trade *t)
{
	char yuan[32];

	memset(t, 0, sizeof(*t));
	snprintf(yuan, sizeof(yuan), "%d.%02d", o->amount_fen / 100, o->amount_fen % 100);
	ck_assert_ptr_nonnull(t->doc = cJSON_CreateObject());
	cJSON_AddStringToObject(t->doc, "app_id", app_id);
	cJSON_AddStringToObject(t->doc, "seller_id", seller);
	cJSON_AddStringToObject(t->doc, "out_trade_no", o->order_id);
	cJSON_AddStringToObject(t->doc, "trade_no", "2026120422001400000000000001");
	cJSON_AddStringToObject(t->doc, "trade_status", "TRADE_SUCCESS");
	cJSON_AddStringToObject(t->doc, "total_amount", yuan);
	cJSON_AddStringToObject(t->doc, "buyer_id", "2088102000000001");
	t->state = GYM_CHANNEL_PAID;
	snprintf(t->state_code, sizeof(t->state_code), "TRADE_SUCCESS");
	snprintf(t->out_trade_no, sizeof(t->out_trade_no), "%s", o->order_id);
	snprintf(t->transaction_id, sizeof(t->transaction_id), "2026120422001400000000000001");
	t->amount_fen = o->amount_fen;
	t->payer_fen = -1;
	t->success_us = (int64_t)1796342400 * 1000000;
}

static enum gym_err
ali_apply(const struct gym_channel_trade *t, char *outcome, size_t len)
{
	struct gym_pay_event ev;
	enum gym_err e;

	ck_assert_int_eq(gym_pay_event_alipay(t, &cfg, "notify", &ev), GYM_OK);
	e = gym_pay_event_apply(db, &pgt_actor_system, &ev, "notify", outcome, len);
	gym_pay_event_clear(&ev);
	return e;
}

/* The order is in status with n transaction rows and n bookings. */
static void
settled(const char *order_id, const char *status, int n)
{
	const char *p[2] = { order_id, status };

	ck_assert_int_eq(pgt_countp(db, "SELECT count(*) FROM payment_orders WHERE "
	    "order_id = $1 AND status = $2", 2, p), 1);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_transactions WHERE order_id = $1",
	    order_id), n);
	ck_assert_int_eq(count1("SELECT count(*) FROM bookings WHERE order_id = $1", order_id), n);
}

START_TEST(test_alipay_paid_once)
{
	struct gym_channel_trade t;
	struct gym_order o;
	char outcome[32];

	new_order("ev-ali", &o);
	ali_trade(&o, &t);
	ck_assert_int_eq(ali_apply(&t, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "paid");
	ck_assert_int_eq(ali_apply(&t, outcome, sizeof(outcome)), GYM_OK);
	ck_assert_str_eq(outcome, "duplicate");
	settled(o.order_id, "paid", 1);
	/* the payer's Alipay id never lands in a table */
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_transactions WHERE order_id = $1 "
	    "AND payload::text LIKE '%2088102000000001%'", o.order_id), 0);
	ck_assert_int_eq(count1("SELECT count(*) FROM payment_transactions WHERE order_id = $1 "
	    "AND success_time = '2026-12-04T00:00:00Z'", o.order_id), 1);
	gym_channel_trade_clear(&t);
}
END_TEST

START_TEST(test_wechat_paid_once)
{
	struct gym_pay_event ev;
	struct gym_order o;
	char outcome[32];
	cJSON *j, *a;
	int i;

	new_order("ev-wx", &o);
	ck_assert_ptr_nonnull(j = cJSON_CreateObject());
	cJSON_AddStringToObject(j, "appid", wx_appid);
	cJSON_AddStringToObject(j, "mchid", wx_mchid);
	cJSON_AddStringToObject(j, "out_trade_no", o.order_id);
	cJSON_AddStringToObject(j, "transaction_id", "4200000000000000000000000099");
	cJSON_AddStringToObject(j, "trade_type", "JSAPI");
	cJSON_AddStringToObject(j, "trade_state", "SUCCESS");
	a = cJSON_AddObjectToObject(j, "amount");
	cJSON_AddNumberToObject(a, "total", o.amount_fen);
	cJSON_AddStringToObject(a, "currency", "CNY");
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(gym_pay_event_wechat(j, &cfg, &ev), GYM_OK);
		ck_assert_ptr_null(ev.why);
		ck_assert_str_eq(ev.channel, "wechat");
		ck_assert_int_eq(gym_pay_event_apply(db, &pgt_actor_wechat, &ev, "notify", outcome,
		    sizeof(outcome)), GYM_OK);
		ck_assert_str_eq(outcome, i == 0 ? "paid" : "duplicate");
		gym_pay_event_clear(&ev);
	}
	settled(o.order_id, "paid", 1);
	/* another merchant's: refused by the fill */
	cJSON_ReplaceItemInObjectCaseSensitive(j, "mchid", cJSON_CreateString("1900000109"));
	ck_assert_int_eq(gym_pay_event_wechat(j, &cfg, &ev), GYM_OK);
	ck_assert_ptr_nonnull(ev.why);
	gym_pay_event_clear(&ev);
	cJSON_Delete(j);
}
END_TEST

/* What is changed in a good Alipay notification, and what the apply says. */
static const struct {
	const char *member, *value;	/* value NULL: removed */
	long long fen;			/* the amount the channel read; 0: keep */
	enum gym_err want;
} bad_ali[] = {
	{ "app_id", "2021000000000002", 0, GYM_EINVAL },
	{ "app_id", NULL, 0, GYM_EINVAL },
	{ "seller_id", "2088000000000002", 0, GYM_EINVAL },
	{ "seller_id", NULL, 0, GYM_EINVAL },
	{ "trans_currency", "USD", 0, GYM_EINVAL },
	{ "total_amount", "200.001", -1, GYM_EINVAL },
	{ "total_amount", "200.01", 20001, GYM_EINVAL },	/* not the order's */
	{ "total_amount", "2.00", 200, GYM_EINVAL },
};

START_TEST(test_alipay_refused)
{
	struct gym_channel_trade t;
	struct gym_order o;
	char outcome[32];

	new_order("ev-ali-bad", &o);
	ali_trade(&o, &t);
	cJSON_DeleteItemFromObjectCaseSensitive(t.doc, bad_ali[_i].member);
	if (bad_ali[_i].value != NULL)
		cJSON_AddStringToObject(t.doc, bad_ali[_i].member, bad_ali[_i].value);
	if (bad_ali[_i].fen != 0)
		t.amount_fen = bad_ali[_i].fen;
	ck_assert_int_eq(ali_apply(&t, outcome, sizeof(outcome)), bad_ali[_i].want);
	settled(o.order_id, "pending", 0);
	ck_assert_int_ge(pgt_count(db, "SELECT count(*) FROM payment_audit_log WHERE "
	    "action_type = 'payment_rejected'"), 1);
	gym_channel_trade_clear(&t);
}
END_TEST

Suite *
payevent_suite(void)
{
	Suite *s = suite_create("payevent");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_alipay_paid_once);
	tcase_add_test(tc, test_wechat_paid_once);
	tcase_add_loop_test(tc, test_alipay_refused, 0, sizeof(bad_ali) / sizeof(bad_ali[0]));
	suite_add_tcase(s, tc);
	return s;
}

/*
 * check_client_config.c: unit tests of lib/client_config.c: the templates a
 * client asks consent for, per moment, in order, at most WeChat's three,
 * and none that is not configured.
 */
#include <string.h>

#include <check.h>

#include "client_config.h"
#include "config.h"
#include "unit.h"

static char conf[] = "T-CONF thing1 time2 amount3", fail[] = "T-FAIL", ref[] = "T-REF", wait[] = "T-WAIT",
    move[] = "T-MOVE", canc[] = "T-CANC", none[] = "", bought[] = "T-BUY thing1 amount2 time3",
    expiring[] = "T-EXP";

static const char *
nth(const cJSON *o, const char *moment, int i)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "subscribe_templates");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, moment);
	const cJSON *v = cJSON_GetArrayItem(a, i);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
count(const cJSON *o, const char *moment)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "subscribe_templates");

	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, moment));
}

START_TEST(test_client_config_all_set_by_moment_in_order)
{
	struct gym_config c;
	cJSON *o;

	memset(&c, 0, sizeof(c));
	c.wx_tpl_confirmed = conf;
	c.wx_tpl_failed = fail;
	c.wx_tpl_refunded = ref;
	c.wx_tpl_waitlist = wait;
	c.wx_tpl_rescheduled = move;
	c.wx_tpl_class_cancelled = canc;
	c.wx_tpl_purchased = bought;
	c.wx_tpl_expiring = expiring;
	c.hold_minutes = 15;
	c.order_minutes = 30;
	ck_assert_int_eq(gym_client_config(&c, &o), GYM_OK);
	ck_assert_int_eq(count(o, "pay"), GYM_SUBSCRIBE_MAX);
	/* the id alone, without the template's field names */
	ck_assert_str_eq(nth(o, "pay", 0), "T-CONF");
	ck_assert_str_eq(nth(o, "pay", 1), "T-FAIL");
	ck_assert_str_eq(nth(o, "pay", 2), "T-CANC");
	ck_assert_int_eq(count(o, "booked"), 2);
	ck_assert_str_eq(nth(o, "booked", 0), "T-MOVE");
	ck_assert_str_eq(nth(o, "booked", 1), "T-REF");
	ck_assert_int_eq(count(o, "waitlist"), 1);
	ck_assert_str_eq(nth(o, "waitlist", 0), "T-WAIT");
	/* before buying a membership or pack: paid, refunded, running out */
	ck_assert_int_eq(count(o, "buy"), GYM_SUBSCRIBE_MAX);
	ck_assert_str_eq(nth(o, "buy", 0), "T-BUY");
	ck_assert_str_eq(nth(o, "buy", 1), "T-REF");
	ck_assert_str_eq(nth(o, "buy", 2), "T-EXP");
	ck_assert_int_eq(cJSON_GetObjectItem(o, "hold_minutes")->valueint, 15);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "order_minutes")->valueint, 30);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_client_config_skips_unset_templates)
{
	struct gym_config c;
	cJSON *o;

	memset(&c, 0, sizeof(c));
	c.wx_tpl_confirmed = none;
	c.wx_tpl_refunded = ref;
	c.wx_tpl_failed = fail;
	ck_assert_int_eq(gym_client_config(&c, &o), GYM_OK);
	ck_assert_int_eq(count(o, "pay"), 1);
	ck_assert_str_eq(nth(o, "pay", 0), "T-FAIL");
	ck_assert_int_eq(count(o, "booked"), 1);
	ck_assert_str_eq(nth(o, "booked", 0), "T-REF");
	ck_assert_int_eq(count(o, "waitlist"), 0);
	ck_assert_int_eq(count(o, "buy"), 1);
	ck_assert_str_eq(nth(o, "buy", 0), "T-REF");
	cJSON_Delete(o);
}
END_TEST

Suite *
client_config_suite(void)
{
	Suite *s = suite_create("client_config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_client_config_all_set_by_moment_in_order);
	tcase_add_test(tc, test_client_config_skips_unset_templates);
	suite_add_tcase(s, tc);
	return s;
}

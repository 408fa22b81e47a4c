/*
 * check_registration.c: the registration details' rules (every field
 * named when missing or wrong), their masked forms, and the keys that seal
 * them (lib/pii.c): parsing the key file, sealing bound to the order, a
 * second key for rotation, and the phone's search hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "pii.h"
#include "registration.h"
#include "unit.h"

#define CN_2026_05_20 1779206400LL
#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"
#define HEX_I "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* field the body is refused for, or NULL when it is taken */
static const char *
refused_field(const char *json)
{
	struct gym_registration r;
	const char *field = NULL;
	cJSON *body = cJSON_Parse(json);
	enum gym_err e;

	ck_assert_ptr_nonnull(body);
	e = gym_registration_from_json(body, &r, &field);
	cJSON_Delete(body);
	if (e == GYM_OK)
		ck_assert_ptr_null(field);
	else
		ck_assert_ptr_nonnull(field);
	return e == GYM_OK ? NULL : field;
}

#define GOOD_NAME "\"child_name\":\"王小明\""
#define GOOD_DATE "\"child_birth_date\":\"2019-05-20\""
#define GOOD_PHONE "\"parent_phone\":\"13800138000\""

START_TEST(rules)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{ "{" GOOD_NAME "," GOOD_DATE "," GOOD_PHONE "}", NULL },
		{ "{" GOOD_NAME "," GOOD_DATE "," GOOD_PHONE ",\"note\":\"怕高\\n会游泳\"}", NULL },
		{ "{" GOOD_NAME "," GOOD_DATE "," GOOD_PHONE ",\"note\":null}", NULL },
		{ "{\"child_name\":\"  Tom  \"," GOOD_DATE "," GOOD_PHONE "}", NULL },
		{ "{" GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{\"child_name\":\"   \"," GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{\"child_name\":12," GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{\"child_name\":\"a\\u0007b\"," GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{\"child_name\":\"a\\u0085b\"," GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{\"child_name\":\"a\\nb\"," GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{\"child_name\":\"a\xff" "b\"," GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{\"child_name\":\"a\xc0\xaf" "b\"," GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		/* 33 characters */
		{ "{\"child_name\":\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三\","
		    GOOD_DATE "," GOOD_PHONE "}", "child_name" },
		{ "{" GOOD_NAME "," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME ",\"child_birth_date\":\"2019-02-29\"," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME ",\"child_birth_date\":\"2019-13-01\"," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME ",\"child_birth_date\":\"2019-5-20\"," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME ",\"child_birth_date\":\"20190520\"," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME ",\"child_birth_date\":\"2999-01-01\"," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME ",\"child_birth_date\":\"1990-01-01\"," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME ",\"child_birth_date\":20190520," GOOD_PHONE "}", "child_birth_date" },
		{ "{" GOOD_NAME "," GOOD_DATE "}", "parent_phone" },
		{ "{" GOOD_NAME "," GOOD_DATE ",\"parent_phone\":\"12800138000\"}", "parent_phone" },
		{ "{" GOOD_NAME "," GOOD_DATE ",\"parent_phone\":\"1380013800\"}", "parent_phone" },
		{ "{" GOOD_NAME "," GOOD_DATE ",\"parent_phone\":\"138001380001\"}", "parent_phone" },
		{ "{" GOOD_NAME "," GOOD_DATE ",\"parent_phone\":\"1380013800a\"}", "parent_phone" },
		{ "{" GOOD_NAME "," GOOD_DATE ",\"parent_phone\":\"+8613800138000\"}", "parent_phone" },
		{ "{" GOOD_NAME "," GOOD_DATE ",\"parent_phone\":13800138000}", "parent_phone" },
		{ "{" GOOD_NAME "," GOOD_DATE "," GOOD_PHONE ",\"note\":5}", "note" },
		{ "{" GOOD_NAME "," GOOD_DATE "," GOOD_PHONE ",\"note\":\"a\\u0001b\"}", "note" },
	};
	char big[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = refused_field(cases[i].json);

		ck_assert_msg((got == NULL && cases[i].field == NULL) ||
		    (got != NULL && cases[i].field != NULL && strcmp(got, cases[i].field) == 0),
		    "case %zu (%s): refused for %s, expected %s", i, cases[i].json,
		    got != NULL ? got : "nothing", cases[i].field != NULL ? cases[i].field : "nothing");
	}
	/* a note of 200 characters is taken, of 201 refused */
	snprintf(big, sizeof(big), "{" GOOD_NAME "," GOOD_DATE "," GOOD_PHONE ",\"note\":\"%0200d\"}", 0);
	ck_assert_ptr_null(refused_field(big));
	snprintf(big, sizeof(big), "{" GOOD_NAME "," GOOD_DATE "," GOOD_PHONE ",\"note\":\"%0201d\"}", 0);
	ck_assert_str_eq(refused_field(big), "note");
}
END_TEST

START_TEST(trimmed_and_age)
{
	struct gym_registration r;
	const char *field;
	cJSON *b = cJSON_Parse("{\"child_name\":\" 王小明 \",\"child_birth_date\":\"2019-05-20\","
	    "\"parent_phone\":\"13800138000\",\"note\":\"  \"}");

	ck_assert_int_eq(gym_registration_from_json(b, &r, &field), GYM_OK);
	cJSON_Delete(b);
	ck_assert_str_eq(r.child_name, "王小明");
	ck_assert_str_eq(r.note, "");
	/* 2026-05-20 00:00 in China is 2026-05-19 16:00 UTC: the day before
	 * (15:00 in China) the child is 6, a minute after midnight 7 */
	gym_clock_set_offset(CN_2026_05_20 - 9 * 3600 - (long long)time(NULL));
	ck_assert_int_eq(gym_registration_age("2019-05-20"), 6);
	gym_clock_set_offset(CN_2026_05_20 + 60 - (long long)time(NULL));
	ck_assert_int_eq(gym_registration_age("2019-05-20"), 7);
	gym_clock_set_offset(0);
	ck_assert_int_eq(gym_registration_age("2019-02-30"), -1);
	ck_assert_int_eq(gym_registration_age(NULL), -1);
}
END_TEST

START_TEST(masks)
{
	struct gym_registration in = { "王小明", "2019-05-20", "13800138000", "怕高" }, m;
	char buf[64];

	gym_registration_mask(&in, &m);
	ck_assert_str_eq(m.child_name, "王**");
	ck_assert_str_eq(m.child_birth_date, "2019-**-**");
	ck_assert_str_eq(m.parent_phone, "138****8000");
	ck_assert_str_eq(m.note, "");
	gym_registration_mask_name("明", buf, sizeof(buf));
	ck_assert_str_eq(buf, "*");
	gym_registration_mask_name("Tom", buf, sizeof(buf));
	ck_assert_str_eq(buf, "T**");
	gym_registration_mask_name("", buf, sizeof(buf));
	ck_assert_str_eq(buf, "*");
	gym_registration_mask_phone("123", buf, sizeof(buf));
	ck_assert_str_eq(buf, "****");
}
END_TEST

static void
keys_of(const char *text, struct gym_pii_keys *k)
{
	char err[256];

	ck_assert_msg(gym_pii_keys_parse(text, k, err, sizeof(err)) == GYM_OK, "%s", err);
}

START_TEST(key_file)
{
	static const char *bad[] = {
		"k1 " HEX_A "\n",				/* no index */
		"index " HEX_I "\n",				/* no key */
		"index " HEX_I "\nk1 " HEX_A "x\n",		/* 65 digits */
		"index " HEX_I "\nk1 " HEX_A "\nk1 " HEX_B "\n",	/* id twice */
		"index " HEX_I "\nindex " HEX_I "\nk1 " HEX_A "\n",
		"index " HEX_I "\nk/1 " HEX_A "\n",		/* bad id */
		"index " HEX_I "\nk1\n",
		"index " HEX_I "\nk1 " "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	};
	struct gym_pii_keys k;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(gym_pii_keys_parse(bad[i], &k, err, sizeof(err)) == GYM_EINVAL,
		    "bad key file %zu taken", i);
		ck_assert_int_eq(k.n, 0);
		/* the message never carries a key */
		ck_assert_ptr_null(strstr(err, "0102030405"));
	}
	keys_of("# keys\n\nindex " HEX_I "\n  k2\t" HEX_B "  \nk1 " HEX_A, &k);
	ck_assert_int_eq(k.n, 2);
	ck_assert_str_eq(k.k[0].id, "k2");
	ck_assert_str_eq(k.k[1].id, "k1");
	ck_assert_int_eq(k.k[1].key[31], 0x1f);
	gym_pii_keys_wipe(&k);
	ck_assert_int_eq(k.n, 0);
}
END_TEST

START_TEST(seal_open)
{
	struct gym_pii_keys k1, k21, k2;
	struct gym_pii_sealed s, s2;
	char *plain = NULL, ia[65], ib[65];
	static const char msg[] = "{\"parent_phone\":\"13800138000\"}";

	keys_of("index " HEX_I "\nk1 " HEX_A "\n", &k1);
	keys_of("index " HEX_I "\nk2 " HEX_B "\nk1 " HEX_A "\n", &k21);
	keys_of("index " HEX_B "\nk2 " HEX_B "\n", &k2);
	ck_assert_int_eq(gym_pii_seal(&k1, "ORDER1", msg, strlen(msg), &s), GYM_OK);
	ck_assert_str_eq(s.key_id, "k1");
	ck_assert_int_eq((int)strlen(s.nonce), 16);
	ck_assert_ptr_null(strstr(s.data, "13800138000"));
	/* a second seal of the same text differs (its own nonce) */
	ck_assert_int_eq(gym_pii_seal(&k1, "ORDER1", msg, strlen(msg), &s2), GYM_OK);
	ck_assert_str_ne(s.data, s2.data);
	free(s2.data);
	ck_assert_int_eq(gym_pii_open(&k1, "ORDER1", &s, &plain), GYM_OK);
	ck_assert_str_eq(plain, msg);
	free(plain);
	/* after a rotation the old key still opens it */
	ck_assert_int_eq(gym_pii_open(&k21, "ORDER1", &s, &plain), GYM_OK);
	free(plain);
	/* without its key: not found; moved to another order: does not verify */
	ck_assert_int_eq(gym_pii_open(&k2, "ORDER1", &s, &plain), GYM_ENOTFOUND);
	ck_assert_ptr_null(plain);
	ck_assert_int_eq(gym_pii_open(&k1, "ORDER2", &s, &plain), GYM_ECRYPTO);
	ck_assert_ptr_null(plain);
	s.data[3] = s.data[3] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(gym_pii_open(&k1, "ORDER1", &s, &plain), GYM_ECRYPTO);
	free(s.data);
	/* a rotation seals under the first key */
	ck_assert_int_eq(gym_pii_seal(&k21, "ORDER1", msg, strlen(msg), &s), GYM_OK);
	ck_assert_str_eq(s.key_id, "k2");
	free(s.data);
	ck_assert_int_eq(gym_pii_seal(&k1, "", msg, strlen(msg), &s), GYM_EINVAL);
	/* the search hash: keyed by the index key alone */
	gym_pii_index(&k1, "13800138000", ia);
	gym_pii_index(&k21, "13800138000", ib);
	ck_assert_str_eq(ia, ib);
	gym_pii_index(&k2, "13800138000", ib);
	ck_assert_str_ne(ia, ib);
	gym_pii_index(&k1, "13800138001", ib);
	ck_assert_str_ne(ia, ib);
	ck_assert_int_eq((int)strlen(ia), 64);
}
END_TEST

Suite *
registration_suite(void)
{
	Suite *s = suite_create("registration");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, rules);
	tcase_add_test(tc, trimmed_and_age);
	tcase_add_test(tc, masks);
	tcase_add_test(tc, key_file);
	tcase_add_test(tc, seal_open);
	suite_add_tcase(s, tc);
	return s;
}

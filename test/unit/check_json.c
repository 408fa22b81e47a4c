/*
 * check_json.c: unit tests of lib/json.c, what every request body goes
 * through: gym_json_object (objects only), gym_json_id (a positive whole
 * number, as a number or a digit string, up to 9e15), gym_json_fen (WeChat's
 * amounts: whole fen in an int's range), gym_json_str, and
 * gym_json_mask (the audit snapshot: no openid, code or token survives).
 *
 * Duplicated keys: cJSON keeps every member and a lookup returns the
 * first, so {"course_schedule_id":1,"course_schedule_id":2} means 1 for
 * every handler, and the snapshot masks both copies.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "json.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static cJSON *
obj(const char *text)
{
	cJSON *o = gym_json_object(text, strlen(text));

	ck_assert_msg(o != NULL, "not an object: %s", text);
	return o;
}

static const struct {
	const char *body;
	enum gym_err e;
	long long id;
} ids[] = {
	{ "{\"id\":1}", GYM_OK, 1 },
	{ "{\"id\":\"12\"}", GYM_OK, 12 },
	{ "{\"id\":9000000000000000}", GYM_OK, 9000000000000000LL },
	{ "{\"id\":\"999999999999999\"}", GYM_OK, 999999999999999LL },
	{ "{\"id\":1.0}", GYM_OK, 1 },
	{ "{}", GYM_ENOTFOUND, 0 },
	{ "{\"id\":null}", GYM_ENOTFOUND, 0 },
	{ "{\"ID\":1}", GYM_ENOTFOUND, 0 },
	{ "{\"id\":0}", GYM_EINVAL, 0 },
	{ "{\"id\":-1}", GYM_EINVAL, 0 },
	{ "{\"id\":1.5}", GYM_EINVAL, 0 },
	{ "{\"id\":1e308}", GYM_EINVAL, 0 },
	{ "{\"id\":-1e308}", GYM_EINVAL, 0 },
	{ "{\"id\":1e999}", GYM_EINVAL, 0 },
	{ "{\"id\":9000000000000001}", GYM_EINVAL, 0 },
	{ "{\"id\":9223372036854775808}", GYM_EINVAL, 0 },
	{ "{\"id\":\"9223372036854775808\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"1234567890123456\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"12abc\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\" 12\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"+12\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"-12\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"0\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"1e3\"}", GYM_EINVAL, 0 },
	{ "{\"id\":\"'; DROP TABLE users; --\"}", GYM_EINVAL, 0 },
	{ "{\"id\":true}", GYM_EINVAL, 0 },
	{ "{\"id\":[1]}", GYM_EINVAL, 0 },
	{ "{\"id\":{\"id\":1}}", GYM_EINVAL, 0 },
	{ "{\"id\":1,\"id\":2}", GYM_OK, 1 },
	{ "{\"id\":\"x\",\"id\":2}", GYM_EINVAL, 0 },
};

START_TEST(test_id)
{
	cJSON *o = obj(ids[_i].body);
	long long v = 0;
	enum gym_err e = gym_json_id(o, "id", &v);

	ck_assert_msg(e == ids[_i].e, "%s: got %d, want %d", ids[_i].body, e, ids[_i].e);
	if (e == GYM_OK)
		ck_assert_int_eq(v, ids[_i].id);
	cJSON_Delete(o);
}
END_TEST

/* Amounts from WeChat: whole fen only, in the range of an int column;
 * the undefined conversions (1e308, -1e308) must be refused, not cast. */
static const struct {
	const char *body;
	enum gym_err e;
	long long fen;
} fens[] = {
	{ "{\"total\":20000}", GYM_OK, 20000 },
	{ "{\"total\":0}", GYM_OK, 0 },
	{ "{\"total\":20000.0}", GYM_OK, 20000 },
	{ "{\"total\":2147483647}", GYM_OK, 2147483647LL },
	{ "{}", GYM_ENOTFOUND, 0 },
	{ "{\"total\":null}", GYM_ENOTFOUND, 0 },
	{ "{\"total\":20000.5}", GYM_EINVAL, 0 },
	{ "{\"total\":19999.999999}", GYM_EINVAL, 0 },
	{ "{\"total\":-1}", GYM_EINVAL, 0 },
	{ "{\"total\":1e308}", GYM_EINVAL, 0 },
	{ "{\"total\":-1e308}", GYM_EINVAL, 0 },
	{ "{\"total\":1e999}", GYM_EINVAL, 0 },
	{ "{\"total\":2147483648}", GYM_EINVAL, 0 },
	{ "{\"total\":\"20000\"}", GYM_EINVAL, 0 },
	{ "{\"total\":true}", GYM_EINVAL, 0 },
	{ "{\"total\":[20000]}", GYM_EINVAL, 0 },
};

START_TEST(test_fen)
{
	cJSON *o = obj(fens[_i].body);
	long long v = -7;
	enum gym_err e = gym_json_fen(o, "total", &v);

	ck_assert_msg(e == fens[_i].e, "%s: got %d, want %d", fens[_i].body, e, fens[_i].e);
	ck_assert_int_eq(v, e == GYM_OK ? fens[_i].fen : -7);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_str)
{
	cJSON *o = obj("{\"a\":\"x\",\"a\":\"y\",\"n\":1,\"z\":null,\"e\":\"\",\"u\":\"\\u4f53\"}");
	const char *s = NULL;

	ck_assert_int_eq(gym_json_str(o, "a", &s), GYM_OK);
	ck_assert_str_eq(s, "x");		/* the first of a duplicated key */
	ck_assert_int_eq(gym_json_str(o, "n", &s), GYM_EINVAL);
	ck_assert_int_eq(gym_json_str(o, "z", &s), GYM_ENOTFOUND);
	ck_assert_int_eq(gym_json_str(o, "missing", &s), GYM_ENOTFOUND);
	ck_assert_int_eq(gym_json_str(o, "e", &s), GYM_OK);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(gym_json_str(o, "u", &s), GYM_OK);
	ck_assert_str_eq(s, "\xe4\xbd\x93");
	cJSON_Delete(o);
}
END_TEST

static const char *const not_objects[] = {
	"", "[]", "[{\"a\":1}]", "1", "\"x\"", "null", "true", "{", "{\"a\":}", "{\"a\":1",
	"{'a':1}", "{\"a\":1}x", "{\"a\":1} {}", "{\"a\":1}\"",
};

START_TEST(test_not_object)
{
	const char *t = not_objects[_i];

	ck_assert_msg(gym_json_object(t, strlen(t)) == NULL, "accepted %s", t);
}
END_TEST

START_TEST(test_object_length)
{
	/* the length given wins: bytes after it are not read */
	const char body[] = "{\"a\":1}{\"b\":2}";
	cJSON *o = gym_json_object(body, 7);

	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	ck_assert_ptr_null(gym_json_object(body, 6));
	ck_assert_ptr_null(gym_json_object(body, sizeof(body) - 1));
	/* a NUL inside the length is not the end of the body */
	ck_assert_ptr_null(gym_json_object("{\"a\":1}\0{", 9));
	/* white space after the object, and a UTF-8 byte order mark before it
	 * (cJSON skips one; RFC 8259 lets a parser ignore it) */
	o = gym_json_object("{\"a\":1} \r\n\t", 11);
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	o = gym_json_object("\xef\xbb\xbf{\"a\":1}", 10);
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	ck_assert_ptr_null(gym_json_object(NULL, 3));
	ck_assert_ptr_null(gym_json_object(body, 0));
}
END_TEST

static const struct {
	const char *in, *out;
} masks[] = {
	{ "{\"code\":\"0a1b\"}", "{\"code\":\"****\"}" },
	{ "{\"openid\":\"oUpF8\",\"x\":1}", "{\"openid\":\"****\",\"x\":1}" },
	{ "{\"payer\":{\"openid\":\"oUpF8\"}}", "{\"payer\":{\"openid\":\"****\"}}" },
	{ "{\"a\":[{\"token\":\"t\"},{\"secret\":5}]}",
	  "{\"a\":[{\"token\":\"****\"},{\"secret\":\"****\"}]}" },
	{ "{\"code\":\"a\",\"code\":\"b\"}", "{\"code\":\"****\",\"code\":\"****\"}" },
	{ "{\"access_token\":null,\"session_key\":true,\"js_code\":1,\"authorization\":\"B\"}",
	  "{\"access_token\":\"****\",\"session_key\":\"****\",\"js_code\":\"****\","
	  "\"authorization\":\"****\"}" },
	/* an object under a sensitive name is walked, not replaced */
	{ "{\"code\":{\"openid\":\"o\",\"n\":2}}", "{\"code\":{\"openid\":\"****\",\"n\":2}}" },
	{ "{\"course_schedule_id\":1}", "{\"course_schedule_id\":1}" },
	/* the registration details never reach an audit row */
	{ "{\"child_name\":\"王小明\",\"child_birth_date\":\"2019-05-20\",\"parent_phone\":"
	  "\"13800138000\",\"note\":\"n\",\"course_schedule_id\":2}",
	  "{\"child_name\":\"****\",\"child_birth_date\":\"****\",\"parent_phone\":\"****\","
	  "\"note\":\"****\",\"course_schedule_id\":2}" },
	{ "[{\"openid\":\"o\"}]", "[{\"openid\":\"****\"}]" },
};

/* issue 13, finding 6: cJSON cuts a string at an escaped NUL, so
 * {"code":"abc\u0000def"} read as the code "abc".  Refused, keys too. */
static const char *const nul_bodies[] = {
	"{\"code\":\"abc\\u0000def\"}",
	"{\"code\":\"\\u0000\"}",
	"{\"code\":\"abc\\u0000\"}",
	"{\"co\\u0000de\":\"abc\"}",
	"{\"a\":{\"b\":[\"x\\u0000\"]}}",
	"{\"a\":\"\\\\\\u0000\"}",	/* an escaped backslash, then \u0000 */
};

START_TEST(test_object_nul)
{
	const char *t = nul_bodies[_i];

	ck_assert_msg(gym_json_object(t, strlen(t)) == NULL, "accepted %s", t);
}
END_TEST

START_TEST(test_object_not_nul)
{
	/* an escaped backslash before u0000 is the text \u0000, no NUL; other
	 * escapes (\u0001, \u00e9, \") and a string ending in \\ pass */
	static const char *const ok[] = {
		"{\"a\":\"\\\\u0000\"}", "{\"a\":\"\\u0001\\u00e9\\\"u0000\"}",
		"{\"a\":\"x\",\"b\":\"\\\\\"}",
	};
	const cJSON *v;
	cJSON *o;

	for (size_t i = 0; i < NELEM(ok); i++) {
		o = gym_json_object(ok[i], strlen(ok[i]));
		ck_assert_msg(o != NULL, "refused %s", ok[i]);
		cJSON_Delete(o);
	}
	o = obj(ok[0]);
	v = cJSON_GetObjectItemCaseSensitive(o, "a");
	ck_assert_str_eq(v->valuestring, "\\u0000");
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_mask)
{
	char *m = gym_json_mask(masks[_i].in);

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m, masks[_i].out);
	free(m);
}
END_TEST

START_TEST(test_mask_not_json)
{
	ck_assert_ptr_null(gym_json_mask("code=0a1b"));
	ck_assert_ptr_null(gym_json_mask(""));
	ck_assert_ptr_null(gym_json_mask(NULL));
}
END_TEST

Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = tcase_create("members");
	tcase_add_loop_test(tc, test_id, 0, NELEM(ids));
	tcase_add_loop_test(tc, test_fen, 0, NELEM(fens));
	tcase_add_test(tc, test_str);
	tcase_add_loop_test(tc, test_not_object, 0, NELEM(not_objects));
	tcase_add_test(tc, test_object_length);
	tcase_add_loop_test(tc, test_object_nul, 0, NELEM(nul_bodies));
	tcase_add_test(tc, test_object_not_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("mask");
	tcase_add_loop_test(tc, test_mask, 0, NELEM(masks));
	tcase_add_test(tc, test_mask_not_json);
	suite_add_tcase(s, tc);
	return s;
}

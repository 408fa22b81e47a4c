/*
 * fuzz_json.c: request bodies.  The bytes are a body as gymd's handlers
 * read it: gym_h_body (gym_json_object) and the members every route takes
 * through gym_h_id / gym_json_id / gym_json_str, and gym_json_mask, which
 * turns a body into the audit snapshot.
 *
 * Properties checked:
 *   - an id is 1 .. 9e15 whenever gym_json_id says GYM_OK;
 *   - gym_json_str gives a string on GYM_OK;
 *   - the masked snapshot parses and has the body's members under the same
 *     names, and no member named openid, code, token, ... (json.c's list)
 *     keeps a scalar value other than "****".
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "hutil.h"
#include "json.h"

static const char *const members[] = { "course_schedule_id", "reservation_id", "order_id",
	"code", "trade_type", "reason", "refund_id", "capacity", "course_name", "" };

static const char *const sensitive[] = { "openid", "code", "js_code", "token",
	"access_token", "secret", "session_key", "authorization" };

static int
is_sensitive(const char *name)
{
	for (size_t i = 0; i < sizeof(sensitive) / sizeof(sensitive[0]); i++)
		if (name != NULL && strcmp(name, sensitive[i]) == 0)
			return 1;
	return 0;
}

/* orig is the body as parsed, snap the masked snapshot parsed back: the
 * same members under the same names, sensitive scalars as "****". */
static void
check_masked(const cJSON *orig, const cJSON *snap)
{
	const cJSON *a = orig != NULL ? orig->child : NULL;
	const cJSON *b = snap != NULL ? snap->child : NULL;

	for (; a != NULL && b != NULL; a = a->next, b = b->next) {
		if ((a->string == NULL) != (b->string == NULL) ||
		    (a->string != NULL && strcmp(a->string, b->string) != 0))
			fuzz_fail("member \"%s\" became \"%s\" in the snapshot",
			    a->string ? a->string : "(none)", b->string ? b->string : "(none)");
		if (is_sensitive(a->string) && !cJSON_IsObject(a) && !cJSON_IsArray(a)) {
			if (!cJSON_IsString(b) || strcmp(b->valuestring, "****") != 0)
				fuzz_fail("member \"%s\" kept its value in the snapshot", a->string);
			continue;
		}
		check_masked(a, b);
	}
	if (a != NULL || b != NULL)
		fuzz_fail("the snapshot has %s members than the body", a ? "fewer" : "more");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gym_req req;
	struct gym_resp resp;
	cJSON *body = NULL, *snap, *orig;
	char *text = fuzz_cstr(data, size), *masked;
	const char *s;
	long long id;

	/* the handlers' path: gym_h_body, then each member */
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.body = text;
	req.body_len = size;
	if (gym_h_body(&req, &resp, size % 2, &body) == GYM_OK) {
		for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
			id = 0;
			if (gym_json_id(body, members[i], &id) == GYM_OK && (id < 1 || id > 9000000000000000LL))
				fuzz_fail("gym_json_id(%s) gave %lld", members[i], id);
			if (gym_h_id(body, members[i], &resp, &id) != GYM_OK &&
			    strcmp(resp.err_field, members[i]) != 0)
				fuzz_fail("gym_h_id(%s) named field \"%s\"", members[i], resp.err_field);
			s = NULL;
			if (gym_json_str(body, members[i], &s) == GYM_OK && s == NULL)
				fuzz_fail("gym_json_str(%s) gave NULL", members[i]);
		}
		cJSON_Delete(body);
	} else if (strcmp(resp.err_field, "body") != 0)
		fuzz_fail("gym_h_body refused without naming the body");

	/* the audit snapshot (gym_h_actor masks the NUL-terminated body) */
	if ((masked = gym_json_mask(text)) != NULL) {
		if ((snap = cJSON_Parse(masked)) == NULL || (orig = cJSON_Parse(text)) == NULL)
			fuzz_fail("the masked snapshot does not parse: %.200s", masked);
		check_masked(orig, snap);
		cJSON_Delete(orig);
		cJSON_Delete(snap);
		free(masked);
	}
	free(text);
	return 0;
}

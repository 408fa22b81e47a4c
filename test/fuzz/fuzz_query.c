/*
 * fuzz_query.c: query strings (gym_h_query, fcgi/hutil.c) and the ids
 * handlers read from them (gym_h_path_id).  The first byte picks the size
 * of the output buffer (1 to 256), the bytes up to the first newline are
 * a parameter name, the rest is the query string after '?'.  The names
 * the admin routes read are looked up as well.
 *
 * Properties checked: the value fits the buffer (NUL within len); a value
 * is reported only for a name present in the query; gym_h_path_id gives
 * 1 .. 999999999999999 or refuses.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hutil.h"

static const char *const names[] = { "status", "course_schedule_id", "order_id", "from",
	"to", "limit", "cursor", "action_type", "out_trade_no" };

static void
lookup(const struct gym_req *req, const char *name, size_t len)
{
	char *out = malloc(len);
	long long id = 0;

	if (out == NULL)
		fuzz_fail("out of memory");
	if (gym_h_query(req, name, out, len)) {
		if (memchr(out, '\0', len) == NULL)
			fuzz_fail("value of %s not terminated within %zu bytes", name, len);
		if (*name != '\0' && strstr(req->query, name) == NULL)
			fuzz_fail("value for %s, which the query does not hold", name);
		if (gym_h_path_id(out, &id, GYM_ENOTFOUND) == GYM_OK &&
		    (id < 1 || id > 999999999999999LL))
			fuzz_fail("gym_h_path_id gave %lld", id);
	}
	free(out);
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
	char *parts[2];
	size_t len;

	if (size == 0)
		return 0;
	len = (size_t)data[0] % 256 + 1;
	fuzz_split(data + 1, size - 1, parts, 2, NULL);
	memset(&req, 0, sizeof(req));
	req.query = parts[1];
	lookup(&req, parts[0], len);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		lookup(&req, names[i], len);
	fuzz_free_parts(parts, 2);
	return 0;
}

/*
 * fuzz_route.c: request paths.  The bytes are "METHOD\nREQUEST_URI" as
 * nginx passes them; the harness does what fcgi/req.c and fcgi/worker.c
 * do with them: gym_http_split_uri, gym_http_route_path, gym_route_find
 * (the real route table of fcgi/router.c, so {} captures are the real
 * ones), then gym_h_path_id on each captured segment as the handlers do.
 *
 * Properties checked: no route means status 404 or 405, and 405 comes
 * with a non-empty Allow that fits its buffer; a route found has the
 * method asked for; captured segments are non-empty, hold no '/', and
 * are NUL-terminated within their 128 bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "http.h"
#include "httputil.h"
#include "hutil.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void
check_args(const struct gym_req *req, const struct gym_route *rt)
{
	int want = 0;
	long long id;

	for (const char *p = rt->pattern; (p = strstr(p, "{}")) != NULL; p += 2)
		want++;
	for (int i = 0; i < want && i < GYM_MAX_PATHARGS; i++) {
		if (memchr(req->args[i], '\0', sizeof(req->args[i])) == NULL)
			fuzz_fail("path argument %d not terminated", i);
		if (req->args[i][0] == '\0' || strchr(req->args[i], '/') != NULL)
			fuzz_fail("path argument %d is \"%s\" for %s", i, req->args[i], rt->pattern);
		id = 0;
		if (gym_h_path_id(req->args[i], &id, GYM_ENOTFOUND) == GYM_OK &&
		    (id < 1 || id > 999999999999999LL))
			fuzz_fail("gym_h_path_id(%s) gave %lld", req->args[i], id);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gym_route *rt;
	struct gym_req req;
	char *parts[2], allow[128];
	const char *query, *rpath;
	int status = 0;
	size_t allowsz;

	fuzz_split(data, size, parts, 2, NULL);
	memset(&req, 0, sizeof(req));
	gym_http_split_uri(parts[1], &query);
	if (strchr(parts[1], '?') != NULL)
		fuzz_fail("split_uri left a '?' in the path");
	req.method = parts[0];
	req.path = parts[1];
	req.query = query;
	/* the worker's Allow buffer is 128 bytes; smaller ones test truncation */
	allowsz = size > 0 ? (size_t)data[size - 1] % sizeof(allow) + 1 : sizeof(allow);
	memset(allow, 'x', sizeof(allow));
	if ((rpath = gym_http_route_path(req.path)) != NULL) {
		rt = gym_route_find(req.method, rpath, &req, &status, allow, allowsz);
		if (rt == NULL) {
			if (status != 404 && status != 405)
				fuzz_fail("no route and status %d", status);
			if (memchr(allow, '\0', allowsz) == NULL)
				fuzz_fail("Allow not terminated within %zu bytes", allowsz);
			if (status == 405 && allowsz > 8 && allow[0] == '\0')
				fuzz_fail("405 without an Allow value");
		} else {
			if (strcmp(rt->method, req.method) != 0)
				fuzz_fail("route %s %s for method %s", rt->method, rt->pattern, req.method);
			check_args(&req, rt);
			if (gym_route_index(rt) < 0)
				fuzz_fail("route outside the table");
		}
	} else if (strncmp(req.path, GYM_HTTP_PREFIX "/", sizeof(GYM_HTTP_PREFIX)) == 0 &&
	    strcmp(req.path, GYM_HTTP_PREFIX "/metrics") != 0)
		fuzz_fail("route_path refused %s", req.path);
	fuzz_free_parts(parts, 2);
	return 0;
}

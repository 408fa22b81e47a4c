/*
 * httputil.c: request-line helpers with no FastCGI in them (httputil.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "httputil.h"
#include "log.h"

int
gym_http_rid_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		if (n == GYM_HTTP_RID_MAX)
			return 0;
		if (!(s[n] >= '0' && s[n] <= '9') && !(s[n] >= 'a' && s[n] <= 'z') &&
		    !(s[n] >= 'A' && s[n] <= 'Z') && s[n] != '-')
			return 0;
	}
	return n > 0;
}

void
gym_http_rid_new(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	static unsigned long seq;
	unsigned char b[16];
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* Never seen in practice; the request must go on all the same,
		 * so fall back to an id that is unique but not random. */
		ERR_clear_error();
		gym_log_warnx("could not draw random bytes for a request id");
		snprintf(out, 33, "%08lx%08lx%016lx", (unsigned long)getpid() & 0xffffffffUL,
		    (unsigned long)time(NULL) & 0xffffffffUL, ++seq);
		return;
	}
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0x0f];
	}
	out[32] = '\0';
}

void
gym_http_split_uri(char *uri, const char **query)
{
	char *q;

	if ((q = strchr(uri, '?')) == NULL) {
		*query = "";
		return;
	}
	*q = '\0';
	*query = q + 1;
}

const char *
gym_http_route_path(const char *path)
{
	const size_t plen = sizeof(GYM_HTTP_PREFIX) - 1;

	if (strncmp(path, GYM_HTTP_PREFIX, plen) == 0 && path[plen] == '/') {
		if (strcmp(path + plen, "/metrics") == 0)
			return NULL;
		return path + plen;
	}
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0)
		return path;
	return NULL;
}

int
gym_http_content_length(const char *s, size_t *out)
{
	size_t v = 0;

	*out = 0;
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 0;
}

const char *
gym_http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} t[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 304, "Not Modified" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 409, "Conflict" },
		{ 413, "Content Too Large" }, { 422, "Unprocessable Content" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].status == status)
			return t[i].reason;
	return "Unknown";
}

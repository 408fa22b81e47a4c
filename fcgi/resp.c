/*
 * resp.c: write a struct gym_resp as the FastCGI response.  The only place
 * that writes a Status: line.  JSON answers carry Cache-Control: no-store
 * (they hold personal and payment data); every answer carries the
 * request id.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "log.h"

#define JSON_TYPE "application/json"

enum gym_err
gym_resp_header(struct gym_resp *resp, const char *name, const char *value)
{
	size_t used = strlen(resp->headers);
	int n;

	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return GYM_EINVAL;
	n = snprintf(resp->headers + used, sizeof(resp->headers) - used,
	    "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(resp->headers) - used) {
		resp->headers[used] = '\0';
		return GYM_ENOMEM;
	}
	return GYM_OK;
}

static int
put(FCGX_Stream *out, const char *p, size_t len)
{
	int chunk;

	while (len > 0) {
		chunk = len > INT_MAX ? INT_MAX : (int)len;
		if (FCGX_PutStr(p, chunk, out) != chunk)
			return -1;
		p += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

int
gym_resp_write(FCGX_Stream *out, const struct gym_resp *resp, const char *rid)
{
	char head[1024];
	const char *type = resp->content_type ? resp->content_type : JSON_TYPE;
	int status = resp->status ? resp->status : 200;
	int json = strncmp(type, JSON_TYPE, sizeof(JSON_TYPE) - 1) == 0;
	int bodiless = status == 204 || status == 304;
	size_t blen = bodiless || resp->body == NULL ? 0 : resp->body_len;
	int n;

	if (bodiless)
		n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
		    "X-Request-Id: %s\r\n%s%s\r\n",
		    status, gym_http_reason(status), rid,
		    json ? "Cache-Control: no-store\r\n" : "", resp->headers);
	else
		n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
		    "Content-Type: %s\r\nContent-Length: %zu\r\n"
		    "X-Request-Id: %s\r\n%s%s\r\n",
		    status, gym_http_reason(status), type, blen, rid,
		    json ? "Cache-Control: no-store\r\n" : "", resp->headers);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		gym_log_errx("response headers do not fit in %zu bytes", sizeof(head));
		return -1;
	}
	if (put(out, head, (size_t)n) == -1 || put(out, resp->body, blen) == -1) {
		gym_log_warnx("could not write the response: the web server went away");
		return -1;
	}
	return 0;
}

/*
 * httputil.h: the pure pieces of request handling that fcgi/req.c and
 * fcgi/resp.c need, kept here so the unit tests reach them without a
 * FastCGI server: request ids, splitting REQUEST_URI, the public path
 * prefix, CONTENT_LENGTH and reason phrases.
 */
#ifndef GYM_HTTPUTIL_H
#define GYM_HTTPUTIL_H

#include <stddef.h>

/* The public API's path prefix; /healthz and /metrics sit at the root. */
#define GYM_HTTP_PREFIX "/api/v1"
/* Request ids: ours are 32 hex digits; a proxy's may be up to 64 chars. */
#define GYM_HTTP_RID_MAX 64

/* 1 when s is a request id we accept from the proxy: 1 to 64 characters
 * of [0-9A-Za-z-]; 0 otherwise (NULL included). */
int gym_http_rid_valid(const char *s);
/* A fresh request id: 32 lower-case hex digits and a NUL into out. */
void gym_http_rid_new(char out[33]);
/* Cut uri at its first '?' in place; *query points past it, or to "". */
void gym_http_split_uri(char *uri, const char **query);
/* The path the router matches for a request path: GYM_HTTP_PREFIX
 * stripped from public paths, "/healthz" and "/metrics" as they are.
 * NULL when the path is outside both (the caller answers 404); so is
 * /api/v1/metrics, because only the root /metrics is kept to loopback
 * by nginx.  Borrows from path. */
const char *gym_http_route_path(const char *path);
/* Parse a CONTENT_LENGTH value: NULL or "" is 0; otherwise decimal
 * digits only.  0 on success, -1 on anything else (or overflow). */
int gym_http_content_length(const char *s, size_t *out);
/* The reason phrase of a status ("Unknown" when we have none). */
const char *gym_http_reason(int status);

#endif

/*
 * io.h: the worker's FastCGI side.  req.c turns FastCGI params and stdin
 * into a struct gym_req; resp.c writes a struct gym_resp back.  Nothing
 * else in gymd touches an FCGX_Stream (handlers only see http.h).
 */
#ifndef GYM_IO_H
#define GYM_IO_H

#include <stddef.h>

#include <fcgiapp.h>

#include "http.h"
#include "httputil.h"

/* Bodies of refused requests (404, 405, 413) are read and dropped up to
 * this much, so that the web server is not reset while still sending. */
#define GYM_DRAIN_MAX (1024 * 1024)

/* One request's storage: req points into it and into the FastCGI params,
 * so it lives until gym_req_free() and FCGX_Finish_r(). */
struct gym_reqbuf {
	struct gym_req req;
	char *uri;			/* REQUEST_URI, cut at '?' */
	char *body;			/* malloc'd, NULL when empty */
	size_t content_length;
	int bad_length;			/* CONTENT_LENGTH was not a number */
	char rid[GYM_HTTP_RID_MAX + 1];
};

/* Where a request body comes from: the worker reads FastCGI stdin
 * (gym_body_fcgx), the unit tests a buffer.  read returns the number of
 * bytes put in buf (at most len), 0 at the end, -1 on an error. */
struct gym_body_src {
	int (*read)(void *arg, char *buf, int len);
	void *arg;
	void (*read_done)(void);	/* the request is read (NULL: nothing to do) */
};

/* req.c: a body source over a FastCGI stream. */
int gym_body_fcgx(void *in, char *buf, int len);

/* Fill rb from the params (envp) of an accepted request.  Optional
 * headers that are absent or empty are NULL; method, query, user agent
 * and client ip are "" when absent.  GYM_ENOMEM on allocation failure
 * (rb is still safe to free, and rid is always set). */
enum gym_err gym_req_read(struct gym_reqbuf *rb, FCGX_ParamArray envp,
    struct gym_ctx *ctx);
/* Read exactly content_length bytes of the body into a NUL-terminated
 * buffer.  The caller has checked content_length against the route's cap.
 * GYM_EINVAL when the body ends early, GYM_ENOMEM. */
enum gym_err gym_req_read_body(struct gym_reqbuf *rb, const struct gym_body_src *in);
/* Read and drop what is left of the body, up to GYM_DRAIN_MAX bytes. */
void gym_req_drain(const struct gym_body_src *in);
void gym_req_free(struct gym_reqbuf *rb);

/* answer.c: route the request read into rb, enforce the route's body
 * cap (413), read the body and dispatch.  Fills resp (an error body on
 * failure: 404, 405 with Allow, 400, 413, the error map's) and *err;
 * returns the route that matched, or NULL. */
const struct gym_route *gym_answer(struct gym_ctx *ctx, struct gym_reqbuf *rb,
    const struct gym_body_src *in, struct gym_resp *resp, enum gym_err *err);

/* Write the status line, headers and body; 0 on success, -1 when the web
 * server went away (nothing else can be done about it). */
int gym_resp_write(FCGX_Stream *out, const struct gym_resp *resp, const char *rid);

#endif

/*
 * http.h: the simulator's HTTP/1.1 server side: read one request from a
 * socket (header and body caps, chunked bodies, Expect: 100-continue) and
 * write one response with Connection: close, on a plain socket or a TLS
 * connection (struct wxsim_io).
 */
#ifndef WXSIM_HTTP_H
#define WXSIM_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define WXSIM_HTTP_MAX_HEADER	(32 * 1024)
#define WXSIM_HTTP_MAX_BODY	(1024 * 1024)
#define WXSIM_HTTP_MAX_FIELDS	64
#define WXSIM_HTTP_MAX_PARAMS	4
#define WXSIM_HTTP_MAX_RESP_HDRS 12

/* One accepted connection: ssl NULL for plain HTTP, else the TLS session
 * over fd (handshake done).  Reads and writes are bounded by the socket's
 * SO_RCVTIMEO/SO_SNDTIMEO. */
struct ssl_st;
struct wxsim_io {
	int fd;
	struct ssl_st *ssl;
};
/* Read up to len bytes: >0 bytes, 0 at end of stream, -1 on error or
 * timeout. */
ssize_t wxsim_io_recv(const struct wxsim_io *, void *buf, size_t len);

struct wxsim_req {
	char method[16];
	char *target;		/* raw request-target, as signed */
	char *path;		/* target up to '?', still encoded */
	const char *query;	/* raw text after '?', or "" */
	struct {
		char *name, *value;
	} hdr[WXSIM_HTTP_MAX_FIELDS];
	size_t nhdr;
	char *body;		/* NUL-terminated, blen bytes */
	size_t blen;
	char peer[64];
	/* path segments matched by '*' in the route, percent-decoded */
	char *params[WXSIM_HTTP_MAX_PARAMS];
	size_t nparams;
	char *raw;		/* the header block the pointers above use */
};

struct wxsim_resp {
	int status;
	const char *ctype;	/* static; NULL means no body */
	char *body;
	size_t blen;
	struct {
		char name[48];
		char *value;
	} hdr[WXSIM_HTTP_MAX_RESP_HDRS];
	size_t nhdr;
	long wx_code;		/* numeric code after the '-' of Request-ID */
};

/*
 * Read one request from io into req.  0 on success.  -1 on failure, with
 * *status the HTTP status to answer (400, 408, 413, 431, 501), or 0 when
 * the peer went away and there is nothing to answer.
 */
int wxsim_http_read(const struct wxsim_io *, struct wxsim_req *req, int *status);
void wxsim_http_req_free(struct wxsim_req *);
/* A header's value (case-insensitive name), or NULL. */
const char *wxsim_http_header(const struct wxsim_req *, const char *name);
/* The percent-decoded value of query (or form) parameter name, malloc'd,
 * or NULL when absent or undecodable. */
char *wxsim_http_param(const char *query, const char *name);

/* Set the body (copied) and status; 0, or -1 when out of memory (the
 * response becomes a bare 500). */
int wxsim_resp_set(struct wxsim_resp *, int status, const char *ctype,
    const char *body, size_t len);
/* Take a JSON tree (deleted here) as the body. */
int wxsim_resp_json(struct wxsim_resp *, int status, cJSON *json);
/* {"code":code,"message":message} with the status. */
int wxsim_resp_error(struct wxsim_resp *, int status, const char *code, const char *message);
/* Add or replace a header (value copied); 0 or -1. */
int wxsim_resp_header(struct wxsim_resp *, const char *name, const char *value);
void wxsim_resp_free(struct wxsim_resp *);
/* Write the response with Connection: close; 0 or -1. */
int wxsim_http_write(const struct wxsim_io *, const struct wxsim_resp *);

#endif

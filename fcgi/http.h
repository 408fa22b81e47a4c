/*
 * http.h: what a handler sees and fills.  Handlers never touch FastCGI
 * streams: req.c reads the request into struct gym_req, the handler fills
 * struct gym_resp or returns an error, and resp.c writes the answer.
 */
#ifndef GYM_HTTP_H
#define GYM_HTTP_H

#include <stddef.h>

#include "gym.h"
#include "config.h"
#include "db.h"
#include "checkout.h"
#include "staff_auth.h"

/* One per worker process: what survives between requests. */
struct gym_ctx {
	const struct gym_config *cfg;
	struct gym_db *db;		/* lazily connected */
	struct gym_pay pay;		/* the payment use-cases' context (gym_h_pay) */
	unsigned long requests;		/* handled by this worker */
	/* the connected peer of the request being served: one of the
	 * trusted_proxies (X-Real-IP, X-Request-Id taken), and its address */
	int peer_trusted;
	char peer_addr[GYM_PEER_ADDRLEN];
};

#define GYM_MAX_PATHARGS 2

struct gym_req {
	const char *method;
	const char *path;		/* without the query string */
	const char *route;		/* the route pattern that matched */
	const char *query;		/* "" when none */
	const char *request_id;		/* nginx's X-Request-Id or our own */
	const char *client_ip;
	const char *user_agent;
	const char *authorization;	/* NULL when absent */
	const char *accept;		/* the Accept header, NULL when absent */
	const char *idempotency_key;
	const char *wx_timestamp, *wx_nonce, *wx_signature, *wx_serial;
	const char *body;		/* NUL-terminated, body_len bytes */
	size_t body_len;
	char args[GYM_MAX_PATHARGS][128];	/* {param} path segments */
	struct gym_ctx *ctx;
	long long user_id;		/* the authenticated parent, or 0 */
	long long operator_id;		/* the authenticated operator, or 0 */
	int operator_role;		/* 1 = auditor (read), 2 = operator */
	const char *cookie;		/* the Cookie header, NULL when absent */
	const char *csrf_token;		/* X-CSRF-Token, NULL when absent */
	/* the staff session the operator signed in with (staff_auth.h), ""
	 * when the operator used a bearer token */
	char staff_sid[GYM_STAFF_SID_LEN + 1];
};

struct gym_resp {
	int status;			/* 0 = 200 */
	const char *content_type;	/* NULL = application/json */
	char *body;			/* malloc'd */
	size_t body_len;
	char headers[512];		/* extra "Name: value\r\n" lines */
	char err_field[64];		/* INVALID_REQUEST: the field at fault */
	char err_detail[256];		/* UPSTREAM_ERROR: WeChat's code */
	char err_alternatives[2048];	/* SOLD_OUT: a JSON array of classes, or "" */
};

typedef enum gym_err (*gym_handler)(struct gym_req *, struct gym_resp *);

/* Route flags */
#define GYM_AUTH_NONE		0x00
#define GYM_AUTH_USER		0x01	/* parent bearer token */
#define GYM_AUTH_AUDITOR	0x02	/* operator token, read */
#define GYM_AUTH_OPERATOR	0x04	/* operator token, write */
#define GYM_IDEMPOTENT		0x10	/* honours Idempotency-Key */
#define GYM_RAW_BODY		0x20	/* body is not JSON (notify URLs verify bytes) */
#define GYM_TOKEN_QUERY		0x40	/* the token may be an access_token query
					 * parameter (push: EventSource and
					 * wx.connectSocket set no headers) */

struct gym_route {
	const char *method;
	const char *pattern;		/* "/payment/orders/{}" under /api/v1 */
	gym_handler handler;
	unsigned flags;
	size_t max_body;
};

/* router.c: find the route; returns the route, or NULL with *status 404 or
 * 405 (and allow filled with the allowed methods for 405). */
const struct gym_route *gym_route_find(const char *method, const char *path,
    struct gym_req *req, int *status, char *allow, size_t allowsz);

/* router.c: the route's position in the const route table (the same in
 * every worker, so it keys the shared metrics), or -1 when it is not one
 * of the table's entries. */
int gym_route_index(const struct gym_route *);

/* dispatch.c: authenticate, honour Idempotency-Key, call route->handler.
 * On an error the worker answers with gym_error_response(). */
enum gym_err gym_dispatch(const struct gym_route *, struct gym_req *, struct gym_resp *);

/* errmap.c: the only table from gym_err to HTTP status, contract code and
 * message.  Fills resp with the JSON error body. */
void gym_error_response(enum gym_err, const struct gym_req *, struct gym_resp *);
int gym_error_status(enum gym_err);
const char *gym_error_code(enum gym_err);
/* errmap.c: an error body for answers that have no gym_err (405, 413):
 * {"code", "message", "request_id"} with the given status. */
void gym_error_simple(struct gym_resp *, int status, const char *code,
    const char *message, const char *rid);

/* resp helpers (resp_json.c): set a JSON body from a cJSON tree (consumed). */
struct cJSON;
enum gym_err gym_resp_json(struct gym_resp *, int status, struct cJSON *);
/* resp.c: append "name: value\r\n" to resp->headers; GYM_EINVAL for
 * a value with CR or LF in it, GYM_ENOMEM when the headers are full. */
enum gym_err gym_resp_header(struct gym_resp *, const char *name, const char *value);

#endif

/*
 * door.h: drive gymd's door (fcgi/ without main.c) in process, as a
 * FastCGI request would: params as an envp array of "NAME=value" strings
 * and a body buffer, through gym_req_read() and gym_answer().  There is
 * no database: the worker's handle points at a socket that does not
 * exist, so a request that asks it fails with GYM_EDB (503), which every
 * request asserts did not happen: whatever a test sees was decided
 * before any query.
 */
#ifndef GYM_UNIT_DOOR_H
#define GYM_UNIT_DOOR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "io.h"

#define DOOR_API "/api/v1"
#define DOOR_MAXENV 32

struct door_run {
	struct gym_reqbuf rb;
	struct gym_resp resp;
	const struct gym_route *route;
	enum gym_err err;		/* gym_req_read's, else gym_answer's */
	int status;			/* resp.status, 0 read as 200 */
	cJSON *json;			/* the body parsed, NULL when not JSON */
	const char *code;		/* the error body's "code", or "" */
	char *env[DOOR_MAXENV];
};

/* The worker's configuration and context, a fresh database handle that
 * connects nowhere.  trust_proxy as nginx's config sets it. */
void door_init(int trust_proxy);
void door_fini(void);
struct gym_ctx *door_ctx(void);
/* A parent's bearer token for uid, signed with the door's secret (or
 * another one when forged), expiring expires_in seconds from now. */
void door_token(long long uid, long long expires_in, int forged, char *out, size_t outsz);

/* One request: params are "NAME=value" strings (NULL-terminated, may be
 * NULL); CONTENT_LENGTH is blen unless params set it.  body NULL = none.
 * Fails the test when the database was touched. */
void door_request(struct door_run *, const char *method, const char *uri,
    const char *const *params, const char *body, size_t blen);
void door_done(struct door_run *);
/* door_request with an optional Authorization header value and a NUL-
 * terminated body, then assert the status and (when not NULL) the code;
 * an error body must carry a message and the request id. */
void door_expect(const char *method, const char *uri, const char *auth, const char *body,
    int status, const char *code);

#endif

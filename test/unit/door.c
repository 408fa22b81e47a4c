/*
 * door.c: the in-process FastCGI driver of the door tests (door.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "door.h"
#include "token.h"

static const char secret[] = "unit-door-token-secret-0123456789abcdef";
static const char forged_secret[] = "unit-door-token-secret-0123456789abcdeF";
static char nodb[] = "host=/nonexistent/gym-unit-door port=1 connect_timeout=1";

static struct gym_config cfg;
static struct gym_ctx ctx;

void
door_init(int trust_proxy)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&ctx, 0, sizeof(ctx));
	memcpy(cfg.token_secret, secret, sizeof(secret) - 1);
	cfg.token_secret_len = sizeof(secret) - 1;
	cfg.token_ttl = 3600;
	cfg.trust_proxy = trust_proxy;
	cfg.db = nodb;
	cfg.db_lock_timeout_ms = 100;
	ctx.cfg = &cfg;
	ctx.peer_trusted = 1;		/* as if nginx (a trusted proxy) sent it */
}

void
door_fini(void)
{
	gym_db_free(ctx.db);
	ctx.db = NULL;
}

struct gym_ctx *
door_ctx(void)
{
	return &ctx;
}

void
door_token(long long uid, long long expires_in, int forged, char *out, size_t outsz)
{
	const char *s = forged ? forged_secret : secret;

	ck_assert_int_eq(gym_token_issue((const unsigned char *)s, strlen(s), uid,
	    time(NULL) + (time_t)expires_in, out, outsz), GYM_OK);
}

/* The body, a few bytes a call, as FastCGI stdin records come. */
struct mem {
	const char *p;
	size_t len, off;
};

static int
mem_read(void *arg, char *buf, int len)
{
	struct mem *m = arg;
	size_t n = m->len - m->off;

	if (n > 7)
		n = 7;
	if (n > (size_t)len)
		n = (size_t)len;
	if (n == 0)
		return 0;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (int)n;
}

/* a + b, malloc'd */
static char *
cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

void
door_request(struct door_run *d, const char *method, const char *uri,
    const char *const *params, const char *body, size_t blen)
{
	struct mem m = { body, body ? blen : 0, 0 };
	struct gym_body_src src = { mem_read, &m, NULL };
	const cJSON *c;
	char len[24];
	size_t n = 0;
	int have_len = 0;

	memset(d, 0, sizeof(*d));
	if (method != NULL)
		d->env[n++] = cat("REQUEST_METHOD=", method);
	d->env[n++] = cat("REQUEST_URI=", uri);
	for (size_t i = 0; params != NULL && params[i] != NULL; i++) {
		ck_assert_uint_lt(n, DOOR_MAXENV - 2);
		have_len |= strncmp(params[i], "CONTENT_LENGTH=", 15) == 0;
		d->env[n++] = cat(params[i], "");
	}
	if (!have_len && body != NULL) {
		snprintf(len, sizeof(len), "%zu", blen);
		d->env[n++] = cat("CONTENT_LENGTH=", len);
	}
	d->env[n] = NULL;

	if ((d->err = gym_req_read(&d->rb, d->env, &ctx)) == GYM_OK)
		d->route = gym_answer(&ctx, &d->rb, &src, &d->resp, &d->err);
	d->status = d->resp.status ? d->resp.status : 200;
	/* the handle connects nowhere: a request that asked the database
	 * failed with GYM_EDB (503), whatever it was */
	ck_assert_msg(d->err != GYM_EDB && d->status != 503 &&
	    (ctx.db == NULL || gym_db_conn(ctx.db) == NULL),
	    "%s %s used the database", method, uri);
	if (d->resp.body != NULL)
		d->json = cJSON_ParseWithLength(d->resp.body, d->resp.body_len);
	c = cJSON_GetObjectItemCaseSensitive(d->json, "code");
	d->code = cJSON_IsString(c) ? c->valuestring : "";
}

void
door_done(struct door_run *d)
{
	for (size_t i = 0; i < DOOR_MAXENV && d->env[i] != NULL; i++)
		free(d->env[i]);
	cJSON_Delete(d->json);
	gym_req_free(&d->rb);
	free(d->resp.body);
	memset(d, 0, sizeof(*d));
}

void
door_expect(const char *method, const char *uri, const char *auth, const char *body,
    int status, const char *code)
{
	struct door_run d;
	char *hdr = NULL;
	const char *params[2] = { NULL, NULL };
	const cJSON *msg, *rid;

	if (auth != NULL)
		params[0] = hdr = cat("HTTP_AUTHORIZATION=", auth);
	door_request(&d, method, uri, params, body, body ? strlen(body) : 0);
	ck_assert_msg(d.status == status, "%s %s [%s] %.200s: %d %.300s, want %d %s",
	    method, uri, auth ? auth : "-", body ? body : "-", d.status,
	    d.resp.body ? d.resp.body : "", status, code ? code : "");
	if (code != NULL)
		ck_assert_msg(strcmp(d.code, code) == 0, "%s %s %.200s: code %s, want %s",
		    method, uri, body ? body : "-", d.code, code);
	if (status >= 400) {
		msg = cJSON_GetObjectItemCaseSensitive(d.json, "message");
		rid = cJSON_GetObjectItemCaseSensitive(d.json, "request_id");
		ck_assert_msg(cJSON_IsString(msg) && msg->valuestring[0] != '\0' &&
		    cJSON_IsString(rid) && strcmp(rid->valuestring, d.rb.rid) == 0,
		    "%s %s: error body %.300s", method, uri, d.resp.body ? d.resp.body : "");
	}
	door_done(&d);
	free(hdr);
}

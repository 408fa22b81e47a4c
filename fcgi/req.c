/*
 * req.c: build struct gym_req from an accepted FastCGI request.  The only
 * place that reads request params and the request body.  Values borrow
 * from libfcgi's param storage, valid until FCGX_Finish_r().  The body is
 * read through a struct gym_body_src, so that the unit tests can feed it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "log.h"

/* A param's value, or NULL when it is absent or empty. */
static const char *
param(FCGX_ParamArray envp, const char *name)
{
	const char *v = FCGX_GetParam(name, envp);

	return v != NULL && *v != '\0' ? v : NULL;
}

static const char *
param_or_empty(FCGX_ParamArray envp, const char *name)
{
	const char *v = param(envp, name);

	return v != NULL ? v : "";
}

enum gym_err
gym_req_read(struct gym_reqbuf *rb, FCGX_ParamArray envp, struct gym_ctx *ctx)
{
	struct gym_req *r = &rb->req;
	const char *v;
	/* forwarded values only from a configured proxy (never from whoever
	 * else reaches the socket: they would write any address or id) */
	int trusted = ctx->cfg->trust_proxy && ctx->peer_trusted;

	memset(rb, 0, sizeof(*rb));
	r->ctx = ctx;
	v = param(envp, "HTTP_X_REQUEST_ID");
	if (trusted && gym_http_rid_valid(v))
		memcpy(rb->rid, v, strlen(v) + 1);
	else
		gym_http_rid_new(rb->rid);
	r->request_id = rb->rid;

	r->method = param_or_empty(envp, "REQUEST_METHOD");
	r->user_agent = param_or_empty(envp, "HTTP_USER_AGENT");
	if (trusted && (v = param(envp, "HTTP_X_REAL_IP")) != NULL)
		r->client_ip = v;
	else if (ctx->peer_trusted)
		r->client_ip = param_or_empty(envp, "REMOTE_ADDR");
	else
		r->client_ip = ctx->peer_addr;	/* the socket's peer, not REMOTE_ADDR */
	r->authorization = param(envp, "HTTP_AUTHORIZATION");
	r->accept = param(envp, "HTTP_ACCEPT");
	r->idempotency_key = param(envp, "HTTP_IDEMPOTENCY_KEY");
	r->wx_timestamp = param(envp, "HTTP_WECHATPAY_TIMESTAMP");
	r->wx_nonce = param(envp, "HTTP_WECHATPAY_NONCE");
	r->wx_signature = param(envp, "HTTP_WECHATPAY_SIGNATURE");
	r->wx_serial = param(envp, "HTTP_WECHATPAY_SERIAL");
	r->cookie = param(envp, "HTTP_COOKIE");
	r->csrf_token = param(envp, "HTTP_X_CSRF_TOKEN");
	r->body = "";
	r->query = "";
	r->path = "";
	rb->bad_length = gym_http_content_length(FCGX_GetParam("CONTENT_LENGTH", envp),
	    &rb->content_length) == -1;

	if ((rb->uri = strdup(param_or_empty(envp, "REQUEST_URI"))) == NULL) {
		gym_log_errx("could not copy the request uri");
		return GYM_ENOMEM;
	}
	gym_http_split_uri(rb->uri, &r->query);
	r->path = rb->uri;
	return GYM_OK;
}

int
gym_body_fcgx(void *in, char *buf, int len)
{
	return FCGX_GetStr(buf, len, in);
}

enum gym_err
gym_req_read_body(struct gym_reqbuf *rb, const struct gym_body_src *in)
{
	size_t want = rb->content_length, got = 0;
	int n;

	if (want == 0)
		return GYM_OK;
	if ((rb->body = malloc(want + 1)) == NULL) {
		gym_log_errx("could not allocate a request body of %zu bytes", want);
		return GYM_ENOMEM;
	}
	while (got < want) {
		n = in->read(in->arg, rb->body + got,
		    want - got > INT_MAX ? INT_MAX : (int)(want - got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	rb->body[got] = '\0';
	if (got < want) {
		gym_log_warnx("request body ended after %zu of %zu bytes", got, want);
		return GYM_EINVAL;
	}
	rb->req.body = rb->body;
	rb->req.body_len = got;
	return GYM_OK;
}

void
gym_req_drain(const struct gym_body_src *in)
{
	char buf[8192];
	size_t total = 0;
	int n;

	while (total < GYM_DRAIN_MAX && (n = in->read(in->arg, buf, sizeof(buf))) > 0)
		total += (size_t)n;
}

void
gym_req_free(struct gym_reqbuf *rb)
{
	free(rb->uri);
	free(rb->body);
	rb->uri = NULL;
	rb->body = NULL;
}

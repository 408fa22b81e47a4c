/*
 * answer.c: one request after its params are read: route (404, 405 with
 * Allow), Content-Length against the route's body cap (400, 413), the
 * body, the worker's lazily made database handle (not connected until a
 * query), dispatch, and the error map for whatever failed.  Reads the body
 * through struct gym_body_src, so the unit tests drive it in process.
 */
#include <stdio.h>

#include "io.h"
#include "log.h"
#include "metrics.h"

/*
 * Route the request, enforce the route's body cap, read the body and
 * dispatch.  Fills resp (an error body on failure) and *err; returns the
 * route that matched, or NULL.
 */
const struct gym_route *
gym_answer(struct gym_ctx *ctx, struct gym_reqbuf *rb, const struct gym_body_src *in,
    struct gym_resp *resp, enum gym_err *err)
{
	const struct gym_route *route = NULL;
	const struct gym_config *cfg = ctx->cfg;
	const char *rpath;
	char allow[128] = "";
	int status = 404;
	enum gym_err e = GYM_OK;

	*err = GYM_OK;
	if ((rpath = gym_http_route_path(rb->req.path)) != NULL)
		route = gym_route_find(rb->req.method, rpath, &rb->req, &status,
		    allow, sizeof(allow));
	if (route == NULL) {
		gym_req_drain(in);
		if (status != 405) {
			gym_error_response(GYM_ENOTFOUND, &rb->req, resp);
			return NULL;
		}
		gym_error_simple(resp, 405, "METHOD_NOT_ALLOWED", "不支持该请求方法",
		    rb->rid);
		if (gym_resp_header(resp, "Allow", allow) != GYM_OK)
			gym_log_warnx("could not add the Allow header");
		return NULL;
	}
	rb->req.route = route->pattern;
	gym_metrics_serving(gym_route_index(route), route->method, route->pattern);
	if (rb->bad_length) {
		gym_req_drain(in);
		snprintf(resp->err_field, sizeof(resp->err_field), "Content-Length");
		e = GYM_EINVAL;
	} else if (rb->content_length > route->max_body) {
		gym_req_drain(in);
		gym_error_simple(resp, 413, "PAYLOAD_TOO_LARGE", "请求内容过大", rb->rid);
		return route;
	} else if ((e = gym_req_read_body(rb, in)) != GYM_OK)
		gym_req_drain(in);
	else if (ctx->db == NULL)
		e = gym_db_new(cfg->db, cfg->db_lock_timeout_ms, &ctx->db);
	if (in->read_done != NULL)
		in->read_done();	/* the handler has its own bounds */
	if (e == GYM_OK)
		e = gym_dispatch(route, &rb->req, resp);
	if (e != GYM_OK) {
		if (e == GYM_EDB)
			gym_metrics_add("db_errors", 1);
		gym_error_response(e, &rb->req, resp);
	}
	*err = e;
	return route;
}

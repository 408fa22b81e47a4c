/*
 * h_push.c: who may subscribe to a live push channel (issue 17).  nginx's
 * Nchan serves /api/v1/push/... itself and asks gymd first, with a
 * subrequest carrying the subscriber's URI and headers
 * (nchan_authorize_request): a 200 lets the subscriber in, any other answer
 * is passed back to it.  The token may come as an access_token query
 * parameter for clients that cannot set headers (GYM_TOKEN_QUERY).
 */
#include <stdio.h>

#include "handlers.h"
#include "hutil.h"

static enum gym_err
allowed(struct gym_resp *resp, const char *channel)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "channel", channel) == NULL) {
		cJSON_Delete(o);
		return GYM_ENOMEM;
	}
	return gym_resp_json(resp, 200, o);
}

/* An order's channel: its parent only (another parent's order is unknown). */
enum gym_err
gym_h_push_order(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_order o;
	char channel[64];
	enum gym_err e;

	if ((e = gym_order_get(req->ctx->db, req->user_id, req->args[0], &o)) != GYM_OK)
		return e;
	snprintf(channel, sizeof(channel), "order-%s", o.order_id);
	return allowed(resp, channel);
}

/* A class's channel: public, as its seat count is. */
enum gym_err
gym_h_push_schedule(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_schedule s;
	char channel[64];
	long long id;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &id, GYM_E_SCHEDULE_NOT_FOUND)) != GYM_OK ||
	    (e = gym_schedule_get(req->ctx->db, id, &s)) != GYM_OK)
		return e;
	snprintf(channel, sizeof(channel), "class-%lld", s.id);
	return allowed(resp, channel);
}

/* The console's channel: operators and auditors (the route's flags). */
enum gym_err
gym_h_push_console(struct gym_req *req, struct gym_resp *resp)
{
	(void)req;
	return allowed(resp, "console");
}

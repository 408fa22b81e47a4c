/*
 * wxclient.c: see wxclient.h.
 */
#include <stdio.h>

#include "log.h"
#include "reconcile.h"
#include "wxclient.h"

enum gym_err
gym_wxclient_get(struct gym_ctx *ctx, struct gym_wx_client **out)
{
	enum gym_err e;

	if (ctx->wx == NULL) {
		struct gym_wx_client *wx = NULL;

		if ((e = gym_wx_client_new(ctx->cfg, &wx)) != GYM_OK)
			return e;
		ctx->wx = wx;
	}
	*out = ctx->wx;
	return GYM_OK;
}

void
gym_wxclient_detail(struct gym_ctx *ctx, struct gym_resp *resp)
{
	const struct gym_wx_error *we;

	if (ctx->wx == NULL || (we = gym_wx_last_error(ctx->wx)) == NULL)
		return;
	snprintf(resp->err_detail, sizeof(resp->err_detail), "%s", we->code);
}

void
gym_wxclient_reconcile_one(struct gym_req *req, const char *order_id)
{
	struct gym_wx_client *wx;
	char outcome[32];

	if (gym_wxclient_get(req->ctx, &wx) != GYM_OK ||
	    gym_reconcile_order(req->ctx->db, wx, req->ctx->cfg, order_id, outcome,
	    sizeof(outcome)) != GYM_OK)
		gym_log_infox("could not reconcile order %s with WeChat", order_id);
}

void
gym_wxclient_close(struct gym_req *req, const char *order_id)
{
	struct gym_wx_client *wx;
	enum gym_err e;

	if (gym_wxclient_get(req->ctx, &wx) != GYM_OK)
		return;
	if ((e = gym_wx_close(wx, order_id)) == GYM_ECONFLICT)
		gym_wxclient_reconcile_one(req, order_id);	/* paid meanwhile */
	else if (e != GYM_OK && e != GYM_ENOTFOUND)
		gym_log_warnx("could not close order %s at WeChat: %s (the job retries)",
		    order_id, gym_strerror(e));
}

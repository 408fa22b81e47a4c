/*
 * h_client_config.c: GET /client-config, public: the subscribe-message
 * templates to ask consent for and the hold and order lengths
 * (lib/client_config.c).
 */
#include "client_config.h"
#include "handlers.h"

enum gym_err
gym_h_client_config(struct gym_req *req, struct gym_resp *resp)
{
	cJSON *o;
	enum gym_err rc;

	if ((rc = gym_client_config(req->ctx->cfg, &o)) != GYM_OK)
		return rc;
	return gym_resp_json(resp, 200, o);
}

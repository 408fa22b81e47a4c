/*
 * route.c: which handler answers which method and path.  /v3 routes run
 * inside the APIv3 pipeline (signature check, faults, signed answer).
 */
#include <stdlib.h>
#include <string.h>

#include "api_bill.h"
#include "api_mp.h"
#include "api_pay.h"
#include "api_refund.h"
#include "control.h"
#include "route.h"
#include "util.h"
#include "v3.h"

struct route {
	const char *method, *pattern;
	int v3;			/* 1: signed APIv3, 2: request signed only */
	wxsim_handler *h;
};

static const struct route routes[] = {
	{ "POST", "/v3/pay/transactions/jsapi", 1, wxsim_pay_jsapi },
	{ "POST", "/v3/pay/transactions/native", 1, wxsim_pay_native },
	{ "GET", "/v3/pay/transactions/out-trade-no/*", 1, wxsim_pay_query },
	{ "GET", "/v3/pay/transactions/id/*", 1, wxsim_pay_query_id },
	{ "POST", "/v3/pay/transactions/out-trade-no/*/close", 1, wxsim_pay_close },
	{ "POST", "/v3/refund/domestic/refunds", 1, wxsim_refund_create },
	{ "GET", "/v3/refund/domestic/refunds/*", 1, wxsim_refund_query },
	{ "GET", "/v3/bill/tradebill", 1, wxsim_bill_trade },
	{ "GET", "/v3/bill/fundflowbill", 1, wxsim_bill_fundflow },
	{ "GET", "/v3/billdownload/file", 2, wxsim_bill_download },
	{ "GET", "/sns/jscode2session", 0, wxsim_mp_jscode2session },
	{ "POST", "/cgi-bin/stable_token", 0, wxsim_mp_stable_token },
	{ "POST", "/cgi-bin/message/subscribe/send", 0, wxsim_mp_subscribe_send },
	{ "GET", "/healthz", 0, wxsim_control_healthz },
	{ "GET", "/sim/pay", 0, wxsim_control_pay_page },
	{ "POST", "/sim/pay", 0, wxsim_control_pay },
	{ "POST", "/sim/request-payment", 0, wxsim_control_request_payment },
	{ "GET", "/sim/faults", 0, wxsim_control_faults_get },
	{ "POST", "/sim/faults", 0, wxsim_control_faults_set },
	{ "POST", "/sim/reset", 0, wxsim_control_reset },
	{ "GET", "/sim/clock", 0, wxsim_control_clock_get },
	{ "POST", "/sim/clock", 0, wxsim_control_clock_set },
	{ "GET", "/sim/orders", 0, wxsim_control_orders },
	{ "GET", "/sim/orders/*", 0, wxsim_control_order },
	{ "GET", "/sim/refunds", 0, wxsim_control_refunds },
	{ "GET", "/sim/stats", 0, wxsim_control_stats },
	{ "GET", "/sim/messages", 0, wxsim_control_messages },
	{ "GET", "/sim/notifications", 0, wxsim_control_notifications },
	{ "GET", "/sim/bill-faults", 0, wxsim_bill_faults_get },
	{ "POST", "/sim/bill-faults", 0, wxsim_bill_faults_set },
};

/* Does path match pattern?  With capture set, the '*' segments go to
 * req->params (0 on success, -1 when one does not decode). */
static int
match(const char *pattern, const char *path, struct wxsim_req *req, int capture)
{
	const char *p = pattern, *s = path;
	size_t seg;

	while (*p != '\0' && *s != '\0') {
		if (*p == '*') {
			seg = strcspn(s, "/");
			if (seg == 0)
				return 0;
			if (capture) {
				if (req->nparams == WXSIM_HTTP_MAX_PARAMS ||
				    (req->params[req->nparams] =
				    wxsim_util_pct_decode(s, seg, 0)) == NULL)
					return 0;
				req->nparams++;
			}
			p++;
			s += seg;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

void
wxsim_route_dispatch(struct wxsim *sim, struct wxsim_req *req, struct wxsim_resp *resp)
{
	const struct route *r = NULL;
	int path_known = 0;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, req->path, req, 0))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, req->method) == 0) {
			r = &routes[i];
			break;
		}
	}
	if (r != NULL && !match(r->pattern, req->path, req, 1)) {
		if (strncmp(req->path, "/v3/", 4) == 0)
			wxsim_v3_run(sim, req, resp, NULL);
		else
			wxsim_resp_error(resp, 400, "INVALID_REQUEST", "bad path encoding");
		return;
	}
	if (r != NULL && r->v3 == 2)
		wxsim_v3_run_unsigned(sim, req, resp, r->h);
	else if (r != NULL && r->v3)
		wxsim_v3_run(sim, req, resp, r->h);
	else if (r != NULL)
		r->h(sim, req, resp);
	else if (path_known) {
		wxsim_resp_error(resp, 405, "METHOD_NOT_ALLOWED", "method not allowed");
		if (strncmp(req->path, "/v3/", 4) == 0)
			wxsim_v3_run(sim, req, resp, NULL);
	} else if (strncmp(req->path, "/v3/", 4) == 0)
		wxsim_v3_run(sim, req, resp, NULL);
	else
		wxsim_resp_error(resp, 404, "NOT_FOUND", "no such endpoint");
}

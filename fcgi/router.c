/*
 * router.c: the const route table and path matching.  Patterns are paths
 * under /api/v1 where "{}" matches one non-empty segment, captured into
 * req->args in order.  Unknown path: 404; known path, other method: 405
 * with the allowed methods.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "http.h"

#define KB 1024

static const struct gym_route routes[] = {
	{ "GET", "/healthz", gym_h_healthz, GYM_AUTH_NONE, 0 },
	{ "GET", "/metrics", gym_h_metrics, GYM_AUTH_NONE, 0 },
	{ "POST", "/auth/wx-login", gym_h_login, GYM_AUTH_NONE, 4 * KB },
	{ "GET", "/client-config", gym_h_client_config, GYM_AUTH_NONE, 0 },
	{ "GET", "/course-schedules", gym_h_schedule_list, GYM_AUTH_NONE, 0 },
	{ "GET", "/course-schedules/{}", gym_h_schedule_get, GYM_AUTH_NONE, 0 },
	{ "POST", "/bookings/seat-reserve", gym_h_hold_create, GYM_AUTH_USER | GYM_IDEMPOTENT, 4 * KB },
	{ "DELETE", "/bookings/seat-release", gym_h_hold_release, GYM_AUTH_USER, 4 * KB },
	{ "POST", "/bookings/confirm", gym_h_booking_confirm, GYM_AUTH_USER, 4 * KB },
	{ "POST", "/bookings/waitlist", gym_h_waitlist_join, GYM_AUTH_USER | GYM_IDEMPOTENT, 4 * KB },
	{ "GET", "/bookings/waitlist", gym_h_waitlist_mine, GYM_AUTH_USER, 0 },
	{ "DELETE", "/bookings/waitlist", gym_h_waitlist_leave, GYM_AUTH_USER, 4 * KB },
	{ "POST", "/payment/orders/create", gym_h_order_create, GYM_AUTH_USER | GYM_IDEMPOTENT, 4 * KB },
	{ "GET", "/payment/orders/{}", gym_h_order_get, GYM_AUTH_USER, 0 },
	{ "POST", "/payment/orders/{}/cancel", gym_h_order_cancel, GYM_AUTH_USER, 4 * KB },
	{ "POST", "/payment/wxpay/create", gym_h_wxpay_create, GYM_AUTH_USER | GYM_IDEMPOTENT, 4 * KB },
	{ "GET", "/payment/wxpay/qrcode/{}", gym_h_wxpay_qrcode, GYM_AUTH_USER, 0 },
	{ "POST", "/payment/wxpay/callback", gym_h_notify_payment, GYM_RAW_BODY, 64 * KB },
	{ "POST", "/payment/wxpay/refund-callback", gym_h_notify_refund, GYM_RAW_BODY, 64 * KB },
	{ "GET", "/push/orders/{}", gym_h_push_order, GYM_AUTH_USER | GYM_TOKEN_QUERY, 0 },
	{ "GET", "/push/course-schedules/{}", gym_h_push_schedule, GYM_AUTH_NONE, 0 },
	{ "GET", "/push/console", gym_h_push_console, GYM_AUTH_AUDITOR | GYM_TOKEN_QUERY, 0 },
	{ "POST", "/payment/alipay/notify", gym_h_notify_alipay, GYM_RAW_BODY, 64 * KB },
	{ "POST", "/payment/alipay/callback", gym_h_notify_alipay, GYM_RAW_BODY, 64 * KB },
	{ "POST", "/payment/alipay/create", gym_h_alipay_create, GYM_AUTH_USER | GYM_IDEMPOTENT, 4 * KB },
	{ "GET", "/admin/orders", gym_h_admin_order_list, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/attention", gym_h_admin_attention, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/orders/{}", gym_h_admin_order_get, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/audit-log", gym_h_admin_audit_list, GYM_AUTH_AUDITOR, 0 },
	{ "POST", "/admin/refunds", gym_h_admin_refund_create, GYM_AUTH_OPERATOR | GYM_IDEMPOTENT, 4 * KB },
	{ "GET", "/admin/refunds", gym_h_admin_refund_list, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/refunds/{}", gym_h_admin_refund_get, GYM_AUTH_AUDITOR, 0 },
	{ "POST", "/admin/course-schedules", gym_h_admin_schedule_create, GYM_AUTH_OPERATOR | GYM_IDEMPOTENT, 4 * KB },
	{ "PATCH", "/admin/course-schedules/{}", gym_h_admin_schedule_update, GYM_AUTH_OPERATOR, 4 * KB },
	{ "POST", "/admin/course-schedules/{}/cancel", gym_h_admin_schedule_cancel, GYM_AUTH_OPERATOR, 4 * KB },
	{ "GET", "/admin/course-schedules/{}/roster", gym_h_admin_roster, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/products", gym_h_product_list, GYM_AUTH_NONE, 0 },
	{ "GET", "/admin/products", gym_h_admin_product_list, GYM_AUTH_AUDITOR, 0 },
	{ "POST", "/admin/products", gym_h_admin_product_create, GYM_AUTH_OPERATOR | GYM_IDEMPOTENT, 4 * KB },
	{ "PATCH", "/admin/products/{}", gym_h_admin_product_update, GYM_AUTH_OPERATOR, 4 * KB },
	{ "GET", "/me", gym_h_me, GYM_AUTH_USER, 0 },
	{ "GET", "/payments/history", gym_h_payment_history, GYM_AUTH_USER, 0 },
	{ "POST", "/bookings", gym_h_member_book, GYM_AUTH_USER | GYM_IDEMPOTENT, 4 * KB },
	{ "DELETE", "/bookings/{}", gym_h_member_cancel, GYM_AUTH_USER, 0 },
	{ "GET", "/admin/orders/{}/refund-proposal", gym_h_admin_refund_proposal, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/members", gym_h_admin_member_find, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/members/{}", gym_h_admin_member_get, GYM_AUTH_AUDITOR, 0 },
	{ "POST", "/admin/session", gym_h_admin_session_create, GYM_AUTH_NONE, 4 * KB },
	{ "DELETE", "/admin/session", gym_h_admin_session_delete, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/whoami", gym_h_admin_whoami, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/overview", gym_h_admin_overview, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/reconciliation", gym_h_admin_reconciliation, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/reconciliation/discrepancies", gym_h_admin_discrepancies, GYM_AUTH_AUDITOR, 0 },
	{ "POST", "/admin/reconciliation/discrepancies/{}/resolve", gym_h_admin_discrepancy_resolve, GYM_AUTH_OPERATOR, 4 * KB },
	{ "GET", "/admin/reports/daily", gym_h_admin_report_daily, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/reports/summary", gym_h_admin_report_summary, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/exports/payments", gym_h_admin_export_payments, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/exports/refunds", gym_h_admin_export_refunds, GYM_AUTH_AUDITOR, 0 },
	{ "GET", "/admin/exports/bill", gym_h_admin_export_bill, GYM_AUTH_AUDITOR, 0 },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* 1 when path matches pattern; captures {} segments into req->args. */
static int
match(const char *pattern, const char *path, struct gym_req *req)
{
	int arg = 0;

	while (*pattern != '\0' && *path != '\0') {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= sizeof(req->args[0]) || arg >= GYM_MAX_PATHARGS)
				return 0;
			memcpy(req->args[arg], path, n);
			req->args[arg++][n] = '\0';
			path += n;
			pattern += 2;
		} else if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == '\0' && *path == '\0';
}

const struct gym_route *
gym_route_find(const char *method, const char *path, struct gym_req *req, int *status,
    char *allow, size_t allowsz)
{
	size_t used = 0;
	int known = 0, literal = 0;

	if (allowsz > 0)
		allow[0] = '\0';
	/* A literal pattern that matches the path (POST /payment/orders/create)
	 * wins over a {} capture (GET /payment/orders/{}): the path names that
	 * resource, so another method gets 405, not the capture's handler. */
	for (size_t i = 0; i < NROUTES && !literal; i++)
		literal = strstr(routes[i].pattern, "{}") == NULL &&
		    strcmp(routes[i].pattern, path) == 0;
	for (size_t i = 0; i < NROUTES; i++) {
		if (literal && strstr(routes[i].pattern, "{}") != NULL)
			continue;
		if (!match(routes[i].pattern, path, req))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			req->route = routes[i].pattern;
			return &routes[i];
		}
		known = 1;
		if (used < allowsz)
			used += (size_t)snprintf(allow + used, allowsz - used, "%s%s",
			    used ? ", " : "", routes[i].method);
	}
	*status = known ? 405 : 404;
	return NULL;
}

int
gym_route_index(const struct gym_route *r)
{
	if (r < routes || r >= routes + NROUTES)
		return -1;
	return (int)(r - routes);
}

/*
 * h_admin_audit.c: GET /admin/audit-log, filtered by order_id,
 * action_type and a created_at window, paged newest first.  Operators and
 * auditors; reads are not audited.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "hadmin.h"
#include "hutil.h"

static int
order_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 6 && n <= 32 && strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz_-") == n;
}

enum gym_err
gym_h_admin_audit_list(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_admin_audit_filter f;
	struct gym_audit_entry *rows = NULL;
	char order_id[40], action[72];
	long long next = 0;
	cJSON *items;
	enum gym_err e;
	int n = 0;

	memset(&f, 0, sizeof(f));
	if ((e = gym_h_admin_paging(req, resp, &f.limit, &f.before, &f.from, &f.to)) != GYM_OK)
		return e;
	if (gym_h_query(req, "order_id", order_id, sizeof(order_id))) {
		if (!order_id_valid(order_id))
			return gym_h_bad(resp, "order_id");
		f.order_id = order_id;
	}
	if (gym_h_query(req, "action_type", action, sizeof(action))) {
		if (action[0] == '\0' || strlen(action) > 64)
			return gym_h_bad(resp, "action_type");
		f.action_type = action;
	}
	if ((e = gym_admin_audit_list(req->ctx->db, &f, &rows, &n, &next)) != GYM_OK)
		return e;
	items = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(items, gym_h_audit_json(&rows[i]));
	gym_admin_audit_free(rows, n);
	if ((e = gym_h_name_operators(req->ctx->db, items, "actor_id", "operator",
	    "actor_name")) != GYM_OK) {
		cJSON_Delete(items);
		return e;
	}
	return gym_resp_json(resp, 200, gym_h_admin_page(items, next));
}

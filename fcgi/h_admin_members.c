/*
 * h_admin_members.c: operators find a parent and see what they have (issue
 * 15): GET /admin/members?phone=... or ?name=... (the parents who registered
 * with that phone, found by its search hash, or a child whose name contains
 * that text, among the newest registrations; each with the child and phone
 * of the order that matched, masked for auditors; lib/member_find.c) and
 * GET /admin/members/{user_id} (the
 * membership, credits by lot, upcoming member bookings, the first page of
 * payments and the credit ledger, newest first).  Auditors and operators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "haccount.h"
#include "crypto.h"
#include "hutil.h"
#include "member_find.h"
#include "pii.h"
#include "products.h"
#include "registration.h"

#define MEMBER_NAME_MAX 64		/* bytes of a name searched for */
#define LEDGER_MAX 200
#define HISTORY_SIZE 50

/* The search: ?phone= (11 digits) or ?name= (part of a child's name);
 * exactly one.  GYM_OK with the matches, or GYM_EINVAL naming the field. */
static enum gym_err
find(struct gym_req *req, struct gym_resp *resp, struct gym_member_match *out, int *n)
{
	char phone[64], name[MEMBER_NAME_MAX + 2], index[65], *q = name;
	int by_phone = gym_h_query(req, "phone", phone, sizeof(phone));
	int by_name = gym_h_query(req, "name", name, sizeof(name));
	size_t len;

	*n = 0;
	if (by_phone == by_name)
		return gym_h_bad(resp, by_phone ? "name" : "phone");
	if (by_phone) {
		if (!gym_registration_phone_ok(phone))
			return gym_h_bad(resp, "phone");
		gym_pii_index(&req->ctx->cfg->pii, phone, index);
		return gym_member_find_by_phone(req->ctx->db, index, out, GYM_MEMBER_FIND_MAX, n);
	}
	while (*q == ' ')
		q++;
	while ((len = strlen(q)) > 0 && q[len - 1] == ' ')
		q[len - 1] = '\0';
	if (len == 0 || len > MEMBER_NAME_MAX)
		return gym_h_bad(resp, "name");
	return gym_member_find_by_child(req->ctx->db, &req->ctx->cfg->pii, q, out,
	    GYM_MEMBER_FIND_MAX, n);
}

enum gym_err
gym_h_admin_member_find(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_member_match found[GYM_MEMBER_FIND_MAX];
	struct gym_registration *regs = NULL, m;
	const char *ids[GYM_MEMBER_FIND_MAX];
	int n, opened[GYM_MEMBER_FIND_MAX], auditor = req->operator_role < 2;
	cJSON *o, *a;
	enum gym_err e;

	if ((e = find(req, resp, found, &n)) != GYM_OK)
		return e;
	if ((regs = calloc(GYM_MEMBER_FIND_MAX, sizeof(*regs))) == NULL)
		return GYM_ENOMEM;
	for (int i = 0; i < n; i++)
		ids[i] = found[i].order_id;
	if (n > 0 && (e = gym_registration_get_many(req->ctx->db, &req->ctx->cfg->pii, ids, n,
	    regs, opened)) != GYM_OK)
		goto out;
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "members");
	for (int i = 0; i < n; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddNumberToObject(x, "user_id", (double)found[i].user_id);
		cJSON_AddStringToObject(x, "order_id", found[i].order_id);
		memset(&m, 0, sizeof(m));
		if (opened[i]) {
			gym_registration_mask(&regs[i], &m);
			cJSON_AddStringToObject(x, "child_name", auditor ? m.child_name :
			    regs[i].child_name);
			cJSON_AddStringToObject(x, "parent_phone", auditor ? m.parent_phone :
			    regs[i].parent_phone);
		}
		cJSON_AddItemToArray(a, x);
	}
	e = gym_resp_json(resp, 200, o);
out:
	gym_wipe(regs, GYM_MEMBER_FIND_MAX * sizeof(*regs));
	free(regs);
	return e;
}

static cJSON *
ledger_json(const struct gym_ledger_row *rows, int n)
{
	cJSON *a = cJSON_CreateArray();

	for (int i = 0; i < n; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddNumberToObject(x, "id", (double)rows[i].id);
		cJSON_AddNumberToObject(x, "lot_id", (double)rows[i].lot_id);
		cJSON_AddStringToObject(x, "kind", rows[i].kind);
		cJSON_AddNumberToObject(x, "delta", rows[i].delta);
		if (rows[i].order_id[0] != '\0')
			cJSON_AddStringToObject(x, "order_id", rows[i].order_id);
		if (rows[i].booking_id != 0)
			cJSON_AddNumberToObject(x, "booking_id", (double)rows[i].booking_id);
		if (rows[i].reason[0] != '\0')
			cJSON_AddStringToObject(x, "reason", rows[i].reason);
		gym_h_add_time(x, "created_at", rows[i].created_at);
		gym_h_add_time(x, "lot_expires_at", rows[i].expires_at);
		cJSON_AddItemToArray(a, x);
	}
	return a;
}

enum gym_err
gym_h_admin_member_get(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_account *acc = NULL;
	struct gym_history_item *items = NULL;
	struct gym_ledger_row *rows = NULL;
	long long uid, total;
	int n, nh;
	cJSON *o;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &uid, GYM_ENOTFOUND)) != GYM_OK)
		return e;
	if ((acc = malloc(sizeof(*acc))) == NULL ||
	    (items = calloc(HISTORY_SIZE, sizeof(*items))) == NULL ||
	    (rows = calloc(LEDGER_MAX, sizeof(*rows))) == NULL) {
		e = GYM_ENOMEM;
		goto out;
	}
	if ((e = gym_member_ledger(req->ctx->db, uid, rows, LEDGER_MAX, &n)) != GYM_OK ||
	    (e = gym_account_get(req->ctx->db, uid, acc)) != GYM_OK ||
	    (e = gym_payment_history(req->ctx->db, uid, 1, HISTORY_SIZE, items, &nh, &total)) !=
	    GYM_OK)
		goto out;
	o = gym_h_account_json(acc);
	cJSON_AddNumberToObject(o, "user_id", (double)uid);
	cJSON_AddItemToObject(o, "history", gym_h_history_json(items, nh, total, 1, HISTORY_SIZE));
	cJSON_AddItemToObject(o, "ledger", ledger_json(rows, n));
	e = gym_resp_json(resp, 200, o);
out:
	free(rows);
	free(items);
	free(acc);
	return e;
}

/*
 * h_admin_members.c: operators find a parent and see what they have (issue
 * 15): GET /admin/members?phone=... (the parents who registered a trial with
 * that phone, found by its search hash; names are sealed, so a child's name
 * is found through the order list) and GET /admin/members/{user_id} (the
 * membership, credits by lot, upcoming member bookings, the first page of
 * payments and the credit ledger, newest first).  Auditors and operators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "haccount.h"
#include "hutil.h"
#include "pii.h"
#include "products.h"
#include "registration.h"

#define MEMBERS_MAX 20
#define LEDGER_MAX 200
#define HISTORY_SIZE 50

enum gym_err
gym_h_admin_member_find(struct gym_req *req, struct gym_resp *resp)
{
	long long ids[MEMBERS_MAX];
	char phone[64], index[65];
	cJSON *o, *a;
	int n;
	enum gym_err e;

	if (!gym_h_query(req, "phone", phone, sizeof(phone)) || !gym_registration_phone_ok(phone)) {
		snprintf(resp->err_field, sizeof(resp->err_field), "phone");
		return GYM_EINVAL;
	}
	gym_pii_index(&req->ctx->cfg->pii, phone, index);
	if ((e = gym_member_find_by_phone(req->ctx->db, index, ids, MEMBERS_MAX, &n)) != GYM_OK)
		return e;
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "members");
	for (int i = 0; i < n; i++) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddNumberToObject(m, "user_id", (double)ids[i]);
		cJSON_AddItemToArray(a, m);
	}
	return gym_resp_json(resp, 200, o);
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

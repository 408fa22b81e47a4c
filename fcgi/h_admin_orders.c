/*
 * h_admin_orders.c: GET /admin/orders (filtered, paged, newest first) and
 * GET /admin/orders/{order_id} (the order with its reservation, WeChat
 * transactions, refunds and audit trail).  Operators and auditors; reads
 * are not audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attempts.h"
#include "crypto.h"
#include "handlers.h"
#include "hadmin.h"
#include "recon_report.h"
#include "refunds.h"
#include "registration.h"
#include "hutil.h"


/* GET /admin/orders?phone=...: the orders registered with that phone,
 * found by its search hash (phone_index: 65 bytes). */
static enum gym_err
phone_filter(const struct gym_req *req, struct gym_resp *resp, char *phone_index,
    struct gym_admin_order_filter *f)
{
	char v[64];

	if (!gym_h_query(req, "phone", v, sizeof(v)))
		return GYM_OK;
	if (!gym_registration_phone_ok(v))
		return gym_h_bad(resp, "phone");
	gym_pii_index(&req->ctx->cfg->pii, v, phone_index);
	f->phone_index = phone_index;
	return GYM_OK;
}

static enum gym_err
filters(const struct gym_req *req, struct gym_resp *resp, char *status, size_t len,
    struct gym_admin_order_filter *f)
{
	char v[64];
	enum gym_err e;

	memset(f, 0, sizeof(*f));
	if ((e = gym_h_admin_paging(req, resp, &f->limit, &f->before, &f->from, &f->to)) != GYM_OK)
		return e;
	if (gym_h_query(req, "status", status, len)) {
		enum gym_order_status st;

		if (!gym_order_status_parse(status, &st))
			return gym_h_bad(resp, "status");
		f->status = status;
	}
	if (gym_h_query(req, "course_schedule_id", v, sizeof(v)) &&
	    gym_h_path_id(v, &f->schedule_id, GYM_EINVAL) != GYM_OK)
		return gym_h_bad(resp, "course_schedule_id");
	if (gym_h_query(req, "product_id", v, sizeof(v)) &&
	    gym_h_path_id(v, &f->product_id, GYM_EINVAL) != GYM_OK)
		return gym_h_bad(resp, "product_id");
	return GYM_OK;
}

/* A list row's registration: the child's name (masked for auditors) and
 * the masked phone; null for an order from before registrations. */
static void
add_list_registration(cJSON *o, const struct gym_registration *r, int found, int auditor)
{
	struct gym_registration m;

	if (!found) {
		cJSON_AddNullToObject(o, "child_name");
		cJSON_AddNullToObject(o, "parent_phone_masked");
		return;
	}
	gym_registration_mask(r, &m);
	cJSON_AddStringToObject(o, "child_name", auditor ? m.child_name : r->child_name);
	cJSON_AddStringToObject(o, "parent_phone_masked", m.parent_phone);
}

/* GET /admin/orders?q=...: what a parent reads out (issue 19): a phone
 * (11 digits), a payment's transaction id (16-32 digits: WeChat's 4200...),
 * an order id (GYM...), else part of a child's name.  *names receives the
 * malloc'd order list of a name search (the caller frees it). */
static enum gym_err
search_filter(const struct gym_req *req, struct gym_resp *resp, char *q, size_t qlen,
    char *phone_index, struct gym_admin_order_filter *f, char **names)
{
	size_t n, digits;

	*names = NULL;
	if (!gym_h_query(req, "q", q, qlen))
		return GYM_OK;
	/* trim spaces a copy and paste brings */
	while (*q == ' ')
		memmove(q, q + 1, strlen(q));
	while ((n = strlen(q)) > 0 && q[n - 1] == ' ')
		q[n - 1] = '\0';
	if ((n = strlen(q)) == 0)
		return GYM_OK;
	if (n > 64)
		return gym_h_bad(resp, "q");
	digits = strspn(q, "0123456789");
	if (digits == n && gym_registration_phone_ok(q)) {
		gym_pii_index(&req->ctx->cfg->pii, q, phone_index);
		f->phone_index = phone_index;
	} else if (digits == n && n >= 16 && n <= 32) {
		f->transaction_id = q;
	} else if (n >= 6 && n <= 32 && strncmp(q, "GYM", 3) == 0 && strspn(q,
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") == n) {
		f->order_id = q;
	} else {
		enum gym_err e = gym_admin_child_name_orders(req->ctx->db, &req->ctx->cfg->pii, q,
		    names);

		if (e != GYM_OK)
			return e;
		f->order_ids = *names;
	}
	return GYM_OK;
}

/* Orders, or (attention) the needs-attention queue, with the same filters. */
/* The needs-attention queue's other half: the open bill discrepancies
 * (count, and the newest ATTENTION_DISCREPANCIES with what to do), as
 * "discrepancies" in page. */
#define ATTENTION_DISCREPANCIES 50
static enum gym_err
add_discrepancies(struct gym_db *db, cJSON *page)
{
	char *json = NULL;
	cJSON *d;
	enum gym_err e;

	if ((e = gym_recon_open_json(db, ATTENTION_DISCREPANCIES, &json)) != GYM_OK)
		return e;
	d = cJSON_Parse(json);
	free(json);
	if (d == NULL)
		return GYM_EINTERNAL;
	cJSON_AddItemToObject(page, "discrepancies", d);
	return GYM_OK;
}

static enum gym_err
order_list(struct gym_req *req, struct gym_resp *resp, int attention)
{
	struct gym_admin_order_filter f;
	struct gym_registration *regs = NULL;
	struct gym_order *orders = NULL;
	const char **ids = NULL;
	char status[16], phone_index[65], q[80], qphone[65], *names = NULL;
	long long next = 0;
	cJSON *items, *page;
	enum gym_err e;
	int n = 0, *found = NULL;

	if ((e = filters(req, resp, status, sizeof(status), &f)) != GYM_OK ||
	    (e = phone_filter(req, resp, phone_index, &f)) != GYM_OK ||
	    (e = search_filter(req, resp, q, sizeof(q), qphone, &f, &names)) != GYM_OK)
		return e;
	f.attention = attention;
	e = GYM_ENOMEM;
	if ((orders = calloc((size_t)f.limit, sizeof(*orders))) == NULL ||
	    (regs = calloc((size_t)f.limit, sizeof(*regs))) == NULL ||
	    (ids = calloc((size_t)f.limit, sizeof(*ids))) == NULL ||
	    (found = calloc((size_t)f.limit, sizeof(*found))) == NULL)
		goto out;
	if ((e = gym_admin_order_list(req->ctx->db, &f, orders, &n, &next)) != GYM_OK)
		goto out;
	for (int i = 0; i < n; i++)
		ids[i] = orders[i].order_id;
	if ((e = gym_registration_get_many(req->ctx->db, &req->ctx->cfg->pii, ids, n, regs,
	    found)) != GYM_OK)
		goto out;
	items = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		cJSON *o = gym_h_admin_order_json(&orders[i]);

		add_list_registration(o, &regs[i], found[i], req->operator_role < 2);
		cJSON_AddItemToArray(items, o);
	}
	if ((e = gym_h_name_classes(req->ctx->db, items)) != GYM_OK) {
		cJSON_Delete(items);
		goto out;
	}
	page = gym_h_admin_page(items, next);
	if (attention && page != NULL && (e = add_discrepancies(req->ctx->db, page)) != GYM_OK) {
		cJSON_Delete(page);
		goto out;
	}
	e = gym_resp_json(resp, 200, page);
out:
	if (regs != NULL)
		gym_wipe(regs, (size_t)f.limit * sizeof(*regs));
	free(regs);
	free(found);
	free(ids);
	free(orders);
	free(names);
	return e;
}

enum gym_err
gym_h_admin_order_list(struct gym_req *req, struct gym_resp *resp)
{
	return order_list(req, resp, 0);
}

/* The needs-attention queue: paid orders whose money must go back without a
 * seat (attention_reason), waiting for an operator's refund. */
enum gym_err
gym_h_admin_attention(struct gym_req *req, struct gym_resp *resp)
{
	return order_list(req, resp, 1);
}

static cJSON *
txn_json(const struct gym_txn *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "transaction_id", t->transaction_id);
	cJSON_AddStringToObject(o, "trade_state", t->trade_state);
	if (t->trade_type[0] != '\0')
		cJSON_AddStringToObject(o, "trade_type", t->trade_type);
	cJSON_AddNumberToObject(o, "amount_fen", t->amount_fen);
	if (t->has_payer_total)
		cJSON_AddNumberToObject(o, "payer_total", t->payer_total);
	if (t->success_time != 0)
		gym_h_add_time(o, "success_time", t->success_time);
	cJSON_AddStringToObject(o, "source", t->source);
	cJSON_AddStringToObject(o, "outcome", t->outcome);
	gym_h_add_time(o, "created_at", t->created_at);
	return o;
}

/* The order's refunds (all of them: a handful at most). */
static enum gym_err
add_refunds(struct gym_db *db, const char *order_id, cJSON *a)
{
	struct gym_refund_filter f = { NULL, order_id, 0, 0, 0, 20 };
	struct gym_refund *r;
	long long next = 0;
	enum gym_err e;
	int n = 0;

	if ((r = calloc((size_t)f.limit, sizeof(*r))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_refund_list(db, &f, r, &n, &next)) == GYM_OK)
		for (int i = n - 1; i >= 0; i--)	/* oldest first */
			cJSON_AddItemToArray(a, gym_h_refund_json(&r[i]));
	free(r);
	return e;
}

/* The order's payment attempts, oldest first: channel, trade type, state
 * and the channel's error for a failed one. */
static enum gym_err
add_attempts(struct gym_db *db, const char *order_id, cJSON *a)
{
	struct gym_attempt t[16];
	enum gym_err e;
	int n = 0;

	if ((e = gym_attempt_list(db, order_id, t, 16, &n)) != GYM_OK)
		return e;
	for (int i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "out_trade_no", t[i].out_trade_no);
		cJSON_AddStringToObject(o, "channel", t[i].channel);
		cJSON_AddStringToObject(o, "trade_type", t[i].trade_type);
		cJSON_AddStringToObject(o, "state", t[i].state);
		if (t[i].transaction_id[0] != '\0')
			cJSON_AddStringToObject(o, "transaction_id", t[i].transaction_id);
		if (t[i].error_code[0] != '\0')
			cJSON_AddStringToObject(o, "error_code", t[i].error_code);
		if (t[i].error_message[0] != '\0')
			cJSON_AddStringToObject(o, "error_message", t[i].error_message);
		gym_h_add_time(o, "created_at", t[i].created_at);
		if (t[i].ended_at != 0)
			gym_h_add_time(o, "ended_at", t[i].ended_at);
		cJSON_AddItemToArray(a, o);
	}
	return GYM_OK;
}

/* The order's registration in full for operators, masked for auditors
 * (no note); null for an order from before registrations. */
static enum gym_err
add_registration(const struct gym_req *req, const char *order_id, cJSON *o)
{
	struct gym_registration r, m;
	cJSON *j;
	enum gym_err e;
	int found = 0, age;

	if ((e = gym_registration_get(req->ctx->db, &req->ctx->cfg->pii, order_id, &r,
	    &found)) != GYM_OK || !found) {
		cJSON_AddNullToObject(o, "registration");
		return e;
	}
	age = gym_registration_age(r.child_birth_date);
	if (req->operator_role < 2) {
		gym_registration_mask(&r, &m);
		r = m;
	}
	j = cJSON_AddObjectToObject(o, "registration");
	cJSON_AddStringToObject(j, "child_name", r.child_name);
	cJSON_AddStringToObject(j, "child_birth_date", r.child_birth_date);
	if (age >= 0)
		cJSON_AddNumberToObject(j, "child_age", age);
	cJSON_AddStringToObject(j, "parent_phone", r.parent_phone);
	if (req->operator_role >= 2)
		gym_h_str_or_null(j, "note", r.note);
	cJSON_AddBoolToObject(j, "masked", req->operator_role < 2);
	gym_wipe(&r, sizeof(r));
	return GYM_OK;
}

/* The order's class by name, its refunds' and trail's operators by name. */
static enum gym_err
name_order(struct gym_db *db, cJSON *o)
{
	cJSON *one = cJSON_CreateArray();
	enum gym_err e;

	if (one == NULL)
		return GYM_ENOMEM;
	cJSON_AddItemReferenceToArray(one, o);
	e = gym_h_name_classes(db, one);
	cJSON_Delete(one);
	if (e == GYM_OK)
		e = gym_h_name_operators(db, cJSON_GetObjectItemCaseSensitive(o, "refunds"),
		    "operator_id", NULL, "operator_name");
	if (e == GYM_OK)
		e = gym_h_name_operators(db, cJSON_GetObjectItemCaseSensitive(o, "audit"),
		    "actor_id", "operator", "actor_name");
	return e;
}

enum gym_err
gym_h_admin_order_get(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_admin_order ao;
	cJSON *o, *a;
	enum gym_err e;

	if ((e = gym_admin_order_get(req->ctx->db, req->args[0], &ao)) != GYM_OK) {
		gym_admin_order_free(&ao);
		return e;
	}
	o = gym_h_admin_order_json(&ao.order);
	if ((e = add_registration(req, ao.order.order_id, o)) != GYM_OK) {
		gym_admin_order_free(&ao);
		cJSON_Delete(o);
		return e;
	}
	a = cJSON_AddArrayToObject(o, "transactions");
	for (int i = 0; i < ao.ntxns; i++)
		cJSON_AddItemToArray(a, txn_json(&ao.txns[i]));
	a = cJSON_AddArrayToObject(o, "attempts");
	e = add_attempts(req->ctx->db, ao.order.order_id, a);
	a = cJSON_AddArrayToObject(o, "refunds");
	if (e != GYM_OK || (e = add_refunds(req->ctx->db, ao.order.order_id, a)) != GYM_OK) {
		gym_admin_order_free(&ao);
		cJSON_Delete(o);
		return e;
	}
	a = cJSON_AddArrayToObject(o, "audit");
	for (int i = 0; i < ao.naudit; i++)
		cJSON_AddItemToArray(a, gym_h_audit_json(&ao.audit[i]));
	gym_admin_order_free(&ao);
	if ((e = name_order(req->ctx->db, o)) != GYM_OK) {
		cJSON_Delete(o);
		return e;
	}
	return gym_resp_json(resp, 200, o);
}

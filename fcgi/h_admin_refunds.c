/*
 * h_admin_refunds.c: POST /admin/refunds (operators: refund a paid order),
 * GET /admin/refunds (filtered, paged, newest first) and
 * GET /admin/refunds/{refund_id} (operators and auditors).
 *
 * A refund is named by its out_refund_no (the contract's refund_id).  The
 * POST is gym_checkout_refund: it records the refund (one transaction),
 * then asks WeChat outside it; the answer is 202 with the refund as it stands: "processing"
 * until WeChat's notification or the job's query finishes it.  A create
 * call that fails leaves the refund pending with last_error; the job sends
 * it again under the same out_refund_no, so the answer is still 202.  A
 * repeated request (the same operator, order and reason: a retry or a
 * double click) answers the same refund and never makes a second one;
 * Idempotency-Key replays the first answer as everywhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hadmin.h"
#include "hutil.h"
#include "log.h"
#include "operators.h"
#include "refunds.h"


cJSON *
gym_h_refund_json(const struct gym_refund *f)
{
	cJSON *o = cJSON_CreateObject();
	char amount[24];

	gym_price_format(f->amount_fen, amount, sizeof(amount));
	cJSON_AddStringToObject(o, "refund_id", f->out_refund_no);
	cJSON_AddStringToObject(o, "out_refund_no", f->out_refund_no);
	cJSON_AddStringToObject(o, "order_id", f->order_id);
	cJSON_AddStringToObject(o, "status", gym_refund_public_status(f));
	if (f->wx_status[0] != '\0')
		cJSON_AddStringToObject(o, "wx_status", f->wx_status);
	if (f->wx_refund_id[0] != '\0')
		cJSON_AddStringToObject(o, "wx_refund_id", f->wx_refund_id);
	cJSON_AddStringToObject(o, "amount", amount);
	cJSON_AddNumberToObject(o, "amount_fen", f->amount_fen);
	cJSON_AddStringToObject(o, "currency", "CNY");
	cJSON_AddStringToObject(o, "reason", f->reason);
	cJSON_AddStringToObject(o, "initiated_by", f->initiated_by);
	if (f->operator_id != 0)
		cJSON_AddNumberToObject(o, "operator_id", (double)f->operator_id);
	else
		cJSON_AddNullToObject(o, "operator_id");
	if (f->next_action[0] != '\0')
		cJSON_AddStringToObject(o, "next_action", f->next_action);
	if (f->last_error[0] != '\0' && f->status == GYM_REFUND_PENDING)
		cJSON_AddStringToObject(o, "last_error", f->last_error);
	gym_h_add_time(o, "created_at", f->created_at);
	gym_h_add_time(o, "updated_at", f->updated_at);
	if (f->completed_at != 0) {
		gym_h_add_time(o, "completed_at", f->completed_at);
		if (f->status == GYM_REFUND_SUCCESS)
			gym_h_add_time(o, "succeeded_at", f->completed_at);
	}
	return o;
}

/* The body's order_id and reason (borrowed from body), and amount_fen
 * (optional: 0 for the whole of what is left). */
static enum gym_err
parse(const cJSON *body, struct gym_resp *resp, const char **order_id, const char **reason,
    int *amount_fen)
{
	const cJSON *am = cJSON_GetObjectItemCaseSensitive(body, "amount_fen");

	if (gym_json_str(body, "order_id", order_id) != GYM_OK || (*order_id)[0] == '\0')
		return gym_h_bad(resp, "order_id");
	if (gym_json_str(body, "reason", reason) != GYM_OK || (*reason)[0] == '\0')
		return gym_h_bad(resp, "reason");
	*amount_fen = 0;
	if (am != NULL && !cJSON_IsNull(am)) {
		if (!cJSON_IsNumber(am) || am->valuedouble < 1 || am->valuedouble > 10000000 ||
		    am->valuedouble != (double)(int)am->valuedouble)
			return gym_h_bad(resp, "amount_fen");
		*amount_fen = (int)am->valuedouble;
	}
	return GYM_OK;
}

enum gym_err
gym_h_admin_refund_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_refund f;
	struct gym_actor a;
	const char *order_id = NULL, *reason = NULL;
	cJSON *body = NULL;
	char *snap = NULL;
	int created = 0, amount_fen = 0;
	enum gym_err e;

	/* dispatch lets only operators in; this keeps it so on its own */
	if (req->operator_id <= 0 || req->operator_role != GYM_ROLE_OPERATOR)
		return GYM_EFORBIDDEN;
	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = parse(body, resp, &order_id, &reason, &amount_fen)) != GYM_OK)
		goto out;
	gym_h_actor(req, &a, &snap);
	e = gym_checkout_refund_amount(gym_h_pay(req), &a, order_id, reason, amount_fen,
	    req->operator_id, &f, &created);
	if (e == GYM_EINVAL)
		gym_h_bad(resp, amount_fen != 0 ? "amount_fen" : "reason");
out:
	free(snap);
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	gym_log_infox("refund %s of order %s by operator %lld (%s)", f.out_refund_no, f.order_id,
	    req->operator_id, created ? "new" : "repeated");
	return gym_resp_json(resp, 202, gym_h_refund_json(&f));
}

static enum gym_err
filters(const struct gym_req *req, struct gym_resp *resp, char *status, size_t slen,
    char *order_id, size_t olen, struct gym_refund_filter *f)
{
	enum gym_err e;
	size_t n;

	memset(f, 0, sizeof(*f));
	if ((e = gym_h_admin_paging(req, resp, &f->limit, &f->before, &f->from, &f->to)) != GYM_OK)
		return e;
	if (gym_h_query(req, "status", status, slen)) {
		enum gym_refund_status st;

		/* pending is listed as processing (gym_refund_public_status) */
		if (!gym_refund_status_parse(status, &st) || st == GYM_REFUND_PENDING)
			return gym_h_bad(resp, "status");
		f->status = status;
	}
	if (gym_h_query(req, "order_id", order_id, olen)) {
		n = strlen(order_id);
		if (n < 6 || n > 32 || strspn(order_id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz_-") != n)
			return gym_h_bad(resp, "order_id");
		f->order_id = order_id;
	}
	return GYM_OK;
}

enum gym_err
gym_h_admin_refund_list(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_refund_filter f;
	struct gym_refund *rows = NULL;
	char status[16], order_id[40];
	long long next = 0;
	cJSON *items;
	enum gym_err e;
	int n = 0;

	if (req->operator_id <= 0)
		return GYM_EFORBIDDEN;
	if ((e = filters(req, resp, status, sizeof(status), order_id, sizeof(order_id), &f)) !=
	    GYM_OK)
		return e;
	if ((rows = calloc((size_t)f.limit, sizeof(*rows))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_refund_list(req->ctx->db, &f, rows, &n, &next)) != GYM_OK) {
		free(rows);
		return e;
	}
	items = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(items, gym_h_refund_json(&rows[i]));
	free(rows);
	return gym_resp_json(resp, 200, gym_h_admin_page(items, next));
}

enum gym_err
gym_h_admin_refund_get(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_refund f;
	enum gym_err e;

	if (req->operator_id <= 0)
		return GYM_EFORBIDDEN;
	if ((e = gym_refund_get(req->ctx->db, 0, req->args[0], &f)) != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, gym_h_refund_json(&f));
}

/*
 * h_account.c: a parent's own account: GET /me (membership, credits by
 * lot, upcoming member bookings), GET /payments/history?page=&size= and
 * the member bookings POST /bookings and DELETE /bookings/{id}.  The rules
 * are lib's (account.c, member_bookings.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "haccount.h"
#include "hutil.h"
#include "products.h"

static cJSON *
member_booking_json(const struct gym_member_booking *b)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "booking_id", (double)b->id);
	cJSON_AddNumberToObject(o, "course_schedule_id", (double)b->schedule_id);
	cJSON_AddStringToObject(o, "course_name", b->course_name);
	gym_h_add_time(o, "starts_at", b->starts_at);
	cJSON_AddStringToObject(o, "pay_with", b->pay_with);
	cJSON_AddStringToObject(o, "status", b->status);
	if (strcmp(b->pay_with, "credits") == 0)
		cJSON_AddStringToObject(o, "credit", strcmp(b->status, "confirmed") == 0 ?
		    "consumed" : b->credit_returned ? "returned" : "spent");
	gym_h_add_time(o, "confirmed_at", b->confirmed_at);
	if (b->cancelled_at != 0)
		gym_h_add_time(o, "cancelled_at", b->cancelled_at);
	return o;
}

cJSON *
gym_h_account_json(const struct gym_account *acc)
{
	cJSON *o = cJSON_CreateObject(), *m, *c, *lots, *bk;

	if (acc->has_membership) {
		m = cJSON_AddObjectToObject(o, "membership");
		cJSON_AddNumberToObject(m, "product_id", (double)acc->membership.product_id);
		cJSON_AddStringToObject(m, "name", acc->membership.name);
		gym_h_add_time(m, "starts_at", acc->membership.starts_at);
		gym_h_add_time(m, "ends_at", acc->membership.ends_at);
	} else
		cJSON_AddNullToObject(o, "membership");
	c = cJSON_AddObjectToObject(o, "credits");
	cJSON_AddNumberToObject(c, "balance", (double)acc->balance);
	lots = cJSON_AddArrayToObject(c, "lots");
	for (int i = 0; i < acc->nlots; i++) {
		cJSON *l = cJSON_CreateObject();

		cJSON_AddNumberToObject(l, "credits", acc->lots[i].credits);
		gym_h_add_time(l, "expires_at", acc->lots[i].expires_at);
		cJSON_AddItemToArray(lots, l);
	}
	bk = cJSON_AddArrayToObject(o, "bookings");
	for (int i = 0; i < acc->nbookings; i++)
		cJSON_AddItemToArray(bk, member_booking_json(&acc->bookings[i]));
	return o;
}

enum gym_err
gym_h_me(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_account *acc;
	cJSON *o;
	enum gym_err e;

	if ((acc = malloc(sizeof(*acc))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_account_get(req->ctx->db, req->user_id, acc)) != GYM_OK) {
		free(acc);
		return e;
	}
	o = gym_h_account_json(acc);
	free(acc);
	return gym_resp_json(resp, 200, o);
}

/* A query number in [1, max], default def; GYM_EINVAL naming it. */
static enum gym_err
query_int(struct gym_req *req, struct gym_resp *resp, const char *name, int def, int max,
    int *out)
{
	char v[16];
	size_t n;

	*out = def;
	if (!gym_h_query(req, name, v, sizeof(v)))
		return GYM_OK;
	n = strlen(v);
	if (n == 0 || n > 7 || strspn(v, "0123456789") != n || (*out = atoi(v)) < 1 ||
	    *out > max) {
		snprintf(resp->err_field, sizeof(resp->err_field), "%s", name);
		return GYM_EINVAL;
	}
	return GYM_OK;
}

cJSON *
gym_h_history_json(const struct gym_history_item *items, int n, long long total, int page,
    int size)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char amount[24];

	cJSON_AddNumberToObject(o, "total", (double)total);
	cJSON_AddNumberToObject(o, "page", page);
	cJSON_AddNumberToObject(o, "size", size);
	a = cJSON_AddArrayToObject(o, "payments");
	for (int i = 0; i < n; i++) {
		const struct gym_history_item *it = &items[i];
		cJSON *p = cJSON_CreateObject(), *pr, *rf;

		if (it->payment_id != 0)
			cJSON_AddNumberToObject(p, "payment_id", (double)it->payment_id);
		else
			cJSON_AddNullToObject(p, "payment_id");
		cJSON_AddStringToObject(p, "order_id", it->order_id);
		pr = cJSON_AddObjectToObject(p, "product");
		if (it->product_id != 0)
			cJSON_AddNumberToObject(pr, "id", (double)it->product_id);
		else
			cJSON_AddNullToObject(pr, "id");
		cJSON_AddStringToObject(pr, "kind", it->product_kind);
		cJSON_AddStringToObject(pr, "name", it->product_name);
		cJSON_AddNumberToObject(p, "amount_fen", (double)it->amount_fen);
		cJSON_AddStringToObject(p, "amount", gym_price_format(it->amount_fen, amount,
		    sizeof(amount)));
		cJSON_AddStringToObject(p, "channel", it->channel);
		cJSON_AddStringToObject(p, "status", it->status);
		gym_h_add_time(p, "created_at", it->created_at);
		if (it->paid_at != 0)
			gym_h_add_time(p, "paid_at", it->paid_at);
		else
			cJSON_AddNullToObject(p, "paid_at");
		rf = cJSON_AddArrayToObject(p, "refunds");
		for (int j = 0; j < it->nrefunds; j++) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "out_refund_no", it->refunds[j].out_refund_no);
			cJSON_AddNumberToObject(r, "amount_fen", (double)it->refunds[j].amount_fen);
			cJSON_AddStringToObject(r, "status", it->refunds[j].status);
			gym_h_add_time(r, "created_at", it->refunds[j].created_at);
			cJSON_AddItemToArray(rf, r);
		}
		cJSON_AddItemToArray(a, p);
	}
	return o;
}

enum gym_err
gym_h_payment_history(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_history_item *items;
	long long total;
	int page, size, n;
	cJSON *o;
	enum gym_err e;

	if ((e = query_int(req, resp, "page", 1, 1000000, &page)) != GYM_OK ||
	    (e = query_int(req, resp, "size", 20, GYM_HISTORY_MAX_SIZE, &size)) != GYM_OK)
		return e;
	if ((items = calloc((size_t)size, sizeof(*items))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_payment_history(req->ctx->db, req->user_id, page, size, items, &n,
	    &total)) != GYM_OK) {
		free(items);
		return e;
	}
	o = gym_h_history_json(items, n, total, page, size);
	free(items);
	return gym_resp_json(resp, 200, o);
}

enum gym_err
gym_h_member_book(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_member_booking b;
	struct gym_actor a;
	enum gym_member_pay pay;
	cJSON *body = NULL;
	const char *with = NULL;
	char *snap = NULL;
	long long sid;
	enum gym_err e;

	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if ((e = gym_h_id(body, "course_schedule_id", resp, &sid)) == GYM_OK) {
		if (gym_json_str(body, "pay_with", &with) != GYM_OK ||
		    (strcmp(with, "membership") != 0 && strcmp(with, "credits") != 0)) {
			snprintf(resp->err_field, sizeof(resp->err_field), "pay_with");
			e = GYM_EINVAL;
		} else {
			pay = strcmp(with, "membership") == 0 ? GYM_PAY_MEMBERSHIP : GYM_PAY_CREDITS;
			gym_h_actor(req, &a, &snap);
			e = gym_member_book(req->ctx->db, &a, req->user_id, sid, pay, &b);
			free(snap);
			if (e == GYM_EINVAL)	/* a trial class is not booked this way */
				snprintf(resp->err_field, sizeof(resp->err_field),
				    "course_schedule_id");
		}
	}
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, 201, member_booking_json(&b));
}

enum gym_err
gym_h_member_cancel(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_member_booking b;
	struct gym_actor a;
	char *snap = NULL;
	long long id;
	enum gym_err e;

	if ((e = gym_h_path_id(req->args[0], &id, GYM_ENOTFOUND)) != GYM_OK)
		return e;
	gym_h_actor(req, &a, &snap);
	e = gym_member_cancel(req->ctx->db, &a, req->user_id, id,
	    req->ctx->cfg->member_cancel_cutoff_minutes * 60, &b);
	free(snap);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, member_booking_json(&b));
}

/*
 * hutil.c: shared handler helpers (see hutil.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hutil.h"
#include "json.h"
#include "price.h"

enum gym_err
gym_h_body(const struct gym_req *req, struct gym_resp *resp, int allow_empty, cJSON **out)
{
	if (req->body_len == 0 && allow_empty) {
		*out = cJSON_CreateObject();
		return *out ? GYM_OK : GYM_ENOMEM;
	}
	if ((*out = gym_json_object(req->body, req->body_len)) == NULL) {
		snprintf(resp->err_field, sizeof(resp->err_field), "body");
		return GYM_EINVAL;
	}
	return GYM_OK;
}

enum gym_err
gym_h_bad(struct gym_resp *resp, const char *field)
{
	snprintf(resp->err_field, sizeof(resp->err_field), "%s", field);
	return GYM_EINVAL;
}

int
gym_h_wants_csv(const struct gym_req *req)
{
	char fmt[8];

	if (gym_h_query(req, "format", fmt, sizeof(fmt)))
		return strcmp(fmt, "csv") == 0;
	return req->accept != NULL && strstr(req->accept, "text/csv") != NULL;
}

enum gym_err
gym_h_id(const cJSON *obj, const char *name, struct gym_resp *resp, long long *out)
{
	if (gym_json_id(obj, name, out) != GYM_OK) {
		snprintf(resp->err_field, sizeof(resp->err_field), "%s", name);
		return GYM_EINVAL;
	}
	return GYM_OK;
}

enum gym_err
gym_h_path_id(const char *s, long long *out, enum gym_err notfound)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 15 || strspn(s, "0123456789") != n || (*out = atoll(s)) < 1)
		return notfound;
	return GYM_OK;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int
gym_h_query(const struct gym_req *req, const char *name, char *out, size_t len)
{
	const char *q = req->query;
	size_t nl = strlen(name);

	while (q != NULL && *q != '\0') {
		size_t seg = strcspn(q, "&");

		if (seg > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
			size_t o = 0;

			for (const char *v = q + nl + 1; v < q + seg && o + 1 < len; v++) {
				if (*v == '%' && v + 2 < q + seg + 0 + 1 && isxdigit((unsigned char)v[1]) &&
				    isxdigit((unsigned char)v[2])) {
					out[o++] = (char)(hexval((unsigned char)v[1]) * 16 +
					    hexval((unsigned char)v[2]));
					v += 2;
				} else
					out[o++] = *v == '+' ? ' ' : *v;
			}
			out[o] = '\0';
			return 1;
		}
		q += seg + (q[seg] == '&');
	}
	return 0;
}

void
gym_h_actor(const struct gym_req *req, struct gym_actor *a, char **snapshot)
{
	*snapshot = req->body_len ? gym_json_mask(req->body) : NULL;
	a->type = req->operator_id ? "operator" : req->user_id ? "user" : "system";
	a->id = req->operator_id ? req->operator_id : req->user_id;
	a->client_ip = req->client_ip;
	a->user_agent = req->user_agent;
	a->request_id = req->request_id;
	a->request_snapshot = *snapshot;
}

void
gym_h_add_time(cJSON *o, const char *name, int64_t us)
{
	char t[40];

	gym_time_format(us, t, sizeof(t));
	cJSON_AddStringToObject(o, name, t);
}

cJSON *
gym_h_schedule_json(const struct gym_schedule *s)
{
	cJSON *o = cJSON_CreateObject();
	char price[24];

	cJSON_AddNumberToObject(o, "id", (double)s->id);
	cJSON_AddStringToObject(o, "course_name", s->course_name);
	gym_h_add_time(o, "starts_at", s->starts_at);
	gym_h_add_time(o, "ends_at", s->ends_at);
	cJSON_AddNumberToObject(o, "capacity", s->capacity);
	cJSON_AddNumberToObject(o, "available", s->available);
	cJSON_AddStringToObject(o, "kind", s->kind[0] != '\0' ? s->kind : "trial");
	cJSON_AddNumberToObject(o, "price_fen", GYM_PRICE_FEN);
	cJSON_AddStringToObject(o, "price", gym_price_format(GYM_PRICE_FEN, price, sizeof(price)));
	if (s->cancelled_at != 0) {
		gym_h_add_time(o, "cancelled_at", s->cancelled_at);
		cJSON_AddStringToObject(o, "cancel_reason", s->cancel_reason);
	}
	return o;
}

#define ALTERNATIVES_MAX 3

void
gym_h_alternatives(struct gym_req *req, struct gym_resp *resp, long long schedule_id)
{
	struct gym_schedule s[ALTERNATIVES_MAX];
	cJSON *a;
	char *text;
	int n = 0;

	resp->err_alternatives[0] = '\0';
	if (gym_schedule_alternatives(req->ctx->db, schedule_id, s, ALTERNATIVES_MAX, &n) != GYM_OK)
		return;		/* the answer is still SOLD_OUT, with an empty list */
	/* fewer when the names are too long for the answer's room */
	for (; n > 0; n--) {
		if ((a = cJSON_CreateArray()) == NULL)
			return;
		for (int i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddNumberToObject(o, "id", (double)s[i].id);
			cJSON_AddStringToObject(o, "course_name", s[i].course_name);
			gym_h_add_time(o, "starts_at", s[i].starts_at);
			cJSON_AddNumberToObject(o, "available", s[i].available);
			cJSON_AddItemToArray(a, o);
		}
		text = cJSON_PrintUnformatted(a);
		cJSON_Delete(a);
		if (text != NULL && strlen(text) < sizeof(resp->err_alternatives)) {
			memcpy(resp->err_alternatives, text, strlen(text) + 1);
			free(text);
			return;
		}
		free(text);
	}
}

cJSON *
gym_h_reservation_json(const struct gym_reservation *r)
{
	cJSON *o = cJSON_CreateObject();
	enum gym_hold_status st = r->status;

	/* a lapsed hold is expired from the moment it lapses */
	if (st == GYM_HOLD_TEMPORARY && r->expires_at <= gym_now_us())
		st = GYM_HOLD_EXPIRED;
	cJSON_AddNumberToObject(o, "reservation_id", (double)r->id);
	cJSON_AddNumberToObject(o, "course_schedule_id", (double)r->schedule_id);
	cJSON_AddStringToObject(o, "status", gym_hold_status_name(st));
	gym_h_add_time(o, "expires_at", r->expires_at);
	return o;
}

cJSON *
gym_h_order_json(const struct gym_order *ord)
{
	cJSON *o = cJSON_CreateObject();
	char amount[24];

	cJSON_AddStringToObject(o, "order_id", ord->order_id);
	cJSON_AddStringToObject(o, "status", gym_order_status_name(ord->status));
	cJSON_AddStringToObject(o, "amount", gym_price_format(ord->amount_fen, amount, sizeof(amount)));
	cJSON_AddNumberToObject(o, "amount_fen", ord->amount_fen);
	cJSON_AddStringToObject(o, "currency", "CNY");
	cJSON_AddStringToObject(o, "payment_method", ord->payment_method[0] != '\0' ?
	    ord->payment_method : "wechat");
	if (ord->schedule_id != 0)
		cJSON_AddNumberToObject(o, "course_schedule_id", (double)ord->schedule_id);
	else
		cJSON_AddNullToObject(o, "course_schedule_id");
	if (ord->product_id != 0)
		cJSON_AddNumberToObject(o, "product_id", (double)ord->product_id);
	if (ord->has_reservation)
		cJSON_AddItemToObject(o, "reservation", gym_h_reservation_json(&ord->res));
	else
		cJSON_AddNullToObject(o, "reservation");
	gym_h_add_time(o, "expires_at", ord->expires_at);
	if (ord->paid_at)
		gym_h_add_time(o, "paid_at", ord->paid_at);
	if (ord->booking_id)
		cJSON_AddNumberToObject(o, "booking_id", (double)ord->booking_id);
	return o;
}

cJSON *
gym_h_booking_json(const struct gym_booking *b)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "booking_id", (double)b->id);
	cJSON_AddStringToObject(o, "order_id", b->order_id);
	cJSON_AddNumberToObject(o, "course_schedule_id", (double)b->schedule_id);
	cJSON_AddStringToObject(o, "status", gym_booking_status_name(b->status));
	gym_h_add_time(o, "confirmed_at", b->confirmed_at);
	return o;
}

struct gym_pay *
gym_h_pay(struct gym_req *req)
{
	struct gym_pay *pay = &req->ctx->pay;

	pay->db = req->ctx->db;
	pay->cfg = req->ctx->cfg;
	return pay;
}

enum gym_err
gym_h_upstream(const struct gym_pay *pay, struct gym_resp *resp, enum gym_err e)
{
	if ((e == GYM_EUPSTREAM || e == GYM_ETIMEOUT) && pay->upstream[0] != '\0')
		snprintf(resp->err_detail, sizeof(resp->err_detail), "%s", pay->upstream);
	return e;
}

/*
 * h_products.c: GET /products (the active catalogue), and the operators'
 * POST /admin/products and PATCH /admin/products/{id} (products.c keeps the
 * rules and writes the audit rows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "hutil.h"
#include "products.h"

#define PRODUCTS_MAX 200

static cJSON *
product_json(const struct gym_product *p)
{
	cJSON *o = cJSON_CreateObject();
	char price[24];

	cJSON_AddNumberToObject(o, "id", (double)p->id);
	cJSON_AddStringToObject(o, "kind", gym_product_kind_name(p->kind));
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddNumberToObject(o, "price_fen", (double)p->price_fen);
	cJSON_AddStringToObject(o, "price", gym_price_format(p->price_fen, price, sizeof(price)));
	if (p->days > 0)
		cJSON_AddNumberToObject(o, "days", p->days);
	else
		cJSON_AddNullToObject(o, "days");
	if (p->credits > 0)
		cJSON_AddNumberToObject(o, "credits", p->credits);
	else
		cJSON_AddNullToObject(o, "credits");
	cJSON_AddBoolToObject(o, "active", p->active);
	return o;
}

static enum gym_err
list(struct gym_req *req, struct gym_resp *resp, int all)
{
	struct gym_product *ps;
	cJSON *o, *a;
	int n;
	enum gym_err e;

	if ((ps = calloc(PRODUCTS_MAX, sizeof(*ps))) == NULL)
		return GYM_ENOMEM;
	if ((e = gym_product_list(req->ctx->db, all, ps, PRODUCTS_MAX, &n)) == GYM_OK) {
		o = cJSON_CreateObject();
		a = cJSON_AddArrayToObject(o, "products");
		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(a, product_json(&ps[i]));
		e = gym_resp_json(resp, 200, o);
	}
	free(ps);
	return e;
}

enum gym_err
gym_h_product_list(struct gym_req *req, struct gym_resp *resp)
{
	return list(req, resp, 0);
}

enum gym_err
gym_h_admin_product_list(struct gym_req *req, struct gym_resp *resp)
{
	return list(req, resp, 1);
}

/* A whole positive number member no larger than max into *out; absent: 0. */
static enum gym_err
count_member(const cJSON *body, const char *name, long long max, struct gym_resp *resp,
    long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);

	*out = 0;
	if (v == NULL)
		return GYM_OK;
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > (double)max ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return gym_h_bad(resp, name);
	*out = (long long)v->valuedouble;
	return GYM_OK;
}

static enum gym_err
name_member(const cJSON *body, struct gym_resp *resp, const char **name)
{
	size_t chars = 0;

	*name = NULL;
	if (cJSON_GetObjectItemCaseSensitive(body, "name") == NULL)
		return GYM_OK;
	if (gym_json_str(body, "name", name) != GYM_OK || (*name)[0] == '\0' ||
	    strlen(*name) >= sizeof(((struct gym_product *)0)->name))
		return gym_h_bad(resp, "name");
	for (const char *s = *name; *s != '\0'; s++)
		chars += ((unsigned char)*s & 0xc0) != 0x80;
	return chars <= 100 ? GYM_OK : gym_h_bad(resp, "name");
}

enum gym_err
gym_h_admin_product_create(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_product p;
	struct gym_actor a;
	cJSON *body = NULL;
	const char *kind = NULL, *name = NULL;
	char *snap = NULL;
	long long price, days, credits;
	enum gym_err e;

	memset(&p, 0, sizeof(p));
	if ((e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	if (gym_json_str(body, "kind", &kind) != GYM_OK || !gym_product_kind_parse(kind, &p.kind) ||
	    p.kind == GYM_PRODUCT_TRIAL)
		e = gym_h_bad(resp, "kind");
	else if ((e = name_member(body, resp, &name)) == GYM_OK && name == NULL)
		e = gym_h_bad(resp, "name");
	if (e == GYM_OK && (e = count_member(body, "price_fen", 10000000, resp, &price)) == GYM_OK &&
	    price == 0)
		e = gym_h_bad(resp, "price_fen");
	if (e == GYM_OK && (e = count_member(body, "days", 3660, resp, &days)) == GYM_OK &&
	    days == 0)
		e = gym_h_bad(resp, "days");
	if (e == GYM_OK && (e = count_member(body, "credits", 1000, resp, &credits)) == GYM_OK &&
	    (p.kind == GYM_PRODUCT_CLASS_PACK) != (credits > 0))
		e = gym_h_bad(resp, "credits");
	if (e == GYM_OK) {
		snprintf(p.name, sizeof(p.name), "%s", name);
		p.price_fen = price;
		p.days = (int)days;
		p.credits = (int)credits;
		gym_h_actor(req, &a, &snap);
		e = gym_product_create(req->ctx->db, &a, &p);
		free(snap);
	}
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, 201, product_json(&p));
}

enum gym_err
gym_h_admin_product_update(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_product_change c;
	struct gym_product p;
	struct gym_actor a;
	const cJSON *act;
	cJSON *body = NULL;
	char *snap = NULL;
	long long id, price, days, credits;
	enum gym_err e;

	memset(&c, 0, sizeof(c));
	c.active = -1;
	if ((e = gym_h_path_id(req->args[0], &id, GYM_E_PRODUCT_UNAVAILABLE)) != GYM_OK ||
	    (e = gym_h_body(req, resp, 0, &body)) != GYM_OK)
		return e;
	act = cJSON_GetObjectItemCaseSensitive(body, "active");
	if ((e = name_member(body, resp, &c.name)) == GYM_OK &&
	    (e = count_member(body, "price_fen", 10000000, resp, &price)) == GYM_OK &&
	    (e = count_member(body, "days", 3660, resp, &days)) == GYM_OK &&
	    (e = count_member(body, "credits", 1000, resp, &credits)) == GYM_OK) {
		c.price_fen = price;
		c.days = (int)days;
		c.credits = (int)credits;
		if (act != NULL && !cJSON_IsBool(act))
			e = gym_h_bad(resp, "active");
		else if (act != NULL)
			c.active = cJSON_IsTrue(act);
		if (e == GYM_OK && c.name == NULL && !price && !days && !credits && act == NULL)
			e = gym_h_bad(resp, "body");
	}
	if (e == GYM_OK) {
		gym_h_actor(req, &a, &snap);
		e = gym_product_update(req->ctx->db, &a, id, &c, &p);
		free(snap);
	}
	cJSON_Delete(body);
	if (e != GYM_OK)
		return e;
	return gym_resp_json(resp, 200, product_json(&p));
}

/* GET /admin/orders/{id}/refund-proposal: what the unused share of a
 * membership or class pack order is worth now (the console's proposal). */
enum gym_err
gym_h_admin_refund_proposal(struct gym_req *req, struct gym_resp *resp)
{
	char amount[24];
	long long fen;
	cJSON *o;
	enum gym_err e;

	if ((e = gym_product_refund_proposal(req->ctx->db, req->args[0], &fen)) != GYM_OK)
		return e;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "order_id", req->args[0]);
	cJSON_AddNumberToObject(o, "amount_fen", (double)fen);
	cJSON_AddStringToObject(o, "amount", gym_price_format(fen, amount, sizeof(amount)));
	return gym_resp_json(resp, 200, o);
}

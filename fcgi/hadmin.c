/*
 * hadmin.c: shared helpers of the operators' handlers (see hadmin.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hadmin.h"
#include "hutil.h"

/* A positive decimal of at most 15 digits; -1 otherwise. */
static long long
positive(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strspn(s, "0123456789") != n || atoll(s) < 1)
		return -1;
	return atoll(s);
}

enum gym_err
gym_h_admin_paging(const struct gym_req *req, struct gym_resp *resp, int *limit,
    long long *before, int64_t *from, int64_t *to)
{
	char v[64];
	long long n;

	*limit = GYM_ADMIN_LIMIT_DEFAULT;
	*before = 0;
	*from = *to = 0;
	if (gym_h_query(req, "limit", v, sizeof(v))) {
		if ((n = positive(v)) < 1 || n > GYM_ADMIN_LIMIT_MAX)
			return gym_h_bad(resp, "limit");
		*limit = (int)n;
	}
	if (gym_h_query(req, "cursor", v, sizeof(v)) && (*before = positive(v)) < 1)
		return gym_h_bad(resp, "cursor");
	if (gym_h_query(req, "from", v, sizeof(v)) && gym_time_parse(v, from) == -1)
		return gym_h_bad(resp, "from");
	if (gym_h_query(req, "to", v, sizeof(v)) && gym_time_parse(v, to) == -1)
		return gym_h_bad(resp, "to");
	return GYM_OK;
}

cJSON *
gym_h_admin_page(cJSON *items, long long next)
{
	cJSON *o = cJSON_CreateObject();
	char c[24];

	cJSON_AddItemToObject(o, "items", items);
	if (next != 0) {
		snprintf(c, sizeof(c), "%lld", next);
		cJSON_AddStringToObject(o, "next_cursor", c);
	} else
		cJSON_AddNullToObject(o, "next_cursor");
	return o;
}

cJSON *
gym_h_admin_order_json(const struct gym_order *ord)
{
	cJSON *o = gym_h_order_json(ord);

	cJSON_AddNumberToObject(o, "user_id", (double)ord->user_id);
	gym_h_add_time(o, "created_at", ord->created_at);
	gym_h_str_or_null(o, "attention_reason", ord->attention_reason);
	return o;
}

void
gym_h_str_or_null(cJSON *o, const char *name, const char *v)
{
	if (v != NULL && *v != '\0')
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

static void
id_or_null(cJSON *o, const char *name, long long v)
{
	if (v != 0)
		cJSON_AddNumberToObject(o, name, (double)v);
	else
		cJSON_AddNullToObject(o, name);
}

cJSON *
gym_h_audit_json(const struct gym_audit_entry *a)
{
	cJSON *o = cJSON_CreateObject(), *snap;

	cJSON_AddNumberToObject(o, "id", (double)a->id);
	cJSON_AddStringToObject(o, "entity", a->entity);
	cJSON_AddStringToObject(o, "action_type", a->action_type);
	gym_h_str_or_null(o, "order_id", a->order_id);
	id_or_null(o, "reservation_id", a->reservation_id);
	id_or_null(o, "booking_id", a->booking_id);
	cJSON_AddStringToObject(o, "actor_type", a->actor_type);
	gym_h_str_or_null(o, "actor_id", a->actor_id);
	gym_h_str_or_null(o, "client_ip", a->client_ip);
	gym_h_str_or_null(o, "request_id", a->request_id);
	gym_h_str_or_null(o, "old_status", a->old_status);
	gym_h_str_or_null(o, "new_status", a->new_status);
	/* stored masked (audit.c); stored as jsonb, so it parses */
	if (a->request_snapshot != NULL && (snap = cJSON_Parse(a->request_snapshot)) != NULL)
		cJSON_AddItemToObject(o, "request_snapshot", snap);
	else
		cJSON_AddNullToObject(o, "request_snapshot");
	gym_h_add_time(o, "created_at", a->created_at);
	return o;
}

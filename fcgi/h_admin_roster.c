/*
 * h_admin_roster.c: GET /admin/course-schedules/{id}/roster, who comes to a
 * class: each order that holds or held a seat with the child's name and
 * age, the parent's masked phone, the order's status and when it was paid;
 * for a regular class, each member booking with the same details of the
 * child, how it was paid for (membership or credits) and its status.
 * JSON, or CSV with `Accept: text/csv` (or ?format=csv) for a spreadsheet:
 * UTF-8 with a byte-order mark (Excel), every field quoted (RFC 4180), and
 * a field that a spreadsheet would run as a formula (= + - @ first) kept
 * as text with a leading '.  Auditors see the child's name masked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "csv.h"
#include "handlers.h"
#include "hadmin.h"
#include "hutil.h"
#include "registration.h"

/* rows: a class's seats twice over (refunded orders free their seats for
 * others), within ROSTER_MAX */
#define ROSTER_MAX 20000

/* One line of the roster, from an order (trial class) or a member booking
 * (regular class). */
struct row {
	char id[40];		/* the order id, or the booking id */
	char reg[40];		/* the order whose registration names the child */
	char status[16];
	char pay_with[12];	/* member bookings: membership | credits */
	int64_t at;		/* paid (order) or booked (member booking); 0: not */
	int64_t cancelled_at;	/* member bookings */
};

/* The class's rows into rows[max]: *n of them. */
static enum gym_err
load_rows(struct gym_db *db, long long id, int members, struct row *rows, size_t max, int *n)
{
	struct gym_member_roster_row *mb = NULL;
	struct gym_order *orders = NULL;
	enum gym_err e = GYM_ENOMEM;

	if (members ? (mb = calloc(max, sizeof(*mb))) == NULL :
	    (orders = calloc(max, sizeof(*orders))) == NULL)
		goto out;
	e = members ? gym_schedule_member_roster(db, id, mb, (int)max, n) :
	    gym_schedule_roster(db, id, orders, (int)max, n);
	for (int i = 0; e == GYM_OK && i < *n; i++) {
		struct row *x = &rows[i];

		if (members) {
			snprintf(x->id, sizeof(x->id), "%lld", mb[i].booking_id);
			gym_strcopy(x->reg, sizeof(x->reg), mb[i].reg_order_id);
			gym_strcopy(x->status, sizeof(x->status), mb[i].status);
			gym_strcopy(x->pay_with, sizeof(x->pay_with), mb[i].pay_with);
			x->at = mb[i].booked_at;
			x->cancelled_at = mb[i].cancelled_at;
		} else {
			gym_strcopy(x->id, sizeof(x->id), orders[i].order_id);
			gym_strcopy(x->reg, sizeof(x->reg), orders[i].order_id);
			gym_strcopy(x->status, sizeof(x->status),
			    gym_order_status_name(orders[i].status));
			x->at = orders[i].paid_at;
		}
	}
out:
	free(mb);
	free(orders);
	return e;
}

/* The CSV's header line. */
static int
csv_header(struct gym_csv *csv, int members)
{
	return gym_csv_begin(csv) != 0 ||
	    gym_csv_field(csv, members ? "booking_id" : "order_id", 0) ||
	    gym_csv_field(csv, "child_name", 0) || gym_csv_field(csv, "age", 0) ||
	    gym_csv_field(csv, "parent_phone", 0) ||
	    (members && gym_csv_field(csv, "pay_with", 0)) ||
	    gym_csv_field(csv, "status", 0) ||
	    gym_csv_field(csv, members ? "booked_at" : "paid_at", 1);
}

/* One row as a JSON object; NULL when out of memory. */
static cJSON *
row_json(const struct row *x, int members, const char *child, const char *age,
    const char *phone, const char *at, const char *cancelled)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	if (members) {
		cJSON_AddNumberToObject(o, "booking_id", (double)atoll(x->id));
		cJSON_AddStringToObject(o, "pay_with", x->pay_with);
	} else
		cJSON_AddStringToObject(o, "order_id", x->id);
	gym_h_str_or_null(o, "child_name", child);
	if (age[0] != '\0')
		cJSON_AddNumberToObject(o, "age", atoi(age));
	else
		cJSON_AddNullToObject(o, "age");
	gym_h_str_or_null(o, "parent_phone_masked", phone);
	cJSON_AddStringToObject(o, "status", x->status);
	gym_h_str_or_null(o, members ? "booked_at" : "paid_at", at);
	if (members)
		gym_h_str_or_null(o, "cancelled_at", cancelled);
	return o;
}

enum gym_err
gym_h_admin_roster(struct gym_req *req, struct gym_resp *resp)
{
	struct gym_registration *regs = NULL, m;
	struct row *rows = NULL;
	struct gym_csv csv = { NULL, 0, 0, 0 };
	struct gym_schedule sch;
	size_t max;
	const char **ids = NULL;
	char age[8], at[40], cancelled[40], hdr[128];
	int n = 0, *found = NULL, csv_out = gym_h_wants_csv(req), auditor = req->operator_role < 2;
	int members;
	long long id;
	cJSON *items = NULL, *o;
	enum gym_err e;

	memset(&m, 0, sizeof(m));
	if ((e = gym_h_path_id(req->args[0], &id, GYM_E_SCHEDULE_NOT_FOUND)) != GYM_OK ||
	    (e = gym_schedule_get(req->ctx->db, id, &sch)) != GYM_OK)
		return e;
	members = strcmp(sch.kind, "regular") == 0;
	max = (size_t)sch.capacity * 2 + 20;
	if (max > ROSTER_MAX)
		max = ROSTER_MAX;
	e = GYM_ENOMEM;
	if ((rows = calloc(max, sizeof(*rows))) == NULL ||
	    (regs = calloc(max, sizeof(*regs))) == NULL ||
	    (ids = calloc(max, sizeof(*ids))) == NULL ||
	    (found = calloc(max, sizeof(*found))) == NULL)
		goto out;
	if ((e = load_rows(req->ctx->db, id, members, rows, max, &n)) != GYM_OK)
		goto out;
	for (int i = 0; i < n; i++)
		ids[i] = rows[i].reg;
	if ((e = gym_registration_get_many(req->ctx->db, &req->ctx->cfg->pii, ids, n, regs,
	    found)) != GYM_OK)
		goto out;
	e = GYM_ENOMEM;
	if (csv_out ? csv_header(&csv, members) : (items = cJSON_CreateArray()) == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		const char *child;

		memset(&m, 0, sizeof(m));
		if (found[i])
			gym_registration_mask(&regs[i], &m);
		child = auditor ? m.child_name : regs[i].child_name;
		age[0] = at[0] = cancelled[0] = '\0';
		if (found[i] && gym_registration_age(regs[i].child_birth_date) >= 0)
			snprintf(age, sizeof(age), "%d", gym_registration_age(regs[i].child_birth_date));
		if (rows[i].at != 0)
			gym_time_format(rows[i].at, at, sizeof(at));
		if (rows[i].cancelled_at != 0)
			gym_time_format(rows[i].cancelled_at, cancelled, sizeof(cancelled));
		if (csv_out) {
			if (gym_csv_field(&csv, rows[i].id, 0) || gym_csv_field(&csv, child, 0) ||
			    gym_csv_field(&csv, age, 0) || gym_csv_field(&csv, m.parent_phone, 0) ||
			    (members && gym_csv_field(&csv, rows[i].pay_with, 0)) ||
			    gym_csv_field(&csv, rows[i].status, 0) || gym_csv_field(&csv, at, 1))
				goto out;
			continue;
		}
		if ((o = row_json(&rows[i], members, child, age, m.parent_phone, at,
		    cancelled)) == NULL)
			goto out;
		cJSON_AddItemToArray(items, o);
	}
	if (csv_out) {
		snprintf(hdr, sizeof(hdr), "attachment; filename=\"roster-%lld.csv\"", id);
		resp->status = 200;
		resp->content_type = "text/csv; charset=utf-8";
		resp->body = csv.p;
		resp->body_len = csv.len;
		csv.p = NULL;
		e = gym_resp_header(resp, "Content-Disposition", hdr);
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "course_schedule_id", (double)id);
	cJSON_AddStringToObject(o, "kind", members ? "regular" : "trial");
	cJSON_AddItemToObject(o, "items", items);
	items = NULL;
	e = gym_resp_json(resp, 200, o);
out:
	cJSON_Delete(items);
	free(csv.p);
	if (regs != NULL)
		gym_wipe(regs, max * sizeof(*regs));
	gym_wipe(&m, sizeof(m));
	free(regs);
	free(found);
	free(ids);
	free(rows);
	return e;
}

/*
 * hadmin.h: what the operators' handlers share: the paging and time
 * window query parameters, pages as JSON, and the admin objects (an order
 * with its user, an audit entry).
 */
#ifndef GYM_HADMIN_H
#define GYM_HADMIN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "admin.h"
#include "http.h"

/* limit (1..GYM_ADMIN_LIMIT_MAX, default GYM_ADMIN_LIMIT_DEFAULT), cursor
 * (the next_cursor of a previous page; 0 when absent), from and to (RFC
 * 3339; 0 when absent).  GYM_EINVAL naming the field at fault. */
enum gym_err gym_h_admin_paging(const struct gym_req *, struct gym_resp *, int *limit,
    long long *before, int64_t *from, int64_t *to);
/* {"items": items, "next_cursor": next or null}; items is consumed. */
cJSON *gym_h_admin_page(cJSON *items, long long next);
/* The order object plus user_id and created_at. */
cJSON *gym_h_admin_order_json(const struct gym_order *);
cJSON *gym_h_audit_json(const struct gym_audit_entry *);
/* The contract's Refund object (h_admin_refunds.c). */
struct gym_refund;
cJSON *gym_h_refund_json(const struct gym_refund *);

/* hadmin_names.c: names beside ids in an array of objects: "course_name"
 * and "course_starts_at" beside "course_schedule_id"; name_member beside
 * id_member (for rows whose "actor_type" is actor_type, when not NULL). */
enum gym_err gym_h_name_classes(struct gym_db *, cJSON *items);
enum gym_err gym_h_name_operators(struct gym_db *, cJSON *items, const char *id_member,
    const char *actor_type, const char *name_member);

/* A string member, or null when v is NULL or "". */
void gym_h_str_or_null(cJSON *o, const char *name, const char *v);

#endif

/*
 * hutil.h: what handlers share: reading the JSON body and ids, the actor
 * for audit rows, and the contract's JSON objects (api.md "Objects").
 */
#ifndef GYM_HUTIL_H
#define GYM_HUTIL_H

#include <cjson/cJSON.h>

#include "booking.h"
#include "http.h"
#include "json.h"

/* The body as a JSON object; GYM_EINVAL with err_field "body" otherwise.
 * An empty body gives an empty object when allow_empty. */
enum gym_err gym_h_body(const struct gym_req *, struct gym_resp *, int allow_empty, cJSON **);
/* A required positive id member; GYM_EINVAL naming the field. */
enum gym_err gym_h_id(const cJSON *, const char *name, struct gym_resp *, long long *);
/* A path or query id: GYM_OK or notfound (garbage ids are unknown ids). */
enum gym_err gym_h_path_id(const char *s, long long *, enum gym_err notfound);
/* Query parameter value (URL-decoded) into out; 1 when present. */
int gym_h_query(const struct gym_req *, const char *name, char *out, size_t len);
/* GYM_EINVAL naming field (the INVALID_REQUEST answer's "field"). */
enum gym_err gym_h_bad(struct gym_resp *, const char *field);
/* 1 when the client asks for CSV: ?format=csv, or Accept: text/csv. */
int gym_h_wants_csv(const struct gym_req *);
/* The audit actor of this request; snapshot is a masked copy of the body
 * (free it with free()). */
void gym_h_actor(const struct gym_req *, struct gym_actor *, char **snapshot);
/* The worker's payment context with this request's database connection. */
struct gym_pay *gym_h_pay(struct gym_req *);
/* e unchanged; for an upstream failure, the channel's code into
 * resp->err_detail (the UPSTREAM_ERROR answer's detail). */
enum gym_err gym_h_upstream(const struct gym_pay *, struct gym_resp *, enum gym_err e);

cJSON *gym_h_schedule_json(const struct gym_schedule *);
/* A SOLD_OUT answer's alternatives (up to 3 other classes with a free seat:
 * the same course first, then the nearest in time) into resp. */
void gym_h_alternatives(struct gym_req *, struct gym_resp *, long long schedule_id);
cJSON *gym_h_reservation_json(const struct gym_reservation *);
cJSON *gym_h_order_json(const struct gym_order *);
cJSON *gym_h_booking_json(const struct gym_booking *);
void gym_h_add_time(cJSON *, const char *name, int64_t us);

#endif

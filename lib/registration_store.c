/*
 * registration_store.c: the sealed record of an order's registration
 * details (order_registrations, migration 0011).  The clear text exists
 * only in memory: it is sealed before the INSERT and opened after the
 * SELECT; audit rows hold masked values only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "extern.h"
#include "json.h"
#include "log.h"
#include "registration.h"

static struct gym_stmt st_insert = { "registration_insert",
	"INSERT INTO order_registrations (order_id, key_id, nonce, sealed, phone_index, "
	"created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz)", 0 };
static struct gym_stmt st_get = { "registration_get",
	"SELECT order_id, key_id, nonce, sealed FROM order_registrations WHERE order_id = $1", 0 };
static struct gym_stmt st_many = { "registration_many",
	"SELECT order_id, key_id, nonce, sealed FROM order_registrations "
	"WHERE order_id = ANY($1::text[])", 0 };
static struct gym_stmt st_stale = { "registration_stale",
	"SELECT order_id, key_id, nonce, sealed FROM order_registrations WHERE key_id <> $1 "
	"ORDER BY order_id LIMIT $2::int FOR UPDATE SKIP LOCKED", 0 };
static struct gym_stmt st_reseal = { "registration_reseal",
	"UPDATE order_registrations SET key_id = $2, nonce = $3, sealed = $4, "
	"updated_at = $5::timestamptz WHERE order_id = $1", 0 };

/* The clear text that is sealed: a small JSON object. */
static char *
plain_of(const struct gym_registration *r)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "child_name", r->child_name) != NULL &&
	    cJSON_AddStringToObject(o, "child_birth_date", r->child_birth_date) != NULL &&
	    cJSON_AddStringToObject(o, "parent_phone", r->parent_phone) != NULL &&
	    cJSON_AddStringToObject(o, "note", r->note) != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static enum gym_err
from_plain(const char *plain, struct gym_registration *r)
{
	cJSON *o = cJSON_Parse(plain);
	enum gym_err e = GYM_EINTERNAL;

	memset(r, 0, sizeof(*r));
	if (o != NULL && gym_json_string(o, "child_name") != NULL &&
	    gym_json_string(o, "child_birth_date") != NULL &&
	    gym_json_string(o, "parent_phone") != NULL) {
		gym_strcopy(r->child_name, sizeof(r->child_name), gym_json_string(o, "child_name"));
		gym_strcopy(r->child_birth_date, sizeof(r->child_birth_date),
		    gym_json_string(o, "child_birth_date"));
		gym_strcopy(r->parent_phone, sizeof(r->parent_phone),
		    gym_json_string(o, "parent_phone"));
		gym_strcopy(r->note, sizeof(r->note), gym_json_string(o, "note"));
		e = GYM_OK;
	}
	cJSON_Delete(o);
	return e;
}

/* The masked registration as an audit snapshot. */
static char *
masked_snapshot(const struct gym_registration *r)
{
	struct gym_registration m;
	cJSON *o;
	char *s = NULL;

	gym_registration_mask(r, &m);
	if ((o = cJSON_CreateObject()) != NULL &&
	    cJSON_AddStringToObject(o, "child_name", m.child_name) != NULL &&
	    cJSON_AddStringToObject(o, "child_birth_date", m.child_birth_date) != NULL &&
	    cJSON_AddStringToObject(o, "parent_phone", m.parent_phone) != NULL &&
	    cJSON_AddBoolToObject(o, "note", r->note[0] != '\0') != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

enum gym_err
gym__registration_insert(struct gym_db *db, const struct gym_pii_keys *keys,
    const struct gym_actor *actor, const char *order_id, const struct gym_registration *r)
{
	struct gym_pii_sealed s = { "", "", NULL };
	struct gym_audit au = { "order", "registration_recorded", order_id, 0, 0, NULL, NULL, NULL };
	char index[65], now[40], *plain, *snap = NULL;
	enum gym_err e;

	if ((plain = plain_of(r)) == NULL)
		return GYM_ENOMEM;
	e = gym_pii_seal(keys, order_id, plain, strlen(plain), &s);
	gym_wipe(plain, strlen(plain));
	free(plain);
	if (e != GYM_OK)
		goto out;
	gym_pii_index(keys, r->parent_phone, index);
	gym_db_now_param(now, sizeof(now));
	{
		const char *p[6] = { order_id, s.key_id, s.nonce, s.data, index, now };

		if ((e = gym_db_exec(db, &st_insert, 6, p, NULL)) != GYM_OK)
			goto out;
	}
	e = GYM_ENOMEM;
	if ((snap = masked_snapshot(r)) == NULL)
		goto out;
	au.response_snapshot = snap;
	e = gym_audit_write(db, actor, &au);
out:
	free(snap);
	free(s.data);
	return e;
}


/* Open row i of res (order_id, key_id, nonce, sealed) into r. */
static enum gym_err
open_row(const struct gym_pii_keys *keys, PGresult *res, int i, struct gym_registration *r)
{
	struct gym_pii_sealed s;
	const char *oid = gym_db_get(res, i, "order_id");
	char *plain = NULL;
	enum gym_err e;

	gym_db_copy(res, i, "key_id", s.key_id, sizeof(s.key_id));
	gym_db_copy(res, i, "nonce", s.nonce, sizeof(s.nonce));
	s.data = (char *)(uintptr_t)gym_db_get(res, i, "sealed");
	if ((e = gym_pii_open(keys, oid, &s, &plain)) == GYM_OK)
		e = from_plain(plain, r);
	else
		gym_log_errx("registration of order %s does not open: %s", oid, gym_strerror(e));
	if (plain != NULL) {
		gym_wipe(plain, strlen(plain));
		free(plain);
	}
	return e;
}

enum gym_err
gym_registration_get_many(struct gym_db *db, const struct gym_pii_keys *keys,
    const char *const *order_ids, int n, struct gym_registration *out, int *found)
{
	size_t len = 3;
	char *arr, *w;
	const char *p[1];
	PGresult *res;
	enum gym_err e;

	for (int i = 0; i < n; i++) {
		found[i] = 0;
		memset(&out[i], 0, sizeof(out[i]));
		len += strlen(order_ids[i]) + 1;
	}
	if (n == 0)
		return GYM_OK;
	/* order ids are [0-9A-Za-z_-]: an array literal needs no quoting */
	if ((arr = w = malloc(len)) == NULL)
		return GYM_ENOMEM;
	*w++ = '{';
	for (int i = 0; i < n; i++) {
		size_t l = strlen(order_ids[i]);

		if (l == 0 || strspn(order_ids[i], "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") != l) {
			free(arr);
			return GYM_EINVAL;
		}
		if (i > 0)
			*w++ = ',';
		memcpy(w, order_ids[i], l);
		w += l;
	}
	*w++ = '}';
	*w = '\0';
	p[0] = arr;
	e = gym_db_exec(db, &st_many, 1, p, &res);
	free(arr);
	if (e != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *oid = gym_db_get(res, i, "order_id");

		for (int j = 0; j < n; j++)
			if (!found[j] && strcmp(order_ids[j], oid) == 0 &&
			    open_row(keys, res, i, &out[j]) == GYM_OK)
				found[j] = 1;
	}
	PQclear(res);
	return GYM_OK;
}

enum gym_err
gym_registration_get(struct gym_db *db, const struct gym_pii_keys *keys, const char *order_id,
    struct gym_registration *r, int *found)
{
	const char *p[1] = { order_id };
	PGresult *res;
	enum gym_err e;

	*found = 0;
	memset(r, 0, sizeof(*r));
	if ((e = gym_db_exec(db, &st_get, 1, p, &res)) != GYM_OK)
		return e;
	if (PQntuples(res) > 0 && (e = open_row(keys, res, 0, r)) == GYM_OK)
		*found = 1;
	PQclear(res);
	return e;
}

struct rekey_arg {
	const struct gym_pii_keys *keys;
	int batch;
	int count;
};

/* One batch: open each stale record and seal it again under the first key. */
static enum gym_err
rekey_tx(struct gym_db *db, void *v)
{
	struct rekey_arg *a = v;
	char lim[16], now[40];
	const char *p[2] = { a->keys->k[0].id, lim };
	PGresult *res;
	enum gym_err e;

	a->count = 0;
	snprintf(lim, sizeof(lim), "%d", a->batch);
	if ((e = gym_db_exec(db, &st_stale, 2, p, &res)) != GYM_OK)
		return e;
	gym_db_now_param(now, sizeof(now));
	for (int i = 0; i < PQntuples(res) && e == GYM_OK; i++) {
		struct gym_pii_sealed old, fresh = { "", "", NULL };
		const char *oid = gym_db_get(res, i, "order_id");
		char *plain = NULL;

		gym_db_copy(res, i, "key_id", old.key_id, sizeof(old.key_id));
		gym_db_copy(res, i, "nonce", old.nonce, sizeof(old.nonce));
		old.data = (char *)(uintptr_t)gym_db_get(res, i, "sealed");
		if ((e = gym_pii_open(a->keys, oid, &old, &plain)) == GYM_OK &&
		    (e = gym_pii_seal(a->keys, oid, plain, strlen(plain), &fresh)) == GYM_OK) {
			const char *q[5] = { oid, fresh.key_id, fresh.nonce, fresh.data, now };

			if ((e = gym_db_exec(db, &st_reseal, 5, q, NULL)) == GYM_OK)
				a->count++;
		} else
			gym_log_errx("registration of order %s: could not re-seal (key %s): %s",
			    oid, old.key_id, gym_strerror(e));
		if (plain != NULL) {
			gym_wipe(plain, strlen(plain));
			free(plain);
		}
		free(fresh.data);
	}
	PQclear(res);
	return e;
}

enum gym_err
gym_registration_rekey(struct gym_db *db, const struct gym_pii_keys *keys, int batch,
    long long *done)
{
	struct rekey_arg a = { keys, batch > 0 ? batch : 100, 0 };
	enum gym_err e;

	*done = 0;
	if (keys == NULL || keys->n == 0)
		return GYM_EINVAL;
	do {
		if ((e = gym_db_tx(db, rekey_tx, &a)) != GYM_OK)
			return e;
		*done += a.count;
	} while (a.count > 0);
	return GYM_OK;
}

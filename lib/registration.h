/*
 * registration.h: what a parent tells us about the child who comes to the
 * trial class (the registration details: FR-019, refunds are decided from
 * them): the rules a valid one follows, its masked forms, and its record,
 * sealed at rest (pii.h) beside the order it came with.
 */
#ifndef GYM_REGISTRATION_H
#define GYM_REGISTRATION_H

#include <cjson/cJSON.h>

#include "booking.h"
#include "db.h"
#include "gym.h"
#include "pii.h"

#define GYM_REG_NAME_CHARS	32	/* code points */
#define GYM_REG_NOTE_CHARS	200
#define GYM_REG_MAX_AGE		17	/* under 18 on the day of booking */

struct gym_registration {
	char child_name[GYM_REG_NAME_CHARS * 4 + 1];	/* UTF-8 */
	char child_birth_date[11];			/* YYYY-MM-DD */
	char parent_phone[12];				/* 1[3-9] and 9 digits */
	char note[GYM_REG_NOTE_CHARS * 4 + 1];		/* "" when none */
};

/* The request's registration fields (child_name, child_birth_date,
 * parent_phone, note) checked against the rules: GYM_OK, or GYM_EINVAL
 * with *field naming the first missing or invalid one.  Names and notes are
 * trimmed of surrounding white space; the birth date must be a real day,
 * not after today in China and at most GYM_REG_MAX_AGE years back. */
enum gym_err gym_registration_from_json(const cJSON *body, struct gym_registration *r,
    const char **field);
/* 1 when s is a mainland mobile number: 11 digits, 1[3-9] first. */
int gym_registration_phone_ok(const char *s);
/* The child's age in whole years today (China), or -1 for a bad date. */
int gym_registration_age(const char *birth_date);
/* Masked forms: "138****5678"; the name's first character then one '*' for
 * each other ("*" for a one-character name); the birth date's year only
 * ("2019-**-**").  out must hold the input's size. */
void gym_registration_mask_phone(const char *phone, char *out, size_t len);
void gym_registration_mask_name(const char *name, char *out, size_t len);
void gym_registration_mask_date(const char *date, char *out, size_t len);
/* r with every field masked (the note dropped): what auditors see. */
void gym_registration_mask(const struct gym_registration *in, struct gym_registration *out);

/* Record r sealed beside order_id, with an audit row holding only masked
 * values, in the caller's transaction (registration_store.c). */
enum gym_err gym__registration_insert(struct gym_db *, const struct gym_pii_keys *,
    const struct gym_actor *, const char *order_id, const struct gym_registration *r);
/* The registration of order_id, opened: *found 0 when it has none (an
 * order from before registrations were taken). */
enum gym_err gym_registration_get(struct gym_db *, const struct gym_pii_keys *,
    const char *order_id, struct gym_registration *r, int *found);
/* The registrations of n orders in one query: out[i] and found[i] for
 * order_ids[i] (found 0: none, or it does not open, which is logged). */
enum gym_err gym_registration_get_many(struct gym_db *, const struct gym_pii_keys *,
    const char *const *order_ids, int n, struct gym_registration *out, int *found);
/* Re-seal under the first key every record sealed under another, batch at
 * a time (safe beside a running service and a second rekey); *done is how
 * many were re-sealed.  GYM_ENOTFOUND when a record's key is not loaded. */
enum gym_err gym_registration_rekey(struct gym_db *, const struct gym_pii_keys *, int batch,
    long long *done);

#endif

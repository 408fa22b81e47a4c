/*
 * member_find.h: the front desk finds a parent (issue 15) by the phone
 * given at a registration or by part of a child's name, newest first.
 * Each match names the parent and the order whose registration matched
 * (it names the child and the phone, opened with registration.h).
 */
#ifndef GYM_MEMBER_FIND_H
#define GYM_MEMBER_FIND_H

#include "db.h"
#include "gym.h"

#define GYM_MEMBER_FIND_MAX 20

struct gym_member_match {
	long long user_id;
	char order_id[40];		/* the parent's newest order that matched */
};

struct gym_pii_keys;

/* The parents with a registration whose phone has the search hash
 * phone_index (gym_pii_index). */
enum gym_err gym_member_find_by_phone(struct gym_db *, const char *phone_index,
    struct gym_member_match *out, int max, int *n);
/* The parents with a registration among the newest GYM_ADMIN_NAME_SCAN
 * whose child's name contains name (admin_search.c opens them). */
enum gym_err gym_member_find_by_child(struct gym_db *, const struct gym_pii_keys *,
    const char *name, struct gym_member_match *out, int max, int *n);

#endif

/*
 * admin_names.h: names for the ids the operators' pages show (issue 19:
 * "names, not ids"): a class's name and start for its id, an operator's
 * name for its id.  One query per page, whatever its length.
 */
#ifndef GYM_ADMIN_NAMES_H
#define GYM_ADMIN_NAMES_H

#include <stdint.h>

#include "booking.h"

struct gym_class_name {
	long long id;
	char course_name[404];		/* "" when there is no such class */
	int64_t starts_at;
};

struct gym_operator_name {
	long long id;
	char name[65];			/* "" when there is no such operator */
};

/* Fill out[i] for ids[i] (n at most 200; ids may repeat or be 0). */
enum gym_err gym_admin_class_names(struct gym_db *, const long long *ids, int n,
    struct gym_class_name *out);
enum gym_err gym_admin_operator_names(struct gym_db *, const long long *ids, int n,
    struct gym_operator_name *out);

#endif

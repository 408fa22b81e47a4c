/*
 * haccount.h: the JSON of a parent's account and payment history
 * (h_account.c), shared by the parent's own routes and the operators'
 * member lookup (h_admin_members.c).
 */
#ifndef GYM_HACCOUNT_H
#define GYM_HACCOUNT_H

#include <cjson/cJSON.h>

#include "products.h"

/* GET /me's object: membership (or null), credits {balance, lots}, bookings. */
cJSON *gym_h_account_json(const struct gym_account *);
/* {total, page, size, payments[]} of one history page. */
cJSON *gym_h_history_json(const struct gym_history_item *, int n, long long total, int page,
    int size);

#endif

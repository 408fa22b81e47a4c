/*
 * overview.h: the console's first page (issue 19): one day of the gym (its
 * day in Asia/Shanghai): the classes that start that day with their seats
 * taken, the orders paid that day and their sum, and what waits: refunds
 * in progress, refunds WeChat could not pay out, orders in the
 * needs-attention queue.  Reads only.
 */
#ifndef GYM_OVERVIEW_H
#define GYM_OVERVIEW_H

#include <stdint.h>

#include "booking.h"

#define GYM_OVERVIEW_CLASSES	50
#define GYM_GYM_TZ		"Asia/Shanghai"

struct gym_overview_class {
	long long id;
	char course_name[404];
	int64_t starts_at;
	int capacity;
	int booked;		/* seats confirmed (paid) */
	int held;		/* seats held for an unpaid order */
	int cancelled;		/* 1 when the gym cancelled it */
};

struct gym_overview {
	char day[11];		/* YYYY-MM-DD */
	int nclasses;
	struct gym_overview_class classes[GYM_OVERVIEW_CLASSES];
	long long paid_orders;
	long long paid_fen;
	long long refunds_in_progress;	/* pending or processing */
	long long refunds_abnormal;
	long long attention;		/* the needs-attention queue (admin.h) */
};

/* The overview of day ("YYYY-MM-DD"; NULL: today by the gym clock):
 * GYM_OK, GYM_EINVAL for a day that is not a date. */
enum gym_err gym_overview_get(struct gym_db *, const char *day, struct gym_overview *out);
/* Only what waits for a person (for /metrics): the counts of out without
 * the day's classes and payments. */
enum gym_err gym_overview_waiting(struct gym_db *, struct gym_overview *out);

#endif

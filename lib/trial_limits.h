/*
 * trial_limits.h: a hold's and an unpaid order's length for this process,
 * from the config's hold_minutes and order_minutes (gymd sets them once in
 * every worker and job process, as the message templates); GYM_HOLD_SECONDS
 * and GYM_ORDER_SECONDS (gym.h) read them.  Until set: 15 and 30 minutes.
 */
#ifndef GYM_TRIAL_LIMITS_H
#define GYM_TRIAL_LIMITS_H

#include "config.h"

/* The bounds the config accepts, in minutes. */
#define GYM_HOLD_MINUTES_MAX	120
#define GYM_ORDER_MINUTES_MAX	1440

struct gym_limits {
	int hold_s;		/* 60 .. GYM_HOLD_MINUTES_MAX minutes */
	int order_s;		/* hold_s .. GYM_ORDER_MINUTES_MAX minutes */
};

/* From cfg's hold_minutes and order_minutes (validated by the loader). */
void gym_limits_configure(const struct gym_config *);
/* Set them directly (tests); 0, and nothing changed, out of bounds. */
int gym_limits_set(const struct gym_limits *);
void gym_limits_get(struct gym_limits *);

#endif

/*
 * trial_limits.c: a hold's and an unpaid order's length for this process
 * (trial_limits.h).
 */
#include "gym.h"
#include "log.h"
#include "trial_limits.h"

static struct gym_limits cur = { GYM_HOLD_SECONDS_DEFAULT, GYM_ORDER_SECONDS_DEFAULT };

void
gym_limits_configure(const struct gym_config *cfg)
{
	struct gym_limits l = { cfg->hold_minutes * 60, cfg->order_minutes * 60 };

	/* the loader checked the bounds: refused only for a hand-made cfg */
	if (!gym_limits_set(&l))
		gym_log_warnx("hold_minutes %d / order_minutes %d out of bounds: 15 / 30 kept",
		    cfg->hold_minutes, cfg->order_minutes);
}

int
gym_limits_set(const struct gym_limits *l)
{
	if (l->hold_s < 60 || l->hold_s > GYM_HOLD_MINUTES_MAX * 60 || l->order_s < l->hold_s ||
	    l->order_s > GYM_ORDER_MINUTES_MAX * 60)
		return 0;
	cur = *l;
	return 1;
}

void
gym_limits_get(struct gym_limits *l)
{
	*l = cur;
}

int
gym_hold_seconds(void)
{
	return cur.hold_s;
}

int
gym_order_seconds(void)
{
	return cur.order_s;
}

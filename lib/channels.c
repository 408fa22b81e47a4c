/*
 * channels.c: the payment channels one process has made, one client per
 * channel made on first use, and the channel of a payment attempt (see
 * channel.h).
 */
#include <string.h>

#include "channel.h"
#include "log.h"

/* The attempt's channel; an order id without an attempt row (an order
 * from before attempts) names its order's payment_method. */
static struct gym_stmt st_trade_channel = { "channel_of_trade",
	"SELECT coalesce((SELECT channel FROM payment_attempts WHERE out_trade_no = $1), "
	" (SELECT payment_method FROM payment_orders WHERE order_id = $1)) AS channel", 0 };

enum gym_err
gym_channels_get(struct gym_channels *set, const struct gym_config *cfg, const char *method,
    struct gym_channel **out)
{
	const struct gym_channel_ops *ops = gym_channel_find(method);
	size_t i, free_slot = GYM_CHANNEL_MAX;
	enum gym_err e;

	*out = NULL;
	for (i = 0; i < GYM_CHANNEL_MAX; i++) {
		if (set->made[i] == NULL) {
			if (free_slot == GYM_CHANNEL_MAX)
				free_slot = i;
		} else if (set->made[i]->ops == ops) {
			*out = set->made[i];
			return GYM_OK;
		}
	}
	if (ops != NULL && free_slot == GYM_CHANNEL_MAX)
		return GYM_EINTERNAL;		/* more channels than GYM_CHANNEL_MAX */
	if ((e = gym_channel_new(cfg, method, out)) != GYM_OK)
		return e;
	set->made[free_slot] = *out;
	return GYM_OK;
}

enum gym_err
gym_channels_for_trade(struct gym_channels *set, struct gym_db *db,
    const struct gym_config *cfg, const char *out_trade_no, struct gym_channel **out)
{
	const char *p[1] = { out_trade_no };
	char method[32];
	PGresult *r;
	enum gym_err e;

	*out = NULL;
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_trade_channel, 1, p, &r)) != GYM_OK)
		return e;
	gym_db_copy(r, 0, "channel", method, sizeof(method));
	PQclear(r);
	if (method[0] == '\0')
		return GYM_ENOTFOUND;
	return gym_channels_get(set, cfg, method, out);
}

enum gym_err
gym_channels_start_all(struct gym_channels *set, const struct gym_config *cfg)
{
	const struct gym_channel_ops *ops;
	struct gym_channel *ch;
	enum gym_err e, all = GYM_OK;

	for (size_t i = 0; (ops = gym_channel_nth(i)) != NULL; i++)
		if ((e = gym_channels_get(set, cfg, ops->name, &ch)) == GYM_ENOTFOUND)
			gym_log_infox("payment channel %s is not configured", ops->name);
		else if (e != GYM_OK) {
			gym_log_warnx("payment channel %s could not be made: %s", ops->name,
			    gym_strerror(e));
			all = e;
		}
	return all;
}

void
gym_channels_release(struct gym_channels *set)
{
	for (size_t i = 0; i < GYM_CHANNEL_MAX; i++) {
		gym_channel_free(set->made[i]);
		set->made[i] = NULL;
	}
}

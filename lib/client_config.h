/*
 * client_config.h: what a client is told before it acts (GET
 * /api/v1/client-config, public): which subscribe-message templates to ask
 * a parent's consent for at each moment, and how long a hold and an unpaid
 * order last.
 */
#ifndef GYM_CLIENT_CONFIG_H
#define GYM_CLIENT_CONFIG_H

#include <cjson/cJSON.h>

#include "gym.h"

struct gym_config;

/* WeChat takes at most this many templates in one wx.requestSubscribeMessage. */
#define GYM_SUBSCRIBE_MAX 3

/* {"subscribe_templates": {"pay": [...], "booked": [...], "waitlist": [...]},
 * "hold_minutes", "order_minutes"}: the template ids (each wx.template_*
 * value's first word) to ask for before paying (confirmed, failed,
 * class_cancelled), once booked (rescheduled, refunded) and before joining
 * a waitlist (waitlist).  Unset templates are left out (an empty list:
 * nothing to ask). */
enum gym_err gym_client_config(const struct gym_config *cfg, cJSON **out);

#endif

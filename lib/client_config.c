/*
 * client_config.c: the public client configuration (client_config.h).
 * A one-time subscribe message (一次性订阅消息) may be sent only after the
 * parent consented to its template, and WeChat asks at most three at a
 * time, so the server names them per moment: before paying, what the
 * parent must hear even after leaving the app (the booking confirmed, an
 * unpaid order failed, cancelled or expired, the class cancelled by the
 * gym); once booked, what may come later (the class moved, a refund).
 */
#include <string.h>

#include "client_config.h"
#include "config.h"

/* Append the template's id (a wx.template_* value is the id, then its
 * field names: the first word) to arr when it is set and room is left. */
static int
add(cJSON *arr, const char *tpl)
{
	char id[128];
	size_t n;

	if (tpl == NULL || cJSON_GetArraySize(arr) >= GYM_SUBSCRIBE_MAX ||
	    (n = strcspn(tpl, " \t")) == 0 || n >= sizeof(id))
		return 0;
	memcpy(id, tpl, n);
	id[n] = '\0';
	return cJSON_AddItemToArray(arr, cJSON_CreateString(id)) ? 0 : -1;
}

enum gym_err
gym_client_config(const struct gym_config *cfg, cJSON **out)
{
	cJSON *o = cJSON_CreateObject(), *t, *pay, *booked, *wait, *buy;
	const char *const for_pay[] = { cfg->wx_tpl_confirmed, cfg->wx_tpl_failed,
		cfg->wx_tpl_class_cancelled };
	const char *const for_booked[] = { cfg->wx_tpl_rescheduled, cfg->wx_tpl_refunded };
	const char *const for_buy[] = { cfg->wx_tpl_purchased, cfg->wx_tpl_refunded,
		cfg->wx_tpl_expiring };

	*out = NULL;
	if (o == NULL || (t = cJSON_AddObjectToObject(o, "subscribe_templates")) == NULL ||
	    (pay = cJSON_AddArrayToObject(t, "pay")) == NULL ||
	    (booked = cJSON_AddArrayToObject(t, "booked")) == NULL ||
	    (wait = cJSON_AddArrayToObject(t, "waitlist")) == NULL ||
	    (buy = cJSON_AddArrayToObject(t, "buy")) == NULL)
		goto oom;
	for (size_t i = 0; i < sizeof(for_pay) / sizeof(for_pay[0]); i++)
		if (add(pay, for_pay[i]) != 0)
			goto oom;
	for (size_t i = 0; i < sizeof(for_booked) / sizeof(for_booked[0]); i++)
		if (add(booked, for_booked[i]) != 0)
			goto oom;
	for (size_t i = 0; i < sizeof(for_buy) / sizeof(for_buy[0]); i++)
		if (add(buy, for_buy[i]) != 0)
			goto oom;
	if (add(wait, cfg->wx_tpl_waitlist) != 0 ||
	    cJSON_AddNumberToObject(o, "hold_minutes", cfg->hold_minutes) == NULL ||
	    cJSON_AddNumberToObject(o, "order_minutes", cfg->order_minutes) == NULL)
		goto oom;
	*out = o;
	return GYM_OK;
oom:
	cJSON_Delete(o);
	return GYM_ENOMEM;
}

/*
 * price.c: see price.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "price.h"

#define YUAN_MAX_DIGITS 12		/* 10^12 yuan: far beyond any order */

char *
gym_price_format(long long fen, char *buf, size_t len)
{
	const char *sign = fen < 0 ? "-" : "";
	unsigned long long a = fen < 0 ? 0ULL - (unsigned long long)fen : (unsigned long long)fen;

	snprintf(buf, len, "%s%llu.%02llu", sign, a / 100, a % 100);
	return buf;
}

enum gym_err
gym_price_parse_yuan(const char *s, long long *fen)
{
	long long yuan = 0, cents = 0;
	size_t i = 0, digits = 0, decimals = 0;

	if (s == NULL)
		return GYM_EINVAL;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (++digits > YUAN_MAX_DIGITS)
			return GYM_EINVAL;
		yuan = yuan * 10 + (s[i] - '0');
	}
	if (digits == 0)
		return GYM_EINVAL;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
			if (++decimals > 2)
				return GYM_EINVAL;
			cents = cents * 10 + (s[i] - '0');
		}
		if (decimals == 0)
			return GYM_EINVAL;
		if (decimals == 1)
			cents *= 10;
	}
	if (s[i] != '\0')
		return GYM_EINVAL;
	*fen = yuan * 100 + cents;
	return GYM_OK;
}

/* A JSON number that is exactly want (an integer well inside double's range). */
static int
number_is(double v, long long want)
{
	return isfinite(v) && fabs(v) < 1e15 && v == (double)want;
}

int
gym_price_client_matches(const struct gym_client_amount *a, long long price_fen)
{
	long long fen;

	if (a == NULL)
		return 1;
	if (a->has_fen && !number_is(a->fen, price_fen))
		return 0;
	if (a->yuan_text != NULL &&
	    (gym_price_parse_yuan(a->yuan_text, &fen) != GYM_OK || fen != price_fen))
		return 0;
	/* a yuan number matches when it is the price to the fen: 200 or 200.0 */
	if (a->has_yuan_number && !(isfinite(a->yuan_number) &&
	    fabs(a->yuan_number) < 1e13 &&
	    number_is(round(a->yuan_number * 100.0), price_fen) &&
	    fabs(a->yuan_number * 100.0 - (double)price_fen) < 1e-6))
		return 0;
	return 1;
}

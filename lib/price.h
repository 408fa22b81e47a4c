/*
 * price.h: the one price rule.  The trial's price is GYM_PRICE_FEN (gym.h),
 * integer fen; everything a parent or WeChat sees is formatted from it, and
 * an amount a client sends is compared with it exactly (yuan text parsed to
 * fen without floating point; a JSON number only when it is exactly the
 * price).
 */
#ifndef GYM_PRICE_H
#define GYM_PRICE_H

#include <stddef.h>

#include "gym.h"

/* What a client said the amount was; each part optional. */
struct gym_client_amount {
	const char *yuan_text;		/* "200.00", or NULL */
	int has_yuan_number;		/* a JSON number in yuan */
	double yuan_number;
	int has_fen;			/* a JSON number in fen */
	double fen;
};

/* "12345" fen as "123.45" into buf[len] (at least 24 bytes); returns buf. */
char *gym_price_format(long long fen, char *buf, size_t len);
/* Yuan text ("200", "200.0", "200.00"; digits, at most two decimals, no
 * sign, no exponent) into *fen.  GYM_EINVAL for anything else. */
enum gym_err gym_price_parse_yuan(const char *, long long *fen);
/* 1 when every part the client gave names price_fen (or none was given). */
int gym_price_client_matches(const struct gym_client_amount *, long long price_fen);

#endif

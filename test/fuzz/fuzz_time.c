/*
 * fuzz_time.c: RFC 3339 times (lib/clock.c gym_time_parse): WeChat's
 * success_time in a notification and the from/to filters of the admin
 * queries.  The bytes are the text.
 *
 * Properties checked: an accepted text has the strict shape
 * YYYY-MM-DD[Tt ]hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm) with digits where
 * digits belong and a real calendar date; for years 1970 to 9999 the
 * value survives gym_time_format and a second parse unchanged.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* 1 when s has the strict RFC 3339 shape and a real date. */
static int
strict(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p;
	int y, m, d;

	if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2) || strchr("Tt ", s[10]) == NULL || s[10] == '\0' ||
	    !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
	    !digits(s + 17, 2))
		return 0;
	y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) ||
	    num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
		return 0;
	p = s + 19;
	if (*p == '.') {
		size_t k = strspn(p + 1, "0123456789");

		if (k == 0)
			return 0;
		p += 1 + k;
	}
	if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0)
		return 1;
	return (*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2) && p[3] == ':' &&
	    digits(p + 4, 2) && num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), back[64];
	int64_t us = 0, again = 0;

	if (gym_time_parse(s, &us) == 0) {
		if (!strict(s))
			fuzz_fail("accepted \"%s\"", s);
		/* 1970-01-01 .. 9999-12-31 as microseconds */
		if (us >= 0 && us < 253402300800LL * 1000000) {
			gym_time_format(us, back, sizeof(back));
			if (gym_time_parse(back, &again) != 0 || again != us)
				fuzz_fail("\"%s\" -> %lld -> \"%s\" -> %lld", s, (long long)us, back,
				    (long long)again);
		}
	}
	free(s);
	return 0;
}

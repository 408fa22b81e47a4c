/*
 * clock.c: the one source of "now" for lib and SQL, and RFC 3339 time
 * formatting.  Tests move the clock with gym_clock_set_offset so the 15-
 * and 30-minute rules are tested without sleeping.
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "gym.h"

static int64_t offset_us;

int64_t
gym_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset_us;
}

time_t
gym_now(void)
{
	return (time_t)(gym_now_us() / 1000000);
}

void
gym_clock_set_offset(int64_t seconds)
{
	offset_us = seconds * 1000000;
}

void
gym_time_format(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ldZ", base, (long)(us % 1000000));
}

void
gym_time_format_cst(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000) + 8 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The n-digit decimal number at s, or -1 when a character is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * Strict: digits exactly where RFC 3339 puts them (no signs, no spaces
 * inside fields, which sscanf's %d would take: "2024-01-01T-1:00:00Z"),
 * and a date that exists (no 31 February).  Clients reach this through
 * the from/to query parameters.
 */
int
gym_time_parse(const char *s, int64_t *us)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	long frac = 0;
	int fdigits = 0;
	const char *p;
	int64_t secs;

	/* the shortest form is YYYY-MM-DDThh:mm:ssZ; every index below is < 20 */
	if (s == NULL || strlen(s) < 20 ||
	    (y = digits(s, 4)) < 0 || s[4] != '-' || (mo = digits(s + 5, 2)) < 0 ||
	    s[7] != '-' || (d = digits(s + 8, 2)) < 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    (h = digits(s + 11, 2)) < 0 || s[13] != ':' || (mi = digits(s + 14, 2)) < 0 ||
	    s[16] != ':' || (sec = digits(s + 17, 2)) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fdigits++)
			if (fdigits < 6)
				frac = frac * 10 + (*p - '0');
		if (fdigits == 0)
			return -1;
		for (; fdigits < 6; fdigits++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
	    (oh = digits(p + 1, 2)) >= 0 && (om = digits(p + 4, 2)) >= 0 && oh <= 23 &&
	    om <= 59) {
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - (oh * 3600 + om * 60);
	*us = secs * 1000000 + frac;
	return 0;
}

/*
 * util.c: the simulator's clock, time formats, random ids, text helpers
 * and logging.  Everything here is thread-safe.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "util.h"

static atomic_long clock_offset;

int
wxsim_vec_push(struct wxsim_vec *vec, void *p)
{
	void **nv;
	size_t ncap;

	if (vec->n == vec->cap) {
		ncap = vec->cap ? vec->cap * 2 : 16;
		if ((nv = realloc(vec->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		vec->v = nv;
		vec->cap = ncap;
	}
	vec->v[vec->n++] = p;
	return 0;
}

void
wxsim_vec_remove(struct wxsim_vec *vec, size_t i)
{
	if (i >= vec->n)
		return;
	memmove(&vec->v[i], &vec->v[i + 1], (vec->n - i - 1) * sizeof(*vec->v));
	vec->n--;
}

void
wxsim_vec_free(struct wxsim_vec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

time_t
wxsim_util_now(void)
{
	return time(NULL) + (time_t)atomic_load(&clock_offset);
}

void
wxsim_util_set_offset(long seconds)
{
	atomic_store(&clock_offset, seconds);
}

long
wxsim_util_get_offset(void)
{
	return atomic_load(&clock_offset);
}

int64_t
wxsim_util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
wxsim_util_time_cst(time_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t shifted = t + 8 * 3600;

	if (gmtime_r(&shifted, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S+08:00", &tm) == 0) {
		if (len > 0)
			buf[0] = '\0';
	}
}

/* n digits at s as a number, or -1 when they are not all digits. */
static int
num(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
wxsim_util_rfc3339(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	int y, mo, d, h, mi, sec, oh, om, sign;
	const char *p;
	time_t t;

	if (s == NULL || strlen(s) < 20)
		return -1;
	y = num(s, 4);
	mo = num(s + 5, 2);
	d = num(s + 8, 2);
	h = num(s + 11, 2);
	mi = num(s + 14, 2);
	sec = num(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 ||
	    s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		oh = om = 0;
		sign = 1;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		sign = *p == '+' ? 1 : -1;
		oh = num(p + 1, 2);
		om = num(p + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
	} else
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 && errno == EOVERFLOW)
		return -1;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

/* n random characters of set (of length setlen) into out[n + 1]. */
static int
random_from(char *out, size_t n, const char *set, size_t setlen)
{
	unsigned char b[64];
	size_t i, j = sizeof(b);

	for (i = 0; i < n; i++) {
		do {
			if (j == sizeof(b)) {
				if (RAND_bytes(b, (int)sizeof(b)) != 1)
					return -1;
				j = 0;
			}
		} while (b[j++] >= 256 - 256 % setlen);
		out[i] = set[b[j - 1] % setlen];
	}
	out[n] = '\0';
	return 0;
}

int
wxsim_util_digits(char *out, size_t n)
{
	return random_from(out, n, "0123456789", 10);
}

int
wxsim_util_hex(char *out, size_t n)
{
	return random_from(out, n, "0123456789abcdef", 16);
}

int
wxsim_util_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, (int)sizeof(b)) != 1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

long
wxsim_util_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	int more, i;

	while (*p) {
		if (*p < 0x80)
			more = 0;
		else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			more = 1;
		else if ((*p & 0xf0) == 0xe0)
			more = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			more = 3;
		else
			return -1;
		p++;
		for (i = 0; i < more; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return -1;
		n++;
	}
	return n;
}

int
wxsim_util_charset(const char *s, size_t minlen, size_t maxlen, const char *allowed)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n >= minlen && n <= maxlen && strspn(s, allowed) == n;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
wxsim_util_pct_decode(const char *s, size_t len, int plus)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0 || (hi == 0 && lo == 0))
				goto bad;
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus)
			*o++ = ' ';
		else if (s[i] == '\0')
			goto bad;
		else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

char *
wxsim_util_html_escape(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p; p++)
		n += strchr("&<>\"'", *p) != NULL ? 6 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (p = s, o = out; *p; p++) {
		switch (*p) {
		case '&': memcpy(o, "&amp;", 5); o += 5; break;
		case '<': memcpy(o, "&lt;", 4); o += 4; break;
		case '>': memcpy(o, "&gt;", 4); o += 4; break;
		case '"': memcpy(o, "&quot;", 6); o += 6; break;
		case '\'': memcpy(o, "&#39;", 5); o += 5; break;
		default: *o++ = *p; break;
		}
	}
	*o = '\0';
	return out;
}

char *
wxsim_util_read_file(const char *path, size_t max)
{
	FILE *f;
	char *buf;
	size_t n, lead;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	for (lead = 0; lead < n && isspace((unsigned char)buf[lead]); lead++)
		;
	memmove(buf, buf + lead, n - lead + 1);
	return buf;
}

void
wxsim_util_sleep_ms(long ms, const atomic_int *stop)
{
	int64_t end = wxsim_util_mono_ms() + ms, left;
	struct timespec ts;

	while ((left = end - wxsim_util_mono_ms()) > 0 &&
	    (stop == NULL || !atomic_load(stop))) {
		if (left > 50)
			left = 50;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

void
wxsim_util_log(const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03ld wxsim: %s\n", ts, now.tv_nsec / 1000000L, line);
}

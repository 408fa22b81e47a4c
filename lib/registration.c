/*
 * registration.c: the rules of the registration details and their masked
 * forms (see registration.h).  The record itself: registration_store.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "registration.h"

/* The length in code points of valid UTF-8 without control characters
 * (a newline allowed when nl), or -1. */
static int
text_chars(const char *s, size_t len, int nl)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	int chars = 0;

	while (p < end) {
		size_t n = gym_utf8_seq(p);

		if (n == 0 || n > (size_t)(end - p))
			return -1;
		/* C0 and C1 controls and DEL; a newline only in a note */
		if ((n == 1 && ((*p < 0x20 && !(nl && *p == '\n')) || *p == 0x7f)) ||
		    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			return -1;
		p += n;
		chars++;
	}
	return chars;
}

/* The trimmed text of member name into out[outlen]: 0, or -1 when absent
 * (and required), not a string, empty after trimming (and required), too
 * long or not clean text. */
static int
take_text(const cJSON *body, const char *name, int required, int max_chars, int nl,
    char *out, size_t outlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	const char *s, *e;
	int chars;

	out[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return required ? -1 : 0;
	if (!cJSON_IsString(v))
		return -1;
	s = v->valuestring;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (e == s)
		return required ? -1 : 0;
	if ((size_t)(e - s) >= outlen || (chars = text_chars(s, (size_t)(e - s), nl)) < 0 ||
	    chars > max_chars)
		return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

int
gym_registration_phone_ok(const char *s)
{
	if (strlen(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
		return 0;
	for (int i = 2; i < 11; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Today's date in China by the gym clock. */
static void
today_cn(int *y, int *m, int *d)
{
	time_t t = gym_now() + 8 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

/* "YYYY-MM-DD" of a real day into y, m, d: 0, or -1. */
static int
parse_date(const char *s, int *y, int *m, int *d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	*y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
	if (*y < 1900 || *m < 1 || *m > 12 || *d < 1 ||
	    *d > mdays[*m - 1] + (*m == 2 && leap))
		return -1;
	return 0;
}

int
gym_registration_age(const char *birth_date)
{
	int y, m, d, ty, tm, td, age;

	if (birth_date == NULL || parse_date(birth_date, &y, &m, &d) != 0)
		return -1;
	today_cn(&ty, &tm, &td);
	if (y * 10000 + m * 100 + d > ty * 10000 + tm * 100 + td)
		return -1;
	age = ty - y;
	if (tm < m || (tm == m && td < d))
		age--;
	return age;
}

enum gym_err
gym_registration_from_json(const cJSON *body, struct gym_registration *r, const char **field)
{
	int age;

	memset(r, 0, sizeof(*r));
	*field = "child_name";
	if (take_text(body, "child_name", 1, GYM_REG_NAME_CHARS, 0, r->child_name,
	    sizeof(r->child_name)) != 0)
		return GYM_EINVAL;
	*field = "child_birth_date";
	if (take_text(body, "child_birth_date", 1, 10, 0, r->child_birth_date,
	    sizeof(r->child_birth_date)) != 0 ||
	    (age = gym_registration_age(r->child_birth_date)) < 0 || age > GYM_REG_MAX_AGE)
		return GYM_EINVAL;
	*field = "parent_phone";
	if (take_text(body, "parent_phone", 1, 11, 0, r->parent_phone,
	    sizeof(r->parent_phone)) != 0 || !gym_registration_phone_ok(r->parent_phone))
		return GYM_EINVAL;
	*field = "note";
	if (take_text(body, "note", 0, GYM_REG_NOTE_CHARS, 1, r->note, sizeof(r->note)) != 0)
		return GYM_EINVAL;
	*field = NULL;
	return GYM_OK;
}

void
gym_registration_mask_phone(const char *phone, char *out, size_t len)
{
	size_t n = strlen(phone);

	if (n < 7) {
		gym_strcopy(out, len, "****");
		return;
	}
	snprintf(out, len, "%.3s****%s", phone, phone + n - 4);
}

void
gym_registration_mask_name(const char *name, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t first = 0, o;

	if (len == 0)
		return;
	/* the first code point, kept only when another follows */
	if (*p != '\0') {
		first = 1;
		while ((p[first] & 0xc0) == 0x80)
			first++;
	}
	if (p[first] == '\0')
		first = 0;
	o = first < len ? first : 0;
	memcpy(out, name, o);
	for (p += first; *p != '\0' && o + 1 < len; p++)
		if ((*p & 0xc0) != 0x80)
			out[o++] = '*';
	if (o == 0 && len > 1)
		out[o++] = '*';
	out[o] = '\0';
}

void
gym_registration_mask_date(const char *date, char *out, size_t len)
{
	snprintf(out, len, "%.4s-**-**", date);
}

void
gym_registration_mask(const struct gym_registration *in, struct gym_registration *out)
{
	memset(out, 0, sizeof(*out));
	gym_registration_mask_name(in->child_name, out->child_name, sizeof(out->child_name));
	gym_registration_mask_date(in->child_birth_date, out->child_birth_date,
	    sizeof(out->child_birth_date));
	gym_registration_mask_phone(in->parent_phone, out->parent_phone, sizeof(out->parent_phone));
}

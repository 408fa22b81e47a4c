/*
 * csv.c: CSV text for spreadsheets (csv.h).
 */
#include <stdlib.h>
#include <string.h>

#include "csv.h"

static int
put(struct gym_csv *c, const char *s, size_t n)
{
	char *q;

	if (c->failed)
		return -1;
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->cap + n + 1) * 2;

		if ((q = realloc(c->p, cap)) == NULL) {
			c->failed = 1;
			return -1;
		}
		c->p = q;
		c->cap = cap;
	}
	memcpy(c->p + c->len, s, n);
	c->len += n;
	c->p[c->len] = '\0';
	return 0;
}

/* 1 for a plain number: an optional minus, digits, an optional fraction. */
static int
number(const char *v)
{
	const char *q = v + (*v == '-');

	if (!(*q >= '0' && *q <= '9'))
		return 0;
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q == '.') {
		q++;
		if (!(*q >= '0' && *q <= '9'))
			return 0;
		while (*q >= '0' && *q <= '9')
			q++;
	}
	return *q == '\0';
}

int
gym_csv_begin(struct gym_csv *c)
{
	memset(c, 0, sizeof(*c));
	return put(c, "\xEF\xBB\xBF", 3);
}

int
gym_csv_field(struct gym_csv *c, const char *v, int last)
{
	int rc;

	if (v == NULL)
		v = "";
	rc = put(c, "\"", 1);
	if (v[0] != '\0' && strchr("=+-@", v[0]) != NULL && !number(v))
		rc |= put(c, "'", 1);
	for (const char *q = v; *q != '\0'; q++)
		rc |= *q == '"' ? put(c, "\"\"", 2) : put(c, q, 1);
	rc |= put(c, "\"", 1);
	rc |= put(c, last ? "\r\n" : ",", last ? 2 : 1);
	return rc ? -1 : 0;
}

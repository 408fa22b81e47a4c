/*
 * str.c: small string helpers shared by lib modules.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "gym.h"

char *
gym_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int
gym_nonempty(const char *s)
{
	return s != NULL && *s != '\0';
}

void
gym_strcopy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

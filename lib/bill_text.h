/*
 * bill_text.h: the pieces every channel's bill reader shares
 * (bill_parse.c, bill_parse_alipay.c): lines, comma-split header rows,
 * columns found by name, bounded copies, the reason a bill is refused.
 */
#ifndef GYM_BILL_TEXT_H
#define GYM_BILL_TEXT_H

#include <stddef.h>

#include "bill.h"

#define GYM_BILL_MAX_COLS 64

struct gym_bill_field {
	const char *s;
	size_t n;
};

/* why[len] from a format (nothing when why is NULL). */
void gym_bill_say(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One line: [*p, end of line) without its \r\n; *p moves past it.  0 at
 * the end of the text. */
int gym_bill_next_line(const char **p, const char *end, const char **line, size_t *len);
/* Split line at ','; how many fields, or -1 when more than
 * GYM_BILL_MAX_COLS. */
int gym_bill_split(const char *line, size_t len, struct gym_bill_field *f);
/* The column named name among h[n], or -1. */
int gym_bill_col(const struct gym_bill_field *h, int n, const char *name);
/* Copy f into dst[len]; 0, or -1 when it does not fit or holds a NUL. */
int gym_bill_take(char *dst, size_t len, const struct gym_bill_field *f);
/* text without a UTF-8 byte order mark (*len shortened). */
const char *gym_bill_skip_bom(const char *text, size_t *len);
/* A new row at the end of b (zeroed), or NULL when out of memory. */
struct gym_bill_row *gym_bill_push(struct gym_bill *b, size_t *cap);
/* 1 when t is "YYYY-MM-DD HH:MM:SS". */
int gym_bill_time_ok(const char *t);

#endif

/*
 * csv.h: CSV text for spreadsheets (RFC 4180): UTF-8 with a byte-order mark
 * so that Excel reads Chinese, every field quoted with its quotes doubled,
 * lines ended by CRLF, and a text field that a spreadsheet would run as a
 * formula (= + - @ first) kept as text with a leading '.  Numbers ("-12.50")
 * are left as they are.
 */
#ifndef GYM_CSV_H
#define GYM_CSV_H

#include <stddef.h>

struct gym_csv {
	char *p;		/* the text so far, NUL-terminated; caller frees */
	size_t len, cap;
	int failed;		/* out of memory once: everything after is dropped */
};

/* Start with the byte-order mark.  0, or -1 when out of memory. */
int gym_csv_begin(struct gym_csv *);
/* One field (NULL as ""); last ends the line.  0, or -1. */
int gym_csv_field(struct gym_csv *, const char *v, int last);

#endif

/*
 * util.h: small helpers of the WeChat simulator: its clock (wall time
 * plus an offset the tests can move), WeChat's time formats, random ids,
 * text checks and the log line writer.
 */
#ifndef WXSIM_UTIL_H
#define WXSIM_UTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A growable array of pointers; the owner frees the elements. */
struct wxsim_vec {
	void **v;
	size_t n, cap;
};

/* Append p; 0 on success, -1 when out of memory (p is not taken). */
int wxsim_vec_push(struct wxsim_vec *, void *p);
/* Remove element i, keeping the order. */
void wxsim_vec_remove(struct wxsim_vec *, size_t i);
/* Free the array (not the elements). */
void wxsim_vec_free(struct wxsim_vec *);

/* The simulator's clock: wall time shifted by the offset of /sim/clock. */
time_t wxsim_util_now(void);
void wxsim_util_set_offset(long seconds);
long wxsim_util_get_offset(void);
/* Monotonic milliseconds, for delays and scheduling. */
int64_t wxsim_util_mono_ms(void);

/* t as 2006-01-02T15:04:05+08:00 into buf (at least 26 bytes). */
void wxsim_util_time_cst(time_t t, char *buf, size_t len);
/* Strict RFC 3339 (date, 'T', time, optional fraction, Z or +hh:mm);
 * 0 and the epoch seconds in *out, or -1. */
int wxsim_util_rfc3339(const char *s, time_t *out);

/* n random decimal digits and a NUL into out[n + 1]; 0 or -1. */
int wxsim_util_digits(char *out, size_t n);
/* n random lower-case hex digits and a NUL into out[n + 1]; 0 or -1. */
int wxsim_util_hex(char *out, size_t n);
/* A random version 4 UUID into out[37]; 0 or -1. */
int wxsim_util_uuid(char out[37]);

/* Number of code points of a UTF-8 string, or -1 when it is not UTF-8. */
long wxsim_util_utf8_len(const char *s);
/* 1 when s is minlen..maxlen characters, all from the set allowed. */
int wxsim_util_charset(const char *s, size_t minlen, size_t maxlen, const char *allowed);
/* Percent-decode len bytes of s ('+' is a space when plus is set);
 * malloc'd, NULL on bad escapes, embedded NULs or no memory. */
char *wxsim_util_pct_decode(const char *s, size_t len, int plus);
/* s with &<>"' escaped for HTML; malloc'd or NULL. */
char *wxsim_util_html_escape(const char *s);
/* Read a whole small file, whitespace trimmed at both ends; malloc'd or NULL. */
char *wxsim_util_read_file(const char *path, size_t max);

/* Sleep ms milliseconds, waking early when *stop becomes non-zero. */
void wxsim_util_sleep_ms(long ms, const atomic_int *stop);

/* One line to stderr, prefixed with the time and "wxsim". */
void wxsim_util_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/*
 * log.h: one-line log records to stderr with syslog <N> priority prefixes
 * (journald reads them).  Every line carries the current request id.
 * The non-x variants append strerror(errno).  Never pass a secret, a token
 * or an unmasked openid to these.
 */
#ifndef GYM_LOG_H
#define GYM_LOG_H

#include <stddef.h>

#define GYM_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum gym_loglevel { GYM_LOG_ERR = 3, GYM_LOG_WARN = 4, GYM_LOG_INFO = 6, GYM_LOG_DEBUG = 7 };

void gym_log_init(const char *progname, enum gym_loglevel level);
int gym_log_level_parse(const char *s, enum gym_loglevel *out);
/* Set (or clear with NULL) the request id that prefixes every line. */
void gym_log_set_request_id(const char *rid);

void gym_log_err(const char *fmt, ...) GYM_PRINTF(1, 2);
void gym_log_errx(const char *fmt, ...) GYM_PRINTF(1, 2);
void gym_log_warn(const char *fmt, ...) GYM_PRINTF(1, 2);
void gym_log_warnx(const char *fmt, ...) GYM_PRINTF(1, 2);
void gym_log_info(const char *fmt, ...) GYM_PRINTF(1, 2);
void gym_log_infox(const char *fmt, ...) GYM_PRINTF(1, 2);
void gym_log_debugx(const char *fmt, ...) GYM_PRINTF(1, 2);

/* Mask an openid or token for logs and snapshots: keep the first 4 and the
 * last 4 characters of a value longer than 10, "****" otherwise. */
void gym_mask(const char *in, char *out, size_t outsz);

#endif

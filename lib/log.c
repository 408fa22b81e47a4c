/*
 * log.c: stderr logging with priorities and the current request id.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

static const char *prog = "gym";
static enum gym_loglevel maxlevel = GYM_LOG_INFO;
static char request_id[64];

void
gym_log_init(const char *progname, enum gym_loglevel level)
{
	prog = progname;
	maxlevel = level;
}

int
gym_log_level_parse(const char *s, enum gym_loglevel *out)
{
	static const struct { const char *name; enum gym_loglevel l; } t[] = {
		{ "err", GYM_LOG_ERR }, { "error", GYM_LOG_ERR },
		{ "warn", GYM_LOG_WARN }, { "warning", GYM_LOG_WARN },
		{ "info", GYM_LOG_INFO }, { "debug", GYM_LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0) {
			*out = t[i].l;
			return 0;
		}
	return -1;
}

void
gym_log_set_request_id(const char *rid)
{
	if (rid == NULL)
		request_id[0] = '\0';
	else
		snprintf(request_id, sizeof(request_id), "%s", rid);
}

static void
vlog(enum gym_loglevel l, int with_errno, const char *fmt, va_list ap)
{
	char msg[2048];
	int saved = errno;
	size_t n;

	if (l > maxlevel)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one record, one line: a newline inside a message would forge a record */
	for (n = 0; msg[n] != '\0'; n++)
		if (msg[n] == '\n' || msg[n] == '\r')
			msg[n] = ' ';
	if (with_errno)
		fprintf(stderr, "<%d>%s[%ld]: %s%s%s%s: %s\n", (int)l, prog, (long)getpid(),
		    request_id[0] ? "rid=" : "", request_id, request_id[0] ? " " : "",
		    msg, strerror(saved));
	else
		fprintf(stderr, "<%d>%s[%ld]: %s%s%s%s\n", (int)l, prog, (long)getpid(),
		    request_id[0] ? "rid=" : "", request_id, request_id[0] ? " " : "", msg);
	errno = saved;
}

#define DEFINE_LOG(name, level, e)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(level, e, fmt, ap);			\
	va_end(ap);					\
}

DEFINE_LOG(gym_log_err, GYM_LOG_ERR, 1)
DEFINE_LOG(gym_log_errx, GYM_LOG_ERR, 0)
DEFINE_LOG(gym_log_warn, GYM_LOG_WARN, 1)
DEFINE_LOG(gym_log_warnx, GYM_LOG_WARN, 0)
DEFINE_LOG(gym_log_info, GYM_LOG_INFO, 1)
DEFINE_LOG(gym_log_infox, GYM_LOG_INFO, 0)
DEFINE_LOG(gym_log_debugx, GYM_LOG_DEBUG, 0)

void
gym_mask(const char *in, char *out, size_t outsz)
{
	size_t n = in == NULL ? 0 : strlen(in);

	if (n > 10)
		snprintf(out, outsz, "%.4s****%s", in, in + n - 4);
	else
		snprintf(out, outsz, "****");
}

/*
 * config.c: parse and validate the configuration file.  Table-driven: each
 * key has a type and a field; secrets and keys are loaded here, once, in
 * the master, and inherited by the workers through fork.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "trial_limits.h"

enum ctype { C_STR, C_INT, C_BOOL, C_LOGLEVEL, C_LATE_REFUND, C_PUSH_URL, C_SCHEDULE, C_TOKEN_SECRET, C_PII_KEYS,
    C_APP_SECRET, C_MERCHANT_KEY, C_PLATFORM_KEY, C_APIV3_KEY, C_ALI_APP_KEY, C_ALI_PUB_KEY };

struct ckey {
	const char *name;
	enum ctype type;
	size_t off;
	int min, max;
};

#define F(x) offsetof(struct gym_config, x)
static const struct ckey keys[] = {
	{ "listen", C_STR, F(listen), 0, 0 },
	{ "workers", C_INT, F(workers), 1, GYM_WORKERS_MAX },
	{ "max_requests", C_INT, F(max_requests), 0, 100000000 },
	{ "shutdown_timeout", C_INT, F(shutdown_timeout), 1, 3600 },
	{ "jobs", C_BOOL, F(jobs), 0, 1 },
	{ "job_processes", C_INT, F(job_processes), 1, GYM_JOB_PROCESSES_MAX },
	{ "job_interval_ms", C_INT, F(job_interval_ms), 10, 3600000 },
	{ "sweep_batch", C_INT, F(sweep_batch), 1, 100000 },
	{ "db", C_STR, F(db), 0, 0 },
	{ "db_lock_timeout_ms", C_INT, F(db_lock_timeout_ms), 0, 60000 },
	{ "log_level", C_LOGLEVEL, F(log_level), 0, 0 },
	{ "late_payment_refund", C_LATE_REFUND, F(late_payment_refund_auto), 0, 0 },
	{ "token_secret_file", C_TOKEN_SECRET, 0, 0, 0 },
	{ "pii_keys_file", C_PII_KEYS, 0, 0, 0 },
	{ "token_ttl", C_INT, F(token_ttl), 60, 90 * 86400 },
	{ "trust_proxy", C_BOOL, F(trust_proxy), 0, 1 },
	{ "trusted_proxies", C_STR, F(trusted_proxies_list), 0, 0 },
	{ "read_timeout", C_INT, F(read_timeout), 1, 300 },
	{ "audit_refusals_per_minute", C_INT, F(audit_refusals_per_minute), 0, 100000 },
	{ "idempotency_lease", C_INT, F(idempotency_lease), 1, 3600 },
	{ "push_url", C_PUSH_URL, 0, 0, 0 },
	{ "upstream_workers", C_INT, F(upstream_workers), 0, GYM_WORKERS_MAX },
	{ "hold_minutes", C_INT, F(hold_minutes), 1, GYM_HOLD_MINUTES_MAX },
	{ "order_minutes", C_INT, F(order_minutes), 1, GYM_ORDER_MINUTES_MAX },
	{ "member_cancel_cutoff_minutes", C_INT, F(member_cancel_cutoff_minutes), 0, 7 * 24 * 60 },
	{ "wx.appid", C_STR, F(wx_appid), 0, 0 },
	{ "wx.mchid", C_STR, F(wx_mchid), 0, 0 },
	{ "wx.merchant_serial", C_STR, F(wx_merchant_serial), 0, 0 },
	{ "wx.app_secret_file", C_APP_SECRET, 0, 0, 0 },
	{ "wx.merchant_key_file", C_MERCHANT_KEY, 0, 0, 0 },
	{ "wx.platform_key", C_PLATFORM_KEY, 0, 0, 0 },
	{ "wx.apiv3_key_file", C_APIV3_KEY, 0, 0, 0 },
	{ "wx.notify_url", C_STR, F(wx_notify_url), 0, 0 },
	{ "wx.refund_notify_url", C_STR, F(wx_refund_notify_url), 0, 0 },
	{ "wx.pay_base_url", C_STR, F(wx_pay_base), 0, 0 },
	{ "wx.api_base_url", C_STR, F(wx_api_base), 0, 0 },
	{ "wx.cainfo", C_STR, F(wx_cainfo), 0, 0 },
	{ "wx.description", C_STR, F(wx_description), 0, 0 },
	{ "wx.connect_timeout_ms", C_INT, F(wx_connect_timeout_ms), 50, 60000 },
	{ "wx.timeout_ms", C_INT, F(wx_timeout_ms), 100, 60000 },
	{ "wx.reconcile_after_s", C_INT, F(wx_reconcile_after_s), 1, 86400 },
	{ "wx.reconcile_schedule", C_SCHEDULE, 0, 1, 86400 },
	{ "wx.query_spacing_s", C_INT, F(wx_query_spacing_s), 0, 3600 },
	{ "wx.template_confirmed", C_STR, F(wx_tpl_confirmed), 0, 0 },
	{ "wx.template_failed", C_STR, F(wx_tpl_failed), 0, 0 },
	{ "wx.template_refunded", C_STR, F(wx_tpl_refunded), 0, 0 },
	{ "wx.template_waitlist", C_STR, F(wx_tpl_waitlist), 0, 0 },
	{ "wx.template_expiring", C_STR, F(wx_tpl_expiring), 0, 0 },
	{ "wx.template_purchased", C_STR, F(wx_tpl_purchased), 0, 0 },
	{ "wx.template_rescheduled", C_STR, F(wx_tpl_rescheduled), 0, 0 },
	{ "wx.template_class_cancelled", C_STR, F(wx_tpl_class_cancelled), 0, 0 },
	{ "notify_max_attempts", C_INT, F(notify_max_attempts), 1, 100 },
	{ "notify_backoff_base_ms", C_INT, F(notify_backoff_base_ms), 10, 3600000 },
	{ "wx.miniprogram_state", C_STR, F(wx_mp_state), 0, 0 },
	{ "wx.message_page", C_STR, F(wx_message_page), 0, 0 },
	{ "alipay.app_id", C_STR, F(ali_app_id), 0, 0 },
	{ "alipay.app_key_file", C_ALI_APP_KEY, 0, 0, 0 },
	{ "alipay.public_key_file", C_ALI_PUB_KEY, 0, 0, 0 },
	{ "alipay.gateway_url", C_STR, F(ali_gateway_url), 0, 0 },
	{ "alipay.notify_url", C_STR, F(ali_notify_url), 0, 0 },
	{ "alipay.seller_id", C_STR, F(ali_seller_id), 0, 0 },
	{ "alipay.cainfo", C_STR, F(ali_cainfo), 0, 0 },
	{ "reconcile_bill_time", C_STR, F(reconcile_bill_time), 0, 0 },
	{ "reconcile_catchup_days", C_INT, F(reconcile_catchup_days), 1, 90 },
};
#undef F

static void
defaults(struct gym_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 4;
	c->shutdown_timeout = 10;
	c->jobs = 1;
	c->job_processes = 1;
	c->job_interval_ms = 1000;
	c->sweep_batch = 5000;
	c->db_lock_timeout_ms = 3000;
	c->log_level = GYM_LOG_INFO;
	c->token_ttl = 7 * 86400;
	c->idempotency_lease = 60;
	c->read_timeout = 10;
	c->audit_refusals_per_minute = 10;
	c->wx_connect_timeout_ms = 2000;
	c->wx_timeout_ms = 4000;
	c->wx_reconcile_after_s = 60;
	c->wx_query_spacing_s = 3;
	{
		static const int sched[] = { 10, 30, 60, 120, 300 };

		memcpy(c->wx_reconcile_schedule, sched, sizeof(sched));
		c->wx_reconcile_points = (int)(sizeof(sched) / sizeof(sched[0]));
	}
	c->notify_max_attempts = 8;
	c->notify_backoff_base_ms = 1000;
	c->hold_minutes = GYM_HOLD_SECONDS_DEFAULT / 60;
	c->order_minutes = GYM_ORDER_SECONDS_DEFAULT / 60;
	c->member_cancel_cutoff_minutes = 120;
	c->reconcile_catchup_days = 7;
}

enum gym_err
gym_secret_read(const char *path, char **out, size_t *len, char *err, size_t errsz)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t got = 0;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "could not open secret file %s: %s", path, strerror(errno));
		return GYM_EINVAL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "secret file %s is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errsz, "secret file %s is accessible by group or others "
		    "(mode %03o): chmod 600 it", path, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if (st.st_size > 65536 || (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "secret file %s is too large", path);
		goto fail;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	while (got > 0 && isspace((unsigned char)buf[got - 1]))
		got--;
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return GYM_OK;
fail:
	free(buf);
	close(fd);
	return GYM_EINVAL;
}

double
gym_config_secret_bits(const void *secret, size_t n)
{
	const unsigned char *p = secret;
	size_t count[256] = { 0 };
	double h = 0;

	for (size_t i = 0; i < n; i++)
		count[p[i]]++;
	for (int b = 0; b < 256; b++)
		if (count[b] > 0)
			h -= (double)count[b] / (double)n * log2((double)count[b] / (double)n);
	return h * (double)n;
}

static int
set_secret(const struct ckey *k, const char *val, struct gym_config *c, char *err, size_t errsz)
{
	char *s = NULL;
	size_t n = 0;
	double bits;
	int rc = -1;

	if (gym_secret_read(val, &s, &n, err, errsz) != GYM_OK)
		return -1;
	switch (k->type) {
	case C_TOKEN_SECRET:
		if (n < 32 || n > sizeof(c->token_secret)) {
			snprintf(err, errsz, "token secret must be 32 to 64 bytes");
			goto out;
		}
		if ((bits = gym_config_secret_bits(s, n)) < GYM_TOKEN_SECRET_MIN_BITS) {
			snprintf(err, errsz, "token secret %s looks guessable (about %.0f bits by "
			    "its letters' frequencies, at least %d needed): make one with "
			    "openssl rand -base64 36", val, bits, GYM_TOKEN_SECRET_MIN_BITS);
			goto out;
		}
		memcpy(c->token_secret, s, n);
		c->token_secret_len = n;
		break;
	case C_PII_KEYS:
		if (gym_pii_keys_parse(s, &c->pii, err, errsz) != GYM_OK)
			goto out;
		break;
	case C_APIV3_KEY:
		if (n != 32) {
			snprintf(err, errsz, "the APIv3 key must be 32 bytes");
			goto out;
		}
		memcpy(c->wx_apiv3_key, s, 32);
		c->wx_have_apiv3_key = 1;
		break;
	default:
		free(c->wx_app_secret);
		if ((c->wx_app_secret = strdup(s)) == NULL)
			goto out;
		break;
	}
	rc = 0;
out:
	gym_wipe(s, n);
	free(s);
	return rc;
}

static int
set_key(const struct ckey *k, char *val, struct gym_config *c, char *err, size_t errsz)
{
	char *serial, *path;
	struct stat st;

	if (k->type == C_ALI_APP_KEY) {
		if (stat(val, &st) == -1 || (st.st_mode & (S_IRWXG | S_IRWXO))) {
			snprintf(err, errsz, "alipay app key %s is missing or accessible by group or others", val);
			return -1;
		}
		EVP_PKEY_free(c->ali_app_key);
		c->ali_app_key = NULL;
		if (gym_key_load_private(val, &c->ali_app_key) != GYM_OK) {
			snprintf(err, errsz, "could not load alipay app key %s", val);
			return -1;
		}
		return 0;
	}
	if (k->type == C_ALI_PUB_KEY) {
		EVP_PKEY_free(c->ali_public_key);
		c->ali_public_key = NULL;
		if (gym_key_load_public(val, &c->ali_public_key) != GYM_OK) {
			snprintf(err, errsz, "could not load alipay public key %s", val);
			return -1;
		}
		return 0;
	}
	if (k->type == C_MERCHANT_KEY) {
		if (stat(val, &st) == -1 || (st.st_mode & (S_IRWXG | S_IRWXO))) {
			snprintf(err, errsz, "merchant key %s is missing or accessible by group or others", val);
			return -1;
		}
		EVP_PKEY_free(c->wx_merchant_key);
		c->wx_merchant_key = NULL;
		if (gym_key_load_private(val, &c->wx_merchant_key) != GYM_OK) {
			snprintf(err, errsz, "could not load merchant key %s", val);
			return -1;
		}
		return 0;
	}
	/* wx.platform_key = SERIAL PATH */
	serial = val;
	path = strpbrk(val, " \t");
	if (path == NULL) {
		snprintf(err, errsz, "wx.platform_key wants \"SERIAL PATH\"");
		return -1;
	}
	*path++ = '\0';
	path += strspn(path, " \t");
	if (gym_wx_keyring_add(&c->wx_platform, serial, path) != GYM_OK) {
		snprintf(err, errsz, "could not load platform key %s for serial %s", path, serial);
		return -1;
	}
	return 0;
}

/* "10 30 60 120 300": 1 to GYM_RECONCILE_POINTS_MAX ascending whole seconds. */
static int
set_schedule(const struct ckey *k, const char *val, struct gym_config *c, char *err,
    size_t errsz)
{
	const char *p = val;
	char *end;
	long v, last = 0;
	int n = 0;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || end == p || (*end != '\0' && strchr(" \t,", *end) == NULL) ||
		    v < k->min || v > k->max || v <= last || n == GYM_RECONCILE_POINTS_MAX) {
			snprintf(err, errsz, "%s wants 1 to %d ascending whole seconds from %d to %d "
			    "(\"10 30 60 120 300\")", k->name, GYM_RECONCILE_POINTS_MAX, k->min, k->max);
			return -1;
		}
		c->wx_reconcile_schedule[n++] = (int)v;
		last = v;
		p = end;
	}
	if (n == 0) {
		snprintf(err, errsz, "%s is empty", k->name);
		return -1;
	}
	c->wx_reconcile_points = n;
	return 0;
}

static int
set_value(const struct ckey *k, char *val, struct gym_config *c, char *err, size_t errsz)
{
	char *end, **sp;
	const char *num = val;
	long v;

	switch (k->type) {
	case C_STR:
		sp = (char **)((char *)c + k->off);
		free(*sp);
		if ((*sp = strdup(val)) == NULL)
			return -1;
		return 0;
	case C_INT:
	case C_BOOL:
		if (k->type == C_BOOL && (strcmp(val, "yes") == 0 || strcmp(val, "on") == 0))
			num = "1";
		else if (k->type == C_BOOL && (strcmp(val, "no") == 0 || strcmp(val, "off") == 0))
			num = "0";
		errno = 0;
		v = strtol(num, &end, 10);
		if (errno != 0 || *end != '\0' || end == num || v < k->min || v > k->max) {
			snprintf(err, errsz, "%s must be an integer from %d to %d", k->name, k->min, k->max);
			return -1;
		}
		*(int *)((char *)c + k->off) = (int)v;
		return 0;
	case C_SCHEDULE:
		return set_schedule(k, val, c, err, errsz);
	case C_PUSH_URL:
		if (c->push_urls >= GYM_PUSH_URLS_MAX) {
			snprintf(err, errsz, "push_url: at most %d (one per web host)", GYM_PUSH_URLS_MAX);
			return -1;
		}
		if (strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0) {
			snprintf(err, errsz, "push_url must be an http:// or https:// URL");
			return -1;
		}
		if ((c->push_url[c->push_urls] = strdup(val)) == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		c->push_urls++;
		return 0;
	case C_LATE_REFUND:
		if (strcmp(val, "operator") != 0 && strcmp(val, "auto") != 0) {
			snprintf(err, errsz, "late_payment_refund must be operator or auto");
			return -1;
		}
		c->late_payment_refund_auto = strcmp(val, "auto") == 0;
		return 0;
	case C_LOGLEVEL:
		if (gym_log_level_parse(val, &c->log_level) == -1) {
			snprintf(err, errsz, "log_level must be err, warn, info or debug");
			return -1;
		}
		return 0;
	case C_MERCHANT_KEY:
	case C_PLATFORM_KEY:
	case C_ALI_APP_KEY:
	case C_ALI_PUB_KEY:
		return set_key(k, val, c, err, errsz);
	default:
		return set_secret(k, val, c, err, errsz);
	}
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* HH:MM, 00:00 to 23:59. */
static int
bill_time_ok(const char *s)
{
	return strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    s[2] == ':' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) &&
	    (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6';
}

/* Alipay is optional: nothing of it configured, or all it needs. */
static int
validate_alipay(const struct gym_config *c, char *err, size_t errsz)
{
	static const char https[] = "https://";
	int any = c->ali_app_id != NULL || c->ali_app_key != NULL || c->ali_public_key != NULL ||
	    c->ali_gateway_url != NULL || c->ali_notify_url != NULL || c->ali_seller_id != NULL ||
	    c->ali_cainfo != NULL;

	if (!any)
		return 0;
	if (!gym_nonempty(c->ali_app_id) || strspn(c->ali_app_id, "0123456789") !=
	    strlen(c->ali_app_id) || strlen(c->ali_app_id) > 32)
		snprintf(err, errsz, "alipay.app_id is required (digits) once any alipay.* key is set");
	else if (c->ali_app_key == NULL)
		snprintf(err, errsz, "alipay.app_key_file is required once any alipay.* key is set");
	else if (c->ali_public_key == NULL)
		snprintf(err, errsz, "alipay.public_key_file is required once any alipay.* key is set");
	else if (c->ali_gateway_url == NULL || strncmp(c->ali_gateway_url, https,
	    strlen(https)) != 0 || strpbrk(c->ali_gateway_url, "?# \t") != NULL)
		snprintf(err, errsz, "alipay.gateway_url must be an https:// URL (.../gateway.do)");
	else if (c->ali_notify_url == NULL || strncmp(c->ali_notify_url, https,
	    strlen(https)) != 0 || strpbrk(c->ali_notify_url, "?# \t") != NULL)
		snprintf(err, errsz, "alipay.notify_url must be an https:// URL without a query");
	else if (c->ali_seller_id != NULL && (c->ali_seller_id[0] == '\0' ||
	    strspn(c->ali_seller_id, "0123456789") != strlen(c->ali_seller_id)))
		snprintf(err, errsz, "alipay.seller_id must be digits (the 2088... PID)");
	else
		return 0;
	return -1;
}

static int
validate(struct gym_config *c, char *err, size_t errsz)
{
	static const struct { size_t off; const char *name; } req[] = {
		{ offsetof(struct gym_config, listen), "listen" },
		{ offsetof(struct gym_config, db), "db" },
	};

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (*(char **)((char *)c + req[i].off) == NULL ||
		    **(char **)((char *)c + req[i].off) == '\0') {
			snprintf(err, errsz, "%s is required", req[i].name);
			return -1;
		}
	if (c->token_secret_len == 0) {
		snprintf(err, errsz, "token_secret_file is required");
		return -1;
	}
	if (c->pii.n == 0) {
		snprintf(err, errsz, "pii_keys_file is required (the keys that seal registration "
		    "details: docs/operations.md)");
		return -1;
	}
	if (gym_peers_parse(c->trusted_proxies_list != NULL ? c->trusted_proxies_list :
	    GYM_TRUSTED_PROXIES_DEFAULT, &c->trusted_proxies, err, errsz) != GYM_OK)
		return -1;
	if (c->wx_pay_base == NULL && (c->wx_pay_base = strdup("https://api.mch.weixin.qq.com")) == NULL)
		return -1;
	if (c->wx_api_base == NULL && (c->wx_api_base = strdup("https://api.weixin.qq.com")) == NULL)
		return -1;
	if (c->wx_description == NULL && (c->wx_description = strdup("体操馆-体验课")) == NULL)
		return -1;
	if (c->wx_mp_state != NULL && c->wx_mp_state[0] != '\0' &&
	    strcmp(c->wx_mp_state, "developer") != 0 && strcmp(c->wx_mp_state, "trial") != 0 &&
	    strcmp(c->wx_mp_state, "formal") != 0) {
		snprintf(err, errsz, "wx.miniprogram_state must be developer, trial or formal");
		return -1;
	}
	if (c->order_minutes < c->hold_minutes) {
		snprintf(err, errsz, "order_minutes must be at least hold_minutes");
		return -1;
	}
	if (c->reconcile_bill_time != NULL && strcmp(c->reconcile_bill_time, "off") != 0 &&
	    !bill_time_ok(c->reconcile_bill_time)) {
		snprintf(err, errsz, "reconcile_bill_time must be HH:MM (China time) or off");
		return -1;
	}
	return validate_alipay(c, err, errsz);
}

enum gym_err
gym_config_load(const char *file, struct gym_config *c, char *err, size_t errsz)
{
	FILE *fp;
	char line[4096], msg[512];
	int lineno = 0, bad = 0;

	defaults(c);
	if ((fp = fopen(file, "re")) == NULL) {
		snprintf(err, errsz, "could not open %s: %s", file, strerror(errno));
		return GYM_EINVAL;
	}
	while (!bad && fgets(line, sizeof(line), fp) != NULL) {
		char *key, *val, *eq;
		size_t i;

		lineno++;
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(msg, sizeof(msg), "expected key = value");
			bad = 1;
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(msg, sizeof(msg), "unknown key \"%s\"", key);
			bad = 1;
		} else if (set_value(&keys[i], val, c, msg, sizeof(msg)) == -1)
			bad = 1;
	}
	fclose(fp);
	/* reads keep at least one worker: by default all but one may wait on
	 * WeChat (at least one may) */
	if (c->upstream_workers == 0)
		c->upstream_workers = c->workers > 1 ? c->workers - 1 : 1;
	if (bad)
		snprintf(err, errsz, "%s:%d: %s", file, lineno, msg);
	else if (validate(c, msg, sizeof(msg)) == -1) {
		snprintf(err, errsz, "%s: %s", file, msg);
		bad = 1;
	}
	if (bad) {
		gym_config_free(c);
		return GYM_EINVAL;
	}
	return GYM_OK;
}

void
gym_config_free(struct gym_config *c)
{
	char **strs[] = { &c->listen, &c->db, &c->wx_appid, &c->wx_mchid,
	    &c->wx_merchant_serial, &c->wx_notify_url, &c->wx_refund_notify_url,
	    &c->wx_pay_base, &c->wx_api_base, &c->wx_cainfo, &c->wx_description,
	    &c->wx_tpl_confirmed, &c->wx_tpl_failed, &c->wx_tpl_refunded, &c->wx_tpl_waitlist,
	    &c->wx_tpl_rescheduled, &c->wx_tpl_class_cancelled, &c->wx_tpl_expiring,
	    &c->wx_tpl_purchased,
	    &c->wx_mp_state, &c->wx_message_page, &c->trusted_proxies_list,
	    &c->ali_app_id, &c->ali_gateway_url, &c->ali_notify_url, &c->ali_seller_id,
	    &c->ali_cainfo, &c->reconcile_bill_time };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	for (int i = 0; i < c->push_urls; i++) {
		free(c->push_url[i]);
		c->push_url[i] = NULL;
	}
	c->push_urls = 0;
	if (c->wx_app_secret != NULL) {
		gym_wipe(c->wx_app_secret, strlen(c->wx_app_secret));
		free(c->wx_app_secret);
	}
	EVP_PKEY_free(c->wx_merchant_key);
	gym_wx_keyring_free(&c->wx_platform);
	EVP_PKEY_free(c->ali_app_key);
	EVP_PKEY_free(c->ali_public_key);
	gym_wipe(c->token_secret, sizeof(c->token_secret));
	gym_pii_keys_wipe(&c->pii);
	gym_wipe(c->wx_apiv3_key, sizeof(c->wx_apiv3_key));
	memset(c, 0, sizeof(*c));
}

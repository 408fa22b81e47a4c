/*
 * config.h: gymd's and gymctl's configuration: a file of "key = value"
 * lines ('#' comments).  Secrets are read from files the config names; a
 * secret file that is group- or world-accessible is refused.
 */
#ifndef GYM_CONFIG_H
#define GYM_CONFIG_H

#include <stddef.h>
#include <openssl/evp.h>

#include "gym.h"
#include "log.h"
#include "peer.h"
#include "pii.h"
#include "wxsign.h"

/* The bound of workers: the master keeps fixed tables this size. */
#define GYM_WORKERS_MAX 256

/* The bound of job_processes.  Every job claims its rows with FOR UPDATE
 * SKIP LOCKED, so job processes share the work as several hosts would. */
#define GYM_JOB_PROCESSES_MAX 8
/* trusted_proxies when the file names none: nginx on this host. */
#define GYM_TRUSTED_PROXIES_DEFAULT "127.0.0.1 ::1 unix"

#define GYM_PUSH_URLS_MAX 8	/* web hosts live push publishes to */

struct gym_config {
	char *listen;		/* "HOST:PORT", "unix:PATH" or "systemd" */
	int workers;
	int max_requests;	/* per worker, 0 = no limit */
	int shutdown_timeout;	/* seconds before SIGKILL */
	int jobs;		/* 1: the master forks job processes */
	int job_processes;	/* how many, 1..GYM_JOB_PROCESSES_MAX */
	int job_interval_ms;
	int sweep_batch;
	char *db;		/* libpq conninfo */
	int db_lock_timeout_ms;
	enum gym_loglevel log_level;
	unsigned char token_secret[64];
	size_t token_secret_len;
	int token_ttl;		/* seconds */
	int trust_proxy;	/* take X-Request-Id / X-Real-IP from nginx */
	char *trusted_proxies_list;	/* as written; NULL: the default */
	struct gym_peers trusted_proxies;	/* ...the only peers they are taken from */
	int read_timeout;	/* seconds a connection has to send its request */
	int audit_refusals_per_minute;	/* audit rows of refused notifications */
	int idempotency_lease;	/* seconds an unfinished key is held */
	struct gym_pii_keys pii;	/* pii_keys_file: registration details */
	/* push_url, once per web host: Nchan's publisher location there (the
	 * channel is appended); none = live push off */
	char *push_url[GYM_PUSH_URLS_MAX];
	int push_urls;
	/* late_payment_refund: a payment that cannot have a seat (it came after
	 * the order ended and the seats were gone, or the parent has a trial
	 * already) waits in the operators' needs-attention queue (operator, 0,
	 * the default) or is refunded by the job at once (auto, 1) */
	int late_payment_refund_auto;
	int hold_minutes;	/* a seat hold's length (15) */
	int order_minutes;	/* an unpaid order's length (30), >= hold_minutes */
	int member_cancel_cutoff_minutes;	/* a member's cancel returns the credit
						 * up to this long before the class (120) */
	/* reconcile_bill_time: "HH:MM" China time after which the job
	 * reconciles yesterday's bills (WeChat's are ready after 10:00);
	 * NULL or "off": the job does not (gymctl reconcile still does) */
	char *reconcile_bill_time;
	/* reconcile_catchup_days: how many days back from yesterday the job
	 * reconciles a day it missed (a host down, a channel failing) (7) */
	int reconcile_catchup_days;
	int upstream_workers;	/* workers of this host inside a WeChat call at
				 * once (0 in the file: workers - 1, at least 1) */

	char *wx_appid;
	char *wx_mchid;
	char *wx_merchant_serial;
	char *wx_app_secret;	/* the mini program's AppSecret */
	EVP_PKEY *wx_merchant_key;
	struct gym_wx_keyring wx_platform;
	unsigned char wx_apiv3_key[32];
	int wx_have_apiv3_key;
	char *wx_notify_url;
	char *wx_refund_notify_url;
	char *wx_pay_base;	/* https://api.mch.weixin.qq.com */
	char *wx_api_base;	/* https://api.weixin.qq.com */
	char *wx_cainfo;	/* CA file for tests; empty = system store */
	char *wx_description;
	int wx_connect_timeout_ms;
	int wx_timeout_ms;
	int wx_reconcile_after_s;
	/* wx.reconcile_schedule: a pending order with a prepay is asked about
	 * at these ages in seconds (ascending), then every last one */
#define GYM_RECONCILE_POINTS_MAX 8
	int wx_reconcile_schedule[GYM_RECONCILE_POINTS_MAX];
	int wx_reconcile_points;
	int wx_query_spacing_s;	/* a confirm asks WeChat about an order at most
				 * once this often (0: every time) */
	char *wx_tpl_confirmed;
	char *wx_tpl_failed;
	char *wx_tpl_refunded;
	char *wx_tpl_waitlist;
	char *wx_tpl_expiring;		/* wx.template_expiring (issue 15) */
	char *wx_tpl_purchased;	/* wx.template_purchased: a membership or pack paid */
	char *wx_tpl_rescheduled;	/* a class moved or renamed */
	char *wx_tpl_class_cancelled;	/* the gym cancelled a class */
	int notify_max_attempts;
	int notify_backoff_base_ms;	/* first retry after 2x this */
	char *wx_mp_state;		/* miniprogram_state: developer|trial|formal */
	char *wx_message_page;		/* page a message opens, or NULL */

	/* Alipay (optional: all NULL when not configured; see alipay.h) */
	char *ali_app_id;
	EVP_PKEY *ali_app_key;		/* the app private key (signs requests) */
	EVP_PKEY *ali_public_key;	/* Alipay's public key (verifies answers) */
	char *ali_gateway_url;		/* https://openapi.alipay.com/gateway.do */
	char *ali_notify_url;
	char *ali_seller_id;		/* our PID, checked in notifications; NULL */
	char *ali_cainfo;		/* CA file for tests; NULL = system store */
};

/* Read and validate FILE.  On failure returns GYM_EINVAL and writes a
 * human message ("FILE:LINE: ...") into err. */
enum gym_err gym_config_load(const char *file, struct gym_config *, char *err, size_t errsz);
void gym_config_free(struct gym_config *);

/* A token secret must have at least this many bits by the estimate below. */
#define GYM_TOKEN_SECRET_MIN_BITS 96
/* An estimate of a secret's entropy in bits: its length times the Shannon
 * entropy of its byte frequencies.  32 x 'a' is 0; 48 hex digits from
 * openssl rand -hex 24 about 180; 48 characters of -base64 36 about 250. */
double gym_config_secret_bits(const void *secret, size_t n);

/* Read a secret file: refuses modes with group/other bits, trims trailing
 * whitespace.  *out is malloc'd; wipe and free it. */
enum gym_err gym_secret_read(const char *path, char **out, size_t *len, char *err, size_t errsz);

#endif

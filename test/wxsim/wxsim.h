/*
 * wxsim.h: the simulator's context (configuration, keys, shared state,
 * scheduler) and the handler type every endpoint implements.
 */
#ifndef WXSIM_H
#define WXSIM_H

#include <stdatomic.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "http.h"

#define WXSIM_DEFAULT_MCHID		"1900000001"
#define WXSIM_DEFAULT_APPID		"wxd678efh567hg6787"
#define WXSIM_DEFAULT_MERCHANT_SERIAL	"3775B6A45ACD588826D15E583A95F5DD2C0B1A44"
#define WXSIM_DEFAULT_PLATFORM_SERIAL	"5157F09EFDC096DE15EBE81A47057A7232F4DC7C"

struct wxsim_state;
struct wxsim_sched;

struct wxsim_config {
	const char *listen;		/* host:port, loopback only */
	const char *tls_listen;		/* host:port for TLS, or NULL */
	const char *tls_cert, *tls_key;	/* PEM files for tls_listen */
	const char *keys_dir;
	const char *mchid, *appid;
	const char *merchant_serial;	/* accepted in Authorization */
	const char *platform_serial;	/* put on responses and notifications */
	double retry_scale;		/* multiplies notification retry delays */
	const char *notify_cainfo;	/* CA file for https notify URLs */
	const char *secret_file;
	const char *pidfile;
	long refund_delay_ms;		/* PROCESSING -> SUCCESS */
	char *secret;			/* the app secret read from secret_file */
};

struct wxsim {
	struct wxsim_config cfg;
	EVP_PKEY *merchant_pub;		/* verifies merchant requests and paySign */
	EVP_PKEY *platform_key;		/* signs responses and notifications */
	unsigned char apiv3_key[32];
	struct wxsim_state *state;
	struct wxsim_sched *sched;
	atomic_int stop;		/* set on SIGTERM/SIGINT */
};

/* Every endpoint: read req, fill resp (status, body, headers). */
typedef void wxsim_handler(struct wxsim *, const struct wxsim_req *, struct wxsim_resp *);

#endif

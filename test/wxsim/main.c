/*
 * main.c: wxsim, an offline WeChat Pay APIv3 and mini program server for
 * tests.  Reads the options and keys, listens on one loopback address
 * (plain HTTP/1.1; nginx supplies TLS in the full stack) and, with
 * --tls-listen, on a second one where it speaks TLS itself with
 * --tls-cert/--tls-key (what check_integ's lib client talks to, without
 * nginx; the handshake is bounded by TLS_HANDSHAKE_MS).  Both serve the
 * same routes.  test/run_all.sh starts it so for check_integ, whose
 * suites reach it through test/harness/simtest.h.  Each connection is answered in its own detached thread,
 * one request per connection.
 * SIGTERM or SIGINT stops accepting, waits for the requests in progress,
 * stops the notification workers and frees everything.
 *
 * Endpoints (route.c has the table):
 *   signed APIv3: POST /v3/pay/transactions/{jsapi,native},
 *     GET /v3/pay/transactions/out-trade-no/{no}?mchid=, GET .../id/{txid}?mchid=,
 *     POST .../out-trade-no/{no}/close, POST /v3/refund/domestic/refunds,
 *     GET /v3/refund/domestic/refunds/{out_refund_no}
 *   mini program: GET /sns/jscode2session, POST /cgi-bin/stable_token,
 *     POST /cgi-bin/message/subscribe/send?access_token=
 *   control: GET|POST /sim/pay, POST /sim/request-payment, GET|POST /sim/faults,
 *     POST /sim/reset, GET|POST /sim/clock, GET /sim/orders[/{no}],
 *     GET /sim/refunds, GET /sim/stats, GET /sim/messages,
 *     GET /sim/notifications, GET|POST /sim/bill-faults, GET /healthz
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto.h"

#include "http.h"
#include "notify.h"
#include "route.h"
#include "sched.h"
#include "state.h"
#include "tls.h"
#include "util.h"
#include "wxsim.h"

#define MAX_CONNS	256
#define IO_TIMEOUT_S	10
#define DRAIN_WAIT_S	15
#define NOTIFY_WORKERS	8
#define TLS_HANDSHAKE_MS 5000

struct conn {
	struct wxsim *sim;
	int fd;
	SSL_CTX *tls;		/* NULL: plain HTTP */
	char peer[64];
};

static struct wxsim sim;
static SSL_CTX *tls_ctx;
static int sigpipe_fds[2] = { -1, -1 };
static pthread_mutex_t conn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cv = PTHREAD_COND_INITIALIZER;
static size_t conn_active;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wxsim --listen 127.0.0.1:PORT --keys DIR [--mchid ID] [--appid ID]\n"
	    "             [--merchant-serial S] [--platform-serial S] [--retry-scale F]\n"
	    "             [--notify-cainfo FILE] [--secret-file F] [--pidfile F]\n"
	    "             [--refund-delay-ms N]\n"
	    "             [--tls-listen 127.0.0.1:PORT --tls-cert PEM --tls-key PEM]\n");
}

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	atomic_store(&sim.stop, 1);
	if (sigpipe_fds[1] >= 0 && write(sigpipe_fds[1], &c, 1) < 0) {
		/* the flag alone will do */
	}
	errno = saved;
}

static int
known_option(const char *name)
{
	static const char *const opts[] = {
		"--listen", "--keys", "--mchid", "--appid", "--merchant-serial",
		"--platform-serial", "--retry-scale", "--notify-cainfo", "--secret-file",
		"--pidfile", "--refund-delay-ms", "--tls-listen", "--tls-cert", "--tls-key",
	};
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(name, opts[i]) == 0)
			return 1;
	return 0;
}

/* Options into cfg; 0, or -1 after saying what is wrong. */
static int
parse_args(int argc, char **argv, struct wxsim_config *cfg)
{
	const char *name, *val;
	char *end;
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mchid = WXSIM_DEFAULT_MCHID;
	cfg->appid = WXSIM_DEFAULT_APPID;
	cfg->merchant_serial = WXSIM_DEFAULT_MERCHANT_SERIAL;
	cfg->platform_serial = WXSIM_DEFAULT_PLATFORM_SERIAL;
	cfg->retry_scale = 1.0;
	cfg->refund_delay_ms = 200;
	for (i = 1; i < argc; i++) {
		name = argv[i];
		if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
			usage();
			exit(0);
		}
		if (!known_option(name)) {
			fprintf(stderr, "wxsim: unknown option %s\n", name);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "wxsim: %s needs a value\n", name);
			return -1;
		}
		val = argv[++i];
		if (strcmp(name, "--listen") == 0)
			cfg->listen = val;
		else if (strcmp(name, "--keys") == 0)
			cfg->keys_dir = val;
		else if (strcmp(name, "--mchid") == 0)
			cfg->mchid = val;
		else if (strcmp(name, "--appid") == 0)
			cfg->appid = val;
		else if (strcmp(name, "--merchant-serial") == 0)
			cfg->merchant_serial = val;
		else if (strcmp(name, "--platform-serial") == 0)
			cfg->platform_serial = val;
		else if (strcmp(name, "--notify-cainfo") == 0)
			cfg->notify_cainfo = val;
		else if (strcmp(name, "--secret-file") == 0)
			cfg->secret_file = val;
		else if (strcmp(name, "--pidfile") == 0)
			cfg->pidfile = val;
		else if (strcmp(name, "--tls-listen") == 0)
			cfg->tls_listen = val;
		else if (strcmp(name, "--tls-cert") == 0)
			cfg->tls_cert = val;
		else if (strcmp(name, "--tls-key") == 0)
			cfg->tls_key = val;
		else if (strcmp(name, "--retry-scale") == 0) {
			errno = 0;
			cfg->retry_scale = strtod(val, &end);
			if (errno != 0 || *end != '\0' || !(cfg->retry_scale > 0) ||
			    cfg->retry_scale > 1000) {
				fprintf(stderr, "wxsim: bad --retry-scale %s\n", val);
				return -1;
			}
		} else if (strcmp(name, "--refund-delay-ms") == 0) {
			errno = 0;
			cfg->refund_delay_ms = strtol(val, &end, 10);
			if (errno != 0 || *end != '\0' || cfg->refund_delay_ms < 0 ||
			    cfg->refund_delay_ms > 3600000) {
				fprintf(stderr, "wxsim: bad --refund-delay-ms %s\n", val);
				return -1;
			}
		} else {
			fprintf(stderr, "wxsim: unknown option %s\n", name);
			return -1;
		}
	}
	if (cfg->listen == NULL || cfg->keys_dir == NULL) {
		fprintf(stderr, "wxsim: --listen and --keys are required\n");
		return -1;
	}
	if ((cfg->tls_listen != NULL) != (cfg->tls_cert != NULL) ||
	    (cfg->tls_listen != NULL) != (cfg->tls_key != NULL)) {
		fprintf(stderr, "wxsim: --tls-listen, --tls-cert and --tls-key go together\n");
		return -1;
	}
	if (cfg->mchid[0] == '\0' || cfg->appid[0] == '\0' ||
	    cfg->merchant_serial[0] == '\0' || cfg->platform_serial[0] == '\0' ||
	    strlen(cfg->platform_serial) > 95) {
		fprintf(stderr, "wxsim: empty or overlong id\n");
		return -1;
	}
	return 0;
}

/* Read the keys from cfg.keys_dir into s; 0 or -1. */
static int
load_keys(struct wxsim *s)
{
	char path[4096], serial[96], *v3 = NULL;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/merchant_cert.pem", s->cfg.keys_dir);
	if (gym_key_load_public(path, &s->merchant_pub) != GYM_OK) {
		wxsim_util_log("could not load %s", path);
		goto out;
	}
	if (gym_cert_serial(path, serial, sizeof(serial)) == GYM_OK &&
	    strcmp(serial, s->cfg.merchant_serial) != 0)
		wxsim_util_log("warning: %s has serial %s but requests must carry %s",
		    path, serial, s->cfg.merchant_serial);
	snprintf(path, sizeof(path), "%s/platform_key.pem", s->cfg.keys_dir);
	if (gym_key_load_private(path, &s->platform_key) != GYM_OK) {
		wxsim_util_log("could not load %s", path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/apiv3_key.txt", s->cfg.keys_dir);
	if ((v3 = wxsim_util_read_file(path, 256)) == NULL || strlen(v3) != 32) {
		wxsim_util_log("%s must hold a 32-byte APIv3 key", path);
		goto out;
	}
	memcpy(s->apiv3_key, v3, 32);
	if (s->cfg.secret_file != NULL &&
	    (s->cfg.secret = wxsim_util_read_file(s->cfg.secret_file, 1024)) == NULL) {
		wxsim_util_log("could not read the secret file %s", s->cfg.secret_file);
		goto out;
	}
	rc = 0;
out:
	if (v3 != NULL)
		gym_wipe(v3, strlen(v3));
	free(v3);
	return rc;
}

/* Bind and listen on host:port, loopback only; the socket or -1. */
static int
listen_on(const char *spec)
{
	struct addrinfo hints, *ai = NULL;
	char host[64], port[16];
	const char *colon;
	size_t hlen;
	int fd = -1, on = 1, loopback;

	if ((colon = strrchr(spec, ':')) == NULL || colon == spec ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(port) ||
	    (hlen = (size_t)(colon - spec)) >= sizeof(host)) {
		wxsim_util_log("bad --listen %s (want 127.0.0.1:PORT)", spec);
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		wxsim_util_log("bad --listen %s (numeric address and port)", spec);
		return -1;
	}
	loopback = (ai->ai_family == AF_INET &&
	    (ntohl(((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127) ||
	    (ai->ai_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr));
	if (!loopback) {
		wxsim_util_log("refusing to listen on %s: not a loopback address", host);
		goto fail;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		wxsim_util_log("could not listen on %s: %s", spec, strerror(errno));
		goto fail;
	}
	freeaddrinfo(ai);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

/* After an error answer, read what the client still sends for a moment,
 * so closing does not reset the connection before it reads the answer
 * (on TLS: after our close_notify, the raw records are read and dropped). */
static void
drain(struct wxsim_io *io)
{
	struct timeval tv = { 0, 200000 };
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	if (io->ssl != NULL) {
		wxsim_tls_close(io->ssl);
		io->ssl = NULL;
	}
	if (shutdown(io->fd, SHUT_WR) != 0 ||
	    setsockopt(io->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return;
	while (total < 2 * WXSIM_HTTP_MAX_BODY && (n = recv(io->fd, buf, sizeof(buf), 0)) > 0)
		total += (size_t)n;
}

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	struct wxsim_req req;
	struct wxsim_resp resp;
	struct wxsim_io io = { c->fd, NULL };
	int64_t t0 = wxsim_util_mono_ms();
	int st;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	if (c->tls != NULL &&
	    (io.ssl = wxsim_tls_accept(c->tls, c->fd, TLS_HANDSHAKE_MS, c->peer)) == NULL) {
		/* logged; nothing to answer */
	} else if (wxsim_http_read(&io, &req, &st) != 0) {
		if (st != 0) {
			wxsim_resp_error(&resp, st, st == 413 ? "REQUEST_TOO_LARGE" :
			    "INVALID_REQUEST", "bad HTTP request");
			if (wxsim_http_write(&io, &resp) == 0)
				drain(&io);
			wxsim_util_log("%s bad request: %d", c->peer, st);
		}
	} else {
		snprintf(req.peer, sizeof(req.peer), "%s", c->peer);
		wxsim_route_dispatch(c->sim, &req, &resp);
		if (resp.status == 0)
			wxsim_resp_set(&resp, 500, NULL, NULL, 0);
		if (wxsim_http_write(&io, &resp) != 0)
			wxsim_util_log("%s %s %s: could not write the answer", c->peer,
			    req.method, req.path);
		/* the path only: queries may carry secrets */
		wxsim_util_log("%s %s %s %d %zuB %lldms", c->peer, req.method, req.path,
		    resp.status, resp.blen, (long long)(wxsim_util_mono_ms() - t0));
	}
	wxsim_http_req_free(&req);
	wxsim_resp_free(&resp);
	wxsim_tls_close(io.ssl);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&conn_mu);
	conn_active--;
	pthread_cond_broadcast(&conn_cv);
	pthread_mutex_unlock(&conn_mu);
	return NULL;
}

/* Start a thread for an accepted connection (the caller's signal mask is
 * blocked for TERM and INT so only the main thread takes them). */
static void
serve(int fd, const struct sockaddr_storage *ss, SSL_CTX *tls)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	pthread_attr_t attr;
	pthread_t t;
	struct conn *c;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0, busy;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	pthread_mutex_lock(&conn_mu);
	busy = conn_active >= MAX_CONNS;
	if (!busy)
		conn_active++;
	pthread_mutex_unlock(&conn_mu);
	if (busy || (c = calloc(1, sizeof(*c))) == NULL) {
		wxsim_util_log("%s: dropping a connection (%s)", host, busy ? "busy" : "no memory");
		close(fd);
		if (!busy)
			goto undo;
		return;
	}
	c->sim = &sim;
	c->fd = fd;
	c->tls = tls;
	snprintf(c->peer, sizeof(c->peer), "%s%s:%d", tls ? "tls " : "", host, port);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		wxsim_util_log("%s: could not set socket timeouts", c->peer);
	if (pthread_attr_init(&attr) != 0) {
		close(fd);
		free(c);
		goto undo;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, conn_main, c) != 0) {
		wxsim_util_log("%s: could not start a thread", c->peer);
		pthread_attr_destroy(&attr);
		close(fd);
		free(c);
		goto undo;
	}
	pthread_attr_destroy(&attr);
	return;
undo:
	pthread_mutex_lock(&conn_mu);
	conn_active--;
	pthread_cond_broadcast(&conn_cv);
	pthread_mutex_unlock(&conn_mu);
}

/* Accept one connection on lfd (tls: its TLS context, or NULL). */
static void
accept_one(int lfd, SSL_CTX *tls)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	sigset_t block, old;
	int fd;

	if ((fd = accept(lfd, (struct sockaddr *)&ss, &sl)) < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
			wxsim_util_log("accept: %s; pausing", strerror(errno));
			wxsim_util_sleep_ms(100, &sim.stop);
		}
		return;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		wxsim_util_log("could not set FD_CLOEXEC");
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	serve(fd, &ss, tls);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Accept on the plain listener lfd and the TLS one tfd (-1: none) until
 * a signal arrives. */
static void
accept_loop(int lfd, int tfd)
{
	struct pollfd pfd[3];

	while (!atomic_load(&sim.stop)) {
		pfd[0].fd = sigpipe_fds[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = lfd;
		pfd[1].events = POLLIN;
		pfd[2].fd = tfd;	/* poll ignores a negative fd */
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		if (poll(pfd, 3, 1000) < 0) {
			if (errno != EINTR)
				wxsim_util_log("poll: %s", strerror(errno));
			continue;
		}
		if (pfd[0].revents != 0)
			break;
		if (pfd[1].revents & POLLIN)
			accept_one(lfd, NULL);
		if (tfd >= 0 && (pfd[2].revents & POLLIN))
			accept_one(tfd, tls_ctx);
	}
}

/* Wait for the connection threads to finish; 1 when they all did. */
static int
wait_conns(void)
{
	struct timespec ts;
	int done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DRAIN_WAIT_S;
	pthread_mutex_lock(&conn_mu);
	while (conn_active > 0)
		if (pthread_cond_timedwait(&conn_cv, &conn_mu, &ts) == ETIMEDOUT)
			break;
	done = conn_active == 0;
	pthread_mutex_unlock(&conn_mu);
	return done;
}

static int
write_pidfile(const char *path)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		wxsim_util_log("could not write %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		wxsim_util_log("could not write %s", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, old;
	int lfd = -1, tfd = -1, rc = 1, curl_ok = 0, all_done = 1;

	if (parse_args(argc, argv, &sim.cfg) != 0) {
		usage();
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (pipe(sigpipe_fds) != 0 ||
	    fcntl(sigpipe_fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(sigpipe_fds[1], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(sigpipe_fds[1], F_SETFL, O_NONBLOCK) != 0) {
		wxsim_util_log("pipe: %s", strerror(errno));
		goto out;
	}
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
		wxsim_util_log("sigaction: %s", strerror(errno));
		goto out;
	}
	if (load_keys(&sim) != 0)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		wxsim_util_log("curl_global_init failed");
		goto out;
	}
	curl_ok = 1;
	if ((sim.state = wxsim_state_new()) == NULL) {
		wxsim_util_log("out of memory");
		goto out;
	}
	wxsim_notify_init(&sim);
	if ((lfd = listen_on(sim.cfg.listen)) < 0)
		goto out;
	if (sim.cfg.tls_listen != NULL &&
	    ((tls_ctx = wxsim_tls_ctx_new(sim.cfg.tls_cert, sim.cfg.tls_key)) == NULL ||
	    (tfd = listen_on(sim.cfg.tls_listen)) < 0))
		goto out;
	/* The workers never take TERM or INT. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (wxsim_sched_new(NOTIFY_WORKERS, &sim.sched) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		wxsim_util_log("could not start the notification workers");
		goto out;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (sim.cfg.pidfile != NULL && write_pidfile(sim.cfg.pidfile) != 0)
		goto out;
	wxsim_util_log("listening on %s%s%s (mchid %s, appid %s, serial %s, retry scale %g)",
	    sim.cfg.listen, tfd >= 0 ? ", TLS on " : "", tfd >= 0 ? sim.cfg.tls_listen : "",
	    sim.cfg.mchid, sim.cfg.appid, sim.cfg.platform_serial, sim.cfg.retry_scale);
	accept_loop(lfd, tfd);
	atomic_store(&sim.stop, 1);
	wxsim_util_log("stopping");
	close(lfd);
	lfd = -1;
	if (tfd >= 0)
		close(tfd);
	tfd = -1;
	if (!(all_done = wait_conns()))
		wxsim_util_log("requests still running; exiting without freeing");
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	if (tfd >= 0)
		close(tfd);
	if (sim.cfg.pidfile != NULL && rc == 0)
		unlink(sim.cfg.pidfile);
	if (!all_done)
		return rc;
	SSL_CTX_free(tls_ctx);
	wxsim_sched_free(sim.sched);
	wxsim_state_free(sim.state);
	EVP_PKEY_free(sim.merchant_pub);
	EVP_PKEY_free(sim.platform_key);
	gym_wipe(sim.apiv3_key, sizeof(sim.apiv3_key));
	if (sim.cfg.secret != NULL) {
		gym_wipe(sim.cfg.secret, strlen(sim.cfg.secret));
		free(sim.cfg.secret);
	}
	if (curl_ok)
		curl_global_cleanup();
	if (sigpipe_fds[0] >= 0)
		close(sigpipe_fds[0]);
	if (sigpipe_fds[1] >= 0)
		close(sigpipe_fds[1]);
	return rc;
}

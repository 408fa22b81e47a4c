/*
 * worker.c: the accept loop of one worker process, and the path of one
 * request through it: params (req.c), route, body cap and dispatch
 * (answer.c), answer (resp.c), log line, metrics.
 *
 * Signals: SIGTERM is blocked except while the worker waits for the next
 * request (epoll_pwait/pselect swap the mask atomically), so a stop never
 * interrupts a request in flight and cannot slip into the gap before
 * accept() that libfcgi leaves open.  The handler is installed without
 * SA_RESTART and before FCGX_Init, so libfcgi keeps its hands off SIGTERM,
 * and it only sets a flag.  It does not call FCGX_ShutdownPending(): with
 * EPOLLEXCLUSIVE (Linux 4.5+) the kernel wakes one idle worker per new
 * connection, and a worker woken together with its SIGTERM must still
 * accept that connection, which libfcgi refuses once shutdown is pending
 * (the connection would then wait in the backlog for the next wake-up, or
 * until nginx times out when no other request comes).  So: an event
 * returned by the wait is always accepted and served, then the flag is
 * looked at.  The listening socket is non-blocking: a worker that loses
 * the race for a connection gets EAGAIN and goes back to waiting instead
 * of blocking in accept() with SIGTERM masked.
 *
 * Read deadline (read_timeout, issue 13 finding 4): libfcgi reads a new
 * connection's params inside FCGX_Accept_r, blocking, so a peer that
 * connects and sends nothing used to hold the worker for good (six idle
 * connections stopped the service).  Two bounds: SO_RCVTIMEO on the
 * listening socket, which TCP connections inherit, ends any read that
 * waits read_timeout seconds; and a one-shot timer (SIGALRM, SA_RESTART),
 * armed before the accept and cleared once the body is read, shuts the
 * connection down when its whole request took longer (a peer trickling a
 * byte at a time, or a UNIX socket, which inherits no SO_RCVTIMEO).  libfcgi
 * then closes the connection and returns to the accept, which the
 * non-blocking listening socket ends with EAGAIN when no one else waits.
 */
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "metrics.h"
#include "worker.h"

#define WAIT_MS 1000		/* how often an idle worker looks at getppid() */
/* A busy worker takes up to this many connections straight from the
 * (non-blocking) listening socket before it waits again; the wait is where
 * SIGTERM gets through and the master is looked at, so a stop or reload
 * is at most this many requests away.  Saves the wait's two system calls
 * per request under load (docs/performance.md). */
#define BURST_MAX 32

static volatile sig_atomic_t stop;
/* The peer of the connection being served, as accept() gave it. */
static struct sockaddr_storage peer;
static socklen_t peer_len;
/* The request whose connection is under the read deadline, or NULL. */
static FCGX_Request *volatile deadline_req;
static volatile sig_atomic_t deadline_hit;
/* The one-shot timer is (or may be) running. */
static volatile sig_atomic_t deadline_armed;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* The read deadline passed: end the connection being read (libfcgi's
 * blocked read returns end of file). */
static void
on_alarm(int sig)
{
	int fd = deadline_req != NULL ? deadline_req->ipcFd : -1;

	(void)sig;
	deadline_armed = 0;
	if (fd >= 0) {
		(void)shutdown(fd, SHUT_RDWR);
		deadline_hit = 1;
	}
}

/* Start (seconds > 0) or clear (0) the read deadline of r's connection.
 * Clearing a deadline that is not armed is no system call: serve() clears
 * it once more after the answer, which used to be a third setitimer per
 * request.  The timer must not fire unless a deadline passed: a SIGALRM
 * during libfcgi's poll() ends it with EINTR and drops a healthy
 * connection (a timer left running to save the calls did exactly that). */
static void
deadline(FCGX_Request *r, int seconds)
{
	struct itimerval it;

	if (seconds == 0 && !deadline_armed) {
		deadline_req = NULL;
		return;
	}
	memset(&it, 0, sizeof(it));
	deadline_req = seconds > 0 ? r : NULL;
	it.it_value.tv_sec = seconds;
	(void)setitimer(ITIMER_REAL, &it, NULL);
	deadline_armed = seconds > 0;
	if (seconds == 0)
		deadline_req = NULL;
}

/* The request is read: its handler has its own bounds. */
static void
deadline_clear(void)
{
	deadline(NULL, 0);
}

/*
 * SIGTERM handled (and blocked outside the waits), SIGINT and SIGHUP
 * ignored (a terminal sends them to the whole group; the master decides),
 * SIGUSR1 ignored (libfcgi would otherwise make it a silent shutdown),
 * SIGPIPE ignored (a vanished web server is a write error).  *waitmask
 * receives the mask to wait with.  0 on success, -1 on failure.
 */
static int
signals_setup(sigset_t *waitmask)
{
	static const int ignored[] = { SIGINT, SIGHUP, SIGUSR1, SIGPIPE };
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (sigaction(ignored[i], &sa, NULL) == -1)
			return -1;
	sa.sa_handler = on_term;
	sa.sa_flags = 0;	/* no SA_RESTART: the waits must return */
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;	/* libfcgi's reads go on, to end of file */
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		return -1;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_SETMASK, &block, NULL) == -1)
		return -1;
	sigemptyset(waitmask);
	return 0;
}

static int64_t
elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/* Serve one accepted request from params to log line; frees all of it. */
static void
serve(struct gym_ctx *ctx, FCGX_Request *r)
{
	struct gym_reqbuf rb;
	struct gym_resp resp;
	struct gym_body_src in = { gym_body_fcgx, r->in, deadline_clear };
	const struct gym_route *route = NULL;
	struct timespec t0;
	enum gym_err e;
	int64_t us;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	gym_metrics_serving(-1, NULL, NULL);
	memset(&resp, 0, sizeof(resp));
	/* the peer as accept() gave it: no getpeername() */
	ctx->peer_trusted = gym_peers_match(&ctx->cfg->trusted_proxies,
	    (const struct sockaddr *)&peer, peer_len, ctx->peer_addr, sizeof(ctx->peer_addr));
	e = gym_req_read(&rb, r->envp, ctx);
	gym_log_set_request_id(rb.rid);
	if (e != GYM_OK) {
		gym_req_drain(&in);
		gym_error_response(e, &rb.req, &resp);
	} else
		route = gym_answer(ctx, &rb, &in, &resp, &e);
	deadline(NULL, 0);
	gym_resp_write(r->out, &resp, rb.rid);

	status = resp.status ? resp.status : 200;
	us = elapsed_us(&t0);
	/* never the query string (tokens, codes), a header or a body */
	gym_log_infox("method=%.16s route=%.128s status=%d ms=%.1f%s%s",
	    rb.req.method, route ? route->pattern : rb.req.path, status,
	    (double)us / 1000.0, e != GYM_OK ? " err=" : "",
	    e != GYM_OK ? gym_strerror(e) : "");
	gym_metrics_request(route ? gym_route_index(route) : -1,
	    route ? route->method : NULL, route ? route->pattern : NULL, status, us);

	gym_req_free(&rb);
	free(resp.body);
	gym_log_set_request_id(NULL);
	gym_metrics_idle();
	ctx->requests++;
}

/* Wait up to WAIT_MS for fd to be readable with SIGTERM deliverable.
 * 1 readable, 0 timeout or signal, -1 error. */
static int
wait_fd(int fd, const sigset_t *waitmask)
{
	struct timespec ts = { WAIT_MS / 1000, (WAIT_MS % 1000) * 1000000L };
	fd_set rfds;
	int n;

	if (fd >= FD_SETSIZE) {
		errno = EBADF;
		return -1;
	}
	FD_ZERO(&rfds);
	FD_SET(fd, &rfds);
	if ((n = pselect(fd + 1, &rfds, NULL, NULL, &ts, waitmask)) == -1 && errno == EINTR)
		return 0;
	return n > 0 ? 1 : n;
}

/* The same for the shared listening socket, through the exclusive epoll set. */
static int
wait_listen(int ep, const sigset_t *waitmask)
{
	struct epoll_event ev;
	int n;

	if ((n = epoll_pwait(ep, &ev, 1, WAIT_MS, waitmask)) == -1 && errno == EINTR)
		return 0;
	return n > 0 ? 1 : n;
}

static int
listen_setup(int listen_fd, int read_timeout)
{
	struct timeval tv = { read_timeout + 1, 0 };	/* the timer goes first */
	struct epoll_event ev;
	int fl, ep;

	/* inherited by every TCP connection accepted from it (see above) */
	if (setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		gym_log_warn("could not set the listening socket's read timeout");

	if ((fl = fcntl(listen_fd, F_GETFL)) == -1 ||
	    fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		gym_log_err("could not make the listening socket non-blocking");
		return -1;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		gym_log_err("could not create an epoll set");
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = listen_fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) == -1) {
		gym_log_err("could not watch the listening socket");
		close(ep);
		return -1;
	}
	return ep;
}

/* 1 for accept errors worth a pause and a retry (slowcgi's EMFILE rule). */
static int
accept_pause(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/*
 * Take the next connection from the (non-blocking) listening socket into r.
 * Done here rather than in libfcgi's FCGX_Accept_r: a failed try (another
 * worker took it) is one system call, with no read deadline set and cleared
 * around it, and libfcgi's 2-second readability poll of each new UNIX
 * connection is left out (the read deadline covers a silent peer).  Marked
 * kept, the connection is read by FCGX_Accept_r as is; the request's own
 * flags (FCGI_KEEP_CONN) then decide whether it stays open after the answer.
 * 0, or -errno.
 */
static int
accept_conn(int listen_fd, FCGX_Request *r)
{
	int fd;

	peer_len = sizeof(peer);
	if ((fd = accept(listen_fd, (struct sockaddr *)&peer, &peer_len)) == -1)
		return -errno;
	r->ipcFd = fd;
	r->keepConnection = 1;
	return 0;
}

int
gym_worker_run(const struct gym_config *cfg, int listen_fd)
{
	struct gym_ctx ctx;
	FCGX_Request r;
	sigset_t waitmask;
	pid_t master = getppid();
	int ep = -1, rc = 1, n, a, burst = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	if (signals_setup(&waitmask) == -1) {
		gym_log_err("could not set up the worker's signals");
		return 1;
	}
	if (FCGX_Init() != 0) {
		gym_log_errx("could not initialise libfcgi");
		return 1;
	}
	/* no listening socket for libfcgi: every connection is accepted by
	 * accept_conn, which knows its peer.  When a connection ends before a
	 * whole request, FCGX_Accept_r would accept the next one itself; with
	 * -1 that accept fails (EBADF), and the loop goes round instead. */
	if (FCGX_InitRequest(&r, -1, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		gym_log_errx("could not initialise a FastCGI request");
		return 1;
	}
	if ((ep = listen_setup(listen_fd, cfg->read_timeout)) == -1)
		goto out;
	gym_log_debugx("worker ready");
	while (!stop) {
		/* a kept connection (fastcgi_keep_conn) carries the next request;
		 * the worker stays with it until nginx closes it, which is why
		 * nginx/gym.conf keeps fastcgi_keep_conn off */
		if (r.ipcFd >= 0)
			n = wait_fd(r.ipcFd, &waitmask);
		else
			n = burst > 0 ? 1 : wait_listen(ep, &waitmask);
		if (n == -1) {
			gym_log_err("could not wait for requests");
			goto out;
		}
		/* the master's death is a SIGTERM (PR_SET_PDEATHSIG, master.c);
		 * an idle worker also looks, in case that was missed */
		if (n == 0) {
			if (getppid() != master) {
				gym_log_warnx("the master is gone, exiting");
				break;
			}
			continue;
		}
		/* A new connection is accepted here, not by libfcgi (see
		 * accept_conn); a kept one carries the next request. */
		a = r.ipcFd < 0 ? accept_conn(listen_fd, &r) : 0;
		if (a == 0) {
			deadline_hit = 0;
			deadline(&r, cfg->read_timeout);
			if ((a = FCGX_Accept_r(&r)) == -EBADF)
				a = -ECONNABORTED;	/* it ended early: see above */
			if (deadline_hit) {
				gym_log_warnx("closed a FastCGI connection that sent no "
				    "whole request in %d s (read_timeout)", cfg->read_timeout);
				gym_metrics_add("fcgi_read_timeouts", 1);
			}
		}
		if (a < 0) {
			deadline(NULL, 0);
			burst = 0;
			if (a == -EAGAIN || a == -EWOULDBLOCK || a == -EINTR ||
			    a == -ECONNABORTED)
				continue;
			if (!accept_pause(-a)) {
				gym_log_errx("could not accept a request: %s", strerror(-a));
				goto out;
			}
			gym_log_warnx("could not accept a request: %s; pausing 1 s",
			    strerror(-a));
			sleep(1);
			continue;
		}
		/* close the connection at once when done: the request has been
		 * read in full, and libfcgi's default (shutdown, then wait for
		 * nginx to close its end) costs a wakeup and keeps this worker
		 * from the next request meanwhile (docs/performance.md) */
		r.detached = 1;
		burst = (burst + 1) % BURST_MAX;
		serve(&ctx, &r);
		FCGX_Finish_r(&r);
		if (cfg->max_requests > 0 &&
		    ctx.requests >= (unsigned long)cfg->max_requests) {
			gym_log_infox("served %lu requests, retiring", ctx.requests);
			break;
		}
	}
	rc = 0;
out:
	FCGX_Finish_r(&r);
	FCGX_Free(&r, 1);
	if (ep != -1)
		close(ep);
	gym_db_free(ctx.db);
	gym_pay_release(&ctx.pay);
	return rc;
}

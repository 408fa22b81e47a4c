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
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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
/* Kept connections one worker watches; nginx's keepalive pool for gymd
 * (nginx/gym.conf) is smaller than this times the workers.  One more
 * connection beyond these is served and closed. */
#define KEPT_MAX 32
#define EVENTS_MAX 16
#define LISTEN_EV UINT64_MAX	/* epoll data of the listening socket */

static volatile sig_atomic_t stop;
/*
 * The FastCGI connections of this worker: the one being served, and the
 * ones nginx keeps open between requests (fastcgi_keep_conn), each with its
 * own libfcgi request and its peer as accept() gave it.  A kept connection
 * waits in the worker's epoll set beside the listening socket, so an idle
 * worker takes whichever is ready first: a new connection or the next
 * request on a kept one (docs/performance.md, "the door, session 7").
 */
struct conn {
	FCGX_Request r;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int kept;		/* open between requests, in the epoll set */
	uint32_t gen;		/* bumped when the connection closes */
};
static struct conn conns[KEPT_MAX + 1];	/* + 1: a new one when all are kept */
static int nkept;
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
serve(struct gym_ctx *ctx, struct conn *c)
{
	FCGX_Request *r = &c->r;
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
	    (const struct sockaddr *)&c->peer, c->peer_len, ctx->peer_addr, sizeof(ctx->peer_addr));
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
	ev.data.u64 = LISTEN_EV;
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
 * Take the next connection from the (non-blocking) listening socket into c.
 * Done here rather than in libfcgi's FCGX_Accept_r: a failed try (another
 * worker took it) is one system call, with no read deadline set and cleared
 * around it, and libfcgi's 2-second readability poll of each new UNIX
 * connection is left out (the read deadline covers a silent peer).  Marked
 * kept, the connection is read by FCGX_Accept_r as is; the request's own
 * flags (FCGI_KEEP_CONN) then decide whether it stays open after the answer.
 * 0, or -errno.
 */
static int
accept_conn(int listen_fd, struct conn *c)
{
	int fd;

	c->peer_len = sizeof(c->peer);
	if ((fd = accept(listen_fd, (struct sockaddr *)&c->peer, &c->peer_len)) == -1)
		return -errno;
	c->r.ipcFd = fd;
	c->r.keepConnection = 1;
	return 0;
}

/* A slot for a new connection: there is always one (KEPT_MAX + 1 slots,
 * at most KEPT_MAX kept, one served at a time). */
static struct conn *
conn_slot(void)
{
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++)
		if (conns[i].r.ipcFd < 0)
			return &conns[i];
	return NULL;
}

/* epoll's word for a kept connection: its slot, and the slot's generation,
 * so an event left over from a connection closed earlier in the same round
 * is not taken for the slot's next one. */
static uint64_t
conn_key(const struct conn *c)
{
	return (uint64_t)(c - conns) | (uint64_t)c->gen << 32;
}

/* Close c's connection (after its request, or while it idles), or, when
 * libfcgi closed it already, forget it: out of the kept set, a new
 * generation. */
static void
conn_close(struct conn *c)
{
	c->r.detached = 1;	/* no shutdown-and-wait for nginx's end */
	if (c->r.ipcFd >= 0)
		FCGX_Free(&c->r, 1);
	if (c->kept) {
		c->kept = 0;
		nkept--;
	}
	c->gen++;
}

/*
 * Close every kept connection but c.  Called when a request came on a
 * connection nginx will not keep: every location but the public reads
 * (nginx/gym.conf), some of which wait on WeChat or Alipay.  A read that
 * nginx sends on this worker's idle connections meanwhile would wait behind
 * it; closed, nginx opens a new connection to a free worker instead (and a
 * read that meets a connection closing under it is sent again on a new
 * one: nginx retries a request that failed on a kept connection).
 */
static void
conns_close_kept_but(const struct conn *c)
{
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]) && nkept > 0; i++)
		if (conns[i].kept && &conns[i] != c)
			conn_close(&conns[i]);
}

/* Read the next request of c's connection (new, or kept and readable).
 * 0, or -errno with the connection closed. */
static int
conn_read_request(struct conn *c, int read_timeout)
{
	int a;

	deadline_hit = 0;
	deadline(&c->r, read_timeout);
	/* close the connection at once when done: the request has been read
	 * in full, and libfcgi's default (shutdown, then wait for nginx to
	 * close its end) costs a wakeup and keeps this worker from the next
	 * request meanwhile (docs/performance.md) */
	c->r.detached = 1;
	if ((a = FCGX_Accept_r(&c->r)) == -EBADF)
		a = -ECONNABORTED;	/* it ended early: see gym_worker_run */
	if (deadline_hit) {
		gym_log_warnx("closed a FastCGI connection that sent no "
		    "whole request in %d s (read_timeout)", read_timeout);
		gym_metrics_add("fcgi_read_timeouts", 1);
	}
	if (a < 0) {
		deadline(NULL, 0);
		conn_close(c);
	}
	return a;
}

/* After the answer: keep c's connection in the epoll set when nginx asked
 * for that (FCGI_KEEP_CONN) and there is room, else close it. */
static void
conn_finish(int ep, struct conn *c)
{
	struct epoll_event ev;

	if (c->r.keepConnection && !c->kept && nkept >= KEPT_MAX)
		c->r.keepConnection = 0;
	FCGX_Finish_r(&c->r);
	if (c->r.ipcFd < 0) {	/* closed by libfcgi */
		conn_close(c);
		return;
	}
	if (c->kept)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = conn_key(c);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->r.ipcFd, &ev) == -1) {
		gym_log_warn("could not watch a kept FastCGI connection; closing it");
		conn_close(c);
		return;
	}
	c->kept = 1;
	nkept++;
}

/* Wait up to WAIT_MS for the listening socket or a kept connection, with
 * SIGTERM deliverable.  The number of events, 0 on timeout or signal, -1. */
static int
wait_events(int ep, struct epoll_event *ev, const sigset_t *waitmask)
{
	int n;

	if ((n = epoll_pwait(ep, ev, EVENTS_MAX, WAIT_MS, waitmask)) == -1 && errno == EINTR)
		return 0;
	return n;
}

/* The next connection with a request to read, from the events of one wait
 * (or the listening socket during a burst).  *a: 0, or -errno of accept. */
static struct conn *
conn_ready(const struct epoll_event *ev, int listen_fd, int *a)
{
	struct conn *c;
	uint64_t slot;

	*a = 0;
	if (ev->data.u64 == LISTEN_EV) {
		c = conn_slot();
		*a = accept_conn(listen_fd, c);
		return c;
	}
	slot = ev->data.u64 & 0xffffffffu;
	if (slot >= sizeof(conns) / sizeof(conns[0]))
		return NULL;
	c = &conns[slot];
	/* closed (and perhaps reused) since this event was reported */
	if (!c->kept || conn_key(c) != ev->data.u64)
		return NULL;
	return c;
}

int
gym_worker_run(const struct gym_config *cfg, int listen_fd)
{
	struct gym_ctx ctx;
	struct epoll_event ev[EVENTS_MAX];
	struct conn *c;
	sigset_t waitmask;
	pid_t master = getppid();
	int ep = -1, rc = 1, n, a, burst = 0, retire = 0;

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
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++)
		if (FCGX_InitRequest(&conns[i].r, -1, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
			gym_log_errx("could not initialise a FastCGI request");
			return 1;
		}
	if ((ep = listen_setup(listen_fd, cfg->read_timeout)) == -1)
		goto out;
	gym_log_debugx("worker ready");
	while (!stop && !retire) {
		if (burst > 0) {
			n = 1;
			ev[0].data.u64 = LISTEN_EV;
		} else if ((n = wait_events(ep, ev, &waitmask)) == -1) {
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
		for (int i = 0; i < n && !retire; i++) {
			if ((c = conn_ready(&ev[i], listen_fd, &a)) == NULL)
				continue;
			if (a < 0) {
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
			if (ev[i].data.u64 == LISTEN_EV)
				burst = (burst + 1) % BURST_MAX;
			if (conn_read_request(c, cfg->read_timeout) < 0)
				continue;
			if (!c->r.keepConnection)
				conns_close_kept_but(c);
			serve(&ctx, c);
			conn_finish(ep, c);
			if (cfg->max_requests > 0 &&
			    ctx.requests >= (unsigned long)cfg->max_requests) {
				gym_log_infox("served %lu requests, retiring", ctx.requests);
				retire = 1;
			}
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
		FCGX_Finish_r(&conns[i].r);
		FCGX_Free(&conns[i].r, 1);
	}
	if (ep != -1)
		close(ep);
	gym_db_free(ctx.db);
	gym_pay_release(&ctx.pay);
	return rc;
}

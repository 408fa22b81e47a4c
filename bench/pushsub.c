/*
 * pushsub.c: live push under load (make bench, scenario 7).  Holds N
 * WebSocket subscribers open through nginx (TLS, Nchan) in one process and
 * one epoll loop, as N phones would, and times what they are told.
 *
 *   pushsub orders HOST PORT CACERT PAIRS READY TIMEOUT_S
 *       PAIRS: "ORDER_ID TOKEN" lines, one subscriber each on
 *       /api/v1/push/orders/ORDER_ID?access_token=TOKEN.  Once every
 *       subscriber is in, READY is written; then each waits for its order's
 *       paid state.  A sample is receipt (the wall clock) minus the message's
 *       paid_at, the time the paying transaction wrote (its commit follows
 *       within that transaction, so a sample is never shorter than the
 *       commit-to-receipt time).
 *   pushsub class HOST PORT CACERT SCHEDULE N CAPACITY TOKENS HOLDS READY TIMEOUT_S
 *       N subscribers on /api/v1/push/course-schedules/SCHEDULE (a class of
 *       CAPACITY free seats that nothing else takes); once they are in, a
 *       second thread takes HOLDS seats one after another (POST
 *       /bookings/seat-reserve, one parent of TOKENS, "UID TOKEN" lines,
 *       each), 20 a second, noting when each answer (after its commit)
 *       arrived.  A sample is, for one hold and one subscriber, the first
 *       message whose seats left count that hold in, minus that moment.
 *
 * Output, one line: "subscribers=S connected=C received=R missing=M
 * p50_ms=.. p99_ms=.. max_ms=.. connect_s=.." (M: subscribers, or for a
 * class hold-subscriber pairs, still waiting at TIMEOUT_S).
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define IN_MAX 16384
/* handshakes (TCP, TLS, upgrade) under way at once */
#define OPENING_MAX 64
#define HOLDS_PER_S 20

enum phase { P_IDLE, P_TCP, P_TLS, P_SEND, P_HEAD, P_OPEN, P_DEAD };

struct sub {
	int fd;
	SSL *ssl;
	enum phase phase;
	char *req;
	size_t req_len, req_off;
	unsigned char in[IN_MAX];
	size_t in_len;
	int done;		/* orders: paid seen */
	int seen;		/* class: holds already counted in */
};

static struct {
	int mode_class;
	const char *host;
	int port;
	SSL_CTX *ctx;
	struct sub *subs;
	int n, connected, opening, next, dead;
	int epfd;
	/* samples (ms) */
	double *lat;
	size_t nlat, caplat;
	/* class mode */
	int capacity, holds, taken;
	double *hold_at;	/* wall clock ms when hold i's answer came */
	pthread_mutex_t mu;
} g;

static double
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sample(double ms)
{
	if (g.nlat == g.caplat) {
		size_t cap = g.caplat ? g.caplat * 2 : 4096;
		double *p = realloc(g.lat, cap * sizeof(*p));

		if (p == NULL)
			return;
		g.lat = p, g.caplat = cap;
	}
	g.lat[g.nlat++] = ms;
}

/* "2026-12-04T22:10:00.123456+00:00" (jsonb's timestamptz) in ms since the
 * epoch, or -1. */
static double
iso_ms(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	double frac = 0, scale = 0.1;
	const char *p;
	char sign;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	sign = *p;
	if ((sign == '+' || sign == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
		return -1;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
	return ((double)timegm(&tm) - (sign == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0) +
	    frac) * 1e3;
}

/* The value of "key" in a flat JSON text: a pointer to it (after the colon
 * and blanks), or NULL. */
static const char *
value_of(const char *json, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\"", key);
	if ((p = strstr(json, k)) == NULL)
		return NULL;
	p += strlen(k);
	while (*p == ' ' || *p == ':')
		p++;
	return p;
}

static void
on_message(struct sub *s, const char *msg)
{
	double now = wall_ms(), at;
	const char *v;

	if (!g.mode_class) {
		if (s->done || (v = value_of(msg, "status")) == NULL || strncmp(v, "\"paid\"", 6) != 0)
			return;
		if ((v = value_of(msg, "paid_at")) == NULL || *v != '"' || (at = iso_ms(v + 1)) < 0)
			return;
		s->done = 1;
		sample(now - at);
		return;
	}
	if ((v = value_of(msg, "available")) == NULL)
		return;
	/* holds counted in by this count: capacity - available of them */
	int in = g.capacity - atoi(v);

	pthread_mutex_lock(&g.mu);
	if (in > g.taken)
		in = g.taken;	/* a count may arrive before its hold's answer */
	for (; s->seen < in; s->seen++)
		sample(now - g.hold_at[s->seen]);
	pthread_mutex_unlock(&g.mu);
}

/* Answer a ping as a browser does (Nchan closes a WebSocket whose pings go
 * unanswered): a masked pong with the ping's payload (at most 125 bytes). */
static void
pong(struct sub *s, const unsigned char *payload, size_t len)
{
	unsigned char f[2 + 4 + 125], mask[4] = { 0x5a, 0x17, 0xc3, 0x81 };

	f[0] = 0x8a;
	f[1] = (unsigned char)(0x80 | len);
	memcpy(f + 2, mask, 4);
	for (size_t i = 0; i < len; i++)
		f[6 + i] = payload[i] ^ mask[i % 4];
	(void)SSL_write(s->ssl, f, (int)(6 + len));
}

/* Frames in s->in: each text frame's payload to on_message. */
static void
frames(struct sub *s)
{
	size_t off = 0;

	for (;;) {
		unsigned char *h = s->in + off;
		size_t avail = s->in_len - off, hl = 2;
		unsigned long long len;

		if (avail < 2)
			break;
		len = h[1] & 0x7f;
		if (len == 126)
			hl = 4;
		else if (len == 127)
			hl = 10;
		if (avail < hl)
			break;
		if (hl > 2) {
			len = 0;
			for (size_t i = 2; i < hl; i++)
				len = len << 8 | h[i];
		}
		if (len >= IN_MAX - hl) {
			s->phase = P_DEAD;	/* no message of ours is this long */
			return;
		}
		if (avail < hl + len)
			break;
		if ((h[0] & 0x0f) == 0x1) {
			char msg[IN_MAX];

			memcpy(msg, h + hl, len);
			msg[len] = '\0';
			on_message(s, msg);
		} else if ((h[0] & 0x0f) == 0x9 && len <= 125) {
			pong(s, h + hl, (size_t)len);
		} else if ((h[0] & 0x0f) == 0x8) {
			s->phase = P_DEAD;
			return;
		}
		off += hl + len;
	}
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
}

/* The length of an HTTP head ending in p[0..n), with its blank line, or 0. */
static size_t
head_len(const unsigned char *p, size_t n)
{
	for (size_t i = 3; i < n; i++)
		if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
			return i + 1;
	return 0;
}

static void
watch(struct sub *s, uint32_t ev, int op)
{
	struct epoll_event e = { .events = ev, .data.ptr = s };

	(void)epoll_ctl(g.epfd, op, s->fd, &e);
}

static void
kill_sub(struct sub *s)
{
	if (s->phase < P_OPEN)
		g.opening--;
	if (s->fd >= 0) {
		epoll_ctl(g.epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	SSL_free(s->ssl);
	s->ssl = NULL;
	s->fd = -1;
	s->phase = P_DEAD;
	g.dead++;
}

static int
start(struct sub *s)
{
	struct sockaddr_in sa = { 0 };
	int one = 1;

	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)g.port);
	inet_pton(AF_INET, g.host, &sa.sin_addr);
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->phase = P_TCP;
	g.opening++;
	watch(s, EPOLLOUT, EPOLL_CTL_ADD);
	return 0;
}

/* Advance s as far as it goes without blocking. */
static void
step(struct sub *s)
{
	int n, err;

	for (;;) {
		switch (s->phase) {
		case P_TCP:
			if ((s->ssl = SSL_new(g.ctx)) == NULL) {
				kill_sub(s);
				return;
			}
			SSL_set_fd(s->ssl, s->fd);
			SSL_set_tlsext_host_name(s->ssl, g.host);
			s->phase = P_TLS;
			break;
		case P_TLS:
			if ((n = SSL_connect(s->ssl)) == 1) {
				s->phase = P_SEND;
				break;
			}
			err = SSL_get_error(s->ssl, n);
			if (err == SSL_ERROR_WANT_READ)
				watch(s, EPOLLIN, EPOLL_CTL_MOD);
			else if (err == SSL_ERROR_WANT_WRITE)
				watch(s, EPOLLOUT, EPOLL_CTL_MOD);
			else
				kill_sub(s);
			return;
		case P_SEND:
			n = SSL_write(s->ssl, s->req + s->req_off, (int)(s->req_len - s->req_off));
			if (n > 0) {
				if ((s->req_off += (size_t)n) == s->req_len) {
					s->phase = P_HEAD;
					watch(s, EPOLLIN, EPOLL_CTL_MOD);
				}
				break;
			}
			if (SSL_get_error(s->ssl, n) != SSL_ERROR_WANT_WRITE) {
				kill_sub(s);
				return;
			}
			watch(s, EPOLLOUT, EPOLL_CTL_MOD);
			return;
		case P_HEAD:
		case P_OPEN:
			n = SSL_read(s->ssl, s->in + s->in_len, (int)(sizeof(s->in) - s->in_len));
			if (n <= 0) {
				err = SSL_get_error(s->ssl, n);
				if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
					kill_sub(s);
				return;
			}
			s->in_len += (size_t)n;
			if (s->phase == P_HEAD) {
				size_t hl = head_len(s->in, s->in_len);

				if (hl == 0) {
					if (s->in_len == sizeof(s->in))
						kill_sub(s);
					break;
				}
				if (memcmp(s->in, "HTTP/1.1 101", 12) != 0) {
					kill_sub(s);
					return;
				}
				memmove(s->in, s->in + hl, s->in_len - hl);
				s->in_len -= hl;
				s->phase = P_OPEN;
				g.opening--;
				g.connected++;
			}
			frames(s);
			if (s->phase == P_DEAD) {
				s->phase = P_OPEN;	/* counted open; kill_sub uncounts nothing */
				kill_sub(s);
				return;
			}
			break;
		default:
			return;
		}
	}
}

static char *
request(const char *path)
{
	size_t len = strlen(path) + 256;
	char *r = malloc(len);

	if (r == NULL || snprintf(r, len, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", path, g.host, g.port) >= (int)len) {
		free(r);
		return NULL;
	}
	return r;
}

/* Run the loop until stop() says so or deadline (wall ms). */
static void
loop(double deadline, int (*stop)(void))
{
	struct epoll_event ev[256];
	int n;

	while (wall_ms() < deadline && !stop()) {
		while (g.next < g.n && g.opening < OPENING_MAX) {
			struct sub *s = &g.subs[g.next++];

			if (start(s) != 0)
				s->phase = P_DEAD, g.dead++;
		}
		n = epoll_wait(g.epfd, ev, 256, 50);
		for (int i = 0; i < n; i++)
			step(ev[i].data.ptr);
	}
}

static int
all_in(void)
{
	return g.next == g.n && g.opening == 0;
}

static int
all_done(void)
{
	int left = 0;

	if (!g.mode_class) {
		for (int i = 0; i < g.n; i++)
			left += g.subs[i].phase == P_OPEN && !g.subs[i].done;
		return left == 0;
	}
	pthread_mutex_lock(&g.mu);
	for (int i = 0; i < g.n; i++)
		left += g.subs[i].phase == P_OPEN && g.subs[i].seen < g.holds;
	pthread_mutex_unlock(&g.mu);
	return left == 0 && g.taken == g.holds;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* class mode: the seat taker */
struct taker {
	const char *base, *cacert, *tokens;
	long long schedule;
	int failed;
};

static void *
take_seats(void *arg)
{
	struct taker *t = arg;
	char line[512], url[512], body[64], auth[300];
	FILE *f = fopen(t->tokens, "r");
	CURL *h = curl_easy_init();
	long status;

	snprintf(url, sizeof(url), "%s/api/v1/bookings/seat-reserve", t->base);
	snprintf(body, sizeof(body), "{\"course_schedule_id\":%lld}", t->schedule);
	for (int i = 0; f != NULL && h != NULL && i < g.holds && fgets(line, sizeof(line), f); i++) {
		struct curl_slist *hd = NULL;
		char *tok = strchr(line, ' ');

		if (tok == NULL)
			break;
		tok[strcspn(tok, "\r\n")] = '\0';
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok + 1);
		hd = curl_slist_append(hd, auth);
		hd = curl_slist_append(hd, "Content-Type: application/json");
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CAINFO, t->cacert);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		status = 0;
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hd);
		if (status != 201) {
			t->failed++;
			break;
		}
		pthread_mutex_lock(&g.mu);
		g.hold_at[g.taken++] = wall_ms();
		pthread_mutex_unlock(&g.mu);
		usleep(1000000 / HOLDS_PER_S);
	}
	if (f != NULL)
		fclose(f);
	curl_easy_cleanup(h);
	pthread_mutex_lock(&g.mu);
	g.holds = g.taken;	/* a failed hold ends the run short */
	pthread_mutex_unlock(&g.mu);
	return NULL;
}

static int
usage(void)
{
	fprintf(stderr, "usage: pushsub orders HOST PORT CACERT PAIRS READY TIMEOUT_S\n"
	    "       pushsub class HOST PORT CACERT SCHEDULE N CAPACITY TOKENS HOLDS READY TIMEOUT_S\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	struct rlimit rl = { 65536, 65536 };
	char line[512], path[512], base[128];
	double t0, deadline, connect_s;
	const char *ready;
	struct taker tk = { 0 };
	pthread_t th;
	int timeout_s, missing = 0;
	FILE *f;

	if (argc < 2)
		return usage();
	g.mode_class = strcmp(argv[1], "class") == 0;
	if (g.mode_class ? argc != 12 : (strcmp(argv[1], "orders") != 0 || argc != 8))
		return usage();
	g.host = argv[2];
	g.port = atoi(argv[3]);
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		rl.rlim_cur = rl.rlim_max = 20000;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((g.ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_load_verify_locations(g.ctx, argv[4], NULL) != 1)
		return fprintf(stderr, "pushsub: cannot load %s\n", argv[4]), 1;
	SSL_CTX_set_verify(g.ctx, SSL_VERIFY_PEER, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&g.mu, NULL);
	if ((g.epfd = epoll_create1(0)) < 0)
		return 1;
	if (!g.mode_class) {
		if ((f = fopen(argv[5], "r")) == NULL)
			return fprintf(stderr, "pushsub: cannot read %s\n", argv[5]), 1;
		while (fgets(line, sizeof(line), f) != NULL)
			g.n++;
		rewind(f);
		g.subs = calloc((size_t)g.n + 1, sizeof(*g.subs));
		for (int i = 0; g.subs != NULL && i < g.n && fgets(line, sizeof(line), f); i++) {
			char oid[64], tok[300];

			if (sscanf(line, "%63s %299s", oid, tok) != 2)
				return fprintf(stderr, "pushsub: bad line %d of %s\n", i + 1, argv[5]), 1;
			snprintf(path, sizeof(path), "/api/v1/push/orders/%s?access_token=%s", oid, tok);
			g.subs[i].req = request(path);
		}
		fclose(f);
		ready = argv[6], timeout_s = atoi(argv[7]);
	} else {
		tk.schedule = atoll(argv[5]);
		g.n = atoi(argv[6]);
		g.capacity = atoi(argv[7]);
		tk.tokens = argv[8];
		g.holds = atoi(argv[9]);
		ready = argv[10], timeout_s = atoi(argv[11]);
		g.subs = calloc((size_t)g.n + 1, sizeof(*g.subs));
		g.hold_at = calloc((size_t)g.holds + 1, sizeof(*g.hold_at));
		if (g.hold_at == NULL)
			return 1;
		snprintf(path, sizeof(path), "/api/v1/push/course-schedules/%lld", tk.schedule);
		for (int i = 0; g.subs != NULL && i < g.n; i++)
			g.subs[i].req = request(path);
	}
	if (g.subs == NULL || g.n <= 0 || timeout_s <= 0)
		return usage();
	for (int i = 0; i < g.n; i++) {
		g.subs[i].fd = -1;
		if (g.subs[i].req == NULL)
			return 1;
		g.subs[i].req_len = strlen(g.subs[i].req);
	}
	t0 = wall_ms();
	deadline = t0 + timeout_s * 1e3;
	loop(deadline, all_in);
	connect_s = (wall_ms() - t0) / 1e3;
	/* the subscribers are in: the caller starts paying now */
	if ((f = fopen(ready, "w")) == NULL || fclose(f) != 0)
		return 1;
	if (g.mode_class) {
		snprintf(base, sizeof(base), "https://%s:%d", g.host, g.port);
		tk.base = base, tk.cacert = argv[4];
		if (pthread_create(&th, NULL, take_seats, &tk) != 0)
			return 1;
	}
	loop(deadline, all_done);
	if (g.mode_class)
		pthread_join(th, NULL);
	for (int i = 0; i < g.n; i++)
		if (g.mode_class)
			missing += g.subs[i].phase == P_OPEN ? g.holds - g.subs[i].seen : 0;
		else
			missing += g.subs[i].phase == P_OPEN && !g.subs[i].done;
	qsort(g.lat, g.nlat, sizeof(*g.lat), cmp);
	printf("subscribers=%d connected=%d dropped=%d received=%zu missing=%d holds=%d hold_failed=%d "
	    "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f connect_s=%.1f\n", g.n, g.connected, g.dead, g.nlat,
	    missing, g.mode_class ? g.holds : 0, tk.failed,
	    g.nlat ? g.lat[g.nlat / 2] : -1, g.nlat ? g.lat[(size_t)((double)g.nlat * 0.99)] : -1,
	    g.nlat ? g.lat[g.nlat - 1] : -1, connect_s);
	return 0;
}

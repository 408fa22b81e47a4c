/*
 * driver.c: bin/fault_driver, faults under load (see fault.h).
 *
 *   fault_driver [--seconds N] [--attempts N] [--clients N] [--gap-ms N]
 *                [--seed N] [--sql FILE] [--corrupt FILE] [--check-only]
 *
 * Runs --clients client processes booking and paying for --seconds (or
 * until --attempts booking attempts, whichever comes first) while the two
 * fault lanes inject a fault every --gap-ms or so each; keeps a few
 * classes with free seats open meanwhile (gymctl schedule add); then stops
 * the faults, lets the system settle (every payment WeChat took applied,
 * every lapse swept: at most 60 s) and runs the invariants.  --check-only
 * skips the load and checks the database as it is.  Then the self-test
 * (--corrupt, test/fault/corrupt.sql): each corruption in a transaction
 * rolled back, with its invariant, which must catch it.
 *
 * Prints the counts and ends with "fault: N passed, M failed; A attempts,
 * F faults (C pg_crash), V violations, L unpaid holds lost" (N and M count
 * invariants, V their violating rows; test/run_all.sh shows what follows
 * "fault: "), then "; self-test K caught, S skipped, X missed".  Exit 0
 * when every invariant holds, no corruption was missed and, for a load
 * run, every fault kind was injected at least once; 1 otherwise; 2 on a
 * usage or setup error.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"

#define MAXCLIENTS 64
#define OPEN_NORMAL 6		/* classes with free seats kept open */
#define OPEN_TIGHT 3
#define OPEN_REGULAR 3		/* members' classes with free seats */
#define SETTLE_MS 60000

struct fault_shared *fault_sh;

static long long t_start;
static unsigned long long rng;

/* ---- small helpers ------------------------------------------------------------------------ */

#define NAME_STR(n) #n,
static const char *const counter_names[] = { FAULT_COUNTERS(NAME_STR) };
static const char *const kind_names[] = { FAULT_KINDS(NAME_STR) };
#undef NAME_STR

const char *
fault_counter_name(enum fault_counter c)
{
	return c < FC_COUNT ? counter_names[c] : "?";
}

const char *
fault_kind_name(enum fault_kind k)
{
	return k < FK_COUNT ? kind_names[k] : "?";
}

void
fault_count(enum fault_counter c, long n)
{
	if (fault_sh != NULL && c < FC_COUNT)
		atomic_fetch_add(&fault_sh->count[c], n);
}

int
fault_orphaned(void)
{
	return fault_sh != NULL && (long)getppid() != fault_sh->parent;
}

static const char *
env_or(const char *name, const char *dflt)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? s : dflt;
}

const char *fault_env_base(void) { return env_or("GYM_E2E_BASE", "https://127.0.0.1:18443"); }
const char *fault_env_sim(void) { return env_or("GYM_E2E_SIM", "http://127.0.0.1:19180"); }
const char *fault_env_conf(void) { return env_or("GYM_E2E_CONF", "var/test/gymd.conf"); }

const char *
fault_env_alisim(void)
{
	static char base[256];
	static int read_once;
	char line[512], *v, *end;
	FILE *f;

	if (read_once)
		return base;
	read_once = 1;
	if ((f = fopen(fault_env_conf(), "r")) == NULL)
		return base;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "alipay.gateway_url", 18) != 0 || (v = strchr(line, '=')) == NULL)
			continue;
		for (v++; *v == ' '; v++)
			;
		if ((end = strstr(v, "/gateway.do")) != NULL)
			*end = '\0';
		snprintf(base, sizeof(base), "%s", v);
	}
	fclose(f);
	return base;
}
const char *fault_env_var(void) { return env_or("GYM_E2E_VAR", "var/test"); }
const char *fault_env_bin(void) { return env_or("GYM_BIN", "bin"); }
const char *fault_env_pguri(void)
{
	return env_or("GYM_E2E_PGURI", "host=127.0.0.1 port=15433 dbname=gym user=gym");
}

char *
fault_var_path(const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", fault_env_var(), rel);
	return buf;
}

long long
fault_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fault_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
fault_log(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "fault_driver[%ld] %7.1fs %s\n", (long)getpid(),
	    (double)(fault_now_ms() - t_start) / 1000.0, msg);
}

void
fault_rand_seed(unsigned long long seed)
{
	rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

unsigned long
fault_rand(unsigned long n)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return n == 0 ? 0 : (unsigned long)((rng * 2685821657736338717ULL) >> 11) % n;
}

#define ACKS_FILE "log/fault-acks.log"

void
fault_ack(const char *kind, const char *id, const char *ref)
{
	char path[1024], line[256];
	int fd, n;

	n = snprintf(line, sizeof(line), "%s %s %s\n", kind, id, ref != NULL && *ref ? ref : "-");
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	fault_var_path(ACKS_FILE, path, sizeof(path));
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0)
		return;
	if (write(fd, line, (size_t)n) == n)
		fault_count(FC_acks, 1);
	close(fd);
}

int
fault_ack_reset(void)
{
	char path[1024];
	int fd;

	fault_var_path(ACKS_FILE, path, sizeof(path));
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0644)) < 0)
		return -1;
	close(fd);
	return 0;
}

/* ---- classes ------------------------------------------------------------------------------ */

/* gymctl schedule add: a class tomorrow; its id, or -1. */
static long long
add_class(int capacity)
{
	static unsigned k;
	char cmd[2048], out[64], starts[40], ends[40];
	time_t t = time(NULL) + 86400 + (time_t)(k % 600) * 60;
	struct tm tm;
	FILE *f;
	long long id = -1;

	gmtime_r(&t, &tm);
	strftime(starts, sizeof(starts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	t += 3600;
	gmtime_r(&t, &tm);
	strftime(ends, sizeof(ends), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' schedule add --course 'fault-%s-%u' "
	    "--starts %s --ends %s --capacity %d 2>/dev/null", fault_env_bin(), fault_env_conf(),
	    fault_sh->runid, k++, starts, ends, capacity);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, sizeof(out), f) != NULL)
		id = atoll(out);
	if (pclose(f) != 0 || id <= 0)
		return -1;
	fault_count(FC_classes_added, 1);
	return id;
}

static int
open_classes(struct fault_pool *p)
{
	int n = atomic_load(&p->n), open = 0;

	for (int i = 0; i < n; i++)
		open += !atomic_load(&p->full[i]);
	return open;
}

/* Top the pool up to want open classes (a few per call); capacity 0: the
 * members' regular classes (products.c). */
static void
keep_open(struct fault_pool *p, int want, int capacity)
{
	long long id;

	for (int i = 0; i < 3 && open_classes(p) < want; i++) {
		int n = atomic_load(&p->n);

		if (n >= FAULT_MAXCLASS ||
		    (id = capacity > 0 ? add_class(capacity) : fault_regular_add()) <= 0)
			return;
		p->id[n] = id;
		atomic_store(&p->full[n], 0);
		atomic_store(&p->n, n + 1);
	}
}

/* gymctl operator add: the token it prints once into fault_sh; 0 or -1. */
static int
add_operator(void)
{
	char cmd[2048], out[512];
	FILE *f;
	size_t n;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s/gymctl' -c '%s' operator add 'fault-%s' --role operator "
	    "2>/dev/null", fault_env_bin(), fault_env_conf(), fault_sh->runid);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, sizeof(out), f) == NULL)
		out[0] = '\0';
	rc = pclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (rc != 0 || strncmp(out, "op_", 3) != 0 || n >= sizeof(fault_sh->operator_token))
		return -1;
	memcpy(fault_sh->operator_token, out, n + 1);
	return 0;
}

/* ---- processes ---------------------------------------------------------------------------- */

static pid_t
spawn(void (*fn)(int, unsigned long long, long), int arg, unsigned long long seed, long gap)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		fn(arg, seed, gap);
		fault_http_done();
		_exit(0);
	}
	return pid;
}

static void
run_client(int index, unsigned long long seed, long gap)
{
	(void)gap;
	fault_client_run(index, seed);
}

static void
run_lane(int which, unsigned long long seed, long gap)
{
	if (which == 0)
		fault_lane_process(seed, gap);
	else
		fault_lane_wechat(seed, gap);
}

/* Wait for pids until deadline; SIGKILL what is left.  Returns how many
 * had to be killed. */
static int
reap(pid_t *pids, int n, long long deadline)
{
	int left = n, killed = 0, st;

	while (left > 0) {
		left = 0;
		for (int i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &st, WNOHANG) == pids[i])
				pids[i] = 0;
			else
				left++;
		}
		if (left == 0)
			break;
		if (fault_now_ms() >= deadline) {
			for (int i = 0; i < n; i++)
				if (pids[i] > 0) {
					kill(pids[i], SIGKILL);
					waitpid(pids[i], &st, 0);
					pids[i] = 0;
					killed++;
				}
			break;
		}
		fault_sleep_ms(100);
	}
	return killed;
}

static void
progress(void)
{
	long f = 0;

	for (int k = 0; k < FK_COUNT; k++)
		f += atomic_load(&fault_sh->faults[k]);
	fault_log("attempts=%ld requests=%ld payments=%ld faults=%ld classes=%d+%d+%d "
	    "product passes=%ld",
	    atomic_load(&fault_sh->count[FC_attempts]),
	    atomic_load(&fault_sh->count[FC_api_requests]),
	    atomic_load(&fault_sh->count[FC_payments]), f,
	    atomic_load(&fault_sh->normal.n), atomic_load(&fault_sh->tight.n),
	    atomic_load(&fault_sh->regular.n), atomic_load(&fault_sh->count[FC_product_passes]));
}

/* The load: clients and fault lanes for seconds (or attempts). */
static int
load(int clients, long seconds, long attempts, long gap_ms, unsigned long long seed)
{
	pid_t cp[MAXCLIENTS], lp[2];
	long long end = fault_now_ms() + seconds * 1000, next_note;
	int killed;

	keep_open(&fault_sh->normal, OPEN_NORMAL, FAULT_CAPACITY);
	keep_open(&fault_sh->tight, OPEN_TIGHT, 1);
	if (atomic_load(&fault_sh->normal.n) == 0 || atomic_load(&fault_sh->tight.n) == 0) {
		fault_log("could not create classes with %s/gymctl", fault_env_bin());
		return -1;
	}
	if (add_operator() != 0) {
		fault_log("could not add an operator with %s/gymctl", fault_env_bin());
		return -1;
	}
	/* the products and the members' classes, by the operator */
	keep_open(&fault_sh->regular, OPEN_REGULAR, 0);
	if (fault_products_setup() != 0 || atomic_load(&fault_sh->regular.n) == 0) {
		fault_log("could not create the products or regular classes through the API");
		return -1;
	}
	/* no CURL handle of this process goes across fork */
	fault_http_done();
	if (fault_ack_reset() != 0) {
		fault_log("cannot write the acknowledgements file");
		return -1;
	}
	atomic_store(&fault_sh->attempt_limit, attempts);
	fflush(NULL);
	for (int i = 0; i < clients; i++)
		cp[i] = spawn(run_client, i, seed * 1000003ULL + (unsigned long long)i + 1, 0);
	lp[0] = spawn(run_lane, 0, seed * 7919ULL + 11, gap_ms);
	lp[1] = spawn(run_lane, 1, seed * 104729ULL + 13, gap_ms);
	fault_log("load: %d clients for %ld s%s, fault gap ~%ld ms", clients, seconds,
	    attempts > 0 ? " (or the attempt limit)" : "", gap_ms);
	next_note = fault_now_ms() + 10000;
	while (fault_now_ms() < end && !(attempts > 0 &&
	    atomic_load(&fault_sh->count[FC_attempts]) >= attempts)) {
		keep_open(&fault_sh->normal, OPEN_NORMAL, FAULT_CAPACITY);
		keep_open(&fault_sh->tight, OPEN_TIGHT, 1);
		keep_open(&fault_sh->regular, OPEN_REGULAR, 0);
		if (fault_now_ms() >= next_note) {
			progress();
			next_note += 10000;
		}
		fault_sleep_ms(200);
	}
	progress();
	fault_log("load over: stopping the clients and the faults");
	atomic_store(&fault_sh->stop_clients, 1);
	atomic_store(&fault_sh->stop_faults, 1);
	if ((killed = reap(cp, clients, fault_now_ms() + 40000)) > 0)
		fault_log("%d client(s) did not stop in 40 s: killed", killed);
	if (reap(lp, 2, fault_now_ms() + 60000) > 0)
		fault_log("a fault lane did not stop in 60 s: killed");
	/* whatever a killed lane left behind */
	fault_sim_clear();
	if (!fault_pg_running())
		fault_shell("bash test/env/pg.sh start test");
	if (fault_gymd_ensure() != 0 || !fault_healthy(30000)) {
		fault_log("gymd is not healthy after the run");
		return -1;
	}
	return 0;
}

/* ---- the report --------------------------------------------------------------------------- */

static void
report_counts(void)
{
	long faults = 0, sent;

	sent = atomic_load(&fault_sh->count[FC_api_requests]) +
	    atomic_load(&fault_sh->count[FC_sim_requests]);
	fprintf(stdout, "requests sent: %ld (gymd through nginx %ld, simulator %ld)\n", sent,
	    atomic_load(&fault_sh->count[FC_api_requests]),
	    atomic_load(&fault_sh->count[FC_sim_requests]));
	fprintf(stdout, "client counts:");
	for (int c = 0; c < FC_COUNT; c++)
		fprintf(stdout, " %s=%ld", fault_counter_name((enum fault_counter)c),
		    atomic_load(&fault_sh->count[c]));
	fputc('\n', stdout);
	fprintf(stdout, "faults injected:");
	for (int k = 0; k < FK_COUNT; k++) {
		faults += atomic_load(&fault_sh->faults[k]);
		fprintf(stdout, " %s=%ld", fault_kind_name((enum fault_kind)k),
		    atomic_load(&fault_sh->faults[k]));
	}
	fprintf(stdout, " (total %ld)\n", faults);
}

static int
missing_kinds(void)
{
	int missing = 0;

	for (int k = 0; k < FK_COUNT; k++)
		if (atomic_load(&fault_sh->faults[k]) == 0) {
			fprintf(stdout, "fault kind never injected: %s\n",
			    fault_kind_name((enum fault_kind)k));
			missing++;
		}
	return missing;
}

static long long
orders_paid(PGconn *pg)
{
	PGresult *r = PQexec(pg, "SELECT count(*) FROM payment_orders WHERE status = 'paid' "
	    "AND created_at >= (SELECT started_at FROM fault_run)");
	long long n = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

/* SIGTERM, SIGINT: stop the clients and the lanes (which put back what
 * they broke), then go. */
static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&fault_sh->stop_clients, 1);
	atomic_store(&fault_sh->stop_faults, 1);
	_exit(1);
}

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void
usage(void)
{
	fprintf(stderr, "usage: fault_driver [--seconds N] [--attempts N] [--clients N] "
	    "[--gap-ms N] [--seed N] [--sql FILE] [--corrupt FILE] [--check-only]\n");
	exit(2);
}

static long
num_arg(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "attempts", required_argument, NULL, 'a' },
		{ "clients", required_argument, NULL, 'c' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 'r' },
		{ "sql", required_argument, NULL, 'q' },
		{ "check-only", no_argument, NULL, 'k' },
		{ "corrupt", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	long seconds = 60, attempts = 0, clients = 4, gap = 2000;
	unsigned long long seed = (unsigned long long)time(NULL);
	const char *sqlfile = "test/fault/invariants.sql";
	const char *corruptfile = "test/fault/corrupt.sql";
	struct fault_selftest st;
	int check_only = 0, opt, settled = 1, missing = 0, setup_failed = 0;
	struct fault_check chk;
	long long lost;
	long total;
	char started[64];
	const char *p[1] = { started };
	PGconn *pg;
	time_t now;
	struct tm tm;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': seconds = num_arg(optarg, 1, 86400); break;
		case 'a': attempts = num_arg(optarg, 0, 100000000); break;
		case 'c': clients = num_arg(optarg, 1, MAXCLIENTS); break;
		case 'g': gap = num_arg(optarg, 100, 600000); break;
		case 'r': seed = (unsigned long long)num_arg(optarg, 0, 0x7fffffffL); break;
		case 'q': sqlfile = optarg; break;
		case 'k': check_only = 1; break;
		case 'x': corruptfile = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	t_start = fault_now_ms();
	setvbuf(stdout, NULL, _IOLBF, 0);
	fault_rand_seed(seed);
	fault_sh = mmap(NULL, sizeof(*fault_sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (fault_sh == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memset(fault_sh, 0, sizeof(*fault_sh));
	fault_sh->parent = (long)getpid();
	now = time(NULL);
	snprintf(fault_sh->runid, sizeof(fault_sh->runid), "%lx%lx", (long)now,
	    (long)getpid() & 0xffff);
	gmtime_r(&now, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stdout, "fault driver: run %s, seed %llu, %s\n", fault_sh->runid, seed,
	    check_only ? "check only" : "load with faults");

	if (!check_only && !fault_healthy(10000)) {
		fault_log("%s/healthz does not answer 200: is the test stack up?", fault_env_base());
		return 2;
	}
	if (!check_only && load((int)clients, seconds, attempts, gap, seed) != 0)
		setup_failed = 1;

	pg = PQconnectdb(fault_env_pguri());
	if (PQstatus(pg) != CONNECTION_OK) {
		fault_log("cannot connect to %s: %s", fault_env_pguri(), PQerrorMessage(pg));
		PQfinish(pg);
		return 2;
	}
	PQsetNoticeProcessor(pg, quiet, NULL);
	if (fault_load_sim_orders(pg) != 0 || fault_load_acks(pg) != 0) {
		PQfinish(pg);
		return 2;
	}
	PQclear(PQexecParams(pg, "CREATE TEMP TABLE fault_run AS SELECT "
	    "CASE WHEN $1::timestamptz > now() THEN now() ELSE $1::timestamptz END AS started_at",
	    1, NULL, p, NULL, NULL, 0));
	if (!check_only) {
		fault_log("settling (at most %d s)", SETTLE_MS / 1000);
		settled = fault_settle(pg, SETTLE_MS);
		if (!settled)
			fault_log("did not settle in %d s: checking anyway", SETTLE_MS / 1000);
	}
	fprintf(stdout, "invariants (%s):\n", sqlfile);
	if (fault_check_run(pg, sqlfile, &chk) != 0) {
		PQfinish(pg);
		return 2;
	}
	fault_report_db(pg);
	fprintf(stdout, "self-test (%s):\n", corruptfile);
	if (fault_selftest_run(pg, corruptfile, sqlfile, &st) != 0) {
		PQfinish(pg);
		return 2;
	}
	if (!check_only) {
		report_counts();
		missing = missing_kinds();
		fprintf(stdout, "booking attempts: %ld\n",
		    atomic_load(&fault_sh->count[FC_attempts]));
	}
	fprintf(stdout, "orders paid: %lld\n", orders_paid(pg));
	lost = fault_lost_holds(pg);
	fprintf(stdout, "acknowledged: %ld; holds lost (unpaid, allowed): %lld\n",
	    atomic_load(&fault_sh->count[FC_acks]), lost);
	fprintf(stdout, "invariants checked: %d\n", chk.checked);
	fprintf(stdout, "violations: %ld\n", chk.violations);
	total = 0;
	for (int k = 0; k < FK_COUNT; k++)
		total += atomic_load(&fault_sh->faults[k]);
	fprintf(stdout, "fault: %d passed, %d failed; %ld attempts, %ld faults (%ld pg_crash), "
	    "%ld violations, %lld unpaid holds lost; self-test %d caught, %d skipped, %d missed\n",
	    chk.passed, chk.failed, atomic_load(&fault_sh->count[FC_attempts]), total,
	    atomic_load(&fault_sh->faults[FK_pg_crash]), chk.violations, lost, st.caught,
	    st.skipped, st.missed);
	PQfinish(pg);
	fault_http_done();
	return chk.failed == 0 && st.missed == 0 && missing == 0 && !setup_failed ? 0 : 1;
}

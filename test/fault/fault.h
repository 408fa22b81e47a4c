/*
 * fault.h: the fault driver (bin/fault_driver).  Client processes book and
 * pay continuously through nginx and the WeChat simulator while two fault
 * lanes break things (gymd workers, PostgreSQL, gymd itself; the
 * simulator's API and notifications).  Afterwards the system is left to
 * settle and test/fault/invariants.sql, with the simulator's own list of
 * orders, refunds and messages and what the clients were told (fault_ack)
 * loaded beside it, proves nothing was lost or sold twice.
 *
 * Every process shares one struct fault_shared (an anonymous shared
 * mapping made before fork) holding the counters, the fault tallies, the
 * pools of classes and the stop flags.  A PGconn or a CURL handle is
 * never carried across fork: each process opens its own.
 *
 * Environment (the names of the e2e suite, set by test/run_all.sh):
 *   GYM_E2E_BASE   https://127.0.0.1:18443   nginx in front of gymd
 *   GYM_E2E_SIM    http://127.0.0.1:19180    wxsim's plain HTTP port
 *   GYM_E2E_CONF   var/test/gymd.conf        gymd's and gymctl's -c
 *   GYM_E2E_VAR    var/test                  TLS cert, logs, pid files
 *   GYM_E2E_PGURI  host=127.0.0.1 port=15433 dbname=gym user=gym
 *   GYM_BIN        bin                       gymd and gymctl
 * The commands run from the repository root (test/env/pg.sh is used as is,
 * so GYM_PORT_OFFSET applies to it too).
 */
#ifndef GYM_FAULT_H
#define GYM_FAULT_H

#include <stdatomic.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#define FAULT_API "/api/v1"
#define FAULT_MAXCLASS 4096

/* The counters every process adds to, in report order. */
#define FAULT_COUNTERS(X) \
	X(api_requests) X(sim_requests) X(api_2xx) X(api_4xx) X(api_500) X(api_502) \
	X(api_503) X(api_504) X(api_other) X(api_transport) X(sim_failed) \
	X(logins) X(login_failed) X(attempts) X(holds) X(sold_out) X(trial_refused) \
	X(hold_failed) X(released) X(orders_created) X(order_failed) X(prepays) \
	X(prepay_failed) X(payments) X(pay_refused) X(paid_seen) X(cancels) \
	X(cancel_then_pay) X(lapses) X(lapse_then_pay) X(double_orders) X(payerrors) \
	X(abandoned) X(steals) X(classes_added) X(refunds_asked) X(refunds_acked) \
	X(refund_refused) X(waitlist_joined) X(waitlist_offers) X(waitlist_left) X(acks) \
	X(classes_cancelled) X(alipay_prepays) X(alipay_payments) \
	X(product_passes) X(product_orders) X(product_paid_seen) X(renewals) X(upgrades) \
	X(member_bookings) X(member_refused) X(member_cancels) X(product_refunds_acked) \
	X(product_refund_refused) X(balances_seen) X(regular_added)

#define FAULT_KINDS(X) \
	X(worker_kill) X(pg_restart) X(pg_crash) X(gymd_reload) X(gymd_restart) \
	X(wx_timeout) X(wx_5xx) X(notify_drop) X(notify_duplicate) X(notify_delay) \
	X(notify_reorder)

#define FAULT_ENUM(n) FC_##n,
enum fault_counter { FAULT_COUNTERS(FAULT_ENUM) FC_COUNT };
#undef FAULT_ENUM
#define FAULT_ENUM(n) FK_##n,
enum fault_kind { FAULT_KINDS(FAULT_ENUM) FK_COUNT };
#undef FAULT_ENUM

/* Classes the clients book.  Only the driver's coordinator appends (id
 * first, then n); a client marks a class full when it answers SOLD_OUT. */
struct fault_pool {
	atomic_int n;
	long long id[FAULT_MAXCLASS];
	atomic_int full[FAULT_MAXCLASS];
};

struct fault_shared {
	atomic_int stop_clients;
	atomic_int stop_faults;
	long parent;				/* the driver: its children stop when it is gone */
	atomic_long attempt_limit;		/* 0: no limit */
	atomic_long count[FC_COUNT];
	atomic_long faults[FK_COUNT];
	struct fault_pool normal;		/* capacity FAULT_CAPACITY */
	struct fault_pool tight;		/* capacity 1: for the seat-stealing case */
	struct fault_pool regular;		/* members' classes, FAULT_REGULAR_CAPACITY */
	long long membership_id, pack_id;	/* the products the clients buy */
	long long membership_fen, pack_fen;
	long long upgrade_id;			/* a dearer plan of the same length */
	char runid[32];				/* makes login codes unique per run */
	char operator_token[512];		/* gymctl operator add, for refunds */
};

#define FAULT_CAPACITY 10
#define FAULT_REGULAR_CAPACITY 3
#define FAULT_PACK_CREDITS 2

extern struct fault_shared *fault_sh;

/* The counter and fault-kind names, for the report. */
const char *fault_counter_name(enum fault_counter);
const char *fault_kind_name(enum fault_kind);
void fault_count(enum fault_counter, long n);
/* The driver died (killed, timed out): its children stop too. */
int fault_orphaned(void);

/* ---- environment and small helpers (driver.c) --------------------------------------- */
const char *fault_env_base(void);
const char *fault_env_sim(void);
/* The Alipay simulator's base (https://127.0.0.1:PORT, from the stack's
 * alipay.gateway_url in fault_env_conf()), "" when the stack has none. */
const char *fault_env_alisim(void);
const char *fault_env_conf(void);
const char *fault_env_var(void);
const char *fault_env_bin(void);
const char *fault_env_pguri(void);
/* "<GYM_E2E_VAR>/<rel>" into buf; returns buf. */
char *fault_var_path(const char *rel, char *buf, size_t len);
long long fault_now_ms(void);
void fault_sleep_ms(long ms);
/* Messages to stderr with the time since the start of the run. */
void fault_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A small per-process random generator: [0, n). */
void fault_rand_seed(unsigned long long seed);
unsigned long fault_rand(unsigned long n);

/*
 * What clients were told (a 2xx): one line "kind id ref" per answer, appended
 * to <GYM_E2E_VAR>/log/fault-acks.log (one write each, O_APPEND, so clients
 * never interleave).  Kinds: hold (id = reservation id, ref = class id),
 * order (order id, ref = reservation id), prepay (order id), paid (order id
 * a GET showed paid), refund (out_refund_no, ref = order id); for the
 * products (issue 15): product_order (order id, ref = product id),
 * product_paid (order id), member_booking (booking id, ref = pay_with),
 * member_cancel (booking id), product_refund (out_refund_no, ref = order
 * id), balance (an order id of the parent, ref = the balance GET /me
 * showed after the parent's last change).  checker.c
 * loads them into the temporary table fault_acks.
 */
void fault_ack(const char *kind, const char *id, const char *ref);
/* Empty the file (the driver, before the load). */
int fault_ack_reset(void);

/* ---- HTTP (http.c) -------------------------------------------------------------------- */
struct fault_resp {
	long status;		/* 0 on a transport error */
	char *body;		/* NUL-terminated, never NULL after a request */
	cJSON *json;		/* the body parsed, or NULL */
};
void fault_resp_free(struct fault_resp *);
/* method path (e.g. POST "/sim/pay?out_trade_no=...", body NULL) to the
 * Alipay simulator, over its TLS with the stack's CA; the status (0:
 * transport error). */
long fault_alisim(const char *method, const char *path, const char *body,
    struct fault_resp *r);
const char *fault_str(const struct fault_resp *, const char *member);
long long fault_num(const struct fault_resp *, const char *member);
/* 1 when the member is JSON true. */
int fault_bool(const struct fault_resp *, const char *member);
/* A request to nginx (GYM_E2E_BASE + path), counted; token and body may be
 * NULL, extra is one more header line or NULL.  Returns r->status. */
long fault_api(const char *method, const char *path, const char *token, const char *body,
    const char *extra, struct fault_resp *r);
/* The same against the simulator (GYM_E2E_SIM + path). */
long fault_sim(const char *method, const char *path, const char *body, struct fault_resp *r);
/* Close this process's connections (before exit). */
void fault_http_done(void);

/* ---- gymd and PostgreSQL processes (procs.c) ------------------------------------------ */
/* The gymd master of var/test/run/gymd.pid, or -1 when it does not run. */
long fault_gymd_master(void);
/* The master's worker children (those with an epoll set); returns how many. */
int fault_gymd_workers(long master, long *out, int max);
/* GET /healthz until 200; 1 when it answered within timeout_ms. */
int fault_healthy(long timeout_ms);
/* SIGTERM the master, wait for it, start a new one the way stack.sh does
 * (setsid, pid file, log appended).  0 or -1. */
int fault_gymd_restart(void);
/* Start gymd when no master runs.  0 or -1. */
int fault_gymd_ensure(void);
/* Run a shell command with its output appended to var/test/log/fault-commands.log;
 * returns its exit status (-1 when it could not run). */
int fault_shell(const char *cmd);
int fault_pg_running(void);

/* ---- the parts -------------------------------------------------------------------------- */
/* client.c: one client process's loop until stop_clients. */
void fault_client_run(int index, unsigned long long seed);
/* products.c: the driver's setup (a membership and a class pack, by the
 * operator; 0 or -1) and the coordinator's regular classes (one more
 * added; its id or -1). */
int fault_products_setup(void);
long long fault_regular_add(void);
/* inject.c: the process lane (workers, PostgreSQL, reload, restart) and the
 * WeChat lane (simulator faults); each runs until stop_faults, then puts
 * back what it broke. */
void fault_lane_process(unsigned long long seed, long gap_ms);
void fault_lane_wechat(unsigned long long seed, long gap_ms);
/* Every simulator fault off (and held notifications released); 0 or -1. */
int fault_sim_clear(void);

/* checker.c */
struct fault_check {
	int checked, passed, failed;
	long violations;
};
/* Load the simulator's orders and refunds into the temporary tables
 * sim_orders and sim_refunds. */
int fault_load_sim_orders(PGconn *);
/* Wait (at most timeout_ms) until every payment WeChat took is applied,
 * no lapsed hold or order is left unswept and every refund is finished;
 * 1 when settled. */
int fault_settle(PGconn *, long timeout_ms);
/* Run every invariant of the file; prints each name and count. */
int fault_check_run(PGconn *, const char *sqlfile, struct fault_check *);
/* The self-test: each "-- corrupt: NAME" block of corruptfile (one
 * statement) runs in a transaction of its own, then invariant NAME of
 * sqlfile, then a rollback; the invariant must see a violation.  Prints a
 * line per block.  0, or -1 when a file cannot be read. */
struct fault_selftest {
	int caught, skipped, missed;
};
int fault_selftest_run(PGconn *, const char *corruptfile, const char *sqlfile,
    struct fault_selftest *);
/* Load <GYM_E2E_VAR>/log/fault-acks.log into fault_acks (kind, id, ref). */
int fault_load_acks(PGconn *);
/* Acknowledged holds lost (by a PostgreSQL crash: holds commit without
 * waiting for the disk); -1 on error. */
long long fault_lost_holds(PGconn *);
/* Counts of orders by status and transactions by outcome, printed. */
void fault_report_db(PGconn *);

#endif

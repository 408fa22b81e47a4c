/*
 * e2e.h: helpers for the end-to-end tests (bin/check_e2e), which talk to a
 * running test stack (test/env/stack.sh start test) over HTTPS through
 * nginx, to the WeChat simulator's control API, and to PostgreSQL.
 *
 * Environment (set by test/run_all.sh):
 *   GYM_E2E_BASE   https://127.0.0.1:18443   nginx in front of gymd
 *   GYM_E2E_SIM    http://127.0.0.1:19180    wxsim's plain HTTP port
 *   GYM_E2E_CONF   var/test/gymd.conf        for gymctl -c
 *   GYM_E2E_VAR    var/test                  TLS cert, logs, pid files
 *   GYM_BIN        bin                       gymd, gymctl, wxsim
 *   GYM_E2E_PGURI  default "host=127.0.0.1 port=15433 dbname=gym user=gym"
 *   GYM_VECTORS_DIR  default test/vectors (the test keys)
 *
 * Rules:
 * - Every helper without _nock fails the running Check test (ck_assert)
 *   on a transport or database error; the _nock ones never call Check
 *   and are for processes forked inside a test.
 * - Each HTTP request has a 10 s total time limit (E2E_TIMEOUT_MS).
 * - Paths are absolute on the server: "/healthz", "/api/v1/...".
 * - A PGconn is never carried across fork(): e2e_pg() reconnects when
 *   called in a new process.
 */
#ifndef GYM_E2E_HARNESS_H
#define GYM_E2E_HARNESS_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#define E2E_TIMEOUT_MS 10000
#define E2E_API "/api/v1"

/* An HTTP answer.  body is NUL-terminated (never NULL after a request);
 * json is the parsed body or NULL when it is not JSON.  rid, allow and
 * ctype hold X-Request-Id, Allow and Content-Type ("" when absent);
 * headers holds every response header line ("Name: value\r\n"...). */
struct e2e_resp {
	long status;
	char *body;
	size_t len;
	char rid[80];
	char allow[80];
	char ctype[80];
	char *headers;
	cJSON *json;
	double seconds;		/* total time of the transfer */
};

/* Free what a request put in r and zero it (safe on a zeroed struct). */
void e2e_resp_free(struct e2e_resp *r);
/* The value of response header name (case-insensitive) copied to buf;
 * returns buf, or NULL when the header is absent. */
const char *e2e_header(const struct e2e_resp *r, const char *name, char *buf, size_t len);
/* Shortcuts on r->json: the string member ("" when absent or not a
 * string), the number member (-1 when absent), the "code" member. */
const char *e2e_str(const struct e2e_resp *r, const char *member);
double e2e_num(const struct e2e_resp *r, const char *member);
const char *e2e_code(const struct e2e_resp *r);

/* Environment, with the defaults listed above. */
const char *e2e_base(void);
const char *e2e_sim_base(void);
const char *e2e_conf(void);
const char *e2e_var(void);
const char *e2e_bin(void);
const char *e2e_pguri(void);
const char *e2e_vectors(void);
/* "<GYM_E2E_VAR>/<rel>" into buf; returns buf. */
char *e2e_var_path(const char *rel, char *buf, size_t len);

/*
 * One request to GYM_E2E_BASE + path.  token: sent as "Authorization:
 * Bearer <token>" when not NULL.  body: sent as the JSON request body when
 * not NULL (Content-Type: application/json).  extra: more request header
 * lines separated by '\n' ("Idempotency-Key: k1\nX-Foo: 1"), or NULL.
 * Any previous contents of out are freed first (out must be zeroed or a
 * previous answer).
 */
void e2e_request(const char *method, const char *path, const char *token,
    const char *body, const char *extra, struct e2e_resp *out);
/* Same without Check: 0, or -1 on a transport error (out->status 0). */
int e2e_request_nock(const char *method, const char *path, const char *token,
    const char *body, const char *extra, struct e2e_resp *out);
/* Same against the simulator (GYM_E2E_SIM + path), e.g. "/sim/pay". */
void e2e_sim(const char *method, const char *path, const char *body, struct e2e_resp *out);

/* Many requests to GYM_E2E_BASE at once (curl multi, one connection
 * each, all started together).  Fill method/path/token/body/extra as for
 * e2e_request; resp receives each answer (status 0 on a transport error,
 * which this does not assert: check the statuses). */
struct e2e_req {
	const char *method, *path, *token, *body, *extra;
	struct e2e_resp resp;
};
void e2e_request_many(struct e2e_req *reqs, size_t n);

/* Log in through POST /api/v1/auth/wx-login with this code (the simulator
 * maps each code to its own stable openid); asserts 200 and copies the
 * token into token_out (size E2E_TOKEN_MAX).  Returns the user_id. */
#define E2E_TOKEN_MAX 512
long long e2e_login(const char *code, char *token_out);

/* PostgreSQL (GYM_E2E_PGURI); one connection per process, kept. */
PGconn *e2e_pg(void);
/* The integer in the first column of the first row (NULL or no row: 0). */
long long e2e_sql_int(PGconn *pg, const char *sql);
/* Same with $1..$n text parameters. */
long long e2e_sql_intp(PGconn *pg, const char *sql, int n, const char *const *params);
/* Text of the first column of the first row into buf ("" for NULL / none). */
char *e2e_sql_text(PGconn *pg, const char *sql, int n, const char *const *params,
    char *buf, size_t len);
/* Run a statement; the test fails unless it succeeds. */
void e2e_sql_exec(PGconn *pg, const char *sql, int n, const char *const *params);
/* Poll sql (on e2e_pg()) every 50 ms until it gives expected or timeout_ms
 * passes; returns the last value read (compare it with expected). */
long long e2e_wait_sql_int(const char *sql, long long expected, int timeout_ms);
long long e2e_wait_sql_intp(const char *sql, int n, const char *const *params,
    long long expected, int timeout_ms);

/* A class of this capacity starting tomorrow (1 h long), created with
 * "$GYM_BIN/gymctl -c $GYM_E2E_CONF schedule add"; returns its id. */
long long e2e_schedule(int capacity);
/* A class of this course starting start_s seconds from now, 1 h long. */
long long e2e_schedule_named(const char *course, long start_s, int capacity);

/* Run a shell command; its stdout (first len-1 bytes) into out when not
 * NULL; returns the exit status (-1 when it could not run). */
int e2e_run(const char *cmd, char *out, size_t len);
/* The pid in <GYM_E2E_VAR>/run/<name>.pid (e.g. "gymd"), or -1. */
long e2e_pidfile(const char *name);
/* 1 when pid exists and is not a zombie (/proc/<pid>/stat); never asserts. */
int e2e_alive(long pid);
/* A string unique to this run and call: "<prefix>-<pid>-<ms>-<n>" into
 * buf (use it for login codes and course names, so reruns on the same
 * database never collide).  Returns buf. */
char *e2e_uniq(const char *prefix, char *buf, size_t len);
/* Milliseconds on a monotonic clock; sleep ms milliseconds. */
long long e2e_now_ms(void);
void e2e_sleep_ms(int ms);

/* The size of gymd's log ($GYM_E2E_VAR/log/gymd.log), 0 when absent. */
long long e2e_gymd_log_size(void);
/* gymd's log from byte off to its end (all of it when the file shrank),
 * malloc'd and NUL-terminated ("" when nothing); the test fails when
 * out of memory. */
char *e2e_gymd_log_since(long long off);

/* The value of the sample "name VALUE" (a label-less counter such as
 * "gymd_job_runs_total") in Prometheus text, or -1 when it is not there. */
long long e2e_metric(const char *text, const char *name);
/* gymd_job_runs_total of the test stack's gymd (GET /metrics through
 * nginx), or -1 when it cannot be read.  A job process adds one after each
 * pass, once the pass's log lines are written. */
long long e2e_job_runs(void);
/* Wait until the test stack's job processes finished passes more passes
 * after the call (2 with one job process: a whole pass began and ended in
 * between), at most timeout_ms; the test fails on timeout.  For negative
 * checks ("nothing more is sent") instead of a fixed sleep. */
void e2e_wait_job_passes(int passes, int timeout_ms);

/* Send a raw WeChat notification to path (e.g. E2E_API
 * "/payment/wxpay/callback") with these Wechatpay-Timestamp, -Nonce,
 * -Serial and -Signature headers (a NULL one is left out). */
void e2e_notify_post(const char *path, const char *body, const char *ts,
    const char *nonce, const char *serial, const char *signature,
    struct e2e_resp *out);
/* The same headers as a '\n'-separated string for e2e_req.extra; caller frees. */
char *e2e_notify_headers(const char *ts, const char *nonce, const char *serial,
    const char *signature);

/* WeChat side of notifications, with the shared test keys. */
#define E2E_APPID "wxd678efh567hg6787"
#define E2E_MCHID "1900000001"
#define E2E_PLATFORM_SERIAL "5157F09EFDC096DE15EBE81A47057A7232F4DC7C"
/* The notification envelope (JSON, caller frees) around plaintext,
 * encrypted with the APIv3 key, a 12-character nonce and aad
 * "transaction"; event_type e.g. "TRANSACTION.SUCCESS".  corrupt != 0
 * flips a byte of the ciphertext after encryption. */
char *e2e_notify_envelope(const char *event_type, const char *plaintext, int corrupt);
/* A TRANSACTION.SUCCESS plaintext for out_trade_no (caller frees). */
char *e2e_transaction_json(const char *out_trade_no, const char *transaction_id,
    long total_fen, const char *openid);
/* Sign "ts\nnonce\nbody\n" with the platform key (base64 into a malloc'd
 * string, caller frees). */
char *e2e_platform_sign(const char *ts, const char *nonce, const char *body);

/*
 * Booking and payment steps shared by the suites; each asserts the answer
 * it expects (the test fails otherwise).
 */
/* POST /sim/faults with this JSON; asserts 200. */
void e2e_faults(const char *json);
/* e2e_login with a code unique to this run made from tag (e2e_uniq). */
long long e2e_user(const char *tag, char *token);
/* A new operator of role ("operator" or "auditor") through gymctl operator
 * add, named from tag: its token (op_..., 43 characters) into token[len]. */
void e2e_operator(const char *tag, const char *role, char *token, size_t len);
/* GET /course-schedules/{sid} (asserts 200): its "available". */
int e2e_available(long long sid);
/* POST /bookings/seat-reserve for sid (asserts 201): the reservation_id. */
long long e2e_hold(const char *token, long long sid);
/* POST /payment/orders/create for sid and reservation rid (asserts 201):
 * the order_id into oid[40], its status into st[24] when st is not NULL. */
void e2e_order_create(const char *token, long long sid, long long rid, char *oid, char *st);
/* POST /payment/wxpay/create JSAPI for oid; asserts 200. */
void e2e_prepay(const char *token, const char *oid);
/* The simulator pays oid (force: even when closed there); asserts 200. */
void e2e_sim_pay(const char *oid, int force);
/* The simulator's subscribe messages to openid: how many, and the last
 * one's copy in *last (caller cJSON_Delete()s; last may be NULL). */
int e2e_sim_messages(const char *openid, cJSON **last);
/* GET /payment/orders/{oid} (asserts 200): its status into st[24]. */
char *e2e_order_status(const char *token, const char *oid, char *st);
/* Poll e2e_order_status every 100 ms until it is want or timeout_ms
 * passes; returns st (the last status). */
char *e2e_wait_status(const char *token, const char *oid, const char *want, int timeout_ms,
    char *st);
/* e2e_sql_intp on e2e_pg() with the one parameter arg. */
long long e2e_sql_int1(const char *sql, const char *arg);

#endif

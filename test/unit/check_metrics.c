/*
 * check_metrics.c: unit tests of lib/metrics.c: counting into route slots,
 * the histogram, named counters, sharing across fork, and the Prometheus
 * text.  Each test uses its own route slots and counter names, so the
 * suite also passes with CK_FORK=no, where the mapping outlives a test.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "metrics.h"
#include "unit.h"
#include "version.h"

static char *
render(void)
{
	char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(gym_metrics_render(&out, &len), GYM_OK);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

static void
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	ck_abort_msg("missing line: %s", line);
}

START_TEST(test_uninitialised)
{
	char *out = (char *)1;
	size_t len = 1;

	/* no mapping: updates are no-ops, rendering refuses */
	gym_metrics_add("job_runs", 1);
	gym_metrics_request(0, "GET", "/x", 200, 10);
	ck_assert_int_eq(gym_metrics_render(&out, &len), GYM_EINTERNAL);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_request)
{
	char *t;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	ck_assert_int_eq(gym_metrics_init(), GYM_OK);	/* idempotent */
	gym_metrics_request(3, "GET", "/course-schedules", 200, 1500);
	gym_metrics_request(3, "GET", "/course-schedules", 200, 1000);
	gym_metrics_request(3, "GET", "/course-schedules", 503, 7000000);
	gym_metrics_request(3, "GET", "/course-schedules", 418, 0);
	t = render();
	has_line(t, "# TYPE gymd_requests_total counter");
	has_line(t, "gymd_requests_total{method=\"GET\",route=\"/course-schedules\",status=\"200\"} 2");
	has_line(t, "gymd_requests_total{method=\"GET\",route=\"/course-schedules\",status=\"503\"} 1");
	has_line(t, "gymd_requests_total{method=\"GET\",route=\"/course-schedules\",status=\"other\"} 1");
	ck_assert_ptr_null(strstr(t, "route=\"/course-schedules\",status=\"201\""));
	has_line(t, "# TYPE gymd_request_duration_seconds histogram");
	/* le is inclusive: 1000 us falls in le=0.001 */
	has_line(t, "gymd_request_duration_seconds_bucket{method=\"GET\",route=\"/course-schedules\",le=\"0.001\"} 2");
	has_line(t, "gymd_request_duration_seconds_bucket{method=\"GET\",route=\"/course-schedules\",le=\"0.002\"} 3");
	has_line(t, "gymd_request_duration_seconds_bucket{method=\"GET\",route=\"/course-schedules\",le=\"5\"} 3");
	has_line(t, "gymd_request_duration_seconds_bucket{method=\"GET\",route=\"/course-schedules\",le=\"+Inf\"} 4");
	has_line(t, "gymd_request_duration_seconds_sum{method=\"GET\",route=\"/course-schedules\"} 7.002500");
	has_line(t, "gymd_request_duration_seconds_count{method=\"GET\",route=\"/course-schedules\"} 4");
	free(t);
}
END_TEST

START_TEST(test_other_route)
{
	char *t;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	gym_metrics_request(-1, NULL, NULL, 404, 10);
	gym_metrics_request(GYM_METRICS_ROUTES, "GET", "/beyond", 405, 10);
	gym_metrics_request(5, NULL, "/no-method", 404, 10);
	t = render();
	has_line(t, "gymd_requests_total{method=\"other\",route=\"other\",status=\"404\"} 2");
	has_line(t, "gymd_requests_total{method=\"other\",route=\"other\",status=\"405\"} 1");
	ck_assert_ptr_null(strstr(t, "/beyond"));
	ck_assert_ptr_null(strstr(t, "/no-method"));
	free(t);
}
END_TEST

START_TEST(test_label_escaping)
{
	char *t;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	gym_metrics_request(7, "GET", "/a\"b\\c\nd", 201, 10);
	/* the first label sticks to a slot */
	gym_metrics_request(7, "POST", "/other", 201, 10);
	t = render();
	has_line(t, "gymd_requests_total{method=\"GET\",route=\"/a\\\"b\\\\c\\nd\",status=\"201\"} 2");
	free(t);
}
END_TEST

START_TEST(test_named)
{
	char *t;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	gym_metrics_add("job_failures", 2);
	gym_metrics_add("job_failures", 3);
	gym_metrics_add("job_failures", -4);	/* counters never go down */
	gym_metrics_add("no_such_counter", 9);
	gym_metrics_add(NULL, 9);
	gym_metrics_set_workers(4);
	gym_metrics_worker_restart();
	gym_metrics_worker_retired();
	gym_metrics_worker_retired();
	t = render();
	has_line(t, "# TYPE gymd_job_failures_total counter");
	has_line(t, "gymd_job_failures_total 5");
	has_line(t, "# TYPE gymd_workers gauge");
	has_line(t, "gymd_workers 4");
	has_line(t, "gymd_worker_restarts_total 1");
	has_line(t, "gymd_worker_retirements_total 2");
	has_line(t, "gymd_notify_rejected_total{reason=\"signature\"} 0");
	ck_assert_ptr_null(strstr(t, "no_such_counter"));
	free(t);
}
END_TEST

/* issue 13, finding 3: refused notifications counted by reason; one HELP
 * and TYPE for the series, an unknown reason counted as "other", and a
 * reason given to a counter without one ignored. */
START_TEST(test_named_reason)
{
	char *t;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	gym_metrics_add_reason("notify_rejected", "signature", 3);
	gym_metrics_add_reason("notify_rejected", "decrypt", 1);
	gym_metrics_add_reason("notify_rejected", "mismatch", 2);
	gym_metrics_add_reason("notify_rejected", "made-up", 4);
	gym_metrics_add_reason("notify_rejected", "signature", -1);
	gym_metrics_add_reason("job_runs", "signature", 5);
	gym_metrics_add("notify_rejected", 7);
	t = render();
	has_line(t, "# TYPE gymd_notify_rejected_total counter");
	has_line(t, "gymd_notify_rejected_total{reason=\"signature\"} 3");
	has_line(t, "gymd_notify_rejected_total{reason=\"decrypt\"} 1");
	has_line(t, "gymd_notify_rejected_total{reason=\"plaintext\"} 0");
	has_line(t, "gymd_notify_rejected_total{reason=\"mismatch\"} 2");
	has_line(t, "gymd_notify_rejected_total{reason=\"other\"} 4");
	has_line(t, "gymd_job_runs_total 0");
	ck_assert_ptr_null(strstr(t, "gymd_notify_rejected_total 7"));
	/* one TYPE line for the five series */
	ck_assert_ptr_null(strstr(strstr(t, "# TYPE gymd_notify_rejected_total") + 1,
	    "# TYPE gymd_notify_rejected_total"));
	free(t);
}
END_TEST

START_TEST(test_shared_across_fork)
{
	char *t;
	pid_t pid;
	int st;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	if ((pid = fork()) == 0) {
		gym_metrics_add("payments_paid", 3);
		gym_metrics_request(9, "POST", "/payment/wxpay/callback", 204, 10);
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	gym_metrics_add("payments_paid", 1);
	t = render();
	has_line(t, "gymd_payments_paid_total 4");
	has_line(t, "gymd_requests_total{method=\"POST\",route=\"/payment/wxpay/callback\",status=\"204\"} 1");
	free(t);
}
END_TEST

/* The worker budget for WeChat calls: a flag per child; beyond the budget
 * a child does not enter; a child that died inside its call keeps its flag
 * up until the master clears its slot. */
START_TEST(test_upstream_budget)
{
	pid_t pid;
	int st;
	char *t;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	gym_metrics_proc_self(0);
	ck_assert_int_eq(gym_metrics_upstream_enter(1), 1);
	ck_assert_int_eq(gym_metrics_upstream_count(), 1);
	gym_metrics_proc_self(1);
	ck_assert_int_eq(gym_metrics_upstream_enter(1), 0);	/* child 0 is in a call */
	ck_assert_int_eq(gym_metrics_upstream_count(), 1);
	ck_assert_int_eq(gym_metrics_upstream_enter(2), 1);
	ck_assert_int_eq(gym_metrics_upstream_count(), 2);
	gym_metrics_upstream_leave();
	gym_metrics_proc_self(0);
	gym_metrics_upstream_leave();
	ck_assert_int_eq(gym_metrics_upstream_count(), 0);
	/* a child killed inside its call */
	if ((pid = fork()) == 0) {
		gym_metrics_proc_self(5);
		if (gym_metrics_upstream_enter(1) == 1)
			raise(SIGKILL);
		_exit(1);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(gym_metrics_upstream_count(), 1);
	ck_assert_int_eq(gym_metrics_upstream_enter(1), 0);
	t = render();
	has_line(t, "gymd_upstream_calls 1");
	free(t);
	gym_metrics_upstream_clear(5);		/* the master buries it */
	ck_assert_int_eq(gym_metrics_upstream_count(), 0);
	ck_assert_int_eq(gym_metrics_upstream_enter(1), 1);
	gym_metrics_upstream_leave();
	gym_metrics_proc_self(-1);
	/* without a slot (gymctl, tests) there is no budget */
	ck_assert_int_eq(gym_metrics_upstream_enter(0), 1);
}
END_TEST

/* gymd_build_info names the Makefile's version; process_start_time_seconds
 * is the wall-clock time of gym_metrics_init, to the microsecond. */
START_TEST(test_build_and_start)
{
	char *t, line[256];
	const char *p;
	time_t before = time(NULL);
	double start;

	ck_assert_int_eq(gym_metrics_init(), GYM_OK);
	t = render();
	snprintf(line, sizeof(line), "gymd_build_info{version=\"%s\"} 1", gym_version());
	has_line(t, "# TYPE gymd_build_info gauge");
	has_line(t, line);
	has_line(t, "# TYPE process_start_time_seconds gauge");
	p = strstr(t, "\nprocess_start_time_seconds ");
	ck_assert_ptr_nonnull(p);
	start = strtod(p + strlen("\nprocess_start_time_seconds "), NULL);
	/* at most a suite's run earlier when CK_FORK=no keeps one mapping */
	ck_assert_msg(start <= (double)time(NULL) + 1 && start >= (double)before - 600,
	    "process_start_time_seconds %f, now %lld", start, (long long)before);
	ck_assert_msg(strchr(p + 1, '\n') - strchr(p + 1, '.') == 7, "not microseconds: %.40s", p + 1);
	free(t);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_uninitialised);	/* first: before any init */
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_other_route);
	tcase_add_test(tc, test_label_escaping);
	tcase_add_test(tc, test_named);
	tcase_add_test(tc, test_named_reason);
	tcase_add_test(tc, test_shared_across_fork);
	tcase_add_test(tc, test_upstream_budget);
	tcase_add_test(tc, test_build_and_start);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * sweep.c: times the expiry sweep the job processes run (gym_sweep_holds,
 * lib/sweep.c) over whatever lapsed holds the database holds.  PROCS
 * children (default 1), each with its own connection, loop batch after
 * batch until one of their batches comes back short, as PROCS job
 * processes (job_processes = PROCS) would; the clock runs from when all
 * are connected until the last is done.
 *
 *   sweep CONNINFO BATCH [PROCS]
 *       prints "rows=N seconds=S batches=B procs=P"
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "booking.h"

#define MAX_PROCS 8

struct result {
	long long rows;
	int batches;
	int ok;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One sweeper: connect, say so on ready, wait for go, sweep, write the
 * result to out. */
static int
child(const char *conninfo, int batch, int ready, int go, int out)
{
	struct result res = { 0, 0, 0 };
	struct gym_db *db = NULL;
	char c = 'r';
	int n = 0, up;

	up = gym_db_new(conninfo, 5000, &db) == GYM_OK && gym_db_ensure(db) == GYM_OK;
	if (!up)
		fprintf(stderr, "sweep: cannot connect to %s\n", conninfo);
	/* a sweeper that could not connect still answers, and then fails */
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1 || !up)
		goto out;
	do {
		if (gym_sweep_holds(db, batch, &n) != GYM_OK) {
			fprintf(stderr, "sweep: gym_sweep_holds failed after %lld rows\n", res.rows);
			goto out;
		}
		res.rows += n;
		res.batches++;
	} while (n == batch);
	res.ok = 1;
out:
	gym_db_free(db);
	return write(out, &res, sizeof(res)) == (ssize_t)sizeof(res) && res.ok ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	int ready[2], go[2], out[2], batch, procs = 1, started = 0, failed = 0, batches = 0;
	struct result res;
	long long rows = 0;
	double t0 = 0;
	char c;

	if (argc < 3 || argc > 4 || (batch = atoi(argv[2])) < 1 ||
	    (argc == 4 && ((procs = atoi(argv[3])) < 1 || procs > MAX_PROCS))) {
		fprintf(stderr, "usage: sweep CONNINFO BATCH [PROCS (1..%d)]\n", MAX_PROCS);
		return 2;
	}
	if (pipe(ready) == -1 || pipe(go) == -1 || pipe(out) == -1) {
		perror("sweep: pipe");
		return 1;
	}
	for (; started < procs; started++) {
		pid_t pid = fork();

		if (pid == -1) {
			perror("sweep: fork");
			failed = 1;
			break;
		}
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			close(out[0]);
			_exit(child(argv[1], batch, ready[1], go[0], out[1]));
		}
	}
	close(ready[1]);
	close(go[0]);
	close(out[1]);
	for (int i = 0; i < started; i++)
		if (read(ready[0], &c, 1) != 1)
			failed = 1;
	t0 = now_s();
	/* one byte each: all start at once (a failed start: they stop) */
	for (int i = 0; i < started; i++)
		if (failed || write(go[1], "g", 1) != 1)
			failed = 1;
	close(go[1]);
	for (int i = 0; i < started; i++) {
		if (read(out[0], &res, sizeof(res)) != (ssize_t)sizeof(res) || !res.ok) {
			failed = 1;
			continue;
		}
		rows += res.rows;
		batches += res.batches;
	}
	printf("rows=%lld seconds=%.3f batches=%d procs=%d\n", rows, now_s() - t0, batches,
	    started);
	for (int i = 0; i < started; i++) {
		int st;

		if (wait(&st) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	return failed ? 1 : 0;
}

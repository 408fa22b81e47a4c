/*
 * sweep.c: times the expiry sweep the job process runs (gym_sweep_holds,
 * lib/sweep.c) over whatever lapsed holds the database holds, batch after
 * batch until a batch comes back short.
 *
 *   sweep CONNINFO BATCH      prints "rows=N seconds=S batches=B"
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "booking.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct gym_db *db = NULL;
	long long rows = 0;
	double t0;
	int batch, n = 0, batches = 0, rc = 1;

	if (argc != 3 || (batch = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: sweep CONNINFO BATCH\n");
		return 2;
	}
	if (gym_db_new(argv[1], 5000, &db) != GYM_OK || gym_db_ensure(db) != GYM_OK) {
		fprintf(stderr, "sweep: cannot connect to %s\n", argv[1]);
		goto out;
	}
	t0 = now_s();
	do {
		if (gym_sweep_holds(db, batch, &n) != GYM_OK) {
			fprintf(stderr, "sweep: gym_sweep_holds failed after %lld rows\n", rows);
			goto out;
		}
		rows += n;
		batches++;
	} while (n == batch);
	printf("rows=%lld seconds=%.3f batches=%d\n", rows, now_s() - t0, batches);
	rc = 0;
out:
	gym_db_free(db);
	return rc;
}

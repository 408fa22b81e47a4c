/*
 * jobs.h: the background job process that gymd's master forks and
 * supervises (expiring holds, reconciling orders, notify retries).
 */
#ifndef GYM_JOBS_H
#define GYM_JOBS_H

#include <signal.h>

#include "config.h"

/* Run the jobs until *stop is set (by the job process's SIGTERM handler);
 * returns the process exit status: 0 after an orderly stop. */
int gym_jobs_run(const struct gym_config *cfg, volatile sig_atomic_t *stop);

#endif

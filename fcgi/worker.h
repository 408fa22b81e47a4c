/*
 * worker.h: one prefork worker: accept FastCGI requests on the inherited
 * listening socket and answer them until told to stop.
 */
#ifndef GYM_WORKER_H
#define GYM_WORKER_H

#include "config.h"

/*
 * Serve requests on listen_fd until SIGTERM (the request in flight is
 * finished first), max_requests is reached, or the master is gone.
 * Installs its own signal handling; opens its database connection lazily.
 * Returns the process exit status: 0 for an orderly stop or retirement,
 * 1 when the worker could not go on.
 */
int gym_worker_run(const struct gym_config *cfg, int listen_fd);

#endif

/*
 * master.h: the prefork master: forks and supervises the workers and the
 * job process, reloads on SIGHUP, drains on SIGTERM.
 */
#ifndef GYM_MASTER_H
#define GYM_MASTER_H

#include "config.h"

/*
 * Run until stopped.  cfg was loaded from cfgpath (SIGHUP loads it again
 * from there); the master replaces its contents on a successful reload,
 * and the caller frees it afterwards.  listen_fd stays open throughout.
 * force_debug keeps the log level at debug across reloads (gymd -d).
 * Returns the process exit status: 0 after SIGTERM/SIGINT, 1 when the
 * workers kept dying or the master could not start.
 */
int gym_master_run(const char *cfgpath, struct gym_config *cfg, int listen_fd,
    int force_debug);

#endif

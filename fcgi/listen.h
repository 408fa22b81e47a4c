/*
 * listen.h: the listening socket: inherited from systemd, a UNIX socket
 * ("unix:PATH") or TCP ("HOST:PORT").
 */
#ifndef GYM_LISTEN_H
#define GYM_LISTEN_H

#include <stddef.h>

/* Check the syntax of a listen value without binding: 0 when valid, -1
 * with a message in err otherwise. */
int gym_listen_check(const char *spec, char *err, size_t errsz);

/*
 * Return the listening fd, or -1 (logged).  Socket activation wins: when
 * LISTEN_PID is our pid and LISTEN_FDS >= 1, fd 3 is used and the
 * LISTEN_* variables are removed.  Otherwise spec is bound; a UNIX socket
 * path we created is copied to created (caller unlinks it on exit), else
 * created is set to "".
 */
int gym_listen_open(const char *spec, char *created, size_t createdsz);

#endif

/*
 * listen.c: open the listening socket once, in the master, before any
 * fork.  Every worker inherits it; it stays open across reloads.
 *
 * UNIX socket mode: 0660 by default, so only our group (nginx's, in the
 * deployment) may connect.  When the socket's directory is owned by us
 * and closed to others (the systemd RuntimeDirectory= case, 0750 with
 * nginx's group), the directory already decides who gets in and the
 * socket is made 0666, so nginx needs no membership of our own group.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define BACKLOG		1024
#define SD_LISTEN_FD	3
#define UNIX_PREFIX	"unix:"

static int
set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl == -1 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* Split "HOST:PORT" ("[v6]:PORT", ":PORT" or "*:PORT" for any address). */
static int
split_hostport(const char *spec, char *host, size_t hostsz, char *port, size_t portsz,
    char *err, size_t errsz)
{
	const char *colon = strrchr(spec, ':');
	size_t hlen;
	char *end;
	long p;

	if (colon == NULL) {
		snprintf(err, errsz, "listen \"%s\" is not unix:PATH, HOST:PORT or systemd", spec);
		return -1;
	}
	hlen = (size_t)(colon - spec);
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen >= hostsz) {
		snprintf(err, errsz, "listen host is too long");
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || p < 1 || p > 65535) {
		snprintf(err, errsz, "listen port \"%s\" must be from 1 to 65535", colon + 1);
		return -1;
	}
	snprintf(port, portsz, "%ld", p);
	return 0;
}

int
gym_listen_check(const char *spec, char *err, size_t errsz)
{
	struct sockaddr_un sun;
	char host[256], port[8];

	if (strcmp(spec, "systemd") == 0)
		return 0;
	if (strncmp(spec, UNIX_PREFIX, sizeof(UNIX_PREFIX) - 1) == 0) {
		const char *path = spec + sizeof(UNIX_PREFIX) - 1;

		if (*path == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
			snprintf(err, errsz, "listen socket path is empty or longer than %zu bytes",
			    sizeof(sun.sun_path) - 1);
			return -1;
		}
		return 0;
	}
	return split_hostport(spec, host, sizeof(host), port, sizeof(port), err, errsz);
}

/*
 * fd 3 from systemd when LISTEN_PID is ours: the fd, -1 when we were not
 * socket-activated, -2 when we were but fd 3 is no listening socket.
 */
static int
from_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct stat st;
	socklen_t len = sizeof(int);
	int acc = 0;
	long n;

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid())
		return -1;
	n = strtol(fds, NULL, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n < 1)
		return -1;
	if (n > 1)
		gym_log_warnx("systemd passed %ld sockets, using the first", n);
	if (fstat(SD_LISTEN_FD, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(SD_LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 || !acc) {
		gym_log_errx("fd %d from systemd is not a listening socket", SD_LISTEN_FD);
		return -2;
	}
	if (set_cloexec(SD_LISTEN_FD) == -1)
		gym_log_warn("could not set close-on-exec on fd %d", SD_LISTEN_FD);
	gym_log_infox("using the socket passed by systemd");
	return SD_LISTEN_FD;
}

/* 1 when path's directory is ours and closed to others. */
static int
dir_is_private(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return stat(dir, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & S_IRWXO) == 0;
}

/* Remove a socket file nobody listens on; refuse to touch anything else. */
static int
clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int probe, live;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		gym_log_errx("%s exists and is not a socket", sun->sun_path);
		return -1;
	}
	if ((probe = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		gym_log_err("socket");
		return -1;
	}
	live = connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(probe);
	if (live) {
		gym_log_errx("another server is listening on %s", sun->sun_path);
		return -1;
	}
	if (unlink(sun->sun_path) == -1) {
		gym_log_err("could not remove the stale socket %s", sun->sun_path);
		return -1;
	}
	return 0;
}

static int
open_unix(const char *path, char *created, size_t createdsz)
{
	struct sockaddr_un sun;
	mode_t old, mode;
	int fd = -1, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);	/* length checked */
	if (clear_stale(&sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 || set_cloexec(fd) == -1) {
		gym_log_err("could not create a UNIX socket");
		goto fail;
	}
	old = umask(0177);	/* no window with a wider mode than intended */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1) {
		gym_log_err("could not bind %s", path);
		goto fail;
	}
	snprintf(created, createdsz, "%s", path);
	mode = dir_is_private(path) ? 0666 : 0660;
	if (chmod(path, mode) == -1) {
		gym_log_err("could not chmod %s", path);
		goto fail;
	}
	if (listen(fd, BACKLOG) == -1) {
		gym_log_err("could not listen on %s", path);
		goto fail;
	}
	return fd;
fail:
	if (created[0] != '\0')
		unlink(created);
	created[0] = '\0';
	if (fd != -1)
		close(fd);
	return -1;
}

static int
open_tcp(const char *spec)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[8], err[256];
	int fd = -1, on = 1, e;

	if (split_hostport(spec, host, sizeof(host), port, sizeof(port), err, sizeof(err)) == -1) {
		gym_log_errx("%s", err);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0) {
		gym_log_errx("could not resolve %s: %s", spec, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) == -1)
			continue;
		if (set_cloexec(fd) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, BACKLOG) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd == -1)
		gym_log_err("could not listen on %s", spec);
	freeaddrinfo(res);
	return fd;
}

int
gym_listen_open(const char *spec, char *created, size_t createdsz)
{
	char err[256];
	int fd;

	created[0] = '\0';
	if ((fd = from_systemd()) != -1)
		return fd < 0 ? -1 : fd;
	if (gym_listen_check(spec, err, sizeof(err)) == -1) {
		gym_log_errx("%s", err);
		return -1;
	}
	if (strcmp(spec, "systemd") == 0) {
		gym_log_errx("listen = systemd, but no socket was passed (LISTEN_PID/LISTEN_FDS)");
		return -1;
	}
	if (strncmp(spec, UNIX_PREFIX, sizeof(UNIX_PREFIX) - 1) == 0)
		return open_unix(spec + sizeof(UNIX_PREFIX) - 1, created, createdsz);
	return open_tcp(spec);
}

/*
 * fcgi_hello.c: the trivial FastCGI responder make bench puts behind the
 * same nginx as gymd, to measure what nginx + FastCGI alone can do here.
 * Same shape as gymd: N prefork processes accepting on one socket, one
 * request at a time, a small JSON answer.
 *
 *   fcgi_hello HOST:PORT|PATH NPROC   runs until SIGTERM (children die with it)
 *
 * A PATH is a UNIX socket, made 0666: its folder decides who reaches it.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

static int
serve(int fd)
{
	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, fd, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		r.detached = 1;		/* close at once, as gymd's workers do */
		FCGX_FPrintF(r.out, "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
		    "{\"status\":\"ok\"}\n");
		FCGX_Finish_r(&r);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	int fd, n;

	if (argc != 3 || (n = atoi(argv[2])) < 1 || n > 64) {
		fprintf(stderr, "usage: fcgi_hello HOST:PORT NPROC\n");
		return 2;
	}
	if (strchr(argv[1], ':') == NULL)
		unlink(argv[1]);	/* a socket left by an earlier run */
	if ((fd = FCGX_OpenSocket(argv[1], 1024)) < 0 ||
	    (strchr(argv[1], ':') == NULL && chmod(argv[1], 0666) == -1)) {
		fprintf(stderr, "fcgi_hello: cannot listen on %s\n", argv[1]);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == -1)
			return 1;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			return serve(fd);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}

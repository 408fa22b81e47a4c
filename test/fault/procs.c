/*
 * procs.c: gymd's processes as the fault driver sees them.  The master is
 * the pid in var/test/run/gymd.pid; its workers are the children holding
 * an epoll set (anon_inode:[eventpoll]), which only gym_worker_run()
 * creates, so the job process is never taken for one (as in
 * test/e2e/check_process.c).  A restart starts gymd the way
 * test/env/stack.sh does: a session leader, its output appended to
 * var/test/log/gymd.log, its pid in var/test/run/gymd.pid.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "procfs.h"


/* pid exists and is not a zombie. */
static int
alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ok = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
		ok = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return ok;
}

/* pid runs a program called name (guards against a reused pid). */
static int
is_program(long pid, const char *name)
{
	char path[64], exe[512], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return 0;
	exe[n] = '\0';
	if ((base = strstr(exe, " (deleted)")) != NULL)
		*base = '\0';
	base = strrchr(exe, '/');
	return strcmp(base != NULL ? base + 1 : exe, name) == 0;
}

static long
read_pidfile(void)
{
	char path[1024];
	FILE *f;
	long pid = -1;

	if ((f = fopen(fault_var_path("run/gymd.pid", path, sizeof(path)), "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

long
fault_gymd_master(void)
{
	long pid = read_pidfile();

	return alive(pid) && is_program(pid, "gymd") ? pid : -1;
}

int
fault_gymd_workers(long master, long *out, int max)
{
	long kids[PROCFS_MAXKIDS];
	int n = procfs_children(master, kids), k = 0;

	for (int i = 0; i < n && k < max; i++)
		if (alive(kids[i]) && procfs_has_epoll(kids[i]))
			out[k++] = kids[i];
	return k;
}

int
fault_healthy(long timeout_ms)
{
	struct fault_resp r = { 0 };
	long long end = fault_now_ms() + timeout_ms;
	long st;

	for (;;) {
		st = fault_api("GET", "/healthz", NULL, NULL, NULL, &r);
		fault_resp_free(&r);
		if (st == 200)
			return 1;
		if (fault_now_ms() >= end)
			return 0;
		fault_sleep_ms(100);
	}
}

int
fault_shell(const char *cmd)
{
	char line[4096], log[1024];
	int st;

	snprintf(line, sizeof(line), "%s >>'%s' 2>&1 </dev/null", cmd,
	    fault_var_path("log/fault-commands.log", log, sizeof(log)));
	if ((st = system(line)) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
fault_pg_running(void)
{
	return fault_shell("bash test/env/pg.sh status test") == 0;
}

/* Write pid to the pid file (through a temporary file and rename). */
static int
write_pidfile(long pid)
{
	char path[1024], tmp[1100];
	FILE *f;

	fault_var_path("run/gymd.pid", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.fault", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%ld\n", pid);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* In the grandchild: a session leader with the log as stdout and stderr. */
static void
exec_gymd(void)
{
	char log[1024], prog[1024], when[40];
	time_t t = time(NULL);
	struct tm tm;
	int fd;

	setsid();
	if ((fd = open(fault_var_path("log/gymd.log", log, sizeof(log)),
	    O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1)
		_exit(126);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dprintf(fd, "=== %s gymd starting (fault driver restart)\n", when);
	dup2(fd, 1);
	dup2(fd, 2);
	if ((fd = open("/dev/null", O_RDONLY)) != -1)
		dup2(fd, 0);
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	snprintf(prog, sizeof(prog), "%s/gymd", fault_env_bin());
	execl(prog, prog, "-c", fault_env_conf(), (char *)NULL);
	_exit(127);
}

/* Start gymd detached (double fork: its parent becomes init). */
static int
start_gymd(void)
{
	int fds[2], st;
	long pid = -1;
	pid_t mid, gk;

	if (pipe(fds) == -1)
		return -1;
	if ((mid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (mid == 0) {
		close(fds[0]);
		if ((gk = fork()) == 0)
			exec_gymd();
		pid = gk;
		if (write(fds[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			_exit(1);
		_exit(gk > 0 ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		pid = -1;
	close(fds[0]);
	while (waitpid(mid, &st, 0) == -1 && errno == EINTR)
		;
	if (pid <= 0 || write_pidfile(pid) != 0)
		return -1;
	return 0;
}

/* SIGTERM the master and wait (then SIGKILL its process group). */
static void
stop_gymd(long master)
{
	long long end = fault_now_ms() + 15000;

	if (kill((pid_t)master, SIGTERM) != 0)
		return;
	while (alive(master) && fault_now_ms() < end)
		fault_sleep_ms(50);
	if (alive(master)) {
		fault_log("gymd master %ld did not stop in 15 s: killing its group", master);
		kill(-(pid_t)master, SIGKILL);
		fault_sleep_ms(200);
	}
}

int
fault_gymd_restart(void)
{
	long master = fault_gymd_master();

	if (master > 0)
		stop_gymd(master);
	if (start_gymd() != 0)
		return -1;
	return fault_healthy(30000) ? 0 : -1;
}

int
fault_gymd_ensure(void)
{
	if (fault_gymd_master() > 0)
		return 0;
	fault_log("no gymd master: starting one");
	if (start_gymd() != 0)
		return -1;
	return fault_healthy(30000) ? 0 : -1;
}

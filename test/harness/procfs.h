/*
 * procfs.h: what the tests that kill and count gymd's processes read from
 * /proc (procfs.c; no Check, so the fault driver links it too).
 */
#ifndef GYM_PROCFS_H
#define GYM_PROCFS_H

#define PROCFS_MAXKIDS 64

/* The children of master into kids (at most PROCFS_MAXKIDS, as the kernel
 * lists them); returns how many. */
int procfs_children(long master, long *kids);
/* 1 when pid holds an epoll set: a gymd worker (the job process has none). */
int procfs_has_epoll(long pid);

#endif

/*
 * sched.h: delayed jobs run by a small pool of worker threads.  Jobs due
 * at the same time run concurrently (duplicate notifications rely on it);
 * jobs due at the same time start in the order they were added.
 */
#ifndef WXSIM_SCHED_H
#define WXSIM_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct wxsim_sched;

/*
 * A job.  It returns -1 when done (arg is then freed with the job's free
 * function), or a delay in milliseconds after which it runs again with the
 * same arg.
 */
typedef int64_t wxsim_job_fn(void *arg);
typedef void wxsim_job_free_fn(void *arg);

/* Start nworkers threads; 0, or -1 with nothing started. */
int wxsim_sched_new(size_t nworkers, struct wxsim_sched **out);
/* Run fn(arg) after delay_ms.  0, or -1 when out of memory, in which case
 * arg is freed at once. */
int wxsim_sched_add(struct wxsim_sched *, int64_t delay_ms, wxsim_job_fn *fn,
    wxsim_job_free_fn *free_fn, void *arg);
/* Drop every job not yet started. */
void wxsim_sched_clear(struct wxsim_sched *);
/* Number of jobs waiting or running. */
size_t wxsim_sched_pending(struct wxsim_sched *);
/* Stop the workers (a running job finishes first), drop what is left and
 * free. */
void wxsim_sched_free(struct wxsim_sched *);

#endif

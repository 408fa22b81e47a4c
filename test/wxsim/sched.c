/*
 * sched.c: a due-time ordered job list and the worker threads that run
 * it.  The list and the counters are behind the scheduler's own mutex,
 * which is never held while a job runs, so a job may add jobs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched.h"
#include "util.h"

struct job {
	struct job *next;
	int64_t due;		/* monotonic ms */
	wxsim_job_fn *fn;
	wxsim_job_free_fn *free_fn;
	void *arg;
};

struct wxsim_sched {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head;	/* sorted by due, stable */
	size_t running, waiting;
	int stop;
	size_t nthreads;
	pthread_t *threads;
};

static void
job_free(struct job *j)
{
	if (j->free_fn != NULL)
		j->free_fn(j->arg);
	free(j);
}

/* Insert j after every job due at or before it.  Call locked. */
static void
insert(struct wxsim_sched *s, struct job *j)
{
	struct job **pp = &s->head;

	while (*pp != NULL && (*pp)->due <= j->due)
		pp = &(*pp)->next;
	j->next = *pp;
	*pp = j;
	s->waiting++;
	pthread_cond_broadcast(&s->cv);
}

static void *
worker(void *arg)
{
	struct wxsim_sched *s = arg;
	struct timespec ts;
	struct job *j;
	int64_t now, again;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		now = wxsim_util_mono_ms();
		if (s->head == NULL) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		if (s->head->due > now) {
			ts.tv_sec = (time_t)(s->head->due / 1000);
			ts.tv_nsec = (long)(s->head->due % 1000) * 1000000L;
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			continue;
		}
		j = s->head;
		s->head = j->next;
		s->waiting--;
		s->running++;
		pthread_mutex_unlock(&s->mu);
		again = j->fn(j->arg);
		pthread_mutex_lock(&s->mu);
		s->running--;
		if (again >= 0 && !s->stop) {
			j->due = wxsim_util_mono_ms() + again;
			insert(s, j);
		} else {
			pthread_mutex_unlock(&s->mu);
			job_free(j);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
wxsim_sched_new(size_t nworkers, struct wxsim_sched **out)
{
	struct wxsim_sched *s;
	pthread_condattr_t ca;
	size_t i;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	if ((s->threads = calloc(nworkers, sizeof(*s->threads))) == NULL) {
		free(s);
		return -1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	for (i = 0; i < nworkers; i++) {
		if (pthread_create(&s->threads[i], NULL, worker, s) != 0)
			break;
		s->nthreads++;
	}
	if (s->nthreads != nworkers) {
		wxsim_sched_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
wxsim_sched_add(struct wxsim_sched *s, int64_t delay_ms, wxsim_job_fn *fn,
    wxsim_job_free_fn *free_fn, void *arg)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		if (free_fn != NULL)
			free_fn(arg);
		return -1;
	}
	j->due = wxsim_util_mono_ms() + (delay_ms > 0 ? delay_ms : 0);
	j->fn = fn;
	j->free_fn = free_fn;
	j->arg = arg;
	pthread_mutex_lock(&s->mu);
	if (s->stop) {
		pthread_mutex_unlock(&s->mu);
		job_free(j);
		return -1;
	}
	insert(s, j);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void
wxsim_sched_clear(struct wxsim_sched *s)
{
	struct job *list, *next;

	pthread_mutex_lock(&s->mu);
	list = s->head;
	s->head = NULL;
	s->waiting = 0;
	pthread_mutex_unlock(&s->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		job_free(list);
	}
}

size_t
wxsim_sched_pending(struct wxsim_sched *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->waiting + s->running;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void
wxsim_sched_free(struct wxsim_sched *s)
{
	size_t i;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	wxsim_sched_clear(s);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->threads);
	free(s);
}

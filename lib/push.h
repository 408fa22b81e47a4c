/*
 * push.h: publishing what clients should see next to nginx's Nchan, from
 * the rows committed changes left in push_outbox (see push.c).
 */
#ifndef GYM_PUSH_H
#define GYM_PUSH_H

#include "gym.h"

struct gym_db;
struct gym_push;

/* A publisher to the n urls (Nchan's publisher location on each web host,
 * the channel is appended); *out is NULL (push off) when n is 0. */
enum gym_err gym_push_new(char *const *urls, int n, struct gym_push **out);
void gym_push_free(struct gym_push *);
/* *any = 1 when rows wait to be published. */
enum gym_err gym_push_pending(struct gym_db *, int *any);
/* Take up to max rows, oldest first, and publish them (p NULL: drop them);
 * *published counts the publishes Nchan took, one per message and web
 * host (with p NULL: the rows dropped). */
enum gym_err gym_push_pass(struct gym_push *p, struct gym_db *, int max, int *published);
/* Queue a message for every upcoming class whose seat count changed since
 * it was last queued. */
enum gym_err gym_push_classes(struct gym_db *);

#endif

/*
 * audit_sample.h: audit rows for events anyone can cause (refused
 * notifications), at most a number per source address and minute.  The
 * count lives in PostgreSQL (audit_samples, one row per kind, source and
 * minute), so every worker and every host shares the bound and no process
 * keeps state of its own.
 */
#ifndef GYM_AUDIT_SAMPLE_H
#define GYM_AUDIT_SAMPLE_H

#include "booking.h"
#include "db.h"

/* Count one event of au->action from a->client_ip in this minute (*nth: its
 * number in the minute, from 1) and write its audit row when *nth <= limit
 * (*recorded 1).  The count and the row are one transaction, committed
 * without waiting for the disk. */
enum gym_err gym_audit_sampled(struct gym_db *, const struct gym_actor *a,
    const struct gym_audit *au, int limit, long long *nth, int *recorded);

#endif

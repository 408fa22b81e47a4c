/*
 * retention.h: the spec's retention periods: orders 7 years, payment
 * transactions 5, the audit log 2.  Rows past theirs are written to a
 * directory as JSON lines (one file per table and batch, mode 0600) and
 * then removed, batch by batch, each batch in one transaction: a batch's
 * file is complete and synced before its rows go, and is renamed from
 * NAME.partial to NAME only after they are gone.  An order goes with its
 * registration, bookings, refunds, payment attempts, transactions and
 * messages (all in its line); only orders that reached an end (paid,
 * refunded, failed, cancelled, expired) go.  Off by default: nothing runs
 * it but `gymctl retention run --dir DIR` (docs/operations.md).
 */
#ifndef GYM_RETENTION_H
#define GYM_RETENTION_H

#include "booking.h"

#define GYM_RETAIN_ORDERS_YEARS		7
#define GYM_RETAIN_TRANSACTIONS_YEARS	5
#define GYM_RETAIN_AUDIT_YEARS		2
#define GYM_RETENTION_BATCH		1000

struct gym_retention_counts {
	long long orders;
	long long transactions;
	long long audit;
	int files;
};

/* Archive and remove what is past its retention into dir (which must
 * exist); with dry_run only count it.  GYM_ESYSTEM when a file cannot be
 * written (nothing of that batch is removed then). */
enum gym_err gym_retention_run(struct gym_db *, const char *dir, int dry_run,
    struct gym_retention_counts *out);

#endif

/*
 * client.h: what the client kinds share (client.c books trials,
 * products.c buys memberships and class packs and books members' classes):
 * the client process, one parent's booking in progress and the request
 * helpers (retries, login, prepay, pay at the simulator, poll).
 */
#ifndef GYM_FAULT_CLIENT_H
#define GYM_FAULT_CLIENT_H

#include "fault.h"

#define PAID_RING 16

struct client {
	int index;
	unsigned long seq;
	PGconn *pg;
	char paid_tokens[PAID_RING][512];
	int npaid;
};

/* One parent's booking (or product order) in progress. */
struct booking {
	char token[512];
	long long sid, rid;
	int tight, slot;		/* the class's pool and index */
	char oid[40];
	int alipay;			/* prepaid with Alipay (QR) */
	int product;			/* a membership or class pack order */
};

/* 502/503/504, 500 or no answer: worth sending again. */
int fault_transient(long st);
/* The clients should stop (the driver said so, is gone, or the attempt
 * limit is reached). */
int fault_stop_now(void);
/* fault_api, sent again while the answer is transient (at most tries). */
long fault_call(const char *method, const char *path, const char *token, const char *body,
    const char *extra, struct fault_resp *r, int tries);
/* A new parent (a login code nobody used): 0 with b->token, or -1. */
int fault_login(struct client *c, struct booking *b);
/* A class of the pool: a random open one of the newest, or (probe) any;
 * its index with *sid, or -1. */
int fault_pick(struct fault_pool *p, int probe, long long *sid);
/* wxpay/create (or one time in four alipay/create QR) for b->oid: 0 when
 * the channel gave a prepay (acknowledged as "prepay"). */
int fault_prepay(struct booking *b);
/* The payer at the simulator (state NULL: success): 1 when the channel
 * took the money. */
int fault_pay(struct client *c, const struct booking *b, const char *state);
/* Poll the order until it shows paid (a few tries): 1 when it did, then
 * acknowledged as kind. */
int fault_poll_paid(const struct booking *b, const char *kind);
/* products.c: one parent buys a membership or a class pack (sometimes two:
 * a renewal), books members' classes with it, cancels some, and an
 * operator refunds some orders in part or in full. */
void fault_product_pass(struct client *c);

#endif

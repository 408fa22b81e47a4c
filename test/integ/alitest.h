/*
 * alitest.h: what the integration suites that talk to the Alipay
 * simulator share (alitest.c): the test configuration pointing at it
 * (GYM_TEST_ALISIM_BASE, the test vectors' keys) and plain requests to
 * its control endpoints.
 */
#ifndef GYM_ALITEST_H
#define GYM_ALITEST_H

#include <openssl/evp.h>

#include "config.h"

#define ALIT_ENV "GYM_TEST_ALISIM_BASE"

/* 1 when the simulator's base URL is set (else a line to stderr). */
int alit_available(const char *suite);
/* cfg's alipay.* lines point at the simulator with the test keys. */
void alit_config(struct gym_config *cfg);
/* A test key (keys/<name> under GYM_VECTORS_DIR or test/vectors). */
EVP_PKEY *alit_key(const char *name, int private);
/* method path (with its query) on the simulator, body for a POST: the
 * HTTP status; *out the answer's body (malloc'd) when out is not NULL. */
long alit_request(const char *method, const char *path, const char *body, char **out);

#endif

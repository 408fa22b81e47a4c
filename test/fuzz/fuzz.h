/*
 * fuzz.h: what the libFuzzer harnesses in test/fuzz/fuzz_*.c share.
 * Each harness is one LLVMFuzzerTestOneInput over one parser that sees
 * bytes from outside (a request body, a query string, a path, a header,
 * a WeChat notification); `make fuzz` builds them with clang and
 * -fsanitize=fuzzer,address,undefined and runs each for a bounded time
 * (test/fuzz/run.sh).  A harness calls fuzz_fail() when a property it
 * checks does not hold: libFuzzer then keeps the input as a crash.
 */
#ifndef GYM_FUZZ_H
#define GYM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The libFuzzer entry points each harness defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Print why and abort(): a property of the parser did not hold. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A malloc'd NUL-terminated copy of data (which may hold NULs). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Split data at its first n - 1 newlines into n malloc'd NUL-terminated
 * strings (missing parts are ""); the last part keeps the rest, newlines
 * and all, and its length goes to *lastlen.  Free with fuzz_free_parts. */
void fuzz_split(const uint8_t *data, size_t size, char **parts, size_t n, size_t *lastlen);
void fuzz_free_parts(char **parts, size_t n);

/* "<dir>/<name>" of the shared test keys: $GYM_VECTORS_DIR/keys, else
 * test/vectors/keys (make fuzz runs from the repository). */
const char *fuzz_key_path(const char *name, char *buf, size_t len);

/* The configuration the notification harness verifies against: the test
 * platform key under serial FUZZ_SERIAL, the test APIv3 key, the test
 * appid and mchid.  Loaded once; exits when the keys are not found. */
#define FUZZ_SERIAL "5157F09EFDC096DE15EBE81A47057A7232F4DC7C"
#define FUZZ_APPID "wxd678efh567hg6787"
#define FUZZ_MCHID "1900000001"
const struct gym_config *fuzz_config(void);

/* Quiet gymd's logging (warnings from refused input are the normal case). */
void fuzz_quiet(void);

#endif

/*
 * vectors.h: unit-test access to the known answers in $GYM_VECTORS_DIR
 * (default test/vectors): wechatpay-v3.json, alipay.json and the test
 * keys they name.  Every helper ck_asserts instead of failing softly.
 */
#ifndef GYM_TEST_VECTORS_H
#define GYM_TEST_VECTORS_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

/* The parsed wechatpay-v3.json; caller cJSON_Delete()s. */
cJSON *vec_load(void);
/* Another vector file of the dir (alipay.json), parsed. */
cJSON *vec_load_file(const char *rel);
/* A file under the vectors dir, NUL-terminated; caller frees. */
char *vec_read(const char *rel, size_t *len);
/* The path of keys.<name> (e.g. "merchant_private_key"); caller frees. */
char *vec_key_path(const cJSON *root, const char *name);
/* keys.<name> loaded as a private or public key; caller EVP_PKEY_free()s. */
EVP_PKEY *vec_key(const cJSON *root, const char *name, int private);
/* A string member, or the i-th object of an array member. */
const char *vec_str(const cJSON *obj, const char *name);
const cJSON *vec_item(const cJSON *root, const char *array, int i);

#endif

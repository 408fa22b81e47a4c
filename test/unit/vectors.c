/*
 * vectors.c: loading the shared WeChat Pay vectors for the unit tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "crypto.h"
#include "vectors.h"

static const char *
vec_dir(void)
{
	const char *d = getenv("GYM_VECTORS_DIR");

	return d != NULL && *d != '\0' ? d : "test/vectors";
}

static char *
vec_path(const char *rel)
{
	size_t n = strlen(vec_dir()) + strlen(rel) + 2;
	char *p = malloc(n);

	ck_assert_ptr_nonnull(p);
	snprintf(p, n, "%s/%s", vec_dir(), rel);
	return p;
}

char *
vec_read(const char *rel, size_t *len)
{
	char *path = vec_path(rel), *buf = NULL;
	size_t n = 0, got;
	FILE *f;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s (set GYM_VECTORS_DIR)", path);
	do {
		buf = realloc(buf, n + 4096 + 1);
		ck_assert_ptr_nonnull(buf);
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	ck_assert_msg(!ferror(f), "cannot read %s", path);
	fclose(f);
	free(path);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

cJSON *
vec_load_file(const char *rel)
{
	size_t len;
	char *text = vec_read(rel, &len);
	cJSON *root = cJSON_ParseWithLength(text, len);

	free(text);
	ck_assert_msg(root != NULL, "%s does not parse", rel);
	return root;
}

cJSON *
vec_load(void)
{
	return vec_load_file("wechatpay-v3.json");
}

char *
vec_key_path(const cJSON *root, const char *name)
{
	return vec_path(vec_str(cJSON_GetObjectItemCaseSensitive(root, "keys"), name));
}

EVP_PKEY *
vec_key(const cJSON *root, const char *name, int private)
{
	char *path = vec_key_path(root, name);
	EVP_PKEY *key = NULL;
	enum gym_err rc;

	rc = private ? gym_key_load_private(path, &key) :
	    gym_key_load_public(path, &key);
	ck_assert_msg(rc == GYM_OK, "cannot load %s: %d", path, rc);
	free(path);
	return key;
}

const char *
vec_str(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsString(it), "vector string %s missing", name);
	return it->valuestring;
}

const cJSON *
vec_item(const cJSON *root, const char *array, int i)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, array);
	const cJSON *it = cJSON_GetArrayItem(a, i);

	ck_assert_msg(cJSON_IsObject(it), "vector %s[%d] missing", array, i);
	return it;
}

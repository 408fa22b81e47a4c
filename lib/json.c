/*
 * json.c: JSON helpers (see json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *const sensitive[] = { "openid", "code", "js_code", "token",
	"access_token", "secret", "session_key", "authorization",
	/* a parent's registration details (lib/registration.h) */
	"child_name", "child_birth_date", "parent_phone", "phone", "note", NULL };

/* Replace the value of every sensitive member (at any depth, in objects
 * and arrays) with "****", keeping its name.  -1 when out of memory: the
 * caller must then not use the tree, which may still hold a value. */
static int
mask_tree(cJSON *n)
{
	cJSON *next, *r;

	for (cJSON *c = n ? n->child : NULL; c != NULL; c = next) {
		int hit = 0;

		next = c->next;	/* c may be replaced (and freed) below */

		for (int i = 0; c->string != NULL && sensitive[i] != NULL; i++)
			if (strcmp(c->string, sensitive[i]) == 0)
				hit = 1;
		if (!hit || cJSON_IsObject(c) || cJSON_IsArray(c)) {
			if (mask_tree(c) == -1)
				return -1;
			continue;
		}
		if ((r = cJSON_CreateString("****")) == NULL)
			return -1;
		/* the member keeps its name: move it to the replacement */
		r->string = c->string;
		r->type |= c->type & cJSON_StringIsConst;
		c->string = NULL;
		cJSON_ReplaceItemViaPointer(n, c, r);
	}
	return 0;
}

char *
gym_json_mask(const char *text)
{
	cJSON *root;
	char *out = NULL;

	if (text == NULL || (root = cJSON_Parse(text)) == NULL)
		return NULL;
	if (mask_tree(root) == 0)
		out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

enum gym_err
gym_json_id(const cJSON *obj, const char *name, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char *end;
	long long n;

	if (v == NULL || cJSON_IsNull(v))
		return GYM_ENOTFOUND;
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble < 1 || v->valuedouble > 9e15 ||
		    v->valuedouble != (double)(long long)v->valuedouble)
			return GYM_EINVAL;
		*out = (long long)v->valuedouble;
		return GYM_OK;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strspn(v->valuestring, "0123456789") != strlen(v->valuestring) ||
	    strlen(v->valuestring) > 15)
		return GYM_EINVAL;
	n = strtoll(v->valuestring, &end, 10);
	if (n < 1)
		return GYM_EINVAL;
	*out = n;
	return GYM_OK;
}

enum gym_err
gym_json_fen(const cJSON *obj, const char *name, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	double d;

	if (v == NULL || cJSON_IsNull(v))
		return GYM_ENOTFOUND;
	if (!cJSON_IsNumber(v))
		return GYM_EINVAL;
	d = v->valuedouble;
	/* the range test first: converting a double outside long long (or a
	 * NaN) to an integer is undefined behaviour */
	if (!(d >= 0 && d <= GYM_JSON_FEN_MAX) || d != (double)(long long)d)
		return GYM_EINVAL;
	*out = (long long)d;
	return GYM_OK;
}

enum gym_err
gym_json_str(const cJSON *obj, const char *name, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (v == NULL || cJSON_IsNull(v))
		return GYM_ENOTFOUND;
	if (!cJSON_IsString(v))
		return GYM_EINVAL;
	*out = v->valuestring;
	return GYM_OK;
}

const char *
gym_json_string(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 1 when the len bytes of text hold a NUL byte, or a string (a member
 * name or a value) with the escape \u0000: cJSON would cut that string at
 * the NUL, so "abc\u0000def" would be read as "abc".  A backslash escaped
 * by a backslash starts no escape. */
static int
has_nul(const char *text, size_t len)
{
	int in_str = 0;

	if (memchr(text, '\0', len) != NULL)
		return 1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '"')
			in_str = !in_str;
		else if (in_str && text[i] == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len &&
			    memcmp(text + i + 2, "0000", 4) == 0)
				return 1;
			i++;	/* the escaped character */
		}
	}
	return 0;
}

cJSON *
gym_json_object(const char *text, size_t len)
{
	cJSON *root;
	const char *end = NULL;

	if (text == NULL || len == 0 || has_nul(text, len) ||
	    (root = cJSON_ParseWithLengthOpts(text, len, &end, 0)) == NULL)
		return NULL;
	/* one object and nothing after it but white space */
	while (end != NULL && end < text + len &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (!cJSON_IsObject(root) || end != text + len) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/*
 * alipay_sign.c: Alipay classic-gateway signing and verification (see
 * alipay_sign.h): parameter lists, the form codec, the sorted signing
 * text, the signed node of an answer found by scanning the raw JSON (never
 * re-serialised: the gateway's "\/" is part of what it signed), and yuan
 * amounts as integer fen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alipay_sign.h"
#include "crypto.h"

/* Integer digits a yuan amount may have (fen stays far from overflow). */
#define ALI_YUAN_MAXDIGITS 11

enum gym_err
gym_ali_params_add(struct gym_ali_params *ps, const char *key, const char *value)
{
	struct gym_ali_param *np;
	size_t cap;

	if (gym_ali_params_get(ps, key) != NULL)
		return GYM_ECONFLICT;
	if (ps->n == ps->cap) {
		cap = ps->cap == 0 ? 16 : ps->cap * 2;
		if ((np = realloc(ps->p, cap * sizeof(*np))) == NULL)
			return GYM_ENOMEM;
		ps->p = np;
		ps->cap = cap;
	}
	ps->p[ps->n].key = strdup(key);
	ps->p[ps->n].value = strdup(value);
	if (ps->p[ps->n].key == NULL || ps->p[ps->n].value == NULL) {
		free(ps->p[ps->n].key);
		free(ps->p[ps->n].value);
		return GYM_ENOMEM;
	}
	ps->n++;
	return GYM_OK;
}

const char *
gym_ali_params_get(const struct gym_ali_params *ps, const char *key)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].key, key) == 0)
			return ps->p[i].value;
	return NULL;
}

void
gym_ali_params_free(struct gym_ali_params *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->p[i].key);
		free(ps->p[i].value);
	}
	free(ps->p);
	memset(ps, 0, sizeof(*ps));
}

/* Decode s[0..n) once into a new string; NULL on a bad escape or NUL. */
static char *
form_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	int hi, lo;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] != '%')
			*o++ = s[i];
		else if (i + 2 < n && (hi = gym_hexval(s[i + 1])) >= 0 &&
		    (lo = gym_hexval(s[i + 2])) >= 0 && (hi | lo) != 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	*o = '\0';
	return out;
}

enum gym_err
gym_ali_form_parse(const char *body, size_t len, struct gym_ali_params *ps)
{
	const char *p = body, *end = body + len, *amp, *eq;
	char *k = NULL, *v = NULL;
	enum gym_err e = GYM_OK;

	if (memchr(body, '\0', len) != NULL)
		return GYM_EINVAL;
	while (p < end && e == GYM_OK) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p || amp + 1 == end) {	/* "a=1&&b=2", "a=1&" */
			e = GYM_EINVAL;
			break;
		}
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL || eq == p)
			e = GYM_EINVAL;
		else if ((k = form_decode(p, (size_t)(eq - p))) == NULL ||
		    (v = form_decode(eq + 1, (size_t)(amp - eq - 1))) == NULL)
			e = GYM_EINVAL;
		else if ((e = gym_ali_params_add(ps, k, v)) == GYM_ECONFLICT)
			e = GYM_EINVAL;
		free(k);
		free(v);
		k = v = NULL;
		p = amp + 1;
	}
	if (e != GYM_OK)
		gym_ali_params_free(ps);
	return e;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

enum gym_err
gym_ali_form_encode(const struct gym_ali_params *ps, char **out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 1, i;
	char *o;

	for (i = 0; i < ps->n; i++)
		n += 3 * (strlen(ps->p[i].key) + strlen(ps->p[i].value)) + 2;
	if ((*out = o = malloc(n)) == NULL)
		return GYM_ENOMEM;
	for (i = 0; i < ps->n; i++) {
		for (int part = 0; part < 2; part++) {
			const unsigned char *s = (const unsigned char *)
			    (part == 0 ? ps->p[i].key : ps->p[i].value);

			if (part == 1)
				*o++ = '=';
			for (; *s != '\0'; s++)
				if (unreserved(*s))
					*o++ = (char)*s;
				else {
					*o++ = '%';
					*o++ = hex[*s >> 4];
					*o++ = hex[*s & 15];
				}
		}
		if (i + 1 < ps->n)
			*o++ = '&';
	}
	*o = '\0';
	return GYM_OK;
}

static int
by_key(const void *a, const void *b)
{
	const struct gym_ali_param *x = *(const struct gym_ali_param *const *)a;
	const struct gym_ali_param *y = *(const struct gym_ali_param *const *)b;

	return strcmp(x->key, y->key);		/* byte order: strcmp is unsigned */
}

enum gym_err
gym_ali_sign_content(const struct gym_ali_params *ps, int drop_sign_type, char **out,
    size_t *len)
{
	const struct gym_ali_param **v = NULL;
	size_t i, n = 0, sz = 1;
	char *o;

	*out = NULL;
	if (ps->n > 0 && (v = malloc(ps->n * sizeof(*v))) == NULL)
		return GYM_ENOMEM;
	for (i = 0; i < ps->n; i++) {
		if (ps->p[i].value[0] == '\0' || strcmp(ps->p[i].key, "sign") == 0 ||
		    (drop_sign_type && strcmp(ps->p[i].key, "sign_type") == 0))
			continue;
		v[n++] = &ps->p[i];
		sz += strlen(ps->p[i].key) + strlen(ps->p[i].value) + 2;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), by_key);
	if ((*out = o = malloc(sz)) == NULL) {
		free(v);
		return GYM_ENOMEM;
	}
	for (i = 0; i < n; i++)
		o += sprintf(o, "%s%s=%s", i > 0 ? "&" : "", v[i]->key, v[i]->value);
	*o = '\0';
	if (len != NULL)
		*len = (size_t)(o - *out);
	free(v);
	return GYM_OK;
}

enum gym_err
gym_ali_sign(EVP_PKEY *app_key, const struct gym_ali_params *ps, char **sig_b64)
{
	char *text;
	size_t len;
	enum gym_err e;

	*sig_b64 = NULL;
	if ((e = gym_ali_sign_content(ps, 0, &text, &len)) != GYM_OK)
		return e;
	e = gym_rsa_sign(app_key, text, len, sig_b64);
	free(text);
	return e;
}

enum gym_err
gym_ali_verify_notify(EVP_PKEY *alipay_pub, const struct gym_ali_params *ps)
{
	const char *sig = gym_ali_params_get(ps, "sign");
	char *text;
	size_t len;
	enum gym_err e;

	if (alipay_pub == NULL || sig == NULL || sig[0] == '\0')
		return GYM_ECRYPTO;
	if ((e = gym_ali_sign_content(ps, 1, &text, &len)) != GYM_OK)
		return e;
	e = gym_rsa_verify(alipay_pub, text, len, sig) == GYM_OK ? GYM_OK : GYM_ECRYPTO;
	free(text);
	return e;
}

/* JSON scanning over the raw bytes: each returns the position past what
 * it skipped, or NULL when the text is malformed. */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *
skip_string(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		} else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		p++;
		if (depth == 0)
			return p;
	}
	return NULL;
}

enum gym_err
gym_ali_response_member(const char *body, size_t len, const char *name, const char **start,
    size_t *n)
{
	const char *p = body, *end = body + len, *k, *v;
	size_t nlen = strlen(name), klen;
	int found = 0;

	*start = NULL;
	*n = 0;
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return GYM_EINVAL;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		p++;
	else
		for (;;) {
			k = p;
			if ((p = skip_string(p, end)) == NULL)
				return GYM_EINVAL;
			klen = (size_t)(p - k);
			p = skip_ws(p, end);
			if (p >= end || *p++ != ':')
				return GYM_EINVAL;
			v = p = skip_ws(p, end);
			if ((p = skip_value(p, end)) == NULL || p == v)
				return GYM_EINVAL;
			if (klen == nlen + 2 && memcmp(k + 1, name, nlen) == 0) {
				if (found++)
					return GYM_EINVAL;
				*start = v;
				*n = (size_t)(p - v);
			}
			p = skip_ws(p, end);
			if (p < end && *p == ',') {
				p = skip_ws(p + 1, end);
				continue;
			}
			if (p < end && *p == '}') {
				p++;
				break;
			}
			return GYM_EINVAL;
		}
	if (skip_ws(p, end) != end)
		return GYM_EINVAL;
	return found ? GYM_OK : GYM_ENOTFOUND;
}

enum gym_err
gym_ali_response_node(const char *method, char *out, size_t outsz)
{
	size_t i, n = strlen(method);

	if (n == 0 || n + sizeof("_response") > outsz)
		return GYM_EINVAL;
	for (i = 0; i < n; i++)
		out[i] = method[i] == '.' ? '_' : method[i];
	memcpy(out + n, "_response", sizeof("_response"));
	return GYM_OK;
}

enum gym_err
gym_ali_verify_response(EVP_PKEY *alipay_pub, const char *method, const char *body,
    size_t len, cJSON **node)
{
	char name[128];
	const char *nodep, *signp;
	size_t nodelen, signlen;
	cJSON *sig = NULL;
	enum gym_err e, es;
	int is_error = 0;

	*node = NULL;
	if ((e = gym_ali_response_node(method, name, sizeof(name))) != GYM_OK)
		return e;
	e = gym_ali_response_member(body, len, name, &nodep, &nodelen);
	if (e == GYM_ENOTFOUND) {
		is_error = 1;
		e = gym_ali_response_member(body, len, "error_response", &nodep, &nodelen);
	}
	if (e != GYM_OK)
		return GYM_EINVAL;
	if ((*node = cJSON_ParseWithLength(nodep, nodelen)) == NULL || !cJSON_IsObject(*node)) {
		e = GYM_EINVAL;
		goto out;
	}
	es = gym_ali_response_member(body, len, "sign", &signp, &signlen);
	if (es == GYM_ENOTFOUND) {
		e = is_error ? GYM_EUPSTREAM : GYM_ECRYPTO;
		goto out;
	}
	if (es != GYM_OK || (sig = cJSON_ParseWithLength(signp, signlen)) == NULL ||
	    !cJSON_IsString(sig) || alipay_pub == NULL ||
	    gym_rsa_verify(alipay_pub, nodep, nodelen, sig->valuestring) != GYM_OK)
		e = GYM_ECRYPTO;
out:
	cJSON_Delete(sig);
	if (e != GYM_OK && e != GYM_EUPSTREAM) {
		cJSON_Delete(*node);
		*node = NULL;
	}
	return e;
}

enum gym_err
gym_ali_v3_authorization(EVP_PKEY *app_key, const char *app_id, const char *nonce,
    const char *ts_ms, const char *method, const char *uri, const char *body, size_t blen,
    char **out)
{
	char *auth = NULL, *text = NULL, *sig = NULL;
	enum gym_err e = GYM_ENOMEM;

	*out = NULL;
	if ((auth = gym_asprintf("app_id=%s,nonce=%s,timestamp=%s", app_id, nonce, ts_ms)) ==
	    NULL || (text = gym_asprintf("%s\n%s\n%s\n%.*s\n", auth, method, uri,
	    (int)blen, body != NULL ? body : "")) == NULL)
		goto out;
	if ((e = gym_rsa_sign(app_key, text, strlen(text), &sig)) != GYM_OK)
		goto out;
	e = (*out = gym_asprintf("ALIPAY-SHA256withRSA %s,sign=%s", auth, sig)) != NULL ?
	    GYM_OK : GYM_ENOMEM;
out:
	free(auth);
	free(text);
	free(sig);
	return e;
}

enum gym_err
gym_ali_v3_verify(EVP_PKEY *alipay_pub, const char *ts_ms, const char *nonce, const char *body,
    size_t blen, const char *sig_b64)
{
	char *text;
	enum gym_err e;

	if (alipay_pub == NULL || ts_ms == NULL || nonce == NULL || sig_b64 == NULL)
		return GYM_ECRYPTO;
	if ((text = gym_asprintf("%s\n%s\n%.*s\n", ts_ms, nonce, (int)blen,
	    body != NULL ? body : "")) == NULL)
		return GYM_ENOMEM;
	e = gym_rsa_verify(alipay_pub, text, strlen(text), sig_b64) == GYM_OK ? GYM_OK :
	    GYM_ECRYPTO;
	free(text);
	return e;
}

void
gym_ali_yuan(long long fen, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s%lld.%02lld", fen < 0 ? "-" : "",
	    (fen < 0 ? -fen : fen) / 100, (fen < 0 ? -fen : fen) % 100);
}

enum gym_err
gym_ali_fen(const char *yuan, long long *fen)
{
	const char *p = yuan;
	long long v = 0;
	size_t digits = 0;

	*fen = -1;
	if (yuan == NULL)
		return GYM_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		v = v * 10 + (*p - '0');
	if (digits == 0 || digits > ALI_YUAN_MAXDIGITS || (digits > 1 && yuan[0] == '0'))
		return GYM_EINVAL;
	if (p[0] != '.' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    p[3] != '\0')
		return GYM_EINVAL;
	*fen = v * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	return GYM_OK;
}

/*
 * http.c: one HTTP/1.1 request in, one response out, then the connection
 * closes.  The request's header block is kept in one buffer (req->raw) and
 * every pointer of struct wxsim_req points into it or into req->body.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "http.h"
#include "util.h"

/* Bytes read from the connection and not yet consumed. */
struct rbuf {
	const struct wxsim_io *io;
	char *buf;
	size_t len, cap, pos;
};

/* Read more into b, never holding more than max bytes.  >0 bytes read,
 * 0 at end of file, -1 on error or timeout, -2 when the cap is reached. */
static long
rb_fill(struct rbuf *b, size_t max)
{
	char *nb;
	size_t ncap;
	ssize_t n;

	if (b->len >= max)
		return -2;
	if (b->len == b->cap) {
		ncap = b->cap ? b->cap * 2 : 4096;
		if (ncap > max)
			ncap = max;
		if ((nb = realloc(b->buf, ncap + 1)) == NULL)
			return -1;
		b->buf = nb;
		b->cap = ncap;
	}
	if ((n = wxsim_io_recv(b->io, b->buf + b->len, b->cap - b->len)) <= 0)
		return n == 0 ? 0 : -1;
	b->len += (size_t)n;
	b->buf[b->len] = '\0';
	return n;
}

/* Make n unconsumed bytes available; 0 or -1. */
static int
rb_need(struct rbuf *b, size_t n, size_t max)
{
	while (b->len - b->pos < n)
		if (rb_fill(b, max) <= 0)
			return -1;
	return 0;
}

/* The first CRLF in the n bytes at p, or NULL (memmem is a GNU extension). */
static char *
find_crlf(char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return p + i;
	return NULL;
}

/* The next CRLF-terminated line (NUL-terminated in place, CRLF dropped)
 * of at most 1024 bytes, or NULL. */
static char *
rb_line(struct rbuf *b, size_t max)
{
	char *line, *crlf;

	for (;;) {
		if (b->len > b->pos && (crlf = find_crlf(b->buf + b->pos,
		    b->len - b->pos)) != NULL)
			break;
		if (b->len - b->pos > 1024 || rb_fill(b, max) <= 0)
			return NULL;
	}
	line = b->buf + b->pos;
	*crlf = '\0';
	b->pos = (size_t)(crlf - b->buf) + 2;
	return line;
}

ssize_t
wxsim_io_recv(const struct wxsim_io *io, void *buf, size_t len)
{
	ssize_t n;
	int r;

	if (io->ssl != NULL) {
		if (len > INT_MAX)
			len = INT_MAX;
		if ((r = SSL_read(io->ssl, buf, (int)len)) > 0)
			return r;
		return SSL_get_error(io->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	do
		n = recv(io->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

static int
send_all(const struct wxsim_io *io, const char *p, size_t n)
{
	ssize_t w;
	int chunk;

	while (n > 0) {
		if (io->ssl != NULL) {
			chunk = n > INT_MAX ? INT_MAX : (int)n;
			if ((chunk = SSL_write(io->ssl, p, chunk)) <= 0)
				return -1;
			w = chunk;
		} else {
			w = send(io->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
trim(char **s)
{
	char *p = *s, *e;

	p += strspn(p, " \t");
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	*s = p;
}

/* Split the header block (NUL-terminated, CRLF lines) into req; 0 or an
 * HTTP status. */
static int
parse_head(struct wxsim_req *req)
{
	char *line, *next, *sp1, *sp2, *colon, *q;

	line = req->raw;
	if ((next = strstr(line, "\r\n")) == NULL)
		return 400;
	*next = '\0';
	next += 2;
	if ((sp1 = strchr(line, ' ')) == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    (size_t)(sp1 - line) >= sizeof(req->method) || sp1 == line || sp2 == sp1 + 1)
		return 400;
	*sp1 = *sp2 = '\0';
	if (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return 400;
	memcpy(req->method, line, (size_t)(sp1 - line) + 1);
	req->target = sp1 + 1;
	if (req->target[0] != '/')
		return 400;
	while (*next != '\0') {
		line = next;
		if ((next = strstr(line, "\r\n")) == NULL)
			return 400;
		*next = '\0';
		next += 2;
		if (*line == ' ' || *line == '\t' || (colon = strchr(line, ':')) == NULL ||
		    colon == line)
			return 400;
		if (req->nhdr == WXSIM_HTTP_MAX_FIELDS)
			return 431;
		*colon = '\0';
		req->hdr[req->nhdr].name = line;
		req->hdr[req->nhdr].value = colon + 1;
		trim(&req->hdr[req->nhdr].value);
		req->nhdr++;
	}
	/* The path is a copy: the target stays intact for the signature. */
	if ((req->path = strdup(req->target)) == NULL)
		return 500;
	if ((q = strchr(req->path, '?')) != NULL) {
		*q = '\0';
		req->query = req->target + (q - req->path) + 1;
	} else
		req->query = "";
	return 0;
}

/* Read a chunked body; 0 or an HTTP status. */
static int
read_chunked(struct rbuf *b, struct wxsim_req *req, size_t max)
{
	char *line, *end, *nb;
	unsigned long sz;

	for (;;) {
		if ((line = rb_line(b, max)) == NULL)
			return 400;
		errno = 0;
		sz = strtoul(line, &end, 16);
		if (end == line || errno != 0 || (*end != '\0' && *end != ';' &&
		    *end != ' '))
			return 400;
		if (sz == 0)
			break;
		if (sz > WXSIM_HTTP_MAX_BODY || req->blen + sz > WXSIM_HTTP_MAX_BODY)
			return 413;
		if (rb_need(b, sz + 2, max) != 0)
			return 400;
		if ((nb = realloc(req->body, req->blen + sz + 1)) == NULL)
			return 500;
		req->body = nb;
		memcpy(req->body + req->blen, b->buf + b->pos, sz);
		req->blen += sz;
		req->body[req->blen] = '\0';
		if (memcmp(b->buf + b->pos + sz, "\r\n", 2) != 0)
			return 400;
		b->pos += sz + 2;
	}
	/* trailers, up to the empty line */
	while ((line = rb_line(b, max)) != NULL && *line != '\0')
		;
	return line == NULL ? 400 : 0;
}

int
wxsim_http_read(const struct wxsim_io *io, struct wxsim_req *req, int *status)
{
	struct rbuf b = { io, NULL, 0, 0, 0 };
	const char *cl, *te, *expect;
	char *end = NULL, *ep;
	size_t hlen, max = WXSIM_HTTP_MAX_HEADER + WXSIM_HTTP_MAX_BODY + 65536;
	unsigned long long clen = 0;
	long n;
	int st = 400;

	memset(req, 0, sizeof(*req));
	for (;;) {
		if (b.len > 0 && (end = strstr(b.buf, "\r\n\r\n")) != NULL)
			break;
		if (b.len >= WXSIM_HTTP_MAX_HEADER) {
			st = 431;
			goto fail;
		}
		if ((n = rb_fill(&b, WXSIM_HTTP_MAX_HEADER)) <= 0) {
			st = b.len == 0 ? 0 : (n == 0 ? 400 : 408);
			goto fail;
		}
		if (memchr(b.buf, '\0', b.len) != NULL)
			goto fail;
	}
	hlen = (size_t)(end - b.buf) + 4;
	if ((req->raw = malloc(hlen - 1)) == NULL) {
		st = 500;
		goto fail;
	}
	memcpy(req->raw, b.buf, hlen - 2);	/* keep the last CRLF of the headers */
	req->raw[hlen - 2] = '\0';
	b.pos = hlen;
	if ((st = parse_head(req)) != 0)
		goto fail;
	st = 400;
	cl = wxsim_http_header(req, "Content-Length");
	te = wxsim_http_header(req, "Transfer-Encoding");
	expect = wxsim_http_header(req, "Expect");
	if (cl != NULL && te != NULL)
		goto fail;
	if (te != NULL && strcasecmp(te, "chunked") != 0) {
		st = 501;
		goto fail;
	}
	if (cl != NULL) {
		if (*cl < '0' || *cl > '9')
			goto fail;
		errno = 0;
		clen = strtoull(cl, &ep, 10);
		if (errno != 0 || *ep != '\0')
			goto fail;
		if (clen > WXSIM_HTTP_MAX_BODY) {
			st = 413;
			goto fail;
		}
	}
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
	    (te != NULL || b.len - b.pos < clen))
		if (send_all(io, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0) {
			st = 0;
			goto fail;
		}
	if (te != NULL) {
		if ((st = read_chunked(&b, req, max)) != 0)
			goto fail;
	} else {
		if (rb_need(&b, (size_t)clen, max) != 0)
			goto fail;
		if ((req->body = malloc((size_t)clen + 1)) == NULL) {
			st = 500;
			goto fail;
		}
		memcpy(req->body, b.buf + b.pos, (size_t)clen);
		req->blen = (size_t)clen;
	}
	if (req->body == NULL && (req->body = calloc(1, 1)) == NULL) {
		st = 500;
		goto fail;
	}
	req->body[req->blen] = '\0';
	free(b.buf);
	*status = 200;
	return 0;
fail:
	free(b.buf);
	*status = st;
	return -1;
}

void
wxsim_http_req_free(struct wxsim_req *req)
{
	size_t i;

	for (i = 0; i < req->nparams; i++)
		free(req->params[i]);
	free(req->path);
	free(req->body);
	free(req->raw);
	memset(req, 0, sizeof(*req));
}

const char *
wxsim_http_header(const struct wxsim_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nhdr; i++)
		if (strcasecmp(req->hdr[i].name, name) == 0)
			return req->hdr[i].value;
	return NULL;
}

char *
wxsim_http_param(const char *query, const char *name)
{
	size_t nlen = strlen(name), len;
	const char *p = query, *amp;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return wxsim_util_pct_decode(p + nlen + 1, len - nlen - 1, 1);
		if (len == nlen && strncmp(p, name, nlen) == 0)
			return strdup("");
		p = amp != NULL ? amp + 1 : NULL;
	}
	return NULL;
}

int
wxsim_resp_set(struct wxsim_resp *resp, int status, const char *ctype,
    const char *body, size_t len)
{
	free(resp->body);
	resp->body = NULL;
	resp->blen = 0;
	resp->status = status;
	resp->ctype = ctype;
	if (body == NULL)
		return 0;
	if ((resp->body = malloc(len + 1)) == NULL) {
		resp->status = 500;
		resp->ctype = NULL;
		return -1;
	}
	memcpy(resp->body, body, len);
	resp->body[len] = '\0';
	resp->blen = len;
	return 0;
}

int
wxsim_resp_json(struct wxsim_resp *resp, int status, cJSON *json)
{
	char *s;
	int rc;

	if (json == NULL || (s = cJSON_PrintUnformatted(json)) == NULL) {
		cJSON_Delete(json);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return -1;
	}
	cJSON_Delete(json);
	rc = wxsim_resp_set(resp, status, "application/json", s, strlen(s));
	cJSON_free(s);
	return rc;
}

int
wxsim_resp_error(struct wxsim_resp *resp, int status, const char *code, const char *message)
{
	cJSON *j;

	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "code", code) == NULL ||
	    cJSON_AddStringToObject(j, "message", message) == NULL) {
		cJSON_Delete(j);
		wxsim_resp_set(resp, 500, NULL, NULL, 0);
		return -1;
	}
	return wxsim_resp_json(resp, status, j);
}

int
wxsim_resp_header(struct wxsim_resp *resp, const char *name, const char *value)
{
	size_t i;
	char *v;

	if (strlen(name) >= sizeof(resp->hdr[0].name) || (v = strdup(value)) == NULL)
		return -1;
	for (i = 0; i < resp->nhdr; i++)
		if (strcasecmp(resp->hdr[i].name, name) == 0) {
			free(resp->hdr[i].value);
			resp->hdr[i].value = v;
			return 0;
		}
	if (resp->nhdr == WXSIM_HTTP_MAX_RESP_HDRS) {
		free(v);
		return -1;
	}
	snprintf(resp->hdr[resp->nhdr].name, sizeof(resp->hdr[0].name), "%s", name);
	resp->hdr[resp->nhdr++].value = v;
	return 0;
}

void
wxsim_resp_free(struct wxsim_resp *resp)
{
	size_t i;

	for (i = 0; i < resp->nhdr; i++)
		free(resp->hdr[i].value);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

int
wxsim_http_write(const struct wxsim_io *io, const struct wxsim_resp *resp)
{
	char *head = NULL;
	size_t hlen = 0, i;
	FILE *f;
	int rc = -1, nobody = resp->status == 204 || resp->status == 304 ||
	    (resp->status >= 100 && resp->status < 200);

	if ((f = open_memstream(&head, &hlen)) == NULL)
		return -1;
	fprintf(f, "HTTP/1.1 %d %s\r\n", resp->status, reason(resp->status));
	fprintf(f, "Server: wxsim\r\n");
	if (resp->ctype != NULL)
		fprintf(f, "Content-Type: %s\r\n", resp->ctype);
	for (i = 0; i < resp->nhdr; i++)
		fprintf(f, "%s: %s\r\n", resp->hdr[i].name, resp->hdr[i].value);
	if (!nobody)
		fprintf(f, "Content-Length: %zu\r\n", resp->blen);
	fprintf(f, "Connection: close\r\n\r\n");
	if (fclose(f) != 0 || head == NULL)
		goto out;
	if (send_all(io, head, hlen) != 0 ||
	    (!nobody && resp->blen > 0 && send_all(io, resp->body, resp->blen) != 0))
		goto out;
	rc = 0;
out:
	free(head);
	return rc;
}

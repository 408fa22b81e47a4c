/*
 * tls.h: the simulator's own TLS listener (--tls-listen), so that a client
 * that speaks only https (lib/wxpay_http.c) reaches it without nginx: a server
 * context from a PEM certificate chain and key, and a handshake per
 * accepted connection bounded in time.
 */
#ifndef WXSIM_TLS_H
#define WXSIM_TLS_H

#include <openssl/ssl.h>

/* A TLS 1.2+ server context over cert (PEM chain) and key; NULL after
 * logging why. */
SSL_CTX *wxsim_tls_ctx_new(const char *cert, const char *key);
/* The server handshake on the connected socket fd, given at most
 * timeout_ms in all: the session (fd left blocking), or NULL after
 * logging why (fd untouched otherwise; the caller closes it). */
SSL *wxsim_tls_accept(SSL_CTX *, int fd, int timeout_ms, const char *peer);
/* Send close_notify (without waiting for the peer's) and free. */
void wxsim_tls_close(SSL *);

#endif

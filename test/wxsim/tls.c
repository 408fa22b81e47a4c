/*
 * tls.c: server-side TLS for wxsim's --tls-listen port.  The handshake
 * runs on the socket in non-blocking mode under poll() with one deadline,
 * so a client that connects and stalls holds a thread for timeout_ms at
 * most; afterwards the socket is blocking again and its SO_RCVTIMEO and
 * SO_SNDTIMEO bound every SSL_read and SSL_write (http.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>

#include <openssl/err.h>

#include "tls.h"
#include "util.h"

static void
log_ssl(const char *what, const char *arg)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	wxsim_util_log("tls: %s%s%s%s%s", what, arg ? " " : "", arg ? arg : "",
	    buf[0] ? ": " : "", buf);
}

SSL_CTX *
wxsim_tls_ctx_new(const char *cert, const char *key)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		log_ssl("SSL_CTX_new failed", NULL);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		log_ssl("cannot require TLS 1.2", NULL);
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		log_ssl("cannot load the certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		log_ssl("cannot load the key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl("the key does not match the certificate", cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *
wxsim_tls_accept(SSL_CTX *ctx, int fd, int timeout_ms, const char *peer)
{
	struct pollfd pfd;
	SSL *ssl = NULL;
	int64_t deadline = wxsim_util_mono_ms() + timeout_ms, left;
	int flags, r, err, ok = 0;

	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		wxsim_util_log("%s: tls: fcntl failed", peer);
		return NULL;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		log_ssl("SSL_new failed for", peer);
		goto out;
	}
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_accept(ssl)) == 1) {
			ok = 1;
			break;
		}
		err = SSL_get_error(ssl, r);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			log_ssl("handshake failed with", peer);
			break;
		}
		if ((left = deadline - wxsim_util_mono_ms()) <= 0) {
			wxsim_util_log("%s: tls: handshake timed out after %d ms", peer,
			    timeout_ms);
			break;
		}
		pfd.fd = fd;
		pfd.events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			wxsim_util_log("%s: tls: poll failed", peer);
			break;
		}
	}
out:
	if (fcntl(fd, F_SETFL, flags) != 0)
		ok = 0;
	if (!ok) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

void
wxsim_tls_close(SSL *ssl)
{
	if (ssl == NULL)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
}

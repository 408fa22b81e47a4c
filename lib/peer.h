/*
 * peer.h: who is connected to gymd's FastCGI socket, and whether it is one
 * of the configured proxies (trusted_proxies) whose forwarded client
 * address (X-Real-IP) and request id (X-Request-Id) gymd takes.  Anyone
 * else is told apart by the socket's own peer address, never by what it
 * writes into the request.
 */
#ifndef GYM_PEER_H
#define GYM_PEER_H

#include <sys/socket.h>

#include <stddef.h>

#include "gym.h"

#define GYM_PEERS_MAX 16
#define GYM_PEER_ADDRLEN 64	/* an IPv6 address in text, or "unix" */

/* The configured proxies: addresses in canonical text, and the UNIX socket. */
struct gym_peers {
	char addr[GYM_PEERS_MAX][GYM_PEER_ADDRLEN];
	int n;
	int unix_socket;
};

/* Parse a list of IPv4 / IPv6 addresses and the word "unix", separated by
 * spaces or commas, into p.  GYM_EINVAL (with a message in err) for
 * anything else, or more than GYM_PEERS_MAX addresses. */
enum gym_err gym_peers_parse(const char *list, struct gym_peers *p, char *err, size_t errsz);
/* The peer sa as text into addr ("unix" for a UNIX socket; an IPv4 address
 * mapped into IPv6 as IPv4); 1 when it is in p, else 0. */
int gym_peers_match(const struct gym_peers *p, const struct sockaddr *sa, socklen_t salen,
    char *addr, size_t addrlen);
/* The same for the peer of the connected socket fd (0, "" when unknown). */
int gym_peers_match_fd(const struct gym_peers *p, int fd, char *addr, size_t addrlen);

#endif

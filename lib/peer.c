/*
 * peer.c: the FastCGI peer and the configured proxies (see peer.h).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "peer.h"

/* One address in canonical text into out; -1 when it is none. */
static int
canonical(const char *s, char *out, size_t len)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, (socklen_t)len) ? 0 : -1;
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], 4);
			return inet_ntop(AF_INET, &a4, out, (socklen_t)len) ? 0 : -1;
		}
		return inet_ntop(AF_INET6, &a6, out, (socklen_t)len) ? 0 : -1;
	}
	return -1;
}

enum gym_err
gym_peers_parse(const char *list, struct gym_peers *p, char *err, size_t errsz)
{
	char word[GYM_PEER_ADDRLEN];
	size_t n;

	memset(p, 0, sizeof(*p));
	while (list != NULL && *list != '\0') {
		list += strspn(list, " \t,");
		if ((n = strcspn(list, " \t,")) == 0)
			break;
		if (n >= sizeof(word)) {
			snprintf(err, errsz, "trusted_proxies: \"%.*s\" is not an address",
			    (int)(n > 80 ? 80 : n), list);
			return GYM_EINVAL;
		}
		memcpy(word, list, n);
		word[n] = '\0';
		list += n;
		if (strcmp(word, "unix") == 0) {
			p->unix_socket = 1;
			continue;
		}
		if (p->n == GYM_PEERS_MAX) {
			snprintf(err, errsz, "trusted_proxies: more than %d addresses",
			    GYM_PEERS_MAX);
			return GYM_EINVAL;
		}
		if (canonical(word, p->addr[p->n], sizeof(p->addr[p->n])) == -1) {
			snprintf(err, errsz, "trusted_proxies: \"%s\" is not an IPv4 or IPv6 "
			    "address (no names, no networks) nor \"unix\"", word);
			return GYM_EINVAL;
		}
		p->n++;
	}
	return GYM_OK;
}

int
gym_peers_match(const struct gym_peers *p, const struct sockaddr *sa, socklen_t salen,
    char *addr, size_t addrlen)
{
	char buf[GYM_PEER_ADDRLEN];
	const void *src = NULL;
	int family = sa->sa_family;

	snprintf(addr, addrlen, "%s", "");
	if (family == AF_UNIX) {
		snprintf(addr, addrlen, "unix");
		return p->unix_socket;
	}
	if (family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in))
		src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6))
		src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (src == NULL || inet_ntop(family, src, buf, sizeof(buf)) == NULL ||
	    canonical(buf, addr, addrlen) == -1)
		return 0;
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->addr[i], addr) == 0)
			return 1;
	return 0;
}

int
gym_peers_match_fd(const struct gym_peers *p, int fd, char *addr, size_t addrlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(addr, addrlen, "%s", "");
		return 0;
	}
	return gym_peers_match(p, (struct sockaddr *)&ss, len, addr, addrlen);
}

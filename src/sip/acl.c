/* acl.c — see acl.h. */
#include "sip/acl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void acl_init(struct acl *a) { a->n = 0; }

/* Whether the first `bits` bits of x and y agree. */
static bool acl_prefix_eq(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(x, y, whole))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (x[whole] & mask) == (y[whole] & mask);
}

int acl_add(struct acl *a, const char *cidr)
{
	char ip[64];
	const char *slash = strchr(cidr, '/');
	size_t len = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (a->n >= ACL_MAX || len >= sizeof ip)
		return -1;
	memcpy(ip, cidr, len);
	ip[len] = 0;
	uint8_t net[16] = { 0 };
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	long max = family == AF_INET6 ? 128 : 32, bits = max;
	if (inet_pton(family, ip, net) != 1)
		return -1;
	if (slash) {
		char *end;
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits < 0 || bits > max)
			return -1;
	}
	a->e[a->n].family = family;
	a->e[a->n].bits = (unsigned)bits;
	memset(a->e[a->n].net, 0, sizeof a->e[a->n].net);
	/* Keep only the network part, so "10.1.2.3/8" means 10.0.0.0/8. */
	for (unsigned i = 0; i < (unsigned)max / 8; i++) {
		unsigned keep = (unsigned)bits > i * 8 ? (unsigned)bits - i * 8 : 0;
		a->e[a->n].net[i] = keep >= 8 ? net[i] : (uint8_t)(net[i] & (0xff << (8 - keep)));
	}
	a->n++;
	return 0;
}

bool acl_allows(const struct acl *a, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *addr;
	int family;
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		family = memcmp(addr, v4mapped, 12) ? AF_INET6 : AF_INET;
		if (family == AF_INET)
			addr += 12;
	} else {
		return false;
	}
	for (unsigned i = 0; i < a->n; i++)
		if (a->e[i].family == family && acl_prefix_eq(addr, a->e[i].net, a->e[i].bits))
			return true;
	return false;
}

int acl_del(struct acl *a, const char *cidr)
{
	struct acl one;
	acl_init(&one);
	if (acl_add(&one, cidr) < 0)
		return -1;
	unsigned k = 0, n = a->n;
	for (unsigned i = 0; i < n; i++)
		if (a->e[i].family != one.e[0].family || a->e[i].bits != one.e[0].bits ||
		    memcmp(a->e[i].net, one.e[0].net, sizeof one.e[0].net) != 0)
			a->e[k++] = a->e[i];
	a->n = k;
	return (int)(n - k);
}

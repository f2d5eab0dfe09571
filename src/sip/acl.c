/* acl.c — see acl.h. */
#include "sip/acl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void acl_init(struct acl *a) { a->n = 0; }

int acl_add(struct acl *a, const char *cidr)
{
	char ip[64];
	const char *slash = strchr(cidr, '/');
	size_t len = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (a->n >= ACL_MAX || len >= sizeof ip)
		return -1;
	memcpy(ip, cidr, len);
	ip[len] = 0;
	long bits = 32;
	if (slash) {
		char *end;
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits < 0 || bits > 32)
			return -1;
	}
	struct in_addr in;
	if (inet_pton(AF_INET, ip, &in) != 1)
		return -1;
	uint32_t mask = bits ? ~0u << (32 - bits) : 0;
	a->e[a->n].mask = mask;
	a->e[a->n].net = ntohl(in.s_addr) & mask;
	a->n++;
	return 0;
}

bool acl_allows(const struct acl *a, const struct sockaddr *sa)
{
	if (!sa || sa->sa_family != AF_INET)
		return false;
	uint32_t addr = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	for (unsigned i = 0; i < a->n; i++)
		if ((addr & a->e[i].mask) == a->e[i].net)
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
		if (a->e[i].net != one.e[0].net || a->e[i].mask != one.e[0].mask)
			a->e[k++] = a->e[i];
	a->n = k;
	return (int)(n - k);
}

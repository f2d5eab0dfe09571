/* acl.h — the trunk ACL: which source networks may send calls without auth.
 *
 * CIDR entries of either family ("127.0.0.1/32", "10.0.0.0/8", "::1/128",
 * "2001:db8::/32"; no prefix means the single address); an address matches
 * if any entry of its family contains it. An IPv4 address mapped into IPv6
 * (::ffff:a.b.c.d, from a dual-stack socket) is matched as IPv4. An empty
 * list lets no unauthenticated call in.
 */
#ifndef CALLQ_ACL_H
#define CALLQ_ACL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define ACL_MAX 64

struct acl {
	struct {
		int family;          /* AF_INET or AF_INET6 */
		uint8_t net[16];     /* network bytes (4 used for IPv4) */
		unsigned bits;
	} e[ACL_MAX];
	unsigned n;
};

void acl_init(struct acl *a);
int acl_add(struct acl *a, const char *cidr);      /* -1 if malformed or full */
/* Removes every entry equal to cidr; how many, or -1 if malformed. */
int acl_del(struct acl *a, const char *cidr);
bool acl_allows(const struct acl *a, const struct sockaddr *sa);

#endif

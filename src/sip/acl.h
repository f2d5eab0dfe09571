/* acl.h — the trunk ACL: which source networks may send calls without auth.
 *
 * IPv4 CIDR entries ("127.0.0.1/32", "10.0.0.0/8"); an address matches if any
 * entry contains it. An empty list lets no unauthenticated call in.
 */
#ifndef CALLQ_ACL_H
#define CALLQ_ACL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define ACL_MAX 64

struct acl {
	struct { uint32_t net, mask; } e[ACL_MAX];
	unsigned n;
};

void acl_init(struct acl *a);
int acl_add(struct acl *a, const char *cidr);      /* -1 if malformed or full */
/* Removes every entry equal to cidr; how many, or -1 if malformed. */
int acl_del(struct acl *a, const char *cidr);
bool acl_allows(const struct acl *a, const struct sockaddr *sa);

#endif

/* admit.c — see admit.h. */
#include "sip/admit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

enum admit_kind { ADMIT_UNICAST, ADMIT_UNSPEC, ADMIT_LOOPBACK, ADMIT_NEVER };

static enum admit_kind admit_v4(const uint8_t a[4])
{
	if (!a[0] && !a[1] && !a[2] && !a[3])
		return ADMIT_UNSPEC;
	if (a[0] == 0 || a[0] >= 224)     /* this network; multicast, reserved, broadcast */
		return ADMIT_NEVER;
	return a[0] == 127 ? ADMIT_LOOPBACK : ADMIT_UNICAST;
}

static enum admit_kind admit_v6(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[16];
	if (!memcmp(a, mapped, sizeof mapped))
		return admit_v4(a + 12);
	if (!memcmp(a, zero, 16))
		return ADMIT_UNSPEC;
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return ADMIT_LOOPBACK;
	return a[0] == 0xff ? ADMIT_NEVER : ADMIT_UNICAST;
}

static enum admit_kind admit_text(const char *ip)
{
	uint8_t a[16];
	if (inet_pton(AF_INET, ip, a) == 1)
		return admit_v4(a);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return admit_v6(a);
	return ADMIT_NEVER;
}

static bool admit_loopback_source(const struct sockaddr *sa)
{
	if (sa && sa->sa_family == AF_INET)
		return admit_v4((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr) ==
		       ADMIT_LOOPBACK;
	if (sa && sa->sa_family == AF_INET6)
		return admit_v6(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr) == ADMIT_LOOPBACK;
	return false;
}

bool admit_media_addr(const char *ip, bool hold, const struct sockaddr *sip_src)
{
	switch (admit_text(ip)) {
	case ADMIT_UNICAST:
		return true;
	case ADMIT_UNSPEC:
		return hold;
	case ADMIT_LOOPBACK:
		return admit_loopback_source(sip_src);
	case ADMIT_NEVER:
		break;
	}
	return false;
}

/* route.c — see route.h. */
#include "sip/route.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *route_transport(const char *protocol)
{
	if (!protocol)
		return "udp";
	const char *slash = strrchr(protocol, '/');
	const char *t = slash ? slash + 1 : protocol;
	static const char *const known[] = { "udp", "tcp", "tls" };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcasecmp(t, known[i]))
			return known[i];
	return "";
}

static int route_fit(int n, size_t cap) { return n < 0 || (size_t)n >= cap ? -1 : 0; }

int route_hostport(char *out, size_t cap, const char *host, unsigned port)
{
	bool v6 = strchr(host, ':') && host[0] != '[';
	return route_fit(snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", host, port), cap);
}

int route_flow(char *out, size_t cap, const struct reg_binding *b)
{
	char hp[REG_HOST_MAX + 16];
	if (!cap)
		return -1;
	out[0] = 0;
	if (b->path[0] || !b->src[0] || !b->src_port)
		return 0;
	if (route_hostport(hp, sizeof hp, b->src, b->src_port) < 0)
		return -1;
	const char *t = route_transport(b->transport);
	return route_fit(snprintf(out, cap, "sip:%s;transport=%s", hp, t[0] ? t : "udp"), cap);
}

int route_contact(char *out, size_t cap, const char *user, const char *host, unsigned port,
                  const char *transport)
{
	char hp[REG_HOST_MAX + 16];
	if (route_hostport(hp, sizeof hp, host, port) < 0)
		return -1;
	const char *t = route_transport(transport);
	bool plain = !t[0] || !strcmp(t, "udp");
	return route_fit(snprintf(out, cap, "<sip:%s%s%s%s%s>", user, user[0] ? "@" : "", hp,
	                          plain ? "" : ";transport=", plain ? "" : t),
	                 cap);
}

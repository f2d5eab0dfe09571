/* guard.c — see guard.h. */
#include "sip/guard.h"

#include <netinet/in.h>
#include <string.h>

void guard_init(struct guard *g) { memset(g, 0, sizeof *g); }

/* The key of sa; false for no address, another family, or an all-zero one. */
static bool guard_key(const struct sockaddr *sa, struct guard_addr *k)
{
	static const struct guard_addr none;
	memset(k, 0, sizeof *k);
	if (sa && sa->sa_family == AF_INET) {
		k->b[10] = k->b[11] = 0xff;
		memcpy(&k->b[12], &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(k->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
	return memcmp(k, &none, sizeof none) != 0;
}

static struct guard_slot *guard_find(const struct guard *g, const struct guard_addr *k)
{
	for (unsigned i = 0; i < GUARD_SLOTS; i++)
		if (!memcmp(&g->s[i].addr, k, sizeof *k))
			return (struct guard_slot *)&g->s[i];
	return NULL;
}

eng_ms guard_blocked(const struct guard *g, const struct sockaddr *sa, eng_ms now)
{
	struct guard_addr k;
	const struct guard_slot *s = guard_key(sa, &k) ? guard_find(g, &k) : NULL;
	return s && s->until > now ? s->until - now : 0;
}

static struct guard_slot *guard_take(struct guard *g, const struct guard_addr *k)
{
	static const struct guard_addr none;
	struct guard_slot *s = guard_find(g, k);
	if (s)
		return s;
	s = &g->s[0];
	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		if (!memcmp(&g->s[i].addr, &none, sizeof none))
			return memset(&g->s[i], 0, sizeof g->s[i]);
		if (g->s[i].last < s->last)
			s = &g->s[i];
	}
	return memset(s, 0, sizeof *s);
}

bool guard_fail(struct guard *g, const struct sockaddr *sa, eng_ms now)
{
	struct guard_addr k;
	if (!guard_key(sa, &k))
		return false;
	struct guard_slot *s = guard_take(g, &k);
	s->addr = k;
	s->last = now;
	if (++s->fails < GUARD_FREE_FAILS)
		return false;
	unsigned shift = s->fails - GUARD_FREE_FAILS;
	eng_ms block = shift >= 9 ? GUARD_MAX_BLOCK_S * 1000 : (eng_ms)1000 << shift;
	if (block > GUARD_MAX_BLOCK_S * 1000)
		block = GUARD_MAX_BLOCK_S * 1000;
	s->until = now + block;
	return true;
}

void guard_ok(struct guard *g, const struct sockaddr *sa)
{
	struct guard_addr k;
	struct guard_slot *s = guard_key(sa, &k) ? guard_find(g, &k) : NULL;
	if (s)
		memset(s, 0, sizeof *s);
}

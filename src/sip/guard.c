/* guard.c — see guard.h. */
#include "sip/guard.h"

#include <string.h>

void guard_init(struct guard *g) { memset(g, 0, sizeof *g); }

static struct guard_slot *guard_find(const struct guard *g, uint32_t addr)
{
	for (unsigned i = 0; i < GUARD_SLOTS; i++)
		if (g->s[i].addr == addr)
			return (struct guard_slot *)&g->s[i];
	return NULL;
}

eng_ms guard_blocked(const struct guard *g, uint32_t addr, eng_ms now)
{
	const struct guard_slot *s = addr ? guard_find(g, addr) : NULL;
	return s && s->until > now ? s->until - now : 0;
}

static struct guard_slot *guard_take(struct guard *g, uint32_t addr)
{
	struct guard_slot *s = guard_find(g, addr);
	if (s)
		return s;
	s = &g->s[0];
	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		if (!g->s[i].addr)
			return memset(&g->s[i], 0, sizeof g->s[i]);
		if (g->s[i].last < s->last)
			s = &g->s[i];
	}
	return memset(s, 0, sizeof *s);
}

bool guard_fail(struct guard *g, uint32_t addr, eng_ms now)
{
	if (!addr)
		return false;
	struct guard_slot *s = guard_take(g, addr);
	s->addr = addr;
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

void guard_ok(struct guard *g, uint32_t addr)
{
	struct guard_slot *s = addr ? guard_find(g, addr) : NULL;
	if (s)
		memset(s, 0, sizeof *s);
}

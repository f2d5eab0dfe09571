/* guard.c — see guard.h. */
#include "sip/guard.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void guard_init(struct guard *g) { memset(g, 0, sizeof *g); }

bool guard_addr_of(const struct sockaddr *sa, struct guard_addr *k)
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

/* The login as a table key: cut to size, "" for unknown. */
static void guard_login_key(const char *login, char out[GUARD_LOGIN_MAX])
{
	snprintf(out, GUARD_LOGIN_MAX, "%s", login ? login : "");
}

/* Failures still counted at `now`: one is forgotten per GUARD_FORGIVE_S of
 * quiet after the last failure and after the block. */
static unsigned guard_fails(const struct guard_count *c, eng_ms now)
{
	eng_ms since = c->until > c->last ? c->until : c->last;
	if (now <= since)
		return c->fails;
	eng_ms forgiven = (now - since) / (GUARD_FORGIVE_S * 1000);
	return forgiven >= c->fails ? 0 : c->fails - (unsigned)forgiven;
}

static bool guard_is_blocked(const struct guard_count *c, eng_ms now) { return c->until > now; }

static struct guard_slot *guard_pair(const struct guard *g, const struct guard_addr *k,
                                     const char *login)
{
	for (unsigned i = 0; i < GUARD_SLOTS; i++)
		if (!memcmp(&g->s[i].addr, k, sizeof *k) && !strcmp(g->s[i].login, login))
			return (struct guard_slot *)&g->s[i];
	return NULL;
}

static struct guard_login *guard_login(const struct guard *g, const char *login)
{
	for (unsigned i = 0; i < GUARD_LOGIN_SLOTS; i++)
		if (g->l[i].login[0] && !strcmp(g->l[i].login, login))
			return (struct guard_login *)&g->l[i];
	return NULL;
}

eng_ms guard_blocked(const struct guard *g, const struct sockaddr *sa, const char *login,
                     eng_ms now)
{
	struct guard_addr k;
	char key[GUARD_LOGIN_MAX];
	if (!guard_addr_of(sa, &k))
		return 0;
	guard_login_key(login, key);
	const struct guard_slot *s = guard_pair(g, &k, key);
	if (s && guard_is_blocked(&s->c, now))
		return s->c.until - now;
	const struct guard_login *l = key[0] ? guard_login(g, key) : NULL;
	if (!l || !guard_is_blocked(&l->c, now))
		return 0;
	/* The login is under attack: closed to the sources that failed on it, and
	 * to unknown ones while the pair table cannot record them. */
	bool suspect = s ? guard_fails(&s->c, now) > 0 : g->full_until > now;
	return suspect ? l->c.until - now : 0;
}

/* Counts a failure; true if it starts a block. */
static bool guard_count(struct guard_count *c, unsigned free_fails, eng_ms now)
{
	c->fails = guard_fails(c, now) + 1;
	c->last = now;
	if (c->fails < free_fails)
		return false;
	unsigned shift = c->fails - free_fails;
	eng_ms block = shift >= 9 ? GUARD_MAX_BLOCK_S * 1000 : (eng_ms)1000 << shift;
	if (block > GUARD_MAX_BLOCK_S * 1000)
		block = GUARD_MAX_BLOCK_S * 1000;
	c->until = now + block;
	return true;
}

/* A slot for a new entry: a free one, else the oldest that is not blocked;
 * NULL when every entry is blocked. */
static struct guard_slot *guard_pair_take(struct guard *g, eng_ms now)
{
	static const struct guard_addr none;
	struct guard_slot *best = NULL;
	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		struct guard_slot *s = &g->s[i];
		if (!memcmp(&s->addr, &none, sizeof none))
			return s;
		if (!guard_is_blocked(&s->c, now) && (!best || s->c.last < best->c.last))
			best = s;
	}
	return best;
}

static struct guard_login *guard_login_take(struct guard *g, eng_ms now)
{
	struct guard_login *best = NULL;
	for (unsigned i = 0; i < GUARD_LOGIN_SLOTS; i++) {
		struct guard_login *l = &g->l[i];
		if (!l->login[0])
			return l;
		if (!guard_is_blocked(&l->c, now) && (!best || l->c.last < best->c.last))
			best = l;
	}
	return best;
}

bool guard_fail(struct guard *g, const struct sockaddr *sa, const char *login, eng_ms now)
{
	struct guard_addr k;
	char key[GUARD_LOGIN_MAX];
	if (!guard_addr_of(sa, &k))
		return false;
	guard_login_key(login, key);
	bool starts = false;
	struct guard_slot *s = guard_pair(g, &k, key);
	if (!s && (s = guard_pair_take(g, now)) != NULL) {
		memset(s, 0, sizeof *s);
		s->addr = k;
		memcpy(s->login, key, sizeof s->login);
	}
	if (s)
		starts = guard_count(&s->c, GUARD_FREE_FAILS, now);
	else
		g->full_until = now + GUARD_MAX_BLOCK_S * 1000;
	if (!key[0])
		return starts;
	struct guard_login *l = guard_login(g, key);
	if (!l && (l = guard_login_take(g, now)) != NULL) {
		memset(l, 0, sizeof *l);
		memcpy(l->login, key, sizeof l->login);
	}
	if (l && guard_count(&l->c, GUARD_LOGIN_FREE_FAILS, now))
		starts = true;
	return starts;
}

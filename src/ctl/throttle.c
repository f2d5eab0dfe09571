/* throttle.c — see throttle.h. */
#include "ctl/throttle.h"

#include <stdio.h>
#include <string.h>

void throttle_init(struct throttle *t)
{
	t->n = 0;
}

static struct throttle_entry *throttle_find(struct throttle *t, const char *login)
{
	for (unsigned i = 0; i < t->n; i++)
		if (!strncmp(t->e[i].login, login, THROTTLE_LOGIN_MAX - 1))
			return &t->e[i];
	return NULL;
}

/* A new entry, or the idle one failed longest ago when the table is full
 * (an entry with a check in flight is never reused). */
static struct throttle_entry *throttle_add(struct throttle *t, const char *login)
{
	struct throttle_entry *e = NULL;
	if (t->n < THROTTLE_SLOTS) {
		e = &t->e[t->n++];
	} else {
		for (unsigned i = 0; i < t->n; i++)
			if (!t->e[i].busy && (!e || t->e[i].last_fail_ms < e->last_fail_ms))
				e = &t->e[i];
		if (!e)
			return NULL;
	}
	memset(e, 0, sizeof *e);
	snprintf(e->login, sizeof e->login, "%s", login);
	return e;
}

bool throttle_begin(struct throttle *t, const char *login, int64_t now_ms, int64_t *retry_ms)
{
	struct throttle_entry *e = throttle_find(t, login);
	*retry_ms = 0;
	if (!e && !(e = throttle_add(t, login)))
		return false;
	if (e->busy)
		return false;
	if (now_ms < e->retry_at_ms) {
		*retry_ms = e->retry_at_ms - now_ms;
		return false;
	}
	e->busy = true;
	return true;
}

static void throttle_forget(struct throttle *t, struct throttle_entry *e)
{
	*e = t->e[--t->n];
}

void throttle_done(struct throttle *t, const char *login, int64_t now_ms, bool ok)
{
	struct throttle_entry *e = throttle_find(t, login);
	if (!e)
		return;
	e->busy = false;
	if (ok) {
		throttle_forget(t, e);
		return;
	}
	e->fails++;
	e->last_fail_ms = now_ms;
	if (e->fails > THROTTLE_FREE) {
		unsigned n = e->fails - THROTTLE_FREE;
		unsigned shift = n < THROTTLE_SHIFT_MAX ? n : THROTTLE_SHIFT_MAX;
		e->retry_at_ms = now_ms + ((int64_t)1000 << shift);
	}
}

void throttle_cancel(struct throttle *t, const char *login)
{
	struct throttle_entry *e = throttle_find(t, login);
	if (e)
		e->busy = false;
}

/* throttle.h — failed control-socket logins, counted per LOGIN across
 * connections, so reconnecting does not buy new guesses.
 *
 * A login gets THROTTLE_FREE failures; after the n-th failure beyond them,
 * auth for that login is refused for 2^n seconds (at most 2^THROTTLE_SHIFT_MAX,
 * about 17 minutes) — a refusal, never a wait. At most one check per login is
 * in flight at a time (its password hash is being computed on a worker), so
 * parallel connections cannot guess one login side by side. A success forgets
 * the login. The table is bounded (THROTTLE_SLOTS logins, in memory): when it
 * is full, the entry whose last failure is oldest is reused.
 * Pure: time is passed in; not thread-safe (the SIP loop owns it).
 */
#ifndef CALLQ_THROTTLE_H
#define CALLQ_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#define THROTTLE_SLOTS 1024
#define THROTTLE_FREE 3
#define THROTTLE_SHIFT_MAX 10
#define THROTTLE_LOGIN_MAX 64

struct throttle_entry {
	char login[THROTTLE_LOGIN_MAX];
	unsigned fails;
	bool busy;                  /* a check is in flight */
	int64_t last_fail_ms;
	int64_t retry_at_ms;
};

struct throttle {
	struct throttle_entry e[THROTTLE_SLOTS];
	unsigned n;
};

void throttle_init(struct throttle *t);
/* May `login` try now? On true the check is in flight until throttle_done.
 * On false *retry_ms is how long to wait (0: another check is in flight). */
bool throttle_begin(struct throttle *t, const char *login, int64_t now_ms, int64_t *retry_ms);
/* The check's result. */
void throttle_done(struct throttle *t, const char *login, int64_t now_ms, bool ok);
/* The check did not happen (no resources): only ends "in flight". */
void throttle_cancel(struct throttle *t, const char *login);

#endif

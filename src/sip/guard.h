/* guard.h — slows down password guessing against the registrar and the 407
 * challenge, per source address.
 *
 * After GUARD_FREE_FAILS bad digests from one address, that address is shut
 * out for a while that doubles with each further failure (1 s, 2 s, 4 s …
 * up to GUARD_MAX_BLOCK_S): its requests get 403 without a digest check, and
 * one log line says so. A success clears the record. The table is fixed in
 * size; when full, the stalest entry makes room, so a flood of sources cannot
 * grow memory. Sources are IPv4 or IPv6 addresses (the port is not part of
 * the key); a NULL or other address is never blocked. Time is the engine's
 * monotonic ms.
 */
#ifndef CALLQ_GUARD_H
#define CALLQ_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acd/engine.h"

#define GUARD_SLOTS 1024
#define GUARD_FREE_FAILS 5
#define GUARD_MAX_BLOCK_S 300

/* An address of either family: IPv4 as ::ffff:a.b.c.d; all zero = none. */
struct guard_addr {
	uint8_t b[16];
};

struct guard_slot {
	struct guard_addr addr;  /* all zero = free */
	unsigned fails;
	eng_ms last, until;
};

struct guard {
	struct guard_slot s[GUARD_SLOTS];
};

void guard_init(struct guard *g);
/* Remaining block in ms for this address (0 = may try). */
eng_ms guard_blocked(const struct guard *g, const struct sockaddr *sa, eng_ms now);
/* A bad digest; returns true when this failure starts a block (log it once). */
bool guard_fail(struct guard *g, const struct sockaddr *sa, eng_ms now);
void guard_ok(struct guard *g, const struct sockaddr *sa);

#endif

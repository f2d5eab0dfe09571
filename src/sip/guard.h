/* guard.h — slows down password guessing against the registrar and the 407
 * challenge, without letting a guesser shut anyone else out.
 *
 * Failures (wrong digest responses to a good nonce: digest.h's DIGEST_BAD,
 * never a stale or forged nonce) are counted per (source address, login) and
 * per login. After GUARD_FREE_FAILS for one pair, that pair is shut out for a
 * while that doubles with each further failure (1 s, 2 s, 4 s … up to
 * GUARD_MAX_BLOCK_S): requests from that address for that login get 403
 * without a digest check. Other logins from the same address (the phones
 * behind one NAT) and the same login from other addresses are not touched.
 *
 * A login that collects GUARD_LOGIN_FREE_FAILS failures from any number of
 * sources (a spread-out guesser) is blocked likewise, but only for the
 * sources that have failed on it: a phone that has not failed still gets in.
 *
 * A success clears nothing (so one good REGISTER between guesses does not
 * reset them); failures are forgotten one per GUARD_FORGIVE_S of quiet after
 * a block ends. Unknown logins are counted under the login "" so that made-up
 * names cannot fill the tables.
 *
 * Both tables are fixed in size. A new entry takes a free slot, else the
 * oldest entry that is not blocked; a blocked entry is never evicted. When
 * the pair table is full of blocked entries, a failure that finds no slot is
 * still counted on its login, and until GUARD_MAX_BLOCK_S after that, a
 * blocked login is closed to every source without an entry too (the
 * conservative side: during such a flood, a login under attack is closed,
 * others stay open). Sources are IPv4 or IPv6 addresses (the port is not
 * part of the key); a NULL or other address is never blocked. Time is the
 * engine's monotonic ms.
 */
#ifndef CALLQ_GUARD_H
#define CALLQ_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acd/engine.h"

#define GUARD_SLOTS 1024
#define GUARD_LOGIN_SLOTS 1024
#define GUARD_LOGIN_MAX 64
#define GUARD_FREE_FAILS 5
#define GUARD_LOGIN_FREE_FAILS 20
#define GUARD_MAX_BLOCK_S 300
#define GUARD_FORGIVE_S 60

/* An address of either family: IPv4 as ::ffff:a.b.c.d; all zero = none. */
struct guard_addr {
	uint8_t b[16];
};

struct guard_count {
	unsigned fails;
	eng_ms last, until;
};

struct guard_slot {
	struct guard_addr addr;  /* all zero = free */
	char login[GUARD_LOGIN_MAX];
	struct guard_count c;
};

struct guard_login {
	char login[GUARD_LOGIN_MAX];  /* "" = free */
	struct guard_count c;
};

struct guard {
	struct guard_slot s[GUARD_SLOTS];
	struct guard_login l[GUARD_LOGIN_SLOTS];
	eng_ms full_until;         /* the pair table was full of blocked entries */
};

void guard_init(struct guard *g);
/* The key of sa; false for no address, another family, or an all-zero one. */
bool guard_addr_of(const struct sockaddr *sa, struct guard_addr *k);
/* Remaining block in ms for this address trying this login (0 = may try).
 * login is the name the request claims; NULL or "" for an unknown one. */
eng_ms guard_blocked(const struct guard *g, const struct sockaddr *sa, const char *login,
                     eng_ms now);
/* A wrong digest for login (NULL or "" if unknown); true when it starts a
 * block (log it once). */
bool guard_fail(struct guard *g, const struct sockaddr *sa, const char *login, eng_ms now);

#endif

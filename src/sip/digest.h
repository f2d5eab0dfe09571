/* digest.h — RFC 2617 digest authentication: 401 for REGISTER, 407 for INVITE.
 *
 * A nonce is "TIME-RAND-MAC": TIME the issue time (hex seconds), RAND 8 random
 * bytes (hex), MAC the first 16 bytes of HMAC-SHA256(secret, "TIME-RAND") in
 * hex, secret being 32 random bytes drawn at start. So a nonce is checked
 * without keeping anything per challenge, a flood of challenges costs no
 * memory, and after a restart every old nonce is unknown.
 *
 * What is accepted: qop=auth with nc and cnonce, algorithm MD5, a digest-uri
 * equal to the Request-URI (url_cmp: scheme, user, host, port), a nonce we
 * issued within DIGEST_NONCE_TTL, and for each nonce an nc higher than any
 * accepted before. That last needs state: a bounded table (DIGEST_NC_SLOTS)
 * of nonces in use, entered only once a response was right. When a slot must
 * be taken from a nonce still fresh, the table remembers that nonces issued
 * up to that one's time may have lost their record, and answers them "stale"
 * (the phone asks again at once), so an evicted nonce can never be replayed.
 *
 * Results: an unknown, forged, expired or replayed nonce is DIGEST_STALE
 * (401/407 with stale=true): not a password guess, so no strike. Credentials
 * that cannot be checked here (syntax, no qop, other algorithm, digest-uri not
 * the Request-URI) are DIGEST_REFUSED: 403, no strike. Only a wrong response
 * to a good nonce, or an unknown user, is DIGEST_BAD: the strike the guard
 * counts. Responses are compared in constant time. Credentials are the
 * members' HA1 = MD5(login:realm:password): no password is held in memory.
 */
#ifndef CALLQ_DIGEST_H
#define CALLQ_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg_types.h>
#include <sofia-sip/url.h>

#define DIGEST_NONCE_TTL 300
#define DIGEST_NC_SLOTS 4096
#define DIGEST_NC_PROBE 8      /* slots looked at for one nonce */

struct digest_nc {
	uint64_t rand;             /* the nonce's RAND; issued == 0: free */
	int64_t issued;
	uint32_t nc;               /* highest nc accepted */
};

struct digest {
	char realm[64];
	uint8_t secret[32];
	uint64_t counter;          /* RAND when getrandom fails */
	int64_t forgotten;         /* nonces issued at or before this may have lost their nc */
	struct digest_nc nc[DIGEST_NC_SLOTS];
};

enum digest_result {
	DIGEST_OK,
	DIGEST_NONE,      /* no credentials for our realm: challenge */
	DIGEST_STALE,     /* unknown, forged, expired or replayed nonce: stale challenge */
	DIGEST_REFUSED,   /* credentials we do not take (syntax, qop, digest-uri): 403 */
	DIGEST_BAD,       /* wrong response or unknown user: a guess */
};

/* Looks up a member's HA1; NULL if unknown. */
typedef const char *(*digest_ha1_fn)(void *ctx, const char *user);

int digest_init(struct digest *d, const char *realm);
/* The WWW-/Proxy-Authenticate header value for a fresh challenge. */
void digest_challenge(struct digest *d, int64_t now_s, bool stale, char *buf, size_t cap);
/* Checks the credentials in `auth` (Authorization or Proxy-Authorization list)
 * for `method` on request-URI `ruri`, made by `want` (the login the request
 * claims: To of a REGISTER, From of an INVITE; other user names are
 * DIGEST_REFUSED). The user name the credentials claim is copied to user
 * whatever the result ("" if none). */
enum digest_result digest_verify(struct digest *d, int64_t now_s, const msg_auth_t *auth,
                                 const char *method, const url_t *ruri, const char *want,
                                 digest_ha1_fn ha1_of, void *ctx, char *user, size_t userlen);
/* HA1 = MD5(user:realm:password) in hex, for storing new passwords. */
void digest_ha1(const char *user, const char *realm, const char *password, char out[33]);

#endif

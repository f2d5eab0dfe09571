/* digest.h — RFC 2617 digest authentication: 401 for REGISTER, 407 for INVITE.
 *
 * Nonces are stateless, so nothing grows with traffic: "TIME-MAC" where TIME is
 * the issue time in hex and MAC the first 16 hex digits of MD5(secret:TIME),
 * secret being random per process. A nonce older than DIGEST_NONCE_TTL is
 * answered with stale=true (the phone retries silently). Credentials are the
 * members' HA1 = MD5(login:realm:password), so no password is held in memory.
 */
#ifndef CALLQ_DIGEST_H
#define CALLQ_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg_types.h>

#define DIGEST_NONCE_TTL 300

struct digest {
	char realm[64];
	char secret[33];
};

enum digest_result {
	DIGEST_OK,
	DIGEST_NONE,      /* no credentials for our realm */
	DIGEST_STALE,     /* good response to an expired nonce */
	DIGEST_BAD,       /* wrong password, unknown user, forged nonce, bad syntax */
};

/* Looks up a member's HA1; NULL if unknown. */
typedef const char *(*digest_ha1_fn)(void *ctx, const char *user);

int digest_init(struct digest *d, const char *realm);
/* The WWW-/Proxy-Authenticate header value for a fresh challenge. */
void digest_challenge(const struct digest *d, int64_t now_s, bool stale, char *buf, size_t cap);
/* Checks the credentials in `auth` (Authorization or Proxy-Authorization list)
 * for `method`. On DIGEST_OK the authenticated user name is copied to user. */
enum digest_result digest_verify(const struct digest *d, int64_t now_s, const msg_auth_t *auth,
                                 const char *method, digest_ha1_fn ha1_of, void *ctx,
                                 char *user, size_t userlen);
/* HA1 = MD5(user:realm:password) in hex, for storing new passwords. */
void digest_ha1(const char *user, const char *realm, const char *password, char out[33]);

#endif

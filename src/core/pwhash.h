/* pwhash.h — control-socket password hashes: SHA-256 (FIPS 180-4),
 * HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256 (RFC 8018), written here so
 * callq needs no crypto library for one slow hash.
 *
 * A stored hash is text: "pbkdf2-sha256$ITER$SALTHEX$HASHHEX", with a random
 * 16-byte salt and a 32-byte derived key. The iteration count travels with
 * the hash, so raising PWHASH_ITER later does not invalidate stored ones.
 *
 * Cost: one verification is PWHASH_ITER x 2 SHA-256 compressions (the HMAC
 * key pads are hashed once): about 30 ms on a current x86 core. It runs on
 * the SIP loop, so the control socket limits how often a connection may try
 * (verbs.c), and the count stays near the 50,000 floor we chose.
 */
#ifndef CALLQ_PWHASH_H
#define CALLQ_PWHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PWHASH_SHA256_LEN 32
#define PWHASH_SALT_LEN 16
#define PWHASH_ITER 60000
/* Longest text pwhash_make writes, with its NUL: a prefix, an iteration count
 * and the salt and key in hex. */
#define PWHASH_TEXT_MAX 128

struct pwhash_sha256 {
	uint32_t h[8];
	uint64_t bytes;             /* message length so far */
	uint8_t block[64];
	size_t fill;                /* bytes waiting in block */
};

void pwhash_sha256_init(struct pwhash_sha256 *c);
void pwhash_sha256_update(struct pwhash_sha256 *c, const void *data, size_t n);
void pwhash_sha256_final(struct pwhash_sha256 *c, uint8_t out[PWHASH_SHA256_LEN]);
void pwhash_sha256(const void *data, size_t n, uint8_t out[PWHASH_SHA256_LEN]);

void pwhash_hmac(const void *key, size_t keylen, const void *msg, size_t n,
                 uint8_t out[PWHASH_SHA256_LEN]);
/* RFC 8018 section 5.2 with HMAC-SHA256 as the PRF; any outlen. */
void pwhash_pbkdf2(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                   unsigned iter, uint8_t *out, size_t outlen);

/* Hashes a password with a fresh salt from getrandom(2). 0, or -1 if no
 * randomness or cap is too small. */
int pwhash_make(const char *password, char *out, size_t cap);
/* Same with a given salt and count: for tests and known vectors. */
int pwhash_make_salted(const char *password, const uint8_t salt[PWHASH_SALT_LEN],
                       unsigned iter, char *out, size_t cap);
/* True if password matches the stored text; false for any malformed text.
 * The comparison takes the same time wherever the keys differ. */
bool pwhash_verify(const char *password, const char *stored);
/* Constant-time equality of two byte strings of length n. */
bool pwhash_equal(const void *a, const void *b, size_t n);

#endif

/* pwhash.c — see pwhash.h. SHA-256 follows FIPS 180-4 sections 4.1.2, 4.2.2,
 * 5.1.1, 5.3.3 and 6.2; HMAC follows RFC 2104; PBKDF2 RFC 8018 section 5.2. */
#include "core/pwhash.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define PWHASH_PREFIX "pbkdf2-sha256$"
/* A stored count above this is treated as corrupt: verifying it would stall
 * the SIP loop for minutes. */
#define PWHASH_ITER_MAX 10000000u
#define PWHASH_SALT_MAX 64

/* ---- SHA-256 ---- */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One 512-bit block into the state (FIPS 180-4 6.2.2). */
static void sha256_compress(uint32_t h[8], const uint8_t block[64])
{
	uint32_t w[64];
	for (int t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
		uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
		              sha256_k[t] + w[t];
		uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += k;
}

void pwhash_sha256_init(struct pwhash_sha256 *c)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(c->h, h0, sizeof h0);
	c->bytes = 0;
	c->fill = 0;
}

void pwhash_sha256_update(struct pwhash_sha256 *c, const void *data, size_t n)
{
	const uint8_t *p = data;
	c->bytes += n;
	while (n) {
		size_t take = 64 - c->fill < n ? 64 - c->fill : n;
		memcpy(c->block + c->fill, p, take);
		c->fill += take;
		p += take;
		n -= take;
		if (c->fill == 64) {
			sha256_compress(c->h, c->block);
			c->fill = 0;
		}
	}
}

/* Padding (5.1.1): a 1 bit, zeros, then the length in bits, big-endian. */
void pwhash_sha256_final(struct pwhash_sha256 *c, uint8_t out[PWHASH_SHA256_LEN])
{
	uint64_t bits = c->bytes * 8;
	c->block[c->fill++] = 0x80;
	if (c->fill > 56) {
		memset(c->block + c->fill, 0, 64 - c->fill);
		sha256_compress(c->h, c->block);
		c->fill = 0;
	}
	memset(c->block + c->fill, 0, 56 - c->fill);
	store_be32(c->block + 56, (uint32_t)(bits >> 32));
	store_be32(c->block + 60, (uint32_t)bits);
	sha256_compress(c->h, c->block);
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
}

void pwhash_sha256(const void *data, size_t n, uint8_t out[PWHASH_SHA256_LEN])
{
	struct pwhash_sha256 c;
	pwhash_sha256_init(&c);
	pwhash_sha256_update(&c, data, n);
	pwhash_sha256_final(&c, out);
}

/* ---- HMAC ---- */

/* The two hash states after absorbing key XOR ipad and key XOR opad: PBKDF2
 * reuses them for every iteration instead of hashing the pads again. */
struct hmac_keyed {
	struct pwhash_sha256 inner, outer;
};

static void hmac_key(struct hmac_keyed *hk, const void *key, size_t keylen)
{
	uint8_t k[64] = { 0 }, pad[64];
	if (keylen > 64)
		pwhash_sha256(key, keylen, k);
	else
		memcpy(k, key, keylen);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	pwhash_sha256_init(&hk->inner);
	pwhash_sha256_update(&hk->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	pwhash_sha256_init(&hk->outer);
	pwhash_sha256_update(&hk->outer, pad, 64);
}

static void hmac_run(const struct hmac_keyed *hk, const void *msg, size_t n,
                     uint8_t out[PWHASH_SHA256_LEN])
{
	struct pwhash_sha256 c = hk->inner;
	uint8_t inner[PWHASH_SHA256_LEN];
	pwhash_sha256_update(&c, msg, n);
	pwhash_sha256_final(&c, inner);
	c = hk->outer;
	pwhash_sha256_update(&c, inner, sizeof inner);
	pwhash_sha256_final(&c, out);
}

void pwhash_hmac(const void *key, size_t keylen, const void *msg, size_t n,
                 uint8_t out[PWHASH_SHA256_LEN])
{
	struct hmac_keyed hk;
	hmac_key(&hk, key, keylen);
	hmac_run(&hk, msg, n, out);
}

/* ---- PBKDF2 ---- */

/* T_i = U_1 ^ U_2 ^ ... ^ U_c, U_1 = PRF(P, S || INT(i)), U_j = PRF(P, U_j-1). */
static void pbkdf2_block(const struct hmac_keyed *hk, const void *salt, size_t saltlen,
                         uint32_t i, unsigned iter, uint8_t t[PWHASH_SHA256_LEN])
{
	uint8_t u[PWHASH_SHA256_LEN], be[4];
	struct pwhash_sha256 c = hk->inner;
	store_be32(be, i);
	pwhash_sha256_update(&c, salt, saltlen);
	pwhash_sha256_update(&c, be, 4);
	pwhash_sha256_final(&c, u);
	c = hk->outer;
	pwhash_sha256_update(&c, u, sizeof u);
	pwhash_sha256_final(&c, u);
	memcpy(t, u, sizeof u);
	for (unsigned j = 1; j < iter; j++) {
		hmac_run(hk, u, sizeof u, u);
		for (int b = 0; b < PWHASH_SHA256_LEN; b++)
			t[b] ^= u[b];
	}
}

void pwhash_pbkdf2(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                   unsigned iter, uint8_t *out, size_t outlen)
{
	struct hmac_keyed hk;
	uint8_t t[PWHASH_SHA256_LEN];
	hmac_key(&hk, pw, pwlen);
	for (uint32_t i = 1; outlen; i++) {
		size_t take = outlen < sizeof t ? outlen : sizeof t;
		pbkdf2_block(&hk, salt, saltlen, i, iter ? iter : 1, t);
		memcpy(out, t, take);
		out += take;
		outlen -= take;
	}
}

/* ---- stored text ---- */

static void hex_put(char *dst, const uint8_t *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes hex up to `end` into out; the byte count, or -1 if malformed or
 * longer than max. */
static int hex_get(const char *s, const char *end, uint8_t *out, size_t max)
{
	size_t len = (size_t)(end - s);
	if (len == 0 || len % 2 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

int pwhash_make_salted(const char *password, const uint8_t salt[PWHASH_SALT_LEN],
                       unsigned iter, char *out, size_t cap)
{
	uint8_t key[PWHASH_SHA256_LEN];
	char salthex[2 * PWHASH_SALT_LEN + 1], keyhex[2 * PWHASH_SHA256_LEN + 1];
	if (iter == 0 || iter > PWHASH_ITER_MAX)
		return -1;
	pwhash_pbkdf2(password, strlen(password), salt, PWHASH_SALT_LEN, iter, key, sizeof key);
	hex_put(salthex, salt, PWHASH_SALT_LEN);
	hex_put(keyhex, key, sizeof key);
	int n = snprintf(out, cap, PWHASH_PREFIX "%u$%s$%s", iter, salthex, keyhex);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int pwhash_salt(uint8_t salt[PWHASH_SALT_LEN])
{
	size_t got = 0;
	while (got < PWHASH_SALT_LEN) {
		ssize_t n = getrandom(salt + got, PWHASH_SALT_LEN - got, 0);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

int pwhash_make(const char *password, char *out, size_t cap)
{
	uint8_t salt[PWHASH_SALT_LEN];
	if (pwhash_salt(salt) != 0)
		return -1;
	return pwhash_make_salted(password, salt, PWHASH_ITER, out, cap);
}

bool pwhash_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

/* Reads "ITER$" at *s: the count, or 0 if malformed. */
static unsigned pwhash_iter_get(const char **s)
{
	unsigned long v = 0;
	const char *p = *s;
	for (; *p >= '0' && *p <= '9' && v <= PWHASH_ITER_MAX; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == *s || *p != '$' || v > PWHASH_ITER_MAX)
		return 0;
	*s = p + 1;
	return (unsigned)v;
}

bool pwhash_verify(const char *password, const char *stored)
{
	uint8_t salt[PWHASH_SALT_MAX], want[PWHASH_SHA256_LEN], got[PWHASH_SHA256_LEN];
	size_t plen = strlen(PWHASH_PREFIX);
	if (!password || !stored || strncmp(stored, PWHASH_PREFIX, plen))
		return false;
	const char *p = stored + plen;
	unsigned iter = pwhash_iter_get(&p);
	const char *dollar = iter ? strchr(p, '$') : NULL;
	if (!dollar)
		return false;
	int saltlen = hex_get(p, dollar, salt, sizeof salt);
	if (saltlen < 0 || hex_get(dollar + 1, dollar + 1 + strlen(dollar + 1), want, sizeof want) !=
	                           (int)sizeof want)
		return false;
	pwhash_pbkdf2(password, strlen(password), salt, (size_t)saltlen, iter, got, sizeof got);
	return pwhash_equal(got, want, sizeof want);
}

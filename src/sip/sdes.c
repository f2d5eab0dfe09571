/* sdes.c — see sdes.h. */
#include "sip/sdes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static const char sdes_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define SDES_KEY_B64 40   /* 30 bytes in base64, no padding */

const char *sdes_suite_name(enum media_srtp_suite suite)
{
	switch (suite) {
	case MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80:
		return "AES_CM_128_HMAC_SHA1_80";
	case MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32:
		return "AES_CM_128_HMAC_SHA1_32";
	}
	return NULL;
}

static enum media_srtp_suite sdes_suite(const char *name, size_t len)
{
	static const enum media_srtp_suite all[] = { MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
		                                     MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32 };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		const char *n = sdes_suite_name(all[i]);
		if (strlen(n) == len && !strncmp(n, name, len))
			return all[i];
	}
	return 0;
}

static int sdes_b64_value(char c)
{
	const char *p = c ? strchr(sdes_b64, c) : NULL;
	return p ? (int)(p - sdes_b64) : -1;
}

/* Exactly MEDIA_SRTP_KEY bytes from 40 base64 characters (30 bytes need no
 * padding; a padded or longer key is another key size: refused). */
static int sdes_b64_decode(const char *in, size_t len, uint8_t *out)
{
	if (len != SDES_KEY_B64)
		return -1;
	for (size_t i = 0, o = 0; i < len; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++)
			if ((v[k] = sdes_b64_value(in[i + k])) < 0)
				return -1;
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		             (uint32_t)v[3];
		out[o++] = (uint8_t)(w >> 16);
		out[o++] = (uint8_t)(w >> 8);
		out[o++] = (uint8_t)w;
	}
	return 0;
}

static void sdes_b64_encode(const uint8_t *in, char *out)
{
	for (size_t i = 0, o = 0; i < MEDIA_SRTP_KEY; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = sdes_b64[w >> 18 & 63];
		out[o++] = sdes_b64[w >> 12 & 63];
		out[o++] = sdes_b64[w >> 6 & 63];
		out[o++] = sdes_b64[w & 63];
	}
	out[SDES_KEY_B64] = 0;
}

/* "inline:KEY[|LIFETIME][|MKI:LEN]": only the key and an optional lifetime
 * (2^n or a number; libsrtp rekeys never, and a call is far shorter). */
static int sdes_key_param(const char *p, size_t len, uint8_t *key)
{
	if (len < 7 || strncasecmp(p, "inline:", 7))
		return -1;
	p += 7;
	len -= 7;
	const char *bar = memchr(p, '|', len);
	size_t klen = bar ? (size_t)(bar - p) : len;
	if (sdes_b64_decode(p, klen, key) < 0)
		return -1;
	if (!bar)
		return 0;
	const char *life = bar + 1;
	size_t llen = len - klen - 1;
	if (!llen || memchr(life, '|', llen) || memchr(life, ':', llen))
		return -1;     /* an MKI, or a lifetime and an MKI */
	return 0;
}

/* Session parameters: a window size hint (WSH=n) changes nothing for us;
 * anything else (UNENCRYPTED_SRTP, KDR, FEC_ORDER ...) is not supported. */
static bool sdes_session_params_ok(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p) {
		size_t n = strcspn(p, " \t");
		if (n < 4 || strncasecmp(p, "WSH=", 4))
			return false;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	return true;
}

int sdes_parse(const char *value, struct sdes *out)
{
	memset(out, 0, sizeof *out);
	char *end;
	if (!value || *value < '0' || *value > '9')
		return -1;
	unsigned long tag = strtoul(value, &end, 10);
	if (tag < 1 || tag > 999999999 || (*end != ' ' && *end != '\t'))
		return -1;
	const char *p = end + strspn(end, " \t");
	size_t n = strcspn(p, " \t");
	enum media_srtp_suite suite = sdes_suite(p, n);
	if (!suite)
		return -1;
	p += n;
	p += strspn(p, " \t");
	n = strcspn(p, " \t");
	/* Several keys (";"-separated) are for MKI use: not supported. */
	if (memchr(p, ';', n) || sdes_key_param(p, n, out->key) < 0 ||
	    !sdes_session_params_ok(p + n)) {
		memset(out, 0, sizeof *out);
		return -1;
	}
	out->tag = (unsigned)tag;
	out->suite = suite;
	return 0;
}

size_t sdes_format(char *buf, size_t cap, const struct sdes *c)
{
	char key[SDES_KEY_B64 + 1];
	const char *name = sdes_suite_name(c->suite);
	if (!name)
		return 0;
	sdes_b64_encode(c->key, key);
	int n = snprintf(buf, cap, "%u %s inline:%s", c->tag, name, key);
	explicit_bzero(key, sizeof key);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int sdes_new(struct sdes *c, unsigned tag, enum media_srtp_suite suite)
{
	c->tag = tag;
	c->suite = suite;
	return getrandom(c->key, sizeof c->key, 0) == (ssize_t)sizeof c->key ? 0 : -1;
}

/* sdes.h — SDP Security Descriptions for media streams (RFC 4568).
 *
 * SRTP keys travel in the SDP, over TLS: "a=crypto:TAG SUITE inline:KEY",
 * KEY being the base64 of a 16-byte master key and a 14-byte salt. callq
 * speaks AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 (the suites
 * every SDES phone has), one key per line, without MKI or session
 * parameters other than a window size hint; a line with anything else is
 * skipped, as RFC 4568 says of lines one does not support. Our own keys come
 * from getrandom, one per leg. Pure functions; keys are never logged.
 */
#ifndef CALLQ_SDES_H
#define CALLQ_SDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

struct sdes {
	unsigned tag;                   /* 1..999999999 */
	enum media_srtp_suite suite;    /* 0: none */
	uint8_t key[MEDIA_SRTP_KEY];    /* master key then salt */
};

/* The value of one a=crypto attribute (after "crypto:"). 0 if usable, else -1. */
int sdes_parse(const char *value, struct sdes *out);
/* The attribute value for c ("1 AES_CM_128_HMAC_SHA1_80 inline:..."); the
 * length, or 0 if it did not fit. */
size_t sdes_format(char *buf, size_t cap, const struct sdes *c);
/* A fresh random key for suite under tag. 0, or -1 if no randomness. */
int sdes_new(struct sdes *c, unsigned tag, enum media_srtp_suite suite);
/* The suite's name in SDP, or NULL. */
const char *sdes_suite_name(enum media_srtp_suite suite);

#endif

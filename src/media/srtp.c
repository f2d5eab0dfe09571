/* srtp.c — see srtp.h. */
#include "media/srtp.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

_Static_assert(MSRTP_TRAILER >= SRTP_MAX_TAG_LEN, "room for the authentication tag");

/* One direction: its session and what made it. */
struct msrtp_dir {
	srtp_t session;
	uint8_t key[MEDIA_SRTP_KEY];
};

struct msrtp {
	enum media_srtp_suite suite;
	struct msrtp_dir tx, rx;
};

static pthread_once_t msrtp_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t msrtp_init_status;

static void msrtp_init(void) { msrtp_init_status = srtp_init(); }

static int msrtp_dir_new(struct msrtp_dir *d, enum media_srtp_suite suite, srtp_ssrc_type_t type,
                         const uint8_t *key)
{
	srtp_policy_t p;
	memset(&p, 0, sizeof p);
	if (suite == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
	else
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
	/* RTCP is off in callq; SRTCP keeps the 80-bit tag either way (RFC 4568 6.2). */
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
	p.ssrc.type = type;
	memcpy(d->key, key, MEDIA_SRTP_KEY);
	p.key = d->key;
	p.window_size = 128;
	return srtp_create(&d->session, &p) == srtp_err_status_ok ? 0 : -1;
}

static void msrtp_dir_free(struct msrtp_dir *d)
{
	if (d->session)
		srtp_dealloc(d->session);
	d->session = NULL;
}

struct msrtp *msrtp_new(enum media_srtp_suite suite, const uint8_t *tx, const uint8_t *rx)
{
	pthread_once(&msrtp_once, msrtp_init);
	if (msrtp_init_status != srtp_err_status_ok)
		return NULL;
	struct msrtp *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->suite = suite;
	if (msrtp_dir_new(&c->tx, suite, ssrc_any_outbound, tx) < 0 ||
	    msrtp_dir_new(&c->rx, suite, ssrc_any_inbound, rx) < 0) {
		msrtp_free(c);
		return NULL;
	}
	return c;
}

void msrtp_free(struct msrtp *c)
{
	if (!c)
		return;
	msrtp_dir_free(&c->tx);
	msrtp_dir_free(&c->rx);
	/* The keys stay in no freed memory. */
	explicit_bzero(c, sizeof *c);
	free(c);
}

static void msrtp_keep(struct msrtp_dir *now, struct msrtp_dir *old, bool same_suite)
{
	if (!same_suite || memcmp(now->key, old->key, MEDIA_SRTP_KEY))
		return;
	srtp_t fresh = now->session;
	now->session = old->session;
	old->session = fresh;
}

void msrtp_carry(struct msrtp *c, struct msrtp *old)
{
	if (!old)
		return;
	msrtp_keep(&c->tx, &old->tx, c->suite == old->suite);
	msrtp_keep(&c->rx, &old->rx, c->suite == old->suite);
	msrtp_free(old);
}

int msrtp_protect(struct msrtp *c, uint8_t *pkt, int *len)
{
	return srtp_protect(c->tx.session, pkt, len) == srtp_err_status_ok ? 0 : -1;
}

int msrtp_unprotect(struct msrtp *c, uint8_t *pkt, int *len)
{
	return srtp_unprotect(c->rx.session, pkt, len) == srtp_err_status_ok ? 0 : -1;
}

/* srtp.h — SRTP (RFC 3711) for one leg, on libsrtp2.
 *
 * A leg that negotiated SDES keys (RFC 4568) protects every RTP packet it
 * sends with its own master key and unprotects every packet it receives with
 * the remote's (the keys come from the SIP layer: media_leg_srtp in media.h).
 * Each direction has its own libsrtp session: outbound for whatever SSRC we
 * send, inbound for whatever SSRC the remote sends (libsrtp makes a stream per
 * SSRC only once a packet of it authenticates). When a re-INVITE brings new
 * keys, only the direction whose key changed starts a new session: the other
 * keeps its rollover counter and replay window (msrtp_carry), so a long call
 * is not broken by a refresh, and a key is never reused from index 0.
 * A context is made on the SIP thread and used only by the media thread.
 * Keys never reach the log.
 */
#ifndef CALLQ_MEDIA_SRTP_H
#define CALLQ_MEDIA_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

/* Bytes protect may add to a packet (authentication tag; no MKI). */
#define MSRTP_TRAILER 16

struct msrtp;

/* A context for suite with our key tx and the remote's key rx (each
 * MEDIA_SRTP_KEY bytes: 16 of key, 14 of salt); NULL if libsrtp refuses. */
struct msrtp *msrtp_new(enum media_srtp_suite suite, const uint8_t *tx, const uint8_t *rx);
void msrtp_free(struct msrtp *c);
/* Moves old's sessions into c for each direction whose suite and key did not
 * change, then frees old (NULL: nothing). Allocates nothing. */
void msrtp_carry(struct msrtp *c, struct msrtp *old);
/* Protects the RTP packet pkt[0..*len) in place; pkt must have room for
 * *len + MSRTP_TRAILER bytes. 0, or -1 (the packet must not be sent). */
int msrtp_protect(struct msrtp *c, uint8_t *pkt, int *len);
/* Checks and decrypts pkt[0..*len) in place; *len shrinks by the tag. 0, or
 * -1 for a packet that fails authentication or replays an old one. */
int msrtp_unprotect(struct msrtp *c, uint8_t *pkt, int *len);

#endif

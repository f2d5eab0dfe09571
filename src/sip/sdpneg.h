/* sdpneg.h — SDP offer/answer for G.711 legs.
 *
 * callq speaks PCMU and PCMA at 8 kHz, 20 ms, plus RFC 4733 telephone-event.
 * sdpneg_parse reads a remote SDP (offer or answer) with Sofia's parser and
 * keeps what the media engine needs: address, port, the codecs both sides
 * have in the remote's order of preference, the telephone-event payload type,
 * and whether the remote put us on hold. sdpneg_build writes our side.
 * Addresses are IPv4 or IPv6 (c=IN IP6); c=0.0.0.0 or c=:: means hold.
 * SRTP: an RTP/SAVP stream, or an RTP/AVP one with a=crypto lines (RFC 4568,
 * sdes.h), yields the first crypto line callq supports; our SDP carries our
 * key in the same profile the remote used.
 */
#ifndef CALLQ_SDPNEG_H
#define CALLQ_SDPNEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sdes.h"

#define SDPNEG_CODECS 2

struct sdpneg {
	char ip[64];
	unsigned port;
	int codecs[SDPNEG_CODECS];   /* common codecs, remote's order: 0 (PCMU), 8 (PCMA) */
	int ncodecs;                 /* 0: nothing in common */
	int dtmf_pt;                 /* telephone-event/8000 payload type, 0 = none */
	bool hold;                   /* sendonly, inactive, or c=0.0.0.0 */
	bool quiet;                  /* recvonly, inactive, or c=0.0.0.0: it will not send */
	const char *reply_dir;       /* what our answer must say (RFC 3264 6.1): recvonly to
	                                sendonly or c=0.0.0.0, sendonly to recvonly, inactive to
	                                inactive, else sendrecv */
	bool savp;                   /* m= RTP/SAVP: the remote takes SRTP only */
	struct sdes crypto;          /* the first a=crypto we support; suite 0 = none */
};

/* 0 on success (ncodecs may be 0: the caller answers 488), -1 if the body is
 * not usable SDP, with a reason in err. */
int sdpneg_parse(const char *body, size_t len, struct sdpneg *out, char *err, size_t errlen);

/* Our SDP: `codecs` in preference order, telephone-event at dtmf_pt if non-zero,
 * direction `dir` ("sendrecv" for an offer, the remote's reply_dir for an
 * answer); with `crypto` (NULL: plain RTP) an a=crypto line with our key, in
 * RTP/SAVP if `savp`, else RTP/AVP. Returns the length, or 0 if it did not fit. */
size_t sdpneg_build(char *buf, size_t cap, const char *ip, unsigned port, const int *codecs,
                    int ncodecs, int dtmf_pt, uint32_t session_id, const char *dir,
                    const struct sdes *crypto, bool savp);

#endif

/* fuzz_rtp.c — received RTP and RFC 4733 telephone-event packets, through the
 * code a real leg runs: oRTP's own header parser (rtp_session_rtp_parse, the
 * function its socket reader calls for every datagram), then leg_receive
 * (src/media/leg.c: leg_packet -> G.711 decode -> jitter_put, and through oRTP's
 * telephone-event signal leg_on_tev -> leg_dtmf), then leg_pull (jitter_get).
 * No socket traffic: each datagram is handed to the session as if its socket
 * had just read it, so a run does thousands of packets a second.
 *
 * Input: byte 0 = flags (bit 0: leg bridged, so audio is decoded into the
 * jitter buffer; bit 1: PCMA; bits 2-7: telephone-event payload type 96+n),
 * then datagrams as [len_hi len_lo][len bytes]; after each datagram one tick
 * (leg_receive + leg_pull) runs with a pseudo-clock that advances 20 ms.
 * Checks: every DTMF event is a valid digit for this leg; counters move. */
#include "media/media_int.h"

#include <netinet/in.h>
#include <ortp/ortp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* oRTP's internal entry point for a received datagram (rtpparse.c); exported
 * by libortp but not declared in its public headers. */
void rtp_session_rtp_parse(RtpSession *session, mblk_t *mp, uint32_t local_str_ts,
                           struct sockaddr *addr, socklen_t addrlen);

static struct media *m;
static struct leg *l;
static struct bridge dummy;
static struct sockaddr_in from;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_rtp: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];
	char dir[] = "/tmp/fuzz_rtp_media.XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp");
	/* An even port window high up; leg_new scans it for a free one. */
	unsigned base = 40000 + (unsigned)(getpid() % 5000) * 2;
	struct media_conf conf = { .ip = "127.0.0.1", .port_min = base, .port_max = base + 200,
	                           .media_dir = dir, .rtp_timeout_s = 3 };
	m = media_new(&conf, err, sizeof err);
	if (!m) {
		fprintf(stderr, "media_new: %s\n", err);
		die("media_new");
	}
	rmdir(dir);
	unsigned port;
	l = leg_new(m, &port);
	if (!l)
		die("leg_new");
	from.sin_family = AF_INET;
	from.sin_port = htons(5004);
	from.sin_addr.s_addr = htonl(0x7f000001);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16384)
		return 0;
	uint8_t flags = data[0];
	int dtmf_pt = 96 + (flags >> 2);
	enum media_codec codec = (flags & 2) ? MEDIA_PCMA : MEDIA_PCMU;

	rtp_session_reset(l->rs);
	if (leg_set_remote(m, l, "127.0.0.1", 5004, codec, dtmf_pt) < 0)
		die("leg_set_remote");
	jitter_reset(&l->jb);
	l->dtmf_seen = false;
	l->timed_out = false;
	l->br = (flags & 1) ? &dummy : NULL;
	m->now_ns = 1000000000LL;
	l->last_rx_ns = m->now_ns;

	size_t off = 1;
	unsigned ticks = 0;
	while (off + 2 <= size && ticks < 256) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		mblk_t *mp = allocb(len ? len : 1, 0);
		memcpy(mp->b_wptr, data + off, len);
		mp->b_wptr += len;
		off += len;
		/* oRTP takes ownership (queues or frees it). */
		rtp_session_rtp_parse(l->rs, mp, l->rx_ts, (struct sockaddr *)&from, sizeof from);
		m->now_ns += MEDIA_TICK_NS;
		leg_receive(m, l);
		leg_pull(l);
		leg_check_timeout(m, l);
		ticks++;
	}
	/* Drain what is still queued (a burst of several datagrams per tick). */
	for (int i = 0; i < 4; i++) {
		m->now_ns += MEDIA_TICK_NS;
		leg_receive(m, l);
		leg_pull(l);
	}
	struct media_event ev;
	while (media_next_event(m, &ev)) {
		if (ev.leg != l->id)
			die("event for another leg");
		if (ev.kind == MEV_DTMF && !strchr("0123456789*#ABCD", ev.digit))
			die("DTMF event with an invalid digit");
		if (ev.digit == '\0' && ev.kind == MEV_DTMF)
			die("DTMF event without a digit");
	}
	l->br = NULL;
	return 0;
}

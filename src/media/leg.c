/* leg.c — one call leg: its socket, what it receives, what it relays at once
 * and the frame it sends each tick. Everything here but leg_new runs on the
 * media thread holding the leg.
 *
 * oRTP binds the leg's sockets (and owns them); packets are read from and
 * written to the RTP socket directly, through one reused buffer per thread:
 * no allocation, no queue, no layer between the packet and the system call,
 * one read per readiness. We parse the header ourselves, write our own (SSRC,
 * sequence, timestamp per leg, continuous whatever we send), and follow the
 * last allowed source (symmetric RTP). RFC 4733 packets (the payload type the
 * SDP named) are reported once per event, on its first packet; they are never
 * relayed: digits are for callq (zero-out, features), not for the other phone.
 *
 * Relay: a leg in a plain bridge hands each audio packet straight to its
 * peer (relay_to), transcoded PCMU<->PCMA by table when the codecs differ,
 * with the peer's own header; the tick never touches it. The timestamps
 * follow the source's, shifted by an offset fixed at the first packet of each
 * source SSRC (and after a silence the tick filled in) so the far end sees
 * one stream that moved on by the time that passed. While the other side
 * sends nothing for 60 ms the tick sends silence, so a phone always has a
 * stream to latch on and its jitter buffer is fed.
 *
 * Source check: every packet whose source address is not one the leg allows
 * is dropped as it is read, before anything parses or latches it, so replies
 * only ever go to an allowed address and nobody else's RFC 4733 events count.
 * The check is a 16-byte compare against at most two stored addresses: no
 * allocation, no lookup.
 *
 * SRTP: a leg with keys (media_leg_srtp) unprotects what passed the source
 * check as it is read, and protects each packet just before it is written
 * (srtp.h). A packet that fails authentication is dropped like a foreign one.
 */
#include "media/media_int.h"

#include "core/heap.h"
#include "core/log.h"
#include "media/g711.h"
#include "media/srtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ortp/ortp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>

#define LEG_HDR      RTP_FIXED_HEADER_SIZE
#define LEG_FILL_NS  (3 * MEDIA_TICK_NS)   /* relayed leg sent nothing this long: silence */

static void leg_dtmf(struct media *m, struct leg *l, const uint8_t *pl, int n, uint32_t ts)
{
	static const char digits[] = "0123456789*#ABCD";
	if (n < 4) {
		l->th->run.rx_ignored++;
		return;
	}
	if (l->dtmf_seen && ts == l->dtmf_ts)
		return;                  /* continuation, end packet or retransmit of a known event */
	l->dtmf_seen = true;
	l->dtmf_ts = ts;
	if (pl[0] < sizeof digits - 1)
		media_emit(m, MEV_DTMF, l->id, digits[pl[0]]);
}

/* At most this many foreign packets are read and dropped per tick and leg: a
 * flood faster than we read must not hold the media thread on one socket
 * (the rest waits in the socket buffer, and the kernel drops what overflows). */
#define LEG_FOREIGN_MAX 256

bool leg_parse_addr(const char *ip, struct in6_addr *out)
{
	struct in_addr v4;
	if (inet_pton(AF_INET, ip, &v4) == 1) {
		memset(out, 0, sizeof *out);
		out->s6_addr[10] = out->s6_addr[11] = 0xFF;
		memcpy(&out->s6_addr[12], &v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, ip, out) == 1;
}

static const struct in6_addr leg_loopback = { .s6_addr = { [10] = 0xFF, [11] = 0xFF, [12] = 127,
                                                           [15] = 1 } };

/* A phone on this host that binds its RTP socket to the wildcard (baresip
 * does) names its own 127.x address but sends from 127.0.0.1, the kernel's
 * source for loopback: when an allowed address is on loopback, 127.0.0.1 is
 * taken as well. Only processes on this host can send from it. */
void leg_allow(struct leg *l, enum leg_allow which, const struct in6_addr *addr)
{
	l->allow[which] = *addr;
	l->allowed[which] = true;
	l->allow_lo = false;
	for (unsigned i = 0; i < ALLOW_N; i++)
		if (l->allowed[i] && IN6_IS_ADDR_V4MAPPED(&l->allow[i]) && l->allow[i].s6_addr[12] == 127)
			l->allow_lo = true;
}

/* Per packet: the source, as IPv4-mapped IPv6, against the allowed ones. */
static bool leg_source_ok(const struct leg *l, const struct sockaddr_storage *from)
{
	struct in6_addr a;
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)from;
		memset(&a, 0, 10);
		a.s6_addr[10] = a.s6_addr[11] = 0xFF;
		memcpy(&a.s6_addr[12], &v4->sin_addr, 4);
	} else if (from->ss_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)from)->sin6_addr;
	} else {
		return false;
	}
	for (unsigned i = 0; i < ALLOW_N; i++)
		if (l->allowed[i] && !memcmp(&a, &l->allow[i], sizeof a))
			return true;
	return l->allow_lo && !memcmp(&a, &leg_loopback, sizeof a);
}

static void leg_foreign(struct media *m, struct leg *l, const struct sockaddr_storage *from)
{
	(void)m;
	l->th->run.rx_foreign++;
	if (l->rx_foreign++)
		return;
	char ip[INET6_ADDRSTRLEN] = "?";
	const void *a = from->ss_family == AF_INET
	                ? (const void *)&((const struct sockaddr_in *)from)->sin_addr
	                : (const void *)&((const struct sockaddr_in6 *)from)->sin6_addr;
	inet_ntop(from->ss_family, a, ip, sizeof ip);
	log_warn("media", "leg %u: dropping RTP from %s, not an address of this call", l->id, ip);
}

static void leg_unauth(struct leg *l)
{
	l->th->run.rx_ignored++;
	if (!l->rx_unauth++)
		log_warn("media", "leg %u: dropping SRTP that fails authentication", l->id);
}

/* Reads one packet of l into buf (MEDIA_PKT_MAX bytes): its length, with
 * its source in *from; 0 when nothing allowed is left to read now. Packets
 * from elsewhere and SRTP that fails are dropped here, a bounded number per
 * call (the rest make the socket readable again). */
static int leg_read(struct leg *l, uint8_t *buf, struct sockaddr_storage *from, socklen_t *flen)
{
	for (unsigned dropped = 0; dropped < LEG_FOREIGN_MAX; dropped++) {
		*flen = sizeof *from;
		ssize_t r = recvfrom(l->fd, buf, MEDIA_PKT_MAX, MSG_DONTWAIT, (struct sockaddr *)from, flen);
		if (r <= 0)
			return 0;
		int n = (int)r;
		if (!leg_source_ok(l, from)) {
			leg_foreign(l->m, l, from);
			continue;
		}
		if (l->srtp && msrtp_unprotect(l->srtp, buf, &n) < 0) {
			leg_unauth(l);
			continue;
		}
		return n;
	}
	return 0;
}

/* Writes one packet of l (protected first if l has SRTP keys; buf has room
 * for the tag) to its remote. */
static void leg_write(struct leg *l, uint8_t *buf, int n)
{
	if (l->srtp && msrtp_protect(l->srtp, buf, &n) < 0)
		return;
	if (sendto(l->fd, buf, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)&l->dest, l->dest_len) < 0)
		l->th->run.tx_errors++;
}

static struct leg *leg_bind(struct media *m, unsigned port)
{
	struct leg *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->m = m;
	l->rs = rtp_session_new(RTP_SESSION_SENDRECV);
	if (!l->rs)
		goto fail;
	RtpSession *rs = l->rs;
	rtp_session_set_scheduling_mode(rs, 0);
	rtp_session_set_blocking_mode(rs, 0);
	rtp_session_enable_jitter_buffer(rs, FALSE);
	/* oRTP before 5.2 still "corrects" every received timestamp by its
	 * clock-slide estimate, in 10 ms steps, with its jitter buffer off; our
	 * jitter buffer places audio by the sender's timestamps, and a half-frame
	 * shift leaves every later frame half silent. */
	rtp_session_enable_adaptive_jitter_compensation(rs, FALSE);
	rtp_session_enable_rtcp(rs, FALSE);
	rtp_session_set_recv_buf_size(rs, MEDIA_PKT_MAX);
	/* The default SO_REUSEADDR|SO_REUSEPORT would let two legs share a port. */
	rtp_session_set_reuseaddr(rs, FALSE);
	if (rtp_session_set_local_addr(rs, m->ip, (int)port, (int)port + 1) < 0)
		goto fail;
	l->fd = rtp_session_get_rtp_socket(rs);
	l->ssrc = arc4random();
	l->seq = (uint16_t)arc4random();
	l->tx_ts = arc4random();
	l->codec = MEDIA_PCMU;
	l->mode = LEG_SILENCE;
	l->item = -1;
	return l;
fail:
	if (l->rs)
		rtp_session_destroy(l->rs);
	free(l);
	return NULL;
}

/* Ports are drawn at random so nobody can tell the next call's port from
 * the last; a few draws, then a scan of the free list from a random point so
 * a nearly full range still works. Ports other programs hold are skipped, but
 * only this many binds per leg: past that the range is as good as full, and
 * trying it all on every new leg would stall the SIP thread exactly when it
 * is busiest. */
#define LEG_RANDOM_TRIES 8
#define LEG_BIND_TRIES   64

static void leg_no_port(struct media *m)
{
	long long now = (long long)time(NULL), last = atomic_load(&m->port_log_s);
	if (now != last && atomic_compare_exchange_strong(&m->port_log_s, &last, now))
		log_error("media", "no free RTP port in %u-%u (%u legs)", m->port_min, m->port_max,
		          atomic_load(&m->bound));
}

/* Binds port index i if no leg holds it: the leg, or NULL (*binds counts tries). */
static struct leg *leg_try_port(struct media *m, unsigned i, unsigned *binds)
{
	pthread_mutex_lock(&m->lock);
	bool free_port = !m->port_busy[i];
	m->port_busy[i] = 1;
	pthread_mutex_unlock(&m->lock);
	if (!free_port)
		return NULL;
	unsigned port = m->port_min + 2 * i;
	struct leg *l = leg_bind(m, port);
	(*binds)++;
	if (l) {
		l->port = port;
		return l;
	}
	pthread_mutex_lock(&m->lock);
	m->port_busy[i] = 0;                 /* another program holds it */
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

struct leg *leg_new(struct media *m, unsigned *port)
{
	struct leg *l = NULL;
	unsigned binds = 0;
	if (atomic_load(&m->bound) < m->nports) {
		for (unsigned k = 0; k < LEG_RANDOM_TRIES && !l && binds < LEG_BIND_TRIES; k++)
			l = leg_try_port(m, arc4random_uniform(m->nports), &binds);
		unsigned start = arc4random_uniform(m->nports);
		for (unsigned k = 0; k < m->nports && !l && binds < LEG_BIND_TRIES; k++)
			l = leg_try_port(m, (start + k) % m->nports, &binds);
	}
	if (!l) {
		leg_no_port(m);
		return NULL;
	}
	atomic_fetch_add(&m->bound, 1);
	*port = l->port;
	return l;
}

static void leg_release_segs(struct leg *l)
{
	for (unsigned i = 0; i < l->nseg; i++)
		clips_put(l->seg[i].clip);
	l->nseg = l->cur = 0;
}

void leg_destroy(struct media *m, struct leg *l)
{
	bridge_leave(m, l);
	if (l->rec)
		rec_finish(m->recorder, l->rec);
	leg_release_segs(l);
	clips_put(l->play.clip);
	if (l->th)
		epoll_ctl(l->th->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	rtp_session_destroy(l->rs);
	free(l->audio);
	if (l->rx_foreign)
		log_info("media", "leg %u: %llu RTP packets from other addresses dropped", l->id,
		         (unsigned long long)l->rx_foreign);
	if (l->rx_unauth)
		log_info("media", "leg %u: %llu SRTP packets failing authentication dropped", l->id,
		         (unsigned long long)l->rx_unauth);
	msrtp_free(l->srtp);
	pthread_mutex_lock(&m->lock);
	m->port_busy[(l->port - m->port_min) / 2] = 0;
	pthread_mutex_unlock(&m->lock);
	atomic_fetch_sub(&m->bound, 1);
	heap_note(1);                        /* a burst of calls ending: heap.h */
	free(l);
}

int leg_set_remote(struct media *m, struct leg *l, const char *ip, unsigned port,
                   enum media_codec codec, int dtmf_pt)
{
	(void)m;
	struct in6_addr addr;
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, ip, &v4.sin_addr) == 1) {
		memcpy(&l->dest, &v4, sizeof v4);
		l->dest_len = sizeof v4;
	} else if (inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1) {
		memcpy(&l->dest, &v6, sizeof v6);
		l->dest_len = sizeof v6;
	} else {
		log_error("media", "leg %u: bad remote %s:%u", l->id, ip, port);
		return -1;
	}
	leg_parse_addr(ip, &addr);
	leg_allow(l, ALLOW_SDP, &addr);
	l->dtmf_pt = dtmf_pt > 0 && dtmf_pt < 128 && dtmf_pt != MEDIA_PCMU && dtmf_pt != MEDIA_PCMA
	             ? dtmf_pt : 0;
	l->codec = codec;
	l->has_remote = true;
	l->last_rx_ns = l->th ? l->th->now_ns : 0;
	return 0;
}

/* Starts prog from its first item; the caller decides what mode plays it. */
void leg_program(struct leg *l, const struct holdloop *prog, const char *lang)
{
	leg_release_segs(l);
	l->prog = *prog;
	snprintf(l->lang, sizeof l->lang, "%s", lang);
	l->item = -1;
	l->tail = false;
}

void leg_hold(struct media *m, struct leg *l, const struct holdloop *prog, const char *lang)
{
	bridge_leave(m, l);
	leg_program(l, prog, lang);
	l->mode = LEG_HOLD;
}

void leg_play(struct media *m, struct leg *l, struct clip *clip)
{
	bridge_leave(m, l);
	clips_put(l->play.clip);
	l->play = (struct leg_seg){ .clip = clip, .len = clip ? (uint32_t)clip->len : 0 };
	l->play_done = false;
	l->mode = LEG_PLAY;
}

void leg_silence(struct media *m, struct leg *l)
{
	bridge_leave(m, l);
	l->mode = LEG_SILENCE;
}

/* The G.711 A<->mu tables, built once from the codec's own functions. */
static uint8_t leg_u2a[256], leg_a2u[256];
static pthread_once_t leg_tables_once = PTHREAD_ONCE_INIT;

static void leg_tables(void)
{
	for (unsigned i = 0; i < 256; i++) {
		leg_u2a[i] = g711_ulaw2alaw((uint8_t)i);
		leg_a2u[i] = g711_alaw2ulaw((uint8_t)i);
	}
}

/* Writes our RTP header for l into mp, then the payload; sends it to l's
 * remote through the session's transport. */
static void leg_emit(struct leg *l, bool marker, uint32_t ts, const uint8_t *pl, unsigned n,
                     const uint8_t *table)
{
	uint8_t *p = l->th->tx;
	p[0] = 0x80;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | l->codec);
	p[2] = (uint8_t)(l->seq >> 8);
	p[3] = (uint8_t)l->seq;
	uint32_t be_ts = htonl(ts), be_ssrc = htonl(l->ssrc);
	memcpy(p + 4, &be_ts, 4);
	memcpy(p + 8, &be_ssrc, 4);
	if (table)
		for (unsigned i = 0; i < n; i++)
			p[LEG_HDR + i] = table[pl[i]];
	else if (pl != p + LEG_HDR)
		memcpy(p + LEG_HDR, pl, n);
	leg_write(l, p, LEG_HDR + (int)n);
	l->seq++;
	l->tx_ts = ts;
	l->tx_ns = l->th->now_ns;
	l->sent = true;
	l->th->run.tx_packets++;
}

/* The timestamp that continues what l sent last, `now` later: whole frames
 * of the time that passed, at least one. */
static uint32_t leg_next_ts(const struct leg *l, int64_t now)
{
	int64_t frames = (now - l->tx_ns + MEDIA_TICK_NS / 2) / MEDIA_TICK_NS;
	return l->tx_ts + MEDIA_FRAME * (uint32_t)(frames < 1 ? 1 : frames);
}

/* One audio packet of l, relayed to its bridge peer as it arrived. */
static void leg_relay(struct leg *l, int pt, bool marker, uint32_t ts, uint32_t ssrc,
                      const uint8_t *pl, unsigned n)
{
	struct leg *to = l->relay_to;
	if (!to->has_remote)
		return;
	if (!l->anchored || ssrc != l->rx_ssrc) {
		/* A new source (or the bridge just went plain): carry on from what
		 * `to` sent last, as far on as the time that passed. */
		uint32_t next = to->sent ? leg_next_ts(to, l->th->now_ns) : to->tx_ts;
		l->ts_off = next - ts;
		l->rx_ssrc = ssrc;
		l->anchored = true;
		marker = true;
	}
	const uint8_t *table = (pt == MEDIA_PCMA) == (to->codec == MEDIA_PCMA) ? NULL
	                       : pt == MEDIA_PCMA ? leg_a2u : leg_u2a;
	leg_emit(to, marker, ts + l->ts_off, pl, n, table);
	to->filling = false;
}

/* Audio for whoever mixes or records this leg. */
static void leg_keep(struct leg *l, int pt, uint32_t ts, const uint8_t *pl, unsigned n)
{
	int16_t pcm[JITTER_SAMPLES / 2];
	unsigned len = n < JITTER_SAMPLES / 2 ? n : JITTER_SAMPLES / 2;
	struct jitter *jb = &l->audio->jb;
	g711_decode(pt == MEDIA_PCMA, pl, pcm, len);
	uint64_t late = jb->late;
	jitter_put(jb, ts, pcm, len, (uint32_t)(l->th->now_ns / 125000));
	l->th->run.jitter_late += jb->late - late;
}

/* One packet as read: header checked, then a digit, relayed audio, kept audio. */
static void leg_packet(struct media *m, struct leg *l, const uint8_t *p, int n)
{
	struct mthread *t = l->th;
	if (n < LEG_HDR || (p[0] & 0xC0) != 0x80) {
		t->run.rx_ignored++;
		return;
	}
	int off = LEG_HDR + 4 * (p[0] & 0x0F);
	if ((p[0] & 0x10) && n >= off + 4)              /* header extension */
		off += 4 + 4 * (p[off + 2] << 8 | p[off + 3]);
	if ((p[0] & 0x20) && n > off)                   /* padding */
		n -= p[n - 1];
	int pt = p[1] & 0x7F, len = n - off;
	uint32_t ts, ssrc;
	memcpy(&ts, p + 4, 4);
	memcpy(&ssrc, p + 8, 4);
	ts = ntohl(ts);
	ssrc = ntohl(ssrc);
	if (len <= 0) {
		t->run.rx_ignored++;
	} else if (l->dtmf_pt && pt == l->dtmf_pt) {
		leg_dtmf(m, l, p + off, len, ts);
	} else if (pt != MEDIA_PCMU && pt != MEDIA_PCMA) {
		t->run.rx_ignored++;
	} else {
		if (l->relay_to)
			leg_relay(l, pt, p[1] & 0x80, ts, ssrc, p + off, (unsigned)len);
		if (l->audio)
			leg_keep(l, pt, ts, p + off, (unsigned)len);
	}
}

/* Symmetric RTP: replies go where the last allowed packet came from. */
static void leg_latch(struct leg *l, const struct sockaddr_storage *from, socklen_t len)
{
	if (len != l->dest_len || memcmp(from, &l->dest, len)) {
		memcpy(&l->dest, from, len);
		l->dest_len = len;
	}
}

/* The socket is readable: one packet, handled at once. Packets still queued
 * make the socket readable again at the next wait, so a busy leg cannot
 * hold the thread and no read ends in EAGAIN. */
void leg_receive(struct media *m, struct leg *l)
{
	struct mthread *t = l->th;
	struct sockaddr_storage from;
	socklen_t flen;
	pthread_once(&leg_tables_once, leg_tables);
	int n = leg_read(l, t->rx, &from, &flen);
	if (n <= 0)
		return;
	t->run.rx_packets++;
	l->last_rx_ns = t->now_ns;
	if (l->has_remote)
		leg_latch(l, &from, flen);
	leg_packet(m, l, t->rx, n);
}

void leg_check_timeout(struct media *m, struct leg *l)
{
	unsigned limit_s = l->quiet ? m->rtp_quiet_timeout_s : m->rtp_timeout_s;
	if (!limit_s || !l->has_remote || l->timed_out)
		return;
	if (l->th->now_ns - l->last_rx_ns >= (int64_t)limit_s * 1000000000L) {
		l->timed_out = true;
		media_emit(m, MEV_TIMEOUT, l->id, 0);
	}
}

static void leg_copy(const struct leg *l, const struct leg_seg *s, uint8_t *out, unsigned n)
{
	if (s->clip)
		memcpy(out, (l->codec == MEDIA_PCMA ? s->clip->alaw : s->clip->ulaw) + s->pos, n);
	else
		memset(out, l->codec == MEDIA_PCMA ? G711_ALAW_SILENCE : G711_ULAW_SILENCE, n);
}

/* Moves to the next hold item and resolves its clips; false: nothing left. */
static bool leg_next_item(struct media *m, struct leg *l)
{
	struct holdloop_step steps[HOLDLOOP_MAX_STEPS];
	leg_release_segs(l);
	l->item = holdloop_next(&l->prog, l->item, &l->tail);
	if (l->item < 0)
		return false;
	size_t n = holdloop_expand(&l->prog.item[l->item], l->lang, &l->vars, steps,
	                           HOLDLOOP_MAX_STEPS);
	for (size_t i = 0; i < n; i++) {
		struct leg_seg *s = &l->seg[l->nseg];
		if (steps[i].name[0]) {
			struct clip *c = clips_get(m->clips, steps[i].name);
			if (!c || !c->len) {
				clips_put(c);
				continue;               /* missing prompts are skipped */
			}
			*s = (struct leg_seg){ .clip = c, .len = (uint32_t)c->len };
		} else {
			*s = (struct leg_seg){ .len = steps[i].silence_ms * (CLIPS_RATE / 1000) };
		}
		l->nseg++;
	}
	return true;
}

static void leg_fill_hold(struct media *m, struct leg *l, uint8_t *out)
{
	static const struct leg_seg quiet;
	unsigned done = 0, advances = 0;
	while (done < MEDIA_FRAME) {
		if (l->cur >= l->nseg) {
			/* A program of nothing but missing files must not spin. */
			if (advances++ > l->prog.n || !leg_next_item(m, l)) {
				leg_copy(l, &quiet, out + done, MEDIA_FRAME - done);
				return;
			}
			continue;
		}
		struct leg_seg *s = &l->seg[l->cur];
		unsigned take = s->len - s->pos;
		if (take > MEDIA_FRAME - done)
			take = MEDIA_FRAME - done;
		leg_copy(l, s, out + done, take);
		s->pos += take;
		done += take;
		if (s->pos >= s->len)
			l->cur++;
	}
}

static void leg_fill_play(struct media *m, struct leg *l, uint8_t *out)
{
	static const struct leg_seg quiet;
	struct leg_seg *s = &l->play;
	unsigned take = s->len - s->pos;
	if (take > MEDIA_FRAME)
		take = MEDIA_FRAME;
	leg_copy(l, s, out, take);
	s->pos += take;
	leg_copy(l, &quiet, out + take, MEDIA_FRAME - take);
	if (s->pos >= s->len && !l->play_done) {
		l->play_done = true;
		media_emit(m, MEV_PLAYED, l->id, 0);
	}
}

/* Legs someone mixes (a bridge with a listener) or records keep their audio
 * in a jitter buffer; the others have none (6 KiB less per leg). Called
 * whenever a bridge or recording changes; allocates only then. */
void leg_need_audio(struct leg *l)
{
	bool need = l->rec || (l->br && (l->br->mixed || l->br->rec));
	if (need && !l->audio) {
		l->audio = malloc(sizeof *l->audio);
		if (l->audio) {
			jitter_reset(&l->audio->jb);
			memset(l->audio->said, 0, sizeof l->audio->said);
		}
	} else if (!need && l->audio) {
		free(l->audio);
		l->audio = NULL;
	}
}

/* This tick's frame of what l said: silence when nobody keeps it. */
const int16_t *leg_said(const struct leg *l)
{
	static const int16_t silence[MEDIA_FRAME];
	return l->audio ? l->audio->said : silence;
}

/* Audio out of the jitter buffer, once per tick, for legs someone hears or
 * records; all legs pull before any sends so every mix sees the same tick. */
void leg_pull(struct leg *l)
{
	if (l->audio)
		jitter_get(&l->audio->jb, l->audio->said);
}

static void leg_fill_bridge(struct media *m, struct leg *l, uint8_t *out)
{
	if (l->role == ROLE_CALLER && l->br && l->br->held) {
		leg_fill_hold(m, l, out);
		return;
	}
	const int16_t *src[MIX_MAX];
	int16_t pcm[MEDIA_FRAME];
	for (unsigned i = 0; i < l->nhear; i++)
		src[i] = leg_said(l->hear[i]);
	mix_sum(pcm, src, l->nhear, MEDIA_FRAME);
	g711_encode(l->codec == MEDIA_PCMA, pcm, out, MEDIA_FRAME);
}

/* The tick's frame for legs callq plays to or mixes; a leg in a plain bridge
 * sends what it relays, and silence only while nothing comes to relay. */
void leg_send(struct media *m, struct leg *l)
{
	static const struct leg_seg quiet;
	struct mthread *t = l->th;
	uint8_t *frame = t->tx + LEG_HDR;
	switch (l->mode) {
	case LEG_HOLD:
		leg_fill_hold(m, l, frame);
		break;
	case LEG_PLAY:
		leg_fill_play(m, l, frame);
		break;
	case LEG_BRIDGE:
		if (!l->br->mixed) {
			/* Relayed: the tick only fills a silence (the other side
			 * quiet, or not yet heard), so the phone still gets a
			 * stream; the next relayed packet starts a new talk spurt
			 * after it. */
			if (!l->filling && l->sent && t->deadline_ns - l->tx_ns < LEG_FILL_NS)
				return;
			leg_copy(l, &quiet, frame, MEDIA_FRAME);
			l->filling = true;
			l->relay_to->anchored = false;
			break;
		}
		leg_fill_bridge(m, l, frame);
		break;
	case LEG_SILENCE:
		leg_copy(l, &quiet, frame, MEDIA_FRAME);
		break;
	}
	if (!l->has_remote)
		return;
	/* A late tick jumps ahead (whole periods), never bursts. */
	uint32_t ts = l->sent ? leg_next_ts(l, t->deadline_ns) : l->tx_ts;
	leg_emit(l, !l->sent, ts, frame, MEDIA_FRAME, NULL);
	l->tx_ns = t->deadline_ns;
}

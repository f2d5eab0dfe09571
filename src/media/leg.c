/* leg.c — one call leg: its oRTP session, what it receives and the frame it
 * sends each tick. Everything here but leg_new runs on the media thread.
 *
 * oRTP use: no scheduler, non-blocking, no jitter buffer (we pull every packet
 * once per tick and keep our own short queue), RTCP off, symmetric RTP on.
 * RFC 4733 packets are recognised by oRTP through the send profile and handed
 * to the "telephone-event_packet" signal one per receive call; we parse them
 * ourselves so a digit is reported once, on the first packet of its event.
 *
 * Source check: oRTP's symmetric RTP re-latches to whoever sends a new SSRC,
 * and takes RFC 4733 events from anyone. So the session's RTP transport gets
 * our own endpoint (leg_tr_recvfrom) under oRTP's meta transport: it reads the
 * socket and drops every packet whose source address is not one the leg
 * allows, before oRTP parses, latches or queues it. What passes may latch, so
 * replies only ever go to an allowed address. The check is a 16-byte compare
 * against at most two stored addresses: no allocation, no lookup.
 *
 * SRTP: the same endpoint is the leg's edge to the network, so a leg with
 * keys (media_leg_srtp) unprotects what passed the source check before oRTP
 * sees it, and protects each packet oRTP hands it to send (srtp.h). A packet
 * that fails authentication is dropped like a foreign one.
 */
#include "media/media_int.h"

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

#define LEG_RECV_BUF 1500        /* oRTP allocates this per received packet; default is 64 KiB */

static void leg_dtmf(struct media *m, struct leg *l, mblk_t *mp)
{
	static const char digits[] = "0123456789*#ABCD";
	unsigned char *pl;
	int n = rtp_get_payload(mp, &pl);
	uint32_t ts = rtp_get_timestamp(mp);
	if (n < 4) {
		m->run.rx_ignored++;
		return;
	}
	if (l->dtmf_seen && ts == l->dtmf_ts)
		return;                  /* continuation, end packet or retransmit of a known event */
	l->dtmf_seen = true;
	l->dtmf_ts = ts;
	if (pl[0] < sizeof digits - 1)
		media_emit(m, MEV_DTMF, l->id, digits[pl[0]]);
}

/* oRTP signal: (session, packet, user data, unused). */
static void leg_on_tev(RtpSession *rs, void *packet, void *user, void *unused)
{
	(void)rs;
	(void)unused;
	struct leg *l = user;
	l->tev_hit = true;
	leg_dtmf(l->m, l, packet);
}

/* A phone that restarts its stream (new SSRC, sequence numbers from
 * anywhere) must be heard at once: without a resync oRTP would drop the new
 * source's packets as "too old" until its sequence caught up. */
static void leg_on_ssrc_changed(RtpSession *rs, void *user, void *unused1, void *unused2)
{
	(void)user;
	(void)unused1;
	(void)unused2;
	rtp_session_resync(rs);
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
	m->run.rx_foreign++;
	if (l->rx_foreign++)
		return;
	char ip[INET6_ADDRSTRLEN] = "?";
	const void *a = from->ss_family == AF_INET
	                ? (const void *)&((const struct sockaddr_in *)from)->sin_addr
	                : (const void *)&((const struct sockaddr_in6 *)from)->sin6_addr;
	inet_ntop(from->ss_family, a, ip, sizeof ip);
	log_warn("media", "leg %u: dropping RTP from %s, not an address of this call", l->id, ip);
}

static void leg_unauth(struct media *m, struct leg *l)
{
	m->run.rx_ignored++;
	if (!l->rx_unauth++)
		log_warn("media", "leg %u: dropping SRTP that fails authentication", l->id);
}

/* oRTP's meta transport reads through this: allowed packets only, SRTP
 * unprotected. */
static int leg_tr_recvfrom(RtpTransport *t, mblk_t *msg, int flags, struct sockaddr *from,
                           socklen_t *fromlen)
{
	struct leg *l = t->data;
	for (unsigned dropped = 0; dropped < LEG_FOREIGN_MAX; dropped++) {
		struct sockaddr_storage src;
		socklen_t len = sizeof src;
		int n = rtp_session_recvfrom(t->session, TRUE, msg, flags, (struct sockaddr *)&src, &len);
		if (n <= 0)
			return n;
		if (!leg_source_ok(l, &src)) {
			leg_foreign(l->m, l, &src);
			continue;
		}
		/* oRTP received at b_wptr (an empty block): unprotect there. */
		if (l->srtp && msrtp_unprotect(l->srtp, msg->b_wptr, &n) < 0) {
			leg_unauth(l->m, l);
			continue;
		}
		if (from && fromlen) {
			memcpy(from, &src, len < *fromlen ? len : *fromlen);
			*fromlen = len;
		}
		return n;
	}
	errno = EAGAIN;                  /* the rest next tick */
	return -1;
}

static int leg_tr_sendto(RtpTransport *t, mblk_t *msg, int flags, const struct sockaddr *to,
                         socklen_t tolen)
{
	struct leg *l = t->data;
	if (l->srtp) {
		/* One block with room for the authentication tag. */
		int n = (int)msgdsize(msg);
		msgpullup(msg, (size_t)n + MSRTP_TRAILER);
		if (msrtp_protect(l->srtp, msg->b_rptr, &n) < 0)
			return -1;
		msg->b_wptr = msg->b_rptr + n;
	}
	return rtp_session_sendto(t->session, TRUE, msg, flags, to, tolen);
}

static ortp_socket_t leg_tr_socket(RtpTransport *t)
{
	return ((struct leg *)t->data)->fd;
}

static void leg_tr_close(RtpTransport *t)
{
	(void)t;
}

static void leg_tr_destroy(RtpTransport *t)
{
	free(t);
}

/* Puts leg_tr_recvfrom under the session's RTP meta transport, which frees it. */
static int leg_filter(struct leg *l)
{
	RtpTransport *meta = NULL, *tr = calloc(1, sizeof *tr);
	rtp_session_get_transports(l->rs, &meta, NULL);
	if (!meta || !tr) {
		free(tr);
		return -1;
	}
	*tr = (RtpTransport){ .data = l, .session = l->rs, .t_getsocket = leg_tr_socket,
	                      .t_sendto = leg_tr_sendto, .t_recvfrom = leg_tr_recvfrom,
	                      .t_close = leg_tr_close, .t_destroy = leg_tr_destroy };
	meta_rtp_transport_set_endpoint(meta, tr);
	return 0;
}

static struct leg *leg_bind(struct media *m, unsigned port)
{
	struct leg *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->m = m;
	l->profile = rtp_profile_new("callq");
	l->rs = rtp_session_new(RTP_SESSION_SENDRECV);
	if (!l->profile || !l->rs)
		goto fail;
	rtp_profile_set_payload(l->profile, MEDIA_PCMU, &payload_type_pcmu8000);
	rtp_profile_set_payload(l->profile, MEDIA_PCMA, &payload_type_pcma8000);
	RtpSession *rs = l->rs;
	rtp_session_set_scheduling_mode(rs, 0);
	rtp_session_set_blocking_mode(rs, 0);
	rtp_session_set_symmetric_rtp(rs, TRUE);
	rtp_session_enable_jitter_buffer(rs, FALSE);
	/* oRTP before 5.2 still "corrects" every received timestamp by its
	 * clock-slide estimate, in 10 ms steps, with its jitter buffer off; our
	 * jitter buffer places audio by the sender's timestamps, and a half-frame
	 * shift leaves every later frame half silent. */
	rtp_session_enable_adaptive_jitter_compensation(rs, FALSE);
	rtp_session_enable_rtcp(rs, FALSE);
	/* Phones and test tools often send DTMF from another SSRC: switch at once. */
	rtp_session_set_ssrc_changed_threshold(rs, 0);
	rtp_session_set_send_profile(rs, l->profile);
	rtp_session_set_recv_profile(rs, m->recv_profile);
	rtp_session_set_recv_buf_size(rs, LEG_RECV_BUF);
	/* The default SO_REUSEADDR|SO_REUSEPORT would let two legs share a port. */
	rtp_session_set_reuseaddr(rs, FALSE);
	if (rtp_session_set_local_addr(rs, m->ip, (int)port, (int)port + 1) < 0)
		goto fail;
	l->fd = rtp_session_get_rtp_socket(rs);     /* before leg_filter: it answers from l->fd */
	if (leg_filter(l) < 0)
		goto fail;
	rtp_session_signal_connect(rs, "telephone-event_packet", leg_on_tev, l);
	rtp_session_signal_connect(rs, "ssrc_changed", leg_on_ssrc_changed, l);
	l->codec = MEDIA_PCMU;
	l->mode = LEG_SILENCE;
	l->item = -1;
	jitter_reset(&l->jb);
	return l;
fail:
	if (l->rs)
		rtp_session_destroy(l->rs);
	if (l->profile)
		rtp_profile_destroy(l->profile);
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
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	rtp_session_destroy(l->rs);
	rtp_profile_destroy(l->profile);
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
	free(l);
}

int leg_set_remote(struct media *m, struct leg *l, const char *ip, unsigned port,
                   enum media_codec codec, int dtmf_pt)
{
	struct in6_addr addr;
	if (!leg_parse_addr(ip, &addr) ||
	    rtp_session_set_remote_addr_and_port(l->rs, ip, (int)port, (int)port + 1) < 0) {
		log_error("media", "leg %u: bad remote %s:%u", l->id, ip, port);
		return -1;
	}
	leg_allow(l, ALLOW_SDP, &addr);
	if (l->dtmf_pt > 0)
		rtp_profile_clear_payload(l->profile, l->dtmf_pt);
	l->dtmf_pt = dtmf_pt > 0 && dtmf_pt < 128 && dtmf_pt != MEDIA_PCMU && dtmf_pt != MEDIA_PCMA
	             ? dtmf_pt : 0;
	if (l->dtmf_pt)
		rtp_profile_set_payload(l->profile, l->dtmf_pt, &payload_type_telephone_event);
	rtp_session_set_send_profile(l->rs, l->profile);   /* refreshes oRTP's telephone-event PT */
	rtp_session_set_send_payload_type(l->rs, codec);
	l->codec = codec;
	l->has_remote = true;
	l->last_rx_ns = m->now_ns;
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

static void leg_packet(struct media *m, struct leg *l, mblk_t *mp)
{
	unsigned char *pl;
	int n = rtp_get_payload(mp, &pl);
	int pt = rtp_get_payload_type(mp);
	if (n <= 0 || (pt != MEDIA_PCMU && pt != MEDIA_PCMA)) {
		m->run.rx_ignored++;
		return;
	}
	if (!l->br && !l->rec)
		return;                  /* nobody listens: skip decoding */
	int16_t pcm[JITTER_SAMPLES / 2];
	unsigned len = (unsigned)n < JITTER_SAMPLES / 2 ? (unsigned)n : JITTER_SAMPLES / 2;
	g711_decode(pt == MEDIA_PCMA, pl, pcm, len);
	uint64_t late = l->jb.late;
	jitter_put(&l->jb, rtp_get_timestamp(mp), pcm, len, (uint32_t)(m->now_ns / 125000));
	m->run.jitter_late += l->jb.late - late;
}

void leg_receive(struct media *m, struct leg *l)
{
	uint64_t before = m->run.rx_packets;
	for (;;) {
		l->tev_hit = false;
		mblk_t *mp = rtp_session_recvm_with_ts(l->rs, l->rx_ts);
		if (mp) {
			leg_packet(m, l, mp);
			freemsg(mp);
		} else if (!l->tev_hit) {
			break;
		}
		m->run.rx_packets++;
	}
	if (m->run.rx_packets != before)
		l->last_rx_ns = m->now_ns;
	l->rx_ts += MEDIA_FRAME;   /* oRTP skips the socket when asked twice for one timestamp */
}

void leg_check_timeout(struct media *m, struct leg *l)
{
	unsigned limit_s = l->quiet ? m->rtp_quiet_timeout_s : m->rtp_timeout_s;
	if (!limit_s || !l->has_remote || l->timed_out)
		return;
	if (m->now_ns - l->last_rx_ns >= (int64_t)limit_s * 1000000000L) {
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

/* Audio out of the jitter buffer, once per tick, for legs someone hears or
 * records; all legs pull before any sends so every mix sees the same tick. */
void leg_pull(struct leg *l)
{
	if (l->br || l->rec)
		jitter_get(&l->jb, l->said);
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
		src[i] = l->hear[i]->said;
	mix_sum(pcm, src, l->nhear, MEDIA_FRAME);
	g711_encode(l->codec == MEDIA_PCMA, pcm, out, MEDIA_FRAME);
}

void leg_send(struct media *m, struct leg *l)
{
	static const struct leg_seg quiet;
	uint8_t frame[MEDIA_FRAME];
	switch (l->mode) {
	case LEG_HOLD:
		leg_fill_hold(m, l, frame);
		break;
	case LEG_PLAY:
		leg_fill_play(m, l, frame);
		break;
	case LEG_BRIDGE:
		leg_fill_bridge(m, l, frame);
		break;
	case LEG_SILENCE:
		leg_copy(l, &quiet, frame, MEDIA_FRAME);
		break;
	}
	if (!l->has_remote)
		return;
	/* oRTP frees the packet once sent: one small allocation per frame. */
	mblk_t *mp = rtp_session_create_packet(l->rs, RTP_FIXED_HEADER_SIZE, frame, MEDIA_FRAME);
	if (!mp)
		return;
	if (l->sent)
		l->tx_ts += MEDIA_FRAME * m->steps;   /* a late tick jumps ahead, never bursts */
	l->sent = true;
	rtp_session_sendm_with_ts(l->rs, mp, l->tx_ts);
	m->run.tx_packets++;
}

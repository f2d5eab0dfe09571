/* media.c — the API of media.h on the caller's side: legs are validated and
 * turned into commands under m->lock; the media thread applies them at the
 * start of its next tick (media_apply_commands). Events travel the other way
 * through a ring guarded by the same lock, with an eventfd that is readable
 * exactly while the ring is not empty.
 */
#include "media/media_int.h"

#include "core/log.h"
#include "media/srtp.h"

#include <errno.h>
#include <ortp/ortp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static struct slot *media_slot(struct media *m, media_leg id)
{
	unsigned idx = (id & 0xFFFF) - 1;
	if (!id || idx >= m->nslots || m->slots[idx].state != SLOT_LIVE || m->slots[idx].id != id)
		return NULL;
	return &m->slots[idx];
}

/* Queues c if c->id names a live leg; the caller thread may allocate here. */
static int media_push(struct media *m, const struct cmd *c)
{
	int rc = -1;
	pthread_mutex_lock(&m->lock);
	if (c->kind != CMD_RECORD_STOP && !media_slot(m, c->id))
		goto out;
	if (m->pending.n == m->pending.cap) {
		size_t cap = m->pending.cap ? m->pending.cap * 2 : 16;
		struct cmd *v = realloc(m->pending.v, cap * sizeof *v);
		if (!v)
			goto out;
		m->pending.v = v;
		m->pending.cap = cap;
	}
	m->pending.v[m->pending.n++] = *c;
	rc = 0;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* oRTP's own messages, errors only, at most one a second: it may complain
 * once per packet (a dead peer) and once per busy port while we scan. */
static void media_ortp_log(const char *domain, OrtpLogLevel lev, const char *fmt, va_list ap)
{
	static atomic_llong last_s = -1;
	(void)domain;
	if (!(lev & (ORTP_ERROR | ORTP_FATAL)))
		return;
	long long now_s = media_now_ns() / 1000000000L;
	if (atomic_exchange(&last_s, now_s) == now_s)
		return;
	char line[256];
	vsnprintf(line, sizeof line, fmt, ap);
	log_warn("ortp", "%s", line);
}

static int media_fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

static int media_setup(struct media *m, const struct media_conf *conf, char *err, size_t errlen)
{
	if (!conf->ip || !conf->media_dir)
		return media_fail(err, errlen, "media: ip and media_dir are required");
	m->port_min = (conf->port_min + 1) & ~1u;
	m->port_max = conf->port_max;
	if (m->port_min < 1024 || m->port_max > 65534 || m->port_min > m->port_max)
		return media_fail(err, errlen, "media: RTP port range must hold an even port in 1024..65534");
	m->rtp_timeout_s = conf->rtp_timeout_s;
	m->rtp_quiet_timeout_s = conf->rtp_quiet_timeout_s;
	m->nports = m->nslots = (m->port_max - m->port_min) / 2 + 1;
	if (m->nslots > MEDIA_MAX_SLOTS)
		m->nslots = MEDIA_MAX_SLOTS;
	m->ip = strdup(conf->ip);
	m->media_dir = strdup(conf->media_dir);
	m->slots = calloc(m->nslots, sizeof *m->slots);
	m->active = calloc(m->nslots, sizeof *m->active);
	m->epev = calloc(m->nslots, sizeof *m->epev);
	m->port_busy = calloc(m->nports, 1);
	m->recv_profile = rtp_profile_new("callq-recv");
	if (!m->ip || !m->media_dir || !m->slots || !m->active || !m->epev || !m->port_busy ||
	    !m->recv_profile)
		return media_fail(err, errlen, "media: out of memory");
	rtp_profile_set_payload(m->recv_profile, MEDIA_PCMU, &payload_type_pcmu8000);
	rtp_profile_set_payload(m->recv_profile, MEDIA_PCMA, &payload_type_pcma8000);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->epfd < 0 || m->evfd < 0) {
		snprintf(err, errlen, "media: %s", strerror(errno));
		return -1;
	}
	m->clips = clips_load(m->media_dir, err, errlen);
	if (!m->clips)
		return -1;
	m->recorder = recorder_new(media_emit_event, m);
	return m->recorder ? 0 : media_fail(err, errlen, "media: cannot start the recording writer");
}

media_t *media_new(const struct media_conf *conf, char *err, size_t errlen)
{
	struct media *m = calloc(1, sizeof *m);
	if (!m) {
		media_fail(err, errlen, "media: out of memory");
		return NULL;
	}
	m->epfd = m->evfd = -1;
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->stop, false);
	atomic_init(&m->next_record, 0);
	atomic_init(&m->bound, 0);
	atomic_init(&m->port_log_s, 0);
	ortp_init();
	ortp_set_log_handler(media_ortp_log);
	if (media_setup(m, conf, err, errlen) < 0) {
		media_free(m);
		return NULL;
	}
	return m;
}

int media_start(media_t *m)
{
	if (m->started)
		return 0;
	int rc = pthread_create(&m->thread, NULL, tick_main, m);
	if (rc) {
		log_error("media", "cannot start the media thread: %s", strerror(rc));
		return -1;
	}
	m->started = true;
	return 0;
}

void media_free(media_t *m)
{
	if (!m)
		return;
	if (m->started) {
		atomic_store(&m->stop, true);
		pthread_join(m->thread, NULL);
	}
	media_apply_commands(m);           /* adopts legs created but never seen by the thread */
	while (m->nactive)
		leg_destroy(m, m->active[--m->nactive]);
	free(m->pending.v);
	free(m->work.v);
	free(m->slots);
	free(m->active);
	free(m->epev);
	free(m->port_busy);
	recorder_free(m->recorder);        /* after the legs: they finish their recordings */
	clips_free(m->clips);
	if (m->recv_profile)
		rtp_profile_destroy(m->recv_profile);
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->evfd >= 0)
		close(m->evfd);
	free(m->ip);
	free(m->media_dir);
	pthread_mutex_destroy(&m->lock);
	free(m);
	ortp_exit();
}

media_leg media_leg_new(media_t *m, unsigned *port)
{
	struct leg *l = leg_new(m, port);
	if (!l)
		return 0;
	struct slot *s = NULL;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nslots && !s; i++) {
		if (m->slots[i].state != SLOT_FREE)
			continue;
		s = &m->slots[i];
		s->state = SLOT_LIVE;
		s->gen++;
		s->id = l->id = ((media_leg)s->gen << 16) | (i + 1);
		l->slot = i;
	}
	pthread_mutex_unlock(&m->lock);
	struct cmd c = { .kind = CMD_ADD, .id = l->id, .u.leg = l };
	if (s && media_push(m, &c) == 0)
		return c.id;                   /* l belongs to the media thread now */
	if (s) {
		pthread_mutex_lock(&m->lock);
		s->state = SLOT_FREE;
		pthread_mutex_unlock(&m->lock);
	}
	log_error("media", "cannot add a leg on port %u", *port);
	leg_destroy(m, l);
	return 0;
}

int media_leg_remote(media_t *m, media_leg leg, const char *ip, unsigned port,
                     enum media_codec codec, int dtmf_pt)
{
	struct in6_addr addr;
	struct cmd c = { .kind = CMD_REMOTE, .id = leg };
	if (!ip || strlen(ip) >= sizeof c.u.remote.ip || port == 0 || port > 65535 ||
	    (codec != MEDIA_PCMU && codec != MEDIA_PCMA) || !leg_parse_addr(ip, &addr))
		return -1;
	snprintf(c.u.remote.ip, sizeof c.u.remote.ip, "%s", ip);
	c.u.remote.port = port;
	c.u.remote.codec = codec;
	c.u.remote.dtmf_pt = dtmf_pt;
	return media_push(m, &c);
}

int media_leg_allow(media_t *m, media_leg leg, const char *ip)
{
	struct cmd c = { .kind = CMD_ALLOW, .id = leg };
	if (!ip || !leg_parse_addr(ip, &c.u.allow))
		return -1;
	return media_push(m, &c);
}

int media_leg_srtp(media_t *m, media_leg leg, enum media_srtp_suite suite, const uint8_t *tx,
                   const uint8_t *rx)
{
	struct cmd c = { .kind = CMD_SRTP, .id = leg };
	if (!(c.u.srtp = msrtp_new(suite, tx, rx)))
		return -1;
	if (media_push(m, &c) < 0) {
		msrtp_free(c.u.srtp);
		return -1;
	}
	return 0;
}

static bool media_lang_ok(const char *lang)
{
	size_t n = lang ? strlen(lang) : 0;
	if (n == 0 || n >= MEDIA_LANG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = lang[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static int media_push_hold(media_t *m, enum cmd_kind kind, media_leg leg, bool on,
                           const char *spec, const char *lang)
{
	char err[160];
	struct cmd *c = calloc(1, sizeof *c);   /* a program is a few KiB: keep it off the stack */
	if (!c)
		return -1;
	c->kind = kind;
	c->id = leg;
	c->u.hold.on = on;
	int rc = -1;
	if (!media_lang_ok(lang)) {
		log_warn("media", "leg %u: bad hold language", leg);
	} else if (holdloop_parse(spec, &c->u.hold.prog, err, sizeof err) < 0) {
		log_warn("media", "leg %u: %s", leg, err);
	} else {
		snprintf(c->u.hold.lang, sizeof c->u.hold.lang, "%s", lang);
		rc = media_push(m, c);
	}
	free(c);
	return rc;
}

int media_leg_hold(media_t *m, media_leg leg, const char *spec, const char *lang)
{
	return media_push_hold(m, CMD_HOLD, leg, true, spec, lang);
}

int media_bridge_hold(media_t *m, media_leg caller, bool on, const char *spec, const char *lang)
{
	return media_push_hold(m, CMD_BRIDGE_HOLD, caller, on, spec ? spec : "file:music.wav,repeat",
	                       lang);
}

int media_leg_announce(media_t *m, media_leg leg, unsigned position, unsigned wait_s)
{
	return media_leg_announce_callback(m, leg, position, wait_s, 0);
}

int media_leg_announce_callback(media_t *m, media_leg leg, unsigned position, unsigned wait_s,
                                char callback_key)
{
	struct cmd c = { .kind = CMD_ANNOUNCE, .id = leg };
	c.u.vars = (struct holdloop_vars){ .known = true, .position = position, .wait_s = wait_s,
	                                   .callback_key = callback_key };
	return media_push(m, &c);
}

int media_leg_play(media_t *m, media_leg leg, const char *file)
{
	struct cmd c = { .kind = CMD_PLAY, .id = leg };
	c.u.clip = file ? clips_get(m->clips, file) : NULL;
	if (!c.u.clip)
		log_warn("media", "leg %u: no clip %s, reporting it played", leg, file ? file : "(null)");
	if (media_push(m, &c) == 0)
		return 0;
	clips_put(c.u.clip);
	return -1;
}

static bool media_live(media_t *m, media_leg leg)
{
	pthread_mutex_lock(&m->lock);
	bool ok = media_slot(m, leg) != NULL;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

int media_bridge(media_t *m, media_leg caller, media_leg agent)
{
	struct cmd c = { .kind = CMD_BRIDGE, .id = caller, .u.peer = agent };
	return caller != agent && media_live(m, agent) ? media_push(m, &c) : -1;
}

static bool media_spy_mode_ok(enum media_spy_mode mode)
{
	return mode == MEDIA_LISTEN || mode == MEDIA_WHISPER || mode == MEDIA_BARGE;
}

int media_spy(media_t *m, media_leg listener, media_leg caller, media_leg agent,
              enum media_spy_mode mode)
{
	struct cmd c = { .kind = CMD_SPY, .id = listener,
	                 .u.spy = { .caller = caller, .agent = agent, .mode = mode } };
	if (!media_spy_mode_ok(mode) || listener == caller || listener == agent || caller == agent ||
	    !media_live(m, caller) || !media_live(m, agent))
		return -1;
	return media_push(m, &c);
}

int media_spy_mode(media_t *m, media_leg listener, enum media_spy_mode mode)
{
	struct cmd c = { .kind = CMD_SPY_MODE, .id = listener, .u.spy.mode = mode };
	return media_spy_mode_ok(mode) ? media_push(m, &c) : -1;
}

bool media_spy_mode_parse(const char *name, enum media_spy_mode *mode)
{
	static const char *const names[] = { "listen", "whisper", "barge" };
	for (int i = 0; i < 3; i++) {
		if (name && !strcmp(name, names[i])) {
			*mode = (enum media_spy_mode)i;
			return true;
		}
	}
	return false;
}

/* Hands a new recording to the media thread; 0 if it cannot. */
static uint32_t media_push_record(media_t *m, enum cmd_kind kind, media_leg leg, media_leg agent,
                                  const char *path, unsigned max_s)
{
	uint32_t id = atomic_fetch_add(&m->next_record, 1) + 1;
	if (!id)
		id = atomic_fetch_add(&m->next_record, 1) + 1;   /* 0 means error: skip it on wrap */
	if (!media_live(m, leg) || (agent && !media_live(m, agent)))
		return 0;
	struct rec *r = rec_new(m->recorder, id, leg, path, kind == CMD_RECORD ? 2 : 1, max_s);
	if (!r)
		return 0;
	struct cmd c = { .kind = kind, .id = leg, .u.record = { .rec = r, .agent = agent } };
	if (media_push(m, &c) == 0)
		return id;
	rec_abort(m->recorder, r, "the leg is gone");
	return 0;
}

uint32_t media_record_start(media_t *m, media_leg caller, media_leg agent,
                            const char *path, unsigned max_s)
{
	if (!agent || caller == agent)
		return 0;
	return media_push_record(m, CMD_RECORD, caller, agent, path, max_s);
}

uint32_t media_leg_record(media_t *m, media_leg leg, const char *path, unsigned max_s)
{
	return media_push_record(m, CMD_LEG_RECORD, leg, 0, path, max_s);
}

/* The only command not aimed at a leg: the media thread finds it by id. */
int media_record_stop(media_t *m, uint32_t record)
{
	struct cmd c = { .kind = CMD_RECORD_STOP, .u.record_id = record };
	return record ? media_push(m, &c) : -1;
}

int media_reload(media_t *m, const char *relpath, char *err, size_t errlen)
{
	return clips_reload(m->clips, relpath, err, errlen);
}

int media_leg_silence(media_t *m, media_leg leg)
{
	struct cmd c = { .kind = CMD_SILENCE, .id = leg };
	return media_push(m, &c);
}

int media_leg_quiet(media_t *m, media_leg leg, bool quiet)
{
	struct cmd c = { .kind = CMD_QUIET, .id = leg, .u.quiet = quiet };
	return media_push(m, &c);
}

void media_leg_free(media_t *m, media_leg leg)
{
	struct cmd c = { .kind = CMD_FREE, .id = leg };
	if (media_push(m, &c) < 0)
		return;
	pthread_mutex_lock(&m->lock);
	m->slots[(leg & 0xFFFF) - 1].state = SLOT_DYING;   /* later commands naming it fail */
	pthread_mutex_unlock(&m->lock);
}

bool media_hold_valid(const char *spec, char *err, size_t errlen)
{
	if (spec && strstr(spec, "://")) {
		media_fail(err, errlen, "stream URLs are not supported: import the file with media.import");
		return false;
	}
	struct holdloop *p = malloc(sizeof *p);
	if (!p) {
		media_fail(err, errlen, "out of memory");
		return false;
	}
	bool ok = holdloop_parse(spec, p, err, errlen) == 0;
	free(p);
	return ok;
}

/* ---- media thread side ---- */

static struct leg *media_leg_of(struct media *m, media_leg id)
{
	unsigned idx = (id & 0xFFFF) - 1;
	if (!id || idx >= m->nslots)
		return NULL;
	struct leg *l = m->slots[idx].leg;
	return l && l->id == id ? l : NULL;
}

static void media_adopt(struct media *m, struct leg *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = l->slot };
	m->slots[l->slot].leg = l;
	l->active_idx = m->nactive;
	m->active[m->nactive++] = l;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0)
		log_error("media", "leg %u: epoll: %s", l->id, strerror(errno));
}

static void media_drop(struct media *m, struct leg *l)
{
	struct leg *last = m->active[--m->nactive];
	m->active[l->active_idx] = last;
	last->active_idx = l->active_idx;
	m->slots[l->slot].leg = NULL;
	unsigned slot = l->slot;
	leg_destroy(m, l);
	pthread_mutex_lock(&m->lock);
	m->slots[slot].state = SLOT_FREE;
	pthread_mutex_unlock(&m->lock);
}

/* A command whose leg died first still owns what it carries. */
static void media_orphan(struct media *m, const struct cmd *c)
{
	if (c->kind == CMD_PLAY)
		clips_put(c->u.clip);
	else if (c->kind == CMD_RECORD || c->kind == CMD_LEG_RECORD)
		rec_abort(m->recorder, c->u.record.rec, "the leg is gone");
	else if (c->kind == CMD_SRTP)
		msrtp_free(c->u.srtp);
}

static void media_apply(struct media *m, const struct cmd *c)
{
	if (c->kind == CMD_RECORD_STOP) {
		bridge_record_stop(m, c->u.record_id);
		return;
	}
	struct leg *l = c->kind == CMD_ADD ? c->u.leg : media_leg_of(m, c->id), *peer, *other;
	if (!l) {
		media_orphan(m, c);
		return;
	}
	switch (c->kind) {
	case CMD_ADD:
		media_adopt(m, l);
		break;
	case CMD_FREE:
		media_drop(m, l);
		break;
	case CMD_REMOTE:
		leg_set_remote(m, l, c->u.remote.ip, c->u.remote.port, c->u.remote.codec,
		               c->u.remote.dtmf_pt);
		break;
	case CMD_ALLOW:
		leg_allow(l, ALLOW_SIP, &c->u.allow);
		break;
	case CMD_SRTP:
		msrtp_carry(c->u.srtp, l->srtp);
		l->srtp = c->u.srtp;
		break;
	case CMD_HOLD:
		leg_hold(m, l, &c->u.hold.prog, c->u.hold.lang);
		break;
	case CMD_ANNOUNCE:
		l->vars = c->u.vars;
		break;
	case CMD_PLAY:
		leg_play(m, l, c->u.clip);
		break;
	case CMD_BRIDGE:
		if ((peer = media_leg_of(m, c->u.peer)) != NULL)
			bridge_join(m, l, peer);
		break;
	case CMD_SILENCE:
		leg_silence(m, l);
		break;
	case CMD_QUIET:
		/* The silence of a held phone is not a vanished phone (it gets
		 * the longer quiet limit); either way the count starts now. */
		l->quiet = c->u.quiet;
		l->last_rx_ns = m->now_ns;
		break;
	case CMD_BRIDGE_HOLD:
		bridge_hold(l, c->u.hold.on, &c->u.hold.prog, c->u.hold.lang);
		break;
	case CMD_SPY:
		peer = media_leg_of(m, c->u.spy.caller);
		other = media_leg_of(m, c->u.spy.agent);
		if (peer && other) {
			bridge_spy(m, l, peer, other, c->u.spy.mode);
		} else {
			leg_silence(m, l);
			media_emit(m, MEV_SPY_END, l->id, 0);
		}
		break;
	case CMD_SPY_MODE:
		bridge_spy_mode(l, c->u.spy.mode);
		break;
	case CMD_RECORD:
		if ((peer = media_leg_of(m, c->u.record.agent)) != NULL)
			bridge_record(m, l, peer, c->u.record.rec);
		else
			rec_abort(m->recorder, c->u.record.rec, "the agent leg is gone");
		break;
	case CMD_LEG_RECORD:
		bridge_leg_record(m, l, c->u.record.rec);
		break;
	case CMD_RECORD_STOP:
		break;
	}
}

void media_apply_commands(struct media *m)
{
	pthread_mutex_lock(&m->lock);
	struct cmd_vec t = m->work;
	m->work = m->pending;
	m->pending = t;
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < m->work.n; i++)
		media_apply(m, &m->work.v[i]);
	m->work.n = 0;
}

void media_emit(struct media *m, enum media_event_kind kind, media_leg leg, char digit)
{
	struct media_event ev = { .kind = kind, .leg = leg, .digit = digit };
	media_emit_event(m, &ev);
}

void media_emit_event(void *arg, const struct media_event *ev)
{
	struct media *m = arg;
	pthread_mutex_lock(&m->lock);
	if (m->ev_len == MEDIA_EVENTS) {
		m->run.events_dropped++;
	} else {
		m->events[(m->ev_head + m->ev_len++) % MEDIA_EVENTS] = *ev;
		uint64_t one = 1;
		ssize_t w = write(m->evfd, &one, sizeof one);
		(void)w;                        /* only fails if the counter is saturated: still readable */
	}
	pthread_mutex_unlock(&m->lock);
}

void media_publish_stats(struct media *m)
{
	m->run.legs = m->nactive;
	pthread_mutex_lock(&m->lock);
	m->stats = m->run;
	pthread_mutex_unlock(&m->lock);
}

/* ---- events and stats, any thread ---- */

int media_event_fd(const media_t *m)
{
	return m->evfd;
}

bool media_next_event(media_t *m, struct media_event *out)
{
	bool got = false;
	pthread_mutex_lock(&m->lock);
	if (m->ev_len) {
		*out = m->events[m->ev_head];
		m->ev_head = (m->ev_head + 1) % MEDIA_EVENTS;
		m->ev_len--;
		got = true;
	}
	if (!m->ev_len) {
		uint64_t v;
		ssize_t r = read(m->evfd, &v, sizeof v);   /* EAGAIN when already clear */
		(void)r;
	}
	pthread_mutex_unlock(&m->lock);
	return got;
}

void media_stats(media_t *m, struct media_stats *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->stats;
	pthread_mutex_unlock(&m->lock);
}

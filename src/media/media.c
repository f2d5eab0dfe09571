/* media.c — the API of media.h on the caller's side: legs are validated and
 * turned into commands under m->lock, queued for the media thread the leg is
 * bound for; that thread applies them at the start of its next tick
 * (media_apply_commands). A new leg goes to the thread of the leg it will be
 * bridged to (media_leg_new_near), else to the thread with the fewest legs;
 * bridging or spying on legs of two threads moves the other leg to the
 * caller's thread first (media_move), so a bridge lives on one thread. Events
 * travel the other way through a ring guarded by the same lock, with an
 * eventfd that is readable exactly while the ring is not empty.
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
#include <sys/timerfd.h>
#include <unistd.h>

#define MEDIA_EPOLL_EVENTS 256           /* as tick.c takes them */

/* The slot of leg id while the leg exists (live, or freed but not yet
 * destroyed by its thread); under m->lock. */
static struct slot *media_slot_held(struct media *m, media_leg id)
{
	unsigned idx = (id & 0xFFFF) - 1;
	if (!id || idx >= m->nslots || m->slots[idx].state == SLOT_FREE || m->slots[idx].id != id)
		return NULL;
	return &m->slots[idx];
}

/* The slot of a live leg (not freed); under m->lock. */
static struct slot *media_slot(struct media *m, media_leg id)
{
	struct slot *s = media_slot_held(m, id);
	return s && s->state == SLOT_LIVE ? s : NULL;
}

/* Room for `more` commands in v; -1 if it cannot grow. */
static int media_reserve(struct cmd_vec *v, size_t more)
{
	if (v->n + more <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap * 2 : 16;
	while (cap < v->n + more)
		cap *= 2;
	struct cmd *nv = realloc(v->v, cap * sizeof *nv);
	if (!nv)
		return -1;
	v->v = nv;
	v->cap = cap;
	return 0;
}

static int media_append(struct cmd_vec *v, const struct cmd *c)
{
	if (media_reserve(v, 1) < 0)
		return -1;
	v->v[v->n++] = *c;
	return 0;
}

/* Under m->lock: leg `id` will live on thread `to`. Its current thread gets
 * CMD_MOVE behind whatever it still has for the leg; commands from now on go
 * to `to`, which parks them until the leg arrives. */
static int media_move(struct media *m, media_leg id, unsigned to)
{
	struct slot *s = media_slot(m, id);
	if (!s || s->th == to)
		return 0;
	struct cmd mv = { .kind = CMD_MOVE, .id = id, .u.to = to };
	if (media_append(&m->th[s->th].pending, &mv) < 0)
		return -1;
	m->th[s->th].load--;
	m->th[to].load++;
	s->th = to;
	s->coming[to]++;
	return 0;
}

/* The leg whose thread a command runs on: for a bridge the caller, for a spy
 * the spied caller; the other legs it names are moved there. */
static media_leg media_anchor(const struct cmd *c)
{
	return c->kind == CMD_SPY ? c->u.spy.caller : c->id;
}

/* Queues c for the thread its legs live on if c->id names a live leg; the
 * caller thread may allocate here. */
static int media_push(struct media *m, const struct cmd *c)
{
	int rc = -1;
	pthread_mutex_lock(&m->lock);
	if (c->kind == CMD_RECORD_STOP) {            /* not aimed at a leg: every thread looks */
		for (unsigned i = 0; i < m->nthreads; i++)
			if (media_reserve(&m->th[i].pending, 1) < 0)
				goto out;
		for (unsigned i = 0; i < m->nthreads; i++)
			media_append(&m->th[i].pending, c);
		rc = 0;
		goto out;
	}
	struct slot *s = media_slot(m, c->id), *anchor = media_slot(m, media_anchor(c));
	if (!s || !anchor)
		goto out;
	unsigned to = anchor->th;
	if (media_reserve(&m->th[to].pending, 1) < 0)
		goto out;
	if (c->kind == CMD_BRIDGE && media_move(m, c->u.peer, to) < 0)
		goto out;
	if (c->kind == CMD_SPY && media_move(m, c->id, to) < 0)
		goto out;
	media_append(&m->th[to].pending, c);
	if (c->kind == CMD_FREE)
		m->th[s->th].load--;
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

static int media_thread_setup(struct media *m, unsigned idx)
{
	struct mthread *t = &m->th[idx];
	t->m = m;
	t->idx = idx;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->active = calloc(m->nslots, sizeof *t->active);
	t->legs = calloc(m->nslots, sizeof *t->legs);
	t->epev = calloc(MEDIA_EPOLL_EVENTS, sizeof *t->epev);
	if (t->epfd < 0 || t->timerfd < 0 || !t->active || !t->legs || !t->epev)
		return -1;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };   /* NULL: the tick */
	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->timerfd, &ev);
}

static void media_thread_free(struct mthread *t)
{
	free(t->pending.v);
	free(t->work.v);
	free(t->parked.v);
	free(t->active);
	free(t->legs);
	free(t->epev);
	if (t->epfd > 0)
		close(t->epfd);
	if (t->timerfd > 0)
		close(t->timerfd);
}

/* media_threads: given, else one per CPU but one, which the SIP thread needs
 * for itself (with a media thread on every core, bursts of sends leave it no
 * core at all at times and call set-up stalls under a high call rate); at
 * least one, at most MEDIA_MAX_THREADS. */
static unsigned media_nthreads(unsigned want)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = want ? want : cpus > 2 ? (unsigned)cpus - 1 : 1;
	return n > MEDIA_MAX_THREADS ? MEDIA_MAX_THREADS : n;
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
	m->port_busy = calloc(m->nports, 1);
	if (!m->ip || !m->media_dir || !m->slots || !m->port_busy)
		return media_fail(err, errlen, "media: out of memory");
	m->nthreads = media_nthreads(conf->threads);
	for (unsigned i = 0; i < m->nthreads; i++) {
		if (media_thread_setup(m, i) < 0) {
			snprintf(err, errlen, "media: thread %u: %s", i, strerror(errno));
			return -1;
		}
	}
	m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->evfd < 0) {
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
	m->evfd = -1;
	for (unsigned i = 0; i < MEDIA_MAX_THREADS; i++)
		m->th[i].epfd = m->th[i].timerfd = -1;
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
	if (m->nstarted)
		return 0;
	for (unsigned i = 0; i < m->nthreads; i++) {
		struct mthread *t = &m->th[i];
		int rc = pthread_create(&t->thread, NULL, tick_main, t);
		if (rc) {
			log_error("media", "cannot start media thread %u: %s", i, strerror(rc));
			return -1;
		}
		char name[16];
		snprintf(name, sizeof name, "media%u", i);
		pthread_setname_np(t->thread, name);
		m->nstarted++;
	}
	return 0;
}

static void media_orphan(struct media *m, const struct cmd *c);

/* After the threads stopped: apply what is queued until nothing moves
 * (legs in transit arrive), then destroy every leg. */
static void media_drain(struct media *m)
{
	for (unsigned round = 0; round < 4; round++)
		for (unsigned i = 0; i < m->nthreads; i++)
			media_apply_commands(&m->th[i]);
	for (unsigned i = 0; i < m->nthreads; i++) {
		struct mthread *t = &m->th[i];
		for (size_t k = 0; k < t->parked.n; k++)
			media_orphan(m, &t->parked.v[k]);
		t->parked.n = 0;
		while (t->nactive)
			leg_destroy(m, t->active[--t->nactive]);
	}
}

void media_free(media_t *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	for (unsigned i = 0; i < m->nstarted; i++)
		pthread_join(m->th[i].thread, NULL);
	if (m->nthreads)
		media_drain(m);                /* adopts legs created but never seen by a thread */
	for (unsigned i = 0; i < m->nthreads; i++)
		media_thread_free(&m->th[i]);
	free(m->slots);
	free(m->port_busy);
	recorder_free(m->recorder);        /* after the legs: they finish their recordings */
	clips_free(m->clips);
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
	return media_leg_new_near(m, port, 0);
}

/* Under m->lock: the thread for a new leg, near's if it is alive, else the
 * one with the fewest legs. */
static unsigned media_place(struct media *m, media_leg near)
{
	const struct slot *n = media_slot(m, near);
	if (n)
		return n->th;
	unsigned th = 0;
	for (unsigned k = 1; k < m->nthreads; k++)
		if (m->th[k].load < m->th[th].load)
			th = k;
	return th;
}

media_leg media_leg_new_near(media_t *m, unsigned *port, media_leg near)
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
		memset(s->coming, 0, sizeof s->coming);
		s->th = media_place(m, near);
		m->th[s->th].load++;
		l->slot = i;
	}
	pthread_mutex_unlock(&m->lock);
	struct cmd c = { .kind = CMD_ADD, .id = l->id, .u.leg = l };
	if (s && media_push(m, &c) == 0)
		return c.id;                   /* l belongs to its media thread now */
	if (s) {
		pthread_mutex_lock(&m->lock);
		s->state = SLOT_FREE;
		m->th[s->th].load--;
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

static struct leg *media_leg_of(struct mthread *t, media_leg id)
{
	unsigned idx = (id & 0xFFFF) - 1;
	if (!id || idx >= t->m->nslots)
		return NULL;
	struct leg *l = t->legs[idx];
	return l && l->id == id ? l : NULL;
}

/* Takes l into t: its socket into t's epoll set, t's tick sends for it. */
static void media_adopt(struct mthread *t, struct leg *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
	l->th = t;
	t->legs[l->slot] = l;
	l->active_idx = t->nactive;
	t->active[t->nactive++] = l;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0)
		log_error("media", "leg %u: epoll: %s", l->id, strerror(errno));
}

/* Takes l out of t (to destroy it or hand it to another thread). */
static void media_detach(struct mthread *t, struct leg *l)
{
	struct leg *last = t->active[--t->nactive];
	t->active[l->active_idx] = last;
	last->active_idx = l->active_idx;
	t->legs[l->slot] = NULL;
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	l->th = NULL;
}

static void media_drop(struct mthread *t, struct leg *l)
{
	struct media *m = t->m;
	unsigned slot = l->slot;
	media_detach(t, l);
	leg_destroy(m, l);
	pthread_mutex_lock(&m->lock);
	m->slots[slot].state = SLOT_FREE;
	pthread_mutex_unlock(&m->lock);
}

/* CMD_MOVE: l leaves any bridge here (the command that moves it would end
 * it anyway) and travels to thread `to` with what it plays or records. */
static void media_send_away(struct mthread *t, struct leg *l, unsigned to)
{
	struct media *m = t->m;
	bridge_leave(m, l);
	media_detach(t, l);
	struct cmd c = { .kind = CMD_ADOPT, .id = l->id, .u.leg = l };
	pthread_mutex_lock(&m->lock);
	if (media_append(&m->th[to].pending, &c) < 0)
		log_error("media", "leg %u: cannot move it: out of memory", l->id);
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

static void media_apply(struct mthread *t, const struct cmd *c)
{
	struct media *m = t->m;
	if (c->kind == CMD_RECORD_STOP) {
		bridge_record_stop(t, c->u.record_id);
		return;
	}
	struct leg *l = c->kind == CMD_ADD || c->kind == CMD_ADOPT ? c->u.leg : media_leg_of(t, c->id);
	struct leg *peer, *other;
	if (!l) {
		media_orphan(m, c);
		return;
	}
	switch (c->kind) {
	case CMD_ADD:
		media_adopt(t, l);
		break;
	case CMD_ADOPT:
		media_adopt(t, l);
		pthread_mutex_lock(&m->lock);
		if (m->slots[l->slot].coming[t->idx])
			m->slots[l->slot].coming[t->idx]--;
		pthread_mutex_unlock(&m->lock);
		break;
	case CMD_MOVE:
		media_send_away(t, l, c->u.to);
		break;
	case CMD_FREE:
		media_drop(t, l);
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
		if ((peer = media_leg_of(t, c->u.peer)) != NULL)
			bridge_join(m, l, peer);
		break;
	case CMD_SILENCE:
		leg_silence(m, l);
		break;
	case CMD_QUIET:
		/* The silence of a held phone is not a vanished phone (it gets
		 * the longer quiet limit); either way the count starts now. */
		l->quiet = c->u.quiet;
		l->last_rx_ns = t->now_ns;
		break;
	case CMD_BRIDGE_HOLD:
		bridge_hold(l, c->u.hold.on, &c->u.hold.prog, c->u.hold.lang);
		break;
	case CMD_SPY:
		peer = media_leg_of(t, c->u.spy.caller);
		other = media_leg_of(t, c->u.spy.agent);
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
		if ((peer = media_leg_of(t, c->u.record.agent)) != NULL)
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

/* True if leg `id` is on its way to t (moved here, not yet adopted), live
 * or already freed: its commands wait for it either way. */
static bool media_coming(struct mthread *t, media_leg id)
{
	struct media *m = t->m;
	if (media_leg_of(t, id))
		return false;
	pthread_mutex_lock(&m->lock);
	const struct slot *s = media_slot_held(m, id);
	bool coming = s && s->coming[t->idx];
	pthread_mutex_unlock(&m->lock);
	return coming;
}

/* The legs c names (at most three): *n of them into ids. */
static unsigned media_cmd_legs(const struct cmd *c, media_leg ids[3])
{
	unsigned n = 0;
	ids[n++] = c->id;
	if (c->kind == CMD_BRIDGE)
		ids[n++] = c->u.peer;
	else if (c->kind == CMD_SPY) {
		ids[n++] = c->u.spy.caller;
		ids[n++] = c->u.spy.agent;
	} else if (c->kind == CMD_RECORD)
		ids[n++] = c->u.record.agent;
	return n;
}

/* True if a command already parked names leg id. */
static bool media_parked_for(const struct mthread *t, media_leg id)
{
	media_leg ids[3];
	for (size_t i = 0; i < t->parked.n; i++) {
		unsigned n = media_cmd_legs(&t->parked.v[i], ids);
		for (unsigned k = 0; k < n; k++)
			if (ids[k] == id)
				return true;
	}
	return false;
}

/* A command waits while a leg it names is on its way here, or behind an
 * earlier command for one of its legs that waits: each leg's commands run in
 * order, and a command for other legs never waits for them. A recording stop
 * names no leg: it waits for anything parked (its recording may be). */
static bool media_must_wait(struct mthread *t, const struct cmd *c)
{
	if (c->kind == CMD_ADD || c->kind == CMD_ADOPT)
		return false;
	if (c->kind == CMD_RECORD_STOP)
		return t->parked.n > 0;
	media_leg ids[3];
	unsigned n = media_cmd_legs(c, ids);
	for (unsigned k = 0; k < n; k++)
		if (media_coming(t, ids[k]) || media_parked_for(t, ids[k]))
			return true;
	return false;
}

static void media_dispatch(struct mthread *t, const struct cmd *c);

/* A leg arrived: the commands that waited run, in order, those still
 * waiting park again behind what they wait for. */
static void media_unpark(struct mthread *t)
{
	struct cmd_vec p = t->parked;
	t->parked = (struct cmd_vec){ 0 };
	for (size_t i = 0; i < p.n; i++)
		media_dispatch(t, &p.v[i]);
	free(p.v);
}

/* Runs c, or parks it behind a leg still on its way. */
static void media_dispatch(struct mthread *t, const struct cmd *c)
{
	if (media_must_wait(t, c)) {
		if (media_append(&t->parked, c) < 0) {
			log_error("media", "leg %u: command lost: out of memory", c->id);
			media_orphan(t->m, c);
		}
		return;
	}
	media_apply(t, c);
	if (c->kind == CMD_ADOPT && t->parked.n)
		media_unpark(t);
}

void media_apply_commands(struct mthread *t)
{
	struct media *m = t->m;
	pthread_mutex_lock(&m->lock);
	struct cmd_vec w = t->work;
	t->work = t->pending;
	t->pending = w;
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < t->work.n; i++)
		media_dispatch(t, &t->work.v[i]);
	t->work.n = 0;
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
		m->events_dropped++;
	} else {
		m->events[(m->ev_head + m->ev_len++) % MEDIA_EVENTS] = *ev;
		uint64_t one = 1;
		ssize_t w = write(m->evfd, &one, sizeof one);
		(void)w;                        /* only fails if the counter is saturated: still readable */
	}
	pthread_mutex_unlock(&m->lock);
}

void media_publish_stats(struct mthread *t)
{
	t->run.legs = t->nactive;
	pthread_mutex_lock(&t->m->lock);
	t->stats = t->run;
	pthread_mutex_unlock(&t->m->lock);
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

/* The threads' counters added up (the worst of the maxima). */
void media_stats(media_t *m, struct media_stats *out)
{
	struct media_stats sum = { 0 };
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nthreads; i++) {
		const struct media_stats *s = &m->th[i].stats;
		sum.ticks += s->ticks;
		sum.late_ticks += s->late_ticks;
		sum.skipped_ticks += s->skipped_ticks;
		sum.max_late_us = s->max_late_us > sum.max_late_us ? s->max_late_us : sum.max_late_us;
		sum.max_work_us = s->max_work_us > sum.max_work_us ? s->max_work_us : sum.max_work_us;
		sum.rx_packets += s->rx_packets;
		sum.rx_ignored += s->rx_ignored;
		sum.rx_foreign += s->rx_foreign;
		sum.tx_packets += s->tx_packets;
		sum.tx_errors += s->tx_errors;
		sum.jitter_late += s->jitter_late;
		sum.legs += s->legs;
	}
	sum.events_dropped = m->events_dropped;
	pthread_mutex_unlock(&m->lock);
	*out = sum;
}

/* media_int.h — what media.c (the API, SIP thread side), leg.c (one RTP
 * session), bridge.c and tick.c (the media threads) share. Not for other
 * modules.
 *
 * Ownership: a struct leg is built on the caller's thread by media_leg_new,
 * handed to one media thread in a CMD_ADD command, and from then on touched
 * only by the thread that holds it until that thread destroys it on CMD_FREE.
 * A bridge's legs, its spy and its recordings live on one thread, so mixing
 * needs no lock. An agent's leg is made on its caller's thread
 * (media_leg_new_near), so a bridge seldom has to move anything; bridging or
 * spying on legs of two threads first moves the other leg over (media.c:
 * CMD_MOVE on its thread, CMD_ADOPT on the new one). Commands naming a leg on
 * its way wait there, parked with any later command for the same leg, and run
 * in order when it arrives; commands for other legs go on meanwhile, so moves
 * in both directions never hold a thread's work back. m->lock guards the command queues, the slot
 * table (which ids are alive, which thread a leg is bound for), the event
 * ring and the stats copies.
 */
#ifndef CALLQ_MEDIA_INT_H
#define CALLQ_MEDIA_INT_H

#include "media/clips.h"
#include "media/holdloop.h"
#include "media/jitter.h"
#include "media/media.h"
#include "media/mix.h"
#include "media/record.h"
#include "media/srtp.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define MEDIA_FRAME      160            /* samples per 20 ms at 8 kHz */
#define MEDIA_TICK_NS    20000000L
#define MEDIA_LATE_NS    1000000L       /* a tick later than this counts as late */
#define MEDIA_LANG_MAX   16
#define MEDIA_EVENTS     1024
#define MEDIA_MAX_SLOTS  65535          /* leg ids keep the slot in their low 16 bits */
#define MEDIA_MAX_THREADS 8
#define MEDIA_PKT_MAX    1500           /* largest RTP packet read or sent */

struct _RtpSession;
struct msrtp;
struct epoll_event;
struct mthread;

enum leg_mode { LEG_SILENCE, LEG_HOLD, LEG_PLAY, LEG_BRIDGE };

/* One piece of hold or prompt audio: a clip from `pos`, or silence. A clip
 * here holds a reference (clips_get), dropped when the segment is replaced. */
struct leg_seg {
	struct clip *clip;
	uint32_t len, pos;
};

enum leg_role { ROLE_CALLER, ROLE_AGENT, ROLE_LISTENER };

/* The addresses a leg takes packets from. */
enum leg_allow { ALLOW_SDP, ALLOW_SIP, ALLOW_N };

/* A caller-agent bridge and whoever spies on it. It lives inside the leg that
 * was `caller` in media_bridge (struct leg.bridge_store) and ends before
 * either member changes bridge or dies. Plain (no listener, not held): each
 * packet is relayed as it arrives (struct leg.relay_to). Mixed: the tick
 * sends every member its mix out of the jitter buffers. */
struct bridge {
	struct leg *caller, *agent, *listener;
	enum media_spy_mode mode;
	bool held;                         /* the agent holds the caller */
	bool mixed;                        /* a listener, or held: paced by the tick */
	struct rec *rec;
};

/* Audio a leg says, for legs someone mixes or records: allocated only then. */
struct leg_audio {
	struct jitter jb;
	int16_t said[MEDIA_FRAME];         /* this tick's frame out of the jitter buffer */
};

struct leg {
	struct media *m;
	struct mthread *th;                /* the media thread holding it (NULL until adopted) */
	media_leg id;
	unsigned slot, active_idx, port;
	struct _RtpSession *rs;
	int fd;

	/* Who may send: IPv4 kept mapped into IPv6 so a check is one compare.
	 * allow_lo: an allowed address is 127/8, so 127.0.0.1 is taken too. */
	struct in6_addr allow[ALLOW_N];
	bool allowed[ALLOW_N], allow_lo;
	uint64_t rx_foreign;               /* packets dropped from other addresses */
	struct msrtp *srtp;                /* SRTP keys (srtp.h), NULL: plain RTP */
	uint64_t rx_unauth;                /* SRTP packets that failed authentication */

	/* Where packets go: the SDP address, then the last allowed source heard. */
	struct sockaddr_storage dest;
	socklen_t dest_len;

	bool has_remote, timed_out, sent;
	bool quiet;                   /* the remote said it will not send: rtp_quiet_timeout */
	enum media_codec codec;
	int dtmf_pt;
	/* What we send: our own SSRC, sequence and timestamps, whatever we relay. */
	uint32_t ssrc, tx_ts;
	uint16_t seq;
	int64_t tx_ns, last_rx_ns;

	/* Relaying (plain bridge): packets from this leg go to relay_to at once,
	 * their timestamps moved by ts_off, fixed at the first packet of each
	 * source (SSRC) so the other side sees one steady stream. */
	struct leg *relay_to;
	bool anchored, filling;            /* filling: the tick sends silence (nothing to relay) */
	uint32_t rx_ssrc, ts_off;

	bool dtmf_seen;
	uint32_t dtmf_ts;                  /* RTP timestamp of the last reported event */

	enum leg_mode mode;
	struct bridge *br;                 /* LEG_BRIDGE: the bridge joined */
	enum leg_role role;
	struct leg *hear[MIX_MAX];         /* whose audio this leg is sent, mixed */
	unsigned nhear;
	struct bridge bridge_store;        /* used while this leg is a bridge's caller */

	struct rec *rec;                   /* mono recording of what the leg says */
	struct leg_audio *audio;           /* while mixed or recorded (leg_need_audio) */

	struct holdloop prog;
	struct holdloop_vars vars;
	char lang[MEDIA_LANG_MAX];
	int item;
	bool tail;
	struct leg_seg seg[HOLDLOOP_MAX_STEPS];
	unsigned nseg, cur;

	struct leg_seg play;
	bool play_done;
};

enum cmd_kind { CMD_ADD, CMD_FREE, CMD_REMOTE, CMD_HOLD, CMD_ANNOUNCE, CMD_PLAY,
                CMD_BRIDGE, CMD_SILENCE, CMD_BRIDGE_HOLD, CMD_SPY, CMD_SPY_MODE, CMD_RECORD,
                CMD_LEG_RECORD, CMD_RECORD_STOP, CMD_QUIET, CMD_ALLOW, CMD_SRTP, CMD_MOVE,
                CMD_ADOPT };

struct cmd {
	enum cmd_kind kind;
	media_leg id;
	union {
		struct leg *leg;                                            /* CMD_ADD, ADOPT */
		unsigned to;                                                /* CMD_MOVE: thread */
		struct { char ip[64]; unsigned port; enum media_codec codec; int dtmf_pt; } remote;
		struct in6_addr allow;                                      /* CMD_ALLOW */
		struct { struct holdloop prog; char lang[MEDIA_LANG_MAX]; bool on; } hold;  /* and BRIDGE_HOLD */
		struct holdloop_vars vars;                                  /* CMD_ANNOUNCE */
		struct clip *clip;                        /* CMD_PLAY, a reference; NULL = none */
		media_leg peer;                                             /* CMD_BRIDGE */
		struct { media_leg caller, agent; enum media_spy_mode mode; } spy;  /* and SPY_MODE */
		struct { struct rec *rec; media_leg agent; } record;        /* CMD_RECORD, LEG_RECORD */
		uint32_t record_id;                                         /* CMD_RECORD_STOP */
		bool quiet;                                                 /* CMD_QUIET */
		struct msrtp *srtp;                                         /* CMD_SRTP, owned */
	} u;
};

struct cmd_vec {
	struct cmd *v;
	size_t n, cap;
};

enum slot_state { SLOT_FREE, SLOT_LIVE, SLOT_DYING };

struct slot {
	enum slot_state state;
	uint16_t gen;
	media_leg id;
	unsigned th;                       /* the thread the leg is bound for */
	/* Moves of this leg on their way to each thread, not yet adopted there:
	 * a thread parks commands for a leg it expects, whatever became of the
	 * slot meanwhile (a leg freed in transit still arrives, then dies). A
	 * leg moved on before it arrived is expected at two threads at once. */
	uint8_t coming[MEDIA_MAX_THREADS];
};

/* One media thread: its own epoll set (RTP sockets and a timer for its 20 ms
 * tick), its legs, its commands, its counters. */
struct mthread {
	struct media *m;
	unsigned idx;
	pthread_t thread;
	bool started;
	int epfd, timerfd;
	unsigned load;                     /* legs bound here, under m->lock */
	struct cmd_vec pending;            /* under m->lock */
	struct cmd_vec work, parked;       /* this thread only */
	struct media_stats stats;          /* copy published under m->lock */

	/* this thread only */
	struct leg **legs;                 /* by slot: the legs held here */
	struct leg **active;
	unsigned nactive;
	struct media_stats run;
	struct epoll_event *epev;
	uint8_t rx[MEDIA_PKT_MAX];          /* the packet being read */
	uint8_t tx[MEDIA_PKT_MAX + MSRTP_TRAILER];   /* the packet being written, room for an SRTP tag */
	int64_t now_ns, deadline_ns;
	unsigned steps;                    /* periods since the previous tick: 1 unless late */
};

struct media {
	char *ip, *media_dir;
	unsigned port_min, port_max, nports, rtp_timeout_s, rtp_quiet_timeout_s;
	unsigned char *port_busy;          /* per even port, under lock: handed to a leg */
	atomic_uint bound;                 /* legs holding a port: leg_new fails fast when all do */
	atomic_llong port_log_s;           /* last "no free port" log, to say it once a second */
	struct clips *clips;
	struct recorder *recorder;
	atomic_uint next_record;
	int evfd;
	atomic_bool stop;
	unsigned nstarted;                 /* media threads running */
	uint64_t events_dropped;           /* under lock */

	pthread_mutex_t lock;
	struct slot *slots;
	unsigned nslots;
	struct media_event events[MEDIA_EVENTS];
	unsigned ev_head, ev_len;

	struct mthread th[MEDIA_MAX_THREADS];
	unsigned nthreads;
};

static inline int64_t media_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* media.c */
void media_emit(struct media *m, enum media_event_kind kind, media_leg leg, char digit);
void media_emit_event(void *m, const struct media_event *ev);
void media_apply_commands(struct mthread *t);
void media_publish_stats(struct mthread *t);

/* leg.c */
struct leg *leg_new(struct media *m, unsigned *port);
void leg_destroy(struct media *m, struct leg *l);
int leg_set_remote(struct media *m, struct leg *l, const char *ip, unsigned port,
                   enum media_codec codec, int dtmf_pt);
bool leg_parse_addr(const char *ip, struct in6_addr *out);   /* any thread */
void leg_allow(struct leg *l, enum leg_allow which, const struct in6_addr *addr);
void leg_program(struct leg *l, const struct holdloop *prog, const char *lang);
void leg_hold(struct media *m, struct leg *l, const struct holdloop *prog, const char *lang);
void leg_play(struct media *m, struct leg *l, struct clip *clip);
void leg_silence(struct media *m, struct leg *l);
void leg_receive(struct media *m, struct leg *l);
void leg_check_timeout(struct media *m, struct leg *l);
void leg_need_audio(struct leg *l);
void leg_pull(struct leg *l);
void leg_send(struct media *m, struct leg *l);
const int16_t *leg_said(const struct leg *l);

/* bridge.c */
void bridge_join(struct media *m, struct leg *caller, struct leg *agent);
void bridge_leave(struct media *m, struct leg *l);
void bridge_hold(struct leg *caller, bool on, const struct holdloop *prog, const char *lang);
void bridge_spy(struct media *m, struct leg *listener, struct leg *caller, struct leg *agent,
                enum media_spy_mode mode);
void bridge_spy_mode(struct leg *listener, enum media_spy_mode mode);
void bridge_record(struct media *m, struct leg *caller, struct leg *agent, struct rec *r);
void bridge_leg_record(struct media *m, struct leg *l, struct rec *r);
void bridge_record_stop(struct mthread *t, uint32_t id);
void bridge_record_tick(struct media *m, struct leg *l);

/* tick.c */
void *tick_main(void *arg);
int tick_arm(struct mthread *t);

#endif

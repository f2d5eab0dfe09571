/* media.h — the RTP engine: one RTP session per call leg, paced by its own tick.
 *
 * A dedicated media thread wakes every 20 ms on an absolute deadline
 * (clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME) — never the SIP loop. Each
 * tick it applies queued commands, reads whatever RTP arrived (sockets gated on
 * epoll readiness), and sends one 20 ms frame on every leg that has a remote
 * address: the next frame of its hold program, its bridged peer's audio
 * (transcoded PCMU<->PCMA when the codecs differ), a prompt, or silence.
 * When late it skips ahead (timestamps advance) instead of bursting.
 *
 * Nothing on the tick allocates, logs per packet, or touches disk or SQLite.
 * Audio files are decoded once at start (libsndfile) into shared 8 kHz buffers,
 * kept as linear, mu-law and A-law; all legs read the same memory.
 *
 * Threads: every media_* function below except the event functions may be
 * called from the SIP thread; commands reach the media thread through a short
 * mutex-protected queue. Events (DTMF, end of a prompt, RTP timeout) come back
 * through media_event_fd() — readable while events are pending — and
 * media_next_event(), both on the SIP thread.
 */
#ifndef CALLQ_MEDIA_H
#define CALLQ_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct media media_t;
typedef uint32_t media_leg;        /* 0 = none */

enum media_codec { MEDIA_PCMU = 0, MEDIA_PCMA = 8 };

struct media_conf {
	const char *ip;                /* local address for RTP, e.g. "127.0.0.1" */
	unsigned port_min, port_max;   /* even ports in this range are used */
	const char *media_dir;         /* holds music files and language folders (en/…) */
	unsigned rtp_timeout_s;        /* 0 = never; legs silent that long raise MEV_TIMEOUT */
};

media_t *media_new(const struct media_conf *conf, char *err, size_t errlen);
int media_start(media_t *m);       /* starts the media thread */
void media_free(media_t *m);       /* stops the thread, closes every leg */

/* A new leg bound to a free even port; *port receives it. Sends nothing until
 * media_leg_remote(). */
media_leg media_leg_new(media_t *m, unsigned *port);
/* Where to send, in which codec; dtmf_pt is the telephone-event payload type
 * (0 = none). May be called again (re-INVITE). */
int media_leg_remote(media_t *m, media_leg leg, const char *ip, unsigned port,
                     enum media_codec codec, int dtmf_pt);
/* Play the hold program `spec` (the queue's hold setting, e.g.
 * "position,pause:2,file:music.wav,wait,repeat") in language `lang`.
 * Unknown files are skipped; position/wait use the values set below. */
int media_leg_hold(media_t *m, media_leg leg, const char *spec, const char *lang);
/* Values announced by the hold program's `position` and `wait` items. */
int media_leg_announce(media_t *m, media_leg leg, unsigned position, unsigned wait_s);
/* Play one file (relative to media_dir, e.g. "en/ok.wav") then silence;
 * raises MEV_PLAYED when done (at once, with a warning, if there is no such
 * file). */
int media_leg_play(media_t *m, media_leg leg, const char *file);
/* Exchange audio between two legs (both directions). */
int media_bridge(media_t *m, media_leg a, media_leg b);
/* Stop whatever the leg does and send silence (agent leg while ringing, say). */
int media_leg_silence(media_t *m, media_leg leg);
/* Later calls naming a freed leg return -1; ids are not reused soon
 * (generation counter). Events already queued for it may still arrive. */
void media_leg_free(media_t *m, media_leg leg);

/* True if `spec` is a valid hold program; else false with a reason in err. */
bool media_hold_valid(const char *spec, char *err, size_t errlen);

enum media_event_kind { MEV_DTMF, MEV_PLAYED, MEV_TIMEOUT };
struct media_event {
	enum media_event_kind kind;
	media_leg leg;
	char digit;                    /* MEV_DTMF: 0-9 * # A-D */
};
int media_event_fd(const media_t *m);
bool media_next_event(media_t *m, struct media_event *out);

/* Counters of the media thread, copied once per tick; any thread may read. */
struct media_stats {
	uint64_t ticks;                /* ticks run */
	uint64_t late_ticks;           /* woke more than 1 ms after the deadline */
	uint64_t skipped_ticks;        /* periods skipped when a tick overran */
	uint64_t max_late_us;          /* worst wake-up lateness seen */
	uint64_t max_work_us;          /* longest tick, wake-up to last send */
	uint64_t rx_packets, rx_ignored;   /* ignored: malformed or unexpected payload type */
	uint64_t tx_packets;
	uint64_t events_dropped;       /* event ring full */
	unsigned legs;
};
void media_stats(media_t *m, struct media_stats *out);

#endif

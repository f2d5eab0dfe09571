/* media.h — the RTP engine: one RTP session per call leg, on media threads of
 * its own — never the SIP loop.
 *
 * Legs are spread over `threads` media threads (one per CPU but one by default); a
 * bridge's legs, its spy and its recordings are always on one thread, so
 * mixing takes no lock. Each thread waits in its own epoll set for RTP and
 * for its 20 ms tick (a timerfd on absolute CLOCK_MONOTONIC deadlines).
 *
 * Talking calls are relayed, not re-timed: in a plain bridge (no listener,
 * not held) a packet from one leg is sent on to the other the moment it is
 * read — transcoded PCMU<->PCMA by table when the codecs differ, under the
 * other leg's own SSRC, sequence and timestamps, and decoded into the
 * recording if there is one. The tick serves the legs callq plays to or
 * mixes: every 20 ms it applies queued commands and sends one frame on each
 * of them — the next frame of its hold program, a prompt, silence, or its mix
 * of a bridge with a listener or on hold. When late it skips ahead
 * (timestamps advance) instead of bursting.
 *
 * Nothing per packet or per tick allocates, logs, or touches disk or SQLite
 * (commands may allocate, once per call: a leg's jitter buffer exists only
 * while its audio is mixed or recorded).
 * Audio files are decoded once at start (libsndfile) into shared 8 kHz buffers,
 * kept as linear, mu-law and A-law; all legs read the same memory. A clip can be
 * reloaded at runtime (media_reload): hold programs look clips up by name at
 * each item start and legs hold a reference, so the old copy lives until the
 * last leg playing it moves on.
 *
 * Bridges: media_bridge(caller, agent) makes a small conference that a third
 * leg can join (media_spy) to listen, whisper or barge; every leg hears its own
 * mix (16-bit linear, saturated) of the others it is routed to, never itself.
 * A listener joining turns the bridge into a mix, paced by the tick; leaving
 * turns it back into a relay. Legs whose audio is mixed or recorded go
 * through a jitter buffer (2-6 frames, adaptive); a recording gets a frame
 * per tick from each side, silence where a side sent nothing. Recordings are written by a writer thread fed through a
 * bounded ring: when the disk is slow frames are dropped and counted, the tick
 * never waits.
 *
 * Who may send: a leg takes RTP and RFC 4733 events only from the address its
 * SDP names (media_leg_remote) or the address its SIP signalling came from
 * (media_leg_allow); packets from anywhere else are dropped before oRTP sees
 * them and counted (media_stats.rx_foreign, and one log line per leg). Replies
 * follow the last allowed source heard (symmetric RTP, so a phone behind NAT
 * or one that restarts its stream after a re-INVITE is heard at once), never a
 * stranger's. Ports are drawn at random from the range, so a leg's port is not
 * guessable from the previous call's.
 *
 * Threads: every media_* function below except the event functions may be
 * called from the SIP thread; commands reach the media threads through short
 * mutex-protected queues. Events (DTMF, end of a prompt, RTP timeout) come back
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
	unsigned rtp_quiet_timeout_s;  /* the same for legs that said they will not send */
	unsigned threads;              /* media threads; 0 = one per CPU but one (at least 1); at most 8 */
};

media_t *media_new(const struct media_conf *conf, char *err, size_t errlen);
int media_start(media_t *m);       /* starts the media thread */
void media_free(media_t *m);       /* stops the thread, closes every leg */

/* A new leg bound to a free even port drawn at random; *port receives it.
 * Sends nothing until media_leg_remote(). */
media_leg media_leg_new(media_t *m, unsigned *port);
/* The same, on the media thread of leg `near` (if it is alive): a leg that
 * will be bridged to `near` (an agent's leg to its caller's) starts where the
 * bridge will live and never has to move. */
media_leg media_leg_new_near(media_t *m, unsigned *port, media_leg near);
/* Where to send, in which codec; dtmf_pt is the telephone-event payload type
 * (0 = none). May be called again (re-INVITE): `ip` replaces the SDP address
 * allowed to send. */
int media_leg_remote(media_t *m, media_leg leg, const char *ip, unsigned port,
                     enum media_codec codec, int dtmf_pt);
/* Also take RTP from `ip`, the source of the leg's SIP signalling (under NAT
 * the SDP names a private address and packets come from the public one).
 * Replaces the previous signalling address; -1 if ip is not an address. */
int media_leg_allow(media_t *m, media_leg leg, const char *ip);
/* Play the hold program `spec` (the queue's hold setting, e.g.
 * "position,pause:2,file:music.wav,wait,repeat") in language `lang`.
 * Unknown files are skipped; position/wait use the values set below. */
int media_leg_hold(media_t *m, media_leg leg, const char *spec, const char *lang);
/* Values announced by the hold program's `position` and `wait` items. */
int media_leg_announce(media_t *m, media_leg leg, unsigned position, unsigned wait_s);
/* The same, and the key the `callback` item offers now (0: it says nothing). */
int media_leg_announce_callback(media_t *m, media_leg leg, unsigned position, unsigned wait_s,
                                char callback_key);
/* Play one file (relative to media_dir, e.g. "en/ok.wav") then silence;
 * raises MEV_PLAYED when done (at once, with a warning, if there is no such
 * file). */
int media_leg_play(media_t *m, media_leg leg, const char *file);
/* Exchange audio between two legs (both directions): `caller` and `agent`
 * name their roles for media_bridge_hold, media_spy and recordings. Ends any
 * bridge, spy or recording either leg was in. */
int media_bridge(media_t *m, media_leg caller, media_leg agent);
/* The agent holds (on) or resumes the caller: while held the caller hears the
 * hold program `spec` in `lang` (NULL spec: "file:music.wav,repeat") instead of
 * the agent, the agent hears neither caller nor music, and the bridge's
 * recording pauses (nothing is written). Ignored unless `caller` is bridged. */
int media_bridge_hold(media_t *m, media_leg caller, bool on, const char *spec, const char *lang);

enum media_spy_mode { MEDIA_LISTEN, MEDIA_WHISPER, MEDIA_BARGE };
/* `listener` joins the bridge of caller and agent:
 *   listen:  hears caller + agent, heard by nobody;
 *   whisper: hears both, heard by the agent only (the caller hears the agent);
 *   barge:   everyone hears the other two.
 * Whatever the listener did before stops. When the bridge ends (or they are not
 * bridged when the command applies) the listener gets silence and MEV_SPY_END;
 * a second listener on the same bridge ends the first that way. */
int media_spy(media_t *m, media_leg listener, media_leg caller, media_leg agent,
              enum media_spy_mode mode);
int media_spy_mode(media_t *m, media_leg listener, enum media_spy_mode mode);
/* "listen", "whisper", "barge" -> mode; false for any other text. */
bool media_spy_mode_parse(const char *name, enum media_spy_mode *mode);

/* Records the bridge of caller and agent into `path`: stereo WAV, caller left,
 * agent right (plus a barging listener, as the caller hears it), 8 kHz PCM16.
 * Stops at media_record_stop, after max_s seconds of audio (0 = 3600, the
 * upper limit), or when the bridge ends (either leg freed or re-bridged: the
 * answering agent left). Returns the recording id, 0 if it cannot start (bad
 * leg, no path); later failures come as MEV_RECORD_FAILED. Exactly one of
 * MEV_RECORD_DONE or MEV_RECORD_FAILED ends every id returned. */
uint32_t media_record_start(media_t *m, media_leg caller, media_leg agent,
                            const char *path, unsigned max_s);
/* Mono: what `leg` says (voicemail, after a prompt played with
 * media_leg_play), whatever it hears meanwhile. Stops like the above, and when
 * the leg is freed. */
uint32_t media_leg_record(media_t *m, media_leg leg, const char *path, unsigned max_s);
int media_record_stop(media_t *m, uint32_t record);
/* The remote said it will not send (SDP recvonly, inactive or c=0.0.0.0):
 * while quiet the limit is rtp_quiet_timeout_s instead of rtp_timeout_s (a
 * phone on hold for long, or one that never means to send); either way the
 * count starts afresh at the change. */
int media_leg_quiet(media_t *m, media_leg leg, bool quiet);
/* Stop whatever the leg does and send silence (agent leg while ringing, say). */
int media_leg_silence(media_t *m, media_leg leg);
/* SRTP (RFC 3711) with keys the SIP layer negotiated (SDES, RFC 4568):
 * from now on the leg protects every packet it sends with tx (our master key
 * and salt, MEDIA_SRTP_KEY bytes) and takes only packets protected with rx
 * (the remote's); others are dropped and counted in rx_ignored. Call it
 * before media_leg_remote, so no packet leaves in clear. Called again (a
 * re-INVITE), a direction whose key is unchanged keeps its session.
 * -1 if the leg is gone or libsrtp refuses. */
enum media_srtp_suite { MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80 = 1, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32 };
#define MEDIA_SRTP_KEY 30
int media_leg_srtp(media_t *m, media_leg leg, enum media_srtp_suite suite, const uint8_t *tx,
                   const uint8_t *rx);
/* Later calls naming a freed leg return -1; ids are not reused soon
 * (generation counter). Events already queued for it may still arrive. */
void media_leg_free(media_t *m, media_leg leg);

/* True if `spec` is a valid hold program; else false with a reason in err.
 * Stream URLs (anything with "://") are refused. */
bool media_hold_valid(const char *spec, char *err, size_t errlen);

/* Converts any file libsndfile reads (WAV, AIFF, FLAC, OGG...) to 8 kHz mono
 * PCM16 WAV at dst_path: channels mixed down, resampled with our windowed-sinc
 * filter. Written to a temporary file and renamed, so a reload never sees half
 * a file. -1 with a message naming the file and its format if unreadable.
 * Touches the disk: not for the SIP thread in a hurry, never the tick. */
int media_import(const char *src_path, const char *dst_path, char *err, size_t errlen);
/* Reads media_dir/relpath again (or forgets it if deleted): legs playing the
 * old copy finish their item with it; the next pass plays the new one. Reads
 * the file on the calling thread. */
int media_reload(media_t *m, const char *relpath, char *err, size_t errlen);

enum media_event_kind { MEV_DTMF, MEV_PLAYED, MEV_TIMEOUT, MEV_SPY_END,
                        MEV_RECORD_DONE, MEV_RECORD_FAILED };
struct media_event {
	enum media_event_kind kind;
	media_leg leg;                 /* recordings: the caller leg */
	char digit;                    /* MEV_DTMF: 0-9 * # A-D */
	uint32_t record;               /* MEV_RECORD_*: the id */
	uint32_t duration_ms;          /* MEV_RECORD_DONE: audio written */
	uint32_t frames_dropped;       /* MEV_RECORD_*: 20 ms frames lost to a slow disk */
	char error[64];                /* MEV_RECORD_FAILED: why (errno text) */
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
	uint64_t rx_foreign;           /* dropped: from an address the leg does not talk to */
	uint64_t tx_packets;
	uint64_t tx_errors;            /* sends the system refused (full buffer, unreachable) */
	uint64_t events_dropped;       /* event ring full */
	uint64_t jitter_late;          /* packets too late for the jitter buffer */
	unsigned legs;
};
void media_stats(media_t *m, struct media_stats *out);

#endif

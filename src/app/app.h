/* app.h — callqd's wiring: the engine and the adapters around it.
 *
 * Everything here runs on one thread, the Sofia su_root loop: SIP events,
 * control-socket lines, media events (through an eventfd) and the engine's
 * timer. So the engine needs no lock. After every engine transition the
 * caller runs app_engine_done(), which carries out the engine's actions
 * (SIP legs, media, journal, member state in SQLite) and re-arms the timer
 * for engine_next_deadline(). Only the media thread and the store's journal
 * writer run elsewhere, behind their own queues.
 */
#ifndef CALLQ_APP_H
#define CALLQ_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sofia-sip/su_wait.h>

#include "acd/engine.h"
#include "core/idmap.h"
#include "core/conf.h"
#include "media/media.h"
#include "store/store.h"

typedef struct sipua sipua_t;
typedef struct ctl_server ctl_server_t;
typedef struct events events_t;
typedef struct window window_t;
typedef struct worker worker_t;
typedef struct metrics metrics_t;
typedef struct web web_t;
typedef struct queuelog queuelog_t;
struct throttle;

#define APP_FEATURES_MAX 32

struct app {
	struct conf conf;
	su_root_t *root;
	engine_t *engine;
	store_t *store;
	media_t *media;
	sipua_t *sip;
	ctl_server_t *ctl;
	worker_t *worker;          /* slow control requests (ctl/worker.h) */
	struct throttle *auth_throttle;   /* failed control logins (ctl/throttle.h) */
	events_t *events;          /* subscribers of the event stream */
	window_t *window;          /* rolling `stats` counters (report/window.h) */
	metrics_t *metrics;        /* counters since start for /metrics (web/web.h) */
	web_t *web;                /* HTTP: API, events, metrics, pages; NULL if off */
	queuelog_t *queuelog;      /* Asterisk-style queue_log (store/queuelog.h); NULL if off */
	su_timer_t *timer;
	su_timer_t *announce;       /* refreshes position/wait of waiting callers */
	int waits[2];              /* su_root registrations: media events, signals */
	int nwaits;
	struct idmap recordings;     /* media recording id -> store row id */
	struct idmap member_since;   /* member -> time (eng_ms) of its last event */
	struct store_feature features[APP_FEATURES_MAX];
	size_t nfeatures;
	bool stopping;
};

struct sip_env;
/* The SIP adapter's view of this daemon: its engine, media, store, conf and
 * the hooks below, as a table sipua_new copies. */
void app_sip_env(struct app *a, struct sip_env *env);
/* Carry out the engine's pending actions; re-arm its timer. */
void app_engine_done(struct app *a);
/* The feature-code action for what a phone dialed ("*50" -> "login"), or
 * NULL. For codes that take an extension (*57EXT) *arg points at it. */
const char *app_feature(const struct app *a, const char *dialed, const char **arg);
/* Carries out a feature-code action for member m; returns the prompt to play
 * (a path under the media folder, e.g. "en/logged-in.wav"). */
const char *app_feature_run(struct app *a, eng_id m, const char *action, const char *arg);
/* Tells the engine when local midnight was (callback hours); again with
 * every announcement refresh, so a DST change is caught within seconds. */
void app_day_origin(struct app *a);
/* Starts the periodic refresh of what waiting callers are told. */
void app_announce_start(struct app *a);
/* supervise.c: recordings and spy. A recording's file name:
 * DIR/KIND-YYYYmmdd-HHMMSS-WHO-CALL-SEQ.wav (seq tells apart files of one second). */
void app_rec_name(char *out, size_t cap, const char *dir, const char *kind, const char *who,
                  eng_id call, time_t t, uint32_t seq);
void app_record_call(struct app *a, eng_id call, eng_id q, eng_id m, media_leg caller,
                     media_leg agent);
/* Records what `leg` says into box's voicemail; the recording id or 0. */
uint32_t app_record_voicemail(struct app *a, const char *box, media_leg leg);
void app_record_event(struct app *a, const struct media_event *ev);
/* Admins: always. Managers: only while the agent has a call (ringing or
 * talking) in a queue they manage. */
bool app_may_supervise(const struct app *a, eng_id supervisor, eng_id agent);
/* Joins `listener` to the call of agent_login; false if not allowed or not on a call. */
bool app_spy(struct app *a, eng_id supervisor, const char *agent_login, media_leg listener,
             enum media_spy_mode mode);
/* How long member m has been in its current state (since its last event), ms. */
eng_ms app_member_in_state(const struct app *a, eng_id m, eng_ms now);
/* Persist a member's global and per-queue state after it changed. */
void app_save_member(struct app *a, eng_id member);

#endif

/* app.c — carries out the engine's actions and keeps its timer. */
#include "app/app.h"
#include "core/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ctl/events.h"
#include "report/window.h"
#include "sip/sip.h"
#include "store/queuelog.h"
#include "web/web.h"

void app_save_member(struct app *a, eng_id member)
{
	struct eng_member_view mv;
	if (!engine_member_view(a->engine, clock_mono_ms(), member, &mv))
		return;
	if (store_agent_state(a->store, mv.login, mv.logged_in, mv.ready, mv.away_reason) != STORE_OK)
		log_error("store", "cannot save state of %s: %s", mv.login, store_errmsg(a->store));
}

/* The session's start, in wall-clock time: its duration survives a restart. */
static void app_save_session(struct app *a, eng_id member, int64_t since_unix_ms)
{
	struct eng_member_view mv;
	if (engine_member_view(a->engine, clock_mono_ms(), member, &mv) &&
	    store_agent_session(a->store, mv.login, since_unix_ms) != STORE_OK)
		log_error("store", "cannot save the session of %s: %s", mv.login, store_errmsg(a->store));
}

static void app_save_active(struct app *a, eng_id q, eng_id member)
{
	struct eng_member_view mv;
	const struct eng_queue_conf *qc = engine_queue_conf(a->engine, q);
	bool manager, active;
	if (!qc || !engine_member_view(a->engine, clock_mono_ms(), member, &mv) ||
	    !engine_is_member(a->engine, q, member, &manager, &active))
		return;
	if (store_agent_active(a->store, qc->name, mv.login, active) != STORE_OK)
		log_error("store", "cannot save %s in %s: %s", mv.login, qc->name,
		          store_errmsg(a->store));
}

/* A call moved to another queue hears that queue's hold loop. */
static void app_hold_in(struct app *a, eng_id call, eng_id q)
{
	const struct eng_queue_conf *qc = engine_queue_conf(a->engine, q);
	media_leg ml = sipua_caller_media(a->sip, call);
	if (qc && ml)
		media_leg_hold(a->media, ml, qc->hold, qc->lang[0] ? qc->lang : "en");
}

/* A queue's pending callbacks, in line order, replace those kept in SQLite,
 * so a restart puts them back in their places (store_callbacks_load). */
static void app_save_callbacks(struct app *a, eng_id q)
{
	static struct eng_call_view cv[4096];
	static struct store_callback cb[4096];
	const struct eng_queue_conf *qc = engine_queue_conf(a->engine, q);
	eng_ms now = clock_mono_ms();
	int64_t wall = clock_wall_ms();
	size_t n = qc ? engine_call_list(a->engine, now, q, cv, 4096) : 0, k = 0;
	if (!qc)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!cv[i].callback || cv[i].talking)
			continue;
		snprintf(cb[k].number, sizeof cb[k].number, "%s", cv[i].callback_number);
		snprintf(cb[k].caller_number, sizeof cb[k].caller_number, "%s", cv[i].caller_number);
		snprintf(cb[k].caller_name, sizeof cb[k].caller_name, "%s", cv[i].caller_name);
		snprintf(cb[k].callee_number, sizeof cb[k].callee_number, "%s", cv[i].callee_number);
		cb[k].entered_unix_ms = wall - (now - cv[i].entered);
		cb[k++].attempts = cv[i].attempts;
	}
	if (store_callbacks_put(a->store, qc->name, cb, k) != STORE_OK)
		log_error("store", "cannot save the callbacks of %s: %s", qc->name, store_errmsg(a->store));
}

void app_day_origin(struct app *a)
{
	struct tm tm;
	int64_t wall = clock_wall_ms();
	time_t t = (time_t)(wall / 1000);
	if (!localtime_r(&t, &tm))
		return;
	int64_t since = ((int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) * 1000 + wall % 1000;
	engine_set_day_origin(a->engine, clock_mono_ms() - since);
}

eng_ms app_member_in_state(const struct app *a, eng_id m, eng_ms now)
{
	eng_ms since = (eng_ms)(intptr_t)idmap_get(&a->member_since, m);
	return since ? now - since : 0;
}

static void app_event(struct app *a, const struct eng_action *ev)
{
	/* Every state change of a member (login, ready, offer, answer, recovery...)
	 * is an event naming it: the last one tells how long the state has lasted. */
	if (ev->member)
		idmap_put(&a->member_since, ev->member, (void *)(intptr_t)ev->at);
	int64_t wall = clock_wall_ms();
	store_journal(a->store, wall, ev);
	window_event(a->window, a->engine, wall, ev);
	metrics_event(a->metrics, a->engine, ev);
	if (a->queuelog)
		queuelog_event(a->queuelog, a->engine, wall, ev);
	events_publish(a->events, a->engine, ev);
	switch (ev->event) {
	case EV_AGENT_LOGIN:
	case EV_AGENT_LOGOUT:
		app_save_member(a, ev->member);
		app_save_session(a, ev->member, ev->event == EV_AGENT_LOGIN ? wall : 0);
		break;
	case EV_AGENT_READY:
	case EV_AGENT_AWAY:
		app_save_member(a, ev->member);
		break;
	case EV_AGENT_PAUSE:
	case EV_AGENT_RESUME:
		app_save_active(a, ev->queue, ev->member);
		break;
	case EV_CALL_ESCALATE:
		app_hold_in(a, ev->call, (eng_id)ev->value);
		break;
	case EV_CALL_BUMP:
	case EV_CALLBACK_REQUEST:
	case EV_CALLBACK_RETRY:
	case EV_CALLBACK_REACHED:
	case EV_CALLBACK_FAILED:
	case EV_CALLBACK_MOVE:
		app_save_callbacks(a, ev->queue);
		break;
	default:
		break;
	}
	/* The journal and the event stream keep every event; the log repeats them
	 * only when asked (log_level = debug): at hundreds of calls a second a line
	 * per event is thousands of writes on the SIP loop. */
	log_debug("acd", "%s call=%u queue=%u member=%u value=%lld%s%s", engine_event_name(ev->event),
	         ev->call, ev->queue, ev->member, (long long)ev->value, ev->reason[0] ? " reason=" : "",
	         ev->reason);
}

static void app_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	struct app *a = (struct app *)arg;
	engine_tick(a->engine, clock_mono_ms());
	app_engine_done(a);
}

static void app_arm(struct app *a)
{
	eng_ms next = engine_next_deadline(a->engine);
	su_timer_reset(a->timer);
	if (next == ENG_NEVER)
		return;
	eng_ms delay = next - clock_mono_ms();
	su_timer_set_interval(a->timer, app_timer, (su_timer_arg_t *)a,
	                      delay < 0 ? 0 : (su_duration_t)delay);
}

void app_engine_done(struct app *a)
{
	static bool draining;
	struct eng_action act;
	/* Action handlers call the engine again (an offer to an unregistered
	 * phone fails at once); the outer loop picks those actions up. */
	if (draining)
		return;
	draining = true;
	while (engine_next_action(a->engine, &act)) {
		switch (act.kind) {
		case ACT_OFFER:
			sipua_offer(a->sip, &act);
			break;
		case ACT_CANCEL_OFFER:
			sipua_cancel_offer(a->sip, &act);
			break;
		case ACT_BRIDGE:
			sipua_bridge(a->sip, &act);
			break;
		case ACT_RELEASE:
			sipua_release(a->sip, &act);
			if (a->queuelog)
				queuelog_release(a->queuelog, act.call);
			break;
		case ACT_EVENT:
			app_event(a, &act);
			break;
		case ACT_DIAL_CALLBACK:
			sipua_dial_callback(a->sip, &act);
			break;
		}
	}
	draining = false;
	app_arm(a);
}

#define APP_ANNOUNCE_MS 5000

/* Positions move as calls ahead leave; the hold loop says the current ones.
 * Every few seconds is enough: a loop pass takes longer than that. */
static void app_announce(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	struct app *a = (struct app *)arg;
	eng_ms now = clock_mono_ms();
	eng_id qs[1024];
	static struct eng_call_view cv[4096];
	app_day_origin(a);
	size_t nq = engine_queue_ids(a->engine, qs, 1024);
	for (size_t i = 0; i < nq; i++) {
		size_t n = engine_call_list(a->engine, now, qs[i], cv, 4096);
		for (size_t k = 0; k < n; k++) {
			media_leg ml = cv[k].talking ? 0 : sipua_caller_media(a->sip, cv[k].id);
			const struct eng_queue_conf *qc = engine_queue_conf(a->engine, qs[i]);
			char key = engine_callback_offerable(a->engine, now, cv[k].id) ? qc->callback_key : 0;
			if (ml)
				media_leg_announce_callback(a->media, ml, cv[k].position,
				                            engine_wait_estimate(a->engine, now, cv[k].id), key);
		}
	}
	su_timer_set_interval(t, app_announce, (su_timer_arg_t *)a, APP_ANNOUNCE_MS);
}

void app_announce_start(struct app *a)
{
	su_timer_set_interval(a->announce, app_announce, (su_timer_arg_t *)a, APP_ANNOUNCE_MS);
}

const char *app_feature(const struct app *a, const char *dialed, const char **arg)
{
	for (size_t i = 0; i < a->nfeatures; i++) {
		const struct store_feature *f = &a->features[i];
		size_t n = strlen(f->code);
		bool takes_ext = !strcmp(f->action, "listen") || !strcmp(f->action, "whisper") ||
		                 !strcmp(f->action, "barge");
		if (strncmp(dialed, f->code, n) || (!takes_ext && dialed[n]) || (takes_ext && !dialed[n]))
			continue;
		*arg = dialed + n;
		return f->action;
	}
	return NULL;
}

/* ---- the SIP adapter's hooks (struct sip_env): ctx is the struct app ---- */

static void app_hook_engine_done(void *ctx) { app_engine_done(ctx); }

static const char *app_hook_feature(void *ctx, const char *dialed, const char **arg)
{
	return app_feature(ctx, dialed, arg);
}

static const char *app_hook_feature_run(void *ctx, eng_id m, const char *action, const char *arg)
{
	return app_feature_run(ctx, m, action, arg);
}

static void app_hook_record_call(void *ctx, eng_id call, eng_id q, eng_id m, media_leg caller,
                                 media_leg agent)
{
	app_record_call(ctx, call, q, m, caller, agent);
}

static uint32_t app_hook_record_voicemail(void *ctx, const char *box, media_leg leg)
{
	return app_record_voicemail(ctx, box, leg);
}

static void app_hook_record_event(void *ctx, const struct media_event *ev)
{
	app_record_event(ctx, ev);
}

static bool app_hook_spy(void *ctx, eng_id supervisor, const char *agent_login, media_leg listener,
                         enum media_spy_mode mode)
{
	return app_spy(ctx, supervisor, agent_login, listener, mode);
}

void app_sip_env(struct app *a, struct sip_env *env)
{
	*env = (struct sip_env){
		.root = a->root,
		.engine = a->engine,
		.media = a->media,
		.store = a->store,
		.conf = &a->conf,
		.ctx = a,
		.engine_done = app_hook_engine_done,
		.feature = app_hook_feature,
		.feature_run = app_hook_feature_run,
		.record_call = app_hook_record_call,
		.record_voicemail = app_hook_record_voicemail,
		.record_event = app_hook_record_event,
		.spy = app_hook_spy,
	};
}

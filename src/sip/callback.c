/* callback.c — callbacks on the SIP side (the engine's part: engine.h).
 *
 * The caller's choice. While a caller waits and the engine says a callback
 * may be offered (engine_callback_offerable), the queue's callback_key
 * starts it: callq reads back the number the caller called from and asks
 * for '#' to confirm, or another number ending with '#' ('*' goes back to
 * the hold loop). The digits are collected here, per leg, not in the
 * engine. Confirmed, the engine turns the call into a callback at its
 * place (engine_call_callback); the leg leaves the engine's calls, hears the
 * number and the wait estimate read back, then callq hangs up.
 *
 * Its turn (agent first). The engine offers the callback to an agent like
 * any call; a leg of kind DLG_CALLBACK stands for the caller who is gone
 * (no SIP, no media), so the offer and release code needs nothing special.
 * When the agent answers, the agent hears "callback to" and the number while
 * callq dials the customer through the queue's callback_gateway
 * (gateway_place, "gateway:NAME/NUMBER"), ringing at most transfer_ring
 * seconds. The customer answers: the two legs are bridged and the engine
 * told (engine_callback_reached). Busy, no answer or any failure: the agent
 * leg ends and the engine holds the callback for its retry delay
 * (engine_callback_failed) or gives it up.
 *
 * Its turn (customer first). The engine asks for the dial itself
 * (ACT_DIAL_CALLBACK, sipua_dial_callback): the same dialing, with no agent.
 * The customer answers: the outbound leg takes the DLG_CALLBACK leg's place
 * as the call's caller leg (a DLG_CALLER from then on), hears the hold loop,
 * and the engine offers it like any caller (engine_callback_connected).
 * Failures go the same way as agent first.
 */
#include "sip/ua.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

/* ---- saying clips one after another ---- */

static const char *callback_lang(const struct sip_env *env, eng_id call)
{
	struct eng_call_view cv;
	const struct eng_queue_conf *qc = NULL;
	if (engine_call_view(env->engine, clock_mono_ms(), call, &cv))
		qc = engine_queue_conf(env->engine, cv.queue);
	return qc && qc->lang[0] ? qc->lang : "en";
}

/* Plays the next clip of l->say; false when there is none left. */
static bool callback_say_next(struct dialog *l)
{
	char clip[96];
	const char *w = l->say + l->say_pos;
	size_t n = strcspn(w, " ");
	if (!n)
		return false;
	snprintf(clip, sizeof clip, "%s/%.*s.wav", callback_lang(&l->sip->env, l->call), (int)n, w);
	l->say_pos += n + (w[n] == ' ');
	media_leg_play(l->sip->env.media, l->mleg, clip);
	return true;
}

static void callback_add(struct dialog *l, const char *word)
{
	size_t len = strlen(l->say);
	snprintf(l->say + len, sizeof l->say - len, "%s%s", len ? " " : "", word);
}

/* The digits of number, one clip each. */
static void callback_add_digits(struct dialog *l, const char *number)
{
	for (const char *p = number; *p; p++) {
		char d[2] = { *p, 0 };
		if (*p >= '0' && *p <= '9')
			callback_add(l, d);
	}
}

/* A whole number of minutes, up to 99, in the hold loop's number clips. */
static void callback_add_minutes(struct dialog *l, unsigned wait_s)
{
	char part[8];
	unsigned min = (wait_s + 30) / 60;
	if (wait_s < 60) {
		callback_add(l, "less-than-minute");
		return;
	}
	if (min > 99)
		min = 99;
	callback_add(l, "about");
	snprintf(part, sizeof part, "%u", min < 20 ? min : min / 10 * 10);
	callback_add(l, part);
	if (min >= 20 && min % 10) {
		snprintf(part, sizeof part, "%u", min % 10);
		callback_add(l, part);
	}
	callback_add(l, min == 1 ? "minute" : "minutes");
}

static void callback_say(struct dialog *l, bool bye, bool resume)
{
	l->say_pos = 0;
	l->say_bye = bye;
	l->say_resume = resume;
	callback_say_next(l);
}

bool callback_played(struct dialog *l)
{
	if (!l->say[0])
		return false;
	if (callback_say_next(l))
		return true;
	l->say[0] = 0;
	if (l->say_bye) {
		dialog_hangup(l);
	} else if (l->say_resume && l->call) {
		struct eng_call_view cv;
		const struct sip_env *env = &l->sip->env;
		if (engine_call_view(env->engine, clock_mono_ms(), l->call, &cv)) {
			const struct eng_queue_conf *qc = engine_queue_conf(env->engine, cv.queue);
			media_leg_hold(env->media, l->mleg, qc->hold, qc->lang[0] ? qc->lang : "en");
		}
	}
	return true;
}

/* ---- the caller's choice ---- */

/* A caller who stops keying for this long goes back to the hold loop. */
#define CALLBACK_CHOICE_MS 20000

/* The number to call back: what the caller keyed, else the number it called
 * from (digits and a leading '+'); "" if neither has any. */
static void callback_number(const struct dialog *l, char *out, size_t cap)
{
	size_t k = 0;
	const char *src = l->cb_digits[0] ? l->cb_digits : l->number;
	for (const char *p = src; *p && k + 1 < cap; p++)
		if ((*p >= '0' && *p <= '9') || (*p == '+' && k == 0))
			out[k++] = *p;
	out[k] = 0;
	if (k == 1 && out[0] == '+')
		out[0] = 0;
}

static void callback_ask(struct dialog *l)
{
	char number[ENG_NUMBER_MAX];
	l->say[0] = 0;
	callback_number(l, number, sizeof number);
	if (number[0]) {
		callback_add(l, "callback-at");
		callback_add_digits(l, number);
		callback_add(l, "callback-confirm");
	} else {
		callback_add(l, "callback-enter");
	}
	callback_say(l, false, false);
}

static void callback_stop_choice(struct dialog *l)
{
	if (l->cb_timer) {
		su_timer_destroy(l->cb_timer);
		l->cb_timer = NULL;
	}
	l->cb = CB_NONE;
}

static void callback_cancel_choice(struct dialog *l)
{
	callback_stop_choice(l);
	l->cb_digits[0] = 0;
	l->say[0] = 0;
	callback_add(l, "ok");
	callback_say(l, false, true);
}

/* '#': the number is confirmed. The leg leaves the engine's calls before the
 * engine hears of it, so an offer made at once goes to a DLG_CALLBACK leg. */
static void callback_confirm(struct dialog *l)
{
	struct sipua *s = l->sip;
	const struct sip_env *env = &s->env;
	eng_ms now = clock_mono_ms();
	char number[ENG_NUMBER_MAX];
	callback_number(l, number, sizeof number);
	if (!number[0]) {
		callback_ask(l);
		return;
	}
	unsigned wait_s = engine_wait_estimate(env->engine, now, l->call);
	bool mine = idmap_get(&s->calls, l->call) == l;
	if (mine)
		idmap_del(&s->calls, l->call);
	if (!engine_call_callback(env->engine, now, l->call, number)) {
		if (mine)
			idmap_put(&s->calls, l->call, l);
		log_info("sip", "call %u: callback to %s refused (one pending for it already?)",
		         l->call, number);
		callback_stop_choice(l);
		l->cb_digits[0] = 0;
		l->say[0] = 0;
		callback_add(l, "denied");
		callback_say(l, false, true);
		return;
	}
	log_info("sip", "call %u: callback to %s; the caller keeps the place", l->call, number);
	l->reported = true;
	callback_stop_choice(l);
	l->say[0] = 0;
	callback_add(l, "callback-at");
	callback_add_digits(l, number);
	callback_add(l, "wait-is");
	callback_add_minutes(l, wait_s);
	callback_add(l, "goodbye");
	callback_say(l, true, false);
	ua_engine_done(env);
}

static void callback_choice_timeout(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	struct dialog *l = (struct dialog *)arg;
	if (l->cb == CB_NUMBER && !l->reported)
		callback_cancel_choice(l);
}

/* Every key of the choice gives the caller CALLBACK_CHOICE_MS more. */
static void callback_choice_timer(struct dialog *l)
{
	if (!l->cb_timer)
		l->cb_timer = su_timer_create(su_root_task(l->sip->env.root), 0);
	if (l->cb_timer)
		su_timer_set_interval(l->cb_timer, callback_choice_timeout, (su_timer_arg_t *)l,
		                      CALLBACK_CHOICE_MS);
}

bool callback_digit(struct dialog *l, char digit)
{
	const struct sip_env *env = &l->sip->env;
	eng_ms now = clock_mono_ms();
	struct eng_call_view cv;
	if (l->kind != DLG_CALLER || l->reported || !l->call ||
	    !engine_call_view(env->engine, now, l->call, &cv))
		return false;
	if (cv.talking) {
		callback_stop_choice(l);   /* an agent took the call meanwhile */
		return false;
	}
	if (l->cb == CB_NONE) {
		const struct eng_queue_conf *qc = engine_queue_conf(env->engine, cv.queue);
		if (digit != qc->callback_key || !engine_callback_offerable(env->engine, now, l->call))
			return false;
		l->cb = CB_NUMBER;
		l->cb_digits[0] = 0;
		callback_choice_timer(l);
		callback_ask(l);
		return true;
	}
	callback_choice_timer(l);
	if (digit >= '0' && digit <= '9') {
		size_t n = strlen(l->cb_digits);
		if (n + 1 < sizeof l->cb_digits) {
			l->cb_digits[n] = digit;
			l->cb_digits[n + 1] = 0;
		}
		l->say[0] = 0;   /* keying: the rest of the question is not needed */
	} else if (digit == '*') {
		callback_cancel_choice(l);
	} else if (digit == '#') {
		callback_confirm(l);
	}
	return true;
}

/* ---- its turn ---- */

struct dialog *callback_leg(struct sipua *s, eng_id call)
{
	struct dialog *l = idmap_get(&s->calls, call);
	struct eng_call_view cv;
	if (l)
		return l;
	if (!engine_call_view(s->env.engine, clock_mono_ms(), call, &cv) || !cv.callback)
		return NULL;
	l = dialog_new(s, DLG_CALLBACK, NULL);
	if (!l)
		return NULL;
	if (idmap_put(&s->calls, call, l) < 0) {
		dialog_free(l);
		return NULL;
	}
	l->call = call;
	l->reported = true;
	snprintf(l->number, sizeof l->number, "%s", cv.callback_number);
	snprintf(l->name, sizeof l->name, "Callback");
	return l;
}

static void callback_detach_agent(struct dialog *a)
{
	if (a->caller && a->caller->agent == a)
		a->caller->agent = NULL;
	a->caller = NULL;
	if (a->offer && idmap_get(&a->sip->offers, a->offer) == a)
		idmap_del(&a->sip->offers, a->offer);
}

static void callback_stop_ring(struct dialog *cb)
{
	if (cb->ring_timer) {
		su_timer_destroy(cb->ring_timer);
		cb->ring_timer = NULL;
	}
}

/* This try failed: the customer leg (if still ringing) and the agent leg
 * end, and the engine decides on a retry. */
static void callback_failed(struct dialog *cb, const char *reason)
{
	const struct sip_env *env = &cb->sip->env;
	struct dialog *o = cb->peer, *agent = cb->agent;
	callback_stop_ring(cb);
	if (o) {
		cb->peer = NULL;
		o->caller = NULL;
		dialog_hangup(o);
	}
	if (agent) {
		agent->reported = true;
		callback_detach_agent(agent);
		dialog_hangup(agent);
	}
	log_info("sip", "call %u: callback to %s failed: %s", cb->call, cb->number, reason);
	engine_callback_failed(env->engine, clock_mono_ms(), cb->call, reason);
	ua_engine_done(env);
}

static void callback_ring_timeout(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	callback_failed((struct dialog *)arg, "noanswer");
}

/* Dials cb's customer through its queue's callback_gateway, ringing at most
 * transfer_ring seconds. */
static void callback_dial(struct dialog *cb)
{
	struct sipua *s = cb->sip;
	const struct sip_env *env = &s->env;
	struct eng_call_view cv;
	char target[ENG_NAME_MAX + ENG_NUMBER_MAX + 16];
	const struct eng_queue_conf *qc =
	        engine_call_view(env->engine, clock_mono_ms(), cb->call, &cv)
	                ? engine_queue_conf(env->engine, cv.queue)
	                : NULL;
	struct dialog *o = dialog_new(s, DLG_OUTBOUND, NULL);
	snprintf(target, sizeof target, "gateway:%s/%s", qc ? qc->callback_gateway : "", cb->number);
	if (!o || gateway_place(o, target, cb) < 0) {
		if (o)
			dialog_discard(o);
		callback_failed(cb, "failed");
		return;
	}
	o->caller = cb;
	o->call = cb->call;
	o->reported = true;
	cb->peer = o;
	log_info("sip", "call %u: callback: dialing %s", cb->call, target);
	cb->ring_timer = su_timer_create(su_root_task(env->root), 0);
	if (cb->ring_timer)
		su_timer_set_interval(cb->ring_timer, callback_ring_timeout, (su_timer_arg_t *)cb,
		                      env->conf->transfer_ring_s * 1000);
}

void callback_bridge(struct dialog *cb, struct dialog *agent)
{
	agent->say[0] = 0;
	callback_add(agent, "callback-to");
	callback_add_digits(agent, cb->number);
	callback_say(agent, false, false);
	callback_dial(cb);
}

void sipua_dial_callback(sipua_t *s, const struct eng_action *a)
{
	struct dialog *cb = callback_leg(s, a->call);
	if (!cb) {
		log_error("sip", "call %u: no callback to dial", a->call);
		engine_callback_failed(s->env.engine, clock_mono_ms(), a->call, "failed");
		ua_engine_done(&s->env);
		return;
	}
	callback_dial(cb);
}

/* Customer first: dialed with no agent (engine_callback_connected). */
static bool callback_customer_first(const struct dialog *cb)
{
	struct eng_call_view cv;
	return !cb->agent && engine_call_view(cb->sip->env.engine, clock_mono_ms(), cb->call, &cv) &&
	       cv.dialing && !cv.member;
}

/* Customer first, the customer answered: its leg becomes the call's caller
 * leg in place of cb, hears the queue's hold loop, and the engine puts the
 * call at the front of its line. */
static void callback_connected(struct dialog *cb, struct dialog *o, const sip_t *sip)
{
	struct sipua *s = cb->sip;
	const struct sip_env *env = &s->env;
	eng_id call = cb->call;
	eng_ms now = clock_mono_ms();
	struct eng_call_view cv;
	if (!dialog_take_answer(o, sip)) {
		callback_failed(cb, "failed");
		return;
	}
	callback_stop_ring(cb);
	cb->peer = NULL;
	o->caller = NULL;
	o->kind = DLG_CALLER;
	s->ncallers++;
	snprintf(o->number, sizeof o->number, "%s", cb->number);
	snprintf(o->name, sizeof o->name, "%s", cb->name);
	idmap_del(&s->calls, call);
	dialog_free(cb);
	if (idmap_put(&s->calls, call, o) < 0 ||
	    !engine_callback_connected(env->engine, now, call) ||
	    !engine_call_view(env->engine, now, call, &cv)) {
		log_error("sip", "call %u: callback answered but cannot wait", call);
		if (idmap_get(&s->calls, call) == o)
			idmap_del(&s->calls, call);
		engine_callback_failed(env->engine, now, call, "failed");
		o->reported = true;
		dialog_hangup(o);
		ua_engine_done(env);
		return;
	}
	o->reported = false;
	const struct eng_queue_conf *qc = engine_queue_conf(env->engine, cv.queue);
	media_leg_hold(env->media, o->mleg, qc->hold, qc->lang[0] ? qc->lang : "en");
	log_info("sip", "call %u: callback to %s answered, waiting for an agent", call, o->number);
	ua_engine_done(env);
}

static const char *callback_reason(int status)
{
	if (status == 486 || status == 600 || status == 603)
		return "busy";
	if (status == 408 || status == 480 || status == 487)
		return "noanswer";
	return "failed";
}

bool callback_response(struct dialog *o, int status, const sip_t *sip)
{
	struct dialog *cb = o->caller;
	if (o->kind != DLG_OUTBOUND || !cb || cb->kind != DLG_CALLBACK)
		return false;
	if (status < 200)
		return true;
	const struct sip_env *env = &cb->sip->env;
	if (status >= 300) {
		/* nua ends this leg itself: no CANCEL from us. */
		cb->peer = NULL;
		o->caller = NULL;
		callback_failed(cb, callback_reason(status));
		return true;
	}
	o->answered = true;
	if (callback_customer_first(cb)) {
		callback_connected(cb, o, sip);
		return true;
	}
	struct dialog *agent = cb->agent;
	if (!agent || !dialog_take_answer(o, sip)) {
		callback_failed(cb, "failed");
		return true;
	}
	callback_stop_ring(cb);
	agent->say[0] = 0;
	media_bridge(env->media, o->mleg, agent->mleg);
	log_info("sip", "call %u: callback to %s answered, bridged", cb->call, cb->number);
	eng_ms now = clock_mono_ms();
	struct eng_call_view cv;
	if (engine_callback_reached(env->engine, now, cb->call) &&
	    engine_call_view(env->engine, now, cb->call, &cv))
		env->record_call(env->ctx, cb->call, cv.queue, cv.member, o->mleg, agent->mleg);
	ua_engine_done(env);
	return true;
}

void callback_gone(struct dialog *l)
{
	struct dialog *cb = l->caller;
	if (!cb || cb->kind != DLG_CALLBACK)
		return;
	if (l->kind == DLG_OUTBOUND) {
		l->caller = NULL;
		if (cb->peer != l)
			return;
		cb->peer = NULL;
		if (l->answered) {
			/* The customer hung up a callback in progress. */
			engine_talk_end(cb->sip->env.engine, clock_mono_ms(), cb->call);
			ua_engine_done(&cb->sip->env);
		} else {
			callback_failed(cb, "failed");
		}
		return;
	}
	if (l->kind == DLG_AGENT && cb->peer && !cb->peer->answered) {
		/* The agent hung up while the customer rang (the engine heard it as
		 * the end of the talk): stop ringing the customer. */
		struct dialog *o = cb->peer;
		callback_stop_ring(cb);
		cb->peer = NULL;
		o->caller = NULL;
		dialog_hangup(o);
	}
}

void callback_release(struct dialog *cb)
{
	struct dialog *o = cb->peer;
	if (o) {
		cb->peer = NULL;
		o->caller = NULL;
		dialog_hangup(o);
	}
	if (cb->agent)
		callback_detach_agent(cb->agent);
	dialog_free(cb);
}

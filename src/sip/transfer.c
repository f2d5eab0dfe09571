/* transfer.c — sending a caller to a destination outside the queues.
 *
 * The engine lets go of a call with REL_TRANSFER when it escalates past the
 * queues or the caller zeroes out: dest is "member:LOGIN" (ring that member's
 * phones), "group:A+B" (ring several members at once; the first answer wins,
 * the rest are cancelled), "uri:sip:..." (any SIP address; through a gateway
 * if its host is one's), "gateway:NAME/NUMBER" (an outside number through
 * that gateway, see gateway.h), "voicemail:LOGIN" (a prompt, then the
 * caller's message recorded) or "hangup"; after an agent's REFER (refer.c)
 * also "queue:NAME" (a new entry into that queue). From then on the
 * caller leg and the legs placed for it belong to this file alone: they end
 * by either side's BYE, by every leg failing, or by the ring timeout
 * (`transfer_ring` in callq.conf).
 */
#include "sip/ua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

static void transfer_cancel_others(struct dialog *caller, const struct dialog *keep)
{
	for (unsigned i = 0; i < caller->nout; i++) {
		struct dialog *o = caller->out[i];
		if (o != keep) {
			o->caller = NULL;
			dialog_hangup(o);
		}
	}
	caller->nout = 0;
}

static void transfer_give_up(struct dialog *caller, const char *why)
{
	log_info("sip", "call %u: transfer ends: %s", caller->call, why);
	refer_outcome(caller, 480);
	if (caller->ring_timer) {
		su_timer_destroy(caller->ring_timer);
		caller->ring_timer = NULL;
	}
	transfer_cancel_others(caller, NULL);
	dialog_hangup(caller);
}

static void transfer_ring_timeout(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	transfer_give_up((struct dialog *)arg, "nobody answered");
}

/* Rings uri, or (uri NULL) registered phone b the way it registered. */
static unsigned transfer_ring_uri(struct dialog *caller, const char *uri,
                                  const struct reg_binding *b)
{
	struct dialog *o = dialog_new(caller->sip, DLG_OUTBOUND, NULL);
	if (!o)
		return 0;
	if ((uri ? gateway_place(o, uri, caller) : dialog_place_binding(o, b, caller)) < 0) {
		log_warn("sip", "call %u: cannot ring %s", caller->call, uri ? uri : b->uri);
		dialog_discard(o);
		return 0;
	}
	o->caller = caller;
	o->reported = true;
	caller->out[caller->nout++] = o;
	return 1;
}

/* Rings every live contact of `login`; returns how many legs were placed. */
static unsigned transfer_ring_member(struct dialog *caller, const char *login)
{
	struct sipua *s = caller->sip;
	struct reg_binding b[REG_CONTACTS_MAX];
	size_t n = registrar_contacts(s->reg, login, clock_mono_ms(), b, REG_CONTACTS_MAX);
	unsigned placed = 0;
	for (size_t i = 0; i < n && caller->nout < DLG_FORK_MAX; i++)
		placed += transfer_ring_uri(caller, NULL, &b[i]);
	return placed;
}

/* "A+B+C": rings each member in turn into the same fork. */
static unsigned transfer_ring_group(struct dialog *caller, const char *list)
{
	char login[ENG_NAME_MAX];
	unsigned placed = 0;
	while (*list) {
		size_t len = strcspn(list, "+");
		if (len < sizeof login) {
			memcpy(login, list, len);
			login[len] = 0;
			placed += transfer_ring_member(caller, login);
		}
		list += len + (list[len] == '+');
	}
	return placed;
}

/* A caller sent to a queue by its agent (REFER) enters it as a new call and
 * hears that queue's hold loop. */
static void transfer_enter_queue(struct dialog *caller, const char *name)
{
	struct sipua *s = caller->sip;
	const struct sip_env *env = &s->env;
	eng_ms now = clock_mono_ms();
	eng_id q = engine_queue_find(env->engine, name);
	const struct eng_queue_conf *qc = q ? engine_queue_conf(env->engine, q) : NULL;
	struct eng_call_info ci = { caller->number, caller->name, qc ? qc->number : "", "" };
	eng_id call = qc ? engine_call_enter(env->engine, now, q, &ci) : 0;
	if (!call || idmap_put(&s->calls, call, caller) < 0) {
		if (call)
			engine_call_hangup(env->engine, now, call);
		transfer_give_up(caller, "the queue refused the call");
		return;
	}
	caller->call = call;
	caller->reported = false;
	media_leg_hold(env->media, caller->mleg, qc->hold, qc->lang[0] ? qc->lang : "en");
	log_info("sip", "call %u: entered %s by transfer", call, name);
	refer_outcome(caller, 200);
}

void transfer_start(struct dialog *caller, const char *dest)
{
	struct sipua *s = caller->sip;
	unsigned placed = 0;
	log_info("sip", "call %u: transfer to %s", caller->call, dest);
	if (caller->peer)
		return;   /* connected already: an attended transfer (refer.c) */
	if (!strncmp(dest, "queue:", 6)) {
		transfer_enter_queue(caller, dest + 6);
		return;
	}
	if (!strncmp(dest, "member:", 7))
		placed = transfer_ring_member(caller, dest + 7);
	else if (!strncmp(dest, "group:", 6))
		placed = transfer_ring_group(caller, dest + 6);
	else if (!strncmp(dest, "uri:", 4) || !strncmp(dest, "gateway:", 8))
		placed = transfer_ring_uri(caller, dest, NULL);   /* gateway_place reads both */
	else if (!strncmp(dest, "voicemail:", 10)) {
		/* The prompt first; its end (MEV_PLAYED) starts the recording. */
		snprintf(caller->voicemail, sizeof caller->voicemail, "%s", dest + 10);
		media_leg_play(s->env.media, caller->mleg, "en/leave-message.wav");
		return;
	}
	if (!placed) {
		transfer_give_up(caller, strcmp(dest, "hangup") ? "no phone to ring" : "hangup");
		return;
	}
	caller->ring_timer = su_timer_create(su_root_task(s->env.root), 0);
	if (caller->ring_timer)
		su_timer_set_interval(caller->ring_timer, transfer_ring_timeout,
		                      (su_timer_arg_t *)caller,
		                      s->env.conf->transfer_ring_s * 1000);
}

static void transfer_drop_out(struct dialog *caller, struct dialog *o)
{
	for (unsigned i = 0; i < caller->nout; i++) {
		if (caller->out[i] == o) {
			caller->out[i] = caller->out[--caller->nout];
			break;
		}
	}
	o->caller = NULL;
}

void transfer_response(struct dialog *o, int status, const sip_t *sip)
{
	struct dialog *caller = o->caller;
	if (callback_response(o, status, sip) || status < 200)
		return;
	if (status >= 300) {
		if (caller) {
			transfer_drop_out(caller, o);
			if (!caller->nout && !caller->peer)
				transfer_give_up(caller, "every phone refused");
		}
		return;
	}
	o->answered = true;
	if (!caller || caller->peer || !dialog_take_answer(o, sip)) {
		dialog_hangup(o);
		return;
	}
	transfer_cancel_others(caller, o);
	if (caller->ring_timer) {
		su_timer_destroy(caller->ring_timer);
		caller->ring_timer = NULL;
	}
	caller->peer = o;
	o->peer = caller;
	media_bridge(caller->sip->env.media, caller->mleg, o->mleg);
	log_info("sip", "call %u: transfer answered", caller->call);
	refer_outcome(caller, 200);
}

void transfer_gone(struct dialog *l)
{
	if (l->kind == DLG_OUTBOUND) {
		if (l->peer) {
			l->peer->peer = NULL;
			dialog_hangup(l->peer);
		} else if (l->caller) {
			struct dialog *caller = l->caller;
			transfer_drop_out(caller, l);
			if (!caller->nout && !caller->peer)
				transfer_give_up(caller, "every phone failed");
		}
		return;
	}
	if (l->kind != DLG_CALLER)
		return;
	if (l->ring_timer) {
		su_timer_destroy(l->ring_timer);
		l->ring_timer = NULL;
	}
	transfer_cancel_others(l, NULL);
	if (l->peer) {
		l->peer->peer = NULL;
		l->peer->caller = NULL;   /* l is about to be freed */
		dialog_hangup(l->peer);
	}
}

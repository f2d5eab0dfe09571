/* dialog.c — caller, agent and feature-code legs, and the engine's SIP actions.
 *
 * Every leg ends in dialog_terminated(), reached only from nua's terminated call
 * state. That is where the engine hears about it (once: `reported`), and the
 * only place a leg is freed. Hang-ups we start ourselves (dialog_hangup) just send
 * the BYE or CANCEL and wait for that state like any other end.
 */
#include "sip/ua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_status.h>

#include "core/log.h"

struct dialog *dialog_new(struct sipua *s, enum dialog_kind kind, nua_handle_t *nh)
{
	struct dialog *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->kind = kind;
	l->sip = s;
	l->nh = nh;
	if (kind != DLG_AGENT)
		s->ncallers++;
	return l;
}

static int dialog_media(struct dialog *l, unsigned *port)
{
	l->mleg = media_leg_new(l->sip->app->media, port);
	if (!l->mleg)
		return -1;
	if (idmap_put(&l->sip->mlegs, l->mleg, l) < 0) {
		media_leg_free(l->sip->app->media, l->mleg);
		l->mleg = 0;
		return -1;
	}
	return 0;
}

static int dialog_remote(struct dialog *l, const struct sdpneg *r)
{
	return media_leg_remote(l->sip->app->media, l->mleg, r->ip, r->port,
	                        r->codecs[0] == 8 ? MEDIA_PCMA : MEDIA_PCMU, r->dtmf_pt);
}

int dialog_answer(struct dialog *l, const struct sdpneg *remote)
{
	struct sipua *s = l->sip;
	unsigned port;
	char sdp[1024];
	if (dialog_media(l, &port) < 0 || dialog_remote(l, remote) < 0)
		return -1;
	size_t n = sdpneg_build(sdp, sizeof sdp, s->app->conf.rtp_ip, port, remote->codecs,
	                        remote->ncodecs, remote->dtmf_pt, ++s->sdp_version);
	if (!n)
		return -1;
	nua_respond(l->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
	            SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	l->answered = true;
	return 0;
}

void dialog_hangup(struct dialog *l)
{
	if (l->closing)
		return;
	l->closing = true;
	if (l->kind == DLG_AGENT && !l->answered)
		nua_cancel(l->nh, TAG_END());
	else if (l->answered)
		nua_bye(l->nh, TAG_END());
	else
		nua_respond(l->nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
}

/* Unlinks an agent leg from its caller and from the offer map. */
static void dialog_detach_agent(struct dialog *a)
{
	if (a->caller && a->caller->agent == a)
		a->caller->agent = NULL;
	a->caller = NULL;
	if (a->offer && idmap_get(&a->sip->offers, a->offer) == a)
		idmap_del(&a->sip->offers, a->offer);
}

/* Tells the engine this leg is gone, if it has not heard yet. */
static void dialog_report(struct dialog *l)
{
	struct app *app = l->sip->app;
	eng_ms now = app_now();
	if (l->reported)
		return;
	l->reported = true;
	if (l->kind == DLG_CALLER && l->call)
		engine_call_hangup(app->engine, now, l->call);
	else if (l->kind == DLG_AGENT && l->answered && l->call)
		engine_talk_end(app->engine, now, l->call);
	else if (l->kind == DLG_AGENT && l->offer)
		engine_offer_failed(app->engine, now, l->offer, "unreachable");
	app_engine_done(app);
}

void dialog_terminated(struct dialog *l)
{
	struct sipua *s = l->sip;
	l->closing = true; /* the dialog is over: nothing more may be sent on it */
	dialog_report(l);
	if (l->kind == DLG_AGENT)
		dialog_detach_agent(l);
	else
		s->ncallers--;
	if (l->kind == DLG_CALLER && l->call && idmap_get(&s->calls, l->call) == l)
		idmap_del(&s->calls, l->call);
	if (l->agent)
		l->agent->caller = NULL;
	if (l->mleg) {
		idmap_del(&s->mlegs, l->mleg);
		media_leg_free(s->app->media, l->mleg);
	}
	nua_handle_bind(l->nh, NULL);
	nua_handle_destroy(l->nh);
	free(l);
}

static const char *dialog_miss_reason(int status)
{
	if (status == 486 || status == 600 || status == 603)
		return "rejected";
	if (status == 408 || status == 480 || status == 487)
		return "timeout";
	return "unreachable";
}

/* A final response to our INVITE to an agent. */
void dialog_agent_response(struct dialog *l, int status, const sip_t *sip)
{
	struct app *app = l->sip->app;
	if (status < 200)
		return;
	if (status >= 300) {
		if (!l->reported && l->offer) {
			l->reported = true;
			log_info("sip", "offer %u to agent leg: %d", l->offer, status);
			engine_offer_failed(app->engine, app_now(), l->offer, dialog_miss_reason(status));
			dialog_detach_agent(l);
			app_engine_done(app);
		}
		return;
	}
	l->answered = true;
	struct sdpneg r;
	char err[128];
	const sip_payload_t *pl = sip ? sip->sip_payload : NULL;
	bool usable = pl && sdpneg_parse(pl->pl_data, pl->pl_len, &r, err, sizeof err) == 0 &&
	              r.ncodecs > 0 && dialog_remote(l, &r) == 0;
	if (l->closing || l->reported || !usable) {
		if (!usable)
			log_warn("sip", "agent answered offer %u without usable SDP", l->offer);
		l->closing = false;
		dialog_hangup(l);
		return;
	}
	if (!engine_offer_answered(app->engine, app_now(), l->offer)) {
		l->reported = true;
		dialog_detach_agent(l);
		dialog_hangup(l);
	}
	app_engine_done(app);
}

static void dialog_uri_user(char *out, size_t cap, const char *number)
{
	size_t k = 0;
	for (const char *p = number; *p && k + 1 < cap; p++)
		if ((*p >= '0' && *p <= '9') || *p == '+' || *p == '*' || *p == '#')
			out[k++] = *p;
	out[k] = 0;
	if (!k)
		snprintf(out, cap, "anonymous");
}

static void dialog_display(char *out, size_t cap, const char *name)
{
	size_t k = 0;
	for (const char *p = name; *p && k + 1 < cap; p++)
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			out[k++] = *p;
	out[k] = 0;
}

static int dialog_invite(struct sipua *s, struct dialog *l, const char *contact,
                      const struct eng_call_view *cv)
{
	unsigned port;
	char sdp[1024], from[256], user[ENG_NUMBER_MAX], disp[ENG_NAME_MAX];
	static const int codecs[] = { 0, 8 };
	if (dialog_media(l, &port) < 0)
		return -1;
	size_t n = sdpneg_build(sdp, sizeof sdp, s->app->conf.rtp_ip, port, codecs, 2, 101,
	                        ++s->sdp_version);
	dialog_uri_user(user, sizeof user, cv->caller_number);
	dialog_display(disp, sizeof disp, cv->caller_name);
	snprintf(from, sizeof from, "\"%s\" <sip:%s@%s>", disp, user, s->app->conf.sip_listen);
	l->nh = nua_handle(s->nua, l, NUTAG_URL(contact), SIPTAG_TO_STR(contact),
	                   SIPTAG_FROM_STR(from), TAG_END());
	if (!n || !l->nh)
		return -1;
	nua_invite(l->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
	           TAG_END());
	return 0;
}

void sipua_offer(sipua_t *s, const struct eng_action *a)
{
	struct app *app = s->app;
	eng_ms now = app_now();
	struct dialog *caller = idmap_get(&s->calls, a->call);
	struct eng_member_view mv;
	struct eng_call_view cv;
	struct reg_binding b[1];
	if (!caller || !engine_member_view(app->engine, now, a->member, &mv) ||
	    !engine_call_view(app->engine, now, a->call, &cv) ||
	    registrar_contacts(s->reg, mv.login, now, b, 1) == 0) {
		log_info("sip", "offer %u: member %u has no registered phone", a->offer, a->member);
		engine_offer_failed(app->engine, now, a->offer, "unreachable");
		return;
	}
	struct dialog *l = dialog_new(s, DLG_AGENT, NULL);
	if (!l || dialog_invite(s, l, b[0].uri, &cv) < 0 || idmap_put(&s->offers, a->offer, l) < 0) {
		log_error("sip", "offer %u: cannot create agent leg", a->offer);
		if (l && l->nh) {
			l->reported = true;
			l->closing = true;
			nua_cancel(l->nh, TAG_END());
		} else if (l) {
			if (l->mleg) {
				idmap_del(&s->mlegs, l->mleg);
				media_leg_free(app->media, l->mleg);
			}
			free(l);
		}
		engine_offer_failed(app->engine, now, a->offer, "unreachable");
		return;
	}
	l->call = a->call;
	l->offer = a->offer;
	l->caller = caller;
	caller->agent = l;
	log_info("sip", "call %u: offering to %s at %s", a->call, mv.login, b[0].uri);
}

void sipua_cancel_offer(sipua_t *s, const struct eng_action *a)
{
	struct dialog *l = idmap_get(&s->offers, a->offer);
	if (!l)
		return;
	l->reported = true;
	dialog_detach_agent(l);
	dialog_hangup(l);
}

void sipua_bridge(sipua_t *s, const struct eng_action *a)
{
	struct dialog *agent = idmap_get(&s->offers, a->offer);
	struct dialog *caller = idmap_get(&s->calls, a->call);
	if (!agent || !caller) {
		log_error("sip", "bridge for call %u: leg missing", a->call);
		return;
	}
	media_bridge(s->app->media, caller->mleg, agent->mleg);
	log_info("sip", "call %u: bridged", a->call);
}

void sipua_release(sipua_t *s, const struct eng_action *a)
{
	struct dialog *caller = idmap_del(&s->calls, a->call);
	if (!caller)
		return;
	struct dialog *agent = caller->agent;
	if (agent) {
		agent->reported = true;
		dialog_detach_agent(agent);
		dialog_hangup(agent);
	}
	caller->reported = true;
	dialog_hangup(caller);
}

void sipua_media_event(sipua_t *s, const struct media_event *ev)
{
	struct dialog *l = idmap_get(&s->mlegs, ev->leg);
	if (!l)
		return;
	switch (ev->kind) {
	case MEV_PLAYED:
		if (l->kind == DLG_FEATURE)
			dialog_hangup(l);
		break;
	case MEV_TIMEOUT:
		log_info("sip", "leg of call %u: no RTP, hanging up", l->call);
		dialog_hangup(l);
		break;
	case MEV_DTMF:
		log_debug("sip", "call %u: DTMF %c", l->call, ev->digit);
		break;
	}
}

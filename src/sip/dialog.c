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

#include <netdb.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/url.h>

#include "core/clock.h"
#include "core/log.h"

/* Whether the peer's Allow (INVITE or 2xx) names UPDATE. */
static bool dialog_allows_update(const sip_t *sip)
{
	return sip && sip->sip_allow && sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
}

/* Handle settings of a dialog: re-INVITEs and REFERs (refer.c answers 202 or a
 * refusal itself) are ours to answer, INFO in it nua's (out-of-dialog ones
 * are refused in ua.c); a session refresh
 * that falls to us goes by UPDATE when the peer allows it (RFC 4028 9). */
static void dialog_hparams(struct dialog *l, const sip_t *peer)
{
	nua_set_hparams(l->nh, NUTAG_APPL_METHOD(NULL), NUTAG_APPL_METHOD("INVITE"),
	                NUTAG_APPL_METHOD("REFER"),
	                TAG_IF(dialog_allows_update(peer), NUTAG_UPDATE_REFRESH(1)), TAG_END());
}

/* A phone that called us over TLS is reached over that same connection for
 * the rest of the dialog (BYE, re-INVITE): its Contact names a listener that
 * may not exist (a phone has no server certificate) or sits behind NAT, so
 * the request's source becomes the handle's outbound proxy, as for offers to
 * a binding's flow (route.h). */
static void dialog_flow_back(struct dialog *l, msg_t *msg)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	char host[REG_HOST_MAX], port[NI_MAXSERV], hp[REG_HOST_MAX + 16], flow[ROUTE_URI_MAX];
	if (strcmp(l->transport, "tls") || !ai || !ai->ai_addr ||
	    getnameinfo(ai->ai_addr, (socklen_t)ai->ai_addrlen, host, sizeof host, port, sizeof port,
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0 ||
	    route_hostport(hp, sizeof hp, host, (unsigned)atoi(port)) < 0)
		return;
	snprintf(flow, sizeof flow, "sip:%s;transport=tls", hp);
	nua_set_hparams(l->nh, NUTAG_PROXY(flow), TAG_END());
}

struct dialog *dialog_new(struct sipua *s, enum dialog_kind kind, nua_handle_t *nh)
{
	/* Every leg counts: two per call (README, max_calls). */
	if (s->nlegs >= 2 * s->env.conf->max_calls)
		return NULL;
	struct dialog *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	s->nlegs++;
	l->kind = kind;
	l->sip = s;
	l->nh = nh;
	if (nh) {
		/* Made for an incoming INVITE, the request nua is delivering now. */
		msg_t *msg = nua_current_request(s->nua);
		const sip_t *req = msg ? sip_object(msg) : NULL;
		su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
		guard_addr_of(ai ? ai->ai_addr : NULL, &l->src);
		snprintf(l->transport, sizeof l->transport, "%s",
		         route_transport(req && req->sip_via ? req->sip_via->v_protocol : NULL));
		dialog_hparams(l, req);
		dialog_flow_back(l, msg);
	}
	l->live_next = s->live;
	if (s->live)
		s->live->live_prev = l;
	s->live = l;
	if (kind == DLG_CALLER || kind == DLG_FEATURE)
		s->ncallers++;
	return l;
}

/* near: the media leg this one will be bridged to (0: none yet). */
static int dialog_media(struct dialog *l, unsigned *port, media_leg near)
{
	l->mleg = media_leg_new_near(l->sip->env.media, port, near);
	l->port = *port;
	if (!l->mleg)
		return -1;
	if (idmap_put(&l->sip->mlegs, l->mleg, l) < 0) {
		media_leg_free(l->sip->env.media, l->mleg);
		l->mleg = 0;
		return -1;
	}
	return 0;
}

/* The leg also takes RTP from where the SIP message being handled (INVITE,
 * re-INVITE or 200 OK) came from: behind NAT the SDP names a private address. */
static void dialog_allow_source(struct dialog *l)
{
	msg_t *msg = nua_current_request(l->sip->nua);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	char ip[NI_MAXHOST];
	if (ai && ai->ai_addr && getnameinfo(ai->ai_addr, (socklen_t)ai->ai_addrlen, ip, sizeof ip,
	                                     NULL, 0, NI_NUMERICHOST) == 0)
		media_leg_allow(l->sip->env.media, l->mleg, ip);
}

/* SRTP from the remote's SDP (an offer, or the answer to ours): the keys
 * reach the media leg before its address, so nothing is sent in clear. -1 if
 * the SDP will not do: a leg that is (or offered) SRTP without a crypto line
 * we support. */
static int dialog_srtp(struct dialog *l, const struct sdpneg *r)
{
	const struct sdes *c = &r->crypto;
	if (!c->suite)
		return l->srtp ? -1 : 0;
	if (l->srtp_local.suite != c->suite && sdes_new(&l->srtp_local, c->tag, c->suite) < 0)
		return -1;
	l->srtp_local.tag = c->tag;
	if (!l->srtp)
		l->srtp_savp = r->savp;
	if (media_leg_srtp(l->sip->env.media, l->mleg, c->suite, l->srtp_local.key, c->key) < 0)
		return -1;
	l->srtp = true;
	return 0;
}

/* Our key for the SDP we send, or NULL for plain RTP. */
static const struct sdes *dialog_crypto(const struct dialog *l)
{
	return l->srtp ? &l->srtp_local : NULL;
}

static int dialog_remote(struct dialog *l, const struct sdpneg *r)
{
	media_t *m = l->sip->env.media;
	if (dialog_srtp(l, r) < 0)
		return -1;
	if (media_leg_remote(m, l->mleg, r->ip, r->port, r->codecs[0] == 8 ? MEDIA_PCMA : MEDIA_PCMU,
	                     r->dtmf_pt) < 0)
		return -1;
	dialog_allow_source(l);
	return media_leg_quiet(m, l->mleg, r->quiet);
}

/* Our Contact for this dialog, naming its transport; false (nua's own
 * Contact then) when we listen on a wildcard address. */
static bool dialog_contact(const struct dialog *l, char *out, size_t cap)
{
	const struct conf *c = l->sip->env.conf;
	if (!strcmp(c->sip_listen, "0.0.0.0") || !strcmp(c->sip_listen, "::") ||
	    !strcmp(c->sip_listen, "*"))
		return false;
	unsigned port = !strcmp(l->transport, "tls") ? c->sip_tls_port : c->sip_port;
	return route_contact(out, cap, "", c->sip_listen, port, l->transport) == 0;
}

/* 200 OK to an INVITE with our SDP: an answer to the remote's offer, or
 * (remote NULL) an offer of what we have. */
static int dialog_respond_sdp(struct dialog *l, const struct sdpneg *remote)
{
	struct sipua *s = l->sip;
	static const int ours[] = { 0, 8 };
	char sdp[1024], contact[ROUTE_URI_MAX];
	size_t n = remote ? sdpneg_build(sdp, sizeof sdp, s->env.conf->rtp_ip, l->port, remote->codecs,
	                                 remote->ncodecs, remote->dtmf_pt, ++s->sdp_version,
	                                 remote->reply_dir, dialog_crypto(l), l->srtp_savp)
	                  : sdpneg_build(sdp, sizeof sdp, s->env.conf->rtp_ip, l->port, ours, 2, 101,
	                                 ++s->sdp_version, "sendrecv", dialog_crypto(l), l->srtp_savp);
	if (!n)
		return -1;
	bool own = dialog_contact(l, contact, sizeof contact);
	nua_respond(l->nh, SIP_200_OK, TAG_IF(own, SIPTAG_CONTACT_STR(contact)),
	            SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	return 0;
}

int dialog_answer_unsent(struct dialog *l, const struct sdpneg *remote)
{
	unsigned port;
	if (dialog_media(l, &port, 0) < 0 || dialog_respond_sdp(l, remote) < 0)
		return -1;
	l->answered = true;
	l->pending_sdp = *remote;
	l->media_pending = true;
	return 0;
}

int dialog_media_start(struct dialog *l)
{
	if (!l->media_pending)
		return 0;
	l->media_pending = false;
	return l->mleg ? dialog_remote(l, &l->pending_sdp) : -1;
}

int dialog_answer(struct dialog *l, const struct sdpneg *remote)
{
	unsigned port;
	if (dialog_media(l, &port, 0) < 0 || dialog_remote(l, remote) < 0 ||
	    dialog_respond_sdp(l, remote) < 0)
		return -1;
	l->answered = true;
	return 0;
}

/* An agent (or a transfer's far end) holding the caller: the caller hears the
 * queue's hold loop meanwhile, and the recording pauses. */
static void dialog_hold(struct dialog *l, bool on)
{
	const struct sip_env *env = &l->sip->env;
	struct dialog *caller = l->kind == DLG_AGENT ? l->caller : l->kind == DLG_OUTBOUND ? l->peer : NULL;
	struct eng_call_view cv;
	const struct eng_queue_conf *qc = NULL;
	if (!caller || !l->answered)
		return;
	if (caller->call && engine_call_view(env->engine, clock_mono_ms(), caller->call, &cv))
		qc = engine_queue_conf(env->engine, cv.queue);
	media_bridge_hold(env->media, caller->mleg, on, qc ? qc->hold : NULL,
	                  qc && qc->lang[0] ? qc->lang : "en");
}

/* The SDP's media address is one we may send to (admit.h), judged by where
 * the SIP message being handled came from. */
static bool dialog_media_addr_ok(struct dialog *l, const struct sdpneg *r)
{
	msg_t *msg = nua_current_request(l->sip->nua);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	if (admit_media_addr(r->ip, r->hold, ai ? ai->ai_addr : NULL))
		return true;
	log_info("sip", "call %u: media address %s refused", l->call, r->ip);
	return false;
}

void dialog_reinvite(struct dialog *l, const sip_t *sip)
{
	struct sdpneg r;
	char err[128];
	const sip_payload_t *pl = sip->sip_payload;
	if (l->mleg && !l->closing && !pl) {
		/* An offerless re-INVITE (a session refresh, RFC 4028): we offer what
		 * we have, and the ACK brings the answer (dialog_ack). */
		if (dialog_respond_sdp(l, NULL) < 0) {
			nua_respond(l->nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
			return;
		}
		l->offer_in_200 = true;
		log_info("sip", "call %u: re-INVITE without SDP, offered ours", l->call);
		return;
	}
	if (!l->mleg || l->closing || !pl ||
	    sdpneg_parse(pl->pl_data, pl->pl_len, &r, err, sizeof err) < 0 || r.ncodecs == 0 ||
	    ((l->srtp || r.savp) && !r.crypto.suite) || !dialog_media_addr_ok(l, &r)) {
		nua_respond(l->nh, 488, "Not Acceptable Here", TAG_END());
		return;
	}
	l->media_pending = false;
	if (dialog_remote(l, &r) < 0 || dialog_respond_sdp(l, &r) < 0) {
		nua_respond(l->nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	log_info("sip", "call %u: re-INVITE%s", l->call, r.hold ? " (hold)" : "");
	dialog_hold(l, r.hold);
}

/* The remote's answer to our offer, applied to the leg; false if unusable. */
static bool dialog_apply_answer(struct dialog *l, const sip_t *sip, struct sdpneg *r)
{
	char err[128];
	const sip_payload_t *pl = sip ? sip->sip_payload : NULL;
	if (pl && sdpneg_parse(pl->pl_data, pl->pl_len, r, err, sizeof err) == 0 && r->ncodecs > 0 &&
	    dialog_remote(l, r) == 0)
		return true;
	log_warn("sip", "call %u: answer without usable SDP (%s)", l->call, pl ? err : "no body");
	return false;
}

void dialog_ack(struct dialog *l, const sip_t *sip)
{
	struct sdpneg r;
	if (!l->offer_in_200)
		return;
	l->offer_in_200 = false;
	if (!l->mleg || l->closing)
		return;
	if (!dialog_apply_answer(l, sip, &r)) {
		dialog_hangup(l);
		return;
	}
	dialog_hold(l, r.hold);
}

/* ACK to the 2xx of a refresh re-INVITE that nua sent without SDP (on a
 * dialog the peer started: nua has no INVITE of ours to resend): the 2xx
 * holds the peer's offer, the ACK our answer (RFC 3261 13.2.1). */
static void dialog_ack_offer(struct dialog *l, const sip_t *sip)
{
	struct sipua *s = l->sip;
	struct sdpneg r;
	char sdp[1024];
	const sip_payload_t *pl = sip ? sip->sip_payload : NULL;
	if (!pl || !l->mleg || l->closing) {
		nua_ack(l->nh, TAG_END());
		return;
	}
	if (!dialog_apply_answer(l, sip, &r) ||
	    !sdpneg_build(sdp, sizeof sdp, s->env.conf->rtp_ip, l->port, r.codecs, r.ncodecs,
	                  r.dtmf_pt, ++s->sdp_version, r.reply_dir, dialog_crypto(l), l->srtp_savp)) {
		nua_ack(l->nh, TAG_END());
		dialog_hangup(l);
		return;
	}
	nua_ack(l->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	dialog_hold(l, r.hold);
}

bool dialog_invite_response(struct dialog *l, int status, const sip_t *sip)
{
	struct sdpneg r;
	bool refresh = !l->offered;
	/* On a dialog we started, nua refreshes by resending our INVITE, offer
	 * and all: its 2xx answers, like the first one. */
	bool ours = l->kind != DLG_CALLER && l->kind != DLG_FEATURE;
	if (status >= 200 && status < 300) {
		if (refresh && !ours) {
			dialog_ack_offer(l, sip);
		} else {
			nua_ack(l->nh, TAG_END());
			if (refresh && l->mleg && !l->closing && sip && sip->sip_payload &&
			    dialog_apply_answer(l, sip, &r))
				dialog_hold(l, r.hold);
		}
		if (!refresh && dialog_allows_update(sip))
			nua_set_hparams(l->nh, NUTAG_UPDATE_REFRESH(1), TAG_END());
	}
	if (status >= 200)
		l->offered = false;
	return refresh;
}

/* A leg that will never carry audio gives its RTP port back at once: an
 * unanswered INVITE may linger for 32 s (timer B) before nua ends it, and
 * at high call rates those ports would run out. */
static void dialog_drop_media(struct dialog *l)
{
	if (!l->mleg)
		return;
	idmap_del(&l->sip->mlegs, l->mleg);
	media_leg_free(l->sip->env.media, l->mleg);
	l->mleg = 0;
}

/* Legs we placed (INVITEs we sent), as opposed to INVITEs we answered. */
static bool dialog_outgoing(const struct dialog *l)
{
	return l->kind == DLG_AGENT || l->kind == DLG_OUTBOUND || l->kind == DLG_SPY;
}

void dialog_hangup(struct dialog *l)
{
	if (l->kind == DLG_CALLBACK) {
		callback_release(l);   /* no dialog to end: its legs end, it goes */
		return;
	}
	if (l->closing)
		return;
	l->closing = true;
	if (dialog_outgoing(l) && !l->answered) {
		dialog_drop_media(l);
		nua_cancel(l->nh, TAG_END());
	}
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
	const struct sip_env *env = &l->sip->env;
	eng_ms now = clock_mono_ms();
	if (l->reported)
		return;
	l->reported = true;
	if (l->kind == DLG_CALLER && l->call)
		engine_call_hangup(env->engine, now, l->call);
	else if (l->kind == DLG_AGENT && l->answered && l->call)
		engine_talk_end(env->engine, now, l->call);
	else if (l->kind == DLG_AGENT && l->offer)
		engine_offer_failed(env->engine, now, l->offer, "unreachable");
	ua_engine_done(env);
}

void dialog_terminated(struct dialog *l)
{
	struct sipua *s = l->sip;
	l->closing = true; /* the dialog is over: nothing more may be sent on it */
	dialog_report(l);
	callback_gone(l);
	transfer_gone(l);
	refer_gone(l);
	if (l->kind == DLG_AGENT)
		dialog_detach_agent(l);
	else if (l->kind == DLG_CALLER || l->kind == DLG_FEATURE)
		s->ncallers--;
	if (l->kind == DLG_CALLER && l->call && idmap_get(&s->calls, l->call) == l)
		idmap_del(&s->calls, l->call);
	if (l->agent)
		l->agent->caller = NULL;
	nua_handle_bind(l->nh, NULL);
	nua_handle_destroy(l->nh);
	dialog_free(l);
}

static const char *dialog_miss_reason(int status)
{
	if (status == 486 || status == 600 || status == 603)
		return "rejected";
	if (status == 408 || status == 480 || status == 487)
		return "timeout";
	return "unreachable";
}

bool dialog_take_answer(struct dialog *l, const sip_t *sip)
{
	struct sdpneg r;
	if (!l->mleg)
		return false;   /* given up already (dialog_drop_media): a BYE follows */
	return dialog_apply_answer(l, sip, &r);
}

/* A final response to our INVITE to an agent. */
void dialog_agent_response(struct dialog *l, int status, const sip_t *sip)
{
	const struct sip_env *env = &l->sip->env;
	if (status < 200)
		return;
	if (status >= 300) {
		dialog_drop_media(l);
		if (!l->reported && l->offer) {
			l->reported = true;
			log_info("sip", "offer %u to agent leg: %d", l->offer, status);
			engine_offer_failed(env->engine, clock_mono_ms(), l->offer, dialog_miss_reason(status));
			dialog_detach_agent(l);
			ua_engine_done(env);
		}
		return;
	}
	l->answered = true;
	bool usable = dialog_take_answer(l, sip);
	if (l->closing || l->reported || !usable) {
		l->closing = false;
		dialog_hangup(l);
		return;
	}
	if (!engine_offer_answered(env->engine, clock_mono_ms(), l->offer)) {
		l->reported = true;
		dialog_detach_agent(l);
		dialog_hangup(l);
	}
	ua_engine_done(env);
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

/* The transport a SIP URI asks for (";transport=tcp"), else UDP. */
static void dialog_uri_transport(struct dialog *l, const char *uri)
{
	char t[REG_TRANSPORT_MAX] = "";
	url_t *u = url_make(NULL, uri);
	if (!u || url_param(u->url_params, "transport", t, sizeof t) <= 0)
		snprintf(t, sizeof t, "%s", u && u->url_type == url_sips ? "tls" : "udp");
	su_free(NULL, u);
	snprintf(l->transport, sizeof l->transport, "%s", route_transport(t));
}

/* The INVITE to uri; with a binding, sent along its flow or Path. From is
 * from_uri (a gateway's account), or by default the caller's number at our
 * host; either way the caller's name is its display name. */
static int dialog_invite(struct dialog *l, const char *uri, const struct reg_binding *b,
                         const char *from_uri, const struct dialog *caller)
{
	struct sipua *s = l->sip;
	unsigned port;
	char sdp[1024], from[512], user[ENG_NUMBER_MAX], disp[ENG_NAME_MAX], host[REG_HOST_MAX + 16];
	char flow[ROUTE_URI_MAX] = "", contact[ROUTE_URI_MAX];
	static const int codecs[] = { 0, 8 };
	if (dialog_media(l, &port, caller->mleg) < 0 || (b && route_flow(flow, sizeof flow, b) < 0))
		return -1;
	if (b)
		snprintf(l->transport, sizeof l->transport, "%s", b->transport);
	else
		dialog_uri_transport(l, uri);
	/* Over TLS the keys are safe in the SDP: offer SRTP only (RTP/SAVP). */
	if (!strcmp(l->transport, "tls")) {
		if (sdes_new(&l->srtp_local, 1, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80) < 0)
			return -1;
		l->srtp = l->srtp_savp = true;
	}
	size_t n = sdpneg_build(sdp, sizeof sdp, s->env.conf->rtp_ip, port, codecs, 2, 101,
	                        ++s->sdp_version, "sendrecv", dialog_crypto(l), l->srtp_savp);
	dialog_display(disp, sizeof disp, caller->name);
	if (from_uri) {
		snprintf(from, sizeof from, "\"%s\" <%s>", disp, from_uri);
	} else {
		if (route_hostport(host, sizeof host, s->env.conf->sip_listen, s->env.conf->sip_port) < 0)
			return -1;
		/* From names our host only (no port), as before; brackets for IPv6. */
		*strrchr(host, ':') = 0;
		dialog_uri_user(user, sizeof user, caller->number);
		snprintf(from, sizeof from, "\"%s\" <sip:%s@%s>", disp, user, host);
	}
	bool own = dialog_contact(l, contact, sizeof contact);
	l->nh = nua_handle(s->nua, l, NUTAG_URL(uri), SIPTAG_TO_STR(uri), SIPTAG_FROM_STR(from),
	                   TAG_END());
	if (!n || !l->nh)
		return -1;
	dialog_hparams(l, NULL);
	if (flow[0] || (b && b->path[0]))
		nua_set_hparams(l->nh, TAG_IF(flow[0], NUTAG_PROXY(flow)),
		                TAG_IF(b && b->path[0], NUTAG_INITIAL_ROUTE_STR(b ? b->path : NULL)),
		                TAG_END());
	l->offered = true;
	nua_invite(l->nh, TAG_IF(own, SIPTAG_CONTACT_STR(contact)),
	           SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	return 0;
}

int dialog_place(struct dialog *l, const char *uri, const struct dialog *caller)
{
	return dialog_invite(l, uri, NULL, NULL, caller);
}

int dialog_place_as(struct dialog *l, const char *uri, const char *from_uri,
                    const struct dialog *caller)
{
	return dialog_invite(l, uri, NULL, from_uri, caller);
}

int dialog_place_binding(struct dialog *l, const struct reg_binding *b,
                         const struct dialog *caller)
{
	return dialog_invite(l, b->uri, b, NULL, caller);
}

void dialog_discard(struct dialog *l)
{
	if (l->nh) {
		/* The INVITE went out: let nua finish it; the leg ends in terminated. */
		l->reported = true;
		dialog_hangup(l);
		return;
	}
	dialog_free(l);
}

void dialog_free(struct dialog *l)
{
	struct sipua *s = l->sip;
	if (l->ring_timer)
		su_timer_destroy(l->ring_timer);
	if (l->cb_timer)
		su_timer_destroy(l->cb_timer);
	if (l->mleg) {
		idmap_del(&s->mlegs, l->mleg);
		media_leg_free(s->env.media, l->mleg);
	}
	if (l->live_prev)
		l->live_prev->live_next = l->live_next;
	else
		s->live = l->live_next;
	if (l->live_next)
		l->live_next->live_prev = l->live_prev;
	s->nlegs--;
	free(l);
}

#define DIALOG_FAIL_DELAY_MS 500

static void dialog_fail_due(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	struct sipua *s = (struct sipua *)arg;
	const struct sip_env *env = &s->env;
	size_t n = s->nfailing;
	s->nfailing = 0;
	for (size_t i = 0; i < n; i++)
		engine_offer_failed(env->engine, clock_mono_ms(), s->failing[i].offer, s->failing[i].reason);
	ua_engine_done(env);
}

/* An offer that cannot even be placed fails a moment later, like a phone that
 * answers 480 at once: "unreachable" (no registered phone: the agent's miss)
 * or "local" (no free port, no leg: our fault, not counted against the agent).
 * Failing it on the spot would let the engine offer again within the same
 * transition. */
static void dialog_fail_later(struct sipua *s, eng_id offer, const char *reason)
{
	if (s->nfailing == s->capfailing) {
		size_t cap = s->capfailing ? s->capfailing * 2 : 64;
		struct dialog_failing *v = realloc(s->failing, cap * sizeof *v);
		if (!v) {
			log_error("sip", "offer %u: out of memory; it will time out", offer);
			return;
		}
		s->failing = v;
		s->capfailing = cap;
	}
	s->failing[s->nfailing].offer = offer;
	s->failing[s->nfailing++].reason = reason;
	if (s->nfailing == 1)
		su_timer_set_interval(s->fail_timer, dialog_fail_due, (su_timer_arg_t *)s,
		                      DIALOG_FAIL_DELAY_MS);
}

void sipua_offer(sipua_t *s, const struct eng_action *a)
{
	const struct sip_env *env = &s->env;
	eng_ms now = clock_mono_ms();
	struct dialog *caller = callback_leg(s, a->call);
	struct eng_member_view mv;
	struct reg_binding b[1];
	if (!caller || !engine_member_view(env->engine, now, a->member, &mv)) {
		log_error("sip", "offer %u: no caller leg for call %u or no member %u", a->offer, a->call,
		          a->member);
		dialog_fail_later(s, a->offer, "local");
		return;
	}
	if (registrar_contacts(s->reg, mv.login, now, b, 1) == 0) {
		log_info("sip", "offer %u: member %u has no registered phone", a->offer, a->member);
		dialog_fail_later(s, a->offer, "unreachable");
		return;
	}
	if (secure_member(s, mv.login) && strcmp(b[0].transport, "tls")) {
		log_warn("sip", "offer %u: %s must be reached over TLS; its phone registered over %s",
		         a->offer, mv.login, b[0].transport);
		dialog_fail_later(s, a->offer, "unreachable");
		return;
	}
	struct dialog *l = dialog_new(s, DLG_AGENT, NULL);
	if (!l || dialog_place_binding(l, &b[0], caller) < 0 ||
	    idmap_put(&s->offers, a->offer, l) < 0) {
		log_error("sip", "offer %u: cannot create agent leg", a->offer);
		if (l)
			dialog_discard(l);
		dialog_fail_later(s, a->offer, "local");
		return;
	}
	l->call = a->call;
	l->offer = a->offer;
	l->caller = caller;
	snprintf(l->member, sizeof l->member, "%s", mv.login);
	caller->agent = l;
	log_info("sip", "call %u: offering to %s at %s (from %s:%u over %s%s%s)", a->call, mv.login,
	         b[0].uri, b[0].src[0] ? b[0].src : "?", b[0].src_port, b[0].transport,
	         b[0].path[0] ? ", Path " : "", b[0].path);
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
	if (caller->kind == DLG_CALLBACK) {
		callback_bridge(caller, agent);
		return;
	}
	caller->say[0] = 0;      /* a callback question the agent's answer cut short */
	caller->cb = CB_NONE;
	media_bridge(s->env.media, caller->mleg, agent->mleg);
	log_info("sip", "call %u: bridged", a->call);
	s->env.record_call(s->env.ctx, a->call, a->queue, a->member, caller->mleg, agent->mleg);
}

bool sipua_call_media(sipua_t *s, eng_id call, media_leg *caller, media_leg *agent)
{
	struct dialog *c = idmap_get(&s->calls, call);
	if (!c || !c->agent || !c->agent->answered || c->agent->closing)
		return false;
	if (c->kind == DLG_CALLBACK && !(c = c->peer))
		return false;   /* a callback: its customer's leg, once dialed */
	*caller = c->mleg;
	*agent = c->agent->mleg;
	return true;
}

int sipua_spy_call(sipua_t *s, eng_id supervisor, const char *login, const char *agent_login,
                   enum media_spy_mode mode)
{
	struct reg_binding b[1];
	struct dialog me = { .number = "", .name = "callq supervision" };
	if (registrar_contacts(s->reg, login, clock_mono_ms(), b, 1) == 0)
		return -1;
	struct dialog *l = dialog_new(s, DLG_SPY, NULL);
	if (!l)
		return -1;
	if (dialog_place_binding(l, &b[0], &me) < 0) {
		dialog_discard(l);
		return -1;
	}
	l->reported = true;
	l->supervisor = supervisor;
	l->spy_mode = mode;
	snprintf(l->target, sizeof l->target, "%s", agent_login);
	return 0;
}

void dialog_spy_response(struct dialog *l, int status, const sip_t *sip)
{
	if (status < 200 || status >= 300)
		return;
	l->answered = true;
	if (!dialog_take_answer(l, sip) ||
	    !l->sip->env.spy(l->sip->env.ctx, l->supervisor, l->target, l->mleg, l->spy_mode)) {
		log_info("sip", "spy on %s: not on a call any more, or not allowed", l->target);
		dialog_hangup(l);
		return;
	}
	l->spying = true;
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
	if (caller->kind == DLG_CALLBACK)
		callback_release(caller);
	else if (a->release == REL_TRANSFER)
		transfer_start(caller, a->dest);
	else
		dialog_hangup(caller);
}

void dialog_digit(struct dialog *l, char digit)
{
	const struct sip_env *env = &l->sip->env;
	/* The guide's mode keys on the supervisor's phone: 4 listen, 5 whisper, 6 barge. */
	if (l->spying && digit >= '4' && digit <= '6') {
		l->spy_mode = (enum media_spy_mode)(digit - '4');
		media_spy_mode(env->media, l->mleg, l->spy_mode);
		return;
	}
	if (callback_digit(l, digit))
		return;
	if (l->kind == DLG_CALLER && !l->reported && l->call) {
		engine_call_digit(env->engine, clock_mono_ms(), l->call, digit);
		ua_engine_done(env);
	}
}

void sipua_media_event(sipua_t *s, const struct media_event *ev)
{
	struct dialog *l = idmap_get(&s->mlegs, ev->leg);
	if (!l) {
		/* The leg is gone; a recording's end must still reach its row. */
		if (ev->kind == MEV_RECORD_DONE || ev->kind == MEV_RECORD_FAILED)
			s->env.record_event(s->env.ctx, ev);
		return;
	}
	switch (ev->kind) {
	case MEV_PLAYED:
		if (callback_played(l))
			break;
		if (l->kind == DLG_FEATURE && !l->spying)
			dialog_hangup(l);
		else if (l->kind == DLG_CALLER && l->voicemail[0] &&
		         !s->env.record_voicemail(s->env.ctx, l->voicemail, l->mleg))
			dialog_hangup(l);
		break;
	case MEV_SPY_END:
		dialog_hangup(l);
		break;
	case MEV_RECORD_DONE:
	case MEV_RECORD_FAILED:
		s->env.record_event(s->env.ctx, ev);
		if (l->voicemail[0])
			dialog_hangup(l);
		break;
	case MEV_TIMEOUT:
		log_info("sip", "leg of call %u: no RTP, hanging up", l->call);
		dialog_hangup(l);
		break;
	case MEV_DTMF:
		log_debug("sip", "call %u: DTMF %c", l->call, ev->digit);
		dialog_digit(l, ev->digit);
		break;
	}
}

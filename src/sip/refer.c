/* refer.c — transfers from agents' phones (REFER, RFC 3515).
 *
 * Only the agent's leg of a bridged queue call may transfer it; a REFER on
 * any other dialog gets 403 (one outside a dialog is refused in ua.c).
 * nua leaves REFER to us (NUTAG_APPL_METHOD): we answer 202 ourselves, which
 * makes nua keep the implicit "refer" subscription that our NOTIFYs
 * (message/sipfrag) go out on.
 *
 * Blind: Refer-To names a queue number ("queue:NAME": a new entry into that
 * queue), a member's login ("member:LOGIN": their phones ring) or anything
 * else (refer_outside_dest). The engine ends the call for the agent
 * (engine_call_transfer: call.end, call.transfer, recovery) and releases it
 * with REL_TRANSFER, so transfer.c carries the caller on; the caller hears
 * music meanwhile. NOTIFY "100 Trying" at once; "200 OK" when the target
 * answers (a queue: when the caller is in it), a failure code otherwise,
 * with Subscription-State terminated. (Always these two, in turn.)
 *
 * Attended: the agent holds the caller, calls a member by extension
 * (internal.c), and sends REFER with Refer-To ...?Replaces=<that call> on
 * either of its two dialogs with callq. The two must belong to the same
 * member. The caller is bridged to the consulted member's leg (no new INVITE:
 * callq is a B2BUA), the queue call is journaled as transferred to
 * "member:LOGIN", and both of the agent's legs get BYE.
 *
 * The agent's leg gets BYE once its phone has answered the final NOTIFY (if
 * the phone has not hung up already). A recording ends when the caller leaves
 * the agent's bridge (media.h), which is the guide's rule for transfers.
 */
#include "sip/ua.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/url.h>

#include "core/clock.h"
#include "core/log.h"

#define REFER_MUSIC "file:music.wav,repeat"

/* One NOTIFY at a time: a final outcome that comes while one is unanswered
 * waits for that answer (phones and test tools expect them in turn). */
static void refer_notify(struct dialog *a, int status, bool final)
{
	char frag[96];
	if (a->closing || a->refer_final || !a->refer_event[0])
		return;
	if (a->refer_inflight) {
		a->refer_pending = status;
		return;
	}
	snprintf(frag, sizeof frag, "SIP/2.0 %d %s\r\n", status, sip_status_phrase(status));
	a->refer_final = final;
	a->refer_inflight = true;
	nua_notify(a->nh, NUTAG_SUBSTATE(final ? nua_substate_terminated : nua_substate_active),
	           SIPTAG_EVENT_STR(a->refer_event),
	           SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"), SIPTAG_PAYLOAD_STR(frag),
	           TAG_END());
}

/* Accepts the REFER and keeps its Event ("refer" or "refer;id=CSEQ") for the NOTIFYs. */
static void refer_accept(nua_t *nua, struct dialog *a, tagi_t tags[])
{
	sip_event_t const *o = NULL;
	size_t n;
	tl_gets(tags, NUTAG_REFER_EVENT_REF(o), TAG_END());
	nua_respond(a->nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(nua), TAG_END());
	n = (size_t)snprintf(a->refer_event, sizeof a->refer_event, "%s",
	                     o && o->o_type ? o->o_type : "refer");
	for (size_t i = 0; o && o->o_params && o->o_params[i] && n < sizeof a->refer_event; i++)
		n += (size_t)snprintf(a->refer_event + n, sizeof a->refer_event - n, ";%s",
		                      o->o_params[i]);
	a->refer_final = false;
}

/* The agent's leg lets go of its caller: the engine's release must not hang
 * it up, since the NOTIFYs still go out on it. */
static struct dialog *refer_detach(struct dialog *a)
{
	struct dialog *caller = a->caller;
	a->reported = true;
	a->caller = NULL;
	if (caller->agent == a)
		caller->agent = NULL;
	if (a->offer && idmap_get(&a->sip->offers, a->offer) == a)
		idmap_del(&a->sip->offers, a->offer);
	return caller;
}

/* Outside numbers: the one place such a Refer-To becomes a destination.
 * Phones write an outside number at their registrar (us), so a Refer-To
 * whose host is no gateway's goes out through the first configured gateway
 * ("gateway:NAME/NUMBER"); one naming a gateway's host stays a SIP address
 * (gateway_place then uses that gateway's account); with no gateway at all,
 * the SIP address as written. */
static bool refer_outside_dest(struct sipua *s, const url_t *u, char *dest, size_t cap)
{
	struct gateway_status first;
	char uri[ENG_DEST_MAX - 4];   /* room for "uri:" in a destination */
	if (!u->url_host ||
	    (size_t)snprintf(uri, sizeof uri, "sip:%s@%s%s%s", u->url_user, u->url_host,
	                     u->url_port ? ":" : "", u->url_port ? u->url_port : "") >= sizeof uri)
		return false;
	if (!gateway_serves(s->gw, uri) && gateway_list(s->gw, &first, 1) == 1)
		snprintf(dest, cap, "gateway:%s/%s", first.conf.name, u->url_user);
	else
		snprintf(dest, cap, "uri:%s", uri);
	return true;
}

static bool refer_dest(struct sipua *s, const url_t *u, char *dest, size_t cap)
{
	engine_t *e = s->env.engine;
	eng_id q;
	if (!u->url_user || !*u->url_user)
		return false;
	if ((q = engine_queue_by_number(e, u->url_user)) != 0) {
		snprintf(dest, cap, "queue:%s", engine_queue_conf(e, q)->name);
		return true;
	}
	if (engine_member_find(e, u->url_user)) {
		snprintf(dest, cap, "member:%s", u->url_user);
		return true;
	}
	return refer_outside_dest(s, u, dest, cap);
}

static void refer_blind(nua_t *nua, struct dialog *a, const url_t *u, tagi_t tags[])
{
	struct sipua *s = a->sip;
	const struct sip_env *env = &s->env;
	char dest[ENG_DEST_MAX];
	eng_id call = a->call;
	if (!refer_dest(s, u, dest, sizeof dest)) {
		nua_respond(a->nh, 400, "Bad Refer-To", NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	refer_accept(nua, a, tags);
	refer_notify(a, 100, false);
	struct dialog *caller = refer_detach(a);
	caller->referrer = a;
	a->referred = caller;
	media_leg_hold(env->media, caller->mleg, REFER_MUSIC, "en");
	log_info("sip", "call %u: %s transfers the caller to %s", call, a->member, dest);
	if (!engine_call_transfer(env->engine, clock_mono_ms(), call, dest)) {
		refer_outcome(caller, 500);
		dialog_hangup(caller);
	}
	ua_engine_done(env);
}

/* The dialog a Replaces names, from either side's point of view. */
static struct dialog *refer_replaced(nua_t *nua, const char *value)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct dialog *d = NULL;
	sip_replaces_t *rp = sip_replaces_make(home, value);
	nua_handle_t *nh = rp ? nua_handle_by_replaces(nua, rp) : NULL;
	if (!nh && rp && rp->rp_to_tag && rp->rp_from_tag) {
		sip_replaces_t *sw = sip_replaces_format(home, "%s;to-tag=%s;from-tag=%s", rp->rp_call_id,
		                                         rp->rp_from_tag, rp->rp_to_tag);
		nh = sw ? nua_handle_by_replaces(nua, sw) : NULL;
	}
	if (nh) {
		d = nua_handle_magic(nh);
		nua_handle_unref(nh);
	}
	su_home_deinit(home);
	return d;
}

/* The value of a Replaces header carried in the Refer-To URI, unescaped;
 * false if there is none. */
static bool refer_replaces_value(const url_t *u, char *out, size_t cap)
{
	char esc[512];
	const char *h = u->url_headers;
	while (h && *h) {
		size_t len = strcspn(h, "&");
		if (len > 9 && len - 9 < sizeof esc && len - 9 < cap &&
		    !strncasecmp(h, "Replaces=", 9)) {
			memcpy(esc, h + 9, len - 9);
			esc[len - 9] = 0;
			url_unescape(out, esc);   /* never longer than esc */
			return true;
		}
		h += len + (h[len] == '&');
	}
	return false;
}

/* A consultation call of `member` to another member, answered there. */
static bool refer_consult_ok(const struct dialog *k, const char *member)
{
	return k && k->kind == DLG_CALLER && !k->call && !k->closing && k->member[0] &&
	       !strcmp(k->member, member) && k->peer && k->peer->answered && !k->peer->closing;
}

/* r: the dialog the REFER came on (its subscription gets the NOTIFY); a: the
 * agent's leg of the queue call; k: the same member's extension call. */
static void refer_attended(nua_t *nua, struct dialog *r, struct dialog *a, struct dialog *k,
                           tagi_t tags[])
{
	struct sipua *s = a->sip;
	const struct sip_env *env = &s->env;
	struct dialog *b = k->peer;
	char dest[ENG_DEST_MAX];
	eng_id call = a->call;
	refer_accept(nua, r, tags);
	refer_notify(r, 100, false);
	snprintf(dest, sizeof dest, "member:%s", k->target);
	struct dialog *caller = refer_detach(a);
	/* b leaves the extension call for the caller: k's end must not end b. */
	k->peer = NULL;
	caller->peer = b;
	b->peer = caller;
	b->caller = caller;
	media_bridge(env->media, caller->mleg, b->mleg);
	log_info("sip", "call %u: %s connects the caller to %s", call, a->member, k->target);
	engine_call_transfer(env->engine, clock_mono_ms(), call, dest);
	ua_engine_done(env);
	dialog_hangup(r == a ? k : a);
	refer_notify(r, 200, true);
}

static void refer_refuse(nua_t *nua, nua_handle_t *nh, int status, const char *phrase)
{
	nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua), TAG_END());
}

/* A queue call's agent leg with its caller still bridged, not yet transferring. */
static bool refer_agent_ok(const struct dialog *a)
{
	return a && a->kind == DLG_AGENT && a->answered && !a->closing && a->caller && a->call &&
	       !a->referred && !a->refer_event[0];
}

void refer_request(nua_t *nua, nua_handle_t *nh, struct dialog *l, const sip_t *sip,
                   tagi_t tags[])
{
	char replaces[512];
	const url_t *u = sip->sip_refer_to ? sip->sip_refer_to->r_url : NULL;
	if (!u) {
		refer_refuse(nua, nh, 400, "Missing Refer-To");
		return;
	}
	if (!refer_replaces_value(u, replaces, sizeof replaces)) {
		if (!refer_agent_ok(l)) {
			log_info("sip", "REFER refused: not the agent's leg of a queue call");
			refer_refuse(nua, nh, SIP_403_FORBIDDEN);
			return;
		}
		refer_blind(nua, l, u, tags);
		return;
	}
	/* Attended: one of the two dialogs is the agent's leg of the queue call,
	 * the other the same member's extension call to the member taking it. */
	struct dialog *other = refer_replaced(nua, replaces);
	struct dialog *a = refer_agent_ok(l) ? l : refer_agent_ok(other) ? other : NULL;
	struct dialog *k = a == l ? other : l;
	if (!a || !refer_consult_ok(k, a->member)) {
		log_info("sip", "REFER with Replaces refused: not the agent's own calls");
		refer_refuse(nua, nh, SIP_403_FORBIDDEN);
		return;
	}
	refer_attended(nua, l, a, k, tags);
}

void refer_notified(struct dialog *l, int status)
{
	int pending = l->refer_pending;
	if (status < 200)
		return;
	l->refer_inflight = false;
	l->refer_pending = 0;
	if (pending)
		refer_notify(l, pending, true);
	else if (l->refer_final)
		dialog_hangup(l);
}

void refer_outcome(struct dialog *caller, int status)
{
	struct dialog *a = caller->referrer;
	if (!a)
		return;
	caller->referrer = NULL;
	a->referred = NULL;
	refer_notify(a, status, true);
}

void refer_gone(struct dialog *l)
{
	if (l->referred) {
		l->referred->referrer = NULL;
		l->referred = NULL;
	}
	/* The caller hung up before the transfer was through: the agent's phone
	 * hears so, and its leg ends. */
	refer_outcome(l, 487);
}

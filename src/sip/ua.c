/* ua.c — the nua user agent: event dispatch, REGISTER, and routing of
 * incoming INVITEs (trunk or member; queue number, feature code, or a
 * member's extension). */
#include "sip/ua.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/url.h>

#include "core/clock.h"
#include "core/heap.h"
#include "core/log.h"
#include "sip/tlsdir.h"
#include "sip/info.h"

static int64_t ua_unix_now(void) { return (int64_t)time(NULL); }

static const char *ua_ha1(void *ctx, const char *user)
{
	return registrar_ha1(((struct sipua *)ctx)->reg, user);
}

/* The address (text, no port) and socket address the current request came
 * from, of either family; "?" if unknown. */
static const char *ua_source(nua_t *nua, char *buf, size_t cap, const struct sockaddr **sa)
{
	msg_t *msg = nua_current_request(nua);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	*sa = ai ? ai->ai_addr : NULL;
	snprintf(buf, cap, "?");
	if (*sa && (*sa)->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)*sa)->sin_addr, buf, (socklen_t)cap);
	else if (*sa && (*sa)->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)*sa)->sin6_addr, buf, (socklen_t)cap);
	return buf;
}

static unsigned ua_port(const struct sockaddr *sa)
{
	if (sa && sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa && sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

#define UA_REFUSAL_LINES 5          /* lines logged per window and kind ... */
#define UA_REFUSAL_WINDOW_MS 10000  /* ... the rest counted, summed up at its end */

static const char *const ua_refusal_what[UA_REFUSAL_KINDS] = { "refused requests",
                                                               "shut-outs" };

static void ua_refusal_summary(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	struct sipua *s = (struct sipua *)arg;
	for (int k = 0; k < UA_REFUSAL_KINDS; k++) {
		if (s->refusal[k].dropped)
			log_warn("sip", "%u more %s not logged in the last %d s", s->refusal[k].dropped,
			         ua_refusal_what[k], UA_REFUSAL_WINDOW_MS / 1000);
		s->refusal[k].dropped = 0;
	}
}

/* A request refused before anyone was authenticated (bad credentials, not in
 * the trunk ACL, a cap), or a shut-out starting: a line in the log, but a few
 * per window and kind only, so a flood cannot fill the disk; the timer sums
 * up the rest at the window's end. */
static void ua_refusal(struct sipua *s, enum ua_refusal_kind kind, const char *fmt, ...)
{
	eng_ms now = clock_mono_ms();
	struct ua_refusals *r = &s->refusal[kind];
	r->total++;
	heap_note(1);                        /* a flood's transactions: heap.h */
	if (now - r->window >= UA_REFUSAL_WINDOW_MS) {
		r->window = now;
		r->lines = 0;
	}
	if (++r->lines > UA_REFUSAL_LINES) {
		if (!r->dropped++ && s->refusal_timer)
			su_timer_set_interval(s->refusal_timer, ua_refusal_summary, (su_timer_arg_t *)s,
			                      (su_duration_t)(r->window + UA_REFUSAL_WINDOW_MS - now));
		return;
	}
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_warn("sip", "%s", text);
}

/* The login a request claims, as the guard keys it: NULL when no such member. */
static const char *ua_known(struct sipua *s, const char *login)
{
	return registrar_ha1(s->reg, login) ? login : NULL;
}

/* Refuses a source that is guessing this login's password; true if refused. */
static bool ua_guarded(struct sipua *s, nua_t *nua, nua_handle_t *nh, const struct sockaddr *sa,
                       const char *login, bool with_this)
{
	if (!guard_blocked(&s->guard, sa, ua_known(s, login), clock_mono_ms()))
		return false;
	s->guarded++;
	nua_respond(nh, 403, "Too Many Failed Attempts", TAG_IF(with_this, NUTAG_WITH_THIS(nua)),
	            TAG_END());
	return true;
}

/* Counts a wrong password (DIGEST_BAD) against the source and login; only
 * that is a strike (digest.h). Logs, rate-limited. */
static void ua_digest_outcome(struct sipua *s, const struct sockaddr *sa, const char *src,
                              const char *who, enum digest_result r)
{
	if (r != DIGEST_BAD)
		return;
	ua_refusal(s, UA_REFUSED, "bad credentials for '%s' from %s", who, src);
	eng_ms now = clock_mono_ms();
	if (guard_fail(&s->guard, sa, ua_known(s, who), now))
		ua_refusal(s, UA_SHUT_OUT, "%s: too many failed attempts for '%s', refused for %lld ms",
		           src, who, (long long)guard_blocked(&s->guard, sa, ua_known(s, who), now));
}

/* ---- REGISTER ---- */

static unsigned ua_expires(const sip_t *sip, const sip_contact_t *m)
{
	unsigned long e = REG_EXPIRES_DEFAULT;
	if (m && m->m_expires)
		e = strtoul(m->m_expires, NULL, 10);
	else if (sip->sip_expires)
		e = sip->sip_expires->ex_delta;
	return e > REG_EXPIRES_MAX ? REG_EXPIRES_MAX : (unsigned)e;
}

static void ua_reply_contacts(struct sipua *s, nua_t *nua, nua_handle_t *nh, const char *login,
                              const sip_t *sip)
{
	struct reg_binding b[REG_CONTACTS_MAX];
	eng_ms now = clock_mono_ms();
	size_t n = registrar_contacts(s->reg, login, now, b, REG_CONTACTS_MAX);
	char list[REG_CONTACTS_MAX * (REG_URI_MAX + 24)];
	size_t len = 0;
	list[0] = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s<%s>;expires=%lld",
		                        i ? ", " : "", b[i].uri,
		                        (long long)((b[i].expires - now + 999) / 1000));
	/* RFC 3327 5.3: the Path we stored goes back to the phone. */
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_IF(n, SIPTAG_CONTACT_STR(list)),
	            TAG_IF(sip->sip_path, SIPTAG_PATH(sip->sip_path)), TAG_END());
}

/* The Path of a REGISTER as one string, "<uri1>,<uri2>"; -1 if too long. */
static int ua_path(const sip_t *sip, char *out, size_t cap)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	size_t len = 0;
	int rc = 0;
	out[0] = 0;
	for (const sip_path_t *p = sip->sip_path; p && rc == 0; p = p->r_next) {
		char *u = url_as_string(home, p->r_url);
		int n = u ? snprintf(out + len, cap - len, "%s<%s>", len ? "," : "", u) : -1;
		if (n < 0 || (size_t)n >= cap - len)
			rc = -1;
		else
			len += (size_t)n;
	}
	su_home_deinit(home);
	return rc;
}

/* A Contact parameter's value without quotes ("+sip.instance", "reg-id"). */
static void ua_param(const sip_contact_t *m, const char *name, char *out, size_t cap)
{
	const char *v = msg_params_find(m->m_params, name);
	size_t len = v ? strlen(v) : 0;
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
		v++, len -= 2;
	out[0] = 0;
	if (len && len < cap)
		snprintf(out, cap, "%.*s", (int)len, v);
}

/* How this REGISTER reached us: source, transport, Path. */
static int ua_flow(nua_t *nua, const sip_t *sip, struct reg_binding *b)
{
	const struct sockaddr *sa;
	const char *t = route_transport(sip->sip_via ? sip->sip_via->v_protocol : NULL);
	memset(b, 0, sizeof *b);
	ua_source(nua, b->src, sizeof b->src, &sa);
	b->src_port = ua_port(sa);
	if (!b->src_port)
		b->src[0] = 0;
	snprintf(b->transport, sizeof b->transport, "%s", t[0] ? t : "udp");
	return ua_path(sip, b->path, sizeof b->path);
}

/* Copies a field between the registrar's and the store's records, cut to
 * cap (their sizes match, so nothing is cut in practice). */
static void ua_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* The store keeps the member's bindings as the registrar has them. */
static void ua_store_bindings(struct sipua *s, const char *login)
{
	struct reg_binding b[REG_CONTACTS_MAX];
	size_t n = registrar_contacts(s->reg, login, clock_mono_ms(), b, REG_CONTACTS_MAX);
	int64_t unix_now = ua_unix_now();
	store_reg_prune(s->env.store, unix_now);
	store_reg_del(s->env.store, login, NULL);
	for (size_t i = 0; i < n; i++) {
		struct store_reg r = { .src_port = b[i].src_port, .reg_id = b[i].reg_id };
		r.expires_unix = unix_now + (b[i].expires - clock_mono_ms() + 999) / 1000;
		ua_copy(r.login, sizeof r.login, login);
		ua_copy(r.contact, sizeof r.contact, b[i].uri);
		ua_copy(r.src, sizeof r.src, b[i].src);
		ua_copy(r.transport, sizeof r.transport, b[i].transport);
		ua_copy(r.path, sizeof r.path, b[i].path);
		ua_copy(r.instance, sizeof r.instance, b[i].instance);
		store_reg_put(s->env.store, &r);
	}
}

static void ua_bind(struct sipua *s, nua_t *nua, const char *login, const sip_t *sip)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	eng_ms now = clock_mono_ms();
	struct reg_binding b;
	char reg_id[16];
	if (ua_flow(nua, sip, &b) < 0)
		log_warn("sip", "REGISTER %s: Path too long, ignored", login);
	for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next) {
		unsigned exp = ua_expires(sip, m);
		if (m->m_url->url_type == url_any) {
			if (exp == 0)
				registrar_unbind_all(s->reg, login);
			continue;
		}
		char *uri = url_as_string(home, m->m_url);
		snprintf(b.uri, sizeof b.uri, "%s", uri ? uri : "");
		ua_param(m, "+sip.instance", b.instance, sizeof b.instance);
		ua_param(m, "reg-id", reg_id, sizeof reg_id);
		b.reg_id = (unsigned)strtoul(reg_id, NULL, 10);
		if (!uri || strlen(uri) >= sizeof b.uri || registrar_bind(s->reg, login, &b, now, exp) < 0)
			log_warn("sip", "REGISTER %s: cannot bind %s", login, uri ? uri : "?");
	}
	ua_store_bindings(s, login);
	su_home_deinit(home);
}

static void ua_register(struct sipua *s, nua_t *nua, nua_handle_t *nh, const sip_t *sip)
{
	char src[64], user[ENG_NAME_MAX], chal[256];
	const struct sockaddr *sa;
	const char *login = sip->sip_to && sip->sip_to->a_url->url_user ? sip->sip_to->a_url->url_user
	                                                                : "";
	ua_source(nua, src, sizeof src, &sa);
	if (ua_guarded(s, nua, nh, sa, login, true)) {
		nua_handle_destroy(nh);
		return;
	}
	enum digest_result r = digest_verify(&s->digest, ua_unix_now(), sip->sip_authorization,
	                                     "REGISTER", sip->sip_request->rq_url, login, ua_ha1, s,
	                                     user, sizeof user);
	ua_digest_outcome(s, sa, src, login, r);
	if (r == DIGEST_NONE || r == DIGEST_STALE) {
		digest_challenge(&s->digest, ua_unix_now(), r == DIGEST_STALE, chal, sizeof chal);
		nua_respond(nh, SIP_401_UNAUTHORIZED, NUTAG_WITH_THIS(nua),
		            SIPTAG_WWW_AUTHENTICATE_STR(chal), TAG_END());
	} else if (r != DIGEST_OK) {
		if (r == DIGEST_REFUSED)
			ua_refusal(s, UA_REFUSED, "REGISTER %s from %s: credentials not usable here (user, qop, "
			           "digest-uri)", login, src);
		nua_respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
	} else if (!secure_register_ok(s, login, sip)) {
		nua_respond(nh, 403, "TLS Required", NUTAG_WITH_THIS(nua), TAG_END());
	} else {
		ua_bind(s, nua, login, sip);
		log_info("sip", "REGISTER %s from %s port %u over %s: %u contact(s)", login, src,
		         ua_port(sa), route_transport(sip->sip_via ? sip->sip_via->v_protocol : NULL),
		         sipua_contacts(s, login));
		ua_reply_contacts(s, nua, nh, login, sip);
	}
	nua_handle_destroy(nh);
}

/* ---- INVITE ---- */

struct ua_invite {
	const char *dialed;         /* request-URI user */
	const char *from_user;
	char caller_name[ENG_NAME_MAX];
	char callee_name[ENG_NAME_MAX];
	char member[ENG_NAME_MAX];  /* authenticated member, or "" for the trunk */
};

static void ua_unquote(char *out, size_t cap, const char *s)
{
	size_t k = 0;
	for (; s && *s && k + 1 < cap; s++)
		if (*s != '"')
			out[k++] = *s;
	out[k] = 0;
}

/* Decides who is calling: a member must prove it (407); anyone else must come
 * from the trunk ACL. Returns false after answering the INVITE itself. */
static bool ua_authorize(struct sipua *s, nua_t *nua, nua_handle_t *nh, const sip_t *sip,
                         struct ua_invite *inv)
{
	char src[64], chal[256];
	const struct sockaddr *sa;
	ua_source(nua, src, sizeof src, &sa);
	if (!registrar_ha1(s->reg, inv->from_user)) {
		if (acl_allows(&s->acl, sa))
			return true;
		ua_refusal(s, UA_REFUSED, "INVITE to %s from %s: source not in trunk ACL", inv->dialed, src);
		nua_respond(nh, SIP_403_FORBIDDEN, TAG_END());
		return false;
	}
	if (ua_guarded(s, nua, nh, sa, inv->from_user, false))
		return false;
	enum digest_result r = digest_verify(&s->digest, ua_unix_now(),
	                                     sip->sip_proxy_authorization, "INVITE",
	                                     sip->sip_request->rq_url, inv->from_user, ua_ha1, s,
	                                     inv->member, sizeof inv->member);
	ua_digest_outcome(s, sa, src, inv->from_user, r);
	if (r == DIGEST_OK)
		return true;
	inv->member[0] = 0;
	if (r == DIGEST_REFUSED) {
		ua_refusal(s, UA_REFUSED, "INVITE to %s from %s: credentials not usable here (user, qop, "
		           "digest-uri)", inv->dialed, src);
		nua_respond(nh, SIP_403_FORBIDDEN, TAG_END());
		return false;
	}
	digest_challenge(&s->digest, ua_unix_now(), r == DIGEST_STALE, chal, sizeof chal);
	nua_respond(nh, SIP_407_PROXY_AUTH_REQUIRED, SIPTAG_PROXY_AUTHENTICATE_STR(chal), TAG_END());
	return false;
}

static bool ua_offer_sdp(struct sipua *s, nua_handle_t *nh, const sip_t *sip,
                         const struct sockaddr *sa, struct sdpneg *r)
{
	char err[128];
	const sip_payload_t *pl = sip->sip_payload;
	if (!pl || sdpneg_parse(pl->pl_data, pl->pl_len, r, err, sizeof err) < 0) {
		nua_respond(nh, 488, "Not Acceptable Here (SDP)", TAG_END());
		log_info("sip", "INVITE rejected: %s", pl ? err : "no SDP offer");
		return false;
	}
	/* Our RTP socket has one family: rtp_ip's. */
	if (!strchr(r->ip, ':') != !strchr(s->env.conf->rtp_ip, ':')) {
		nua_respond(nh, 488, "Not Acceptable Here (address family)", TAG_END());
		log_info("sip", "INVITE rejected: media address %s, but rtp_ip is %s", r->ip,
		         s->env.conf->rtp_ip);
		return false;
	}
	if (r->savp && !r->crypto.suite) {
		nua_respond(nh, 488, "Not Acceptable Here (no supported crypto)", TAG_END());
		log_info("sip", "INVITE rejected: RTP/SAVP without a crypto suite we support");
		return false;
	}
	if (r->ncodecs == 0) {
		nua_respond(nh, 488, "Not Acceptable Here (PCMU or PCMA only)", TAG_END());
		log_info("sip", "INVITE rejected: no common codec");
		return false;
	}
	if (!admit_media_addr(r->ip, r->hold, sa)) {
		nua_respond(nh, 488, "Not Acceptable Here (media address)", TAG_END());
		ua_refusal(s, UA_REFUSED, "INVITE rejected: media address %s is not one a phone can have",
		           r->ip);
		return false;
	}
	return true;
}

static void ua_feature(struct sipua *s, nua_handle_t *nh, const struct ua_invite *inv,
                       const struct sdpneg *r)
{
	const struct sip_env *env = &s->env;
	const char *arg = NULL;
	const char *action = env->feature(env->ctx, inv->dialed, &arg);
	eng_id m = engine_member_find(env->engine, inv->member);
	enum media_spy_mode mode = MEDIA_LISTEN;
	bool spy = media_spy_mode_parse(action, &mode);
	const char *prompt = spy ? "en/denied.wav" : env->feature_run(env->ctx, m, action, arg);
	struct dialog *l = dialog_new(s, DLG_FEATURE, nh);
	if (!l) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	nua_handle_bind(nh, l);
	l->reported = true;
	snprintf(l->owner, sizeof l->owner, "%s", inv->member);
	if (dialog_answer(l, r) < 0) {
		nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
		l->closing = true;
		return;
	}
	l->spying = spy && env->spy(env->ctx, m, arg, l->mleg, mode);
	l->spy_mode = mode;
	if (!l->spying)
		media_leg_play(env->media, l->mleg, prompt);
	log_info("sip", "%s dialed %s (%s)", inv->member, inv->dialed, action);
}

/* The caller's leg enters its queue: on the ACK of our 200 (ua_event), so a
 * spoofed INVITE whose 200 goes nowhere never becomes a caller. */
static void ua_admit(struct sipua *s, struct dialog *l)
{
	const struct sip_env *env = &s->env;
	eng_id q = l->admit_queue;
	l->admit_queue = 0;
	if (l->closing)
		return;
	if (dialog_media_start(l) < 0) {
		log_error("sip", "call from %s: cannot start its media", l->number);
		l->reported = true;
		dialog_hangup(l);
		return;
	}
	struct eng_call_info ci = { l->number, l->name, l->dialed, l->callee_name };
	eng_ms now = clock_mono_ms();
	l->call = engine_call_enter(env->engine, now, q, &ci);
	if (!l->call || idmap_put(&s->calls, l->call, l) < 0) {
		log_info("sip", "call from %s to %s: refused after the ACK", l->number, l->dialed);
		if (l->call)
			engine_call_hangup(env->engine, now, l->call);
		l->reported = true;
		dialog_hangup(l);
		ua_engine_done(env);
		return;
	}
	const struct eng_queue_conf *qc = engine_queue_conf(env->engine, q);
	struct eng_call_view cv;
	media_leg_hold(env->media, l->mleg, qc->hold, qc->lang[0] ? qc->lang : "en");
	if (engine_call_view(env->engine, now, l->call, &cv))
		media_leg_announce(env->media, l->mleg, cv.position,
		                   engine_wait_estimate(env->engine, now, l->call));
	log_info("sip", "call %u from %s entered %s", l->call, l->number, qc->name);
	ua_engine_done(env);
}

static void ua_enter_queue(struct sipua *s, nua_handle_t *nh, eng_id q, const struct ua_invite *inv,
                           const struct sdpneg *r)
{
	const struct sip_env *env = &s->env;
	/* A call the queue refuses now is refused by the engine (journal, 486)
	 * before we answer; one it takes waits for the ACK. */
	if (!engine_call_admissible(env->engine, q)) {
		struct eng_call_info ci = { inv->from_user, inv->caller_name, inv->dialed,
		                            inv->callee_name };
		engine_call_enter(env->engine, clock_mono_ms(), q, &ci);
		nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
		ua_engine_done(env);
		return;
	}
	struct dialog *l = dialog_new(s, DLG_CALLER, nh);
	if (!l) {
		nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
		return;
	}
	nua_handle_bind(nh, l);
	snprintf(l->number, sizeof l->number, "%s", inv->from_user);
	snprintf(l->name, sizeof l->name, "%s", inv->caller_name);
	snprintf(l->dialed, sizeof l->dialed, "%s", inv->dialed);
	snprintf(l->callee_name, sizeof l->callee_name, "%s", inv->callee_name);
	snprintf(l->owner, sizeof l->owner, "%s", inv->member);
	l->admit_queue = q;
	if (dialog_answer_unsent(l, r) < 0) {
		log_error("sip", "call from %s: cannot answer (no media port?)", inv->from_user);
		nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
		l->admit_queue = 0;
		l->closing = true;
		l->reported = true;
	}
}

/* Legs from one source and from one member, counted over every live leg. */
static unsigned ua_legs_from(const struct sipua *s, const struct guard_addr *src,
                             const char *owner)
{
	unsigned n = 0;
	for (const struct dialog *l = s->live; l; l = l->live_next)
		if (src ? !memcmp(&l->src, src, sizeof *src) : !strcmp(l->owner, owner))
			n++;
	return n;
}

/* Room for one more incoming leg: max_calls incoming legs, 2 x max_calls legs
 * in all (dialog_new), max_calls_per_source from one address; else 503 with
 * Retry-After. */
static bool ua_budget(struct sipua *s, nua_t *nua, nua_handle_t *nh)
{
	const struct conf *c = s->env.conf;
	char src[64];
	const struct sockaddr *sa;
	struct guard_addr key;
	ua_source(nua, src, sizeof src, &sa);
	bool keyed = guard_addr_of(sa, &key);
	const char *why = s->shutting ? NULL
	                  : s->ncallers >= c->max_calls || s->nlegs >= 2 * c->max_calls ? "max_calls"
	                  : c->max_calls_per_source && keyed &&
	                    ua_legs_from(s, &key, NULL) >= c->max_calls_per_source
	                      ? "max_calls_per_source"
	                      : "";
	if (why && !why[0])
		return true;
	if (why)
		ua_refusal(s, UA_REFUSED, "INVITE from %s refused: %s reached", src, why);
	nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
	return false;
}

/* An authenticated member's legs: max_calls_per_member, else 486. */
static bool ua_member_budget(struct sipua *s, nua_handle_t *nh, const char *member)
{
	unsigned cap = s->env.conf->max_calls_per_member;
	if (!cap || ua_legs_from(s, NULL, member) < cap)
		return true;
	ua_refusal(s, UA_REFUSED, "INVITE from %s refused: max_calls_per_member reached", member);
	nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
	return false;
}

static void ua_invite(struct sipua *s, nua_t *nua, nua_handle_t *nh, const sip_t *sip)
{
	const struct sip_env *env = &s->env;
	struct ua_invite inv = { 0 };
	inv.dialed = sip->sip_request->rq_url->url_user ? sip->sip_request->rq_url->url_user : "";
	inv.from_user = sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user : "";
	ua_unquote(inv.caller_name, sizeof inv.caller_name, sip->sip_from->a_display);
	ua_unquote(inv.callee_name, sizeof inv.callee_name, sip->sip_to->a_display);
	if (!ua_budget(s, nua, nh))
		return;
	if (!ua_authorize(s, nua, nh, sip, &inv))
		return;
	if (inv.member[0] && !ua_member_budget(s, nh, inv.member))
		return;
	const char *arg;
	bool feature = inv.member[0] && env->feature(env->ctx, inv.dialed, &arg);
	eng_id q = feature ? 0 : engine_queue_by_number(env->engine, inv.dialed);
	bool extension = !feature && !q && inv.member[0] &&
	                 engine_member_find(env->engine, inv.dialed);
	if (!feature && !q && !extension) {
		nua_respond(nh, SIP_404_NOT_FOUND, TAG_END());
		log_info("sip", "INVITE to unknown number '%s'", inv.dialed);
		return;
	}
	struct sdpneg r;
	char src[64];
	const struct sockaddr *sa;
	ua_source(nua, src, sizeof src, &sa);
	if (!ua_offer_sdp(s, nh, sip, sa, &r) || !secure_invite_ok(s, nh, sip, inv.member, &r))
		return;
	if (feature)
		ua_feature(s, nh, &inv, &r);
	else if (extension)
		internal_call(s, nh, inv.member, inv.caller_name, inv.dialed, &r);
	else
		ua_enter_queue(s, nh, q, &inv, &r);
}

/* ---- DTMF by SIP INFO (for phones that do not send RFC 4733) ---- */

static void ua_info(struct dialog *l, const sip_t *sip)
{
	const sip_payload_t *pl = sip->sip_payload;
	const sip_content_type_t *ct = sip->sip_content_type;
	char digit = pl && ct ? info_dtmf_digit(ct->c_type, pl->pl_data, pl->pl_len) : 0;
	if (digit)
		dialog_digit(l, digit);
}

/* ---- dispatch ---- */

static void ua_state(nua_handle_t *nh, struct dialog *l, tagi_t tags[])
{
	int state = nua_callstate_init;
	tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
	if (state != nua_callstate_terminated)
		return;
	if (l)
		dialog_terminated(l);
	else
		nua_handle_destroy(nh);
}

/* Requests outside any dialog that callq does not serve: INFO gets 481 (RFC
 * 6086: INFO only within a dialog), REFER 403 (no transfers from outside a
 * call), or 481 when its To tag names a dialog we do not have. MESSAGE, SUBSCRIBE, NOTIFY and PUBLISH are not in our Allow, so nua
 * answers them 405 itself; a BYE or UPDATE that matches no dialog gets 481
 * from nua. In a dialog, these come with the dialog bound to the handle and
 * are not ours to refuse. True if the request was answered here. */
static bool ua_out_of_dialog(nua_t *nua, nua_event_t event, nua_handle_t *nh, const sip_t *sip)
{
	char src[64];
	const struct sockaddr *sa;
	if (event == nua_i_info)
		nua_respond(nh, 481, "No Dialog For INFO", NUTAG_WITH_THIS(nua), TAG_END());
	else if (event == nua_i_refer && sip && sip->sip_to && sip->sip_to->a_tag)
		nua_respond(nh, 481, "Call/Transaction Does Not Exist", NUTAG_WITH_THIS(nua), TAG_END());
	else if (event == nua_i_refer)
		nua_respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
	else
		return false;
	log_debug("sip", "%s outside a dialog from %s refused",
	          sip && sip->sip_request ? sip->sip_request->rq_method_name : "request",
	          ua_source(nua, src, sizeof src, &sa));
	nua_handle_destroy(nh);
	return true;
}

/* A 401/407 to an INVITE we placed: a leg through a gateway answers it once
 * with the gateway's credentials; otherwise the leg ends here, since nua
 * would wait for credentials that never come. */
static bool ua_challenged(struct sipua *s, struct dialog *l, int status, const sip_t *sip)
{
	if ((status != 401 && status != 407) || l->kind != DLG_OUTBOUND)
		return false;
	if (l->gateway[0] && !l->gateway_authed && !l->closing &&
	    gateway_authenticate(s->gw, l->gateway, l->nh, sip) == 0) {
		l->gateway_authed = true;
		l->offered = true;   /* nua resends our INVITE, offer and all: its 2xx answers */
		return true;
	}
	log_info("sip", "call %u: outbound leg refused with %d (no credentials left)", l->call,
	         status);
	dialog_terminated(l);
	return true;
}

static void ua_event(nua_event_t event, int status, char const *phrase, nua_t *nua,
                     struct sipua *s, nua_handle_t *nh, struct dialog *l, sip_t const *sip,
                     tagi_t tags[])
{
	if (!l && ua_out_of_dialog(nua, event, nh, sip))
		return;
	switch (event) {
	case nua_i_register:
		ua_register(s, nua, nh, sip);
		break;
	case nua_i_invite:
		if (l)
			dialog_reinvite(l, sip);
		else
			ua_invite(s, nua, nh, sip);
		break;
	case nua_r_register:
	case nua_r_unregister:
		gateway_response(s->gw, nh, status, phrase, sip);
		break;
	case nua_r_invite:
		if (l && (dialog_invite_response(l, status, sip) || ua_challenged(s, l, status, sip)))
			break;
		if (l && l->kind == DLG_AGENT)
			dialog_agent_response(l, status, sip);
		else if (l && l->kind == DLG_OUTBOUND)
			transfer_response(l, status, sip);
		else if (l && l->kind == DLG_SPY)
			dialog_spy_response(l, status, sip);
		break;
	case nua_i_refer:
		refer_request(nua, nh, l, sip, tags);
		break;
	case nua_r_notify:
		if (l)
			refer_notified(l, status);
		break;
	case nua_i_info:
		if (l)
			ua_info(l, sip);
		break;
	case nua_i_ack:
		if (l && l->admit_queue)
			ua_admit(s, l);
		if (l)
			dialog_ack(l, sip);
		break;
	case nua_i_state:
		ua_state(nh, l, tags);
		break;
	case nua_r_shutdown:
		if (status >= 200 && s->done)
			s->done(s->done_ctx);
		break;
	default:
		break;
	}
}

#define UA_SOFIA_LINES_PER_S 5

/* Sofia's own diagnostics ("Connection refused") go through our log, a few
 * lines a second at most, so a flood of junk datagrams cannot grow the log
 * without bound. "received garbage" is what Sofia says of a phone's UDP
 * keep-alive ("\r\n\r\n", every 30 s or so, RFC 5626 4.4): the same line for
 * junk and keep-alive alike, so it goes to the debug level only. */
static void ua_sofia_log(void *stream, char const *fmt, va_list ap)
{
	static eng_ms window;
	static unsigned lines, dropped;
	char text[512];
	(void)stream;
	if (strstr(fmt, "received garbage")) {
		vsnprintf(text, sizeof text, fmt, ap);
		text[strcspn(text, "\r\n")] = 0;
		log_debug("sofia", "%s", text);
		return;
	}
	eng_ms now = clock_mono_ms();
	if (now - window >= 1000) {
		if (dropped)
			log_warn("sofia", "%u more Sofia-SIP messages suppressed", dropped);
		window = now;
		lines = dropped = 0;
	}
	if (++lines > UA_SOFIA_LINES_PER_S) {
		dropped++;
		return;
	}
	vsnprintf(text, sizeof text, fmt, ap);
	text[strcspn(text, "\r\n")] = 0;
	if (text[0])
		log_warn("sofia", "%s", text);
}

sipua_t *sipua_new(const struct sip_env *env, char *err, size_t errlen)
{
	struct sipua *s = calloc(1, sizeof *s);
	char url[128];
	if (!s || digest_init(&s->digest, SIP_REALM) < 0 || !(s->reg = registrar_new())) {
		snprintf(err, errlen, "out of memory or no randomness");
		free(s);
		return NULL;
	}
	s->env = *env;
	su_log_redirect(su_log_default, ua_sofia_log, NULL);
	acl_init(&s->acl);
	guard_init(&s->guard);
	idmap_init(&s->calls);
	idmap_init(&s->offers);
	idmap_init(&s->mlegs);
	char hp[REG_HOST_MAX + 16];
	if (route_hostport(hp, sizeof hp, env->conf->sip_listen, env->conf->sip_port) < 0) {
		snprintf(err, errlen, "sip_listen '%s' is too long", env->conf->sip_listen);
		sipua_free(s);
		return NULL;
	}
	snprintf(url, sizeof url, "sip:%s", hp);
	struct tlsdir tls;
	char sips[128] = "";
	if (tlsdir_prepare(&tls, env->conf, err, errlen) < 0) {
		sipua_free(s);
		return NULL;
	}
	if (tls.path[0]) {
		route_hostport(hp, sizeof hp, env->conf->sip_listen, env->conf->sip_tls_port);
		snprintf(sips, sizeof sips, "sips:%s", hp);
	}
	struct backlog_snapshot listening;
	backlog_snapshot(&listening);
	s->nua = nua_create(
		env->root, ua_event, s, NUTAG_URL(url), NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0),
		/* We ACK 2xx ourselves: a refresh answered with an offer needs our answer in it. */
		NUTAG_AUTOACK(0),
		/* Only what callq serves: the rest (MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH) gets 405. */
		SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO, REFER, REGISTER"),
		/* Answered by us outside dialogs (REGISTER, ua_out_of_dialog); dialog handles
		 * leave INFO and REFER to nua (dialog_new). */
		NUTAG_APPL_METHOD("REGISTER"), NUTAG_APPL_METHOD("INFO"), NUTAG_APPL_METHOD("REFER"),
		/* RFC 4028: the peer refreshes where it may; where we must, UPDATE if the peer
		 * allows it (dialog.c), else a re-INVITE whose answer goes in our ACK. */
		NUTAG_SESSION_REFRESHER(nua_remote_refresher),
		/* Responses go where the request came from, NAT or not (RFC 3581). */
		NTATAG_SERVER_RPORT(2), NTATAG_CLIENT_RPORT(1),
		/* A phone's TCP connection is how we reach it: keep it while its binding
		 * may live, and answer its CRLF keep-alive pings (RFC 5626 4.4.1). */
		TPTAG_IDLE((REG_EXPIRES_MAX + 120) * 1000u), TPTAG_PONG2PING(1),
		SIPTAG_USER_AGENT_STR("callq"), SIPTAG_SERVER_STR("callq"),
		/* TLS (tlsdir.h): any TLS version OpenSSL negotiates (1 would mean TLS 1.0
		 * only); phones are not asked for a certificate, digest proves them. */
		TAG_IF(sips[0], NUTAG_SIPS_URL(sips)), TAG_IF(sips[0], TPTAG_CERTIFICATE(tls.path)),
		TAG_IF(sips[0], TPTAG_TLS_VERSION(0)),
		TAG_IF(sips[0], TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_NONE)), TAG_END());
	tlsdir_done(&tls);
	s->fail_timer = su_timer_create(su_root_task(env->root), 0);
	s->refusal_timer = su_timer_create(su_root_task(env->root), 0);
	s->gw = gateways_new(s);
	if (s->nua)
		s->backlog = backlog_new(env->root, &listening);
	if (!s->nua || !s->fail_timer || !s->refusal_timer || !s->gw) {
		snprintf(err, errlen, "cannot listen on %s%s%s (address in use, not an address of this "
		         "host, or a bad certificate?)", url, sips[0] ? " and " : "", sips);
		sipua_free(s);
		return NULL;
	}
	return s;
}

void sipua_free(sipua_t *s)
{
	if (!s)
		return;
	/* Dialogs nua shut down without a terminated state for each. */
	while (s->live)
		dialog_free(s->live);
	if (s->drain)
		su_timer_destroy(s->drain);
	if (s->fail_timer)
		su_timer_destroy(s->fail_timer);
	if (s->refusal_timer)
		su_timer_destroy(s->refusal_timer);
	backlog_free(s->backlog);
	free(s->failing);
	gateways_free(s->gw);
	if (s->nua)
		nua_destroy(s->nua);
	registrar_free(s->reg);
	idmap_free(&s->calls);
	idmap_free(&s->offers);
	idmap_free(&s->mlegs);
	free(s);
}

#define UA_DRAIN_MS 5000
#define UA_DRAIN_POLL_MS 100

/* New INVITEs keep getting 503 (ua_invite checks `shutting`) while the BYEs
 * and CANCELs complete; nua itself shuts down when no dialog is left or the
 * drain time is up, since its own shutdown would answer 410 Gone. */
static void ua_drain(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	struct sipua *s = (struct sipua *)arg;
	if ((s->live || gateway_pending(s->gw)) && clock_mono_ms() < s->drain_until) {
		su_timer_set_interval(t, ua_drain, arg, UA_DRAIN_POLL_MS);
		return;
	}
	nua_shutdown(s->nua);
}

void sipua_shutdown(sipua_t *s, void (*done)(void *ctx), void *ctx)
{
	const struct sip_env *env = &s->env;
	s->shutting = true;
	s->done = done;
	s->done_ctx = ctx;
	eng_id id;
	while ((id = idmap_any(&s->calls))) {
		if (!engine_call_drop(env->engine, clock_mono_ms(), id)) {
			struct dialog *l = idmap_del(&s->calls, id);
			l->reported = true;
			dialog_hangup(l);
		}
		ua_engine_done(env);
	}
	for (struct dialog *l = s->live; l; l = l->live_next)
		dialog_hangup(l);
	gateway_shutdown(s->gw);
	s->drain_until = clock_mono_ms() + UA_DRAIN_MS;
	s->drain = su_timer_create(su_root_task(env->root), 0);
	if (!s->drain || su_timer_set_interval(s->drain, ua_drain, (su_timer_arg_t *)s, 0) < 0)
		nua_shutdown(s->nua);
}

int sipua_cred(sipua_t *s, const char *login, const char *ha1)
{
	return registrar_cred(s->reg, login, ha1);
}

void sipua_forget(sipua_t *s, const char *login) { registrar_forget(s->reg, login); }

const char *sipua_ha1(sipua_t *s, const char *login) { return registrar_ha1(s->reg, login); }

void sipua_secure(sipua_t *s, const char *login, bool secure)
{
	registrar_set_secure(s->reg, login, secure);
}

int sipua_bind(sipua_t *s, const struct store_reg *r, unsigned expires_s)
{
	struct reg_binding b = { .src_port = r->src_port, .reg_id = r->reg_id };
	ua_copy(b.uri, sizeof b.uri, r->contact);
	ua_copy(b.src, sizeof b.src, r->src);
	ua_copy(b.transport, sizeof b.transport, r->transport);
	ua_copy(b.path, sizeof b.path, r->path);
	ua_copy(b.instance, sizeof b.instance, r->instance);
	return registrar_bind(s->reg, r->login, &b, clock_mono_ms(), expires_s);
}

unsigned sipua_contacts(sipua_t *s, const char *login)
{
	struct reg_binding b[REG_CONTACTS_MAX];
	return (unsigned)registrar_contacts(s->reg, login, clock_mono_ms(), b, REG_CONTACTS_MAX);
}

int sipua_acl_add(sipua_t *s, const char *cidr) { return acl_add(&s->acl, cidr); }

int sipua_acl_del(sipua_t *s, const char *cidr) { return acl_del(&s->acl, cidr); }

gateways_t *sipua_gateways(sipua_t *s) { return s->gw; }

unsigned sipua_active_calls(const sipua_t *s) { return s->ncallers; }

void sipua_refusals(const sipua_t *s, struct sipua_refusals *out)
{
	*out = (struct sipua_refusals){ .refused = s->refusal[UA_REFUSED].total,
	                                .shut_out = s->refusal[UA_SHUT_OUT].total,
	                                .guarded = s->guarded };
}

media_leg sipua_caller_media(sipua_t *s, eng_id call)
{
	struct dialog *l = idmap_get(&s->calls, call);
	return l ? l->mleg : 0;
}

/* sip.h — the SIP adapter: registrar, trunk, caller legs and agent legs.
 *
 * One Sofia nua on the app's su_root, media handled by callq (nua's own
 * offer/answer is off; SDP is built in sdpneg.c). What comes in:
 *   REGISTER          digest (401), bindings in the registrar
 *   INVITE queue no.  from the trunk ACL, or from a member after digest (407)
 *                     -> answered, caller leg on hold, engine_call_enter
 *   INVITE *5x        feature code from an authenticated member: answered,
 *                     confirmation prompt, BYE
 *   INVITE LOGIN      another member's extension, from a member: answered, that
 *                     member's phones rung (internal.c)
 *   REFER             from an agent's phone on a queue call: transfer (refer.c)
 * The adapter stands on its own: what it needs of the daemon around it comes
 * in one table (struct sip_env) that the wiring fills in, so nothing in
 * src/sip reaches into the app. What the engine asks (app.c calls these for
 * each action):
 *   sip_offer         INVITE to the member's newest registered contact
 *   sip_cancel_offer  CANCEL (or BYE if it raced to 200)
 *   sip_bridge        connect the caller's and agent's media
 *   sip_release       end every leg of the call that is still up
 * A leg's end is noticed once, in its terminated state, and reported to the
 * engine once (caller: hang-up; agent: talk end or offer failure).
 */
#ifndef CALLQ_SIP_H
#define CALLQ_SIP_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "acd/engine.h"
#include "core/conf.h"
#include "media/media.h"
#include "store/store.h"

#define SIP_REALM "callq"

typedef struct sipua sipua_t;

/* What the adapter uses of the daemon: the engine, media and store it drives,
 * the configuration, and hooks into the wiring. Every hook gets `ctx` and runs
 * on the su_root thread, like the adapter itself. */
struct sip_env {
	su_root_t *root;
	engine_t *engine;
	media_t *media;
	store_t *store;
	const struct conf *conf;
	void *ctx;
	/* After each engine transition: carry out the engine's actions. */
	void (*engine_done)(void *ctx);
	/* The feature-code action for what a phone dialed ("*50" -> "login"), or
	 * NULL; for codes that take an extension *arg points at it. */
	const char *(*feature)(void *ctx, const char *dialed, const char **arg);
	/* Carries out a feature action for member m; the prompt to play. */
	const char *(*feature_run)(void *ctx, eng_id m, const char *action, const char *arg);
	/* A queue call was bridged: record it if its queue or agent says so. */
	void (*record_call)(void *ctx, eng_id call, eng_id q, eng_id m, media_leg caller,
	                    media_leg agent);
	/* Records what `leg` says into box's voicemail; the recording id or 0. */
	uint32_t (*record_voicemail)(void *ctx, const char *box, media_leg leg);
	/* A recording's end (done or failed) from the media thread. */
	void (*record_event)(void *ctx, const struct media_event *ev);
	/* Joins `listener` to agent_login's call for supervisor; false if not
	 * allowed or not on a call. */
	bool (*spy)(void *ctx, eng_id supervisor, const char *agent_login, media_leg listener,
	            enum media_spy_mode mode);
};

/* env is copied; what it points to must outlive the adapter. */
sipua_t *sipua_new(const struct sip_env *env, char *err, size_t errlen);
void sipua_free(sipua_t *s);
/* Stop taking calls (503), end calls in progress, and call done() once nua
 * has shut down. */
void sipua_shutdown(sipua_t *s, void (*done)(void *ctx), void *ctx);

/* Credentials, from the store and from member.add/member.set. */
int sipua_cred(sipua_t *s, const char *login, const char *ha1);
void sipua_forget(sipua_t *s, const char *login);
const char *sipua_ha1(sipua_t *s, const char *login);
/* secure=yes (member.add/member.set, kept in SQLite): the member's REGISTERs
 * and calls must come over TLS with SRTP, and offers to it use SRTP. */
void sipua_secure(sipua_t *s, const char *login, bool secure);
/* Restores a binding saved before a restart. */
int sipua_bind(sipua_t *s, const struct store_reg *r, unsigned expires_s);
/* Live registrations of a member. */
unsigned sipua_contacts(sipua_t *s, const char *login);
/* Source networks allowed to send calls without auth. */
int sipua_acl_add(sipua_t *s, const char *cidr);
/* Removes the entries equal to cidr (acl.del); how many, or -1 if malformed. */
int sipua_acl_del(sipua_t *s, const char *cidr);
/* The outbound gateways (sip/gateway.h), for the gateway.* verbs. */
struct gateways *sipua_gateways(sipua_t *s);
/* Calls in progress (caller legs), for overload shedding and status. */
unsigned sipua_active_calls(const sipua_t *s);
/* Counts since start of what was refused to outsiders (for /metrics). */
struct sipua_refusals {
	uint64_t refused;   /* unauthenticated requests refused: bad credentials, ACL, caps */
	uint64_t shut_out;  /* shut-outs started by the password guard (guard.h) */
	uint64_t guarded;   /* requests answered 403 while their source was shut out */
};
void sipua_refusals(const sipua_t *s, struct sipua_refusals *out);

/* The media legs of a bridged queue call; false if it is not bridged. */
bool sipua_call_media(sipua_t *s, eng_id call, media_leg *caller, media_leg *agent);
/* Rings login's phone; when answered, it joins agent_login's call in `mode`
 * on behalf of `supervisor`. -1 if login has no registered phone. */
int sipua_spy_call(sipua_t *s, eng_id supervisor, const char *login, const char *agent_login,
                   enum media_spy_mode mode);
/* The media leg of a caller still in the engine, or 0. */
media_leg sipua_caller_media(sipua_t *s, eng_id call);

void sipua_offer(sipua_t *s, const struct eng_action *a);
void sipua_cancel_offer(sipua_t *s, const struct eng_action *a);
void sipua_bridge(sipua_t *s, const struct eng_action *a);
void sipua_release(sipua_t *s, const struct eng_action *a);
/* Customer first: dials callback a->call's customer (callback.c). */
void sipua_dial_callback(sipua_t *s, const struct eng_action *a);
void sipua_media_event(sipua_t *s, const struct media_event *ev);

#endif

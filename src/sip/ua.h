/* ua.h — internals shared by the SIP adapter's files (ua.c, dialog.c).
 * Not for use outside src/sip: the rest of callq goes through sip.h. */
#ifndef CALLQ_UA_H
#define CALLQ_UA_H

#include <stdbool.h>

#define NUA_MAGIC_T struct sipua
#define NUA_HMAGIC_T struct dialog
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>

#include "core/idmap.h"
#include "sip/acl.h"
#include "sip/admit.h"
#include "sip/backlog.h"
#include "sip/digest.h"
#include "sip/gateway.h"
#include "sip/guard.h"
#include "sip/registrar.h"
#include "sip/route.h"
#include "sip/sdpneg.h"
#include "sip/sip.h"

enum dialog_kind {
	DLG_CALLER,     /* a caller from the trunk or a phone, in a queue or transferred */
	DLG_AGENT,      /* an engine offer to a member's phone */
	DLG_FEATURE,    /* a member dialing a feature code */
	DLG_OUTBOUND,   /* a leg placed for a transferred caller (member, group, uri) */
	DLG_SPY,        /* a supervisor's phone rung by the `spy` verb */
	DLG_CALLBACK,   /* stands for a callback's caller, who hung up (callback.c): no
	                   SIP dialog, no media; `peer` is the customer leg once dialed */
};

#define DLG_SAY_MAX 160

/* A caller choosing a callback (callback.c). */
enum dialog_cb { CB_NONE, CB_NUMBER };

#define DLG_FORK_MAX 16

/* Log lines about refusals, rate-limited apart (ua.c ua_refusal). */
enum ua_refusal_kind { UA_REFUSED, UA_SHUT_OUT, UA_REFUSAL_KINDS };

/* One SIP dialog with its media leg. Freed only when nua says the dialog is
 * terminated, so nua never holds a dangling magic pointer. */
struct dialog {
	enum dialog_kind kind;
	struct sipua *sip;
	nua_handle_t *nh;
	media_leg mleg;
	unsigned port;              /* our RTP port, kept for re-INVITE answers */
	eng_id call, offer;
	struct dialog *agent;       /* caller: the agent leg ringing or bridged */
	struct dialog *caller;      /* agent, outbound: its caller, until detached */
	char number[ENG_NUMBER_MAX];/* caller: who is calling, for legs placed for it */
	char name[ENG_NAME_MAX];
	/* Admission (ua.c): a queue call enters its queue on the ACK of our 200,
	 * not before (a spoofed INVITE whose 200 is never ACKed never queues). */
	eng_id admit_queue;         /* caller: queue to enter on the ACK, 0 once entered */
	char dialed[ENG_NUMBER_MAX];
	char callee_name[ENG_NAME_MAX];
	struct sdpneg pending_sdp;  /* the offer whose media starts on the ACK */
	bool media_pending;
	struct guard_addr src;      /* incoming legs: the SIP source, for max_calls_per_source */
	char owner[ENG_NAME_MAX];   /* incoming legs: the authenticated member who called, or "" */
	/* Transfer (transfer.c): the caller's outbound legs while they ring, then
	 * the one that answered. */
	struct dialog *out[DLG_FORK_MAX];
	unsigned nout;
	struct dialog *peer;
	su_timer_t *ring_timer;
	char voicemail[ENG_NAME_MAX];/* caller: box to record into once the prompt ends */
	/* Outbound through a gateway (gateway.c): whose credentials answer a
	 * challenge, and whether they were sent already (once per leg). */
	char gateway[STORE_GW_NAME_MAX];
	bool gateway_authed;
	/* Spying (feature code *57-*59, or DLG_SPY): whose call, for whom, how.
	 * An extension call (internal.c) keeps the member it rings in `target`. */
	bool spying;
	eng_id supervisor;
	char target[ENG_NAME_MAX];
	enum media_spy_mode spy_mode;
	/* Transfers by REFER (refer.c) and extension calls (internal.c). */
	char member[ENG_NAME_MAX];  /* agent leg, extension call: whose phone it is; else "" */
	struct dialog *referrer;    /* caller: the agent leg whose REFER sent it on, until told */
	struct dialog *referred;    /* agent leg: the caller its REFER sent on, until told */
	char refer_event[48];       /* agent leg: Event of the REFER's subscription, "" if none */
	bool refer_final;           /* agent leg: the last NOTIFY went out; BYE when it is answered */
	bool refer_inflight;        /* agent leg: a NOTIFY awaits its answer */
	int refer_pending;          /* agent leg: final status to NOTIFY after that answer, or 0 */
	char transport[REG_TRANSPORT_MAX]; /* of the dialog's first hop; our Contact names it */
	/* SRTP (sdes.h): legs we place over TLS offer it; a leg takes it when the
	 * remote offers it. Once SRTP, a leg never falls back to plain RTP. Our key
	 * changes only with the suite, so a refresh keeps the media sessions. */
	bool srtp;
	bool srtp_savp;          /* our SDP says RTP/SAVP (else RTP/AVP with a=crypto) */
	struct sdes srtp_local;
	bool offered;            /* our INVITE in progress carries an offer: its 2xx answers */
	bool offer_in_200;       /* our 200 to an offerless re-INVITE offered: the ACK answers */
	/* Callbacks (callback.c): clips to say one after another ("callback-at 5 5 5"),
	 * the caller's choice and keyed number, and what follows the last clip. */
	char say[DLG_SAY_MAX];
	size_t say_pos;
	enum dialog_cb cb;
	char cb_digits[ENG_NUMBER_MAX];
	bool say_bye, say_resume;
	su_timer_t *cb_timer;       /* the caller's choice: no key for a while ends it */
	bool answered;           /* 2xx sent (caller, feature) or received (agent) */
	bool closing;            /* we sent BYE, CANCEL or a final error */
	bool reported;           /* the engine knows this leg is over (or never knew it) */
	struct dialog *live_prev, *live_next;   /* sipua's list of every dialog */
};

struct sipua {
	struct sip_env env;        /* the daemon around us (sip.h) */
	nua_t *nua;
	registrar_t *reg;
	struct acl acl;
	struct digest digest;
	struct guard guard;        /* slows password guessing per source */
	gateways_t *gw;            /* outbound gateways (gateway.h) */
	struct idmap calls;      /* engine call id -> caller leg */
	struct idmap offers;     /* engine offer id -> agent leg */
	struct idmap mlegs;      /* media leg -> leg, for media events */
	unsigned ncallers;
	unsigned nlegs;            /* every dialog: at most 2 x max_calls (dialog_new) */
	struct backlog *backlog;   /* drains TCP accepts when out of descriptors */
	/* Refusals of unauthenticated requests are logged a few per window, the
	 * rest counted and summed up by a timer (ua_refusal). */
	su_timer_t *refusal_timer;
	struct ua_refusals {
		eng_ms window;
		unsigned lines, dropped;
		uint64_t total;          /* every one since start, for /metrics */
	} refusal[UA_REFUSAL_KINDS];
	uint64_t guarded;          /* requests answered 403 by the guard */
	struct dialog *live;       /* every dialog not yet terminated */
	uint32_t sdp_version;
	bool shutting;
	su_timer_t *drain;         /* shutdown: waits for the legs to end */
	su_timer_t *fail_timer;    /* offers that could not be placed, failed a moment later */
	struct dialog_failing {
		eng_id offer;
		const char *reason;  /* engine_offer_failed: "unreachable" or "local" */
	} *failing;
	size_t nfailing, capfailing;
	eng_ms drain_until;
	void (*done)(void *ctx);
	void *done_ctx;
};

/* The wiring's hook that runs after every engine transition (sip.h). */
static inline void ua_engine_done(const struct sip_env *env) { env->engine_done(env->ctx); }

/* dialog.c */
struct dialog *dialog_new(struct sipua *s, enum dialog_kind kind, nua_handle_t *nh);
/* Answer an incoming INVITE with our SDP for the remote's offer; 0 or -1. */
int dialog_answer(struct dialog *l, const struct sdpneg *remote);
/* The same 200, but no RTP goes to the remote until dialog_media_start (on
 * the ACK): a spoofed INVITE cannot aim our media at anyone. */
int dialog_answer_unsent(struct dialog *l, const struct sdpneg *remote);
int dialog_media_start(struct dialog *l);
void dialog_hangup(struct dialog *l);
/* A re-INVITE on an established leg: new address, codec or hold state. */
void dialog_reinvite(struct dialog *l, const sip_t *sip);
void dialog_terminated(struct dialog *l);
/* Frees a dialog nua will say no more about (nua is going away). */
void dialog_free(struct dialog *l);
void dialog_agent_response(struct dialog *l, int status, const sip_t *sip);
/* Places an INVITE to `uri` for `caller` (From: the caller's number and name). */
int dialog_place(struct dialog *l, const char *uri, const struct dialog *caller);
/* The same to a registered phone, reached the way its REGISTER came (route.h). */
int dialog_place_binding(struct dialog *l, const struct reg_binding *b,
                         const struct dialog *caller);
/* A response to an INVITE we sent: ACKs a 2xx (with our answer when the 2xx
 * offers). True if it answered a re-INVITE (a session refresh by nua), which
 * is then handled in full; false for the initial INVITE's responses. */
bool dialog_invite_response(struct dialog *l, int status, const sip_t *sip);
/* The ACK to our 2xx; it carries the answer when our 2xx offered. */
void dialog_ack(struct dialog *l, const sip_t *sip);
/* The same with From <from_uri> (the caller's name as display name). */
int dialog_place_as(struct dialog *l, const char *uri, const char *from_uri,
                    const struct dialog *caller);
/* A final response to a supervisor's phone rung by `spy`. */
void dialog_spy_response(struct dialog *l, int status, const sip_t *sip);
/* A DTMF digit from the leg (RFC 4733 or SIP INFO). */
void dialog_digit(struct dialog *l, char digit);
/* Frees a dialog whose INVITE could not be placed. */
void dialog_discard(struct dialog *l);
/* The remote SDP of a 2xx, applied to the leg's media; false if unusable. */
bool dialog_take_answer(struct dialog *l, const sip_t *sip);

/* transfer.c */
void transfer_start(struct dialog *caller, const char *dest);
void transfer_response(struct dialog *out, int status, const sip_t *sip);
/* A caller or outbound leg of a transfer has terminated. */
void transfer_gone(struct dialog *l);

/* refer.c */
/* A REFER inside dialog l: on an agent's leg of a queue call (blind, or attended with
 * Replaces naming the agent's extension call); anything else is refused. */
void refer_request(nua_t *nua, nua_handle_t *nh, struct dialog *l, const sip_t *sip,
                   tagi_t tags[]);
/* The response to a NOTIFY we sent on l. */
void refer_notified(struct dialog *l, int status);
/* Where a caller sent on by REFER ended up (200, or the failure): the final
 * NOTIFY to the agent's phone. Nothing if no REFER sent it. */
void refer_outcome(struct dialog *caller, int status);
/* l has terminated: forget the REFER links through it. */
void refer_gone(struct dialog *l);

/* secure.c: members (secure=yes) and the trunk (trunk_secure) that must use
 * SIP over TLS with SRTP. The transport is the top Via's, which Sofia's
 * transaction layer has checked against the connection the request came on
 * (a Via naming another transport is dropped). */
/* False if a secure member's REGISTER did not come over TLS. */
bool secure_register_ok(struct sipua *s, const char *login, const sip_t *sip);
/* An INVITE from a secure member (member) or, with trunk_secure, from the
 * trunk (member ""): 403 unless over TLS, 488 unless SRTP is offered; false
 * after answering it. */
bool secure_invite_ok(struct sipua *s, nua_handle_t *nh, const sip_t *sip, const char *member,
                      const struct sdpneg *r);
/* Whether offers to login must use TLS and SRTP. */
bool secure_member(struct sipua *s, const char *login);
/* callback.c */
/* A caller's key while waiting: the queue's callback key starts the choice,
 * then the number up to '#'. True if the digit was the callback's. */
bool callback_digit(struct dialog *l, char digit);
/* MEV_PLAYED on l: its next clip; true if l was saying something. */
bool callback_played(struct dialog *l);
/* The leg standing for callback `call` (kept in sipua.calls), made on first
 * use; NULL if the call is no callback. */
struct dialog *callback_leg(struct sipua *s, eng_id call);
/* The agent answered callback cb: tell the agent, dial the customer. */
void callback_bridge(struct dialog *cb, struct dialog *agent);
/* A response to the customer leg of a callback; false if o is no such leg. */
bool callback_response(struct dialog *o, int status, const sip_t *sip);
/* A leg ends: the customer's or the agent's of a callback; false if neither. */
void callback_gone(struct dialog *l);
/* The callback left the engine (ACT_RELEASE): its legs end, cb is freed. */
void callback_release(struct dialog *cb);

/* internal.c */
/* An authenticated member's phone dialed another member's login: answered,
 * and that member's phones ring (transfer.c); the first answer is bridged. */
void internal_call(struct sipua *s, nua_handle_t *nh, const char *from, const char *name,
                   const char *login, const struct sdpneg *r);

#endif

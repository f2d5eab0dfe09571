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
#include "sip/digest.h"
#include "sip/registrar.h"
#include "sip/sdpneg.h"
#include "sip/sip.h"

enum dialog_kind { DLG_CALLER, DLG_AGENT, DLG_FEATURE };

/* One SIP dialog with its media leg. Freed only when nua says the dialog is
 * terminated, so nua never holds a dangling magic pointer. */
struct dialog {
	enum dialog_kind kind;
	struct sipua *sip;
	nua_handle_t *nh;
	media_leg mleg;
	eng_id call, offer;
	struct dialog *agent;       /* caller: the agent leg ringing or bridged */
	struct dialog *caller;      /* agent: its caller, until detached */
	bool answered;           /* 2xx sent (caller, feature) or received (agent) */
	bool closing;            /* we sent BYE, CANCEL or a final error */
	bool reported;           /* the engine knows this leg is over (or never knew it) */
};

struct sipua {
	struct app *app;
	nua_t *nua;
	registrar_t *reg;
	struct acl acl;
	struct digest digest;
	struct idmap calls;      /* engine call id -> caller leg */
	struct idmap offers;     /* engine offer id -> agent leg */
	struct idmap mlegs;      /* media leg -> leg, for media events */
	unsigned ncallers;
	uint32_t sdp_version;
	bool shutting;
	void (*done)(void *ctx);
	void *done_ctx;
};

/* dialog.c */
struct dialog *dialog_new(struct sipua *s, enum dialog_kind kind, nua_handle_t *nh);
/* Answer an incoming INVITE with our SDP for the remote's offer; 0 or -1. */
int dialog_answer(struct dialog *l, const struct sdpneg *remote);
void dialog_hangup(struct dialog *l);
void dialog_terminated(struct dialog *l);
void dialog_agent_response(struct dialog *l, int status, const sip_t *sip);

#endif

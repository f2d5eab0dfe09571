/* internal.c — members calling each other by extension.
 *
 * An authenticated member's phone (digest, as for feature codes) dialing
 * another member's login gets a caller leg like any other, but no engine
 * call: it is answered at once and the dialed member's phones ring through
 * transfer.c's "member:LOGIN" fork (every registered phone, first answer
 * wins, 30 s). From then on it is a caller with a transfer peer: either
 * side's BYE ends both. Such a call is also the consultation leg of an
 * attended transfer (refer.c), which finds it by its `member` and `target`.
 */
#include "sip/ua.h"

#include <stdio.h>
#include <string.h>

#include <sofia-sip/sip_status.h>

#include "core/log.h"

void internal_call(struct sipua *s, nua_handle_t *nh, const char *from, const char *name,
                   const char *login, const struct sdpneg *r)
{
	char dest[ENG_DEST_MAX];
	if (!strcmp(from, login)) {
		nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
		return;
	}
	if (!sipua_contacts(s, login)) {
		nua_respond(nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
		log_info("sip", "%s dialed %s: no registered phone", from, login);
		return;
	}
	struct dialog *l = dialog_new(s, DLG_CALLER, nh);
	if (!l) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	nua_handle_bind(nh, l);
	l->reported = true;   /* no engine call behind it */
	snprintf(l->member, sizeof l->member, "%s", from);
	snprintf(l->owner, sizeof l->owner, "%s", from);
	snprintf(l->number, sizeof l->number, "%s", from);
	snprintf(l->name, sizeof l->name, "%s", name);
	snprintf(l->target, sizeof l->target, "%s", login);
	if (dialog_answer(l, r) < 0) {
		nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
		l->closing = true;
		return;
	}
	log_info("sip", "%s calls %s", from, login);
	snprintf(dest, sizeof dest, "member:%s", login);
	transfer_start(l, dest);
}

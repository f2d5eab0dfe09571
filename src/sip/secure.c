/* secure.c — who must use SIP over TLS with SRTP (see ua.h).
 *
 * A member with secure=yes must register and call over TLS and offer SRTP;
 * with trunk_secure=yes the same holds for calls from the trunk ACL. Offers
 * to such a member go only to its TLS bindings, with SRTP (dialog.c). */
#include "sip/ua.h"

#include <string.h>

#include <sofia-sip/sip_status.h>

#include "core/log.h"

static bool secure_over_tls(const sip_t *sip)
{
	return !strcmp(route_transport(sip->sip_via ? sip->sip_via->v_protocol : NULL), "tls");
}

bool secure_member(struct sipua *s, const char *login)
{
	return registrar_secure(s->reg, login);
}

bool secure_register_ok(struct sipua *s, const char *login, const sip_t *sip)
{
	if (!secure_member(s, login) || secure_over_tls(sip))
		return true;
	log_warn("sip", "REGISTER %s refused: secure member, not over TLS", login);
	return false;
}

bool secure_invite_ok(struct sipua *s, nua_handle_t *nh, const sip_t *sip, const char *member,
                      const struct sdpneg *r)
{
	bool required = member[0] ? secure_member(s, member) : s->env.conf->trunk_secure;
	const char *who = member[0] ? member : "the trunk";
	if (!required)
		return true;
	if (!secure_over_tls(sip)) {
		nua_respond(nh, 403, "TLS Required", TAG_END());
		log_warn("sip", "INVITE from %s refused: must come over TLS", who);
		return false;
	}
	if (!r->crypto.suite) {
		nua_respond(nh, 488, "Not Acceptable Here (SRTP required)", TAG_END());
		log_warn("sip", "INVITE from %s refused: no SRTP offered", who);
		return false;
	}
	return true;
}

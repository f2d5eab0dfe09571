/* gateway.h — outbound gateways: SIP providers callq registers with and calls
 * outside numbers through.
 *
 * A gateway is a row of SQLite table `gateways` (struct store_gateway), added,
 * changed and deleted by the admin's gateway.* verbs and applied at once:
 *   name       the gateway's name in destinations (gateway:NAME/NUMBER)
 *   uri        sip:HOST[:PORT][;transport=udp|tcp|tls] — where REGISTER and
 *              INVITEs go (no user part)
 *   username, password, realm
 *              credentials for the provider's digest challenges (401/407);
 *              realm "" answers whatever realm the challenge names
 *   register   yes: keep a registration as username@HOST
 *   expires    seconds asked for in REGISTER (nua refreshes it before expiry)
 *   from_user  the user part of From on calls ("" = username)
 *
 * Registration. One nua handle per registering gateway, REGISTER with
 * From/To username@HOST (without the port) and our own Contact. A 401/407 is answered once
 * (nua_authenticate with the realm of the challenge); another 401/407 in the
 * same attempt, a 403, any other final error or a timeout is a failure: the
 * handle is dropped and the next attempt waits gateway_backoff_ms(failures)
 * — 5 s, 10 s, 20 s … at most 5 minutes — so a wrong password or a refusing
 * provider sees one REGISTER per delay, never a burst. A 2xx resets the
 * count; nua refreshes a registration itself (the refresh re-answers a new
 * challenge with the cached credentials). gateway.set re-registers, gateway.del
 * and shutdown unregister.
 *
 * Calls. A destination `gateway:NAME/NUMBER` is an INVITE to
 * sip:NUMBER@HOST[:PORT][;transport=..] with From sip:FROM_USER@HOST (no port), where
 * FROM_USER is the gateway's from_user, else its username (providers accept
 * only their account as From; the caller's name stays the display name). A
 * `uri:sip:X@HOST` destination whose host (and port, if any) matches a
 * gateway's goes out the same way with that gateway's From and credentials.
 * The provider's 401/407 to the INVITE is answered once with the gateway's
 * credentials (ua.c); a second challenge ends the leg.
 *
 * Other code places a call to an outside target with gateway_place(): it
 * takes "gateway:NAME/NUMBER", "uri:sip:..." or a bare "sip:..." and does the
 * routing above (REFER transfers use it for their targets).
 */
#ifndef CALLQ_GATEWAY_H
#define CALLQ_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define GATEWAY_MAX 64
#define GATEWAY_NUMBER_MAX 32
#define GATEWAY_BACKOFF_FIRST_MS 5000
#define GATEWAY_BACKOFF_MAX_MS 300000
#define GATEWAY_EXPIRES_MIN 10
#define GATEWAY_EXPIRES_MAX 86400

/* ---- pure parts (no SIP) ---- */

/* A fresh configuration: no register, expires 3600. */
void gateway_conf_init(struct store_gateway *c, const char *name);
/* Sets one key (uri, username, password, realm, register, expires,
 * from_user) from text; -1 with the reason in err if the key is unknown or
 * the value invalid. */
int gateway_conf_set(struct store_gateway *c, const char *key, const char *value, char *err,
                     size_t errlen);
/* Checks the whole: a uri, and username + password if register=yes. */
int gateway_conf_check(const struct store_gateway *c, char *err, size_t errlen);
/* The wait before the next REGISTER after `failures` consecutive failures
 * (1 → 5 s, doubling, capped at 5 minutes). */
int64_t gateway_backoff_ms(unsigned failures);
/* "gateway:NAME/NUMBER" → name and number (digits, *, #, leading +); false if
 * the text is not of that form. */
bool gateway_dest_parse(const char *dest, char *name, size_t namecap, char *number,
                        size_t numcap);
/* "sip:HOST:PORT;transport=tcp" → "HOST:PORT" (host[:port], lower case); false
 * if it is not a sip/sips URI. The user part, if any, is skipped. */
bool gateway_uri_host(const char *uri, char *out, size_t cap);
/* The Request-URI for NUMBER through gateway c: sip:NUMBER@HOST[:PORT][;params]. */
bool gateway_call_uri(const struct store_gateway *c, const char *number, char *out, size_t cap);

/* ---- the running gateways (on the SIP loop) ---- */

typedef struct gateways gateways_t;
struct sipua;
struct dialog;
struct nua_handle_s;
struct sip_s;

enum gateway_state { GW_UNREGISTERED, GW_REGISTERING, GW_REGISTERED, GW_FAILED };

struct gateway_status {
	struct store_gateway conf;
	enum gateway_state state;
	char reason[96];             /* last failure: "403 Forbidden", "408 ..." */
	unsigned failures;           /* consecutive */
	int64_t retry_at_unix;       /* next REGISTER after a failure; 0 if none due */
};

gateways_t *gateways_new(struct sipua *s);
void gateways_free(gateways_t *g);   /* no unregistering: nua is gone or going */
/* Adds or replaces a gateway (a replaced one is unregistered first) and
 * starts registering if asked. -1 if GATEWAY_MAX are configured. */
int gateway_put(gateways_t *g, const struct store_gateway *c);
/* Unregisters and forgets it; false if no such gateway. */
bool gateway_del(gateways_t *g, const char *name);
bool gateway_get(gateways_t *g, const char *name, struct gateway_status *out);
/* Fills up to max, in name order of insertion; returns the count. */
size_t gateway_list(gateways_t *g, struct gateway_status *out, size_t max);
const char *gateway_state_name(enum gateway_state st);
/* Unregisters everything (shutdown). */
void gateway_shutdown(gateways_t *g);
/* Unregistrations still waiting for an answer (shutdown waits for them). */
bool gateway_pending(const gateways_t *g);
/* A REGISTER response (nua_r_register / nua_r_unregister) on handle nh; false
 * if nh is not a gateway's. */
bool gateway_response(gateways_t *g, struct nua_handle_s *nh, int status, const char *phrase,
                      const struct sip_s *sip);
/* Answers a 401/407 to an INVITE placed through gateway `name`; 0 if
 * credentials were sent, -1 if none apply. */
int gateway_authenticate(gateways_t *g, const char *name, struct nua_handle_s *nh,
                         const struct sip_s *sip);

/* Whether a SIP URI's host (and port) is a configured gateway's. */
bool gateway_serves(const gateways_t *g, const char *uri);
/* Places leg l (a fresh dialog) towards `target` for `caller`:
 * "gateway:NAME/NUMBER", "uri:sip:..." or "sip:...". Through a gateway when
 * the target names one or its host matches one; else as dialog_place.
 * 0 or -1 (then discard the leg as after dialog_place). */
int gateway_place(struct dialog *l, const char *target, const struct dialog *caller);

#endif

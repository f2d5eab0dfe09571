/* registrar.h — who the members are to SIP, and where their phones are.
 *
 * Holds each member's digest HA1 and up to REG_CONTACTS_MAX live bindings.
 * A binding is the Contact URI plus how the REGISTER reached us: the source
 * address, port and transport (a phone behind NAT is reached there, over its
 * own TCP connection), the Path of edge proxies (RFC 3327), and the RFC 5626
 * instance and reg-id. A binding replaces an older one with the same Contact
 * URI, or with the same instance and reg-id (a phone whose address changed).
 * Pure data: the REGISTER transaction itself is handled in ua.c, which calls
 * in here; route.c says how to reach a binding. Time is the engine's
 * monotonic ms.
 */
#ifndef CALLQ_REGISTRAR_H
#define CALLQ_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>

#include "acd/engine.h"

#define REG_CONTACTS_MAX 8
#define REG_URI_MAX 256
#define REG_HOST_MAX 64
#define REG_TRANSPORT_MAX 8
#define REG_PATH_MAX 512
#define REG_INSTANCE_MAX 128
#define REG_EXPIRES_MAX 3600
#define REG_EXPIRES_DEFAULT 3600

struct reg_binding {
	char uri[REG_URI_MAX];             /* the Contact: the Request-URI of offers */
	char src[REG_HOST_MAX];            /* where the REGISTER came from; "" unknown */
	unsigned src_port;
	char transport[REG_TRANSPORT_MAX]; /* "udp", "tcp" or "tls" */
	char path[REG_PATH_MAX];           /* Path values, "<sip:p1;lr>,<sip:p2;lr>"; "" none */
	char instance[REG_INSTANCE_MAX];   /* +sip.instance, "" none */
	unsigned reg_id;                   /* RFC 5626 reg-id, 0 none */
	eng_ms expires;
};

typedef struct registrar registrar_t;

registrar_t *registrar_new(void);
void registrar_free(registrar_t *r);

int registrar_cred(registrar_t *r, const char *login, const char *ha1);
void registrar_forget(registrar_t *r, const char *login);
const char *registrar_ha1(const registrar_t *r, const char *login);
/* A member whose REGISTERs and calls must come over TLS with SRTP (false for
 * an unknown login). */
void registrar_set_secure(registrar_t *r, const char *login, bool secure);
bool registrar_secure(const registrar_t *r, const char *login);

/* Adds or refreshes binding b (its expires is ignored); expires_s = 0 removes
 * it. -1: unknown login, full, or a field too long. */
int registrar_bind(registrar_t *r, const char *login, const struct reg_binding *b, eng_ms now,
                   unsigned expires_s);
void registrar_unbind_all(registrar_t *r, const char *login);
/* Live bindings, most recently refreshed first. */
size_t registrar_contacts(const registrar_t *r, const char *login, eng_ms now,
                          struct reg_binding *out, size_t max);

#endif

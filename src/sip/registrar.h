/* registrar.h — who the members are to SIP, and where their phones are.
 *
 * Holds each member's digest HA1 and up to REG_CONTACTS_MAX live bindings
 * (Contact URIs with an expiry). Pure data: the REGISTER transaction itself is
 * handled in ua.c, which calls in here. Time is the engine's monotonic ms.
 */
#ifndef CALLQ_REGISTRAR_H
#define CALLQ_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>

#include "acd/engine.h"

#define REG_CONTACTS_MAX 8
#define REG_URI_MAX 256
#define REG_EXPIRES_MAX 3600
#define REG_EXPIRES_DEFAULT 3600

struct reg_binding {
	char uri[REG_URI_MAX];
	eng_ms expires;
};

typedef struct registrar registrar_t;

registrar_t *registrar_new(void);
void registrar_free(registrar_t *r);

int registrar_cred(registrar_t *r, const char *login, const char *ha1);
void registrar_forget(registrar_t *r, const char *login);
const char *registrar_ha1(const registrar_t *r, const char *login);

/* Adds or refreshes a binding; expires_s = 0 removes it. -1: unknown login or full. */
int registrar_bind(registrar_t *r, const char *login, const char *uri, eng_ms now,
                   unsigned expires_s);
void registrar_unbind_all(registrar_t *r, const char *login);
/* Live bindings, most recently refreshed first. */
size_t registrar_contacts(const registrar_t *r, const char *login, eng_ms now,
                          struct reg_binding *out, size_t max);

#endif

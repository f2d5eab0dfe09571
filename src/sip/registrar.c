/* registrar.c — see registrar.h. Members are few (hundreds), so a flat array
 * with linear search is both simplest and fast enough; bindings expire lazily
 * whenever they are read or written. */
#include "sip/registrar.h"

#include <stdlib.h>
#include <string.h>

struct reg_member {
	char login[ENG_NAME_MAX];
	char ha1[33];
	bool secure;
	struct reg_binding b[REG_CONTACTS_MAX];
	unsigned n;
};

struct registrar {
	struct reg_member *m;
	size_t n, cap;
};

registrar_t *registrar_new(void) { return calloc(1, sizeof(registrar_t)); }

void registrar_free(registrar_t *r)
{
	if (r)
		free(r->m);
	free(r);
}

static struct reg_member *registrar_find(const registrar_t *r, const char *login)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].login, login))
			return &r->m[i];
	return NULL;
}

int registrar_cred(registrar_t *r, const char *login, const char *ha1)
{
	if (strlen(login) >= ENG_NAME_MAX || strlen(ha1) != 32)
		return -1;
	struct reg_member *m = registrar_find(r, login);
	if (!m) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct reg_member *nm = realloc(r->m, cap * sizeof *nm);
			if (!nm)
				return -1;
			r->m = nm;
			r->cap = cap;
		}
		m = &r->m[r->n++];
		memset(m, 0, sizeof *m);
		strcpy(m->login, login);
	}
	memcpy(m->ha1, ha1, 33);
	return 0;
}

void registrar_forget(registrar_t *r, const char *login)
{
	struct reg_member *m = registrar_find(r, login);
	if (m)
		*m = r->m[--r->n];
}

const char *registrar_ha1(const registrar_t *r, const char *login)
{
	const struct reg_member *m = registrar_find(r, login);
	return m ? m->ha1 : NULL;
}

void registrar_set_secure(registrar_t *r, const char *login, bool secure)
{
	struct reg_member *m = registrar_find(r, login);
	if (m)
		m->secure = secure;
}

bool registrar_secure(const registrar_t *r, const char *login)
{
	const struct reg_member *m = registrar_find(r, login);
	return m && m->secure;
}

static void registrar_drop(struct reg_member *m, unsigned i)
{
	memmove(&m->b[i], &m->b[i + 1], (m->n - i - 1) * sizeof m->b[0]);
	m->n--;
}

static void registrar_expire(struct reg_member *m, eng_ms now)
{
	for (unsigned i = m->n; i-- > 0;)
		if (m->b[i].expires <= now)
			registrar_drop(m, i);
}

/* The same binding: same Contact, or the same phone instance and flow
 * (RFC 5626 4.2: instance and reg-id identify it whatever its Contact). */
static bool registrar_same(const struct reg_binding *a, const struct reg_binding *b)
{
	if (!strcmp(a->uri, b->uri))
		return true;
	return a->instance[0] && !strcmp(a->instance, b->instance) && a->reg_id == b->reg_id;
}

static bool registrar_fits(const struct reg_binding *b)
{
	return memchr(b->uri, 0, sizeof b->uri) && memchr(b->src, 0, sizeof b->src) &&
	       memchr(b->transport, 0, sizeof b->transport) && memchr(b->path, 0, sizeof b->path) &&
	       memchr(b->instance, 0, sizeof b->instance) && b->uri[0];
}

int registrar_bind(registrar_t *r, const char *login, const struct reg_binding *b, eng_ms now,
                   unsigned expires_s)
{
	struct reg_member *m = registrar_find(r, login);
	if (!m || !registrar_fits(b))
		return -1;
	registrar_expire(m, now);
	for (unsigned i = 0; i < m->n; i++)
		if (registrar_same(&m->b[i], b))
			registrar_drop(m, i--);
	if (expires_s == 0)
		return 0;
	if (m->n == REG_CONTACTS_MAX)
		return -1;
	/* Newest first: the most recently registered phone is rung first. */
	memmove(&m->b[1], &m->b[0], m->n * sizeof m->b[0]);
	m->b[0] = *b;
	m->b[0].expires = now + (eng_ms)expires_s * 1000;
	m->n++;
	return 0;
}

void registrar_unbind_all(registrar_t *r, const char *login)
{
	struct reg_member *m = registrar_find(r, login);
	if (m)
		m->n = 0;
}

size_t registrar_contacts(const registrar_t *r, const char *login, eng_ms now,
                          struct reg_binding *out, size_t max)
{
	const struct reg_member *m = registrar_find(r, login);
	size_t k = 0;
	for (unsigned i = 0; m && i < m->n && k < max; i++)
		if (m->b[i].expires > now)
			out[k++] = m->b[i];
	return k;
}

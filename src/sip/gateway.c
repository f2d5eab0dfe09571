/* gateway.c — see gateway.h. Configuration checks and destination parsing
 * first (pure), then the running gateways: registration with backoff, digest
 * answers, and placing calls through a gateway. */
#include "sip/gateway.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include "core/log.h"
#include "sip/ua.h"

/* ---- configuration ---- */

void gateway_conf_init(struct store_gateway *c, const char *name)
{
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	c->expires = 3600;
}

static int gw_fail_msg(char *err, size_t errlen, const char *key, const char *why)
{
	snprintf(err, errlen, "%s %s", key, why);
	return -1;
}

/* A user part we can put in From/To and in NUTAG_AUTH (which splits on ':'). */
static bool gw_user_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= STORE_GW_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.+-", *s))
			return false;
	return true;
}

/* Printable ASCII without the characters that would break a header or
 * NUTAG_AUTH ("Digest:\"realm\":user:pass"). */
static bool gw_text_ok(const char *s, size_t cap, const char *refused)
{
	if (strlen(s) >= cap)
		return false;
	for (; *s; s++)
		if (*s < ' ' || *s > '~' || strchr(refused, *s))
			return false;
	return true;
}

bool gateway_uri_host(const char *uri, char *out, size_t cap)
{
	const char *p;
	if (!strncasecmp(uri, "sip:", 4))
		p = uri + 4;
	else if (!strncasecmp(uri, "sips:", 5))
		p = uri + 5;
	else
		return false;
	const char *at = strchr(p, '@');
	if (at && at < p + strcspn(p, ";?"))
		p = at + 1;
	size_t len = strcspn(p, ";?>");
	if (len == 0 || len >= cap)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (!isalnum((unsigned char)c) && !strchr(".-:[]", c))
			return false;
		out[i] = (char)tolower((unsigned char)c);
	}
	out[len] = 0;
	return true;
}

/* sip:HOST[:PORT][;params]: no user part, no header part, nothing odd. */
static bool gw_uri_ok(const char *uri)
{
	char host[STORE_GW_URI_MAX];
	const char *p = uri + (strncasecmp(uri, "sips:", 5) ? 4 : 5);
	if (strlen(uri) >= STORE_GW_URI_MAX || !gateway_uri_host(uri, host, sizeof host) ||
	    strchr(p, '@') || strchr(p, '?'))
		return false;
	for (const char *q = p; *q; q++)
		if (*q <= ' ' || *q > '~' || strchr("\"<>\\", *q))
			return false;
	return true;
}

int gateway_conf_set(struct store_gateway *c, const char *key, const char *value, char *err,
                     size_t errlen)
{
	if (!strcmp(key, "uri")) {
		if (!gw_uri_ok(value))
			return gw_fail_msg(err, errlen, key,
			                   "must be sip:HOST[:PORT][;transport=udp|tcp|tls], no user part");
		snprintf(c->uri, sizeof c->uri, "%s", value);
	} else if (!strcmp(key, "username") || !strcmp(key, "from_user")) {
		if (*value && !gw_user_ok(value))
			return gw_fail_msg(err, errlen, key, "must be 1-63 of A-Z a-z 0-9 _ . + -");
		snprintf(!strcmp(key, "username") ? c->username : c->from_user, STORE_GW_NAME_MAX, "%s",
		         value);
	} else if (!strcmp(key, "password")) {
		if (!gw_text_ok(value, sizeof c->password, ":"))
			return gw_fail_msg(err, errlen, key,
			                   "must be at most 127 printable ASCII characters, no ':'");
		snprintf(c->password, sizeof c->password, "%s", value);
	} else if (!strcmp(key, "realm")) {
		if (!gw_text_ok(value, sizeof c->realm, "\"\\"))
			return gw_fail_msg(err, errlen, key, "must be printable ASCII without quotes");
		snprintf(c->realm, sizeof c->realm, "%s", value);
	} else if (!strcmp(key, "register")) {
		if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1"))
			c->reg = true;
		else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") || !strcmp(value, "0"))
			c->reg = false;
		else
			return gw_fail_msg(err, errlen, key, "must be yes or no");
	} else if (!strcmp(key, "expires")) {
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (!*value || *end || v < GATEWAY_EXPIRES_MIN || v > GATEWAY_EXPIRES_MAX)
			return gw_fail_msg(err, errlen, key, "must be 10-86400 seconds");
		c->expires = (unsigned)v;
	} else {
		return gw_fail_msg(err, errlen, key,
		                   "is not a gateway setting (uri, username, password, realm, "
		                   "register, expires, from_user)");
	}
	return 0;
}

int gateway_conf_check(const struct store_gateway *c, char *err, size_t errlen)
{
	if (!c->uri[0])
		return gw_fail_msg(err, errlen, "uri", "is required");
	if (c->reg && (!c->username[0] || !c->password[0]))
		return gw_fail_msg(err, errlen, "register=yes", "needs username and password");
	return 0;
}

int64_t gateway_backoff_ms(unsigned failures)
{
	int64_t d = GATEWAY_BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < failures && d < GATEWAY_BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < GATEWAY_BACKOFF_MAX_MS ? d : GATEWAY_BACKOFF_MAX_MS;
}

bool gateway_dest_parse(const char *dest, char *name, size_t namecap, char *number, size_t numcap)
{
	if (strncmp(dest, "gateway:", 8))
		return false;
	dest += 8;
	const char *slash = strchr(dest, '/');
	size_t nlen = slash ? (size_t)(slash - dest) : 0;
	if (!slash || nlen == 0 || nlen >= namecap)
		return false;
	for (size_t i = 0; i < nlen; i++)
		if (!isalnum((unsigned char)dest[i]) && !strchr("_.-", dest[i]))
			return false;
	const char *num = slash + 1;
	size_t len = strlen(num);
	if (len == 0 || len >= numcap || len >= GATEWAY_NUMBER_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)num[i]) && !strchr("*#", num[i]) && !(i == 0 && num[i] == '+'))
			return false;
	memcpy(name, dest, nlen);
	name[nlen] = 0;
	memcpy(number, num, len + 1);
	return true;
}

bool gateway_call_uri(const struct store_gateway *c, const char *number, char *out, size_t cap)
{
	size_t scheme = strncasecmp(c->uri, "sips:", 5) ? 4 : 5;
	int n = snprintf(out, cap, "%.*s%s@%s", (int)scheme, c->uri, number, c->uri + scheme);
	return n > 0 && (size_t)n < cap;
}

/* ---- the running gateways ---- */

struct gw {
	struct store_gateway c;
	char host[STORE_GW_URI_MAX];    /* host[:port] of c.uri, for uri: destinations */
	gateways_t *g;
	nua_handle_t *nh;               /* the registration's handle, if any */
	enum gateway_state state;
	char reason[96];
	unsigned failures;
	bool auth_sent;                 /* this attempt answered a challenge already */
	bool leaving;                   /* deleted or replaced: unregistering, then freed */
	su_timer_t *retry;
	int64_t retry_at_unix;
};

/* Replaced or deleted gateways stay until their unregistration is answered,
 * so there are twice as many slots as configurable gateways. */
#define GW_SLOTS (2 * GATEWAY_MAX)

struct gateways {
	struct sipua *s;
	struct gw *v[GW_SLOTS];
	unsigned n;
};

gateways_t *gateways_new(struct sipua *s)
{
	gateways_t *g = calloc(1, sizeof *g);
	if (g)
		g->s = s;
	return g;
}

static void gw_free(gateways_t *g, struct gw *w)
{
	for (unsigned i = 0; i < g->n; i++) {
		if (g->v[i] == w) {
			memmove(&g->v[i], &g->v[i + 1], (g->n - i - 1) * sizeof g->v[0]);
			g->n--;
			break;
		}
	}
	if (w->retry)
		su_timer_destroy(w->retry);
	free(w);
}

void gateways_free(gateways_t *g)
{
	if (!g)
		return;
	while (g->n)
		gw_free(g, g->v[0]);
	free(g);
}

static struct gw *gw_find(const gateways_t *g, const char *name)
{
	for (unsigned i = 0; i < g->n; i++)
		if (!g->v[i]->leaving && !strcmp(g->v[i]->c.name, name))
			return g->v[i];
	return NULL;
}

/* A replaced registration of this name still being unregistered. */
static bool gw_leaving_named(const gateways_t *g, const char *name)
{
	for (unsigned i = 0; i < g->n; i++)
		if (g->v[i]->leaving && !strcmp(g->v[i]->c.name, name))
			return true;
	return false;
}

static struct gw *gw_by_nh(const gateways_t *g, const nua_handle_t *nh)
{
	for (unsigned i = 0; i < g->n; i++)
		if (nh && g->v[i]->nh == nh)
			return g->v[i];
	return NULL;
}

static void gw_drop_handle(struct gw *w)
{
	if (w->nh)
		nua_handle_destroy(w->nh);
	w->nh = NULL;
}

/* The domain of From/To: the gateway's host without its port. */
static void gw_domain(const struct gw *w, char *out, size_t cap)
{
	size_t len = w->host[0] == '[' ? strcspn(w->host, "]") + 1 : strcspn(w->host, ":");
	snprintf(out, cap, "%.*s", (int)len, w->host);
}

static const char *gw_from_user(const struct gw *w)
{
	return w->c.from_user[0] ? w->c.from_user : w->c.username;
}

static void gw_start(struct gw *w)
{
	char aor[STORE_GW_URI_MAX + STORE_GW_NAME_MAX + 16], domain[STORE_GW_URI_MAX], expires[16];
	struct sipua *s = w->g->s;
	gw_domain(w, domain, sizeof domain);
	snprintf(aor, sizeof aor, "<sip:%s@%s>", w->c.username, domain);
	snprintf(expires, sizeof expires, "%u", w->c.expires);
	w->retry_at_unix = 0;
	w->auth_sent = false;
	w->nh = nua_handle(s->nua, NULL, SIPTAG_FROM_STR(aor), SIPTAG_TO_STR(aor), TAG_END());
	if (!w->nh) {
		w->state = GW_FAILED;
		snprintf(w->reason, sizeof w->reason, "out of memory");
		return;
	}
	w->state = GW_REGISTERING;
	/* No OPTIONS keepalives or contact probing towards the provider: the
	 * registration and its refreshes are the only traffic. */
	nua_register(w->nh, NUTAG_REGISTRAR(w->c.uri), NUTAG_M_USERNAME(w->c.username),
	             SIPTAG_EXPIRES_STR(expires), NUTAG_OUTBOUND("no-options-keepalive no-validate"),
	             NUTAG_KEEPALIVE(0), TAG_END());
	log_info("sip", "gateway %s: REGISTER %s@%s", w->c.name, w->c.username, w->host);
}

static void gw_retry_due(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	struct gw *w = (struct gw *)arg;
	if (!w->leaving && !w->nh)
		gw_start(w);
}

/* The attempt failed: drop the handle (nothing more goes out on it) and
 * try again after the backoff, or after the provider's Retry-After if longer. */
static void gw_failed(struct gw *w, int status, const char *phrase, const sip_t *sip)
{
	gw_drop_handle(w);
	w->state = GW_FAILED;
	w->failures++;
	snprintf(w->reason, sizeof w->reason, "%d %s", status, phrase ? phrase : "");
	int64_t delay = gateway_backoff_ms(w->failures);
	if (sip && sip->sip_retry_after &&
	    (int64_t)sip->sip_retry_after->af_delta * 1000 > delay)
		delay = (int64_t)sip->sip_retry_after->af_delta * 1000;
	if (delay > GATEWAY_BACKOFF_MAX_MS)
		delay = GATEWAY_BACKOFF_MAX_MS;
	w->retry_at_unix = (int64_t)time(NULL) + (delay + 999) / 1000;
	log_warn("sip", "gateway %s: registration failed (%s), retry in %lld s", w->c.name, w->reason,
	         (long long)(delay / 1000));
	if (!w->retry)
		w->retry = su_timer_create(su_root_task(w->g->s->env.root), 0);
	if (!w->retry || su_timer_set_interval(w->retry, gw_retry_due, (su_timer_arg_t *)w,
	                                       (su_duration_t)delay) < 0)
		log_error("sip", "gateway %s: cannot arm the retry timer", w->c.name);
}

/* Sends the gateway's credentials for the realm the challenge names. */
static int gw_auth(const struct gw *w, nua_handle_t *nh, const sip_t *sip)
{
	const msg_auth_t *ch = sip ? (sip->sip_www_authenticate ? sip->sip_www_authenticate
	                                                        : sip->sip_proxy_authenticate)
	                           : NULL;
	const char *realm = ch ? msg_params_find(ch->au_params, "realm=") : NULL;
	char auth[STORE_GW_SECRET_MAX * 2 + STORE_GW_NAME_MAX + 32], bare[STORE_GW_SECRET_MAX];
	if (!realm || !ch->au_scheme || !w->c.username[0])
		return -1;
	size_t len = strlen(realm);
	if (len >= 2 && realm[0] == '"' && realm[len - 1] == '"')
		snprintf(bare, sizeof bare, "%.*s", (int)(len - 2), realm + 1);
	else
		snprintf(bare, sizeof bare, "%s", realm);
	if (w->c.realm[0] && strcmp(w->c.realm, bare)) {
		log_warn("sip", "gateway %s: challenge for realm \"%s\", configured \"%s\"", w->c.name,
		         bare, w->c.realm);
		return -1;
	}
	snprintf(auth, sizeof auth, "%s:\"%s\":%s:%s", ch->au_scheme, bare, w->c.username,
	         w->c.password);
	nua_authenticate(nh, NUTAG_AUTH(auth), TAG_END());
	return 0;
}

static void gw_leave(gateways_t *g, struct gw *w)
{
	w->leaving = true;
	if (w->retry)
		su_timer_reset(w->retry);
	if (w->nh && w->state == GW_REGISTERED) {
		nua_unregister(w->nh, TAG_END());
		log_info("sip", "gateway %s: unregistering", w->c.name);
		return;
	}
	gw_drop_handle(w);
	gw_free(g, w);
}

/* A replaced gateway's unregistration is over (answered or given up): free
 * it and start its replacement, which waited so that this un-REGISTER cannot
 * remove the binding the new REGISTER makes (both name the same Contact). */
static void gw_gone(gateways_t *g, struct gw *w)
{
	char name[STORE_GW_NAME_MAX];
	snprintf(name, sizeof name, "%s", w->c.name);
	gw_drop_handle(w);
	gw_free(g, w);
	struct gw *next = gw_find(g, name);
	if (next && next->c.reg && !next->nh && next->state == GW_UNREGISTERED &&
	    !gw_leaving_named(g, name))
		gw_start(next);
}

bool gateway_response(gateways_t *g, nua_handle_t *nh, int status, const char *phrase,
                      const sip_t *sip)
{
	struct gw *w = gw_by_nh(g, nh);
	if (!w)
		return false;
	if (status < 200)
		return true;
	if (w->leaving) {
		gw_gone(g, w);
		return true;
	}
	if (status < 300) {
		if (w->state != GW_REGISTERED)
			log_info("sip", "gateway %s: registered", w->c.name);
		w->state = GW_REGISTERED;
		w->failures = 0;
		w->auth_sent = false;
		w->reason[0] = 0;
		w->retry_at_unix = 0;
		return true;
	}
	if ((status == 401 || status == 407) && !w->auth_sent && gw_auth(w, nh, sip) == 0) {
		w->auth_sent = true;
		return true;
	}
	gw_failed(w, status, phrase, sip);
	return true;
}

int gateway_put(gateways_t *g, const struct store_gateway *c)
{
	struct gw *old = gw_find(g, c->name);
	unsigned active = 0;
	for (unsigned i = 0; i < g->n; i++)
		active += !g->v[i]->leaving;
	if (!old && active >= GATEWAY_MAX)
		return -1;
	struct gw *w = calloc(1, sizeof *w);
	if (!w || !gateway_uri_host(c->uri, w->host, sizeof w->host)) {
		free(w);
		return -1;
	}
	if (old)
		gw_leave(g, old);
	/* Slots are full only of unregistrations nobody answers: give up the oldest. */
	for (unsigned i = 0; g->n == GW_SLOTS && i < g->n; i++)
		if (g->v[i]->leaving)
			gw_gone(g, g->v[i]);
	w->c = *c;
	w->g = g;
	w->state = GW_UNREGISTERED;
	g->v[g->n++] = w;
	if (c->reg && !gw_leaving_named(g, c->name))
		gw_start(w);
	return 0;
}

bool gateway_del(gateways_t *g, const char *name)
{
	struct gw *w = gw_find(g, name);
	if (!w)
		return false;
	gw_leave(g, w);
	return true;
}

static void gw_status(const struct gw *w, struct gateway_status *out)
{
	out->conf = w->c;
	out->state = w->state;
	snprintf(out->reason, sizeof out->reason, "%s", w->reason);
	out->failures = w->failures;
	out->retry_at_unix = w->retry_at_unix;
}

bool gateway_get(gateways_t *g, const char *name, struct gateway_status *out)
{
	struct gw *w = gw_find(g, name);
	if (w)
		gw_status(w, out);
	return w != NULL;
}

size_t gateway_list(gateways_t *g, struct gateway_status *out, size_t max)
{
	size_t n = 0;
	for (unsigned i = 0; i < g->n && n < max; i++)
		if (!g->v[i]->leaving)
			gw_status(g->v[i], &out[n++]);
	return n;
}

const char *gateway_state_name(enum gateway_state st)
{
	static const char *const names[] = { [GW_UNREGISTERED] = "unregistered",
		                             [GW_REGISTERING] = "registering",
		                             [GW_REGISTERED] = "registered",
		                             [GW_FAILED] = "failed" };
	return names[st];
}

void gateway_shutdown(gateways_t *g)
{
	for (unsigned i = g->n; i-- > 0;)
		if (!g->v[i]->leaving)
			gw_leave(g, g->v[i]);
}

bool gateway_pending(const gateways_t *g)
{
	return g->n > 0;
}

int gateway_authenticate(gateways_t *g, const char *name, nua_handle_t *nh, const sip_t *sip)
{
	struct gw *w = gw_find(g, name);
	return w ? gw_auth(w, nh, sip) : -1;
}

/* Same host, and the same port where both name one. */
static bool gw_host_match(const char *a, const char *b)
{
	size_t ha = strcspn(a, ":"), hb = strcspn(b, ":");
	if (a[0] == '[' || b[0] == '[')
		return !strcmp(a, b);
	if (ha != hb || strncmp(a, b, ha))
		return false;
	return !a[ha] || !b[hb] || !strcmp(a + ha, b + hb);
}

static struct gw *gw_by_host(const gateways_t *g, const char *uri)
{
	char host[STORE_GW_URI_MAX];
	if (!gateway_uri_host(uri, host, sizeof host))
		return NULL;
	for (unsigned i = 0; i < g->n; i++)
		if (!g->v[i]->leaving && gw_host_match(g->v[i]->host, host))
			return g->v[i];
	return NULL;
}

bool gateway_serves(const gateways_t *g, const char *uri)
{
	return gw_by_host(g, uri) != NULL;
}

int gateway_place(struct dialog *l, const char *target, const struct dialog *caller)
{
	gateways_t *g = l->sip->gw;
	char name[STORE_GW_NAME_MAX], number[GATEWAY_NUMBER_MAX], uri[STORE_GW_URI_MAX + 40];
	char from[STORE_GW_URI_MAX + STORE_GW_NAME_MAX + 8], domain[STORE_GW_URI_MAX];
	struct gw *w;
	if (!strncmp(target, "uri:", 4))
		target += 4;
	if (!strncmp(target, "gateway:", 8)) {
		w = gateway_dest_parse(target, name, sizeof name, number, sizeof number)
		            ? gw_find(g, name)
		            : NULL;
		if (!w || !gateway_call_uri(&w->c, number, uri, sizeof uri)) {
			log_warn("sip", "%s: no such gateway, or a bad number", target);
			return -1;
		}
		target = uri;
	} else if (!(w = gw_by_host(g, target))) {
		return dialog_place(l, target, caller);
	}
	gw_domain(w, domain, sizeof domain);
	snprintf(from, sizeof from, "sip:%s@%s", gw_from_user(w)[0] ? gw_from_user(w) : "anonymous",
	         domain);
	snprintf(l->gateway, sizeof l->gateway, "%s", w->c.name);
	log_info("sip", "call %u: via gateway %s to %s", caller->call, w->c.name, target);
	return dialog_place_as(l, target, from, caller);
}

/* verbs.c — see verbs.h. Replies, lookups and permission checks shared by
 * every verb; the session verbs (help, auth, whoami); dispatch over the
 * per-area tables in verbs_*.c. */
#include "ctl/verbs_int.h"
#include "core/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acd/qconf.h"
#include "core/log.h"
#include "core/pwhash.h"
#include "ctl/events.h"
#include "ctl/throttle.h"

#define VERBS_REPLY_MAX (256 * 1024)
/* Failed auths a connection gets for free; after the n-th failure beyond
 * them auth is refused for 2^n seconds (n at most AUTH_LOCK_SHIFT_MAX). A
 * refusal, not a sleep: the SIP loop runs this code and must never wait.
 * Failures are also counted per login across connections (ctl/throttle.h). */
#define AUTH_FREE_FAILS 2
#define AUTH_LOCK_SHIFT_MAX 10

/* What callqd keeps per control connection. `who` comes first so that the
 * struct session pointer the verbs see is also the allocation. */
struct conn_state {
	struct session who;
	unsigned auth_fails;        /* since the last successful auth */
	eng_ms auth_retry_at;       /* no auth before this */
};

/* ---- replies ---- */

static void v_send(struct vctx *v, const char *s, size_t n)
{
	if (v->conn)
		ctl_conn_send(v->conn, s, n);
}

static void v_reply(struct vctx *v, const char *head, const char *fmt, va_list ap)
{
	char line[CTL_LINE_MAX];
	int n = snprintf(line, sizeof line, "%s", head);
	if (fmt && *fmt) {
		line[n++] = ' ';
		vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	}
	/* A reply is one line: never let a value smuggle in another. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	n = (int)strlen(line);
	line[n++] = '\n';
	v_send(v, line, (size_t)n);
	v->replied = true;
}

__attribute__((format(printf, 2, 3))) void v_ok(struct vctx *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	v_reply(v, "OK", fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) void v_err(struct vctx *v, const char *code,
                                                        const char *fmt, ...)
{
	char head[32];
	va_list ap;
	snprintf(head, sizeof head, "ERR %s", code);
	va_start(ap, fmt);
	v_reply(v, head, fmt, ap);
	va_end(ap);
}

struct ctl_out *v_row(struct vctx *v)
{
	if (v->nrows++)
		ctl_out_nl(&v->rows);
	return &v->rows;
}

void v_finish_rows(struct vctx *v)
{
	if (v->rows.truncated) {
		v_err(v, "internal", "reply too large");
		return;
	}
	char head[64];
	int n = snprintf(head, sizeof head, "OK %u rows\n", v->nrows);
	v_send(v, head, (size_t)n);
	if (v->nrows) {
		ctl_out_nl(&v->rows);
		v_send(v, v->rows.buf, v->rows.len);
	}
	v->replied = true;
}

/* ---- lookups and permissions ---- */

const char *yesno(bool b) { return b ? "yes" : "no"; }

bool v_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "on"))
		*out = true;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0") ||
	         !strcasecmp(s, "off"))
		*out = false;
	else
		return false;
	return true;
}

eng_id v_queue(struct vctx *v, const char *name)
{
	eng_id q = name ? engine_queue_find(v->app->engine, name) : 0;
	if (!name)
		v_err(v, "usage", "queue name missing");
	else if (!q)
		v_err(v, "notfound", "no queue '%s'", name);
	return q;
}

eng_id v_member(struct vctx *v, const char *login)
{
	eng_id m = login ? engine_member_find(v->app->engine, login) : 0;
	if (!login)
		v_err(v, "usage", "member login missing");
	else if (!m)
		v_err(v, "notfound", "no member '%s'", login);
	return m;
}

eng_id v_self(const struct vctx *v)
{
	return v->who->login[0] ? engine_member_find(v->app->engine, v->who->login) : 0;
}

bool v_manages(const struct vctx *v, eng_id q)
{
	bool manager = false, active;
	if (v->who->role == ROLE_ADMIN)
		return true;
	eng_id me = v_self(v);
	return me && engine_is_member(v->app->engine, q, me, &manager, &active) && manager;
}

/* May the caller act on member m? Admins on anyone, anyone on themselves,
 * managers on members of a queue they manage. */
bool v_may_touch(const struct vctx *v, eng_id m)
{
	if (v->who->role == ROLE_ADMIN || m == v_self(v))
		return true;
	if (v->who->role != ROLE_MANAGER)
		return false;
	eng_id qs[1024];
	size_t n = engine_queue_ids(v->app->engine, qs, 1024);
	bool manager, active;
	for (size_t i = 0; i < n; i++)
		if (v_manages(v, qs[i]) && engine_is_member(v->app->engine, qs[i], m, &manager, &active))
			return true;
	return false;
}

bool v_need_queue(struct vctx *v, eng_id q)
{
	if (v_manages(v, q))
		return true;
	v_err(v, "denied", "you do not manage this queue");
	return false;
}

bool v_sees_queue(const struct vctx *v, eng_id q)
{
	return v_manages(v, q) || engine_is_member(v->app->engine, q, v_self(v), NULL, NULL);
}

bool v_need_sees(struct vctx *v, eng_id q)
{
	if (v_sees_queue(v, q))
		return true;
	v_err(v, "denied", "you are not a member of this queue");
	return false;
}

/* The target of an agent.* verb: the named member, or the caller. */
eng_id v_target(struct vctx *v, const char *login)
{
	eng_id m = login ? v_member(v, login) : v_self(v);
	if (!login && !m) {
		v_err(v, "usage", "name the member: you are not one");
		return 0;
	}
	if (m && !v_may_touch(v, m)) {
		v_err(v, "denied", "not allowed to change %s", login);
		return 0;
	}
	return m;
}

bool v_store_ok(struct vctx *v, enum store_err e, const char *what)
{
	static const char *const codes[] = { "", "notfound", "exists", "busy", "internal", "invalid" };
	if (e == STORE_OK)
		return true;
	bool why = e == STORE_FAILED || e == STORE_INVALID;
	v_err(v, codes[e], "%s: %s", what, why ? store_errmsg(v->app->store) : codes[e]);
	return false;
}

bool v_name_ok(struct vctx *v, const char *name, const char *what)
{
	if (name && qconf_name_valid(name))
		return true;
	v_err(v, name ? "invalid" : "usage", "%s must be 1-63 of A-Z a-z 0-9 _ . -", what);
	return false;
}

/* ---- session ---- */

static void v_help(struct vctx *v);

/* What the password check on a worker needs. stored "" (unknown login, or
 * a member without a control password): a hash is computed anyway, so
 * timing does not tell which logins exist, and the check fails. */
struct v_auth_arg {
	char login[ENG_NAME_MAX];
	char pw[CTL_LINE_MAX];
	char stored[PWHASH_TEXT_MAX];
	bool ok;
};

static void v_auth_run(struct vjob *j)
{
	struct v_auth_arg *a = j->arg;
	if (a->stored[0]) {
		a->ok = pwhash_verify(a->pw, a->stored);
	} else {
		static const uint8_t salt[PWHASH_SALT_LEN];
		char dummy[PWHASH_TEXT_MAX];
		pwhash_make_salted(a->pw, salt, PWHASH_ITER, dummy, sizeof dummy);
		a->ok = false;
	}
}

static void v_auth_failed(struct vctx *v, struct conn_state *cs, const char *login)
{
	cs->auth_fails++;
	if (cs->auth_fails > AUTH_FREE_FAILS) {
		unsigned n = cs->auth_fails - AUTH_FREE_FAILS;
		unsigned shift = n < AUTH_LOCK_SHIFT_MAX ? n : AUTH_LOCK_SHIFT_MAX;
		cs->auth_retry_at = v->now + ((eng_ms)1000 << shift);
	}
	log_warn("ctl", "failed auth for '%.63s' (uid %u, failure %u on this connection)", login,
	         (unsigned)ctl_conn_uid(v->conn), cs->auth_fails);
	v_err(v, "denied", "bad login or password");
}

/* Back on the loop: the member may have been deleted meanwhile. */
static void v_auth_finish(struct vjob *j)
{
	struct v_auth_arg *a = j->arg;
	struct vctx *v = &j->v;
	struct eng_member_view mv;
	eng_id m = engine_member_find(v->app->engine, a->login);
	bool ok = a->ok && m && engine_member_view(v->app->engine, v->now, m, &mv);
	throttle_done(v->app->auth_throttle, a->login, v->now, ok);
	if (!v->conn)
		return;
	struct conn_state *cs = (struct conn_state *)v->who;
	if (!ok) {
		v_auth_failed(v, cs, a->login);
		return;
	}
	cs->auth_fails = 0;
	v->who->authed = true;
	v->who->role = mv.role;
	snprintf(v->who->login, sizeof v->who->login, "%s", a->login);
	ctl_conn_set_authed(v->conn, true);
	v_ok(v, "%s %s", a->login, engine_role_name(mv.role));
}

static void v_auth(struct vctx *v)
{
	struct conn_state *cs = (struct conn_state *)v->who;
	const char *login = ctl_word(v->req, 0), *pw = ctl_word(v->req, 1);
	int64_t wait_ms;
	if (!login || !pw) {
		v_err(v, "usage", "auth LOGIN PASSWORD");
		return;
	}
	if (v->now < cs->auth_retry_at) {
		v_err(v, "denied", "too many attempts, retry in %lld s",
		      (long long)((cs->auth_retry_at - v->now + 999) / 1000));
		return;
	}
	if (!throttle_begin(v->app->auth_throttle, login, v->now, &wait_ms)) {
		v_err(v, "denied", "too many attempts for this login, retry in %lld s",
		      (long long)((wait_ms + 999) / 1000 + (wait_ms == 0)));
		return;
	}
	struct vjob *j = v_job_new(v, sizeof(struct v_auth_arg), false, v_auth_run, v_auth_finish);
	if (!j) {
		throttle_cancel(v->app->auth_throttle, login);
		return;
	}
	struct v_auth_arg *a = j->arg;
	snprintf(a->login, sizeof a->login, "%s", login);
	snprintf(a->pw, sizeof a->pw, "%s", pw);
	if (!engine_member_find(v->app->engine, login) ||
	    !store_member_pwhash(v->app->store, login, a->stored, sizeof a->stored))
		a->stored[0] = '\0';
	if (!v_async(v, j))
		throttle_cancel(v->app->auth_throttle, login);
}

static void v_whoami(struct vctx *v)
{
	struct ctl_out *o = v_row(v);
	ctl_out_kv(o, "login", v->who->login[0] ? v->who->login : "(local)");
	ctl_out_kv(o, "role", v->who->authed ? engine_role_name(v->who->role) : "none");
	v_finish_rows(v);
}


static const struct verb verbs_session[] = {
	{ "help", NEED_NONE, v_help, "help" },
	{ "auth", NEED_NONE, v_auth, "auth LOGIN PASSWORD" },
	{ "whoami", NEED_NONE, v_whoami, "whoami" },
	{ NULL, NEED_NONE, NULL, NULL },
};

static const struct verb *const verb_tables[] = {
	verbs_session, verbs_queue, verbs_member, verbs_agent, verbs_call, verbs_skill, verbs_report,
	verbs_media, verbs_gateway, verbs_feature, verbs_callback,
};

static const char *const need_names[] = { "anyone", "agent", "manager", "admin" };

static void v_help(struct vctx *v)
{
	for (size_t t = 0; t < sizeof verb_tables / sizeof verb_tables[0]; t++) {
		for (const struct verb *vb = verb_tables[t]; vb->name; vb++) {
			struct ctl_out *o = v_row(v);
			ctl_out_kv(o, "verb", vb->name);
			ctl_out_kv(o, "role", need_names[vb->need]);
			ctl_out_kv(o, "usage", vb->usage);
		}
	}
	v_finish_rows(v);
}

static const struct verb *verbs_find(const char *name)
{
	for (size_t t = 0; t < sizeof verb_tables / sizeof verb_tables[0]; t++)
		for (const struct verb *vb = verb_tables[t]; vb->name; vb++)
			if (!strcmp(vb->name, name))
				return vb;
	return NULL;
}

/* Does the usage text name `key` as a key ("[key=..]", " key=..")? */
static bool v_usage_has_key(const char *usage, const char *key)
{
	size_t len = strlen(key);
	for (const char *p = strstr(usage, key); p; p = strstr(p + 1, key))
		if ((p == usage || p[-1] == ' ' || p[-1] == '[') && p[len] == '=')
			return true;
	return false;
}

/* Every verb refuses keys it does not know, so a typo in a script fails
 * instead of silently doing nothing. The keys a verb knows are the ones its
 * usage names; verbs taking open-ended settings ("key=value") check their
 * keys themselves (queue.create and queue.set through qconf). */
static bool v_keys_ok(struct vctx *v, const struct verb *vb)
{
	if (strstr(vb->usage, "key=value"))
		return true;
	for (int i = 0; i < v->req->argc; i++) {
		const char *key = v->req->argv[i].key;
		if (key && !v_usage_has_key(vb->usage, key)) {
			v_err(v, "usage", "%s takes no key '%s' (usage: %s)", vb->name, key, vb->usage);
			return false;
		}
	}
	return true;
}

static bool v_allowed(const struct session *who, enum need need)
{
	if (need == NEED_NONE)
		return true;
	if (!who->authed)
		return false;
	if (need == NEED_ADMIN)
		return who->role == ROLE_ADMIN;
	if (need == NEED_MANAGER)
		return who->role != ROLE_AGENT;
	return true;
}

struct session *v_session(ctl_conn_t *c)
{
	struct conn_state *cs = ctl_conn_user(c);
	if (cs)
		return &cs->who;
	cs = calloc(1, sizeof *cs);
	if (!cs)
		return NULL;
	uid_t uid = ctl_conn_uid(c);
	if (uid == 0 || uid == getuid()) {
		cs->who.authed = true;
		cs->who.role = ROLE_ADMIN;
		ctl_conn_set_authed(c, true);
	}
	ctl_conn_set_user(c, cs);
	return &cs->who;
}

/* A member's role as it is now; a deleted member is no longer authenticated. */
static void v_session_refresh(struct app *a, struct session *who, eng_ms now)
{
	struct eng_member_view mv;
	if (!who->authed || !who->login[0])
		return;
	eng_id m = engine_member_find(a->engine, who->login);
	if (m && engine_member_view(a->engine, now, m, &mv)) {
		who->role = mv.role;
		return;
	}
	who->authed = false;
	who->login[0] = '\0';
}

void verbs_line(void *ctx, ctl_conn_t *c, char *line)
{
	static char rowbuf[VERBS_REPLY_MAX];
	struct ctl_req req;
	const char *perr;
	struct vctx v = { .app = ctx, .conn = c, .req = &req, .now = clock_mono_ms() };
	v.who = v_session(c);
	ctl_out_init(&v.rows, rowbuf, sizeof rowbuf);
	if (!v.who) {
		v_err(&v, "internal", "out of memory");
		return;
	}
	v_session_refresh(v.app, v.who, v.now);
	if (ctl_parse(line, &req, &perr) < 0) {
		v_err(&v, "usage", "%s", perr);
		return;
	}
	const struct verb *vb = verbs_find(req.verb);
	if (!vb) {
		v_err(&v, "usage", "unknown verb '%s' (try help)", req.verb);
		return;
	}
	if (!v_allowed(v.who, vb->need)) {
		v_err(&v, "denied", "%s needs role %s%s", req.verb, need_names[vb->need],
		      v.who->authed ? "" : " (auth first)");
		return;
	}
	if (!v_keys_ok(&v, vb))
		return;
	vb->fn(&v);
	if (!v.replied)
		v_err(&v, "internal", "%s gave no reply", req.verb);
}

bool verbs_share_identity(ctl_conn_t *to, ctl_conn_t *from)
{
	struct session *dst = v_session(to), *src = v_session(from);
	if (!dst || !src)
		return false;
	*dst = *src;
	ctl_conn_set_authed(to, dst->authed);
	return true;
}

void verbs_close(void *ctx, ctl_conn_t *c)
{
	struct app *a = ctx;
	events_unsubscribe(a->events, c);
	free(ctl_conn_user(c));
	ctl_conn_set_user(c, NULL);
}

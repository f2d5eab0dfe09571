/* verbs.c — see verbs.h. One function per verb, listed in `verbs[]` with the
 * least role it needs and its usage line (which `help` prints). */
#include "ctl/verbs.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acd/qconf.h"
#include "app/app.h"
#include "core/log.h"
#include "ctl/proto.h"
#include "sip/digest.h"
#include "sip/sip.h"

#define VERBS_REPLY_MAX (256 * 1024)

struct session {
	bool authed;
	enum eng_role role;
	char login[ENG_NAME_MAX];   /* "" for the local administrator (uid) */
};

struct vctx {
	struct app *app;
	ctl_conn_t *conn;
	struct session *who;
	const struct ctl_req *req;
	struct ctl_out rows;
	unsigned nrows;
	bool replied;
	eng_ms now;
};

enum need { NEED_NONE, NEED_AGENT, NEED_MANAGER, NEED_ADMIN };

struct verb {
	const char *name;
	enum need need;
	void (*fn)(struct vctx *v);
	const char *usage;
};

/* ---- replies ---- */

static void v_send(struct vctx *v, const char *s, size_t n)
{
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

__attribute__((format(printf, 2, 3))) static void v_ok(struct vctx *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	v_reply(v, "OK", fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void v_err(struct vctx *v, const char *code,
                                                        const char *fmt, ...)
{
	char head[32];
	va_list ap;
	snprintf(head, sizeof head, "ERR %s", code);
	va_start(ap, fmt);
	v_reply(v, head, fmt, ap);
	va_end(ap);
}

static struct ctl_out *v_row(struct vctx *v)
{
	if (v->nrows++)
		ctl_out_nl(&v->rows);
	return &v->rows;
}

static void v_finish_rows(struct vctx *v)
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

static const char *yesno(bool b) { return b ? "yes" : "no"; }

static bool v_bool(const char *s, bool *out)
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

static eng_id v_queue(struct vctx *v, const char *name)
{
	eng_id q = name ? engine_queue_find(v->app->engine, name) : 0;
	if (!name)
		v_err(v, "usage", "queue name missing");
	else if (!q)
		v_err(v, "notfound", "no queue '%s'", name);
	return q;
}

static eng_id v_member(struct vctx *v, const char *login)
{
	eng_id m = login ? engine_member_find(v->app->engine, login) : 0;
	if (!login)
		v_err(v, "usage", "member login missing");
	else if (!m)
		v_err(v, "notfound", "no member '%s'", login);
	return m;
}

static eng_id v_self(const struct vctx *v)
{
	return v->who->login[0] ? engine_member_find(v->app->engine, v->who->login) : 0;
}

static bool v_manages(const struct vctx *v, eng_id q)
{
	bool manager = false, active;
	if (v->who->role == ROLE_ADMIN)
		return true;
	eng_id me = v_self(v);
	return me && engine_is_member(v->app->engine, q, me, &manager, &active) && manager;
}

/* May the caller act on member m? Admins on anyone, anyone on themselves,
 * managers on members of a queue they manage. */
static bool v_may_touch(const struct vctx *v, eng_id m)
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

static bool v_need_queue(struct vctx *v, eng_id q)
{
	if (v_manages(v, q))
		return true;
	v_err(v, "denied", "you do not manage this queue");
	return false;
}

/* The target of an agent.* verb: the named member, or the caller. */
static eng_id v_target(struct vctx *v, const char *login)
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

static bool v_store_ok(struct vctx *v, enum store_err e, const char *what)
{
	static const char *const codes[] = { "", "notfound", "exists", "busy", "internal" };
	if (e == STORE_OK)
		return true;
	v_err(v, codes[e], "%s: %s", what, e == STORE_FAILED ? store_errmsg(v->app->store)
	                                                    : codes[e]);
	return false;
}

static bool v_name_ok(struct vctx *v, const char *name, const char *what)
{
	if (name && qconf_name_valid(name))
		return true;
	v_err(v, name ? "invalid" : "usage", "%s must be 1-63 of A-Z a-z 0-9 _ . -", what);
	return false;
}

/* ---- session ---- */

static void v_help(struct vctx *v);

static void v_auth(struct vctx *v)
{
	const char *login = ctl_word(v->req, 0), *pw = ctl_word(v->req, 1);
	if (!login || !pw) {
		v_err(v, "usage", "auth LOGIN PASSWORD");
		return;
	}
	char ha1[33];
	const char *want = sipua_ha1(v->app->sip, login);
	struct eng_member_view mv;
	eng_id m = engine_member_find(v->app->engine, login);
	digest_ha1(login, SIP_REALM, pw, ha1);
	if (!want || strcmp(want, ha1) || !engine_member_view(v->app->engine, v->now, m, &mv)) {
		log_warn("ctl", "failed auth for '%s'", login);
		v_err(v, "denied", "bad login or password");
		return;
	}
	v->who->authed = true;
	v->who->role = mv.role;
	snprintf(v->who->login, sizeof v->who->login, "%s", login);
	v_ok(v, "%s %s", login, engine_role_name(mv.role));
}

static void v_whoami(struct vctx *v)
{
	struct ctl_out *o = v_row(v);
	ctl_out_kv(o, "login", v->who->login[0] ? v->who->login : "(local)");
	ctl_out_kv(o, "role", v->who->authed ? engine_role_name(v->who->role) : "none");
	v_finish_rows(v);
}

/* ---- queues ---- */

static void v_queue_row(struct vctx *v, eng_id q)
{
	const struct eng_queue_conf *c = engine_queue_conf(v->app->engine, q);
	struct eng_queue_stats st;
	engine_queue_stats(v->app->engine, v->now, q, &st);
	struct ctl_out *o = v_row(v);
	ctl_out_kv(o, "name", c->name);
	ctl_out_kv(o, "number", c->number);
	ctl_out_kv(o, "strategy", engine_strategy_name(c->strategy));
	ctl_out_kv(o, "paused", yesno(c->paused));
	ctl_out_kvu(o, "waiting", st.waiting);
	ctl_out_kvu(o, "ready", st.ready);
}

static void v_queue_list(struct vctx *v)
{
	const char *sort = ctl_get(v->req, "sort");
	if (sort && strcmp(sort, "all") && strcmp(sort, "active") && strcmp(sort, "paused")) {
		v_err(v, "invalid", "sort must be all, active or paused");
		return;
	}
	eng_id qs[1024];
	size_t n = engine_queue_ids(v->app->engine, qs, 1024);
	/* Creation order; "active"/"paused" pull that group to the top, stably. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			bool paused = engine_queue_conf(v->app->engine, qs[i])->paused;
			bool first = sort && !strcmp(sort, "paused") ? paused : !paused;
			if (!sort || !strcmp(sort, "all") ? pass == 0 : first == (pass == 0))
				v_queue_row(v, qs[i]);
		}
	}
	v_finish_rows(v);
}

static void v_queue_show(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q)
		return;
	const struct eng_queue_conf *c = engine_queue_conf(v->app->engine, q);
	struct ctl_out *o = v_row(v);
	char val[ENG_HOLD_MAX];
	ctl_out_kv(o, "name", c->name);
	for (const char *const *k = qconf_keys(); *k; k++)
		if (qconf_get(c, *k, val, sizeof val) == 0)
			ctl_out_kv(o, *k, val);
	ctl_out_kv(o, "paused", yesno(c->paused));
	v_finish_rows(v);
}

/* Applies every key=value of the request to c; false after replying. */
static bool v_apply_settings(struct vctx *v, struct eng_queue_conf *c)
{
	char err[256];
	for (int i = 0; i < v->req->argc; i++) {
		const struct ctl_arg *a = &v->req->argv[i];
		if (!a->key)
			continue;
		if (!strcmp(a->key, "hold") && !media_hold_valid(a->value, err, sizeof err)) {
			v_err(v, "invalid", "hold: %s", err);
			return false;
		}
		if (qconf_set(c, a->key, a->value, err, sizeof err) < 0) {
			v_err(v, "invalid", "%s", err);
			return false;
		}
	}
	eng_id other = engine_queue_by_number(v->app->engine, c->number);
	if (other && strcmp(engine_queue_conf(v->app->engine, other)->name, c->name)) {
		v_err(v, "exists", "number %s belongs to queue %s", c->number,
		      engine_queue_conf(v->app->engine, other)->name);
		return false;
	}
	return true;
}

static void v_queue_create(struct vctx *v)
{
	const char *name = ctl_word(v->req, 0);
	struct eng_queue_conf c;
	if (!v_name_ok(v, name, "queue name"))
		return;
	if (!ctl_get(v->req, "number")) {
		v_err(v, "usage", "queue.create NAME number=N [key=value]...");
		return;
	}
	if (engine_queue_find(v->app->engine, name)) {
		v_err(v, "exists", "queue '%s' exists", name);
		return;
	}
	qconf_defaults(&c);
	snprintf(c.name, sizeof c.name, "%s", name);
	if (!v_apply_settings(v, &c) || !v_store_ok(v, store_queue_put(v->app->store, &c, true), name))
		return;
	engine_queue_add(v->app->engine, v->now, &c);
	app_engine_done(v->app);
	v_ok(v, "queue %s created", name);
}

static bool v_queue_write(struct vctx *v, eng_id q, const struct eng_queue_conf *c)
{
	if (!v_store_ok(v, store_queue_put(v->app->store, c, false), c->name))
		return false;
	engine_queue_update(v->app->engine, v->now, q, c);
	app_engine_done(v->app);
	return true;
}

static void v_queue_set(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q || !v_need_queue(v, q))
		return;
	struct eng_queue_conf c = *engine_queue_conf(v->app->engine, q);
	if (v->req->argc < 2) {
		v_err(v, "usage", "queue.set NAME key=value...");
		return;
	}
	if (v_apply_settings(v, &c) && v_queue_write(v, q, &c))
		v_ok(v, "queue %s updated", c.name);
}

static void v_queue_pause_to(struct vctx *v, bool paused)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q || !v_need_queue(v, q))
		return;
	struct eng_queue_conf c = *engine_queue_conf(v->app->engine, q);
	c.paused = paused;
	if (v_queue_write(v, q, &c))
		v_ok(v, "queue %s %s", c.name, paused ? "paused" : "resumed");
}

static void v_queue_pause(struct vctx *v) { v_queue_pause_to(v, true); }
static void v_queue_resume(struct vctx *v) { v_queue_pause_to(v, false); }

static void v_queue_delete(struct vctx *v)
{
	const char *name = ctl_word(v->req, 0);
	eng_id q = v_queue(v, name);
	if (!q)
		return;
	if (!engine_queue_remove(v->app->engine, v->now, q)) {
		v_err(v, "busy", "queue %s has calls", name);
		return;
	}
	app_engine_done(v->app);
	if (v_store_ok(v, store_queue_del(v->app->store, name), name))
		v_ok(v, "queue %s deleted", name);
}

/* ---- members ---- */

static bool v_role_arg(struct vctx *v, const char *s, enum eng_role *role)
{
	if (engine_role_parse(s, role))
		return true;
	v_err(v, "invalid", "role must be agent, manager or admin");
	return false;
}

static void v_member_add(struct vctx *v)
{
	const char *login = ctl_word(v->req, 0), *pw = ctl_get(v->req, "password");
	const char *name = ctl_get(v->req, "name"), *rs = ctl_get(v->req, "role");
	const char *rec = ctl_get(v->req, "record");
	enum eng_role role = ROLE_AGENT;
	bool record = false;
	char ha1[33];
	if (!v_name_ok(v, login, "login"))
		return;
	if (!pw || !*pw) {
		v_err(v, "usage", "member.add LOGIN name=.. password=.. role=agent|manager|admin");
		return;
	}
	if ((rs && !v_role_arg(v, rs, &role)))
		return;
	if (rec && !v_bool(rec, &record)) {
		v_err(v, "invalid", "record must be yes or no");
		return;
	}
	if (engine_member_find(v->app->engine, login)) {
		v_err(v, "exists", "member '%s' exists", login);
		return;
	}
	digest_ha1(login, SIP_REALM, pw, ha1);
	if (!v_store_ok(v, store_member_put(v->app->store, login, name ? name : login, role, ha1,
	                                    record, true), login))
		return;
	engine_member_add(v->app->engine, login, name ? name : login, role);
	sipua_cred(v->app->sip, login, ha1);
	v_ok(v, "member %s added", login);
}

static void v_member_set(struct vctx *v)
{
	const char *login = ctl_word(v->req, 0), *pw = ctl_get(v->req, "password");
	const char *rs = ctl_get(v->req, "role"), *rec = ctl_get(v->req, "record");
	eng_id m = v_member(v, login);
	struct eng_member_view mv;
	if (!m || !engine_member_view(v->app->engine, v->now, m, &mv))
		return;
	enum eng_role role = mv.role;
	bool record = store_member_record(v->app->store, login);
	const char *name = ctl_get(v->req, "name") ? ctl_get(v->req, "name") : mv.name;
	char ha1[33];
	if ((rs && !v_role_arg(v, rs, &role)))
		return;
	if (rec && !v_bool(rec, &record)) {
		v_err(v, "invalid", "record must be yes or no");
		return;
	}
	if (pw)
		digest_ha1(login, SIP_REALM, pw, ha1);
	if (!v_store_ok(v, store_member_put(v->app->store, login, name, role, pw ? ha1 : NULL, record,
	                                    false), login))
		return;
	engine_member_update(v->app->engine, m, name, role);
	if (pw)
		sipua_cred(v->app->sip, login, ha1);
	v_ok(v, "member %s updated", login);
}

static void v_member_del(struct vctx *v)
{
	const char *login = ctl_word(v->req, 0);
	eng_id m = v_member(v, login);
	if (!m)
		return;
	if (!engine_member_remove(v->app->engine, v->now, m)) {
		v_err(v, "busy", "%s is ringing or on a call", login);
		return;
	}
	app_engine_done(v->app);
	sipua_forget(v->app->sip, login);
	if (v_store_ok(v, store_member_del(v->app->store, login), login))
		v_ok(v, "member %s deleted", login);
}

static const char *v_activity(enum eng_agent_activity a)
{
	static const char *const names[] = { "idle", "ringing", "oncall", "recovery" };
	return names[a];
}

static void v_member_row(struct vctx *v, eng_id m)
{
	struct eng_member_view mv;
	if (!engine_member_view(v->app->engine, v->now, m, &mv))
		return;
	struct ctl_out *o = v_row(v);
	ctl_out_kv(o, "login", mv.login);
	ctl_out_kv(o, "name", mv.name);
	ctl_out_kv(o, "role", engine_role_name(mv.role));
	ctl_out_kv(o, "logged_in", yesno(mv.logged_in));
	ctl_out_kv(o, "ready", yesno(mv.ready));
	ctl_out_kv(o, "away_reason", mv.away_reason);
	ctl_out_kv(o, "activity", v_activity(mv.activity));
	ctl_out_kvu(o, "call", mv.call);
	ctl_out_kv(o, "missed", yesno(mv.missed));
	ctl_out_kvu(o, "recovery_left", (unsigned long long)((mv.recovery_left_ms + 999) / 1000));
	ctl_out_kvu(o, "session_handled", mv.session_handled);
	ctl_out_kvu(o, "session_offers", mv.session_offers);
	ctl_out_kvu(o, "handled", mv.handled);
	ctl_out_kvu(o, "missed_total", mv.missed_total);
	ctl_out_kv(o, "record", yesno(store_member_record(v->app->store, mv.login)));
	ctl_out_kvu(o, "contacts", sipua_contacts(v->app->sip, mv.login));
}

static void v_member_list(struct vctx *v)
{
	eng_id ms[4096];
	size_t n = engine_member_ids(v->app->engine, ms, 4096);
	for (size_t i = 0; i < n; i++)
		if (v_may_touch(v, ms[i]))
			v_member_row(v, ms[i]);
	v_finish_rows(v);
}

static void v_member_show(struct vctx *v)
{
	const char *login = ctl_word(v->req, 0);
	eng_id m = login ? v_member(v, login) : v_self(v);
	if (!login && !m)
		v_err(v, "usage", "member.show LOGIN");
	if (!m)
		return;
	if (!v_may_touch(v, m)) {
		v_err(v, "denied", "not allowed to see %s", login);
		return;
	}
	v_member_row(v, m);
	v_finish_rows(v);
}

/* ---- membership ---- */

static void v_queue_assign(struct vctx *v)
{
	const char *qn = ctl_word(v->req, 0), *login = ctl_word(v->req, 1);
	const char *rs = ctl_get(v->req, "role"), *act = ctl_get(v->req, "active");
	bool manager = rs && !strcmp(rs, "manager"), active = false;
	eng_id q = v_queue(v, qn), m = q ? v_member(v, login) : 0;
	if (!m || !v_need_queue(v, q))
		return;
	if (rs && strcmp(rs, "agent") && strcmp(rs, "manager")) {
		v_err(v, "invalid", "role must be agent or manager");
		return;
	}
	if (act && !v_bool(act, &active)) {
		v_err(v, "invalid", "active must be yes or no");
		return;
	}
	if (!v_store_ok(v, store_assign(v->app->store, qn, login, manager, active), login))
		return;
	engine_assign(v->app->engine, v->now, q, m, manager, active);
	app_engine_done(v->app);
	v_ok(v, "%s assigned to %s as %s%s", login, qn, manager ? "manager" : "agent",
	     active ? "" : " (paused)");
}

static void v_queue_unassign(struct vctx *v)
{
	const char *qn = ctl_word(v->req, 0), *login = ctl_word(v->req, 1);
	eng_id q = v_queue(v, qn), m = q ? v_member(v, login) : 0;
	if (!m || !v_need_queue(v, q))
		return;
	if (!engine_unassign(v->app->engine, v->now, q, m)) {
		v_err(v, "notfound", "%s is not in %s", login, qn);
		return;
	}
	app_engine_done(v->app);
	if (v_store_ok(v, store_unassign(v->app->store, qn, login), login))
		v_ok(v, "%s removed from %s", login, qn);
}

static void v_queue_members(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q)
		return;
	bool all = v_manages(v, q) || engine_queue_conf(v->app->engine, q)->show_agents;
	eng_id ms[4096], me = v_self(v);
	size_t n = engine_member_ids(v->app->engine, ms, 4096);
	for (size_t i = 0; i < n; i++) {
		bool manager, active;
		if (!engine_is_member(v->app->engine, q, ms[i], &manager, &active) ||
		    (!all && ms[i] != me))
			continue;
		v_member_row(v, ms[i]);
		ctl_out_kv(&v->rows, "queue_role", manager ? "manager" : "agent");
		ctl_out_kv(&v->rows, "active", yesno(active));
	}
	v_finish_rows(v);
}

/* ---- agent state ---- */

static void v_agent_done(struct vctx *v, eng_id m, bool ok, const char *what)
{
	struct eng_member_view mv;
	engine_member_view(v->app->engine, v->now, m, &mv);
	app_engine_done(v->app);
	if (ok)
		v_ok(v, "%s %s", mv.login, what);
	else
		v_err(v, "invalid", "%s cannot be %s now (logged in: %s)", mv.login, what,
		      yesno(mv.logged_in));
}

static void v_agent_login(struct vctx *v)
{
	eng_id m = v_target(v, ctl_word(v->req, 0));
	if (m)
		v_agent_done(v, m, engine_agent_login(v->app->engine, v->now, m), "logged in");
}

static void v_agent_logout(struct vctx *v)
{
	eng_id m = v_target(v, ctl_word(v->req, 0));
	if (m)
		v_agent_done(v, m, engine_agent_logout(v->app->engine, v->now, m), "logged out");
}

static void v_agent_ready(struct vctx *v)
{
	eng_id m = v_target(v, ctl_word(v->req, 0));
	if (m)
		v_agent_done(v, m, engine_agent_ready(v->app->engine, v->now, m), "ready");
}

static void v_agent_away(struct vctx *v)
{
	const char *reason = ctl_get(v->req, "reason");
	eng_id m = v_target(v, ctl_word(v->req, 0));
	if (reason && strlen(reason) >= ENG_REASON_MAX) {
		v_err(v, "invalid", "reason is longer than %d characters", ENG_REASON_MAX - 1);
		return;
	}
	if (m)
		v_agent_done(v, m, engine_agent_away(v->app->engine, v->now, m, reason ? reason : ""),
		             "away");
}

static void v_agent_pause_to(struct vctx *v, bool pause)
{
	const char *qn = ctl_word(v->req, 0);
	eng_id q = 0;
	if (!qn) {
		v_err(v, "usage", "agent.%s QUEUE|all [LOGIN]", pause ? "pause" : "resume");
		return;
	}
	if (strcmp(qn, "all") && !(q = v_queue(v, qn)))
		return;
	eng_id m = v_target(v, ctl_word(v->req, 1));
	if (!m)
		return;
	bool ok = pause ? engine_agent_pause(v->app->engine, v->now, q, m)
	                : engine_agent_resume(v->app->engine, v->now, q, m);
	v_agent_done(v, m, ok, pause ? "paused" : "resumed");
}

static void v_agent_pause(struct vctx *v) { v_agent_pause_to(v, true); }
static void v_agent_resume(struct vctx *v) { v_agent_pause_to(v, false); }

static void v_agent_show(struct vctx *v)
{
	eng_id m = v_target(v, ctl_word(v->req, 0));
	if (!m)
		return;
	v_member_row(v, m);
	v_finish_rows(v);
}

/* ---- calls and counters ---- */

static void v_calls(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q)
		return;
	struct eng_call_view cv[512];
	size_t n = engine_call_list(v->app->engine, v->now, q, cv, 512);
	for (size_t i = 0; i < n; i++) {
		struct ctl_out *o = v_row(v);
		struct eng_member_view mv = { .login = "" };
		if (cv[i].member)
			engine_member_view(v->app->engine, v->now, cv[i].member, &mv);
		ctl_out_kvu(o, "call", cv[i].id);
		ctl_out_kvu(o, "position", cv[i].position);
		ctl_out_kvu(o, "wait", (unsigned long long)(cv[i].wait_ms / 1000));
		ctl_out_kv(o, "caller_number", cv[i].caller_number);
		ctl_out_kv(o, "caller_name", cv[i].caller_name);
		ctl_out_kv(o, "state", cv[i].talking ? "talking" : cv[i].member ? "ringing" : "waiting");
		ctl_out_kv(o, "agent", mv.login);
	}
	v_finish_rows(v);
}

static void v_call_hangup(struct vctx *v)
{
	const char *id = ctl_word(v->req, 0);
	struct eng_call_view cv;
	eng_id call = id ? (eng_id)strtoul(id, NULL, 10) : 0;
	if (!call || !engine_call_view(v->app->engine, v->now, call, &cv)) {
		v_err(v, id ? "notfound" : "usage", id ? "no call %s" : "call.hangup ID", id);
		return;
	}
	if (!v_need_queue(v, cv.queue))
		return;
	engine_call_drop(v->app->engine, v->now, call);
	app_engine_done(v->app);
	v_ok(v, "call %u hung up", call);
}

static void v_stats(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	struct eng_queue_stats st;
	if (!q || !engine_queue_stats(v->app->engine, v->now, q, &st))
		return;
	struct ctl_out *o = v_row(v);
	ctl_out_kvu(o, "waiting", st.waiting);
	ctl_out_kvu(o, "longest_wait", (unsigned long long)(st.longest_wait_ms / 1000));
	ctl_out_kvu(o, "handled", st.handled);
	ctl_out_kvu(o, "abandoned", st.abandoned);
	ctl_out_kvu(o, "missed", st.missed);
	ctl_out_kvu(o, "ready", st.ready);
	ctl_out_kvu(o, "busy", st.busy);
	ctl_out_kvu(o, "away", st.away);
	ctl_out_kvu(o, "avg_wait", (unsigned long long)(st.avg_wait_ms / 1000));
	ctl_out_kvu(o, "avg_talk", (unsigned long long)(st.avg_talk_ms / 1000));
	v_finish_rows(v);
}

static const struct verb verbs[] = {
	{ "help", NEED_NONE, v_help, "help" },
	{ "auth", NEED_NONE, v_auth, "auth LOGIN PASSWORD" },
	{ "whoami", NEED_NONE, v_whoami, "whoami" },
	{ "queue.list", NEED_AGENT, v_queue_list, "queue.list [sort=all|active|paused]" },
	{ "queue.show", NEED_AGENT, v_queue_show, "queue.show NAME" },
	{ "queue.create", NEED_ADMIN, v_queue_create, "queue.create NAME number=N [key=value]..." },
	{ "queue.set", NEED_MANAGER, v_queue_set, "queue.set NAME key=value..." },
	{ "queue.delete", NEED_ADMIN, v_queue_delete, "queue.delete NAME" },
	{ "queue.pause", NEED_MANAGER, v_queue_pause, "queue.pause NAME" },
	{ "queue.resume", NEED_MANAGER, v_queue_resume, "queue.resume NAME" },
	{ "queue.assign", NEED_MANAGER, v_queue_assign,
	  "queue.assign NAME LOGIN [role=agent|manager] [active=yes|no]" },
	{ "queue.unassign", NEED_MANAGER, v_queue_unassign, "queue.unassign NAME LOGIN" },
	{ "queue.members", NEED_AGENT, v_queue_members, "queue.members NAME" },
	{ "member.add", NEED_ADMIN, v_member_add,
	  "member.add LOGIN name=.. password=.. role=agent|manager|admin [record=yes|no]" },
	{ "member.set", NEED_ADMIN, v_member_set,
	  "member.set LOGIN [name=..] [password=..] [role=..] [record=yes|no]" },
	{ "member.del", NEED_ADMIN, v_member_del, "member.del LOGIN" },
	{ "member.list", NEED_MANAGER, v_member_list, "member.list" },
	{ "member.show", NEED_AGENT, v_member_show, "member.show [LOGIN]" },
	{ "agent.login", NEED_AGENT, v_agent_login, "agent.login [LOGIN]" },
	{ "agent.logout", NEED_AGENT, v_agent_logout, "agent.logout [LOGIN]" },
	{ "agent.ready", NEED_AGENT, v_agent_ready, "agent.ready [LOGIN]" },
	{ "agent.away", NEED_AGENT, v_agent_away, "agent.away [LOGIN] [reason=..]" },
	{ "agent.pause", NEED_AGENT, v_agent_pause, "agent.pause QUEUE|all [LOGIN]" },
	{ "agent.resume", NEED_AGENT, v_agent_resume, "agent.resume QUEUE|all [LOGIN]" },
	{ "agent.show", NEED_AGENT, v_agent_show, "agent.show [LOGIN]" },
	{ "calls", NEED_AGENT, v_calls, "calls QUEUE" },
	{ "call.hangup", NEED_MANAGER, v_call_hangup, "call.hangup ID" },
	{ "stats", NEED_AGENT, v_stats, "stats QUEUE" },
};

static const char *const need_names[] = { "anyone", "agent", "manager", "admin" };

static void v_help(struct vctx *v)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		struct ctl_out *o = v_row(v);
		ctl_out_kv(o, "verb", verbs[i].name);
		ctl_out_kv(o, "role", need_names[verbs[i].need]);
		ctl_out_kv(o, "usage", verbs[i].usage);
	}
	v_finish_rows(v);
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

static struct session *v_session(ctl_conn_t *c)
{
	struct session *s = ctl_conn_user(c);
	if (s)
		return s;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	uid_t uid = ctl_conn_uid(c);
	if (uid == 0 || uid == getuid()) {
		s->authed = true;
		s->role = ROLE_ADMIN;
	}
	ctl_conn_set_user(c, s);
	return s;
}

void verbs_line(void *ctx, ctl_conn_t *c, char *line)
{
	static char rowbuf[VERBS_REPLY_MAX];
	struct ctl_req req;
	const char *perr;
	struct vctx v = { .app = ctx, .conn = c, .req = &req, .now = app_now() };
	v.who = v_session(c);
	ctl_out_init(&v.rows, rowbuf, sizeof rowbuf);
	if (!v.who) {
		v_err(&v, "internal", "out of memory");
		return;
	}
	if (ctl_parse(line, &req, &perr) < 0) {
		v_err(&v, "usage", "%s", perr);
		return;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(verbs[i].name, req.verb))
			continue;
		if (!v_allowed(v.who, verbs[i].need)) {
			v_err(&v, "denied", "%s needs role %s%s", req.verb, need_names[verbs[i].need],
			      v.who->authed ? "" : " (auth first)");
			return;
		}
		verbs[i].fn(&v);
		if (!v.replied)
			v_err(&v, "internal", "%s gave no reply", req.verb);
		return;
	}
	v_err(&v, "usage", "unknown verb '%s' (try help)", req.verb);
}

void verbs_close(void *ctx, ctl_conn_t *c)
{
	(void)ctx;
	free(ctl_conn_user(c));
	ctl_conn_set_user(c, NULL);
}

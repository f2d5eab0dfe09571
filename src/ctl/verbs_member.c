/* verbs_member.c — members: member.* verbs, and the member row others reuse. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/pwhash.h"
#include "sip/digest.h"
#include "sip/sip.h"

/* ---- members ---- */

static bool v_role_arg(struct vctx *v, const char *s, enum eng_role *role)
{
	if (engine_role_parse(s, role))
		return true;
	v_err(v, "invalid", "role must be agent, manager or admin");
	return false;
}

/* Two independent secrets: the SIP password becomes the digest HA1 (MD5,
 * which digest auth needs; password-equivalent for SIP only), the control
 * password a salted slow hash. Either may be NULL (not given). False after
 * replying. */
static bool v_secrets(struct vctx *v, const char *login, const char *pw, const char *cpw,
                      char ha1[33], char hash[PWHASH_TEXT_MAX])
{
	if ((pw && !*pw) || (cpw && !*cpw)) {
		v_err(v, "invalid", "a password must not be empty");
		return false;
	}
	if (cpw && pwhash_make(cpw, hash, PWHASH_TEXT_MAX) != 0) {
		v_err(v, "internal", "cannot hash the password (no randomness)");
		return false;
	}
	if (pw)
		digest_ha1(login, SIP_REALM, pw, ha1);
	return true;
}

static bool v_role_rank_lower(enum eng_role now, enum eng_role before)
{
	static const int rank[] = { [ROLE_AGENT] = 0, [ROLE_MANAGER] = 1, [ROLE_ADMIN] = 2 };
	return rank[now] < rank[before];
}

static void v_member_add(struct vctx *v)
{
	const char *login = ctl_word(v->req, 0), *pw = ctl_get(v->req, "password");
	const char *cpw = ctl_get(v->req, "control_password");
	const char *name = ctl_get(v->req, "name"), *rs = ctl_get(v->req, "role");
	const char *rec = ctl_get(v->req, "record"), *sec = ctl_get(v->req, "secure");
	enum eng_role role = ROLE_AGENT;
	bool record = false, secure = false;
	char ha1[33], hash[PWHASH_TEXT_MAX];
	if (!v_name_ok(v, login, "login"))
		return;
	if (!pw || !*pw) {
		v_err(v, "usage", "member.add LOGIN name=.. password=.. [control_password=..] "
		                  "role=agent|manager|admin");
		return;
	}
	if ((rs && !v_role_arg(v, rs, &role)))
		return;
	if (rec && !v_bool(rec, &record)) {
		v_err(v, "invalid", "record must be yes or no");
		return;
	}
	if (sec && !v_bool(sec, &secure)) {
		v_err(v, "invalid", "secure must be yes or no");
		return;
	}
	if (engine_member_find(v->app->engine, login)) {
		v_err(v, "exists", "member '%s' exists", login);
		return;
	}
	if (!v_secrets(v, login, pw, cpw, ha1, hash))
		return;
	struct store_member sm = { .login = login, .name = name ? name : login, .role = role,
		                   .ha1 = ha1, .pwhash = cpw ? hash : NULL, .record = record };
	if (!v_store_ok(v, store_member_put(v->app->store, &sm, true), login) ||
	    (secure && !v_store_ok(v, store_member_set_secure(v->app->store, login, true), login)))
		return;
	engine_member_add(v->app->engine, login, name ? name : login, role);
	sipua_cred(v->app->sip, login, ha1);
	sipua_secure(v->app->sip, login, secure);
	v_ok(v, "member %s added", login);
}

/* Managers manage members' attributes (the guide's Members tab): of those,
 * they set the recording flag, for members of queues they manage. Everything
 * else is for admins. */
static bool v_member_set_allowed(struct vctx *v, eng_id m)
{
	if (v->who->role == ROLE_ADMIN)
		return true;
	for (int i = 0; i < v->req->argc; i++) {
		if (v->req->argv[i].key && strcmp(v->req->argv[i].key, "record")) {
			v_err(v, "denied", "managers set only record=; %s= is for admins",
			      v->req->argv[i].key);
			return false;
		}
	}
	if (!v_may_touch(v, m)) {
		v_err(v, "denied", "not a member of a queue you manage");
		return false;
	}
	return true;
}

/* A demotion or a new control password ends the member's control sessions. */
static void v_member_set(struct vctx *v)
{
	const char *login = ctl_word(v->req, 0), *pw = ctl_get(v->req, "password");
	const char *cpw = ctl_get(v->req, "control_password");
	const char *rs = ctl_get(v->req, "role"), *rec = ctl_get(v->req, "record");
	const char *sec = ctl_get(v->req, "secure");
	eng_id m = v_member(v, login);
	struct eng_member_view mv;
	if (!m || !engine_member_view(v->app->engine, v->now, m, &mv) || !v_member_set_allowed(v, m))
		return;
	enum eng_role role = mv.role;
	bool record = store_member_record(v->app->store, login);
	bool secure = store_member_secure(v->app->store, login);
	const char *name = ctl_get(v->req, "name") ? ctl_get(v->req, "name") : mv.name;
	char ha1[33], hash[PWHASH_TEXT_MAX];
	if ((rs && !v_role_arg(v, rs, &role)))
		return;
	if (rec && !v_bool(rec, &record)) {
		v_err(v, "invalid", "record must be yes or no");
		return;
	}
	if (sec && !v_bool(sec, &secure)) {
		v_err(v, "invalid", "secure must be yes or no");
		return;
	}
	if (!v_secrets(v, login, pw, cpw, ha1, hash))
		return;
	struct store_member sm = { .login = login, .name = name, .role = role,
		                   .ha1 = pw ? ha1 : NULL, .pwhash = cpw ? hash : NULL,
		                   .record = record };
	if (!v_store_ok(v, store_member_put(v->app->store, &sm, false), login) ||
	    (sec && !v_store_ok(v, store_member_set_secure(v->app->store, login, secure), login)))
		return;
	sipua_secure(v->app->sip, login, secure);
	engine_member_update(v->app->engine, m, name, role);
	if (pw)
		sipua_cred(v->app->sip, login, ha1);
	v_ok(v, "member %s updated", login);
	if (cpw || v_role_rank_lower(role, mv.role))
		v_end_sessions(v, login);
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
	v_end_sessions(v, login);
}

static const char *v_activity(enum eng_agent_activity a)
{
	static const char *const names[] = { "idle", "ringing", "oncall", "recovery" };
	return names[a];
}

/* skills=a,b: the member's skills in creation order. */
static void v_skills_kv(struct vctx *v, struct ctl_out *o, eng_id m)
{
	const char *names[256];
	char list[1024] = "";
	size_t n = engine_skill_names(v->app->engine, names, 256), len = 0;
	for (size_t i = 0; i < n; i++) {
		if (!engine_member_has_skill(v->app->engine, m, names[i]))
			continue;
		int w = snprintf(list + len, sizeof list - len, "%s%s", len ? "," : "", names[i]);
		if (w < 0 || (size_t)w >= sizeof list - len) {
			list[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
	ctl_out_kv(o, "skills", list);
}

/* The guide's Members tab: session (seconds since login, from the stored
 * login time, so a restart does not reset it), queues=a,b (the queues the
 * member is in), and the handled/missed bar from the journal over the
 * session: calls answered and offers missed, in any queue. */
static void v_session_kv(struct vctx *v, struct ctl_out *o, eng_id m, const char *login)
{
	eng_id qs[1024];
	char list[1024] = "";
	size_t n = engine_queue_ids(v->app->engine, qs, 1024), len = 0;
	int64_t since = store_agent_since(v->app->store, login), now = clock_wall_ms();
	unsigned handled = 0, missed = 0;
	for (size_t i = 0; i < n; i++) {
		if (!engine_is_member(v->app->engine, qs[i], m, NULL, NULL))
			continue;
		const char *name = engine_queue_conf(v->app->engine, qs[i])->name;
		int w = snprintf(list + len, sizeof list - len, "%s%s", len ? "," : "", name);
		if (w < 0 || (size_t)w >= sizeof list - len) {
			list[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
	if (since)
		store_member_counts(v->app->store, login, since, &handled, &missed);
	ctl_out_kvu(o, "session", (unsigned long long)(since && now > since ? (now - since) / 1000 : 0));
	ctl_out_kv(o, "queues", list);
	ctl_out_kvu(o, "bar_handled", handled);
	ctl_out_kvu(o, "bar_missed", missed);
}

void v_member_row(struct vctx *v, eng_id m)
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
	ctl_out_kvu(o, "retry_left", (unsigned long long)((mv.retry_left_ms + 999) / 1000));
	ctl_out_kvu(o, "in_state", (unsigned long long)(app_member_in_state(v->app, m, v->now) / 1000));
	ctl_out_kvu(o, "session_handled", mv.session_handled);
	ctl_out_kvu(o, "session_offers", mv.session_offers);
	ctl_out_kvu(o, "handled", mv.handled);
	ctl_out_kvu(o, "missed_total", mv.missed_total);
	ctl_out_kv(o, "record", yesno(store_member_record(v->app->store, mv.login)));
	ctl_out_kv(o, "secure", yesno(store_member_secure(v->app->store, mv.login)));
	ctl_out_kvu(o, "contacts", sipua_contacts(v->app->sip, mv.login));
	v_skills_kv(v, o, m);
	v_session_kv(v, o, m, mv.login);
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

const struct verb verbs_member[] = {
	{ "member.add", NEED_ADMIN, v_member_add,
	  "member.add LOGIN name=.. password=SIP-PASSWORD [control_password=..] "
	  "role=agent|manager|admin [record=yes|no] [secure=yes|no]" },
	{ "member.set", NEED_MANAGER, v_member_set,
	  "member.set LOGIN [name=..] [password=SIP-PASSWORD] [control_password=..] [role=..] "
	  "[record=yes|no] [secure=yes|no]" },
	{ "member.del", NEED_ADMIN, v_member_del, "member.del LOGIN" },
	{ "member.list", NEED_MANAGER, v_member_list, "member.list" },
	{ "member.show", NEED_AGENT, v_member_show, "member.show [LOGIN]" },
	{ NULL, NEED_NONE, NULL, NULL },
};

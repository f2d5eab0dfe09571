/* verbs_agent.c — agent state: agent.* verbs. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool v_pause_in(struct vctx *v, eng_id q, eng_id m, bool pause)
{
	return pause ? engine_agent_pause(v->app->engine, v->now, q, m)
	             : engine_agent_resume(v->app->engine, v->now, q, m);
}

/* A manager's "all" for someone else means all the queues that manager
 * manages: the member's other queues are not theirs to change. */
static bool v_pause_managed(struct vctx *v, eng_id m, bool pause)
{
	eng_id qs[1024];
	size_t n = engine_queue_ids(v->app->engine, qs, 1024);
	bool any = false;
	for (size_t i = 0; i < n; i++)
		if (v_manages(v, qs[i]) && engine_is_member(v->app->engine, qs[i], m, NULL, NULL))
			any = v_pause_in(v, qs[i], m, pause) || any;
	return any;
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
	bool ok;
	if (v->who->role == ROLE_ADMIN || m == v_self(v))
		ok = v_pause_in(v, q, m, pause);
	else if (q)
		ok = v_need_queue(v, q) && v_pause_in(v, q, m, pause);
	else
		ok = v_pause_managed(v, m, pause);
	if (!v->replied)
		v_agent_done(v, m, ok, pause ? "paused" : "resumed");
}

static void v_agent_pause(struct vctx *v) { v_agent_pause_to(v, true); }
static void v_agent_resume(struct vctx *v) { v_agent_pause_to(v, false); }

static void v_agent_extend(struct vctx *v)
{
	eng_id m = v_target(v, ctl_word(v->req, 0));
	struct eng_member_view mv;
	if (!m)
		return;
	if (engine_agent_extend(v->app->engine, v->now, m)) {
		v_agent_done(v, m, true, "recovery extended");
		return;
	}
	engine_member_view(v->app->engine, v->now, m, &mv);
	v_err(v, "invalid", "%s is not in recovery, or its queue allows no further extension",
	      mv.login);
}

static void v_agent_show(struct vctx *v)
{
	eng_id m = v_target(v, ctl_word(v->req, 0));
	if (!m)
		return;
	v_member_row(v, m);
	v_finish_rows(v);
}

const struct verb verbs_agent[] = {
	{ "agent.login", NEED_AGENT, v_agent_login, "agent.login [LOGIN]" },
	{ "agent.logout", NEED_AGENT, v_agent_logout, "agent.logout [LOGIN]" },
	{ "agent.ready", NEED_AGENT, v_agent_ready, "agent.ready [LOGIN]" },
	{ "agent.away", NEED_AGENT, v_agent_away, "agent.away [LOGIN] [reason=..]" },
	{ "agent.pause", NEED_AGENT, v_agent_pause, "agent.pause QUEUE|all [LOGIN]" },
	{ "agent.resume", NEED_AGENT, v_agent_resume, "agent.resume QUEUE|all [LOGIN]" },
	{ "agent.extend", NEED_AGENT, v_agent_extend, "agent.extend [LOGIN]" },
	{ "agent.show", NEED_AGENT, v_agent_show, "agent.show [LOGIN]" },
	{ NULL, NEED_NONE, NULL, NULL },
};

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

const struct verb verbs_agent[] = {
	{ "agent.login", NEED_AGENT, v_agent_login, "agent.login [LOGIN]" },
	{ "agent.logout", NEED_AGENT, v_agent_logout, "agent.logout [LOGIN]" },
	{ "agent.ready", NEED_AGENT, v_agent_ready, "agent.ready [LOGIN]" },
	{ "agent.away", NEED_AGENT, v_agent_away, "agent.away [LOGIN] [reason=..]" },
	{ "agent.pause", NEED_AGENT, v_agent_pause, "agent.pause QUEUE|all [LOGIN]" },
	{ "agent.resume", NEED_AGENT, v_agent_resume, "agent.resume QUEUE|all [LOGIN]" },
	{ "agent.show", NEED_AGENT, v_agent_show, "agent.show [LOGIN]" },
	{ NULL, NEED_NONE, NULL, NULL },
};

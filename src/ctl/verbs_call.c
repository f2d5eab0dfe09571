/* verbs_call.c — waiting calls and counters: calls, call.*, stats. */
#include "ctl/verbs_int.h"
#include "core/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/country.h"
#include "report/report.h"
#include "report/window.h"
#include "sip/sip.h"

/* calls and stats: for the queue's members (agents and managers) and admins. */
static eng_id v_seen_queue(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	return q && v_need_sees(v, q) ? q : 0;
}

/* The call named by the first word, for a manager of its queue; 0 after
 * replying. */
static eng_id v_managed_call(struct vctx *v, const char *usage, struct eng_call_view *cv)
{
	const char *id = ctl_word(v->req, 0);
	char *end = NULL;
	unsigned long n = id ? strtoul(id, &end, 10) : 0;
	eng_id call = end && !*end && n <= UINT32_MAX ? (eng_id)n : 0;
	if (!id) {
		v_err(v, "usage", "%s", usage);
		return 0;
	}
	if (!call || !engine_call_view(v->app->engine, v->now, call, cv)) {
		v_err(v, "notfound", "no call %s", id);
		return 0;
	}
	return v_need_queue(v, cv->queue) ? call : 0;
}

/* ---- calls and counters ---- */

/* A reply must fit the connection's output buffer (256 KiB): about 1,500
 * rows of calls. `limit` says how many of the first calls to show. */
#define CALLS_LIMIT_DEFAULT 1000
#define CALLS_LIMIT_MAX 1500

static void v_calls(struct vctx *v)
{
	static struct eng_call_view cv[CALLS_LIMIT_MAX];
	eng_id q = v_seen_queue(v);
	const char *ls = ctl_get(v->req, "limit");
	char *end = NULL;
	unsigned long limit = ls ? strtoul(ls, &end, 10) : CALLS_LIMIT_DEFAULT;
	if (!q)
		return;
	if (ls && (!*ls || *end || limit == 0 || limit > CALLS_LIMIT_MAX)) {
		v_err(v, "invalid", "limit must be 1..%d", CALLS_LIMIT_MAX);
		return;
	}
	/* Other agents' names only where the queue shows agents to agents, as in
	 * queue.members: an agent sees "" for a call another agent has. */
	bool all = v_manages(v, q) || engine_queue_conf(v->app->engine, q)->show_agents;
	eng_id me = v_self(v);
	size_t n = engine_call_list(v->app->engine, v->now, q, cv, limit);
	for (size_t i = 0; i < n; i++) {
		struct ctl_out *o = v_row(v);
		struct eng_member_view mv = { .login = "" };
		if (cv[i].member && (all || cv[i].member == me))
			engine_member_view(v->app->engine, v->now, cv[i].member, &mv);
		ctl_out_kvu(o, "call", cv[i].id);
		ctl_out_kvu(o, "position", cv[i].position);
		ctl_out_kvu(o, "wait", (unsigned long long)(cv[i].wait_ms / 1000));
		ctl_out_kvu(o, "queue_wait", (unsigned long long)(cv[i].queue_wait_ms / 1000));
		ctl_out_kv(o, "caller_number", cv[i].caller_number);
		ctl_out_kv(o, "caller_name", cv[i].caller_name);
		ctl_out_kv(o, "country", country_of(cv[i].caller_number));
		ctl_out_kv(o, "state", cv[i].talking    ? "talking"
		                       : cv[i].callback ? "callback"
		                       : cv[i].member   ? "ringing"
		                                        : "waiting");
		ctl_out_kv(o, "agent", mv.login);
	}
	v_finish_rows(v);
}

static void v_call_hangup(struct vctx *v)
{
	struct eng_call_view cv;
	eng_id call = v_managed_call(v, "call.hangup ID", &cv);
	if (!call)
		return;
	bool ok = engine_call_drop(v->app->engine, v->now, call);
	app_engine_done(v->app);
	if (ok)
		v_ok(v, "call %u hung up", call);
	else
		v_err(v, "invalid", "call %u is a pending callback: callback.cancel ends it", call);
}

static void v_call_bump(struct vctx *v)
{
	struct eng_call_view cv;
	eng_id call = v_managed_call(v, "call.bump ID", &cv);
	if (!call)
		return;
	bool ok = engine_call_bump(v->app->engine, v->now, call);
	app_engine_done(v->app);
	if (ok)
		v_ok(v, "call %u is next", call);
	else
		v_err(v, "invalid", "call %u is not waiting", call);
}

/* Rings LOGIN's phone (default: the caller's own) with a waiting call; the
 * SIP side treats it like any offer, and the answer bridges it. */
static void v_call_answer(struct vctx *v)
{
	struct eng_call_view cv;
	struct eng_member_view mv;
	eng_id call = v_managed_call(v, "call.answer ID [LOGIN]", &cv);
	eng_id m = call ? v_target(v, ctl_word(v->req, 1)) : 0;
	if (!m || !engine_member_view(v->app->engine, v->now, m, &mv))
		return;
	if (!sipua_contacts(v->app->sip, mv.login)) {
		v_err(v, "invalid", "%s has no registered phone", mv.login);
		return;
	}
	eng_id offer = engine_call_pickup(v->app->engine, v->now, call, m);
	app_engine_done(v->app);
	if (offer)
		v_ok(v, "call %u ringing %s", call, mv.login);
	else
		v_err(v, "busy", "call %u is not waiting, or %s is ringing or on a call", call, mv.login);
}

/* Live values from the engine; counts over the window from the rolling
 * per-minute counters (report/window.h: whole minutes, the current one
 * included), which the journal refills at start so they survive a restart. */
static void v_stats(struct vctx *v)
{
	eng_id q = v_seen_queue(v);
	const char *ws = ctl_get(v->req, "window");
	struct eng_queue_stats st;
	struct report_row row;
	char *end = NULL;
	unsigned long window = ws ? strtoul(ws, &end, 10) : 3600;
	if (!q || !engine_queue_stats(v->app->engine, v->now, q, &st))
		return;
	if (ws && (*end || !*ws || window == 0 || window > WINDOW_MAX_S)) {
		v_err(v, "invalid", "window must be 1..%d seconds", WINDOW_MAX_S);
		return;
	}
	if (!window_queue(v->app->window, q, clock_wall_ms(), (unsigned)window, &row)) {
		v_err(v, "internal", "counters incomplete: out of memory");
		return;
	}
	struct ctl_out *o = v_row(v);
	ctl_out_kvu(o, "waiting", st.waiting);
	ctl_out_kvu(o, "longest_wait", (unsigned long long)(row.max_wait_ms / 1000));
	ctl_out_kvu(o, "handled", row.handled);
	ctl_out_kvu(o, "abandoned", row.abandoned);
	ctl_out_kvu(o, "missed", row.missed);
	ctl_out_kvu(o, "ready", st.ready);
	ctl_out_kvu(o, "busy", st.busy);
	ctl_out_kvu(o, "away", st.away);
	ctl_out_kvu(o, "avg_wait", (unsigned long long)(report_avg_wait_ms(&row) / 1000));
	ctl_out_kvu(o, "avg_talk", (unsigned long long)(report_avg_talk_ms(&row) / 1000));
	ctl_out_kvu(o, "service_level", row.handled ? row.answered_in_sl * 100u / row.handled : 100);
	ctl_out_kvu(o, "callbacks_requested", row.cb_requested);
	ctl_out_kvu(o, "callbacks_attempted", row.cb_attempted);
	ctl_out_kvu(o, "callbacks_reached", row.cb_reached);
	ctl_out_kvu(o, "callbacks_failed", row.cb_failed);
	ctl_out_kvu(o, "window", window);
	v_finish_rows(v);
}

const struct verb verbs_call[] = {
	{ "calls", NEED_AGENT, v_calls, "calls QUEUE [limit=1000]" },
	{ "call.bump", NEED_MANAGER, v_call_bump, "call.bump ID" },
	{ "call.answer", NEED_MANAGER, v_call_answer, "call.answer ID [LOGIN]" },
	{ "call.hangup", NEED_MANAGER, v_call_hangup, "call.hangup ID" },
	{ "stats", NEED_AGENT, v_stats, "stats QUEUE [window=SECONDS]" },
	{ NULL, NEED_NONE, NULL, NULL },
};

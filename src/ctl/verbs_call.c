/* verbs_call.c — waiting calls and counters: calls, call.*, stats. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const struct verb verbs_call[] = {
	{ "calls", NEED_AGENT, v_calls, "calls QUEUE" },
	{ "call.hangup", NEED_MANAGER, v_call_hangup, "call.hangup ID" },
	{ "stats", NEED_AGENT, v_stats, "stats QUEUE" },
	{ NULL, NEED_NONE, NULL, NULL },
};

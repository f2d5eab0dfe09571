/* verbs_callback.c — pending callbacks for the managers of their queue:
 * callback.list, callback.move, callback.cancel, callback.now. */
#include "ctl/verbs_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLBACKS_MAX 1500

/* The callback named by the first word, for a manager of its queue; 0 after
 * replying. */
static eng_id v_callback(struct vctx *v, const char *usage)
{
	struct eng_call_view cv;
	const char *id = ctl_word(v->req, 0);
	char *end = NULL;
	unsigned long n = id ? strtoul(id, &end, 10) : 0;
	eng_id call = end && !*end && n <= UINT32_MAX ? (eng_id)n : 0;
	if (!id) {
		v_err(v, "usage", "%s", usage);
		return 0;
	}
	if (!call || !engine_call_view(v->app->engine, v->now, call, &cv) || !cv.callback) {
		v_err(v, "notfound", "no callback %s", id);
		return 0;
	}
	return v_need_queue(v, cv.queue) ? call : 0;
}

static const char *v_callback_state(const struct eng_call_view *cv)
{
	if (cv->talking)
		return "talking";
	if (cv->dialing)
		return "dialing";
	if (cv->held)
		return "held";
	return cv->member ? "ringing" : "waiting";
}

/* Every pending callback of the queue with its place in the whole line
 * (live callers included): what a manager moves or places. */
static void v_callback_list(struct vctx *v)
{
	static struct eng_call_view cv[CALLBACKS_MAX];
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q || !v_need_queue(v, q))
		return;
	size_t n = engine_call_list(v->app->engine, v->now, q, cv, CALLBACKS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct eng_member_view mv = { .login = "" };
		if (!cv[i].callback)
			continue;
		if (cv[i].member)
			engine_member_view(v->app->engine, v->now, cv[i].member, &mv);
		struct ctl_out *o = v_row(v);
		ctl_out_kvu(o, "id", cv[i].id);
		ctl_out_kvu(o, "position", cv[i].position);
		ctl_out_kv(o, "number", cv[i].callback_number);
		ctl_out_kv(o, "caller_number", cv[i].caller_number);
		ctl_out_kvu(o, "wait", (unsigned long long)(cv[i].wait_ms / 1000));
		ctl_out_kvu(o, "attempts", cv[i].attempts);
		ctl_out_kv(o, "state", v_callback_state(&cv[i]));
		ctl_out_kv(o, "agent", mv.login);
	}
	v_finish_rows(v);
}

static void v_callback_move(struct vctx *v)
{
	eng_id call = v_callback(v, "callback.move ID position=N");
	const char *ps = ctl_get(v->req, "position");
	char *end = NULL;
	unsigned long pos = ps ? strtoul(ps, &end, 10) : 0;
	if (!call)
		return;
	if (!ps || !*ps || *end || pos == 0 || pos > UINT32_MAX) {
		v_err(v, "usage", "callback.move ID position=N (N from 1)");
		return;
	}
	bool ok = engine_callback_move(v->app->engine, v->now, call, (unsigned)pos);
	app_engine_done(v->app);
	if (ok)
		v_ok(v, "callback %u moved", call);
	else
		v_err(v, "invalid", "callback %u is being placed", call);
}

static void v_callback_cancel(struct vctx *v)
{
	eng_id call = v_callback(v, "callback.cancel ID");
	if (!call)
		return;
	bool ok = engine_callback_cancel(v->app->engine, v->now, call);
	app_engine_done(v->app);
	if (ok)
		v_ok(v, "callback %u cancelled", call);
	else
		v_err(v, "invalid", "callback %u is talking", call);
}

static void v_callback_now(struct vctx *v)
{
	eng_id call = v_callback(v, "callback.now ID");
	if (!call)
		return;
	bool ok = engine_callback_now(v->app->engine, v->now, call);
	app_engine_done(v->app);
	if (ok)
		v_ok(v, "callback %u is next", call);
	else
		v_err(v, "invalid", "callback %u is being placed", call);
}

const struct verb verbs_callback[] = {
	{ "callback.list", NEED_MANAGER, v_callback_list, "callback.list QUEUE" },
	{ "callback.move", NEED_MANAGER, v_callback_move, "callback.move ID position=N" },
	{ "callback.cancel", NEED_MANAGER, v_callback_cancel, "callback.cancel ID" },
	{ "callback.now", NEED_MANAGER, v_callback_now, "callback.now ID" },
	{ NULL, NEED_NONE, NULL, NULL },
};

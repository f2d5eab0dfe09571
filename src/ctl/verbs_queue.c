/* verbs_queue.c — queues and who is in them: queue.* verbs. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acd/qconf.h"

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

const struct verb verbs_queue[] = {
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
	{ NULL, NEED_NONE, NULL, NULL },
};

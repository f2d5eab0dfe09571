/* verbs_queue.c — queues and who is in them: queue.* verbs. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acd/qconf.h"
#include "core/clock.h"
#include "store/queuelog.h"

/* ---- queues ---- */

/* The viewer's own state in q, the guide's Active/Paused buttons. */
enum v_mine { MINE_ACTIVE, MINE_PAUSED, MINE_NONE };

static enum v_mine v_my_state(const struct vctx *v, eng_id q)
{
	bool manager, active;
	if (!engine_is_member(v->app->engine, q, v_self(v), &manager, &active))
		return MINE_NONE;
	return active ? MINE_ACTIVE : MINE_PAUSED;
}

static void v_queue_row(struct vctx *v, eng_id q)
{
	static const char *const mine[] = { "active", "paused", "" };
	const struct eng_queue_conf *c = engine_queue_conf(v->app->engine, q);
	struct eng_queue_stats st;
	engine_queue_stats(v->app->engine, v->now, q, &st);
	struct ctl_out *o = v_row(v);
	ctl_out_kv(o, "name", c->name);
	ctl_out_kv(o, "number", c->number);
	ctl_out_kv(o, "strategy", engine_strategy_name(c->strategy));
	ctl_out_kv(o, "paused", yesno(c->paused));
	ctl_out_kv(o, "mine", mine[v_my_state(v, q)]);
	ctl_out_kvu(o, "waiting", st.waiting);
	ctl_out_kvu(o, "ready", st.ready);
}

/* The guide's sorting: "all" is creation order; "active" puts the queues
 * where the viewer is active first, then those where it is paused; "paused"
 * the other way round; queues the viewer is not in (an admin's) come last.
 * Stable: creation order inside each group. */
static void v_queue_list(struct vctx *v)
{
	const char *sort = ctl_get(v->req, "sort");
	if (sort && strcmp(sort, "all") && strcmp(sort, "active") && strcmp(sort, "paused")) {
		v_err(v, "invalid", "sort must be all, active or paused");
		return;
	}
	bool by_state = sort && strcmp(sort, "all");
	enum v_mine order[3] = { MINE_ACTIVE, MINE_PAUSED, MINE_NONE };
	if (sort && !strcmp(sort, "paused")) {
		order[0] = MINE_PAUSED;
		order[1] = MINE_ACTIVE;
	}
	eng_id qs[1024];
	size_t n = engine_queue_ids(v->app->engine, qs, 1024);
	for (int pass = 0; pass < (by_state ? 3 : 1); pass++)
		for (size_t i = 0; i < n; i++)
			if (v_sees_queue(v, qs[i]) && (!by_state || v_my_state(v, qs[i]) == order[pass]))
				v_queue_row(v, qs[i]);
	v_finish_rows(v);
}

static void v_queue_show(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q || !v_need_sees(v, q))
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

/* ---- references between queues and members ---- */

static bool v_member_exists(struct vctx *v, const char *key, const char *login)
{
	if (engine_member_find(v->app->engine, login))
		return true;
	v_err(v, "invalid", "%s: no member '%s'", key, login);
	return false;
}

/* Every member of group:L1+L2.. must exist. */
static bool v_group_ok(struct vctx *v, const char *key, const char *list)
{
	char login[ENG_NAME_MAX];
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, "+");
		snprintf(login, sizeof login, "%.*s", (int)len, p);
		if (!v_member_exists(v, key, login))
			return false;
		p += len + (p[len] == '+');
	}
	return true;
}

/* A destination must name a queue or members that exist now: a typo would
 * otherwise only show when a caller is stranded. */
static bool v_dest_ok(struct vctx *v, const char *key, const char *dest)
{
	if (!strncmp(dest, "queue:", 6) && !engine_queue_find(v->app->engine, dest + 6)) {
		v_err(v, "invalid", "%s: no queue '%s'", key, dest + 6);
		return false;
	}
	if (!strncmp(dest, "member:", 7))
		return v_member_exists(v, key, dest + 7);
	if (!strncmp(dest, "voicemail:", 10))
		return v_member_exists(v, key, dest + 10);
	if (!strncmp(dest, "group:", 6))
		return v_group_ok(v, key, dest + 6);
	if (!strncmp(dest, "gateway:", 8))
		return v_gateway_exists(v, key, dest);
	return true;
}

/* The queue a queue's escalation goes on to: escalation_queue, else a
 * queue:NAME escalation_dest (the two links engine_escalation_loop follows);
 * the one leading straight back to `home` first. NULL if none. */
static const char *v_next_queue(struct vctx *v, const char *at, const char *home)
{
	eng_id q = engine_queue_find(v->app->engine, at);
	if (!q)
		return NULL;
	const struct eng_queue_conf *c = engine_queue_conf(v->app->engine, q);
	const char *dest = strncmp(c->escalation_dest, "queue:", 6) ? "" : c->escalation_dest + 6;
	if (!strcmp(dest, home) || !c->escalation_queue[0])
		return *dest ? dest : NULL;
	return c->escalation_queue;
}

/* "a -> b -> a": the escalation chain from `name` through `target`, for the
 * error message. Stops after a few hops on a chain that does not return. */
static void v_loop_path(struct vctx *v, const char *name, const char *target, char *buf, size_t cap)
{
	int len = snprintf(buf, cap, "%s", name);
	const char *at = target;
	for (int hops = 0; at && hops < 8 && len >= 0 && (size_t)len < cap; hops++) {
		len += snprintf(buf + len, cap - (size_t)len, " -> %s", at);
		if (!strcmp(at, name))
			return;
		at = v_next_queue(v, at, name);
	}
	if (len >= 0 && (size_t)len < cap)
		snprintf(buf + len, cap - (size_t)len, " -> ...");
}

/* `target` (from setting `key`) must exist and must not lead back here. */
static bool v_escalation_ok(struct vctx *v, const struct eng_queue_conf *c, const char *key,
                            const char *target)
{
	char path[256];
	if (!engine_queue_find(v->app->engine, target)) {
		v_err(v, "invalid", "%s: no queue '%s'", key, target);
		return false;
	}
	if (!engine_escalation_loop(v->app->engine, c->name, target))
		return true;
	v_loop_path(v, c->name, target, path, sizeof path);
	v_err(v, "invalid", "escalation loop: %s", path);
	return false;
}

/* Checks the references this request sets (not older ones it leaves alone). */
static bool v_refs_ok(struct vctx *v, const struct eng_queue_conf *c)
{
	const char *dest = c->escalation_dest;
	if (ctl_get(v->req, "escalation_queue") && c->escalation_queue[0] &&
	    !v_escalation_ok(v, c, "escalation_queue", c->escalation_queue))
		return false;
	if (ctl_get(v->req, "escalation_dest") &&
	    (!strncmp(dest, "queue:", 6) ? !v_escalation_ok(v, c, "escalation_dest", dest + 6)
	                                 : !v_dest_ok(v, "escalation_dest", dest)))
		return false;
	return !ctl_get(v->req, "zero_out") || v_dest_ok(v, "zero_out", c->zero_out);
}

/* The first other queue that sends calls to `name`, or NULL; *how names the
 * setting. */
static const char *v_queue_referrer(struct vctx *v, const char *name, const char **how)
{
	char dest[ENG_NAME_MAX + 8];
	eng_id qs[1024];
	size_t n = engine_queue_ids(v->app->engine, qs, 1024);
	snprintf(dest, sizeof dest, "queue:%s", name);
	for (size_t i = 0; i < n; i++) {
		const struct eng_queue_conf *c = engine_queue_conf(v->app->engine, qs[i]);
		*how = !strcmp(c->escalation_queue, name) ? "escalation_queue"
		       : !strcmp(c->escalation_dest, dest) ? "escalation_dest"
		       : !strcmp(c->zero_out, dest)        ? "zero_out"
		                                           : NULL;
		if (*how && strcmp(c->name, name))
			return c->name;
	}
	return NULL;
}

/* ---- settings ---- */

/* The queue's number and each of its dids must be no other queue's. */
static bool v_numbers_free(struct vctx *v, const struct eng_queue_conf *c)
{
	char num[ENG_NUMBER_MAX];
	const char *p = c->dids;
	snprintf(num, sizeof num, "%s", c->number);
	for (;;) {
		eng_id other = engine_queue_by_number(v->app->engine, num);
		const char *owner = other ? engine_queue_conf(v->app->engine, other)->name : "";
		if (other && strcmp(owner, c->name)) {
			v_err(v, "exists", "number %s belongs to queue %s", num, owner);
			return false;
		}
		if (!*p)
			return true;
		size_t n = strcspn(p, ",");
		snprintf(num, sizeof num, "%.*s", (int)n, p);
		p += n + (p[n] == ',');
	}
}

/* Every file:NAME of a hold loop (already checked for shape by
 * media_hold_valid) must be a readable file in the media folder: a typo
 * would otherwise only show as silence to callers. */
static bool v_hold_files_ok(struct vctx *v, const char *spec)
{
	char path[1024];
	for (const char *p = spec; *p;) {
		size_t n = strcspn(p, ",");
		const char *item = p;
		while (n && *item == ' ') {
			item++;
			n--;
		}
		while (n && item[n - 1] == ' ')
			n--;
		if (n > 5 && !strncmp(item, "file:", 5)) {
			snprintf(path, sizeof path, "%s/%.*s", v->app->conf.media, (int)(n - 5), item + 5);
			if (access(path, R_OK) != 0) {
				v_err(v, "invalid", "hold: no media file '%.*s' (import it with media.import)",
				      (int)(n - 5), item + 5);
				return false;
			}
		}
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return true;
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
		if (!strcmp(a->key, "hold") && !v_hold_files_ok(v, a->value))
			return false;
		if (qconf_set(c, a->key, a->value, err, sizeof err) < 0) {
			v_err(v, "invalid", "%s", err);
			return false;
		}
	}
	if (!v_numbers_free(v, c))
		return false;
	/* The guide: skills-based routing needs an escalation; calls no staffed
	 * member has the skill for go there (escalation_dest=hangup says so). */
	if (c->strategy == STRAT_SKILLS_STRICT && !c->escalation_queue[0] && !c->escalation_dest[0]) {
		v_err(v, "invalid", "skills-strict needs escalation_queue or escalation_dest "
		                    "(escalation_dest=hangup to hang up calls no staffed agent has the "
		                    "skill for)");
		return false;
	}
	return v_refs_ok(v, c);
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
	const char *name = ctl_word(v->req, 0), *how;
	eng_id q = v_queue(v, name);
	if (!q)
		return;
	const char *referrer = v_queue_referrer(v, name, &how);
	if (referrer) {
		v_err(v, "busy", "queue %s sends calls to %s (%s)", referrer, name, how);
		return;
	}
	if (!engine_queue_remove(v->app->engine, v->now, q)) {
		v_err(v, "busy", "queue %s has calls", name);
		return;
	}
	app_engine_done(v->app);
	if (v_store_ok(v, store_queue_del(v->app->store, name), name))
		v_ok(v, "queue %s deleted", name);
}

/* ---- membership ---- */

/* Managers assign and unassign only agents (members whose global role is
 * agent), in queues they manage; making a queue manager is for admins. */
static bool v_may_assign(struct vctx *v, eng_id q, eng_id m, bool manager)
{
	struct eng_member_view mv;
	if (!v_need_queue(v, q))
		return false;
	if (v->who->role == ROLE_ADMIN)
		return true;
	if (manager) {
		v_err(v, "denied", "only an admin makes queue managers");
		return false;
	}
	if (!engine_member_view(v->app->engine, v->now, m, &mv) || mv.role != ROLE_AGENT) {
		v_err(v, "denied", "managers assign agents only");
		return false;
	}
	return true;
}

/* A priority level from text: 1..ENG_PRIO_LEVELS; false after replying. */
static bool v_prio(struct vctx *v, const char *s, unsigned *out)
{
	char *end;
	long n = s ? strtol(s, &end, 10) : 0;
	if (!s || *s < '0' || *s > '9' || *end || n < 1 || n > ENG_PRIO_LEVELS) {
		v_err(v, "invalid", "priority must be 1 (best) to %d", ENG_PRIO_LEVELS);
		return false;
	}
	*out = (unsigned)n;
	return true;
}

static void v_queue_assign(struct vctx *v)
{
	const char *qn = ctl_word(v->req, 0), *login = ctl_word(v->req, 1);
	const char *rs = ctl_get(v->req, "role"), *act = ctl_get(v->req, "active");
	const char *ps = ctl_get(v->req, "priority");
	bool manager = rs && !strcmp(rs, "manager"), active = false, was_manager = false, was_active;
	unsigned prio = 0;
	eng_id q = v_queue(v, qn), m = q ? v_member(v, login) : 0;
	if (!m || !v_may_assign(v, q, m, manager))
		return;
	if (rs && strcmp(rs, "agent") && strcmp(rs, "manager")) {
		v_err(v, "invalid", "role must be agent or manager");
		return;
	}
	if (act && !v_bool(act, &active)) {
		v_err(v, "invalid", "active must be yes or no");
		return;
	}
	if (ps && !v_prio(v, ps, &prio))
		return;
	if (!v_store_ok(v, store_assign(v->app->store, qn, login, manager, active), login) ||
	    (prio && !v_store_ok(v, store_priority(v->app->store, qn, login, prio), login)))
		return;
	bool was_member = engine_is_member(v->app->engine, q, m, &was_manager, &was_active);
	engine_assign(v->app->engine, v->now, q, m, manager, active);
	if (prio)
		engine_set_priority(v->app->engine, v->now, q, m, prio);
	app_engine_done(v->app);
	if (!was_member && v->app->queuelog)
		queuelog_member(v->app->queuelog, clock_wall_ms(), qn, login, true, !active);
	v_ok(v, "%s assigned to %s as %s%s", login, qn, manager ? "manager" : "agent",
	     active ? "" : " (paused)");
	if (was_member && was_manager && !manager)
		v_end_sessions(v, login);
}

/* Managers of the queue set any level; an agent may only lower its own
 * (a larger number), never raise it. */
static void v_queue_priority(struct vctx *v)
{
	const char *qn = ctl_word(v->req, 0), *login = ctl_word(v->req, 1);
	unsigned prio;
	eng_id q = v_queue(v, qn), m = q ? v_member(v, login) : 0;
	if (!m || !v_prio(v, ctl_word(v->req, 2), &prio))
		return;
	unsigned now_prio = engine_priority(v->app->engine, q, m);
	if (!now_prio) {
		v_err(v, "notfound", "%s is not in %s", login, qn);
		return;
	}
	if (!v_manages(v, q)) {
		if (m != v_self(v)) {
			v_err(v, "denied", "you do not manage this queue");
			return;
		}
		if (prio < now_prio) {
			v_err(v, "denied", "agents may lower their own priority (%u or more), not raise it",
			      now_prio);
			return;
		}
	}
	if (!v_store_ok(v, store_priority(v->app->store, qn, login, prio), login))
		return;
	engine_set_priority(v->app->engine, v->now, q, m, prio);
	app_engine_done(v->app);
	v_ok(v, "%s has priority %u in %s", login, prio, qn);
}

static void v_queue_unassign(struct vctx *v)
{
	const char *qn = ctl_word(v->req, 0), *login = ctl_word(v->req, 1);
	eng_id q = v_queue(v, qn), m = q ? v_member(v, login) : 0;
	if (!m || !v_may_assign(v, q, m, false))
		return;
	if (!engine_unassign(v->app->engine, v->now, q, m)) {
		v_err(v, "notfound", "%s is not in %s", login, qn);
		return;
	}
	app_engine_done(v->app);
	if (v->app->queuelog)
		queuelog_member(v->app->queuelog, clock_wall_ms(), qn, login, false, false);
	if (v_store_ok(v, store_unassign(v->app->store, qn, login), login))
		v_ok(v, "%s removed from %s", login, qn);
	v_end_sessions(v, login);
}

static void v_queue_members(struct vctx *v)
{
	eng_id q = v_queue(v, ctl_word(v->req, 0));
	if (!q || !v_need_sees(v, q))
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
		ctl_out_kvu(&v->rows, "priority", engine_priority(v->app->engine, q, ms[i]));
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
	  "queue.assign NAME LOGIN [role=agent|manager] [active=yes|no] [priority=1..9]" },
	{ "queue.priority", NEED_AGENT, v_queue_priority, "queue.priority NAME LOGIN 1..9" },
	{ "queue.unassign", NEED_MANAGER, v_queue_unassign, "queue.unassign NAME LOGIN" },
	{ "queue.members", NEED_AGENT, v_queue_members, "queue.members NAME" },
	{ NULL, NEED_NONE, NULL, NULL },
};

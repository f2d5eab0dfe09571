/* verbs_skill.c — skills and who has them: skill.* verbs.
 *
 * Skills are global. Managers define and assign them (the guide's "Managing
 * Members and Assigning Skills"), assigning only to members of queues they
 * manage. Deleting a skill takes it from every member in every queue, so,
 * like queue.delete and member.del, it is the administrator's. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <string.h>

#include "acd/skill.h"

#define SKILLS_MAX 256

static bool v_skill_exists(const struct vctx *v, const char *name)
{
	struct eng_skill_rule r[ENG_SKILL_RULES_MAX];
	bool all;
	size_t n;
	return engine_skill_get(v->app->engine, name, &all, r, &n);
}

/* The rule= texts of the request, parsed; n on success, -1 after replying. */
static int v_skill_rules(struct vctx *v, const char **texts, struct eng_skill_rule *rules)
{
	char err[200];
	int n = 0;
	for (int i = 0; i < v->req->argc; i++) {
		const struct ctl_arg *a = &v->req->argv[i];
		if (!a->key || strcmp(a->key, "rule"))
			continue;
		if (n == ENG_SKILL_RULES_MAX) {
			v_err(v, "invalid", "at most %d rules", ENG_SKILL_RULES_MAX);
			return -1;
		}
		if (skill_rule_parse(a->value, &rules[n], err, sizeof err) != 0) {
			v_err(v, "invalid", "rule %d: %s", n + 1, err);
			return -1;
		}
		texts[n++] = a->value;
	}
	return n;
}

/* The engine compiles the patterns, so it goes first: a bad regex is refused
 * with PCRE2's message before anything is stored. If the store then fails,
 * the engine gets its old definition back, so "OK" still means both. */
static void v_skill_set(struct vctx *v)
{
	const char *name = ctl_word(v->req, 0), *match = ctl_get(v->req, "match");
	const char *texts[ENG_SKILL_RULES_MAX];
	struct eng_skill_rule rules[ENG_SKILL_RULES_MAX], old[ENG_SKILL_RULES_MAX];
	char err[256];
	bool old_all, had;
	size_t old_n;
	if (!v_name_ok(v, name, "skill name"))
		return;
	if (!match || (strcmp(match, "all") && strcmp(match, "any")) || !ctl_count(v->req, "rule")) {
		v_err(v, "usage", "skill.set NAME match=all|any rule=\"FIELD OP VALUE\" [rule=..]");
		return;
	}
	int n = v_skill_rules(v, texts, rules);
	if (n < 0)
		return;
	bool all = !strcmp(match, "all");
	had = engine_skill_get(v->app->engine, name, &old_all, old, &old_n);
	if (engine_skill_set(v->app->engine, name, all, rules, (size_t)n, err, sizeof err) != 0) {
		v_err(v, "invalid", "%s", err);
		return;
	}
	if (!v_store_ok(v, store_skill_put(v->app->store, name, all, texts, (size_t)n), name)) {
		if (had)
			engine_skill_set(v->app->engine, name, old_all, old, old_n, err, sizeof err);
		else
			engine_skill_del(v->app->engine, name);
		return;
	}
	app_engine_done(v->app);
	v_ok(v, "skill %s set (%d rule%s)", name, n, n == 1 ? "" : "s");
}

static void v_skill_del(struct vctx *v)
{
	const char *name = ctl_word(v->req, 0);
	if (!name) {
		v_err(v, "usage", "skill.del NAME");
		return;
	}
	if (!v_skill_exists(v, name)) {
		v_err(v, "notfound", "no skill '%s'", name);
		return;
	}
	if (!v_store_ok(v, store_skill_del(v->app->store, name), name))
		return;
	engine_skill_del(v->app->engine, name);
	app_engine_done(v->app);
	v_ok(v, "skill %s deleted", name);
}

/* rules=N then rule1=.. ruleN=: one key per rule, because a pattern may hold
 * any separator a joined list could use. */
static void v_skill_rules_kv(struct vctx *v, struct ctl_out *o, const char *name)
{
	struct eng_skill_rule r[ENG_SKILL_RULES_MAX];
	char key[16], text[ENG_SKILL_VALUE_MAX + 32];
	bool all = true;
	size_t n = 0;
	engine_skill_get(v->app->engine, name, &all, r, &n);
	ctl_out_kv(o, "match", all ? "all" : "any");
	ctl_out_kvu(o, "rules", n);
	for (unsigned i = 0; i < n && i < ENG_SKILL_RULES_MAX; i++) {
		snprintf(key, sizeof key, "rule%u", i + 1);
		if (skill_rule_format(&r[i], text, sizeof text) == 0)
			ctl_out_kv(o, key, text);
	}
}

/* members=a,b: the holders the caller may see (managers: their queues'). */
static void v_skill_members_kv(struct vctx *v, struct ctl_out *o, const char *name)
{
	eng_id ms[4096];
	char list[2048] = "";
	size_t n = engine_member_ids(v->app->engine, ms, 4096), len = 0;
	for (size_t i = 0; i < n; i++) {
		struct eng_member_view mv;
		if (!engine_member_has_skill(v->app->engine, ms[i], name) || !v_may_touch(v, ms[i]) ||
		    !engine_member_view(v->app->engine, v->now, ms[i], &mv))
			continue;
		int w = snprintf(list + len, sizeof list - len, "%s%s", len ? "," : "", mv.login);
		if (w < 0 || (size_t)w >= sizeof list - len) {
			list[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
	ctl_out_kv(o, "members", list);
}

static void v_skill_list(struct vctx *v)
{
	const char *names[SKILLS_MAX];
	size_t n = engine_skill_names(v->app->engine, names, SKILLS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct ctl_out *o = v_row(v);
		ctl_out_kv(o, "name", names[i]);
		v_skill_rules_kv(v, o, names[i]);
		v_skill_members_kv(v, o, names[i]);
	}
	v_finish_rows(v);
}

static void v_skill_assign_to(struct vctx *v, bool on)
{
	const char *login = ctl_word(v->req, 0), *name = ctl_word(v->req, 1);
	if (!login || !name) {
		v_err(v, "usage", "skill.%s LOGIN NAME", on ? "assign" : "unassign");
		return;
	}
	eng_id m = v_member(v, login);
	if (!m)
		return;
	if (!v_may_touch(v, m)) {
		v_err(v, "denied", "%s is not in a queue you manage", login);
		return;
	}
	if (!v_skill_exists(v, name)) {
		v_err(v, "notfound", "no skill '%s'", name);
		return;
	}
	if (!on && !engine_member_has_skill(v->app->engine, m, name)) {
		v_err(v, "notfound", "%s does not have skill %s", login, name);
		return;
	}
	if (!v_store_ok(v, store_skill_assign(v->app->store, login, name, on), login))
		return;
	engine_skill_assign(v->app->engine, m, name, on);
	app_engine_done(v->app);
	v_ok(v, "%s %s skill %s", login, on ? "has" : "no longer has", name);
}

static void v_skill_assign(struct vctx *v) { v_skill_assign_to(v, true); }
static void v_skill_unassign(struct vctx *v) { v_skill_assign_to(v, false); }

const struct verb verbs_skill[] = {
	{ "skill.set", NEED_MANAGER, v_skill_set,
	  "skill.set NAME match=all|any rule=\"FIELD OP VALUE\" [rule=..]" },
	{ "skill.del", NEED_ADMIN, v_skill_del, "skill.del NAME" },
	{ "skill.list", NEED_MANAGER, v_skill_list, "skill.list" },
	{ "skill.assign", NEED_MANAGER, v_skill_assign, "skill.assign LOGIN NAME" },
	{ "skill.unassign", NEED_MANAGER, v_skill_unassign, "skill.unassign LOGIN NAME" },
	{ NULL, NEED_NONE, NULL, NULL },
};

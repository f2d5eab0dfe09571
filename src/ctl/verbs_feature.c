/* verbs_feature.c — feature codes (*50 …): feature.* verbs, admin only.
 * Kept in SQLite (feature_codes) and applied at once: the table callqd
 * matches dialed numbers against is reloaded after every change. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <string.h>

/* The actions the feature_codes table allows (db/schema.sql). */
static const char *const feature_actions[] = { "login", "logout", "away", "ready", "pause",
	                                       "resume", "extend", "listen", "whisper", "barge" };

static bool v_feature_action_ok(const char *action)
{
	for (size_t i = 0; i < sizeof feature_actions / sizeof *feature_actions; i++)
		if (!strcmp(feature_actions[i], action))
			return true;
	return false;
}

/* 1 to 15 of 0-9 * #, as a phone dials them. */
static bool v_feature_code_ok(const char *code)
{
	size_t n = strlen(code);
	return n > 0 && n < sizeof(((struct store_feature *)0)->code) &&
	       strspn(code, "0123456789*#") == n;
}

static void v_features_reload(struct app *a)
{
	a->nfeatures = store_features(a->store, a->features, APP_FEATURES_MAX);
}

static void v_feature_list(struct vctx *v)
{
	for (size_t i = 0; i < v->app->nfeatures; i++) {
		struct ctl_out *o = v_row(v);
		ctl_out_kv(o, "code", v->app->features[i].code);
		ctl_out_kv(o, "action", v->app->features[i].action);
	}
	v_finish_rows(v);
}

static void v_feature_set(struct vctx *v)
{
	const char *code = ctl_word(v->req, 0), *action = ctl_get(v->req, "action");
	bool known = false;
	if (!code || !action) {
		v_err(v, "usage", "feature.set CODE action=ACTION");
		return;
	}
	if (!v_feature_code_ok(code)) {
		v_err(v, "invalid", "a code is 1 to 15 of 0-9, * and #");
		return;
	}
	if (!v_feature_action_ok(action)) {
		v_err(v, "invalid", "action must be login, logout, away, ready, pause, resume, extend, "
		                    "listen, whisper or barge");
		return;
	}
	if (engine_queue_by_number(v->app->engine, code)) {
		v_err(v, "exists", "%s is a queue's number", code);
		return;
	}
	for (size_t i = 0; i < v->app->nfeatures; i++)
		known |= !strcmp(v->app->features[i].code, code);
	if (!known && v->app->nfeatures >= APP_FEATURES_MAX) {
		v_err(v, "invalid", "at most %d feature codes", APP_FEATURES_MAX);
		return;
	}
	if (!v_store_ok(v, store_feature_put(v->app->store, code, action), code))
		return;
	v_features_reload(v->app);
	v_ok(v, "%s is %s", code, action);
}

static void v_feature_del(struct vctx *v)
{
	const char *code = ctl_word(v->req, 0);
	if (!code) {
		v_err(v, "usage", "feature.del CODE");
		return;
	}
	if (!v_store_ok(v, store_feature_del(v->app->store, code), code))
		return;
	v_features_reload(v->app);
	v_ok(v, "%s removed", code);
}

const struct verb verbs_feature[] = {
	{ "feature.list", NEED_ADMIN, v_feature_list, "feature.list" },
	{ "feature.set", NEED_ADMIN, v_feature_set, "feature.set CODE action=ACTION" },
	{ "feature.del", NEED_ADMIN, v_feature_del, "feature.del CODE" },
	{ NULL, NEED_NONE, NULL, NULL },
};

/* features.c — what the feature codes (*50…) do, and the prompt that confirms it.
 *
 * The codes themselves live in SQLite (feature_codes) and map to actions; this
 * file maps actions to engine transitions. Codes dialed during a call cannot
 * happen here (the phone is busy with this feature call), so every change
 * applies at once.
 */
#include <string.h>

#include "app/app.h"
#include "core/clock.h"
#include "core/log.h"

struct feature {
	const char *action;
	bool (*run)(engine_t *e, eng_ms now, eng_id m);
	const char *prompt;
};

static bool feature_away(engine_t *e, eng_ms now, eng_id m)
{
	return engine_agent_away(e, now, m, "");
}

static bool feature_pause(engine_t *e, eng_ms now, eng_id m)
{
	return engine_agent_pause(e, now, 0, m);
}

static bool feature_resume(engine_t *e, eng_ms now, eng_id m)
{
	return engine_agent_resume(e, now, 0, m);
}

static const struct feature features[] = {
	{ "login", engine_agent_login, "en/logged-in.wav" },
	{ "logout", engine_agent_logout, "en/logged-out.wav" },
	{ "away", feature_away, "en/away.wav" },
	{ "ready", engine_agent_ready, "en/ready.wav" },
	{ "pause", feature_pause, "en/paused.wav" },
	{ "resume", feature_resume, "en/resumed.wav" },
	{ "extend", engine_agent_extend, "en/extended.wav" },
};

const char *app_feature_run(struct app *a, eng_id m, const char *action, const char *arg)
{
	(void)arg;
	for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
		if (strcmp(features[i].action, action))
			continue;
		bool ok = m && features[i].run(a->engine, clock_mono_ms(), m);
		app_engine_done(a);
		return ok ? features[i].prompt : "en/denied.wav";
	}
	log_warn("app", "feature '%s' is not available in this version", action);
	return "en/denied.wav";
}

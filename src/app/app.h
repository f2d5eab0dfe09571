/* app.h — callqd's wiring: the engine and the adapters around it.
 *
 * Everything here runs on one thread, the Sofia su_root loop: SIP events,
 * control-socket lines, media events (through an eventfd) and the engine's
 * timer. So the engine needs no lock. After every engine transition the
 * caller runs app_engine_done(), which carries out the engine's actions
 * (SIP legs, media, journal, member state in SQLite) and re-arms the timer
 * for engine_next_deadline(). Only the media thread and the store's journal
 * writer run elsewhere, behind their own queues.
 */
#ifndef CALLQ_APP_H
#define CALLQ_APP_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "acd/engine.h"
#include "core/conf.h"
#include "media/media.h"
#include "store/store.h"

typedef struct sipua sipua_t;
typedef struct ctl_server ctl_server_t;

#define APP_FEATURES_MAX 32

struct app {
	struct conf conf;
	su_root_t *root;
	engine_t *engine;
	store_t *store;
	media_t *media;
	sipua_t *sip;
	ctl_server_t *ctl;
	su_timer_t *timer;
	int waits[2];              /* su_root registrations: media events, signals */
	int nwaits;
	struct store_feature features[APP_FEATURES_MAX];
	size_t nfeatures;
	bool stopping;
};

/* Monotonic milliseconds: the engine's clock. */
eng_ms app_now(void);
/* Wall-clock milliseconds, for the journal. */
int64_t app_wallclock_ms(void);
/* Carry out the engine's pending actions; re-arm its timer. */
void app_engine_done(struct app *a);
/* The feature-code action for what a phone dialed ("*50" -> "login"), or
 * NULL. For codes that take an extension (*57EXT) *arg points at it. */
const char *app_feature(const struct app *a, const char *dialed, const char **arg);
/* Carries out a feature-code action for member m; returns the prompt to play
 * (a path under the media folder, e.g. "en/logged-in.wav"). */
const char *app_feature_run(struct app *a, eng_id m, const char *action, const char *arg);
/* Persist a member's global and per-queue state after it changed. */
void app_save_member(struct app *a, eng_id member);

#endif

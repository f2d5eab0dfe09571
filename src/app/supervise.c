/* supervise.c — recordings and listen/whisper/barge, the app side.
 *
 * Recording: when a queue call is bridged and the queue or the answering
 * member has record=yes, the media engine records it (stereo, caller left,
 * agent right) and a row in SQLite names the file; the row is finished when
 * the media engine reports the end (done, or failed with the reason — a full
 * disk ends the recording, not the call). Voicemail uses the same rows.
 *
 * Spy: a manager or admin joins an agent's live call from their phone; a
 * manager only when the call itself is in a queue they manage (the agent
 * sharing some other queue with them is not enough).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "sip/sip.h"

void app_rec_name(char *out, size_t cap, const char *dir, const char *kind, const char *who,
                  eng_id call, time_t t, uint32_t seq)
{
	char stamp[32];
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	snprintf(out, cap, "%s/%s-%s-%s-%u-%u.wav", dir, kind, stamp, who, call, seq);
}

/* The sequence makes names unique within a run (two voicemails to one box in
 * the same second); starting it from the clock keeps a quick restart from
 * reusing a name, and the recorder never overwrites one (O_EXCL). */
static void app_rec_path(struct app *a, char *out, size_t cap, const char *kind, const char *who,
                         eng_id call)
{
	static uint32_t seq;
	if (!seq)
		seq = (uint32_t)(clock_wall_ms() % 1000000000);
	app_rec_name(out, cap, a->conf.recordings, kind, who, call, time(NULL), ++seq);
}

static void app_rec_track(struct app *a, uint32_t rec, struct store_recording *row)
{
	int64_t id = store_recording_add(a->store, row);
	if (id < 0) {
		log_error("store", "cannot note recording %s: %s", row->path, store_errmsg(a->store));
		return;
	}
	/* Ids are positive and small: the map stores them in the pointer. */
	idmap_put(&a->recordings, rec, (void *)(intptr_t)id);
}

void app_record_call(struct app *a, eng_id call, eng_id q, eng_id m, media_leg caller,
                     media_leg agent)
{
	struct eng_member_view mv;
	const struct eng_queue_conf *qc = engine_queue_conf(a->engine, q);
	if (!qc || !engine_member_view(a->engine, clock_mono_ms(), m, &mv) ||
	    !(qc->record || store_member_record(a->store, mv.login)))
		return;
	struct store_recording row = { .kind = STORE_REC_CALL, .call = call,
	                               .started_unix_ms = clock_wall_ms() };
	snprintf(row.queue, sizeof row.queue, "%s", qc->name);
	snprintf(row.member, sizeof row.member, "%s", mv.login);
	app_rec_path(a, row.path, sizeof row.path, qc->name, mv.login, call);
	uint32_t rec = media_record_start(a->media, caller, agent, row.path, a->conf.record_max_s);
	if (!rec) {
		log_error("app", "call %u: cannot start recording %s", call, row.path);
		return;
	}
	app_rec_track(a, rec, &row);
}

uint32_t app_record_voicemail(struct app *a, const char *box, media_leg leg)
{
	struct store_recording row = { .kind = STORE_REC_VOICEMAIL,
	                               .started_unix_ms = clock_wall_ms() };
	snprintf(row.member, sizeof row.member, "%s", box);
	app_rec_path(a, row.path, sizeof row.path, "voicemail", box, 0);
	uint32_t rec = media_leg_record(a->media, leg, row.path, a->conf.voicemail_max_s);
	if (rec)
		app_rec_track(a, rec, &row);
	else
		log_error("app", "voicemail for %s: cannot record %s", box, row.path);
	return rec;
}

void app_record_event(struct app *a, const struct media_event *ev)
{
	int64_t id = (int64_t)(intptr_t)idmap_del(&a->recordings, ev->record);
	bool ok = ev->kind == MEV_RECORD_DONE;
	if (!ok)
		log_error("app", "recording %u failed: %s", ev->record, ev->error);
	else if (ev->frames_dropped)
		log_warn("app", "recording %u: %u frames lost to a slow disk", ev->record,
		         ev->frames_dropped);
	if (id > 0 && store_recording_finish(a->store, id, ev->duration_ms, ok,
	                                     ok ? NULL : ev->error) != STORE_OK)
		log_error("store", "cannot finish recording row %lld", (long long)id);
}

bool app_may_supervise(const struct app *a, eng_id supervisor, eng_id agent)
{
	struct eng_member_view sv, av;
	struct eng_call_view cv;
	eng_ms now = clock_mono_ms();
	bool manager = false, active;
	if (!engine_member_view(a->engine, now, supervisor, &sv) || sv.role == ROLE_AGENT)
		return false;
	if (sv.role == ROLE_ADMIN)
		return true;
	return engine_member_view(a->engine, now, agent, &av) && av.call &&
	       engine_call_view(a->engine, now, av.call, &cv) &&
	       engine_is_member(a->engine, cv.queue, supervisor, &manager, &active) && manager;
}

bool app_spy(struct app *a, eng_id supervisor, const char *agent_login, media_leg listener,
             enum media_spy_mode mode)
{
	eng_id agent = engine_member_find(a->engine, agent_login);
	struct eng_member_view av;
	media_leg cm, am;
	if (!agent || !app_may_supervise(a, supervisor, agent) ||
	    !engine_member_view(a->engine, clock_mono_ms(), agent, &av) || av.activity != ACTV_ONCALL ||
	    !sipua_call_media(a->sip, av.call, &cm, &am))
		return false;
	log_info("app", "member %u joins the call of %s (mode %d)", supervisor, agent_login, mode);
	return media_spy(a->media, listener, cm, am, mode) == 0;
}

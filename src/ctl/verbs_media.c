/* verbs_media.c — supervision and media files: spy, recordings, media.import. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sip/sip.h"

static void v_spy(struct vctx *v)
{
	const char *agent = ctl_word(v->req, 0), *mode_s = ctl_get(v->req, "mode");
	const char *ring = ctl_word(v->req, 1) ? ctl_word(v->req, 1) : v->who->login;
	enum media_spy_mode mode = MEDIA_LISTEN;
	eng_id target = v_member(v, agent), me = v_self(v);
	if (!target)
		return;
	if (mode_s && !app_spy_mode(mode_s, &mode)) {
		v_err(v, "invalid", "mode must be listen, whisper or barge");
		return;
	}
	/* The supervisor is the connection's member; an admin on the local socket
	 * acts for the member whose phone rings. */
	if (!me && ring[0])
		me = engine_member_find(v->app->engine, ring);
	if (!me || !app_may_supervise(v->app, me, target)) {
		v_err(v, "denied", "not allowed to supervise %s", agent);
		return;
	}
	if (!ring[0] || sipua_spy_call(v->app->sip, me, ring, agent, mode) < 0) {
		v_err(v, "notfound", "%s has no registered phone", ring[0] ? ring : "(nobody)");
		return;
	}
	v_ok(v, "ringing %s to %s %s", ring, mode_s ? mode_s : "listen", agent);
}

static void v_recordings(struct vctx *v)
{
	static struct store_recording rows[500];
	const char *q = ctl_get(v->req, "queue"), *m = ctl_get(v->req, "agent");
	eng_id qid = q ? v_queue(v, q) : 0;
	if (q && !qid)
		return;
	if ((qid && !v_manages(v, qid)) || (!qid && v->who->role != ROLE_ADMIN && !m)) {
		v_err(v, "denied", "recordings of queues you manage only");
		return;
	}
	eng_id mid = m ? v_member(v, m) : 0;
	if (m && !mid)
		return;
	if (mid && !v_may_touch(v, mid)) {
		v_err(v, "denied", "not allowed to see recordings of %s", m);
		return;
	}
	static const char *const kinds[] = { "call", "voicemail" };
	static const char *const states[] = { "recording", "done", "failed" };
	size_t n = store_recordings(v->app->store, q, m, rows, 500);
	for (size_t i = 0; i < n; i++) {
		struct ctl_out *o = v_row(v);
		ctl_out_kvu(o, "id", (unsigned long long)rows[i].id);
		ctl_out_kv(o, "kind", kinds[rows[i].kind]);
		ctl_out_kvu(o, "call", rows[i].call);
		ctl_out_kv(o, "queue", rows[i].queue);
		ctl_out_kv(o, "agent", rows[i].member);
		ctl_out_kvu(o, "started", (unsigned long long)(rows[i].started_unix_ms / 1000));
		ctl_out_kvu(o, "duration", (unsigned long long)(rows[i].duration_ms / 1000));
		ctl_out_kv(o, "status", states[rows[i].status]);
		ctl_out_kv(o, "path", rows[i].path);
		ctl_out_kv(o, "error", rows[i].error);
	}
	v_finish_rows(v);
}

/* A name under the media folder: letters, digits, "_.-/", no "..", ends .wav. */
static bool v_media_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n < 5 || n > 200 || strcmp(name + n - 4, ".wav") || name[0] == '/' || strstr(name, ".."))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/") == n;
}

static void v_media_import(struct vctx *v)
{
	const char *src = ctl_word(v->req, 0), *name = ctl_word(v->req, 1);
	char dst[CONF_STR_MAX + 256], err[256];
	if (!src || !name) {
		v_err(v, "usage", "media.import SOURCE-FILE NAME.wav");
		return;
	}
	if (!v_media_name_ok(name)) {
		v_err(v, "invalid", "name must be a relative .wav path of letters, digits, _ . - /");
		return;
	}
	snprintf(dst, sizeof dst, "%s/%s", v->app->conf.media, name);
	if (media_import(src, dst, err, sizeof err) < 0 ||
	    media_reload(v->app->media, name, err, sizeof err) < 0) {
		v_err(v, "invalid", "%s", err);
		return;
	}
	log_info("ctl", "media %s imported from %s", name, src);
	v_ok(v, "%s imported; hold loops play it from their next pass", name);
}

const struct verb verbs_media[] = {
	{ "spy", NEED_MANAGER, v_spy, "spy AGENT mode=listen|whisper|barge [LOGIN]" },
	{ "recordings", NEED_AGENT, v_recordings, "recordings [queue=..] [agent=..]" },
	{ "media.import", NEED_ADMIN, v_media_import, "media.import SOURCE-FILE NAME.wav" },
	{ NULL, NEED_NONE, NULL, NULL },
};

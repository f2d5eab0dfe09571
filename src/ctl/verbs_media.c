/* verbs_media.c — supervision and media files: spy, recordings, media.import
 * (the import reads and converts files on a worker thread: struct vjob). */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sip/sip.h"

/* The supervisor's own phone rings; only an admin may name another LOGIN
 * (the local administrator, who is no member, must). */
static void v_spy(struct vctx *v)
{
	const char *agent = ctl_word(v->req, 0), *mode_s = ctl_get(v->req, "mode");
	const char *named = ctl_word(v->req, 1);
	const char *ring = named ? named : v->who->login;
	enum media_spy_mode mode = MEDIA_LISTEN;
	eng_id target = v_member(v, agent), me = v_self(v);
	if (!target)
		return;
	if (mode_s && !media_spy_mode_parse(mode_s, &mode)) {
		v_err(v, "invalid", "mode must be listen, whisper or barge");
		return;
	}
	if (named && v->who->role != ROLE_ADMIN && strcmp(named, v->who->login) != 0) {
		v_err(v, "denied", "only an admin may ring another member's phone");
		return;
	}
	/* An admin rings the named member's phone and acts for that member. */
	if (named && v->who->role == ROLE_ADMIN)
		me = engine_member_find(v->app->engine, named);
	if (!me || !app_may_supervise(v->app, me, target) ||
	    (me != v_self(v) && v->who->role != ROLE_ADMIN)) {
		v_err(v, "denied", "not allowed to supervise %s", agent);
		return;
	}
	if (!ring[0] || sipua_spy_call(v->app->sip, me, ring, agent, mode) < 0) {
		v_err(v, "notfound", "%s has no registered phone", ring[0] ? ring : "(nobody)");
		return;
	}
	v_ok(v, "ringing %s to %s %s", ring, mode_s ? mode_s : "listen", agent);
}

/* Who may see (and fetch over HTTP) a recording: an admin all, a member its
 * own, a manager those of the queues it manages. */
static bool v_may_see_recording(const struct vctx *v, const struct store_recording *r)
{
	eng_id rq = r->queue[0] ? engine_queue_find(v->app->engine, r->queue) : 0;
	return v->who->role == ROLE_ADMIN || (r->member[0] && !strcmp(r->member, v->who->login)) ||
	       (rq && v_manages(v, rq));
}

static void v_recording_row(struct vctx *v, const struct store_recording *r)
{
	static const char *const kinds[] = { "call", "voicemail" };
	static const char *const states[] = { "recording", "done", "failed" };
	struct ctl_out *o = v_row(v);
	ctl_out_kvu(o, "id", (unsigned long long)r->id);
	ctl_out_kv(o, "kind", kinds[r->kind]);
	ctl_out_kvu(o, "call", r->call);
	ctl_out_kv(o, "queue", r->queue);
	ctl_out_kv(o, "agent", r->member);
	ctl_out_kvu(o, "started", (unsigned long long)(r->started_unix_ms / 1000));
	ctl_out_kvu(o, "duration", (unsigned long long)(r->duration_ms / 1000));
	ctl_out_kv(o, "status", states[r->status]);
	ctl_out_kv(o, "path", r->path);
	ctl_out_kv(o, "error", r->error);
}

/* `recordings id=N`: the one row (GET /api/recording asks this way, so the
 * check above is the only one). */
static void v_recording_one(struct vctx *v, const char *id_s)
{
	struct store_recording r;
	char *end;
	long long id = strtoll(id_s, &end, 10);
	if (!id_s[0] || *end || id <= 0) {
		v_err(v, "invalid", "id must be a recording number");
		return;
	}
	if (!store_recording_get(v->app->store, id, &r)) {
		v_err(v, "notfound", "no recording %lld", id);
		return;
	}
	if (!v_may_see_recording(v, &r)) {
		v_err(v, "denied", "not allowed to see recording %lld", id);
		return;
	}
	v_recording_row(v, &r);
	v_finish_rows(v);
}

static void v_recordings(struct vctx *v)
{
	static struct store_recording rows[500];
	const char *q = ctl_get(v->req, "queue"), *m = ctl_get(v->req, "agent");
	const char *id = ctl_get(v->req, "id");
	if (id) {
		v_recording_one(v, id);
		return;
	}
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
	size_t n = store_recordings(v->app->store, q, m, rows, 500);
	for (size_t i = 0; i < n; i++)
		if (v_may_see_recording(v, &rows[i]))
			v_recording_row(v, &rows[i]);
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

struct vm_import {
	media_t *media;
	char src[CTL_LINE_MAX];
	char name[256];
	char dst[CONF_STR_MAX + 256];
};

/* Worker: convert, then reload (the clip table has its own lock). */
static void vm_import_run(struct vjob *j)
{
	struct vm_import *im = j->arg;
	if (media_import(im->src, im->dst, j->msg, sizeof j->msg) < 0 ||
	    media_reload(im->media, im->name, j->msg, sizeof j->msg) < 0)
		snprintf(j->code, sizeof j->code, "invalid");
}

static void vm_import_finish(struct vjob *j)
{
	struct vm_import *im = j->arg;
	if (j->code[0]) {
		v_err(&j->v, j->code, "%s", j->msg);
		return;
	}
	log_info("ctl", "media %s imported from %s", im->name, im->src);
	v_ok(&j->v, "%s imported; hold loops play it from their next pass", im->name);
}

static void v_media_import(struct vctx *v)
{
	const char *src = ctl_word(v->req, 0), *name = ctl_word(v->req, 1);
	if (!src || !name) {
		v_err(v, "usage", "media.import SOURCE-FILE NAME.wav");
		return;
	}
	if (!v_media_name_ok(name)) {
		v_err(v, "invalid", "name must be a relative .wav path of letters, digits, _ . - /");
		return;
	}
	struct vjob *j = v_job_new(v, sizeof(struct vm_import), false, vm_import_run,
	                           vm_import_finish);
	if (!j)
		return;
	struct vm_import *im = j->arg;
	im->media = v->app->media;
	snprintf(im->src, sizeof im->src, "%s", src);
	snprintf(im->name, sizeof im->name, "%s", name);
	snprintf(im->dst, sizeof im->dst, "%s/%s", v->app->conf.media, name);
	v_async(v, j);
}

const struct verb verbs_media[] = {
	{ "spy", NEED_MANAGER, v_spy, "spy AGENT mode=listen|whisper|barge [LOGIN]" },
	{ "recordings", NEED_AGENT, v_recordings, "recordings [queue=..] [agent=..] [id=..]" },
	{ "media.import", NEED_ADMIN, v_media_import, "media.import SOURCE-FILE NAME.wav" },
	{ NULL, NEED_NONE, NULL, NULL },
};

/* verbs_async.c — slow verbs on the worker threads (see struct vjob in
 * verbs_int.h), and ending the sessions of a member who lost rights. */
#include "ctl/verbs_int.h"
#include "core/clock.h"

#include <stdlib.h>
#include <string.h>

#include "ctl/events.h"

/* A reply of 256 KiB is thousands of rows, as for the verbs on the loop. */
#define VJOB_ROWS_MAX (256 * 1024)

struct vjob *v_job_new(struct vctx *v, size_t size, bool rows, void (*run)(struct vjob *j),
                       void (*finish)(struct vjob *j))
{
	struct vjob *j = calloc(1, sizeof *j + size);
	char *buf = rows ? malloc(VJOB_ROWS_MAX) : NULL;
	if (!j || (rows && !buf)) {
		free(j);
		free(buf);
		v_err(v, "internal", "out of memory");
		return NULL;
	}
	j->conn = ctl_conn_id(v->conn);
	j->v = (struct vctx){ .app = v->app, .now = v->now };
	ctl_out_init(&j->v.rows, buf, rows ? VJOB_ROWS_MAX : 0);
	j->run = run;
	j->finish = finish;
	j->rowbuf = buf;
	j->size = size;
	j->arg = j + 1;
	return j;
}

static void v_job_free(struct vjob *j)
{
	explicit_bzero(j->arg, j->size);
	free(j->rowbuf);
	free(j);
}

static void v_job_run(struct worker_job *w)
{
	struct vjob *j = (struct vjob *)w;
	j->run(j);
}

static void v_job_done(struct worker_job *w, bool cancelled)
{
	struct vjob *j = (struct vjob *)w;
	static struct session nobody;
	ctl_conn_t *c = cancelled ? NULL : ctl_server_conn(j->v.app->ctl, j->conn);
	if (!cancelled) {
		j->v.conn = c;
		j->v.who = c ? v_session(c) : NULL;
		if (!j->v.who) {
			j->v.conn = c = NULL;
			j->v.who = &nobody;
		}
		j->v.now = clock_mono_ms();
		j->finish(j);
		if (c && !j->v.replied)
			v_err(&j->v, "internal", "no reply");
		if (c)
			ctl_conn_resume(c);
	}
	v_job_free(j);
}

bool v_async(struct vctx *v, struct vjob *j)
{
	j->w.run = v_job_run;
	j->w.done = v_job_done;
	if (!worker_submit(v->app->worker, &j->w)) {
		v_job_free(j);
		v_err(v, "busy", "too many slow requests in progress, retry");
		return false;
	}
	ctl_conn_hold(v->conn);
	v->replied = true;
	return true;
}

struct v_ending {
	struct app *app;
	const char *login;
};

static void v_end_one(void *arg, ctl_conn_t *c)
{
	struct v_ending *e = arg;
	struct session *who = ctl_conn_user(c);
	if (!who || !who->authed || strcmp(who->login, e->login) != 0)
		return;
	events_unsubscribe(e->app->events, c);
	ctl_conn_end(c);
}

void v_end_sessions(struct vctx *v, const char *login)
{
	struct v_ending e = { v->app, login };
	if (login && login[0])
		ctl_server_each(v->app->ctl, v_end_one, &e);
}

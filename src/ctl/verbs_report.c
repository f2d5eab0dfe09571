/* verbs_report.c — supervision verbs: subscribe (the event stream), activity
 * (the past hour's agent activity) and report (performance indicators).
 * activity and report read the journal on a worker thread (struct vjob):
 * the checks and the engine lookups happen on the loop first.
 *
 * Who sees what: admins any queue and member; anyone else only the queues
 * they belong to (subscribe, activity), and for report the queues they manage
 * and the members they may act on (agents: themselves). In `activity` an
 * agent sees only its own lines unless the queue has show_agents=yes.
 */
#include "ctl/verbs_int.h"
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/events.h"
#include "report/report.h"

#define VR_QUEUES_MAX 1024
#define VR_WINDOW_DEFAULT_S 3600
/* A month of activity is more than anyone reads. */
#define VR_WINDOW_MAX_S (31 * 24 * 3600)
/* Activity lines per reply: 2000 lines of ~100 bytes fit the reply buffer. */
#define VR_ACTIVITY_LIMIT 1000
#define VR_ACTIVITY_LIMIT_MAX 2000

/* ---- subscribe ---- */

static size_t vr_my_queues(const struct vctx *v, eng_id *out, size_t max)
{
	eng_id all[VR_QUEUES_MAX];
	size_t n = engine_queue_ids(v->app->engine, all, VR_QUEUES_MAX), k = 0;
	for (size_t i = 0; i < n && k < max; i++)
		if (v_sees_queue(v, all[i]))
			out[k++] = all[i];
	return k;
}

/* Without queue names an admin follows every queue, including ones created
 * later; anyone else follows the queues they are in now. */
static void v_subscribe(struct vctx *v)
{
	static eng_id ids[VR_QUEUES_MAX];
	size_t n = 0;
	const char *name;
	for (int i = 0; (name = ctl_word(v->req, i)) != NULL; i++) {
		eng_id q = v_queue(v, name);
		if (!q)
			return;
		if (!v_sees_queue(v, q)) {
			v_err(v, "denied", "you are not a member of %s", name);
			return;
		}
		ids[n++] = q;
	}
	if (n == 0 && v->who->role != ROLE_ADMIN) {
		n = vr_my_queues(v, ids, VR_QUEUES_MAX);
		if (n == 0) {
			v_err(v, "denied", "you are a member of no queue");
			return;
		}
	}
	eng_id self = v->who->role == ROLE_AGENT ? v_self(v) : 0;
	if (events_subscribe(v->app->events, v->conn, ids, n, self) != 0) {
		v_err(v, "internal", "out of memory");
		return;
	}
	ctl_conn_set_streaming(v->conn, true);
	v_ok(v, "subscribed");
}

/* ---- shared ---- */

/* Worker side: the error of a failed report for j's reply; closes the database. */
static void vr_fail(struct vjob *j, struct report_db *r, int rc)
{
	if (rc == REPORT_TOO_LARGE) {
		snprintf(j->code, sizeof j->code, "busy");
		snprintf(j->msg, sizeof j->msg, "range too large");
	} else {
		snprintf(j->code, sizeof j->code, "internal");
		snprintf(j->msg, sizeof j->msg, "report: %s", report_errmsg(r));
	}
	report_close(r);
}

/* Loop side: the rows, or the worker's error. */
static void vr_finish(struct vjob *j)
{
	if (j->code[0])
		v_err(&j->v, j->code, "%s", j->msg);
	else
		v_finish_rows(&j->v);
}

/* A positive number from key=value, or `def` when absent. */
static bool vr_positive(struct vctx *v, const char *key, long def, long max, long *out)
{
	const char *s = ctl_get(v->req, key);
	char *end;
	*out = s ? strtol(s, &end, 10) : def;
	if (s && (*s == '\0' || *end != '\0' || *out < 1 || *out > max)) {
		v_err(v, "invalid", "%s must be 1-%ld", key, max);
		return false;
	}
	return true;
}

static void vr_iso_time(int64_t unix_ms, char *buf, size_t cap)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* ---- activity ---- */

struct vr_activity {
	char db[CONF_STR_MAX];
	char queue[ENG_NAME_MAX];
	char only[ENG_NAME_MAX];    /* show only this member's lines, or "" */
	int64_t from, to;
	unsigned limit;
	struct vjob *j;
};

static void vr_activity_row(void *ctx, const struct report_activity *a)
{
	struct vr_activity *act = ctx;
	char when[32];
	if (act->only[0] && strcmp(act->only, a->member) != 0)
		return;
	struct ctl_out *o = v_row(&act->j->v);
	vr_iso_time(a->t_ms, when, sizeof when);
	ctl_out_kv(o, "time", when);
	ctl_out_kv(o, "member", a->member);
	ctl_out_kv(o, "what", a->what);
	if (a->reason[0])
		ctl_out_kv(o, "reason", a->reason);
	if (a->call)
		ctl_out_kvu(o, "call", a->call);
	if (!strcmp(a->what, "answered"))
		ctl_out_kvu(o, "wait", (unsigned long long)(a->value / 1000));
	if (!strcmp(a->what, "ended"))
		ctl_out_kvu(o, "talk", (unsigned long long)(a->value / 1000));
}

static void vr_activity_run(struct vjob *j)
{
	struct vr_activity *act = j->arg;
	struct report_db r;
	act->j = j;
	if (report_open(&r, act->db) != REPORT_OK) {
		vr_fail(j, &r, REPORT_FAILED);
		return;
	}
	int rc = report_activity(&r, act->queue, act->from, act->to, act->limit, vr_activity_row, act);
	if (rc != REPORT_OK)
		vr_fail(j, &r, rc);
	else
		report_close(&r);
}

static void v_activity(struct vctx *v)
{
	const char *name = ctl_word(v->req, 0);
	eng_id q = v_queue(v, name);
	long window, limit;
	if (!q || !vr_positive(v, "window", VR_WINDOW_DEFAULT_S, VR_WINDOW_MAX_S, &window) ||
	    !vr_positive(v, "limit", VR_ACTIVITY_LIMIT, VR_ACTIVITY_LIMIT_MAX, &limit))
		return;
	if (!v_sees_queue(v, q)) {
		v_err(v, "denied", "you are not a member of %s", name);
		return;
	}
	const struct eng_queue_conf *qc = engine_queue_conf(v->app->engine, q);
	struct vjob *j = v_job_new(v, sizeof(struct vr_activity), true, vr_activity_run, vr_finish);
	if (!j)
		return;
	struct vr_activity *act = j->arg;
	snprintf(act->db, sizeof act->db, "%s", v->app->conf.db);
	snprintf(act->queue, sizeof act->queue, "%s", qc->name);
	if (v->who->role == ROLE_AGENT && !qc->show_agents)
		snprintf(act->only, sizeof act->only, "%s", v->who->login);
	act->to = clock_wall_ms() + 1;
	act->from = act->to - 1 - window * 1000;
	act->limit = (unsigned)limit;
	v_async(v, j);
}

/* ---- report ---- */

/* Adds one row for queue=NAME or agent=LOGIN, checking the caller may see it. */
static bool vr_subject(struct vctx *v, const struct ctl_arg *arg, struct report_row *rows, size_t *n)
{
	bool queue = !strcmp(arg->key, "queue");
	eng_id id = queue ? v_queue(v, arg->value) : v_member(v, arg->value);
	if (!id)
		return false;
	if (queue ? !v_manages(v, id) : !v_may_touch(v, id)) {
		v_err(v, "denied", "not allowed to report on %s", arg->value);
		return false;
	}
	if (*n == REPORT_ROWS_MAX) {
		v_err(v, "invalid", "at most %d queues and agents", REPORT_ROWS_MAX);
		return false;
	}
	memset(&rows[*n], 0, sizeof rows[*n]);
	rows[*n].kind = queue ? REPORT_QUEUE : REPORT_AGENT;
	snprintf(rows[*n].name, sizeof rows[*n].name, "%s", arg->value);
	(*n)++;
	return true;
}

static bool vr_subjects(struct vctx *v, struct report_row *rows, size_t *n)
{
	*n = 0;
	for (int i = 0; i < v->req->argc; i++) {
		const struct ctl_arg *a = &v->req->argv[i];
		if (a->key && (!strcmp(a->key, "queue") || !strcmp(a->key, "agent")) &&
		    !vr_subject(v, a, rows, n))
			return false;
	}
	return true;
}

/* from= (required) and to= (default now; never later than now). */
static bool vr_range(struct vctx *v, int64_t *from, int64_t *to)
{
	const char *f = ctl_get(v->req, "from"), *t = ctl_get(v->req, "to");
	int64_t now = clock_wall_ms();
	if (!f) {
		v_err(v, "usage", "report [queue=..]... [agent=..]... from=TIME [to=TIME] [format=csv]");
		return false;
	}
	if (!report_parse_time(f, from) || (t && !report_parse_time(t, to))) {
		v_err(v, "invalid", "from/to: unix seconds or YYYY-MM-DD[THH:MM[:SS]][Z]");
		return false;
	}
	if (!t || *to > now)
		*to = now;
	if (*from >= *to) {
		v_err(v, "invalid", "from must be before to (and before now)");
		return false;
	}
	return true;
}

struct vr_report {
	char db[CONF_STR_MAX];
	struct report_row rows[REPORT_ROWS_MAX];
	size_t n;                   /* 0: every queue and member (admins) */
	int64_t from, to;
	bool csv;
};

static void vr_row_kv(struct vctx *v, const struct report_row *row)
{
	struct ctl_out *o = v_row(v);
	unsigned occ = report_occupancy_permille(row);
	char pct[16];
	snprintf(pct, sizeof pct, "%u.%u", occ / 10, occ % 10);
	ctl_out_kv(o, "type", row->kind == REPORT_QUEUE ? "queue" : "agent");
	ctl_out_kv(o, "name", row->name);
	ctl_out_kvu(o, "offered", row->offered);
	ctl_out_kvu(o, "handled", row->handled);
	ctl_out_kvu(o, "missed", row->missed);
	if (row->kind == REPORT_QUEUE)
		ctl_out_kvu(o, "abandoned", row->abandoned);
	ctl_out_kvu(o, "avg_wait", (unsigned long long)(report_avg_wait_ms(row) / 1000));
	ctl_out_kvu(o, "max_wait", (unsigned long long)(row->max_wait_ms / 1000));
	ctl_out_kvu(o, "avg_talk", (unsigned long long)(report_avg_talk_ms(row) / 1000));
	ctl_out_kvu(o, "avg_recovery", (unsigned long long)(report_avg_recovery_ms(row) / 1000));
	ctl_out_kv(o, "occupancy", pct);
	ctl_out_kvu(o, "logged_in", (unsigned long long)(row->logged_in_ms / 1000));
	ctl_out_kvu(o, "away", (unsigned long long)(row->away_ms / 1000));
	if (row->kind == REPORT_QUEUE) {
		ctl_out_kvu(o, "callbacks_requested", row->cb_requested);
		ctl_out_kvu(o, "callbacks_attempted", row->cb_attempted);
		ctl_out_kvu(o, "callbacks_reached", row->cb_reached);
		ctl_out_kvu(o, "callbacks_failed", row->cb_failed);
	}
}

/* CSV: the reply's rows are the header line, then one CSV record per row. */
static void vr_rows_csv(struct vctx *v, const struct report_row *rows, size_t n)
{
	char line[CTL_LINE_MAX];
	report_csv_header(line, sizeof line);
	ctl_out_raw(v_row(v), line);
	for (size_t i = 0; i < n; i++) {
		report_csv_row(&rows[i], line, sizeof line);
		ctl_out_raw(v_row(v), line);
	}
}

static void vr_report_run(struct vjob *j)
{
	struct vr_report *rp = j->arg;
	struct report_db r;
	if (report_open(&r, rp->db) != REPORT_OK) {
		vr_fail(j, &r, REPORT_FAILED);
		return;
	}
	int rc = rp->n ? REPORT_OK : report_all_subjects(&r, rp->rows, REPORT_ROWS_MAX, &rp->n);
	if (rc == REPORT_OK)
		rc = report_run(&r, rp->from, rp->to, rp->rows, rp->n);
	if (rc != REPORT_OK) {
		vr_fail(j, &r, rc);
		return;
	}
	report_close(&r);
	if (rp->csv) {
		vr_rows_csv(&j->v, rp->rows, rp->n);
	} else {
		for (size_t i = 0; i < rp->n; i++)
			vr_row_kv(&j->v, &rp->rows[i]);
	}
}

static void v_report(struct vctx *v)
{
	static struct report_row rows[REPORT_ROWS_MAX];
	const char *format = ctl_get(v->req, "format");
	int64_t from, to;
	size_t n;
	if (format && strcmp(format, "csv") && strcmp(format, "rows")) {
		v_err(v, "invalid", "format must be csv or rows");
		return;
	}
	if (!vr_subjects(v, rows, &n) || !vr_range(v, &from, &to))
		return;
	if (n == 0 && v->who->role != ROLE_ADMIN) {
		v_err(v, "usage", "name the queue= or agent= to report on");
		return;
	}
	struct vjob *j = v_job_new(v, sizeof(struct vr_report), true, vr_report_run, vr_finish);
	if (!j)
		return;
	struct vr_report *rp = j->arg;
	snprintf(rp->db, sizeof rp->db, "%s", v->app->conf.db);
	memcpy(rp->rows, rows, n * sizeof rows[0]);
	rp->n = n;
	rp->from = from;
	rp->to = to;
	rp->csv = format && !strcmp(format, "csv");
	v_async(v, j);
}

const struct verb verbs_report[] = {
	{ "subscribe", NEED_AGENT, v_subscribe, "subscribe [QUEUE]..." },
	{ "activity", NEED_AGENT, v_activity, "activity QUEUE [window=SECONDS] [limit=N]" },
	{ "report", NEED_AGENT, v_report,
	  "report [queue=NAME]... [agent=LOGIN]... from=TIME [to=TIME] [format=csv|rows]" },
	{ NULL, NEED_NONE, NULL, NULL },
};

/* report.c — see report.h.
 *
 * A report is one forward pass over the journal rows in [from, to), replaying
 * every tracked member's state (logged in, away, paused per queue, talking,
 * in recovery) and accruing time to the rows between consecutive events. The
 * state at `from` comes from one backward scan before it. */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acd/engine.h"

/* SQLite calls the progress handler every this many VM steps: a few
 * microseconds apart, so the budget is kept to well under a millisecond. */
#define RP_PROGRESS_STEPS 1000

static int64_t rp_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rp_progress(void *arg)
{
	const struct report_db *r = arg;
	return rp_mono_ms() > r->deadline_ms;
}

int report_open(struct report_db *r, const char *path)
{
	memset(r, 0, sizeof *r);
	r->deadline_ms = rp_mono_ms() + REPORT_BUDGET_MS;
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(r->err, sizeof r->err, "%s: %s", path,
		         r->db ? sqlite3_errmsg(r->db) : "out of memory");
		sqlite3_close(r->db);
		r->db = NULL;
		return REPORT_FAILED;
	}
	/* The journal writer holds the write lock only briefly; a reader of a
	 * WAL database does not wait for it at all. */
	sqlite3_busy_timeout(r->db, REPORT_BUDGET_MS / 4);
	sqlite3_progress_handler(r->db, RP_PROGRESS_STEPS, rp_progress, r);
	return REPORT_OK;
}

void report_close(struct report_db *r)
{
	sqlite3_close(r->db);
	r->db = NULL;
}

const char *report_errmsg(const struct report_db *r)
{
	return r->err;
}

/* Maps a failed SQLite call to our result, keeping the message. */
static int rp_fail(struct report_db *r, int rc)
{
	if (rc == SQLITE_INTERRUPT) {
		snprintf(r->err, sizeof r->err, "range too large");
		return REPORT_TOO_LARGE;
	}
	snprintf(r->err, sizeof r->err, "%s", sqlite3_errmsg(r->db));
	return REPORT_FAILED;
}

static int rp_prepare(struct report_db *r, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? REPORT_OK : rp_fail(r, rc);
}

/* Ends a statement's loop: REPORT_OK if it ran to SQLITE_DONE. */
static int rp_finish(struct report_db *r, sqlite3_stmt *st, int rc)
{
	int out = rc == SQLITE_DONE ? REPORT_OK : rp_fail(r, rc);
	sqlite3_finalize(st);
	return out;
}

static const char *rp_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s ? (const char *)s : "";
}

static void rp_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- the replay ---- */

struct rp_agent {
	char login[REPORT_NAME_MAX];
	int row;                    /* its agent row, or -1 */
	uint64_t member_of;         /* queue rows it is a current member of */
	uint64_t paused;            /* of those, where it is paused */
	uint64_t pause_known;       /* resolved by the backward scan */
	bool state_known;
	bool in, ready, talking, recovering;
	int talk_q, rec_q;          /* queue row of the call / recovery, or -1 */
	int64_t rec_from;
};

/* Members tracked in one report: the rows' agents, the queues' members and
 * the agents seen handling those queues' calls. As many as there are: a
 * report that cannot track one fails (oom) rather than undercount. */
struct rp_run {
	struct report_db *r;
	struct report_row *rows;
	size_t nrows;
	struct rp_agent *agents;
	size_t nagents, cap;
	uint32_t *index;            /* by login: agents' index + 1, 0 = empty slot */
	size_t index_cap;           /* a power of two, at least twice nagents */
	bool oom;
	int64_t from, to, clock, run;
	struct report_zero_out zero;
};

struct rp_ev {
	int64_t t, run, value, call;
	const char *event, *queue, *member, *reason;
};

static int rp_queue_row(const struct rp_run *x, const char *name)
{
	for (size_t i = 0; name && i < x->nrows; i++)
		if (x->rows[i].kind == REPORT_QUEUE && strcmp(x->rows[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* FNV-1a: logins are short; the index is probed on every call event. */
static uint32_t rp_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct rp_agent *rp_agent_find(struct rp_run *x, const char *login)
{
	if (!login || !x->index_cap)
		return NULL;
	size_t mask = x->index_cap - 1;
	for (size_t i = rp_hash(login) & mask; x->index[i]; i = (i + 1) & mask)
		if (strcmp(x->agents[x->index[i] - 1].login, login) == 0)
			return &x->agents[x->index[i] - 1];
	return NULL;
}

static void rp_index_put(uint32_t *index, size_t cap, const struct rp_agent *agents, size_t k)
{
	size_t i = rp_hash(agents[k].login) & (cap - 1);
	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = (uint32_t)k + 1;
}

/* Room for one more member in the array and in the index (kept at most half
 * full, so probes stay short). */
static bool rp_agents_reserve(struct rp_run *x)
{
	if (x->nagents == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 32;
		struct rp_agent *grown = realloc(x->agents, cap * sizeof *grown);
		if (!grown)
			return false;
		x->agents = grown;
		x->cap = cap;
	}
	if ((x->nagents + 1) * 2 <= x->index_cap)
		return true;
	size_t cap = x->index_cap ? x->index_cap * 2 : 64;
	uint32_t *index = calloc(cap, sizeof *index);
	if (!index)
		return false;
	for (size_t k = 0; k < x->nagents; k++)
		rp_index_put(index, cap, x->agents, k);
	free(x->index);
	x->index = index;
	x->index_cap = cap;
	return true;
}

/* Finds or starts tracking a member (logged out until told otherwise); NULL
 * without a login, or out of memory, which fails the report. */
static struct rp_agent *rp_agent_get(struct rp_run *x, const char *login)
{
	struct rp_agent *a = rp_agent_find(x, login);
	if (a || !login)
		return a;
	if (!rp_agents_reserve(x)) {
		x->oom = true;
		return NULL;
	}
	a = &x->agents[x->nagents];
	memset(a, 0, sizeof *a);
	rp_copy(a->login, sizeof a->login, login);
	a->row = a->talk_q = a->rec_q = -1;
	rp_index_put(x->index, x->index_cap, x->agents, x->nagents++);
	return a;
}

static void rp_accrue(struct rp_run *x, const struct rp_agent *a, int64_t dt)
{
	if (a->row >= 0) {
		struct report_row *row = &x->rows[a->row];
		row->logged_in_ms += a->in ? dt : 0;
		row->away_ms += a->in && !a->ready ? dt : 0;
		row->busy_ms += a->talking || a->recovering ? dt : 0;
	}
	for (size_t q = 0; a->in && q < x->nrows; q++) {
		uint64_t bit = 1ULL << q;
		if (!(a->member_of & bit))
			continue;
		x->rows[q].logged_in_ms += dt;
		x->rows[q].away_ms += !a->ready || (a->paused & bit) ? dt : 0;
	}
	if (a->talking && a->talk_q >= 0)
		x->rows[a->talk_q].busy_ms += dt;
	else if (a->recovering && a->rec_q >= 0)
		x->rows[a->rec_q].busy_ms += dt;
}

static void rp_advance(struct rp_run *x, int64_t t)
{
	if (t <= x->clock)
		return;
	for (size_t i = 0; i < x->nagents; i++)
		rp_accrue(x, &x->agents[i], t - x->clock);
	x->clock = t;
}

/* callqd restarted at `at`: calls and recoveries did not survive it. */
static void rp_restart(struct rp_run *x, int64_t at)
{
	rp_advance(x, at);
	for (size_t i = 0; i < x->nagents; i++)
		x->agents[i].talking = x->agents[i].recovering = false;
}

static void rp_global_state(struct rp_agent *a, enum eng_event ev)
{
	a->in = ev != EV_AGENT_LOGOUT;
	a->ready = ev == EV_AGENT_LOGIN || ev == EV_AGENT_READY;
}

static void rp_pause_state(struct rp_agent *a, int q, enum eng_event ev)
{
	uint64_t bit = 1ULL << q;
	if (ev == EV_AGENT_PAUSE)
		a->paused |= bit;
	else
		a->paused &= ~bit;
}

static bool rp_event(const char *name, enum eng_event *out)
{
	static const enum eng_event known[] = {
		EV_CALL_ENTER, EV_CALL_REFUSED, EV_CALL_OFFER, EV_CALL_MISS, EV_CALL_ANSWER,
		EV_CALL_ABANDON, EV_CALL_TIMEOUT, EV_CALL_END, EV_AGENT_LOGIN, EV_AGENT_LOGOUT,
		EV_AGENT_READY, EV_AGENT_AWAY, EV_AGENT_PAUSE, EV_AGENT_RESUME, EV_RECOVERY_START,
		EV_RECOVERY_END, EV_CALL_ESCALATE, EV_CALL_TRANSFER, EV_CALLBACK_REQUEST,
		EV_CALLBACK_ATTEMPT, EV_CALLBACK_REACHED, EV_CALLBACK_FAILED,
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strcmp(engine_event_name(known[i]), name) == 0) {
			*out = known[i];
			return true;
		}
	}
	return false;
}

static bool rp_agent_event(enum eng_event ev)
{
	switch (ev) {
	case EV_AGENT_LOGIN:
	case EV_AGENT_LOGOUT:
	case EV_AGENT_READY:
	case EV_AGENT_AWAY:
	case EV_AGENT_PAUSE:
	case EV_AGENT_RESUME:
	case EV_RECOVERY_START:
	case EV_RECOVERY_END:
		return true;
	default:
		return false;
	}
}

static void rp_wait(struct report_row *row, int64_t wait)
{
	if (!row)
		return;
	row->handled++;
	row->waits++;
	row->wait_sum_ms += wait;
	if (row->sl_ms && wait <= row->sl_ms)
		row->answered_in_sl++;
	if (wait > row->max_wait_ms)
		row->max_wait_ms = wait;
}

static void rp_talk(struct report_row *row, int64_t talk)
{
	if (!row)
		return;
	row->talks++;
	row->talk_sum_ms += talk;
}

void report_count_call(struct report_row *qrow, struct report_zero_out *zero,
                       const struct report_call *e)
{
	/* A call.transfer after #0 or after an agent's talk (the agent transferred
	 * the call) follows the call's own abandon or end: not a miss. */
	if ((e->ev == EV_CALL_ABANDON && strcmp(e->reason, "zero_out") == 0) ||
	    e->ev == EV_CALL_END) {
		zero->call = e->call;
		zero->run = e->run;
	}
	if (!qrow)
		return;
	switch (e->ev) {
	case EV_CALL_ENTER:
	case EV_CALL_REFUSED:
		qrow->offered++;
		qrow->missed += e->ev == EV_CALL_REFUSED;
		break;
	case EV_CALL_MISS:
	case EV_CALL_TIMEOUT:
		qrow->missed++;
		break;
	case EV_CALL_ABANDON:
		qrow->abandoned += strcmp(e->reason, "operator") != 0;
		break;
	case EV_CALL_ESCALATE:
		/* Leaving for the escalation queue: missed here, unless the caller
		 * chose to (#0, already counted abandoned). */
		qrow->missed += strcmp(e->reason, "zero_out") != 0;
		break;
	case EV_CALL_TRANSFER:
		/* Sent out of the queues (escalation_dest, no skill): missed here;
		 * a #0 or agent's transfer follows an abandon or end of the call. */
		qrow->missed += !(e->call == zero->call && e->run == zero->run);
		break;
	case EV_CALL_ANSWER:
		rp_wait(qrow, e->value);
		break;
	case EV_CALL_END:
		rp_talk(qrow, e->value);
		break;
	case EV_CALLBACK_REQUEST:
		qrow->cb_requested++;
		break;
	case EV_CALLBACK_ATTEMPT:
		qrow->cb_attempted++;
		break;
	case EV_CALLBACK_REACHED:
		qrow->cb_reached++;
		break;
	case EV_CALLBACK_FAILED:
		qrow->cb_failed++;
		break;
	default:
		break;
	}
}

/* A call ends. One answered before `from` was never seen talking: its part
 * inside the range is busy time now. */
static void rp_call_end(struct rp_run *x, const struct rp_ev *e, struct rp_agent *a,
                        struct report_row *qr)
{
	struct report_row *ar = a && a->row >= 0 ? &x->rows[a->row] : NULL;
	int64_t before = 0;
	if (a && !a->talking)
		before = e->value < e->t - x->from ? e->value : e->t - x->from;
	if (qr)
		qr->busy_ms += before;
	if (ar)
		ar->busy_ms += before;
	rp_talk(ar, e->value);
	if (a)
		a->talking = false;
}

static void rp_recovery_end(struct rp_run *x, const struct rp_ev *e, struct rp_agent *a)
{
	struct report_row *ar = a->row >= 0 ? &x->rows[a->row] : NULL;
	if (!a->recovering) {
		/* Started before `from`: only its part inside the range counts. */
		if (ar)
			ar->busy_ms += e->t - x->from;
		return;
	}
	int64_t len = e->t - a->rec_from;
	a->recovering = false;
	for (int i = 0; i < 2; i++) {
		struct report_row *row = i == 0 ? ar : a->rec_q >= 0 ? &x->rows[a->rec_q] : NULL;
		if (row) {
			row->recoveries++;
			row->recovery_sum_ms += len;
		}
	}
}

/* Call events: the queue's counters (report_count_call), the agent's, and
 * the agent's talking state. */
static void rp_apply_call(struct rp_run *x, const struct rp_ev *e, enum eng_event ev, int q)
{
	struct report_row *qr = q >= 0 ? &x->rows[q] : NULL;
	struct rp_agent *a = qr ? rp_agent_get(x, e->member) : rp_agent_find(x, e->member);
	struct report_row *ar = a && a->row >= 0 ? &x->rows[a->row] : NULL;
	struct report_call c = { .ev = ev, .call = e->call, .run = e->run, .value = e->value,
	                         .reason = e->reason };
	report_count_call(qr, &x->zero, &c);
	switch (ev) {
	case EV_CALL_OFFER:
		if (ar)
			ar->offered++;
		break;
	case EV_CALL_MISS:
		if (ar)
			ar->missed++;
		break;
	case EV_CALL_ANSWER:
		rp_wait(ar, e->value);
		if (a) {
			a->talking = true;
			a->talk_q = q;
		}
		break;
	case EV_CALL_END:
		rp_call_end(x, e, a, qr);
		break;
	default:
		break;
	}
}

static void rp_apply_agent(struct rp_run *x, const struct rp_ev *e, enum eng_event ev, int q)
{
	struct rp_agent *a = ev == EV_RECOVERY_START && q >= 0 ? rp_agent_get(x, e->member)
	                                                       : rp_agent_find(x, e->member);
	if (!a)
		return;
	switch (ev) {
	case EV_AGENT_PAUSE:
	case EV_AGENT_RESUME:
		if (q >= 0)
			rp_pause_state(a, q, ev);
		break;
	case EV_RECOVERY_START:
		a->recovering = true;
		a->rec_q = q;
		a->rec_from = e->t;
		break;
	case EV_RECOVERY_END:
		rp_recovery_end(x, e, a);
		break;
	default:
		rp_global_state(a, ev);
		break;
	}
}

static void rp_apply(struct rp_run *x, const struct rp_ev *e)
{
	enum eng_event ev;
	if (!rp_event(e->event, &ev))
		return;
	if (x->run && e->run != x->run)
		rp_restart(x, e->run < e->t ? e->run : e->t);
	x->run = e->run;
	rp_advance(x, e->t);
	int q = e->queue[0] ? rp_queue_row(x, e->queue) : -1;
	if (rp_agent_event(ev))
		rp_apply_agent(x, e, ev, q);
	else
		rp_apply_call(x, e, ev, q);
}

/* ---- setting up ---- */

/* The current members of queue row q, with their active flag as the
 * fallback for their paused state. */
static int rp_queue_members(struct rp_run *x, int q)
{
	static const char sql[] =
		"SELECT m.login, qm.active FROM queue_members qm "
		"JOIN queues q ON q.id = qm.queue_id JOIN members m ON m.id = qm.member_id "
		"WHERE q.name = ?1 ORDER BY qm.rowid";
	sqlite3_stmt *st;
	int rc = rp_prepare(x->r, sql, &st);
	if (rc != REPORT_OK)
		return rc;
	sqlite3_bind_text(st, 1, x->rows[q].name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rp_agent *a = rp_agent_get(x, rp_text(st, 0));
		if (!a)
			continue;
		a->member_of |= 1ULL << q;
		if (!sqlite3_column_int(st, 1))
			a->paused |= 1ULL << q;
	}
	return rp_finish(x->r, st, rc);
}

/* Applies one state event met scanning backwards from `from`, if it is the
 * first (latest) one for that member (or member and queue). Returns how many
 * unknowns it resolved. */
static unsigned rp_resolve(struct rp_run *x, const char *member, const char *queue, const char *event)
{
	struct rp_agent *a = rp_agent_find(x, member);
	enum eng_event ev;
	if (!a || !rp_event(event, &ev))
		return 0;
	if (ev == EV_AGENT_PAUSE || ev == EV_AGENT_RESUME) {
		int q = rp_queue_row(x, queue);
		uint64_t bit = q >= 0 ? 1ULL << q : 0;
		if (!(a->member_of & bit) || (a->pause_known & bit))
			return 0;
		a->pause_known |= bit;
		rp_pause_state(a, q, ev);
		return 1;
	}
	if (a->state_known)
		return 0;
	a->state_known = true;
	rp_global_state(a, ev);
	return 1;
}

/* The state at `from`: the latest state event before it, per member and per
 * member and queue. Stops as soon as everything is known. */
static int rp_initial_state(struct rp_run *x)
{
	static const char sql[] =
		"SELECT member, queue, event FROM journal WHERE t_ms >= ?1 AND t_ms < ?2 "
		"AND member IS NOT NULL AND event IN ('agent.login', 'agent.logout', 'agent.ready', "
		"'agent.away', 'agent.pause', 'agent.resume') ORDER BY t_ms DESC, id DESC";
	unsigned unknown = 0;
	for (size_t i = 0; i < x->nagents; i++)
		unknown += 1 + (unsigned)__builtin_popcountll(x->agents[i].member_of);
	sqlite3_stmt *st;
	int rc = rp_prepare(x->r, sql, &st);
	if (rc != REPORT_OK)
		return rc;
	sqlite3_bind_int64(st, 1, x->from - REPORT_LOOKBACK_MS);
	sqlite3_bind_int64(st, 2, x->from);
	while (unknown > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		unknown -= rp_resolve(x, rp_text(st, 0), rp_text(st, 1), rp_text(st, 2));
	return rp_finish(x->r, st, unknown == 0 ? SQLITE_DONE : rc);
}

static int rp_replay(struct rp_run *x)
{
	static const char sql[] =
		"SELECT t_ms, run, event, queue, member, value, reason, call FROM journal "
		"WHERE t_ms >= ?1 AND t_ms < ?2 ORDER BY t_ms, id";
	sqlite3_stmt *st;
	int rc = rp_prepare(x->r, sql, &st);
	if (rc != REPORT_OK)
		return rc;
	sqlite3_bind_int64(st, 1, x->from);
	sqlite3_bind_int64(st, 2, x->to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rp_ev e = {
			.t = sqlite3_column_int64(st, 0),
			.run = sqlite3_column_int64(st, 1),
			.event = rp_text(st, 2),
			.queue = rp_text(st, 3),
			.member = rp_text(st, 4),
			.value = sqlite3_column_int64(st, 5),
			.reason = rp_text(st, 6),
			.call = sqlite3_column_int64(st, 7),
		};
		rp_apply(x, &e);
	}
	rc = rp_finish(x->r, st, rc);
	rp_advance(x, x->to);
	return rc;
}

int report_run(struct report_db *r, int64_t from_ms, int64_t to_ms, struct report_row *rows, size_t n)
{
	struct rp_run x = { .r = r, .rows = rows, .nrows = n, .from = from_ms, .to = to_ms,
	                    .clock = from_ms };
	int rc = REPORT_OK;
	if (n > REPORT_ROWS_MAX) {
		snprintf(r->err, sizeof r->err, "at most %d rows", REPORT_ROWS_MAX);
		return REPORT_FAILED;
	}
	for (size_t i = 0; i < n; i++) {
		struct report_row keep = rows[i];
		memset(&rows[i], 0, sizeof rows[i]);
		rows[i].kind = keep.kind;
		rows[i].sl_ms = keep.sl_ms;
		rp_copy(rows[i].name, sizeof rows[i].name, keep.name);
		struct rp_agent *a = keep.kind == REPORT_AGENT ? rp_agent_get(&x, keep.name) : NULL;
		if (a)
			a->row = (int)i;
	}
	for (size_t i = 0; rc == REPORT_OK && i < n; i++)
		if (rows[i].kind == REPORT_QUEUE)
			rc = rp_queue_members(&x, (int)i);
	if (rc == REPORT_OK)
		rc = rp_initial_state(&x);
	if (rc == REPORT_OK && to_ms > from_ms)
		rc = rp_replay(&x);
	if (rc == REPORT_OK && x.oom) {
		snprintf(r->err, sizeof r->err, "out of memory");
		rc = REPORT_FAILED;
	}
	free(x.agents);
	free(x.index);
	return rc;
}

int report_queue_window(struct report_db *r, const char *queue, int64_t from_ms, int64_t to_ms,
                        int64_t sl_ms, struct report_row *out)
{
	memset(out, 0, sizeof *out);
	out->kind = REPORT_QUEUE;
	out->sl_ms = sl_ms;
	rp_copy(out->name, sizeof out->name, queue);
	return report_run(r, from_ms, to_ms, out, 1);
}

int report_calls(struct report_db *r, int64_t from_ms, int64_t to_ms, report_call_fn fn, void *ctx)
{
	/* A coarse filter; report_count_call decides what each event counts. */
	static const char sql[] =
		"SELECT t_ms, run, event, queue, value, reason, call FROM journal "
		"WHERE t_ms >= ?1 AND t_ms < ?2 AND (event LIKE 'call.%' OR event LIKE 'callback.%') "
		"ORDER BY t_ms, id";
	sqlite3_stmt *st;
	int rc = rp_prepare(r, sql, &st);
	if (rc != REPORT_OK)
		return rc;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_call c = {
			.run = sqlite3_column_int64(st, 1),
			.value = sqlite3_column_int64(st, 4),
			.reason = rp_text(st, 5),
			.call = sqlite3_column_int64(st, 6),
		};
		if (rp_event(rp_text(st, 2), &c.ev))
			fn(ctx, sqlite3_column_int64(st, 0), rp_text(st, 3), &c);
	}
	return rp_finish(r, st, rc);
}

static int rp_subjects(struct report_db *r, const char *sql, enum report_kind kind,
                       struct report_row *rows, size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int rc = rp_prepare(r, sql, &st);
	if (rc != REPORT_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		memset(&rows[*n], 0, sizeof rows[*n]);
		rows[*n].kind = kind;
		rp_copy(rows[*n].name, sizeof rows[*n].name, rp_text(st, 0));
		(*n)++;
	}
	return rp_finish(r, st, rc == SQLITE_ROW ? SQLITE_DONE : rc);
}

int report_all_subjects(struct report_db *r, struct report_row *rows, size_t max, size_t *n)
{
	*n = 0;
	int rc = rp_subjects(r, "SELECT name FROM queues ORDER BY id", REPORT_QUEUE, rows, max, n);
	if (rc == REPORT_OK)
		rc = rp_subjects(r,
		                 "SELECT login FROM members WHERE id IN "
		                 "(SELECT member_id FROM queue_members) ORDER BY id",
		                 REPORT_AGENT, rows, max, n);
	return rc;
}

/* ---- derived values and CSV ---- */

static int64_t rp_mean(int64_t sum, unsigned n)
{
	return n ? sum / n : 0;
}

int64_t report_avg_wait_ms(const struct report_row *row)
{
	return rp_mean(row->wait_sum_ms, row->waits);
}

int64_t report_avg_talk_ms(const struct report_row *row)
{
	return rp_mean(row->talk_sum_ms, row->talks);
}

int64_t report_avg_recovery_ms(const struct report_row *row)
{
	return rp_mean(row->recovery_sum_ms, row->recoveries);
}

unsigned report_occupancy_permille(const struct report_row *row)
{
	if (row->logged_in_ms <= 0)
		return 0;
	return (unsigned)((row->busy_ms * 1000 + row->logged_in_ms / 2) / row->logged_in_ms);
}

/* Appends one RFC 4180 field: quoted (quotes doubled) when it holds a comma,
 * a quote or a line break; line breaks become spaces, since a reply line is
 * one record. */
static bool rp_csv_field(char *buf, size_t cap, size_t *len, const char *s, bool first)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	size_t need = !first + (quote ? 2 : 0);
	for (const char *p = s; *p; p++)
		need += *p == '"' ? 2 : 1;
	if (*len + need >= cap)
		return false;
	char *o = buf + *len;
	if (!first)
		*o++ = ',';
	if (quote)
		*o++ = '"';
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			*o++ = '"';
		*o++ = *p == '\r' || *p == '\n' ? ' ' : *p;
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	*len = (size_t)(o - buf);
	return true;
}

static const char *const rp_columns[] = {
	"type", "name", "offered", "handled", "missed", "abandoned", "avg_wait", "max_wait",
	"avg_talk", "avg_recovery", "occupancy", "logged_in", "away",
	/* Added later: at the end, so readers of the first columns are not broken. */
	"callbacks_requested", "callbacks_attempted", "callbacks_reached", "callbacks_failed",
};
#define RP_NCOLUMNS (sizeof rp_columns / sizeof rp_columns[0])

bool report_csv_header(char *buf, size_t cap)
{
	size_t len = 0;
	for (size_t i = 0; i < RP_NCOLUMNS; i++)
		if (!rp_csv_field(buf, cap, &len, rp_columns[i], i == 0))
			return false;
	return true;
}

/* The four callback columns: queue rows only, empty for agents (as abandoned). */
static void rp_csv_callbacks(const struct report_row *row, char cells[4][32])
{
	const unsigned v[4] = { row->cb_requested, row->cb_attempted, row->cb_reached, row->cb_failed };
	for (int i = 0; i < 4; i++) {
		if (row->kind == REPORT_QUEUE)
			snprintf(cells[i], sizeof cells[i], "%u", v[i]);
		else
			cells[i][0] = '\0';
	}
}

bool report_csv_row(const struct report_row *row, char *buf, size_t cap)
{
	char cells[RP_NCOLUMNS][32];
	unsigned occ = report_occupancy_permille(row);
	snprintf(cells[0], sizeof cells[0], "%s", row->kind == REPORT_QUEUE ? "queue" : "agent");
	snprintf(cells[2], sizeof cells[2], "%u", row->offered);
	snprintf(cells[3], sizeof cells[3], "%u", row->handled);
	snprintf(cells[4], sizeof cells[4], "%u", row->missed);
	if (row->kind == REPORT_QUEUE)
		snprintf(cells[5], sizeof cells[5], "%u", row->abandoned);
	else
		cells[5][0] = '\0';
	snprintf(cells[6], sizeof cells[6], "%lld", (long long)(report_avg_wait_ms(row) / 1000));
	snprintf(cells[7], sizeof cells[7], "%lld", (long long)(row->max_wait_ms / 1000));
	snprintf(cells[8], sizeof cells[8], "%lld", (long long)(report_avg_talk_ms(row) / 1000));
	snprintf(cells[9], sizeof cells[9], "%lld", (long long)(report_avg_recovery_ms(row) / 1000));
	snprintf(cells[10], sizeof cells[10], "%u.%u", occ / 10, occ % 10);
	snprintf(cells[11], sizeof cells[11], "%lld", (long long)(row->logged_in_ms / 1000));
	snprintf(cells[12], sizeof cells[12], "%lld", (long long)(row->away_ms / 1000));
	rp_csv_callbacks(row, cells + 13);
	size_t len = 0;
	for (size_t i = 0; i < RP_NCOLUMNS; i++)
		if (!rp_csv_field(buf, cap, &len, i == 1 ? row->name : cells[i], i == 0))
			return false;
	return true;
}

/* ---- activity ---- */

static const char *rp_activity_what(const char *event)
{
	static const struct { enum eng_event ev; const char *what; } names[] = {
		{ EV_AGENT_LOGIN, "login" },       { EV_AGENT_LOGOUT, "logout" },
		{ EV_AGENT_READY, "ready" },       { EV_AGENT_AWAY, "away" },
		{ EV_AGENT_PAUSE, "pause" },       { EV_AGENT_RESUME, "resume" },
		{ EV_CALL_OFFER, "offer" },        { EV_CALL_MISS, "missed" },
		{ EV_CALL_ANSWER, "answered" },    { EV_CALL_END, "ended" },
		{ EV_RECOVERY_START, "recovery" }, { EV_RECOVERY_END, "recovery_end" },
	};
	enum eng_event ev;
	if (!rp_event(event, &ev))
		return NULL;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].ev == ev)
			return names[i].what;
	return NULL;
}

int report_activity(struct report_db *r, const char *queue, int64_t from_ms, int64_t to_ms,
                    unsigned limit, report_activity_fn fn, void *ctx)
{
	static const char sql[] =
		"SELECT t_ms, event, call, member, value, reason FROM ("
		" SELECT id, t_ms, event, call, member, value, reason FROM journal"
		" WHERE t_ms >= ?1 AND t_ms < ?2 AND member IS NOT NULL AND (queue = ?3 OR"
		"  (queue IS NULL AND member IN (SELECT m.login FROM members m"
		"   JOIN queue_members qm ON qm.member_id = m.id JOIN queues q ON q.id = qm.queue_id"
		"   WHERE q.name = ?3)))"
		" ORDER BY t_ms DESC, id DESC LIMIT ?4) ORDER BY t_ms, id";
	sqlite3_stmt *st;
	int rc = rp_prepare(r, sql, &st);
	if (rc != REPORT_OK)
		return rc;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	sqlite3_bind_text(st, 3, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_activity a = {
			.t_ms = sqlite3_column_int64(st, 0),
			.what = rp_activity_what(rp_text(st, 1)),
			.call = (uint32_t)sqlite3_column_int64(st, 2),
			.member = rp_text(st, 3),
			.value = sqlite3_column_int64(st, 4),
			.reason = rp_text(st, 5),
		};
		if (a.what)
			fn(ctx, &a);
	}
	return rp_finish(r, st, rc);
}

/* ---- time ---- */

static bool rp_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool report_parse_time(const char *s, int64_t *unix_ms)
{
	struct tm tm = { .tm_isdst = -1 };
	int end = 0, hh = 0, mm = 0, ss = 0;
	if (!s)
		return false;
	if (rp_all_digits(s)) {
		*unix_ms = strtoll(s, NULL, 10) * 1000;
		return true;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &end) != 3 || end != 10)
		return false;
	s += end;
	if (*s == 'T' && sscanf(s, "T%2d:%2d%n", &hh, &mm, &end) == 2 && end == 6) {
		s += end;
		if (*s == ':' && sscanf(s, ":%2d%n", &ss, &end) == 1 && end == 3)
			s += end;
	}
	bool utc = *s == 'Z';
	if (s[utc] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    hh > 23 || mm > 59 || ss > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	time_t t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return false;
	*unix_ms = (int64_t)t * 1000;
	return true;
}

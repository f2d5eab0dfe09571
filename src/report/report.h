/* report.h — performance indicators and the activity log, computed from the
 * journal (SQLite table `journal`, written by the store's batching thread),
 * so they survive a restart of callqd.
 *
 * Each request opens its own read-only connection (report_open) whose
 * statements are interrupted after REPORT_BUDGET_MS: reports run on a
 * control worker thread (ctl/worker.h), and a huge range must still fail
 * fast ("range too large") instead of holding a worker. Everything is over a half-open range [from, to) of wall
 * clock milliseconds; `to` must not be in the future (callers clip it to
 * now), because states still open at `to` are counted up to `to`.
 *
 * Metrics — one definition each. "Agent" rows describe one member, "queue"
 * rows one queue; an event counts when its time is in [from, to).
 *
 *  offered      queue: calls that arrived (call.enter + call.refused).
 *               agent: offers rung to the agent (call.offer), re-offers included.
 *  handled      calls answered (call.answer) in the queue / by the agent.
 *  missed       queue: offers not answered (call.miss) + calls that reached the
 *               queue timeout (call.timeout) + calls refused by the call limit
 *               or an empty queue (call.refused) — the `stats` counter.
 *               agent: offers to the agent not answered (call.miss).
 *  abandoned    queue only: callers who hung up before an answer, or left with
 *               #0 (call.abandon, except reason "operator": a call.hangup by a
 *               manager counts nowhere).
 *  avg_wait     mean wait (entry to answer) of the handled calls.
 *  max_wait     longest such wait; the guide's "longest waiting" (it changes
 *               only when a call is delivered).
 *  avg_talk     mean talk time of the calls that ended (call.end).
 *  avg_recovery mean length of the recovery periods that started and ended in
 *               the range (queue rows: started by that queue's calls).
 *  logged_in    agent: time logged in. queue: the sum over its current members.
 *  away         agent: time logged in and globally away. queue: the sum over
 *               its current members of time logged in and away or paused here
 *               (the `stats` away rule, as time).
 *  occupancy    (talk time + recovery time) / logged_in, in percent; talk and
 *               recovery are the parts of those periods inside the range
 *               (queue rows: of that queue's calls, by any agent).
 *
 * State at `from` (logged in, away, paused) is the last state event of the
 * REPORT_LOOKBACK_MS before it; with none, the member counts as logged out and
 * as active or paused per its current queue membership. A restart of callqd
 * ends talk and recovery periods at the restart (the journal's `run`); the
 * logged-in, away and paused states carry over, as the daemon restores them.
 */
#ifndef CALLQ_REPORT_H
#define CALLQ_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "acd/engine.h"

#define REPORT_BUDGET_MS 200
#define REPORT_LOOKBACK_MS (7LL * 24 * 3600 * 1000)
#define REPORT_NAME_MAX 64
/* Rows side by side in one report; 64 fits the queue bit masks inside. */
#define REPORT_ROWS_MAX 64

enum report_rc {
	REPORT_OK = 0,
	REPORT_FAILED = -1,     /* SQLite error: report_errmsg */
	REPORT_TOO_LARGE = -2,  /* the time budget ran out */
};

struct report_db {
	sqlite3 *db;
	int64_t deadline_ms;    /* monotonic */
	char err[128];
};

enum report_kind { REPORT_QUEUE, REPORT_AGENT };

struct report_row {
	enum report_kind kind;
	char name[REPORT_NAME_MAX];
	unsigned offered, handled, missed, abandoned;
	unsigned waits, talks, recoveries;
	int64_t wait_sum_ms, max_wait_ms, talk_sum_ms, recovery_sum_ms;
	int64_t busy_ms, logged_in_ms, away_ms;
	int64_t sl_ms;              /* in: service-level threshold, 0 = none */
	unsigned answered_in_sl;    /* handled calls whose wait was at most sl_ms */
	/* Queue rows: callbacks requested (callback.request), attempted (each
	 * dial of the customer: callback.attempt),
	 * reached (the customer answered: callback.reached) and failed (given
	 * up: retries used up, outside the hours with callback_outside=drop, or
	 * cancelled by a manager: callback.failed). */
	unsigned cb_requested, cb_attempted, cb_reached, cb_failed;
};

/* Opens `path` read-only; the budget starts now. 0 or REPORT_FAILED. */
int report_open(struct report_db *r, const char *path);
void report_close(struct report_db *r);
const char *report_errmsg(const struct report_db *r);

/* Fills rows[0..n) whose kind and name are set. Names are matched against
 * the journal's text, not checked here: a deleted queue's history still
 * reports (the verbs accept only names that exist now, to catch typos). */
int report_run(struct report_db *r, int64_t from_ms, int64_t to_ms, struct report_row *rows, size_t n);
/* One queue row over [from, to): the journal's answer to what the rolling
 * `stats` counters (report/window.h) keep without reading it. */
int report_queue_window(struct report_db *r, const char *queue, int64_t from_ms, int64_t to_ms,
                        int64_t sl_ms, struct report_row *out);
/* Every queue, then every member assigned to a queue, in creation order. */
int report_all_subjects(struct report_db *r, struct report_row *rows, size_t max, size_t *n);

/* One call event (call.enter ... call.end), as the counters read it. */
struct report_call {
	enum eng_event ev;
	int64_t call, run;          /* call id, and the run of callqd it belongs to */
	int64_t value;              /* see enum eng_event */
	const char *reason;         /* "" if none */
};

/* The last call that left with #0 or whose talk ended (zero: none yet): a
 * call.transfer that follows (#0, or the agent transferred the call) is not a
 * miss. Tracked over every queue's events. */
struct report_zero_out {
	int64_t call, run;
};

/* The one definition of a queue row's call counters — offered, handled,
 * missed, abandoned, waits, wait_sum_ms, max_wait_ms, answered_in_sl (against
 * qrow->sl_ms), talks, talk_sum_ms — as listed above: adds event e to qrow.
 * qrow is NULL for an event of a queue not counted; *zero is kept up to date
 * either way. Reports and the rolling `stats` counters (report/window.h)
 * both count through here. */
void report_count_call(struct report_row *qrow, struct report_zero_out *zero,
                       const struct report_call *e);

/* Calls fn for every call event of [from, to), in journal order, with its
 * wall-clock time and queue name ("" if none). */
typedef void (*report_call_fn)(void *ctx, int64_t t_ms, const char *queue,
                               const struct report_call *e);
int report_calls(struct report_db *r, int64_t from_ms, int64_t to_ms, report_call_fn fn, void *ctx);

/* Derived values, in milliseconds (0 when there is nothing to average). */
int64_t report_avg_wait_ms(const struct report_row *row);
int64_t report_avg_talk_ms(const struct report_row *row);
int64_t report_avg_recovery_ms(const struct report_row *row);
/* Occupancy in tenths of a percent. */
unsigned report_occupancy_permille(const struct report_row *row);

/* CSV (RFC 4180): the header line and one line per row, without line end.
 * Times in whole seconds, occupancy in percent with one decimal. Returns
 * false if it did not fit. */
bool report_csv_header(char *buf, size_t cap);
bool report_csv_row(const struct report_row *row, char *buf, size_t cap);

/* The activity log: agent events of a queue's members (those naming the
 * queue, and queue-less ones: login, logout, ready, away, recovery end), the
 * newest `limit` in [from, to), oldest first. `what` is one of login logout
 * ready away pause resume offer missed answered ended recovery recovery_end. */
struct report_activity {
	int64_t t_ms;
	const char *member, *what, *reason;
	uint32_t call;
	int64_t value;
};
typedef void (*report_activity_fn)(void *ctx, const struct report_activity *a);
int report_activity(struct report_db *r, const char *queue, int64_t from_ms, int64_t to_ms,
                    unsigned limit, report_activity_fn fn, void *ctx);

/* "1764151200" (unix seconds) or ISO 8601 "2026-11-26", "2026-11-26T10:00",
 * "2026-11-26T10:00:30", each optionally ending in "Z" (UTC; local time
 * otherwise). Returns false for anything else. */
bool report_parse_time(const char *s, int64_t *unix_ms);

#endif

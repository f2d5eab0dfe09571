/* test_report.c — performance indicators and the activity log computed from a
 * journal filled with a known schedule (the real schema, made by store_open). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "report/report.h"
#include "store/store.h"

#define T0 1700000000000LL        /* `from` of the reports below */
#define HOUR 3600000LL
#define RUN1 (T0 - 3600000LL)

struct fx {
	char dir[64];
	char path[96];
	sqlite3 *db;
	int64_t run;
};

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/callq-rp-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/callq.db", f->dir);
	store_t *s = store_open(f->path, err, sizeof err);
	if (!s) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	store_close(s);
	if (sqlite3_open(f->path, &f->db) != SQLITE_OK)
		return -1;
	exec(f->db, "INSERT INTO queues (id, name, number) VALUES (1, 'support', '6000'), "
	            "(2, 'sales', '6001');"
	            "INSERT INTO members (id, login, role) VALUES (1, '1001', 'agent'), "
	            "(2, '1002', 'agent'), (3, '1003', 'agent');"
	            "INSERT INTO queue_members (queue_id, member_id, active) VALUES "
	            "(1, 1, 1), (1, 2, 1), (2, 2, 1), (2, 3, 0);");
	f->run = RUN1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];
	sqlite3_close(f->db);
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One journal row at T0 + s seconds; "" and 0 are stored as NULL like the store does. */
static void ev(struct fx *f, double s, const char *event, int call, const char *queue,
               const char *member, long long value, const char *reason)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(f->db,
	                                    "INSERT INTO journal (t_ms, run, event, call, queue, member, "
	                                    "value, reason) VALUES (?1, ?2, ?3, nullif(?4, 0), "
	                                    "nullif(?5, ''), nullif(?6, ''), ?7, nullif(?8, ''))",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, T0 + (int64_t)(s * 1000));
	sqlite3_bind_int64(st, 2, f->run);
	sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, call);
	sqlite3_bind_text(st, 5, queue, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, member, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, value);
	sqlite3_bind_text(st, 8, reason, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* The known schedule, in seconds from T0 (see the expected numbers below). */
static void schedule(struct fx *f)
{
	ev(f, -600, "agent.login", 0, "", "1001", 0, "");
	ev(f, -300, "agent.login", 0, "", "1002", 0, "");
	ev(f, -200, "agent.pause", 0, "support", "1002", 0, "");
	ev(f, -50, "call.answer", 100, "support", "1001", 7000, "");   /* before the range */
	ev(f, 5, "call.end", 100, "support", "1001", 55000, "");
	ev(f, 10, "call.enter", 1, "support", "", 0, "");
	ev(f, 10, "call.offer", 1, "support", "1001", 0, "");
	ev(f, 20, "agent.resume", 0, "support", "1002", 0, "");
	ev(f, 25, "call.miss", 1, "support", "1001", 0, "timeout");
	ev(f, 25, "call.offer", 1, "support", "1002", 0, "");
	ev(f, 30, "call.answer", 1, "support", "1002", 20000, "");
	ev(f, 90, "call.end", 1, "support", "1002", 60000, "");
	ev(f, 90, "agent.recovery_start", 0, "support", "1002", 0, "");
	ev(f, 100, "agent.recovery_end", 0, "", "1002", 0, "");
	ev(f, 200, "call.enter", 2, "support", "", 0, "");
	ev(f, 200, "call.offer", 2, "support", "1001", 0, "");
	ev(f, 205, "call.answer", 2, "support", "1001", 5000, "");
	ev(f, 305, "call.end", 2, "support", "1001", 100000, "");
	ev(f, 305, "agent.recovery_start", 0, "support", "1001", 0, "");
	ev(f, 335, "agent.recovery_end", 0, "", "1001", 0, "");
	ev(f, 400, "call.enter", 3, "support", "", 0, "");
	ev(f, 430, "call.abandon", 3, "support", "", 0, "waiting");
	ev(f, 500, "call.enter", 4, "support", "", 0, "");
	ev(f, 510, "call.abandon", 4, "support", "", 0, "operator");
	ev(f, 600, "call.refused", 5, "support", "", 0, "limit");
	ev(f, 700, "agent.away", 0, "", "1001", 0, "lunch");
	ev(f, 1000, "agent.ready", 0, "", "1001", 0, "");
	ev(f, 1200, "agent.logout", 0, "", "1002", 0, "");
	ev(f, 1300, "call.enter", 6, "support", "", 0, "");
	ev(f, 1300, "call.offer", 6, "support", "1001", 0, "");
	ev(f, 1302, "call.answer", 6, "support", "1001", 2000, "");
	ev(f, 3700, "call.end", 6, "support", "1001", 2398000, "");    /* after the range */
}

static void row_init(struct report_row *r, enum report_kind kind, const char *name)
{
	memset(r, 0, sizeof *r);
	r->kind = kind;
	snprintf(r->name, sizeof r->name, "%s", name);
}

static void run_report(struct fx *f, struct report_row *rows, size_t n, int64_t from, int64_t to)
{
	struct report_db r;
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	assert_int_equal(report_run(&r, from, to, rows, n), REPORT_OK);
	report_close(&r);
}

static void test_queue_and_agents(void **state)
{
	struct fx *f = *state;
	struct report_row rows[3];
	schedule(f);
	row_init(&rows[0], REPORT_QUEUE, "support");
	row_init(&rows[1], REPORT_AGENT, "1001");
	row_init(&rows[2], REPORT_AGENT, "1002");
	run_report(f, rows, 3, T0, T0 + HOUR);

	const struct report_row *q = &rows[0], *a = &rows[1], *b = &rows[2];
	assert_int_equal(q->offered, 6);     /* enter 1,2,3,4,6 + refused 5 */
	assert_int_equal(q->handled, 3);
	assert_int_equal(q->missed, 2);      /* one miss, one refusal */
	assert_int_equal(q->abandoned, 1);   /* the operator hang-up is not one */
	assert_int_equal(report_avg_wait_ms(q), 9000);
	assert_int_equal(q->max_wait_ms, 20000);
	assert_int_equal(report_avg_talk_ms(q), 71666);
	assert_int_equal(report_avg_recovery_ms(q), 20000);
	assert_int_equal(q->logged_in_ms, (3600 + 1200) * 1000LL);
	assert_int_equal(q->away_ms, (300 + 20) * 1000LL);
	/* 5 s of call 100, 60 + 100 + 2298 s of talk, 10 + 30 s of recovery */
	assert_int_equal(q->busy_ms, 2503 * 1000LL);
	assert_int_equal(report_occupancy_permille(q), 521);

	assert_int_equal(a->offered, 3);
	assert_int_equal(a->handled, 2);
	assert_int_equal(a->missed, 1);
	assert_int_equal(report_avg_wait_ms(a), 3500);
	assert_int_equal(a->max_wait_ms, 5000);
	assert_int_equal(report_avg_talk_ms(a), 77500);
	assert_int_equal(report_avg_recovery_ms(a), 30000);
	assert_int_equal(a->logged_in_ms, 3600 * 1000LL);
	assert_int_equal(a->away_ms, 300 * 1000LL);
	assert_int_equal(a->busy_ms, 2433 * 1000LL);

	assert_int_equal(b->offered, 1);
	assert_int_equal(b->handled, 1);
	assert_int_equal(b->missed, 0);
	assert_int_equal(b->logged_in_ms, 1200 * 1000LL);
	assert_int_equal(b->away_ms, 0);     /* paused in a queue is not globally away */
	assert_int_equal(b->busy_ms, 70 * 1000LL);

	char line[512];
	assert_true(report_csv_header(line, sizeof line));
	assert_string_equal(line, "type,name,offered,handled,missed,abandoned,avg_wait,max_wait,"
	                          "avg_talk,avg_recovery,occupancy,logged_in,away,callbacks_requested,"
	                          "callbacks_attempted,callbacks_reached,callbacks_failed");
	assert_true(report_csv_row(q, line, sizeof line));
	assert_string_equal(line, "queue,support,6,3,2,1,9,20,71,20,52.1,4800,320,0,0,0,0");
	assert_true(report_csv_row(a, line, sizeof line));
	assert_string_equal(line, "agent,1001,3,2,1,,3,5,77,30,67.6,3600,300,,,,");
	assert_true(report_csv_row(b, line, sizeof line));
	assert_string_equal(line, "agent,1002,1,1,0,,20,20,60,10,5.8,1200,0,,,,");
}

/* A sub-range starts in the middle of states: they come from before it. */
static void test_state_at_from(void **state)
{
	struct fx *f = *state;
	struct report_row rows[2];
	schedule(f);
	row_init(&rows[0], REPORT_AGENT, "1001");
	row_init(&rows[1], REPORT_QUEUE, "support");
	run_report(f, rows, 2, T0 + 800 * 1000, T0 + 1400 * 1000);
	/* 1001: away 800-1000, talking 1302-1400; 1002 logged in 800-1200 */
	assert_int_equal(rows[0].logged_in_ms, 600 * 1000LL);
	assert_int_equal(rows[0].away_ms, 200 * 1000LL);
	assert_int_equal(rows[0].busy_ms, 98 * 1000LL);
	assert_int_equal(rows[0].handled, 1);
	assert_int_equal(rows[1].logged_in_ms, 1000 * 1000LL);
	assert_int_equal(rows[1].away_ms, 200 * 1000LL);
	assert_int_equal(rows[1].offered, 1);
}

/* callqd restarts at T0 + 100 s: the call and recovery in progress end there;
 * being logged in carries over. */
static void test_restart_ends_calls(void **state)
{
	struct fx *f = *state;
	struct report_row rows[2];
	ev(f, -10, "agent.login", 0, "", "1001", 0, "");
	ev(f, 10, "call.answer", 1, "support", "1001", 1000, "");
	ev(f, 40, "call.end", 1, "support", "1001", 30000, "");
	ev(f, 40, "agent.recovery_start", 0, "support", "1001", 0, "");
	ev(f, 50, "call.enter", 2, "support", "", 0, "");
	ev(f, 50, "call.offer", 2, "support", "1001", 0, "");
	f->run = T0 + 100 * 1000;
	ev(f, 200, "call.enter", 1, "support", "", 0, "");
	row_init(&rows[0], REPORT_AGENT, "1001");
	row_init(&rows[1], REPORT_QUEUE, "support");
	run_report(f, rows, 2, T0, T0 + HOUR);
	assert_int_equal(rows[0].logged_in_ms, HOUR);
	assert_int_equal(rows[0].busy_ms, 90 * 1000LL);   /* talk 10-40, recovery 40-100 */
	assert_int_equal(rows[0].recoveries, 0);          /* never ended: no length */
	assert_int_equal(rows[1].offered, 2);
	assert_int_equal(report_occupancy_permille(&rows[0]), 25);
}

static void test_queue_window(void **state)
{
	struct fx *f = *state;
	struct report_row q;
	struct report_db r;
	schedule(f);
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	assert_int_equal(report_queue_window(&r, "support", T0 + 300 * 1000, T0 + 700 * 1000, 0, &q),
	                 REPORT_OK);
	struct report_row all;
	/* Answers in the schedule waited 20 s, 5 s and 2 s: two within 10 s. */
	assert_int_equal(report_queue_window(&r, "support", T0, T0 + 2000 * 1000, 10000, &all),
	                 REPORT_OK);
	report_close(&r);
	assert_int_equal(all.handled, 3);
	assert_int_equal(all.answered_in_sl, 2);
	assert_string_equal(q.name, "support");
	assert_int_equal(q.offered, 3);
	assert_int_equal(q.handled, 0);
	assert_int_equal(q.abandoned, 1);
	assert_int_equal(q.missed, 1);
	assert_int_equal(report_avg_talk_ms(&q), 100000);
}

/* Calls leaving for an escalation queue or a destination count as missed
 * where they left; leaving with #0 counts as abandoned only. */
static void test_escalations_missed(void **state)
{
	struct fx *f = *state;
	struct report_row q;
	struct report_db r;
	ev(f, 1, "call.enter", 1, "support", "", 0, "");
	ev(f, 5, "call.escalate", 1, "support", "", 2, "timeout");
	ev(f, 6, "call.enter", 2, "support", "", 0, "");
	ev(f, 7, "call.abandon", 2, "support", "", 0, "zero_out");
	ev(f, 7, "call.transfer", 2, "support", "", 0, "member:1002");
	ev(f, 8, "call.enter", 3, "support", "", 0, "");
	ev(f, 9, "call.transfer", 3, "support", "", 0, "hangup");
	ev(f, 10, "call.enter", 4, "support", "", 0, "");
	ev(f, 11, "call.abandon", 4, "support", "", 0, "zero_out");
	ev(f, 11, "call.escalate", 4, "support", "", 2, "zero_out");
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	assert_int_equal(report_queue_window(&r, "support", T0, T0 + HOUR, 0, &q), REPORT_OK);
	report_close(&r);
	assert_int_equal(q.offered, 4);
	assert_int_equal(q.missed, 2);
	assert_int_equal(q.abandoned, 2);
}

static void test_all_subjects(void **state)
{
	struct fx *f = *state;
	struct report_row rows[8];
	struct report_db r;
	size_t n;
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	assert_int_equal(report_all_subjects(&r, rows, 8, &n), REPORT_OK);
	report_close(&r);
	assert_int_equal(n, 5);
	assert_string_equal(rows[0].name, "support");
	assert_string_equal(rows[1].name, "sales");
	assert_int_equal(rows[2].kind, REPORT_AGENT);
	assert_string_equal(rows[2].name, "1001");
	assert_string_equal(rows[4].name, "1003");
}

struct seen {
	int n;
	char lines[64][96];
};

static void collect(void *ctx, const struct report_activity *a)
{
	struct seen *s = ctx;
	snprintf(s->lines[s->n++], sizeof s->lines[0], "%lld %s %s%s%s", (long long)(a->t_ms - T0) / 1000,
	         a->member, a->what, a->reason[0] ? " " : "", a->reason);
}

static void test_activity(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	struct report_db r;
	schedule(f);
	ev(f, 50, "agent.pause", 0, "sales", "1002", 0, "");   /* another queue */
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	assert_int_equal(report_activity(&r, "support", T0 + 300 * 1000, T0 + 1300 * 1000, 100, collect, &s),
	                 REPORT_OK);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.lines[0], "305 1001 ended");
	assert_string_equal(s.lines[1], "305 1001 recovery");
	assert_string_equal(s.lines[2], "335 1001 recovery_end");
	assert_string_equal(s.lines[3], "700 1001 away lunch");
	assert_string_equal(s.lines[4], "1000 1001 ready");
	assert_string_equal(s.lines[5], "1200 1002 logout");
	s.n = 0;
	assert_int_equal(report_activity(&r, "support", T0, T0 + 60 * 1000, 2, collect, &s), REPORT_OK);
	assert_int_equal(s.n, 2);   /* the newest two, oldest first */
	assert_string_equal(s.lines[0], "25 1002 offer");
	assert_string_equal(s.lines[1], "30 1002 answered");
	report_close(&r);
}

/* An expired budget interrupts the query: "range too large". */
static void test_budget(void **state)
{
	struct fx *f = *state;
	struct report_row q;
	struct report_db r;
	exec(f->db, "BEGIN");
	for (int i = 0; i < 5000; i++)
		ev(f, i * 0.5, "call.enter", i + 1, "support", "", 0, "");
	exec(f->db, "COMMIT");
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	r.deadline_ms = 0;
	assert_int_equal(report_queue_window(&r, "support", T0, T0 + HOUR, 0, &q), REPORT_TOO_LARGE);
	assert_string_equal(report_errmsg(&r), "range too large");
	report_close(&r);
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	assert_int_equal(report_queue_window(&r, "support", T0, T0 + HOUR, 0, &q), REPORT_OK);
	assert_int_equal(q.offered, 5000);
	report_close(&r);
}

/* More members than fit in any fixed table: each one's time counts. */
static void test_many_members(void **state)
{
	struct fx *f = *state;
	struct report_row q;
	char sql[256], login[16];
	exec(f->db, "BEGIN; INSERT INTO queues (id, name, number) VALUES (3, 'big', '6003')");
	for (int i = 0; i < 3000; i++) {
		snprintf(login, sizeof login, "m%d", i);
		snprintf(sql, sizeof sql,
		         "INSERT INTO members (id, login, role) VALUES (%d, '%s', 'agent');"
		         "INSERT INTO queue_members (queue_id, member_id, active) VALUES (3, %d, %d)",
		         100 + i, login, 100 + i, i % 2);
		exec(f->db, sql);
		ev(f, -10, "agent.login", 0, "", login, 0, "");
	}
	ev(f, 60, "call.answer", 1, "big", "m2999", 1000, "");
	ev(f, 120, "call.end", 1, "big", "m2999", 60000, "");
	exec(f->db, "COMMIT");
	row_init(&q, REPORT_QUEUE, "big");
	run_report(f, &q, 1, T0, T0 + HOUR);
	assert_int_equal(q.logged_in_ms, 3000 * HOUR);
	assert_int_equal(q.away_ms, 1500 * HOUR);   /* the inactive half: paused here */
	assert_int_equal(q.busy_ms, 60 * 1000LL);
}

static void test_csv_quoting(void **state)
{
	(void)state;
	struct report_row row;
	char line[256];
	row_init(&row, REPORT_QUEUE, "a,\"b\"");
	assert_true(report_csv_row(&row, line, sizeof line));
	assert_string_equal(line, "queue,\"a,\"\"b\"\"\",0,0,0,0,0,0,0,0,0.0,0,0,0,0,0,0");
	assert_false(report_csv_row(&row, line, 20));
}

static void test_parse_time(void **state)
{
	(void)state;
	int64_t t;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_true(report_parse_time("1700000000", &t));
	assert_int_equal(t, 1700000000000LL);
	assert_true(report_parse_time("2023-11-14T22:13:20Z", &t));
	assert_int_equal(t, 1700000000000LL);
	assert_true(report_parse_time("2023-11-14T22:13", &t));
	assert_int_equal(t, 1700000000000LL - 20000);
	assert_true(report_parse_time("2023-11-14", &t));
	assert_int_equal(t, 1699920000000LL);
	assert_false(report_parse_time("2023-13-01", &t));
	assert_false(report_parse_time("2023-11-14T25:00", &t));
	assert_false(report_parse_time("2023-11-14 10:00", &t));
	assert_false(report_parse_time("yesterday", &t));
	assert_false(report_parse_time("", &t));
}

/* An agent's transfer (REFER) ends the call for the agent, then sends it on:
 * handled and talked, not missed. */
static void test_agent_transfer_not_missed(void **state)
{
	struct fx *f = *state;
	struct report_row q;
	struct report_db r;
	ev(f, 1, "call.enter", 1, "support", "", 0, "");
	ev(f, 2, "call.offer", 1, "support", "1001", 0, "");
	ev(f, 3, "call.answer", 1, "support", "1001", 2000, "");
	ev(f, 13, "call.end", 1, "support", "1001", 10000, "");
	ev(f, 13, "call.transfer", 1, "support", "", 0, "queue:sales");
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	assert_int_equal(report_queue_window(&r, "support", T0, T0 + HOUR, 0, &q), REPORT_OK);
	report_close(&r);
	assert_int_equal(q.offered, 1);
	assert_int_equal(q.handled, 1);
	assert_int_equal(q.missed, 0);
	assert_int_equal(report_avg_talk_ms(&q), 10000);
}

/* The callback counters, counted where every queue count is made. */
static void test_count_callbacks(void **state)
{
	(void)state;
	struct report_row row = { .kind = REPORT_QUEUE };
	struct report_zero_out zero = { 0 };
	static const enum eng_event evs[] = {
		EV_CALLBACK_REQUEST, EV_CALLBACK_ATTEMPT, EV_CALLBACK_RETRY, EV_CALLBACK_ATTEMPT,
		EV_CALLBACK_REACHED, EV_CALLBACK_REQUEST, EV_CALLBACK_FAILED, EV_CALLBACK_MOVE,
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		struct report_call c = { .ev = evs[i], .call = 1, .run = 1, .reason = "" };
		report_count_call(&row, &zero, &c);
	}
	assert_int_equal(row.cb_requested, 2);
	assert_int_equal(row.cb_attempted, 2);
	assert_int_equal(row.cb_reached, 1);
	assert_int_equal(row.cb_failed, 1);
	assert_int_equal(row.offered + row.handled + row.missed + row.abandoned, 0);
}

/* The callback counters of a report come from the journal, per queue and
 * inside the range only, and fill the CSV's last four columns (empty for
 * agents). */
static void test_callbacks_in_report(void **state)
{
	struct fx *f = *state;
	struct report_row rows[2];
	char line[512];
	ev(f, -30, "call.enter", 7, "support", "", 0, "");
	ev(f, -20, "callback.request", 7, "support", "", 1, "5550007");   /* before the range */
	ev(f, 10, "call.enter", 8, "support", "", 0, "");
	ev(f, 12, "callback.request", 8, "support", "", 2, "5550008");
	ev(f, 40, "callback.attempt", 7, "support", "1001", 1, "");
	ev(f, 70, "callback.retry", 7, "support", "1001", 60000, "busy");
	ev(f, 130, "callback.attempt", 7, "support", "1001", 2, "");
	ev(f, 140, "call.answer", 7, "support", "1001", 170000, "");
	ev(f, 140, "callback.reached", 7, "support", "1001", 2, "");
	ev(f, 200, "call.end", 7, "support", "1001", 60000, "");
	ev(f, 300, "callback.failed", 8, "support", "", 0, "cancelled");
	ev(f, 310, "call.enter", 9, "sales", "", 0, "");
	ev(f, 311, "callback.request", 9, "sales", "", 1, "5550009");
	row_init(&rows[0], REPORT_QUEUE, "support");
	row_init(&rows[1], REPORT_AGENT, "1001");
	run_report(f, rows, 2, T0, T0 + HOUR);
	assert_int_equal(rows[0].cb_requested, 1);
	assert_int_equal(rows[0].cb_attempted, 2);
	assert_int_equal(rows[0].cb_reached, 1);
	assert_int_equal(rows[0].cb_failed, 1);
	assert_int_equal(rows[0].handled, 1);
	assert_true(report_csv_row(&rows[0], line, sizeof line));
	assert_string_equal(line + strlen(line) - strlen(",1,2,1,1"), ",1,2,1,1");
	assert_true(report_csv_row(&rows[1], line, sizeof line));
	assert_string_equal(line + strlen(line) - strlen(",,,,"), ",,,,");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_and_agents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escalations_missed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_at_from, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_ends_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_subjects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_transfer_not_missed, setup, teardown),
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_count_callbacks),
		cmocka_unit_test_setup_teardown(test_callbacks_in_report, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_window.c — the rolling `stats` counters against the journal replay of
 * the reports: fed the same events, they must agree counter for counter, over
 * any window; old minutes expire; a restart refills them from the journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "acd/qconf.h"
#include "report/window.h"
#include "store/store.h"

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define T0 (28333333LL * MIN_MS)   /* a minute's start, in November 2023 */
#define RUN1 (T0 - 48 * HOUR_MS)
#define GONE 999                   /* a queue id the engine does not know */

struct fx {
	char dir[64];
	char path[96];
	sqlite3 *db;
	sqlite3_stmt *insert;
	engine_t *eng;
	window_t *w;
	eng_id support, sales;
	int64_t run;
	uint64_t rng;
};

static eng_id add_queue(engine_t *e, const char *name, unsigned sl_s)
{
	struct eng_queue_conf c;
	qconf_defaults(&c);
	snprintf(c.name, sizeof c.name, "%s", name);
	c.service_level_s = sl_s;
	return engine_queue_add(e, 0, &c);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/callq-win-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/callq.db", f->dir);
	store_t *s = store_open(f->path, err, sizeof err);
	if (!s) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	store_close(s);
	if (sqlite3_open(f->path, &f->db) != SQLITE_OK ||
	    sqlite3_prepare_v2(f->db,
	                       "INSERT INTO journal (t_ms, run, event, call, queue, member, value, reason) "
	                       "VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, ''), nullif(?6, ''), ?7, "
	                       "nullif(?8, ''))",
	                       -1, &f->insert, NULL) != SQLITE_OK)
		return -1;
	f->eng = engine_new();
	f->w = window_new();
	f->support = add_queue(f->eng, "support", 20);
	f->sales = add_queue(f->eng, "sales", 10);
	f->run = RUN1;
	f->rng = 88172645463325252ULL;
	*state = f;
	return f->eng && f->w && f->support && f->sales ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];
	sqlite3_finalize(f->insert);
	sqlite3_close(f->db);
	window_free(f->w);
	engine_free(f->eng);
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static unsigned rnd(struct fx *f, unsigned n)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return (unsigned)(f->rng % n);
}

static const char *queue_name(struct fx *f, eng_id q)
{
	const struct eng_queue_conf *c = engine_queue_conf(f->eng, q);
	return c ? c->name : q == GONE ? "gone" : "";
}

/* One journal row, as the store writes it for an engine event. */
static void journal(struct fx *f, int64_t t, enum eng_event ev, eng_id call, eng_id q,
                    int64_t value, const char *reason)
{
	sqlite3_stmt *st = f->insert;
	sqlite3_bind_int64(st, 1, t);
	sqlite3_bind_int64(st, 2, f->run);
	sqlite3_bind_text(st, 3, engine_event_name(ev), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, call);
	sqlite3_bind_text(st, 5, queue_name(f, q), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev >= EV_AGENT_LOGIN && ev <= EV_RECOVERY_END ? "1001" : "", -1,
	                  SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, value);
	sqlite3_bind_text(st, 8, reason, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
}

/* An engine event at wall-clock t: journaled, and counted by the window, as
 * app_event does. */
static void live(struct fx *f, int64_t t, enum eng_event ev, eng_id call, eng_id q, int64_t value,
                 const char *reason)
{
	struct eng_action a = { .kind = ACT_EVENT, .event = ev, .call = call, .queue = q,
	                        .value = value };
	snprintf(a.reason, sizeof a.reason, "%s", reason);
	journal(f, t, ev, call, q, value, reason);
	window_event(f->w, f->eng, t, &a);
}

/* A random event of a random queue (now and then none, or one the engine
 * does not know). A call leaving with #0 is an abandon followed at once by
 * its transfer or move, as the engine journals it. */
static void random_event(struct fx *f, int64_t t, eng_id call)
{
	static const char *const abandon[] = { "waiting", "ringing", "operator" };
	static const char *const refused[] = { "limit", "empty", "unknown" };
	eng_id queues[] = { f->support, f->support, f->sales, 0, GONE };
	eng_id q = queues[rnd(f, 5)];
	switch (rnd(f, 14)) {
	case 0:
	case 1:
		live(f, t, EV_CALL_ENTER, call, q, 0, "");
		break;
	case 2:
		live(f, t, EV_CALL_REFUSED, call, q, 0, refused[rnd(f, 3)]);
		break;
	case 3:
		live(f, t, EV_CALL_MISS, call, q, 0, "timeout");
		break;
	case 4:
		live(f, t, EV_CALL_TIMEOUT, call, q, 0, "");
		break;
	case 5:
		live(f, t, EV_CALL_ABANDON, call, q, 0, abandon[rnd(f, 3)]);
		break;
	case 6:
		live(f, t, EV_CALL_ABANDON, call, q, 0, "zero_out");
		if (rnd(f, 2))
			live(f, t, EV_CALL_TRANSFER, call, q, 0, "member:1002");
		else
			live(f, t, EV_CALL_ESCALATE, call, q, f->sales, "zero_out");
		break;
	case 7:
		live(f, t, EV_CALL_ESCALATE, call, q, f->sales, "timeout");
		break;
	case 8:
		live(f, t, EV_CALL_TRANSFER, call, q, 0, "hangup");
		break;
	case 9:
	case 10:
		live(f, t, EV_CALL_ANSWER, call, q, rnd(f, 60000), "");
		break;
	case 11:
		live(f, t, EV_CALL_END, call, q, rnd(f, 600000), "");
		break;
	case 12:
		live(f, t, EV_CALL_OFFER, call, q, 0, "");
		break;
	default:
		live(f, t, rnd(f, 2) ? EV_AGENT_PAUSE : EV_CALL_BUMP, call, q, 0, "");
		break;
	}
}

static void assert_same(const struct report_row *got, const struct report_row *want)
{
	assert_int_equal(got->offered, want->offered);
	assert_int_equal(got->handled, want->handled);
	assert_int_equal(got->missed, want->missed);
	assert_int_equal(got->abandoned, want->abandoned);
	assert_int_equal(got->waits, want->waits);
	assert_int_equal(got->wait_sum_ms, want->wait_sum_ms);
	assert_int_equal(got->max_wait_ms, want->max_wait_ms);
	assert_int_equal(got->talks, want->talks);
	assert_int_equal(got->talk_sum_ms, want->talk_sum_ms);
	assert_int_equal(got->answered_in_sl, want->answered_in_sl);
}

/* window_queue of w against report_queue_window over the same whole
 * minutes: the current one (of now) and the ones before it. */
static void check_window(struct fx *f, const window_t *w, eng_id q, int64_t now, unsigned window_s)
{
	const struct eng_queue_conf *c = engine_queue_conf(f->eng, q);
	int64_t minutes = (window_s + 59) / 60;
	int64_t end = (now / MIN_MS + 1) * MIN_MS;
	struct report_row got, want;
	struct report_db r;
	assert_true(window_queue(w, q, now, window_s, &got));
	assert_int_equal(report_open(&r, f->path), REPORT_OK);
	r.deadline_ms = INT64_MAX;
	assert_int_equal(report_queue_window(&r, c->name, end - minutes * MIN_MS, end,
	                                     (int64_t)c->service_level_s * 1000, &want),
	                 REPORT_OK);
	report_close(&r);
	assert_same(&got, &want);
}

static const unsigned windows[] = { 1, 60, 61, 90, 600, 3600, 3601, 7200, 43200, 86400 };

static void check_all(struct fx *f, const window_t *w, int64_t now)
{
	for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
		check_window(f, w, f->support, now, windows[i]);
		check_window(f, w, f->sales, now, windows[i]);
	}
}

/* 4,000 random events over about 22 hours, fed live; then a fresh window
 * filled from the journal, as at a restart. */
static void test_agrees_with_report(void **state)
{
	struct fx *f = *state;
	int64_t t = T0 + 12345, mid = 0;
	sqlite3_exec(f->db, "BEGIN", NULL, NULL, NULL);
	for (eng_id call = 1; call <= 4000; call++) {
		t += rnd(f, 40000);
		random_event(f, t, call);
		if (call == 2000)
			mid = t;
	}
	sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
	struct report_row row;
	assert_true(window_queue(f->w, f->support, t, WINDOW_MAX_S, &row));
	assert_true(row.offered > 100 && row.handled > 100 && row.missed > 100 && row.abandoned > 50);
	check_all(f, f->w, mid);
	check_all(f, f->w, t);
	check_all(f, f->w, t + 3 * HOUR_MS);

	char err[128];
	window_t *again = window_new();
	assert_int_equal(window_fill(again, f->eng, f->path, t, err, sizeof err), REPORT_OK);
	check_all(f, again, t);
	window_free(again);
}

static void count(const window_t *w, eng_id q, int64_t now, unsigned window_s, unsigned offered,
                  unsigned handled)
{
	struct report_row row;
	assert_true(window_queue(w, q, now, window_s, &row));
	assert_int_equal(row.offered, offered);
	assert_int_equal(row.handled, handled);
}

/* A minute counts while the window reaches back to it; after 24 hours its
 * bucket holds another minute. */
static void test_expiry(void **state)
{
	struct fx *f = *state;
	int64_t t = T0 + 30000, day = 24 * HOUR_MS;
	live(f, t, EV_CALL_ENTER, 1, f->support, 0, "");
	live(f, t, EV_CALL_ANSWER, 1, f->support, 5000, "");
	count(f->w, f->support, t, 1, 1, 1);
	count(f->w, f->support, t + 29999, 60, 1, 1);
	count(f->w, f->support, t + 30000, 60, 0, 0);     /* the next minute */
	count(f->w, f->support, t + 30000, 61, 1, 1);
	count(f->w, f->support, t - MIN_MS, 3600, 0, 0);  /* before it */
	count(f->w, f->support, t + day - MIN_MS, WINDOW_MAX_S, 1, 1);
	count(f->w, f->support, t + day, WINDOW_MAX_S, 0, 0);
	count(f->w, f->sales, t, 60, 0, 0);

	/* The same slot, a day later: the old minute is dropped, not added to. */
	live(f, t + day, EV_CALL_ENTER, 2, f->support, 0, "");
	count(f->w, f->support, t + day, 60, 1, 0);
	struct report_row row;
	assert_true(window_queue(f->w, f->support, t + day, 60, &row));
	assert_int_equal(row.max_wait_ms, 0);
	/* A clock stepped back by a day: the slot is newer, the event is lost. */
	live(f, t, EV_CALL_ENTER, 3, f->support, 0, "");
	count(f->w, f->support, t + day, WINDOW_MAX_S, 1, 0);
}

/* At a restart, the journal's last 24 hours (from the first minute of the
 * ring) come back; older rows and queues the engine no longer has do not.
 * Live calls of the new run are not the journal's calls of the same id. */
static void test_restart_fill(void **state)
{
	struct fx *f = *state;
	int64_t now = T0 + 48 * HOUR_MS + 45000, day = 24 * HOUR_MS;
	int64_t first = (now / MIN_MS - WINDOW_MINUTES + 1) * MIN_MS;
	char err[128];
	journal(f, first - 1, EV_CALL_ENTER, 1, f->support, 0, "");
	journal(f, first, EV_CALL_ENTER, 2, f->support, 0, "");
	journal(f, now - day + MIN_MS, EV_CALL_ANSWER, 2, f->support, 20000, "");
	journal(f, now - 2 * HOUR_MS, EV_CALL_ENTER, 3, f->support, 0, "");
	journal(f, now - 2 * HOUR_MS, EV_CALL_ABANDON, 3, f->support, 0, "zero_out");
	journal(f, now - 2 * HOUR_MS, EV_CALL_TRANSFER, 3, f->support, 0, "member:1002");
	journal(f, now - HOUR_MS, EV_CALL_REFUSED, 4, f->sales, 0, "limit");
	journal(f, now - HOUR_MS, EV_CALL_ENTER, 5, GONE, 0, "");
	journal(f, now - 1000, EV_CALL_ANSWER, 6, f->sales, 12000, "");
	journal(f, now - 1000, EV_CALL_END, 9, f->support, 30000, "");
	assert_int_equal(window_fill(f->w, f->eng, f->path, now, err, sizeof err), REPORT_OK);

	struct report_row s, q;
	assert_true(window_queue(f->w, f->support, now, WINDOW_MAX_S, &s));
	assert_int_equal(s.offered, 2);
	assert_int_equal(s.handled, 1);
	assert_int_equal(s.answered_in_sl, 1);    /* 20 s, within support's 20 s */
	assert_int_equal(s.abandoned, 1);
	assert_int_equal(s.missed, 0);            /* the #0 transfer is no miss */
	assert_int_equal(s.talk_sum_ms, 30000);
	assert_true(window_queue(f->w, f->sales, now, 60, &q));
	assert_int_equal(q.handled, 1);
	assert_int_equal(q.answered_in_sl, 0);    /* 12 s, over sales' 10 s */
	assert_int_equal(q.max_wait_ms, 12000);
	check_all(f, f->w, now);

	f->run = now - 5000;
	live(f, now + 1000, EV_CALL_TRANSFER, 3, f->support, 0, "hangup");
	assert_true(window_queue(f->w, f->support, now + 1000, 60, &s));
	assert_int_equal(s.missed, 1);
	check_all(f, f->w, now + 1000);
}

static void test_empty_and_unknown(void **state)
{
	struct fx *f = *state;
	char err[128];
	struct report_row row;
	assert_int_equal(window_fill(f->w, f->eng, f->path, T0, err, sizeof err), REPORT_OK);
	assert_true(window_queue(f->w, f->support, T0, 3600, &row));
	assert_int_equal(row.kind, REPORT_QUEUE);
	assert_int_equal(row.offered + row.handled + row.missed + row.abandoned, 0);
	assert_true(window_queue(f->w, GONE, T0, 3600, &row));
	assert_int_equal(row.offered, 0);
	window_t *w = window_new();
	assert_int_not_equal(window_fill(w, f->eng, "/nonexistent/callq.db", T0, err, sizeof err),
	                     REPORT_OK);
	assert_true(strlen(err) > 0);
	window_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_agrees_with_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_fill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_unknown, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

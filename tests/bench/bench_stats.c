/* bench_stats.c — the cost of `stats QUEUE` with a busy journal.
 *
 * 100,000 journal rows in the last hour (20,000 calls of one queue, 200
 * agents: enter, offer, answer, end, recovery start). Times the journal
 * replay that `stats` used to run on the SIP loop (report_queue_window over
 * the last hour, without its 200 ms budget), the start-up fill of the rolling
 * counters (window_fill, 24 hours), and `stats` now (window_queue, 1 hour
 * and 24 hours). Prints the median of several runs of each; `handled`
 * differs a little between them, as the buckets' window is whole minutes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "acd/qconf.h"
#include "report/window.h"
#include "store/store.h"

#define BENCH_CALLS 20000
#define BENCH_AGENTS 200
#define BENCH_HOUR_MS 3600000LL

static int64_t bench_ns(int clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t bench_median(int64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, bench_cmp);
	return v[n / 2];
}

static void bench_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench_stats: %s: %s\n", sql, err);
		exit(1);
	}
}

static void bench_row(sqlite3_stmt *st, int64_t t, const char *event, int call, const char *member,
                      int64_t value)
{
	sqlite3_bind_int64(st, 1, t);
	sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, call);
	sqlite3_bind_text(st, 4, member, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, value);
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "bench_stats: insert failed\n");
		exit(1);
	}
	sqlite3_reset(st);
}

/* One queue, its agents, and 5 journal rows per call over the hour before now. */
static void bench_journal(sqlite3 *db, int64_t now)
{
	char sql[256], login[BENCH_AGENTS][8];
	sqlite3_stmt *st;
	bench_exec(db, "BEGIN; INSERT INTO queues (id, name, number) VALUES (1, 'support', '6000')");
	for (int i = 0; i < BENCH_AGENTS; i++) {
		snprintf(login[i], sizeof login[i], "%d", 2000 + i);
		snprintf(sql, sizeof sql,
		         "INSERT INTO members (id, login, role) VALUES (%d, '%s', 'agent');"
		         "INSERT INTO queue_members (queue_id, member_id, active) VALUES (1, %d, 1)",
		         i + 1, login[i], i + 1);
		bench_exec(db, sql);
	}
	sqlite3_prepare_v2(db,
	                   "INSERT INTO journal (t_ms, run, event, call, queue, member, value) "
	                   "VALUES (?1, 1, ?2, ?3, 'support', nullif(?4, ''), ?5)",
	                   -1, &st, NULL);
	for (int c = 0; c < BENCH_CALLS; c++) {
		int64_t t = now - BENCH_HOUR_MS + 10000 + (int64_t)c * (BENCH_HOUR_MS - 20000) / BENCH_CALLS;
		const char *m = login[c % BENCH_AGENTS];
		bench_row(st, t, "call.enter", c + 1, "", 0);
		bench_row(st, t + 100, "call.offer", c + 1, m, 0);
		bench_row(st, t + 1100, "call.answer", c + 1, m, 1100);
		bench_row(st, t + 4100, "call.end", c + 1, m, 3000);
		bench_row(st, t + 4100, "agent.recovery_start", 0, m, 0);
	}
	sqlite3_finalize(st);
	bench_exec(db, "COMMIT");
}

static int64_t bench_replay(const char *path, int64_t now, unsigned *handled)
{
	struct report_db r;
	struct report_row row;
	int64_t t0 = bench_ns(CLOCK_MONOTONIC);
	report_open(&r, path);
	r.deadline_ms = INT64_MAX;
	if (report_queue_window(&r, "support", now - BENCH_HOUR_MS, now, 20000, &row) != REPORT_OK) {
		fprintf(stderr, "bench_stats: %s\n", report_errmsg(&r));
		exit(1);
	}
	report_close(&r);
	*handled = row.handled;
	return bench_ns(CLOCK_MONOTONIC) - t0;
}

static int64_t bench_window(const window_t *w, eng_id q, int64_t now, unsigned window_s,
                            unsigned *handled)
{
	struct report_row row;
	int64_t t0 = bench_ns(CLOCK_MONOTONIC);
	window_queue(w, q, now, window_s, &row);
	*handled = row.handled;
	return bench_ns(CLOCK_MONOTONIC) - t0;
}

int main(void)
{
	char dir[] = "/tmp/callq-bench-XXXXXX", path[64], err[256];
	sqlite3 *db;
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/callq.db", dir);
	store_t *s = store_open(path, err, sizeof err);
	if (!s || sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "bench_stats: %s\n", err);
		return 1;
	}
	store_close(s);
	int64_t now = bench_ns(CLOCK_REALTIME) / 1000000;
	bench_journal(db, now);
	sqlite3_close(db);

	struct eng_queue_conf c;
	qconf_defaults(&c);
	snprintf(c.name, sizeof c.name, "support");
	engine_t *e = engine_new();
	eng_id q = engine_queue_add(e, 0, &c);
	window_t *w = window_new();
	unsigned h_replay = 0, h_hour = 0, h_day = 0;
	int64_t replay[5], fill[3], hour[1000], day[1000];
	for (size_t i = 0; i < 5; i++)
		replay[i] = bench_replay(path, now, &h_replay);
	for (size_t i = 0; i < 3; i++) {
		window_t *fresh = window_new();
		int64_t t0 = bench_ns(CLOCK_MONOTONIC);
		if (window_fill(fresh, e, path, now, err, sizeof err) != REPORT_OK) {
			fprintf(stderr, "bench_stats: %s\n", err);
			return 1;
		}
		fill[i] = bench_ns(CLOCK_MONOTONIC) - t0;
		window_free(w);
		w = fresh;
	}
	for (size_t i = 0; i < 1000; i++) {
		hour[i] = bench_window(w, q, now, 3600, &h_hour);
		day[i] = bench_window(w, q, now, WINDOW_MAX_S, &h_day);
	}
	printf("journal: %d rows in the last hour (%d calls)\n", BENCH_CALLS * 5, BENCH_CALLS);
	printf("  before: stats window=3600, journal replay  %12.1f us  (handled=%u)\n",
	       bench_median(replay, 5) / 1e3, h_replay);
	printf("  start:  window_fill, last 24 h, once       %12.1f us\n", bench_median(fill, 3) / 1e3);
	printf("  after:  stats window=3600, rolling buckets %12.1f us  (handled=%u)\n",
	       bench_median(hour, 1000) / 1e3, h_hour);
	printf("  after:  stats window=86400                 %12.1f us  (handled=%u)\n",
	       bench_median(day, 1000) / 1e3, h_day);
	window_free(w);
	engine_free(e);
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(err, sizeof err, "%s%s", path, suffix[i]);
		unlink(err);
	}
	rmdir(dir);
	return 0;
}

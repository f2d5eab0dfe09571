/* test_metrics.c — counters since start agree with the rolling `stats`
 * counters fed the same events; the wait histogram; the text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acd/qconf.h"
#include "report/window.h"
#include "web/web.h"

static struct eng_action ev(enum eng_event e, eng_id call, eng_id q, int64_t value, const char *reason)
{
	struct eng_action a = { .kind = ACT_EVENT, .event = e, .call = call, .queue = q, .member = 1,
	                        .value = value };
	snprintf(a.reason, sizeof a.reason, "%s", reason);
	return a;
}

static void test_totals_match_window(void **state)
{
	(void)state;
	engine_t *e = engine_new();
	struct eng_queue_conf qc;
	qconf_defaults(&qc);
	snprintf(qc.name, sizeof qc.name, "support");
	qc.service_level_s = 20;
	eng_id q = engine_queue_add(e, 0, &qc);
	metrics_t *m = metrics_new();
	window_t *w = window_new();
	struct eng_action seq[] = {
		ev(EV_CALL_ENTER, 1, q, 0, ""), ev(EV_CALL_OFFER, 1, q, 0, ""),
		ev(EV_CALL_MISS, 1, q, 0, "timeout"), ev(EV_CALL_ANSWER, 1, q, 12000, ""),
		ev(EV_CALL_END, 1, q, 60000, ""),
		ev(EV_CALL_ENTER, 2, q, 0, ""), ev(EV_CALL_ANSWER, 2, q, 70000, ""),
		ev(EV_CALL_END, 2, q, 5000, ""),
		ev(EV_CALL_ENTER, 3, q, 0, ""), ev(EV_CALL_ABANDON, 3, q, 0, "waiting"),
		ev(EV_CALL_REFUSED, 4, q, 0, "limit"),
		ev(EV_CALL_ENTER, 5, q, 0, ""), ev(EV_CALL_TIMEOUT, 5, q, 0, ""),
		ev(EV_CALL_ENTER, 6, q, 0, ""), ev(EV_CALLBACK_REQUEST, 6, q, 1, "5550006"),
		ev(EV_CALLBACK_ATTEMPT, 6, q, 1, ""), ev(EV_CALLBACK_RETRY, 6, q, 5000, "busy"),
		ev(EV_CALLBACK_ATTEMPT, 6, q, 2, ""), ev(EV_CALLBACK_FAILED, 6, q, 2, "noanswer"),
		ev(EV_CALL_ENTER, 7, q, 0, ""), ev(EV_CALLBACK_REQUEST, 7, q, 1, "5550007"),
		ev(EV_CALLBACK_ATTEMPT, 7, q, 1, ""), ev(EV_CALL_ANSWER, 7, q, 30000, ""),
		ev(EV_CALLBACK_REACHED, 7, q, 1, ""),
	};
	int64_t now = 1700000000000LL;
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		metrics_event(m, e, &seq[i]);
		window_event(w, e, now, &seq[i]);
	}
	struct report_row t, win = { .kind = REPORT_QUEUE };
	uint64_t le[METRICS_WAIT_BUCKETS];
	metrics_queue_totals(m, q, &t, le);
	assert_true(window_queue(w, q, now, 3600, &win));
	assert_int_equal(t.handled, 3);
	assert_int_equal(t.handled, win.handled);
	assert_int_equal(t.abandoned, win.abandoned);
	assert_int_equal(t.missed, win.missed);
	assert_int_equal(t.offered, win.offered);
	assert_int_equal(t.answered_in_sl, win.answered_in_sl);
	assert_int_equal(t.wait_sum_ms, 112000);
	assert_int_equal(t.cb_requested, 2);
	assert_int_equal(t.cb_attempted, 3);
	assert_int_equal(t.cb_reached, 1);
	assert_int_equal(t.cb_failed, 1);
	assert_int_equal(t.cb_requested, win.cb_requested);
	assert_int_equal(t.cb_attempted, win.cb_attempted);
	assert_int_equal(t.cb_reached, win.cb_reached);
	assert_int_equal(t.cb_failed, win.cb_failed);
	/* 12 s falls in le=15 and above; 30 s in le=30; 70 s in le=120 and above. */
	assert_int_equal(le[0], 0);
	assert_int_equal(le[1], 0);
	assert_int_equal(le[2], 1);
	assert_int_equal(le[4], 2);
	assert_int_equal(le[6], 2);
	assert_int_equal(le[7], 3);
	assert_int_equal(le[METRICS_WAIT_BUCKETS - 1], 3);
	metrics_queue_totals(m, 99, &t, le);
	assert_int_equal(t.handled, 0);
	window_free(w);
	metrics_free(m);
	engine_free(e);
}

static void test_format(void **state)
{
	(void)state;
	struct metrics_queue_view qv = { .name = "sup\"port", .waiting = 2, .ready = 1, .busy = 3,
	                                 .away = 0, .longest_wait_ms = 61500 };
	qv.totals.handled = 4;
	qv.totals.answered_in_sl = 3;
	qv.totals.waits = 4;
	qv.totals.wait_sum_ms = 40250;
	qv.totals.cb_requested = 6;
	qv.totals.cb_attempted = 7;
	qv.totals.cb_reached = 8;
	qv.totals.cb_failed = 9;
	for (size_t i = 0; i < METRICS_WAIT_BUCKETS; i++)
		qv.wait_le[i] = i < 2 ? 1 : 4;
	struct metrics_process_view p = { .calls = 5, .legs = 9, .late_ticks = 3, .rx_foreign = 11,
	                                  .sip_refused = 12, .sip_shut_out = 13, .sip_guarded = 14 };
	struct jbuf j;
	jbuf_init(&j, 1 << 20);
	metrics_format(&j, &qv, 1, &p);
	assert_false(j.failed);
	static const char *const want[] = {
		"# TYPE callq_queue_waiting gauge\n",
		"callq_queue_waiting{queue=\"sup\\\"port\"} 2\n",
		"callq_queue_longest_wait_seconds{queue=\"sup\\\"port\"} 61.500\n",
		"callq_queue_agents{queue=\"sup\\\"port\",state=\"busy\"} 3\n",
		"# TYPE callq_queue_handled_total counter\n",
		"callq_queue_handled_total{queue=\"sup\\\"port\"} 4\n",
		"callq_queue_service_level_ratio{queue=\"sup\\\"port\"} 0.7500\n",
		"# TYPE callq_queue_callbacks_requested_total counter\n",
		"callq_queue_callbacks_requested_total{queue=\"sup\\\"port\"} 6\n",
		"callq_queue_callbacks_attempted_total{queue=\"sup\\\"port\"} 7\n",
		"callq_queue_callbacks_reached_total{queue=\"sup\\\"port\"} 8\n",
		"# TYPE callq_queue_callbacks_failed_total counter\n",
		"callq_queue_callbacks_failed_total{queue=\"sup\\\"port\"} 9\n",
		"# TYPE callq_queue_wait_seconds histogram\n",
		"callq_queue_wait_seconds_bucket{queue=\"sup\\\"port\",le=\"5\"} 1\n",
		"callq_queue_wait_seconds_bucket{queue=\"sup\\\"port\",le=\"+Inf\"} 4\n",
		"callq_queue_wait_seconds_sum{queue=\"sup\\\"port\"} 40.250\n",
		"callq_queue_wait_seconds_count{queue=\"sup\\\"port\"} 4\n",
		"callq_calls_in_progress 5\n",
		"callq_media_late_ticks_total 3\n",
		"# TYPE callq_media_rx_foreign_total counter\n",
		"callq_media_rx_foreign_total 11\n",
		"callq_sip_refused_total 12\n",
		"callq_sip_shut_out_total 13\n",
		"callq_sip_guarded_total 14\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(j.buf, want[i]))
			fail_msg("missing: %s", want[i]);
	/* Every line is a comment or "name{labels} value". */
	for (char *line = j.buf; *line;) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		assert_true(line[0] == '#' || strchr(line, ' ') < nl);
		line = nl + 1;
	}
	jbuf_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totals_match_window),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

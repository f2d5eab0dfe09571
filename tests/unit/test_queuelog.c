/* test_queuelog.c — queue_log lines: the field format, and what a call's and
 * an agent's engine events become in the file the writer thread appends to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "acd/qconf.h"
#include "store/queuelog.h"

#define START 1700000000LL
#define WALL (START * 1000 + 5000)

static void test_format(void **state)
{
	(void)state;
	char buf[QUEUELOG_LINE_MAX];
	const char *data[] = { "", "555|1234\n", "2" };
	size_t n = queuelog_format(buf, sizeof buf, 1700000001, "1700000000.7", "support", "NONE",
	                           "ENTERQUEUE", data, 3);
	assert_string_equal(buf, "1700000001|1700000000.7|support|NONE|ENTERQUEUE||555 1234 |2\n");
	assert_int_equal(n, strlen(buf));
	char tiny[16];
	assert_int_equal(queuelog_format(tiny, sizeof tiny, 1, "c", "q", "a", "VERYLONGVERB", NULL, 0), 0);
}

static struct eng_action ev(enum eng_event e, eng_id call, eng_id q, eng_id m, eng_ms at,
                            int64_t value, const char *reason)
{
	struct eng_action a = { .kind = ACT_EVENT, .event = e, .call = call, .queue = q, .member = m,
	                        .at = at, .value = value };
	snprintf(a.reason, sizeof a.reason, "%s", reason);
	return a;
}

static void test_call_and_agent(void **state)
{
	(void)state;
	char dir[] = "/tmp/callq-ql-XXXXXX", path[64], err[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/queue_log", dir);
	engine_t *e = engine_new();
	struct eng_queue_conf qc;
	qconf_defaults(&qc);
	snprintf(qc.name, sizeof qc.name, "support");
	eng_id q = engine_queue_add(e, 0, &qc);
	eng_id m = engine_member_add(e, "1001", "Ann", ROLE_AGENT);
	engine_assign(e, 0, q, m, false, true);
	struct eng_action a;
	while (engine_next_action(e, &a))
		;
	queuelog_t *ql = queuelog_open(path, START, err, sizeof err);
	assert_non_null(ql);

	struct eng_call_info ci = { .caller_number = "4930123", .caller_name = "", .callee_number = "6000",
	                            .callee_name = "" };
	struct eng_action seq[] = {
		ev(EV_AGENT_LOGIN, 0, 0, m, 1000, 0, ""),
		ev(EV_CALL_OFFER, 0, q, m, 12000, 0, ""),       /* call id filled in below */
		ev(EV_CALL_MISS, 0, q, m, 14500, 0, "timeout"),
		ev(EV_CALL_OFFER, 0, q, m, 20000, 0, ""),
		ev(EV_CALL_ANSWER, 0, q, m, 23000, 13000, ""),
		ev(EV_CALL_END, 0, q, m, 83000, 60000, "caller"),
		ev(EV_AGENT_PAUSE, 0, q, m, 90000, 0, ""),
		ev(EV_AGENT_LOGOUT, 0, 0, m, 101000, 0, ""),
	};
	queuelog_event(ql, e, WALL, &seq[0]);
	eng_id call = engine_call_enter(e, 10000, q, &ci);
	assert_true(call != 0);
	while (engine_next_action(e, &a))
		if (a.kind == ACT_EVENT)
			queuelog_event(ql, e, WALL, &a);
	for (size_t i = 1; i < sizeof seq / sizeof seq[0]; i++) {
		if (seq[i].event != EV_AGENT_PAUSE && seq[i].event != EV_AGENT_LOGOUT)
			seq[i].call = call;
		queuelog_event(ql, e, WALL, &seq[i]);
	}
	queuelog_release(ql, call);
	queuelog_close(ql);

	char want[1024], got[1024] = "";
	snprintf(want, sizeof want,
	         "1700000000|NONE|NONE|NONE|QUEUESTART\n"
	         "1700000005|NONE|NONE|1001|AGENTLOGIN|1001\n"
	         "1700000005|1700000000.%u|support|NONE|ENTERQUEUE||4930123|1\n"
	         "1700000005|1700000000.%u|support|1001|RINGNOANSWER|2500\n"
	         "1700000005|1700000000.%u|support|1001|CONNECT|13|1700000000.%u|3\n"
	         "1700000005|1700000000.%u|support|1001|COMPLETECALLER|13|60|1\n"
	         "1700000005|NONE|support|1001|PAUSE|\n"
	         "1700000005|NONE|NONE|1001|AGENTLOGOFF|1001|100\n",
	         call, call, call, call, call);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, want);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(path);
	rmdir(dir);
	engine_free(e);
}

static void test_abandon_timeout(void **state)
{
	(void)state;
	char dir[] = "/tmp/callq-ql-XXXXXX", path[64], err[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/queue_log", dir);
	engine_t *e = engine_new();
	struct eng_queue_conf qc;
	qconf_defaults(&qc);
	snprintf(qc.name, sizeof qc.name, "sales");
	eng_id q = engine_queue_add(e, 0, &qc);
	queuelog_t *ql = queuelog_open(path, START, err, sizeof err);
	assert_non_null(ql);
	struct eng_action seq[] = {
		ev(EV_CALL_ENTER, 3, q, 0, 1000, 0, ""),
		ev(EV_CALL_ABANDON, 3, q, 0, 31000, 0, "waiting"),
		ev(EV_CALL_ENTER, 4, q, 0, 2000, 0, ""),
		ev(EV_CALL_TIMEOUT, 4, q, 0, 602000, 0, ""),
		ev(EV_CALL_REFUSED, 5, q, 0, 3000, 0, "limit"),
	};
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
		queuelog_event(ql, e, WALL, &seq[i]);
	queuelog_close(ql);
	char got[1024] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, "1700000000|NONE|NONE|NONE|QUEUESTART\n"
	                         "1700000005|1700000000.3|sales|NONE|ENTERQUEUE|||1\n"
	                         "1700000005|1700000000.3|sales|NONE|ABANDON|1|1|30\n"
	                         "1700000005|1700000000.4|sales|NONE|ENTERQUEUE|||1\n"
	                         "1700000005|1700000000.4|sales|NONE|EXITWITHTIMEOUT|1|1|600\n"
	                         "1700000005|1700000000.5|sales|NONE|FULL\n");
	unlink(path);
	rmdir(dir);
	engine_free(e);
}

/* Who ended a talk, a transfer, pause reasons and assignments. */
static void test_complete_member_pause(void **state)
{
	(void)state;
	char dir[] = "/tmp/callq-ql-XXXXXX", path[64], err[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/queue_log", dir);
	engine_t *e = engine_new();
	struct eng_queue_conf qc;
	qconf_defaults(&qc);
	snprintf(qc.name, sizeof qc.name, "support");
	eng_id q = engine_queue_add(e, 0, &qc);
	eng_id m = engine_member_add(e, "1002", "Bo", ROLE_AGENT);
	queuelog_t *ql = queuelog_open(path, START, err, sizeof err);
	assert_non_null(ql);
	queuelog_member(ql, WALL, "support", "1002", true, true);
	struct eng_action seq[] = {
		ev(EV_CALL_ENTER, 7, q, 0, 1000, 0, ""),
		ev(EV_CALL_ANSWER, 7, q, m, 4000, 3000, ""),
		ev(EV_CALL_END, 7, q, m, 24000, 20000, "agent"),
		ev(EV_CALL_ENTER, 8, q, 0, 30000, 0, ""),
		ev(EV_CALL_ANSWER, 8, q, m, 31000, 1000, ""),
		ev(EV_CALL_END, 8, q, m, 41000, 10000, "operator"),
		ev(EV_CALL_ENTER, 9, q, 0, 50000, 0, ""),
		ev(EV_CALL_ANSWER, 9, q, m, 52000, 2000, ""),
		ev(EV_CALL_END, 9, q, m, 57000, 5000, "transfer"),
		ev(EV_CALL_TRANSFER, 9, q, 0, 57000, 0, "member:1003"),
		ev(EV_AGENT_PAUSE, 0, q, m, 60000, 0, "lunch"),
		ev(EV_AGENT_RESUME, 0, q, m, 61000, 0, ""),
	};
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
		queuelog_event(ql, e, WALL, &seq[i]);
	queuelog_member(ql, WALL, "support", "1002", false, false);
	queuelog_member(ql, WALL, "support", "1002", true, false);
	queuelog_close(ql);
	char got[2048] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, "1700000000|NONE|NONE|NONE|QUEUESTART\n"
	                         "1700000005|NONE|support|1002|ADDMEMBER|PAUSED\n"
	                         "1700000005|1700000000.7|support|NONE|ENTERQUEUE|||1\n"
	                         "1700000005|1700000000.7|support|1002|CONNECT|3|1700000000.7|0\n"
	                         "1700000005|1700000000.7|support|1002|COMPLETEAGENT|3|20|1\n"
	                         "1700000005|1700000000.8|support|NONE|ENTERQUEUE|||1\n"
	                         "1700000005|1700000000.8|support|1002|CONNECT|1|1700000000.8|0\n"
	                         "1700000005|1700000000.8|support|1002|COMPLETEAGENT|1|10|1\n"
	                         "1700000005|1700000000.9|support|NONE|ENTERQUEUE|||1\n"
	                         "1700000005|1700000000.9|support|1002|CONNECT|2|1700000000.9|0\n"
	                         "1700000005|1700000000.9|support|NONE|TRANSFER|member:1003||2|5|1\n"
	                         "1700000005|NONE|support|1002|PAUSE|lunch\n"
	                         "1700000005|NONE|support|1002|UNPAUSE|\n"
	                         "1700000005|NONE|support|1002|REMOVEMEMBER|\n"
	                         "1700000005|NONE|support|1002|ADDMEMBER|\n");
	unlink(path);
	rmdir(dir);
	engine_free(e);
}

/* Callbacks have CALLBACK* lines of their own. */
static void test_callback_lines(void **state)
{
	(void)state;
	char dir[] = "/tmp/callq-ql-XXXXXX", path[64], err[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/queue_log", dir);
	engine_t *e = engine_new();
	struct eng_queue_conf qc;
	qconf_defaults(&qc);
	snprintf(qc.name, sizeof qc.name, "sales");
	eng_id q = engine_queue_add(e, 0, &qc);
	queuelog_t *ql = queuelog_open(path, START, err, sizeof err);
	assert_non_null(ql);
	struct eng_action seq[] = {
		ev(EV_CALL_ENTER, 3, q, 0, 1000, 0, ""),
		ev(EV_CALLBACK_REQUEST, 3, q, 0, 21000, 2, "5550002"),
		ev(EV_CALLBACK_ATTEMPT, 3, q, 0, 60000, 1, ""),
		ev(EV_CALLBACK_RETRY, 3, q, 0, 70000, 300000, "busy"),
		ev(EV_CALLBACK_MOVE, 3, q, 0, 80000, 1, ""),
		ev(EV_CALLBACK_ATTEMPT, 3, q, 0, 400000, 2, ""),
		ev(EV_CALLBACK_REACHED, 3, q, 0, 405000, 2, ""),
		ev(EV_CALLBACK_FAILED, 4, q, 0, 500000, 3, "noanswer"),
	};
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
		queuelog_event(ql, e, WALL, &seq[i]);
	queuelog_close(ql);
	char got[1024] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, "1700000000|NONE|NONE|NONE|QUEUESTART\n"
	                         "1700000005|1700000000.3|sales|NONE|ENTERQUEUE|||1\n"
	                         "1700000005|1700000000.3|sales|NONE|CALLBACKREQUEST|5550002|2|20\n"
	                         "1700000005|1700000000.3|sales|NONE|CALLBACKATTEMPT|1\n"
	                         "1700000005|1700000000.3|sales|NONE|CALLBACKRETRY|busy|300\n"
	                         "1700000005|1700000000.3|sales|NONE|CALLBACKMOVE|1\n"
	                         "1700000005|1700000000.3|sales|NONE|CALLBACKATTEMPT|2\n"
	                         "1700000005|1700000000.3|sales|NONE|CALLBACKREACHED|2\n"
	                         "1700000005|1700000000.4|sales|NONE|CALLBACKFAILED|noanswer|3\n");
	unlink(path);
	rmdir(dir);
	engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_call_and_agent),
		cmocka_unit_test(test_abandon_timeout),
		cmocka_unit_test(test_complete_member_pause),
		cmocka_unit_test(test_callback_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

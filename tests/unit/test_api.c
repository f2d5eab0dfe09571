/* test_api.c — JSON request -> control line (quoting, order, refusals) and
 * control reply -> JSON (rows, text, errors and their HTTP statuses, CSV),
 * event lines -> Server-Sent Events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/proto.h"
#include "web/web.h"

static const char *line_of(const char *verb, const char *body)
{
	static char line[CTL_LINE_MAX + 1];
	char err[160];
	if (api_line(verb, body, strlen(body), line, sizeof line, err, sizeof err) < 0)
		snprintf(line, sizeof line, "ERROR %s", err);
	return line;
}

static void test_line(void **state)
{
	(void)state;
	assert_string_equal(line_of("stats", "{\"window\":600,\"args\":[\"support\"]}"),
	                    "stats support window=600");
	assert_string_equal(line_of("whoami", ""), "whoami");
	assert_string_equal(line_of("member.set", "{\"args\":[\"1001\"],\"name\":\"Ann \\\"A\\\" Lee\","
	                                          "\"record\":true}"),
	                    "member.set 1001 name=\"Ann \\\"A\\\" Lee\" record=yes");
	assert_string_equal(line_of("skill.set", "{\"args\":[\"vip\"],\"rule\":[\"caller_number starts_with 49\","
	                                         "\"callee_number matches ^6\"]}"),
	                    "skill.set vip rule=\"caller_number starts_with 49\" "
	                    "rule=\"callee_number matches ^6\"");
	assert_string_equal(line_of("agent.away", "{\"args\":[\"a=b\", \"\"]}"), "agent.away \"a=b\" \"\"");
	/* What the line says is what ctl_parse reads back. */
	char copy[CTL_LINE_MAX + 1];
	struct ctl_req req;
	const char *err;
	snprintf(copy, sizeof copy, "%s", line_of("x", "{\"args\":[\"a b\",\"c\\\\\"],\"k\":\"v=w \\\"\"}"));
	assert_int_equal(ctl_parse(copy, &req, &err), 0);
	assert_string_equal(ctl_word(&req, 0), "a b");
	assert_string_equal(ctl_word(&req, 1), "c\\");
	assert_string_equal(ctl_get(&req, "k"), "v=w \"");
}

static void test_line_refused(void **state)
{
	(void)state;
	assert_memory_equal(line_of("subscribe", "{}"), "ERROR", 5);
	assert_memory_equal(line_of("auth", "{\"args\":[\"1001\",\"pw\"]}"), "ERROR", 5);
	assert_memory_equal(line_of("bad verb", "{}"), "ERROR", 5);
	assert_memory_equal(line_of("stats", "{\"bad key\":1}"), "ERROR", 5);
	assert_memory_equal(line_of("stats", "{\"a=b\":1}"), "ERROR", 5);
	assert_memory_equal(line_of("stats", "[1]"), "ERROR", 5);
	char big[9000];
	snprintf(big, sizeof big, "{\"k\":\"%04000d\",\"l\":\"%04000d\"}", 1, 2);
	assert_memory_equal(line_of("stats", big), "ERROR request too long", 22);
}

static int reply_of(const char *reply, bool raw, char *out, size_t cap)
{
	struct jbuf j;
	jbuf_init(&j, 65536);
	int status = api_reply(reply, strlen(reply), raw, &j);
	snprintf(out, cap, "%s", j.buf ? j.buf : "");
	jbuf_free(&j);
	return status;
}

static void test_reply(void **state)
{
	(void)state;
	char out[1024];
	assert_int_equal(reply_of("OK\n", false, out, sizeof out), 200);
	assert_string_equal(out, "{\"ok\":true}");
	assert_int_equal(reply_of("OK 1001 agent\n", false, out, sizeof out), 200);
	assert_string_equal(out, "{\"ok\":true,\"text\":\"1001 agent\"}");
	assert_int_equal(reply_of("OK 2 rows\nlogin=1001 name=\"Ann \\\"A\\\"\"\nlogin=1002 name=\"\"\n",
	                          false, out, sizeof out), 200);
	assert_string_equal(out, "{\"ok\":true,\"rows\":[{\"login\":\"1001\",\"name\":\"Ann \\\"A\\\"\"},"
	                         "{\"login\":\"1002\",\"name\":\"\"}]}");
	assert_int_equal(reply_of("OK 0 rows\n", false, out, sizeof out), 200);
	assert_string_equal(out, "{\"ok\":true,\"rows\":[]}");
	assert_int_equal(reply_of("OK 2 rows\nqueue,handled\nsupport,3\n", true, out, sizeof out), 200);
	assert_string_equal(out, "{\"ok\":true,\"text\":\"queue,handled\\nsupport,3\"}");
	assert_int_equal(reply_of("OK 2 rows\na=1\n", false, out, sizeof out), 500);
}

static void test_reply_errors(void **state)
{
	(void)state;
	static const struct {
		const char *code;
		int status;
	} map[] = { { "usage", 400 }, { "invalid", 400 }, { "denied", 403 }, { "notfound", 404 },
	            { "exists", 409 }, { "busy", 503 }, { "internal", 500 } };
	char reply[128], out[512], want[256];
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		snprintf(reply, sizeof reply, "ERR %s it \"went\" wrong\n", map[i].code);
		assert_int_equal(reply_of(reply, false, out, sizeof out), map[i].status);
		snprintf(want, sizeof want,
		         "{\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":\"it \\\"went\\\" wrong\"}}",
		         map[i].code);
		assert_string_equal(out, want);
	}
	assert_int_equal(reply_of("", false, out, sizeof out), 500);
}

static void test_event_sse(void **state)
{
	(void)state;
	const char line[] = "EVENT call.enter time=1700000000000 call=7 queue=support member=\"\" "
	                    "value=0 reason=\"a b\"\n";
	struct jbuf j;
	jbuf_init(&j, 4096);
	assert_true(api_event_sse(line, sizeof line - 1, &j));
	assert_string_equal(j.buf, "event: call.enter\ndata: {\"event\":\"call.enter\",\"time\":\"1700000000000\","
	                           "\"call\":\"7\",\"queue\":\"support\",\"member\":\"\",\"value\":\"0\","
	                           "\"reason\":\"a b\"}\n\n");
	jbuf_free(&j);
	jbuf_init(&j, 4096);
	assert_false(api_event_sse("OK 1 rows\n", 10, &j));
	jbuf_free(&j);
	jbuf_init(&j, 32);
	assert_false(api_event_sse(line, sizeof line - 1, &j));
	jbuf_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_refused),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_event_sse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

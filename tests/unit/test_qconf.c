/* test_qconf.c — every queue setting, valid and invalid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "acd/qconf.h"

static char err[256];

static struct eng_queue_conf base(void)
{
	struct eng_queue_conf c;

	qconf_defaults(&c);
	snprintf(c.name, sizeof(c.name), "support");
	snprintf(c.number, sizeof(c.number), "6000");
	return c;
}

/* Sets key=value and checks the outcome and, on success, the formatted value. */
static void ok(struct eng_queue_conf *c, const char *key, const char *value, const char *shown)
{
	char buf[ENG_HOLD_MAX];

	err[0] = '\0';
	if (qconf_set(c, key, value, err, sizeof(err)) != 0)
		fail_msg("%s=%s refused: %s", key, value, err);
	assert_int_equal(qconf_get(c, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, shown);
}

/* A refused value leaves the conf untouched and names the key in the error. */
static void bad(struct eng_queue_conf *c, const char *key, const char *value)
{
	struct eng_queue_conf before = *c;

	err[0] = '\0';
	if (qconf_set(c, key, value, err, sizeof(err)) == 0)
		fail_msg("%s=%s accepted", key, value);
	assert_memory_equal(&before, c, sizeof(before));
	assert_non_null(strstr(err, key));
}

static void test_defaults(void **state)
{
	struct eng_queue_conf c;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	qconf_defaults(&c);
	assert_int_equal(c.strategy, STRAT_ROUND_ROBIN);
	assert_int_equal(c.timeout_s, 600);
	assert_int_equal(c.connect_timeout_s, 15);
	assert_int_equal(c.recovery_s, 5);
	assert_int_equal(c.recovery_extend_s, 0);
	assert_int_equal(c.call_limit, 0);
	assert_int_equal(c.retry_rejected_s, 5);
	assert_int_equal(c.retry_timeout_s, 5);
	assert_int_equal(c.retry_unreachable_s, 30);
	assert_false(c.recovery_multi || c.timeout_if_empty || c.force_away ||
	             c.record || c.show_agents || c.paused);
	assert_string_equal(c.hold, "position,pause:2,file:music.wav,wait,repeat");
	assert_string_equal(c.name, "");
	assert_string_equal(c.number, "");
	assert_string_equal(c.escalation_queue, "");
	assert_string_equal(c.escalation_dest, "");
	assert_string_equal(c.zero_out, "");
}

static void test_number(void **state)
{
	struct eng_queue_conf c = base();

	(void)state;
	ok(&c, "number", "6001", "6001");
	ok(&c, "number", "*77#", "*77#");
	ok(&c, "number", "1234567890123456789012345678901", "1234567890123456789012345678901");
	bad(&c, "number", "");
	bad(&c, "number", "12345678901234567890123456789012");
	bad(&c, "number", "60a1");
	bad(&c, "number", "+6001");
	bad(&c, "number", "60 01");
}

static void test_dids_and_priority_step(void **state)
{
	struct eng_queue_conf c = base();

	(void)state;
	assert_string_equal(c.dids, "");
	assert_int_equal(c.priority_step_s, 0);
	ok(&c, "dids", "6010,6011,*12", "6010,6011,*12");
	ok(&c, "dids", "", "");
	bad(&c, "dids", "6010,6010");
	bad(&c, "dids", "6000");                      /* the queue's own number */
	bad(&c, "dids", "6010,");
	bad(&c, "dids", ",6010");
	bad(&c, "dids", "60a0");
	ok(&c, "priority_step", "30", "30");
	ok(&c, "priority_step", "0", "0");
	bad(&c, "priority_step", "3601");
	bad(&c, "priority_step", "-1");
}

static void test_strategy(void **state)
{
	struct eng_queue_conf c = base();

	(void)state;
	ok(&c, "strategy", "most-idle", "most-idle");
	ok(&c, "strategy", "least-calls", "least-calls");
	ok(&c, "strategy", "least-offers", "least-offers");
	ok(&c, "strategy", "round-robin", "round-robin");
	ok(&c, "strategy", "skills-strict", "skills-strict");
	ok(&c, "strategy", "skills-loose", "skills-loose");
	bad(&c, "strategy", "random");
	bad(&c, "strategy", "");
	bad(&c, "strategy", "Round-Robin");
}

static void test_call_limit(void **state)
{
	struct eng_queue_conf c = base();

	(void)state;
	ok(&c, "call_limit", "0", "0");
	ok(&c, "call_limit", "25", "25");
	ok(&c, "call_limit", "100000", "100000");
	bad(&c, "call_limit", "-1");
	bad(&c, "call_limit", "100001");
	bad(&c, "call_limit", "99999999999999999999999");
	bad(&c, "call_limit", "ten");
	bad(&c, "call_limit", "");
	bad(&c, "call_limit", "5x");
	bad(&c, "call_limit", " 5");
	bad(&c, "call_limit", "0x10");
}

static void test_timeouts(void **state)
{
	struct eng_queue_conf c = base();

	(void)state;
	ok(&c, "timeout", "1", "1");
	ok(&c, "timeout", "7200", "7200");
	bad(&c, "timeout", "0");
	bad(&c, "timeout", "7201");
	assert_non_null(strstr(err, "1..7200"));
	bad(&c, "timeout", "-5");
	bad(&c, "timeout", "4294967297");
	bad(&c, "timeout", "1.5");

	ok(&c, "connect_timeout", "1", "1");
	ok(&c, "connect_timeout", "600", "600");
	bad(&c, "connect_timeout", "0");
	bad(&c, "connect_timeout", "601");
	bad(&c, "connect_timeout", "abc");

	ok(&c, "recovery", "0", "0");
	ok(&c, "recovery", "3600", "3600");
	bad(&c, "recovery", "3601");
	bad(&c, "recovery", "-1");
	bad(&c, "recovery", "");

	ok(&c, "recovery_extend", "0", "0");
	ok(&c, "recovery_extend", "30", "30");
	bad(&c, "recovery_extend", "3601");
	bad(&c, "recovery_extend", "x");
}

/* Retry delays: 1..3600 s; 0 is refused (a phone failing at once would be
 * rung again at once, in a loop). */
static void test_retry_delays(void **state)
{
	static const char *const keys[] = { "retry_rejected", "retry_timeout", "retry_unreachable" };
	struct eng_queue_conf c = base();
	char err2[128];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		ok(&c, keys[i], "1", "1");
		ok(&c, keys[i], "3600", "3600");
		bad(&c, keys[i], "0");
		bad(&c, keys[i], "3601");
		bad(&c, keys[i], "-1");
		bad(&c, keys[i], "5s");
		bad(&c, keys[i], "");
	}
	ok(&c, "retry_rejected", "7", "7");
	ok(&c, "retry_timeout", "11", "11");
	ok(&c, "retry_unreachable", "13", "13");
	assert_int_equal(c.retry_rejected_s, 7);
	assert_int_equal(c.retry_timeout_s, 11);
	assert_int_equal(c.retry_unreachable_s, 13);
	assert_int_equal(qconf_set(&c, "retry_rejected", "0", err2, sizeof(err2)), -1);
	assert_string_equal(err2, "retry_rejected: 0 is out of range 1..3600");
}

static void test_booleans(void **state)
{
	static const char *const keys[] = { "timeout_if_empty", "record", "show_agents",
	                                    "force_away", "recovery_multi" };
	struct eng_queue_conf c = base();

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		ok(&c, keys[i], "yes", "yes");
		ok(&c, keys[i], "no", "no");
		ok(&c, keys[i], "true", "yes");
		ok(&c, keys[i], "false", "no");
		ok(&c, keys[i], "1", "yes");
		ok(&c, keys[i], "0", "no");
		ok(&c, keys[i], "on", "yes");
		ok(&c, keys[i], "off", "no");
		ok(&c, keys[i], "YES", "yes");
		bad(&c, keys[i], "maybe");
		bad(&c, keys[i], "");
		bad(&c, keys[i], "2");
	}
}

static void test_destinations(void **state)
{
	static const char *const keys[] = { "zero_out", "escalation_dest" };
	struct eng_queue_conf c = base();

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		ok(&c, keys[i], "queue:sales", "queue:sales");
		ok(&c, keys[i], "member:1001", "member:1001");
		ok(&c, keys[i], "group:1001+1002+1003", "group:1001+1002+1003");
		ok(&c, keys[i], "group:1001", "group:1001");
		ok(&c, keys[i], "voicemail:1001", "voicemail:1001");
		ok(&c, keys[i], "uri:sip:help@example.com", "uri:sip:help@example.com");
		ok(&c, keys[i], "uri:sips:help@example.com:5061", "uri:sips:help@example.com:5061");
		ok(&c, keys[i], "hangup", "hangup");
		ok(&c, keys[i], "gateway:prov/15551234", "gateway:prov/15551234");
		ok(&c, keys[i], "gateway:prov.2/+4930123*9#", "gateway:prov.2/+4930123*9#");
		bad(&c, keys[i], "gateway:prov");
		bad(&c, keys[i], "gateway:/123");
		bad(&c, keys[i], "gateway:prov/");
		bad(&c, keys[i], "gateway:prov/12a");
		bad(&c, keys[i], "gateway:prov/1+2");
		bad(&c, keys[i], "gateway:bad name/123");
		ok(&c, keys[i], "", "");
		bad(&c, keys[i], "queue:");
		bad(&c, keys[i], "queue:bad name");
		bad(&c, keys[i], "member:a/b");
		bad(&c, keys[i], "group:");
		bad(&c, keys[i], "group:1001+");
		bad(&c, keys[i], "group:+1001");
		bad(&c, keys[i], "group:1001++1002");
		bad(&c, keys[i], "voicemail:");
		bad(&c, keys[i], "uri:http://example.com");
		bad(&c, keys[i], "uri:sip:");
		bad(&c, keys[i], "uri:sip:a b");
		bad(&c, keys[i], "hangup:now");
		bad(&c, keys[i], "sales");
		bad(&c, keys[i], "Queue:sales");
	}
}

static void test_escalation_queue(void **state)
{
	struct eng_queue_conf c = base();
	char longname[80];

	(void)state;
	ok(&c, "escalation_queue", "sales", "sales");
	ok(&c, "escalation_queue", "tier-2.eu_west", "tier-2.eu_west");
	ok(&c, "escalation_queue", "", "");
	bad(&c, "escalation_queue", "support");   /* itself */
	bad(&c, "escalation_queue", "queue:sales");
	bad(&c, "escalation_queue", "two words");
	memset(longname, 'a', 64);
	longname[64] = '\0';
	bad(&c, "escalation_queue", longname);
	longname[63] = '\0';
	ok(&c, "escalation_queue", longname, longname);
}

static void test_hold(void **state)
{
	struct eng_queue_conf c = base();
	char big[ENG_HOLD_MAX + 1];

	(void)state;
	ok(&c, "hold", "file:music.wav,repeat", "file:music.wav,repeat");
	ok(&c, "hold", "wait", "wait");
	bad(&c, "hold", "");
	bad(&c, "hold", "file:a\nwav");
	memset(big, 'a', ENG_HOLD_MAX);
	big[ENG_HOLD_MAX] = '\0';
	bad(&c, "hold", big);
	big[ENG_HOLD_MAX - 1] = '\0';
	ok(&c, "hold", big, big);
}

static void test_unknown_and_paused(void **state)
{
	struct eng_queue_conf c = base();
	char buf[8];

	(void)state;
	bad(&c, "colour", "blue");
	assert_non_null(strstr(err, "unknown"));
	bad(&c, "paused", "yes");
	assert_non_null(strstr(err, "queue.pause"));
	bad(&c, "name", "other");
	bad(&c, "timeout", NULL);
	assert_int_equal(qconf_get(&c, "colour", buf, sizeof(buf)), -1);
	assert_int_equal(qconf_get(&c, "hold", buf, sizeof(buf)), -1);   /* too small */
}

static void test_keys_roundtrip(void **state)
{
	const char *const *keys = qconf_keys();
	struct eng_queue_conf c = base(), d = base();
	char buf[ENG_HOLD_MAX];
	size_t n = 0;

	(void)state;
	ok(&c, "strategy", "least-offers", "least-offers");
	ok(&c, "force_away", "yes", "yes");
	ok(&c, "zero_out", "voicemail:1001", "voicemail:1001");
	ok(&c, "call_limit", "3", "3");
	ok(&c, "retry_unreachable", "60", "60");
	ok(&c, "callback_gateway", "prov", "prov");
	ok(&c, "callback_hours", "22:00-06:30", "22:00-06:30");
	ok(&c, "callback_outside", "drop", "drop");
	ok(&c, "callback_key", "*", "*");
	ok(&c, "callback_mode", "customer-first", "customer-first");
	for (; keys[n]; n++) {
		assert_int_equal(qconf_get(&c, keys[n], buf, sizeof(buf)), 0);
		if (qconf_set(&d, keys[n], buf, err, sizeof(err)) != 0 && strcmp(keys[n], "number") != 0)
			fail_msg("%s=%s does not round-trip: %s", keys[n], buf, err);
	}
	assert_int_equal(n, 32);
	assert_memory_equal(&c, &d, sizeof(c));
}

static void test_callback_settings(void **state)
{
	struct eng_queue_conf c = base();

	(void)state;
	assert_int_equal(c.callback_key, '1');
	assert_int_equal(c.callback_retries, 2);
	assert_int_equal(c.callback_retry_delay_s, 300);
	assert_string_equal(c.callback_gateway, "");
	ok(&c, "callback_hours", "08:00-18:00", "08:00-18:00");
	assert_int_equal(c.callback_open_min, 480);
	assert_int_equal(c.callback_close_min, 1080);
	ok(&c, "callback_hours", "", "");
	assert_int_equal(c.callback_open_min, c.callback_close_min);
	bad(&c, "callback_hours", "08:00-08:00");
	bad(&c, "callback_hours", "24:00-08:00");
	bad(&c, "callback_hours", "8:00-18:00");
	bad(&c, "callback_key", "#");
	bad(&c, "callback_key", "12");
	bad(&c, "callback_retry_delay", "0");
	bad(&c, "callback_retries", "11");
	bad(&c, "callback_outside", "maybe");
	assert_false(c.callback_customer_first);
	ok(&c, "callback_mode", "agent-first", "agent-first");
	bad(&c, "callback_mode", "customer");
	ok(&c, "callback_mode", "customer-first", "customer-first");
	assert_true(c.callback_customer_first);
	bad(&c, "callback_gateway", "no/slash");
	ok(&c, "callback_wait", "120", "120");
}

static void test_wait_lang_service_level(void **state)
{
	struct eng_queue_conf c = base();
	char buf[32];

	(void)state;
	assert_int_equal(c.wait_estimate, WAIT_LAST5);
	assert_int_equal(c.service_level_s, 20);
	assert_string_equal(c.lang, "en");
	assert_int_equal(qconf_get(&c, "wait_estimate", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "last5");
	ok(&c, "wait_estimate", "throughput", "throughput");
	assert_int_equal(c.wait_estimate, WAIT_THROUGHPUT);
	ok(&c, "wait_estimate", "last5", "last5");
	bad(&c, "wait_estimate", "average");
	bad(&c, "wait_estimate", "");
	ok(&c, "lang", "fr", "fr");
	ok(&c, "lang", "pt-BR", "pt-BR");
	ok(&c, "lang", "en-gb", "en-gb");
	bad(&c, "lang", "");
	bad(&c, "lang", "EN");
	bad(&c, "lang", "e");
	bad(&c, "lang", "eng");
	bad(&c, "lang", "../x");
	bad(&c, "lang", "pt-BRA");
	bad(&c, "lang", "pt_BR");
	ok(&c, "service_level", "30", "30");
	bad(&c, "service_level", "0");
	bad(&c, "service_level", "7201");
}

static void test_name_valid(void **state)
{
	(void)state;
	assert_true(qconf_name_valid("support"));
	assert_true(qconf_name_valid("A-z_0.9"));
	assert_false(qconf_name_valid(""));
	assert_false(qconf_name_valid(NULL));
	assert_false(qconf_name_valid("sup port"));
	assert_false(qconf_name_valid("sup/port"));
	assert_false(qconf_name_valid("caf\xc3\xa9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_strategy),
		cmocka_unit_test(test_dids_and_priority_step),
		cmocka_unit_test(test_call_limit),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_retry_delays),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_escalation_queue),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_unknown_and_paused),
		cmocka_unit_test(test_keys_roundtrip),
		cmocka_unit_test(test_callback_settings),
		cmocka_unit_test(test_wait_lang_service_level),
		cmocka_unit_test(test_name_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

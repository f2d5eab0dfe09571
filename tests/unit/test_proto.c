/* test_proto.c — the control line format: parsing and the output builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/proto.h"

/* Parses a copy of `text` into `buf`/`req`; returns the error text or NULL. */
static const char *parse(const char *text, char *buf, size_t cap, struct ctl_req *req)
{
	const char *err = NULL;
	snprintf(buf, cap, "%s", text);
	int rc = ctl_parse(buf, req, &err);
	assert_int_equal(rc == 0, err == NULL);
	return err;
}

static void test_words_and_pairs(void **state)
{
	(void)state;
	char buf[256];
	struct ctl_req r;
	assert_null(parse("  queue.set   support  timeout=30\tname=x  ", buf, sizeof buf, &r));
	assert_string_equal(r.verb, "queue.set");
	assert_int_equal(r.argc, 3);
	assert_null(r.argv[0].key);
	assert_string_equal(r.argv[0].value, "support");
	assert_string_equal(r.argv[1].key, "timeout");
	assert_string_equal(r.argv[1].value, "30");
	assert_string_equal(ctl_get(&r, "name"), "x");
	assert_null(ctl_get(&r, "nothing"));
	assert_string_equal(ctl_word(&r, 0), "support");
	assert_null(ctl_word(&r, 1));
}

static void test_quotes_and_escapes(void **state)
{
	(void)state;
	char buf[256];
	struct ctl_req r;
	assert_null(parse("member.add 1001 name=\"Joe \\\"J\\\" Smith\" \"a b\" path=\"c:\\\\x\" "
	                  "empty=\"\" e2= \"\"",
	                  buf, sizeof buf, &r));
	assert_string_equal(ctl_get(&r, "name"), "Joe \"J\" Smith");
	assert_string_equal(ctl_word(&r, 1), "a b");
	assert_string_equal(ctl_get(&r, "path"), "c:\\x");
	assert_string_equal(ctl_get(&r, "empty"), "");
	assert_string_equal(ctl_get(&r, "e2"), "");
	assert_string_equal(ctl_word(&r, 2), "");
	assert_int_equal(r.argc, 7);
}

static void test_quote_inside_word_is_literal(void **state)
{
	(void)state;
	char buf[256];
	struct ctl_req r;
	assert_null(parse("v ab\"c k=x\"y\\z a=b=c \"x=y\"", buf, sizeof buf, &r));
	assert_string_equal(ctl_word(&r, 0), "ab\"c");
	assert_string_equal(ctl_get(&r, "k"), "x\"y\\z");
	assert_string_equal(ctl_get(&r, "a"), "b=c");
	assert_string_equal(ctl_word(&r, 1), "x=y");
}

static void test_verb_never_splits_and_crlf(void **state)
{
	(void)state;
	char buf[64];
	struct ctl_req r;
	assert_null(parse("a=b c\r", buf, sizeof buf, &r));
	assert_string_equal(r.verb, "a=b");
	assert_string_equal(ctl_word(&r, 0), "c");
}

static void test_repeated_keys(void **state)
{
	(void)state;
	char buf[256];
	struct ctl_req r;
	assert_null(parse("skill.set x rule=\"caller_number starts_with 33\" match=any "
	                  "rule=\"callee_name matches ^A\"",
	                  buf, sizeof buf, &r));
	assert_int_equal(ctl_count(&r, "rule"), 2);
	assert_int_equal(ctl_count(&r, "match"), 1);
	assert_int_equal(ctl_count(&r, "x"), 0);
	assert_string_equal(ctl_get(&r, "rule"), "caller_number starts_with 33");
	assert_string_equal(r.argv[3].value, "callee_name matches ^A");
}

static void test_errors(void **state)
{
	(void)state;
	char buf[256];
	struct ctl_req r;
	assert_string_equal(parse("", buf, sizeof buf, &r), "empty request");
	assert_string_equal(parse(" \t ", buf, sizeof buf, &r), "empty request");
	assert_string_equal(parse("v \"abc", buf, sizeof buf, &r), "unterminated quote");
	assert_string_equal(parse("v k=\"abc\\\"", buf, sizeof buf, &r), "unterminated quote");
	assert_string_equal(parse("v k=\"ab\\", buf, sizeof buf, &r), "unterminated quote");
	assert_string_equal(parse("v \"a\\nb\"", buf, sizeof buf, &r), "bad escape");
	assert_string_equal(parse("v \"ab\"c", buf, sizeof buf, &r), "text after closing quote");
	assert_string_equal(parse("v =x", buf, sizeof buf, &r), "empty key");
}

static void test_argument_limit(void **state)
{
	(void)state;
	char line[CTL_LINE_MAX + 1] = "v";
	char buf[CTL_LINE_MAX + 1];
	struct ctl_req r;
	for (int i = 0; i < CTL_ARGS_MAX; i++)
		strcat(line, " w");
	assert_null(parse(line, buf, sizeof buf, &r));
	assert_int_equal(r.argc, CTL_ARGS_MAX);
	strcat(line, " w");
	assert_string_equal(parse(line, buf, sizeof buf, &r), "too many arguments");
}

static void test_line_limit(void **state)
{
	(void)state;
	static char line[CTL_LINE_MAX + 2];
	struct ctl_req r;
	const char *err;
	memset(line, 'a', CTL_LINE_MAX);
	line[CTL_LINE_MAX] = '\0';
	assert_int_equal(ctl_parse(line, &r, &err), 0);
	assert_int_equal(strlen(r.verb), CTL_LINE_MAX);
	memset(line, 'a', CTL_LINE_MAX + 1);
	line[CTL_LINE_MAX + 1] = '\0';
	assert_int_equal(ctl_parse(line, &r, &err), -1);
	assert_string_equal(err, "line too long");
}

static void test_out_quoting(void **state)
{
	(void)state;
	char buf[256];
	struct ctl_out o;
	ctl_out_init(&o, buf, sizeof buf);
	ctl_out_raw(&o, "OK 1 rows\n");
	ctl_out_kv(&o, "name", "support");
	ctl_out_kv(&o, "hold", "a b");
	ctl_out_kv(&o, "q", "say \"hi\" \\o/");
	ctl_out_kv(&o, "e", "");
	ctl_out_kv(&o, "eq", "a=b");
	ctl_out_kv(&o, "nul", NULL);
	ctl_out_kvu(&o, "n", 18446744073709551615ULL);
	ctl_out_word(&o, "w x");
	ctl_out_nl(&o);
	ctl_out_word(&o, "next");
	assert_false(o.truncated);
	assert_string_equal(buf, "OK 1 rows\nname=support hold=\"a b\" q=\"say \\\"hi\\\" \\\\o/\" e=\"\" "
	                         "eq=\"a=b\" nul=\"\" n=18446744073709551615 \"w x\"\nnext");
	assert_int_equal(o.len, strlen(buf));
}

static void test_out_control_chars(void **state)
{
	(void)state;
	char buf[64];
	struct ctl_out o;
	ctl_out_init(&o, buf, sizeof buf);
	ctl_out_kv(&o, "k", "a\nb\tc");
	assert_string_equal(buf, "k=\"a b c\"");
}

/* Every value written by the builder reads back the same through the parser. */
static void test_out_round_trip(void **state)
{
	(void)state;
	static const char *const values[] = {
		"plain", "two words", "", "\"", "\\", "a=b", "=", "\"quoted\"", "back\\slash\"mix",
		"x\\\"y", "trailing ", " leading", "ünïcødé",
	};
	const size_t n = sizeof values / sizeof values[0];
	char buf[1024];
	struct ctl_out o;
	ctl_out_init(&o, buf, sizeof buf);
	ctl_out_word(&o, "verb");
	for (size_t i = 0; i < n; i++) {
		char key[8];
		snprintf(key, sizeof key, "k%zu", i);
		ctl_out_kv(&o, key, values[i]);
		ctl_out_word(&o, values[i]);
	}
	assert_false(o.truncated);
	struct ctl_req r;
	const char *err;
	assert_int_equal(ctl_parse(buf, &r, &err), 0);
	assert_int_equal(r.argc, (int)(2 * n));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(r.argv[2 * i].value, values[i]);
		assert_non_null(r.argv[2 * i].key);
		assert_null(r.argv[2 * i + 1].key);
		assert_string_equal(r.argv[2 * i + 1].value, values[i]);
	}
}

static void test_out_truncation(void **state)
{
	(void)state;
	char buf[16];
	memset(buf, 'Z', sizeof buf);
	struct ctl_out o;
	ctl_out_init(&o, buf, 12);
	ctl_out_kv(&o, "a", "12345");       /* "a=12345": 7 bytes */
	assert_false(o.truncated);
	ctl_out_kv(&o, "b", "xyz");         /* " b=xyz" would need 13 with the NUL */
	assert_true(o.truncated);
	ctl_out_raw(&o, "x");               /* fits, but nothing follows a cut */
	assert_string_equal(buf, "a=12345");
	assert_int_equal(o.len, 7);
	assert_int_equal(buf[12], 'Z');

	ctl_out_init(&o, buf, 8);
	ctl_out_raw(&o, "1234567");         /* exactly fills, NUL included */
	assert_false(o.truncated);
	ctl_out_nl(&o);
	assert_true(o.truncated);
	assert_string_equal(buf, "1234567");

	ctl_out_init(&o, buf, 0);
	ctl_out_raw(&o, "");
	assert_true(o.truncated);
	assert_int_equal(o.len, 0);
	assert_int_equal(buf[0], '1');      /* a zero-size buffer is never written */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_and_pairs),
		cmocka_unit_test(test_quotes_and_escapes),
		cmocka_unit_test(test_quote_inside_word_is_literal),
		cmocka_unit_test(test_verb_never_splits_and_crlf),
		cmocka_unit_test(test_repeated_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_argument_limit),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_out_quoting),
		cmocka_unit_test(test_out_control_chars),
		cmocka_unit_test(test_out_round_trip),
		cmocka_unit_test(test_out_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

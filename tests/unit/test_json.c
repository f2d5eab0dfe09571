/* test_json.c — the JSON writer (escaping, UTF-8, bounds) and the reader of
 * flat request objects (members, arrays, escapes, what it refuses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "web/web.h"

struct seen {
	char text[1024];
};

static bool collect(void *ctx, const char *key, int index, const char *value)
{
	struct seen *s = ctx;
	size_t n = strlen(s->text);
	snprintf(s->text + n, sizeof s->text - n, "%s[%d]=%s;", key, index, value);
	return true;
}

static int read_obj(const char *json, struct seen *s, const char **err)
{
	memset(s, 0, sizeof *s);
	return json_object_read(json, strlen(json), collect, s, err);
}

static void test_writer_escapes(void **state)
{
	(void)state;
	struct jbuf b;
	jbuf_init(&b, 1024);
	const char in[] = "a\"b\\c\n\x01\xc3\xa9\xff";
	jbuf_str(&b, in, sizeof in - 1);
	assert_string_equal(b.buf, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xef\xbf\xbd\"");
	assert_false(b.failed);
	jbuf_free(&b);
}

static void test_writer_bounded(void **state)
{
	(void)state;
	struct jbuf b;
	jbuf_init(&b, 8);
	jbuf_lit(&b, "1234567");
	assert_false(b.failed);
	jbuf_lit(&b, "8");
	assert_true(b.failed);
	assert_string_equal(b.buf, "1234567");
	jbuf_free(&b);
}

static void test_reader_members(void **state)
{
	(void)state;
	struct seen s;
	const char *err = NULL;
	assert_int_equal(read_obj(" {\"args\": [\"support\", 5], \"window\": 600, \"record\": true,"
	                          " \"name\": \"A \\\"B\\\" \\u00e9\\ud83d\\ude00\", \"x\": false} ",
	                          &s, &err), 0);
	assert_string_equal(s.text, "args[0]=support;args[1]=5;window[-1]=600;record[-1]=yes;"
	                            "name[-1]=A \"B\" \xc3\xa9\xf0\x9f\x98\x80;x[-1]=no;");
	assert_int_equal(read_obj("{}", &s, &err), 0);
	assert_string_equal(s.text, "");
	assert_int_equal(read_obj("{\"a\":[]}", &s, &err), 0);
	assert_string_equal(s.text, "");
}

static void test_reader_refuses(void **state)
{
	(void)state;
	struct seen s;
	const char *err = NULL;
	static const char *const bad[] = {
		"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":null}", "{\"a\":{}}", "{\"a\":[[1]]}",
		"{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}",
		"{\"a\":\"x\ny\"}", "{\"a\":\"\\q\"}", "{\"a\":1} x", "{\"a\":tru}",
		"{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		assert_int_equal(read_obj(bad[i], &s, &err), -1);
		assert_non_null(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_escapes),
		cmocka_unit_test(test_writer_bounded),
		cmocka_unit_test(test_reader_members),
		cmocka_unit_test(test_reader_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

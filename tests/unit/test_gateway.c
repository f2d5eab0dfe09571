/* Tests src/sip/gateway.c: configuration checks, the backoff schedule,
 * gateway:NAME/NUMBER parsing and the URIs a call through a gateway uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sip/gateway.h"

static void set_ok(struct store_gateway *c, const char *key, const char *value)
{
	char err[200] = "";
	if (gateway_conf_set(c, key, value, err, sizeof err) != 0)
		fail_msg("%s=%s refused: %s", key, value, err);
}

static void set_bad(struct store_gateway *c, const char *key, const char *value)
{
	char err[200] = "";
	struct store_gateway before = *c;
	if (gateway_conf_set(c, key, value, err, sizeof err) == 0)
		fail_msg("%s=%s accepted", key, value);
	assert_non_null(strstr(err, key));
	assert_memory_equal(&before, c, sizeof before);
}

static void test_conf(void **state)
{
	(void)state;
	struct store_gateway c;
	char err[200];
	gateway_conf_init(&c, "prov");
	assert_string_equal(c.name, "prov");
	assert_int_equal(c.expires, 3600);
	assert_false(c.reg);
	assert_int_equal(gateway_conf_check(&c, err, sizeof err), -1);   /* no uri */
	assert_non_null(strstr(err, "uri"));

	set_ok(&c, "uri", "sip:sip.example.net");
	set_ok(&c, "uri", "sip:10.0.0.1:5080;transport=tcp");
	set_ok(&c, "uri", "sips:[2001:db8::1]:5061");
	assert_int_equal(gateway_conf_check(&c, err, sizeof err), 0);
	set_bad(&c, "uri", "sip:user@example.net");
	set_bad(&c, "uri", "http://example.net");
	set_bad(&c, "uri", "sip:");
	set_bad(&c, "uri", "sip:exa mple.net");
	set_bad(&c, "uri", "sip:example.net?Subject=x");
	set_bad(&c, "uri", "sip:example.net;x=\"q\"");

	set_ok(&c, "register", "yes");
	assert_true(c.reg);
	assert_int_equal(gateway_conf_check(&c, err, sizeof err), -1);   /* no credentials */
	set_ok(&c, "username", "acct+1");
	set_ok(&c, "password", "p@ss w0rd!");
	assert_int_equal(gateway_conf_check(&c, err, sizeof err), 0);
	set_bad(&c, "register", "maybe");
	set_bad(&c, "username", "a:b");
	set_bad(&c, "username", "a b");
	set_bad(&c, "password", "a:b");
	set_bad(&c, "password", "tab\there");
	set_ok(&c, "realm", "sip.example.net");
	set_bad(&c, "realm", "say \"hi\"");
	set_ok(&c, "from_user", "+15550100");
	set_ok(&c, "from_user", "");
	set_ok(&c, "expires", "10");
	set_ok(&c, "expires", "86400");
	set_bad(&c, "expires", "9");
	set_bad(&c, "expires", "86401");
	set_bad(&c, "expires", "60s");
	set_bad(&c, "expires", "");
	set_bad(&c, "colour", "blue");
}

static void test_backoff(void **state)
{
	(void)state;
	static const int64_t want[] = { 5000, 10000, 20000, 40000, 80000, 160000, 300000, 300000 };
	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(gateway_backoff_ms(i + 1), want[i]);
	assert_int_equal(gateway_backoff_ms(1000), GATEWAY_BACKOFF_MAX_MS);
	/* Every retry waits: even "no failure yet" never means at once. */
	assert_int_equal(gateway_backoff_ms(0), GATEWAY_BACKOFF_FIRST_MS);
}

static void test_dest_parse(void **state)
{
	(void)state;
	char name[64], number[32];
	assert_true(gateway_dest_parse("gateway:prov/15551234", name, sizeof name, number, sizeof number));
	assert_string_equal(name, "prov");
	assert_string_equal(number, "15551234");
	assert_true(gateway_dest_parse("gateway:a.b-c_d/+49*30#", name, sizeof name, number,
	                               sizeof number));
	assert_string_equal(name, "a.b-c_d");
	assert_string_equal(number, "+49*30#");
	assert_false(gateway_dest_parse("uri:sip:1@x", name, sizeof name, number, sizeof number));
	assert_false(gateway_dest_parse("gateway:prov", name, sizeof name, number, sizeof number));
	assert_false(gateway_dest_parse("gateway:/123", name, sizeof name, number, sizeof number));
	assert_false(gateway_dest_parse("gateway:prov/", name, sizeof name, number, sizeof number));
	assert_false(gateway_dest_parse("gateway:prov/12+3", name, sizeof name, number, sizeof number));
	assert_false(gateway_dest_parse("gateway:pr ov/123", name, sizeof name, number, sizeof number));
	assert_false(gateway_dest_parse("gateway:prov/123", name, 4, number, sizeof number));
	assert_false(gateway_dest_parse("gateway:prov/1234567890123456789012345678901234", name,
	                                sizeof name, number, sizeof number));
}

static void test_uris(void **state)
{
	(void)state;
	char out[256];
	struct store_gateway c;
	gateway_conf_init(&c, "prov");
	assert_true(gateway_uri_host("sip:Sip.Example.NET:5080;transport=tcp", out, sizeof out));
	assert_string_equal(out, "sip.example.net:5080");
	assert_true(gateway_uri_host("sip:15551234@10.0.0.1", out, sizeof out));
	assert_string_equal(out, "10.0.0.1");
	assert_true(gateway_uri_host("sips:[2001:db8::1]:5061", out, sizeof out));
	assert_string_equal(out, "[2001:db8::1]:5061");
	assert_false(gateway_uri_host("tel:+15551234", out, sizeof out));
	assert_false(gateway_uri_host("sip:a@b c", out, sizeof out));
	assert_false(gateway_uri_host("sip:example.net", out, 4));

	snprintf(c.uri, sizeof c.uri, "sip:10.0.0.1:5080;transport=tcp");
	assert_true(gateway_call_uri(&c, "15551234", out, sizeof out));
	assert_string_equal(out, "sip:15551234@10.0.0.1:5080;transport=tcp");
	snprintf(c.uri, sizeof c.uri, "sips:sip.example.net");
	assert_true(gateway_call_uri(&c, "+4930", out, sizeof out));
	assert_string_equal(out, "sips:+4930@sip.example.net");
	assert_false(gateway_call_uri(&c, "+4930", out, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_dest_parse),
		cmocka_unit_test(test_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

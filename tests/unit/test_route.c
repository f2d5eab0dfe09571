/* Tests src/sip/route.c: transports, the flow of a binding, our Contact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sip/route.h"

static void test_transport(void **state)
{
	(void)state;
	assert_string_equal(route_transport("SIP/2.0/UDP"), "udp");
	assert_string_equal(route_transport("SIP/2.0/TCP"), "tcp");
	assert_string_equal(route_transport("SIP/2.0/TLS"), "tls");
	assert_string_equal(route_transport("TCP"), "tcp");
	assert_string_equal(route_transport(NULL), "udp");
	assert_string_equal(route_transport("SIP/2.0/SCTP"), "");
}

static void test_flow(void **state)
{
	(void)state;
	char out[ROUTE_URI_MAX];
	struct reg_binding b = { .uri = "sip:1001@192.168.1.20:5060", .src = "203.0.113.9",
		                 .src_port = 40123, .transport = "udp" };
	assert_int_equal(route_flow(out, sizeof out, &b), 0);
	assert_string_equal(out, "sip:203.0.113.9:40123;transport=udp");
	snprintf(b.src, sizeof b.src, "::1");
	snprintf(b.transport, sizeof b.transport, "tcp");
	assert_int_equal(route_flow(out, sizeof out, &b), 0);
	assert_string_equal(out, "sip:[::1]:40123;transport=tcp");
	/* a Path routes instead; no source (an old row) means the Contact */
	snprintf(b.path, sizeof b.path, "<sip:127.0.0.5:5090;lr>");
	assert_int_equal(route_flow(out, sizeof out, &b), 0);
	assert_string_equal(out, "");
	b.path[0] = 0;
	b.src[0] = 0;
	assert_int_equal(route_flow(out, sizeof out, &b), 0);
	assert_string_equal(out, "");
	snprintf(b.src, sizeof b.src, "203.0.113.9");
	assert_int_equal(route_flow(out, 10, &b), -1);
}

static void test_contact(void **state)
{
	(void)state;
	char out[ROUTE_URI_MAX];
	assert_int_equal(route_contact(out, sizeof out, "callq", "127.0.0.1", 5060, "udp"), 0);
	assert_string_equal(out, "<sip:callq@127.0.0.1:5060>");
	assert_int_equal(route_contact(out, sizeof out, "callq", "127.0.0.1", 5060, "SIP/2.0/TCP"), 0);
	assert_string_equal(out, "<sip:callq@127.0.0.1:5060;transport=tcp>");
	assert_int_equal(route_contact(out, sizeof out, "callq", "::1", 5070, "tcp"), 0);
	assert_string_equal(out, "<sip:callq@[::1]:5070;transport=tcp>");
	assert_int_equal(route_contact(out, sizeof out, "callq", "[::1]", 5070, "udp"), 0);
	assert_string_equal(out, "<sip:callq@[::1]:5070>");
	assert_int_equal(route_contact(out, sizeof out, "", "127.0.0.1", 5060, "tcp"), 0);
	assert_string_equal(out, "<sip:127.0.0.1:5060;transport=tcp>");
	assert_int_equal(route_contact(out, 12, "callq", "127.0.0.1", 5060, "udp"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_contact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests src/sip/registrar.c: credentials, bindings, expiry, newest first,
 * source and Path kept, RFC 5626 instance and reg-id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sip/registrar.h"

#define HA1 "0123456789abcdef0123456789abcdef"

static int bind_uri(registrar_t *r, const char *login, const char *uri, eng_ms now, unsigned exp)
{
	struct reg_binding b = { .src_port = 0 };
	snprintf(b.uri, sizeof b.uri, "%s", uri);
	return registrar_bind(r, login, &b, now, exp);
}

static void test_bind_expire(void **state)
{
	(void)state;
	registrar_t *r = registrar_new();
	struct reg_binding b[REG_CONTACTS_MAX];
	assert_int_equal(registrar_cred(r, "1001", HA1), 0);
	assert_int_equal(registrar_cred(r, "bad", "short"), -1);
	assert_string_equal(registrar_ha1(r, "1001"), HA1);
	assert_null(registrar_ha1(r, "1002"));
	assert_int_equal(bind_uri(r, "1002", "sip:x@h", 0, 60), -1);

	assert_int_equal(bind_uri(r, "1001", "sip:a@h", 0, 2), 0);
	assert_int_equal(bind_uri(r, "1001", "sip:b@h", 500, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 1000, b, REG_CONTACTS_MAX), 2);
	assert_string_equal(b[0].uri, "sip:b@h");
	/* a expires at 2000 ms */
	assert_int_equal(registrar_contacts(r, "1001", 2000, b, REG_CONTACTS_MAX), 1);
	assert_string_equal(b[0].uri, "sip:b@h");
	/* refresh moves to the front; expires 0 removes */
	assert_int_equal(bind_uri(r, "1001", "sip:a@h", 2500, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 3000, b, REG_CONTACTS_MAX), 2);
	assert_string_equal(b[0].uri, "sip:a@h");
	assert_int_equal(bind_uri(r, "1001", "sip:a@h", 3000, 0), 0);
	assert_int_equal(registrar_contacts(r, "1001", 3000, b, REG_CONTACTS_MAX), 1);
	registrar_unbind_all(r, "1001");
	assert_int_equal(registrar_contacts(r, "1001", 3000, b, REG_CONTACTS_MAX), 0);
	registrar_forget(r, "1001");
	assert_null(registrar_ha1(r, "1001"));
	registrar_free(r);
}

static void test_full(void **state)
{
	(void)state;
	registrar_t *r = registrar_new();
	char uri[32];
	registrar_cred(r, "1001", HA1);
	for (int i = 0; i < REG_CONTACTS_MAX; i++) {
		snprintf(uri, sizeof uri, "sip:%d@h", i);
		assert_int_equal(bind_uri(r, "1001", uri, 0, 60), 0);
	}
	assert_int_equal(bind_uri(r, "1001", "sip:extra@h", 0, 60), -1);
	registrar_free(r);
}

static void test_source_and_path(void **state)
{
	(void)state;
	registrar_t *r = registrar_new();
	struct reg_binding b = { .src = "203.0.113.9", .src_port = 40123, .transport = "tcp",
		                 .path = "<sip:127.0.0.5:5090;lr>" }, out[REG_CONTACTS_MAX];
	registrar_cred(r, "1001", HA1);
	snprintf(b.uri, sizeof b.uri, "sip:1001@192.168.1.20:5060;transport=tcp");
	assert_int_equal(registrar_bind(r, "1001", &b, 0, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 10, out, REG_CONTACTS_MAX), 1);
	assert_string_equal(out[0].uri, b.uri);
	assert_string_equal(out[0].src, "203.0.113.9");
	assert_int_equal(out[0].src_port, 40123);
	assert_string_equal(out[0].transport, "tcp");
	assert_string_equal(out[0].path, "<sip:127.0.0.5:5090;lr>");
	assert_int_equal(out[0].expires, 60000);
	/* the same Contact from a new source replaces the old flow */
	b.src_port = 40999;
	assert_int_equal(registrar_bind(r, "1001", &b, 1000, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 1000, out, REG_CONTACTS_MAX), 1);
	assert_int_equal(out[0].src_port, 40999);
	/* too long a field is refused, not cut */
	memset(b.path, 'x', sizeof b.path);
	assert_int_equal(registrar_bind(r, "1001", &b, 1000, 60), -1);
	registrar_free(r);
}

static void test_instance(void **state)
{
	(void)state;
	registrar_t *r = registrar_new();
	struct reg_binding b = { .instance = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>",
		                 .reg_id = 1 }, out[REG_CONTACTS_MAX];
	registrar_cred(r, "1001", HA1);
	snprintf(b.uri, sizeof b.uri, "sip:1001@10.0.0.1:5060;ob");
	assert_int_equal(registrar_bind(r, "1001", &b, 0, 60), 0);
	/* the phone moved: new Contact, same instance and reg-id: one binding */
	snprintf(b.uri, sizeof b.uri, "sip:1001@10.0.0.2:5060;ob");
	assert_int_equal(registrar_bind(r, "1001", &b, 10, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 10, out, REG_CONTACTS_MAX), 1);
	assert_string_equal(out[0].uri, "sip:1001@10.0.0.2:5060;ob");
	/* a second flow (reg-id 2) of the same instance is a second binding */
	b.reg_id = 2;
	snprintf(b.uri, sizeof b.uri, "sip:1001@10.0.0.2:5062;ob");
	assert_int_equal(registrar_bind(r, "1001", &b, 20, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 20, out, REG_CONTACTS_MAX), 2);
	/* another phone without an instance never matches by instance */
	struct reg_binding other = { .reg_id = 1 };
	snprintf(other.uri, sizeof other.uri, "sip:1001@10.0.0.3");
	assert_int_equal(registrar_bind(r, "1001", &other, 30, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 30, out, REG_CONTACTS_MAX), 3);
	/* unregistering by instance (any Contact) removes that flow only */
	b.reg_id = 1;
	snprintf(b.uri, sizeof b.uri, "sip:1001@10.9.9.9");
	assert_int_equal(registrar_bind(r, "1001", &b, 40, 0), 0);
	assert_int_equal(registrar_contacts(r, "1001", 40, out, REG_CONTACTS_MAX), 2);
	assert_string_equal(out[0].uri, "sip:1001@10.0.0.3");
	assert_string_equal(out[1].uri, "sip:1001@10.0.0.2:5062;ob");
	registrar_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_and_path),
		cmocka_unit_test(test_instance),
		cmocka_unit_test(test_bind_expire),
		cmocka_unit_test(test_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests src/sip/registrar.c: credentials, bindings, expiry, newest first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sip/registrar.h"

#define HA1 "0123456789abcdef0123456789abcdef"

static void test_bind_expire(void **state)
{
	(void)state;
	registrar_t *r = registrar_new();
	struct reg_binding b[REG_CONTACTS_MAX];
	assert_int_equal(registrar_cred(r, "1001", HA1), 0);
	assert_int_equal(registrar_cred(r, "bad", "short"), -1);
	assert_string_equal(registrar_ha1(r, "1001"), HA1);
	assert_null(registrar_ha1(r, "1002"));
	assert_int_equal(registrar_bind(r, "1002", "sip:x@h", 0, 60), -1);

	assert_int_equal(registrar_bind(r, "1001", "sip:a@h", 0, 2), 0);
	assert_int_equal(registrar_bind(r, "1001", "sip:b@h", 500, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 1000, b, REG_CONTACTS_MAX), 2);
	assert_string_equal(b[0].uri, "sip:b@h");
	/* a expires at 2000 ms */
	assert_int_equal(registrar_contacts(r, "1001", 2000, b, REG_CONTACTS_MAX), 1);
	assert_string_equal(b[0].uri, "sip:b@h");
	/* refresh moves to the front; expires 0 removes */
	assert_int_equal(registrar_bind(r, "1001", "sip:a@h", 2500, 60), 0);
	assert_int_equal(registrar_contacts(r, "1001", 3000, b, REG_CONTACTS_MAX), 2);
	assert_string_equal(b[0].uri, "sip:a@h");
	assert_int_equal(registrar_bind(r, "1001", "sip:a@h", 3000, 0), 0);
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
		assert_int_equal(registrar_bind(r, "1001", uri, 0, 60), 0);
	}
	assert_int_equal(registrar_bind(r, "1001", "sip:extra@h", 0, 60), -1);
	registrar_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_expire),
		cmocka_unit_test(test_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

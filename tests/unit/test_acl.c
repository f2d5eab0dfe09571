/* Tests src/sip/acl.c: CIDR parsing and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "sip/acl.h"

static bool allows(const struct acl *a, const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1)
		return acl_allows(a, (struct sockaddr *)&sin);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	return acl_allows(a, (struct sockaddr *)&sin6);
}

static void test_acl(void **state)
{
	(void)state;
	struct acl a;
	acl_init(&a);
	assert_false(allows(&a, "127.0.0.1"));
	assert_int_equal(acl_add(&a, "127.0.0.1/32"), 0);
	assert_int_equal(acl_add(&a, "10.0.0.0/8"), 0);
	assert_int_equal(acl_add(&a, "192.168.1.7"), 0);
	assert_true(allows(&a, "127.0.0.1"));
	assert_false(allows(&a, "127.0.0.2"));
	assert_true(allows(&a, "10.200.3.4"));
	assert_false(allows(&a, "11.0.0.1"));
	assert_true(allows(&a, "192.168.1.7"));
	assert_false(allows(&a, "192.168.1.8"));
	assert_false(acl_allows(&a, NULL));
	assert_int_equal(acl_add(&a, "1.2.3.4/33"), -1);
	assert_int_equal(acl_add(&a, "1.2.3/8"), -1);
	assert_int_equal(acl_add(&a, "1.2.3.4/"), -1);
	assert_int_equal(acl_add(&a, "banana"), -1);
	assert_int_equal(acl_add(&a, "0.0.0.0/0"), 0);
	assert_true(allows(&a, "8.8.8.8"));
}

static void test_acl_ipv6(void **state)
{
	(void)state;
	struct acl a;
	acl_init(&a);
	assert_int_equal(acl_add(&a, "::1/128"), 0);
	assert_int_equal(acl_add(&a, "2001:db8:ab00::/40"), 0);
	assert_int_equal(acl_add(&a, "fe80::7"), 0);
	assert_true(allows(&a, "::1"));
	assert_false(allows(&a, "::2"));
	assert_true(allows(&a, "2001:db8:abff:1::9"));
	assert_false(allows(&a, "2001:db8:ac00::1"));
	assert_true(allows(&a, "fe80::7"));
	assert_false(allows(&a, "fe80::8"));
	/* families do not mix: ::1 does not admit 127.0.0.1 nor 0.0.0.0/0 ::1 */
	assert_false(allows(&a, "127.0.0.1"));
	assert_int_equal(acl_add(&a, "127.0.0.0/8"), 0);
	assert_true(allows(&a, "127.0.0.9"));
	/* a v4-mapped address (dual-stack socket) matches as IPv4 */
	assert_true(allows(&a, "::ffff:127.0.0.9"));
	assert_false(allows(&a, "::ffff:128.0.0.9"));
	assert_int_equal(acl_add(&a, "::1/129"), -1);
	assert_int_equal(acl_add(&a, "2001:db8::g/64"), -1);
	assert_int_equal(acl_add(&a, "::/0"), 0);
	assert_true(allows(&a, "2a00::1"));
	assert_false(allows(&a, "8.8.8.8"));
}

static void test_acl_del(void **state)
{
	(void)state;
	struct acl a;
	acl_init(&a);
	assert_int_equal(acl_add(&a, "127.0.0.7/32"), 0);
	assert_int_equal(acl_add(&a, "10.0.0.0/8"), 0);
	assert_int_equal(acl_add(&a, "127.0.0.7"), 0);
	assert_true(allows(&a, "127.0.0.7"));
	assert_int_equal(acl_del(&a, "127.0.0.7"), 2);     /* "/32" is implied: both copies go */
	assert_false(allows(&a, "127.0.0.7"));
	assert_true(allows(&a, "10.9.9.9"));
	assert_int_equal(acl_del(&a, "10.0.0.0/16"), 0);   /* a different network */
	assert_int_equal(acl_del(&a, "10.0.0.0/99"), -1);
	assert_int_equal(acl_del(&a, "10.0.0.0/8"), 1);
	assert_false(allows(&a, "10.9.9.9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_acl), cmocka_unit_test(test_acl_ipv6),
	                                    cmocka_unit_test(test_acl_del) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}

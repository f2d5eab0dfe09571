/* Tests src/sip/admit.c: which c= addresses an SDP may name (admit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "sip/admit.h"

static const struct sockaddr *from(const char *ip)
{
	static struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)&ss;
}

static void test_unicast(void **state)
{
	(void)state;
	const struct sockaddr *remote = from("198.51.100.7");
	assert_true(admit_media_addr("198.51.100.7", false, remote));
	assert_true(admit_media_addr("192.168.1.20", false, remote));   /* behind NAT */
	assert_true(admit_media_addr("2001:db8::5", false, from("2001:db8::5")));
	assert_false(admit_media_addr("224.0.0.1", false, remote));
	assert_false(admit_media_addr("239.255.255.250", false, remote));
	assert_false(admit_media_addr("255.255.255.255", false, remote));
	assert_false(admit_media_addr("240.0.0.1", false, remote));
	assert_false(admit_media_addr("0.1.2.3", false, remote));
	assert_false(admit_media_addr("ff02::1", false, remote));
	assert_false(admit_media_addr("::ffff:224.0.0.1", false, remote));
	assert_false(admit_media_addr("example.com", false, remote));
	assert_false(admit_media_addr("", false, remote));
}

static void test_hold_and_loopback(void **state)
{
	(void)state;
	const struct sockaddr *remote = from("198.51.100.7");
	assert_true(admit_media_addr("0.0.0.0", true, remote));
	assert_false(admit_media_addr("0.0.0.0", false, remote));
	assert_true(admit_media_addr("::", true, remote));
	/* loopback only from loopback */
	assert_false(admit_media_addr("127.0.0.1", false, remote));
	assert_false(admit_media_addr("::1", false, remote));
	assert_false(admit_media_addr("::ffff:127.0.0.1", false, remote));
	assert_false(admit_media_addr("127.0.0.1", false, NULL));
	assert_true(admit_media_addr("127.0.0.1", false, from("127.0.0.1")));
	assert_true(admit_media_addr("127.3.4.5", false, from("127.9.9.9")));
	assert_true(admit_media_addr("::1", false, from("::1")));
	assert_true(admit_media_addr("127.0.0.1", false, from("::ffff:127.0.0.1")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unicast),
		cmocka_unit_test(test_hold_and_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

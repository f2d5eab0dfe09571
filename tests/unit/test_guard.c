/* Tests src/sip/guard.c: free failures, doubling blocks, reset on success,
 * bounded table under a flood of sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "sip/guard.h"

/* An IPv4 source (host order) as the socket address guard takes. */
static const struct sockaddr *v4(uint32_t ip)
{
	static struct sockaddr_in sin[4];
	static unsigned next;
	struct sockaddr_in *s = &sin[next++ % 4];
	memset(s, 0, sizeof *s);
	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(ip);
	return (const struct sockaddr *)s;
}

static const struct sockaddr *v6(const char *text)
{
	static struct sockaddr_in6 sin6[4];
	static unsigned next;
	struct sockaddr_in6 *s = &sin6[next++ % 4];
	memset(s, 0, sizeof *s);
	s->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, text, &s->sin6_addr), 1);
	return (const struct sockaddr *)s;
}

/* README: "after 5 bad digests from one source address, that address gets 403
 * ... for 1 s, then 2 s, 4 s … up to 5 minutes". Pinned here as literals, not
 * taken from guard.h, so a change of the constants fails this test. */
static void test_blocks_double(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t ip = 0x7f000001, other = 0x7f000002;
	for (int i = 1; i < 5; i++) {
		assert_false(guard_fail(g, v4(ip), 1000));
		assert_int_equal(guard_blocked(g, v4(ip), 1000), 0);
	}
	/* another address with 4 failures of its own stays free */
	for (int i = 1; i < 5; i++)
		assert_false(guard_fail(g, v4(other), 1000));
	assert_true(guard_fail(g, v4(ip), 1000));
	assert_int_equal(guard_blocked(g, v4(ip), 1000), 1000);
	assert_int_equal(guard_blocked(g, v4(other), 1000), 0);
	assert_int_equal(guard_blocked(g, v4(ip), 2000), 0);
	assert_true(guard_fail(g, v4(ip), 2000));
	assert_int_equal(guard_blocked(g, v4(ip), 2000), 2000);
	assert_true(guard_fail(g, v4(ip), 4000));
	assert_int_equal(guard_blocked(g, v4(ip), 4000), 4000);
	for (int i = 0; i < 20; i++)
		guard_fail(g, v4(ip), 5000);
	assert_int_equal(guard_blocked(g, v4(ip), 5000), 300 * 1000);
	/* the other address's fifth failure blocks it, for 1 s: records are per address */
	assert_true(guard_fail(g, v4(other), 5000));
	assert_int_equal(guard_blocked(g, v4(other), 5000), 1000);
	/* success clears only that address */
	guard_ok(g, v4(ip));
	assert_int_equal(guard_blocked(g, v4(ip), 5000), 0);
	assert_int_equal(guard_blocked(g, v4(other), 5000), 1000);
	free(g);
}

static void test_flood_is_bounded(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t victim = 0x0a000001, last = 0x0b000000 + 3 * GUARD_SLOTS;
	for (int i = 0; i < 5; i++)
		guard_fail(g, v4(victim), 100);
	assert_int_equal(guard_blocked(g, v4(victim), 150), 950);
	/* Many new sources evict the stalest entries, never grow the table. */
	for (uint32_t a = 1; a <= 3 * GUARD_SLOTS; a++)
		guard_fail(g, v4(0x0b000000 + a), 200 + a);
	assert_int_equal(guard_blocked(g, v4(victim), 150), 0);
	/* the table still works after the flood: the newest source is remembered */
	for (int i = 1; i < 5; i++)
		guard_fail(g, v4(last), 10000);
	assert_int_equal(guard_blocked(g, v4(last), 10000), 1000);
	assert_int_equal(guard_blocked(g, NULL, 150), 0);
	free(g);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	for (int i = 0; i < GUARD_FREE_FAILS; i++)
		guard_fail(g, v6("2001:db8::1"), 1000);
	assert_int_equal(guard_blocked(g, v6("2001:db8::1"), 1000), 1000);
	/* another IPv6 address, and IPv4 127.0.0.1 beside ::1, are their own */
	assert_int_equal(guard_blocked(g, v6("2001:db8::2"), 1000), 0);
	for (int i = 0; i < GUARD_FREE_FAILS; i++)
		guard_fail(g, v6("::1"), 1000);
	assert_int_equal(guard_blocked(g, v4(0x7f000001), 1000), 0);
	assert_int_equal(guard_blocked(g, v6("::1"), 1000), 1000);
	/* an IPv4 address and its v4-mapped IPv6 form are one source */
	for (int i = 0; i < GUARD_FREE_FAILS; i++)
		guard_fail(g, v4(0x0a000005), 1000);
	assert_int_equal(guard_blocked(g, v6("::ffff:10.0.0.5"), 1000), 1000);
	guard_ok(g, v6("2001:db8::1"));
	assert_int_equal(guard_blocked(g, v6("2001:db8::1"), 1000), 0);
	assert_false(guard_fail(g, v6("::"), 1000));
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_double),
		cmocka_unit_test(test_flood_is_bounded),
		cmocka_unit_test(test_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

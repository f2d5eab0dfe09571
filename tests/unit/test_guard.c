/* Tests src/sip/guard.c: free failures per (source, login), doubling blocks,
 * no reset on success, login blocks that spare clean sources, bounded tables
 * that never evict a blocked entry. */
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

/* README: "after 5 wrong passwords for one login from one source address,
 * that address gets 403 for that login for 1 s, then 2 s, 4 s … up to 5
 * minutes". Pinned here as literals, not taken from guard.h, so a change of
 * the constants fails this test. */
static void test_blocks_double(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t ip = 0x7f000001, other = 0x7f000002;
	for (int i = 1; i < 5; i++) {
		assert_false(guard_fail(g, v4(ip), "1001", 1000));
		assert_int_equal(guard_blocked(g, v4(ip), "1001", 1000), 0);
	}
	/* another address with 4 failures of its own stays free */
	for (int i = 1; i < 5; i++)
		assert_false(guard_fail(g, v4(other), "1001", 1000));
	assert_true(guard_fail(g, v4(ip), "1001", 1000));
	assert_int_equal(guard_blocked(g, v4(ip), "1001", 1000), 1000);
	assert_int_equal(guard_blocked(g, v4(other), "1001", 1000), 0);
	/* the same address for another login (another phone behind the NAT) is free */
	assert_int_equal(guard_blocked(g, v4(ip), "1002", 1000), 0);
	assert_int_equal(guard_blocked(g, v4(ip), "1001", 2000), 0);
	assert_true(guard_fail(g, v4(ip), "1001", 2000));
	assert_int_equal(guard_blocked(g, v4(ip), "1001", 2000), 2000);
	assert_true(guard_fail(g, v4(ip), "1001", 4000));
	assert_int_equal(guard_blocked(g, v4(ip), "1001", 4000), 4000);
	for (int i = 0; i < 8; i++)
		guard_fail(g, v4(ip), "1001", 5000);
	assert_int_equal(guard_blocked(g, v4(ip), "1001", 5000), 300 * 1000);
	/* the other address's fifth failure blocks it, for 1 s: records are per pair */
	assert_true(guard_fail(g, v4(other), "1001", 5000));
	assert_int_equal(guard_blocked(g, v4(other), "1001", 5000), 1000);
	free(g);
}

/* An insider alternating 4 wrong guesses for 1001 with good REGISTERs of
 * their own (1002) is still blocked: a success clears nothing, and 1002's
 * record is not 1001's. Failures are forgotten one a minute after the block. */
static void test_success_clears_nothing(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t ip = 0x0a000001;
	eng_ms t = 1000;
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 4; i++)
			guard_fail(g, v4(ip), "1001", t += 10);
	assert_true(guard_blocked(g, v4(ip), "1001", t) > 0);
	assert_int_equal(guard_blocked(g, v4(ip), "1002", t), 0);
	/* 12 failures: the block is 2^7 s; a minute after it ends, one is forgotten */
	eng_ms end = t + guard_blocked(g, v4(ip), "1001", t);
	assert_int_equal(guard_blocked(g, v4(ip), "1001", end), 0);
	assert_true(guard_fail(g, v4(ip), "1001", end + 60 * 1000));
	assert_int_equal(guard_blocked(g, v4(ip), "1001", end + 60 * 1000), 128 * 1000);
	/* after long quiet everything is forgotten: 4 free failures again */
	eng_ms later = end + 60 * 1000 + 128 * 1000 + 3600 * 1000;
	for (int i = 0; i < 4; i++)
		assert_false(guard_fail(g, v4(ip), "1001", later));
	free(g);
}

/* Guesses spread over many sources block the login, but only for the sources
 * that failed on it: a phone with a clean record still gets in. */
static void test_login_block_spares_clean_sources(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	for (uint32_t a = 1; a <= GUARD_LOGIN_FREE_FAILS; a++)
		guard_fail(g, v4(0x0c000000 + a), "1001", 1000);
	assert_true(guard_blocked(g, v4(0x0c000001), "1001", 1000) > 0);
	assert_int_equal(guard_blocked(g, v4(0x0d000001), "1001", 1000), 0);
	assert_int_equal(guard_blocked(g, v4(0x0c000001), "1002", 1000), 0);
	/* unknown logins are one entry per source, not one per made-up name */
	for (int i = 0; i < 5; i++)
		guard_fail(g, v4(0x0e000001), NULL, 1000);
	assert_true(guard_blocked(g, v4(0x0e000001), "", 1000) > 0);
	assert_true(guard_blocked(g, v4(0x0e000001), NULL, 1000) > 0);
	free(g);
}

/* A flood of new sources evicts only entries that are not blocked; when the
 * table holds nothing but blocked entries, the blocked ones stay, and a login
 * under attack is closed to unrecorded sources too. */
static void test_flood_is_bounded(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t victim = 0x0a000001;
	for (int i = 0; i < 5; i++)
		guard_fail(g, v4(victim), "1001", 100);
	assert_int_equal(guard_blocked(g, v4(victim), "1001", 150), 950);
	for (uint32_t a = 1; a <= 3 * GUARD_SLOTS; a++)
		guard_fail(g, v4(0x0b000000 + a), "1002", 200);
	assert_int_equal(guard_blocked(g, v4(victim), "1001", 250), 850);
	/* fill the table with blocked pairs: 5 failures each */
	for (uint32_t a = 1; a <= GUARD_SLOTS; a++)
		for (int i = 0; i < 5; i++)
			guard_fail(g, v4(0x0f000000 + a), "1003", 300);
	assert_int_equal(guard_blocked(g, v4(victim), "1001", 350), 750);
	/* 1003 is blocked as a login, and the table is full: a new source is refused for it */
	assert_true(guard_blocked(g, v4(0x10000001), "1003", 350) > 0);
	assert_int_equal(guard_blocked(g, v4(0x10000001), "1004", 350), 0);
	assert_int_equal(guard_blocked(g, NULL, "1001", 150), 0);
	free(g);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	for (int i = 0; i < GUARD_FREE_FAILS; i++)
		guard_fail(g, v6("2001:db8::1"), "1001", 1000);
	assert_int_equal(guard_blocked(g, v6("2001:db8::1"), "1001", 1000), 1000);
	/* another IPv6 address, and IPv4 127.0.0.1 beside ::1, are their own */
	assert_int_equal(guard_blocked(g, v6("2001:db8::2"), "1001", 1000), 0);
	for (int i = 0; i < GUARD_FREE_FAILS; i++)
		guard_fail(g, v6("::1"), "1001", 1000);
	assert_int_equal(guard_blocked(g, v4(0x7f000001), "1001", 1000), 0);
	assert_int_equal(guard_blocked(g, v6("::1"), "1001", 1000), 1000);
	/* an IPv4 address and its v4-mapped IPv6 form are one source */
	for (int i = 0; i < GUARD_FREE_FAILS; i++)
		guard_fail(g, v4(0x0a000005), "1001", 1000);
	assert_int_equal(guard_blocked(g, v6("::ffff:10.0.0.5"), "1001", 1000), 1000);
	assert_false(guard_fail(g, v6("::"), "1001", 1000));
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_double),
		cmocka_unit_test(test_success_clears_nothing),
		cmocka_unit_test(test_login_block_spares_clean_sources),
		cmocka_unit_test(test_flood_is_bounded),
		cmocka_unit_test(test_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests src/sip/guard.c: free failures, doubling blocks, reset on success,
 * bounded table under a flood of sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sip/guard.h"

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
		assert_false(guard_fail(g, ip, 1000));
		assert_int_equal(guard_blocked(g, ip, 1000), 0);
	}
	/* another address with 4 failures of its own stays free */
	for (int i = 1; i < 5; i++)
		assert_false(guard_fail(g, other, 1000));
	assert_true(guard_fail(g, ip, 1000));
	assert_int_equal(guard_blocked(g, ip, 1000), 1000);
	assert_int_equal(guard_blocked(g, other, 1000), 0);
	assert_int_equal(guard_blocked(g, ip, 2000), 0);
	assert_true(guard_fail(g, ip, 2000));
	assert_int_equal(guard_blocked(g, ip, 2000), 2000);
	assert_true(guard_fail(g, ip, 4000));
	assert_int_equal(guard_blocked(g, ip, 4000), 4000);
	for (int i = 0; i < 20; i++)
		guard_fail(g, ip, 5000);
	assert_int_equal(guard_blocked(g, ip, 5000), 300 * 1000);
	/* the other address's fifth failure blocks it, for 1 s: records are per address */
	assert_true(guard_fail(g, other, 5000));
	assert_int_equal(guard_blocked(g, other, 5000), 1000);
	/* success clears only that address */
	guard_ok(g, ip);
	assert_int_equal(guard_blocked(g, ip, 5000), 0);
	assert_int_equal(guard_blocked(g, other, 5000), 1000);
	free(g);
}

static void test_flood_is_bounded(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t victim = 0x0a000001, last = 0x0b000000 + 3 * GUARD_SLOTS;
	for (int i = 0; i < 5; i++)
		guard_fail(g, victim, 100);
	assert_int_equal(guard_blocked(g, victim, 150), 950);
	/* Many new sources evict the stalest entries, never grow the table. */
	for (uint32_t a = 1; a <= 3 * GUARD_SLOTS; a++)
		guard_fail(g, 0x0b000000 + a, 200 + a);
	assert_int_equal(guard_blocked(g, victim, 150), 0);
	/* the table still works after the flood: the newest source is remembered */
	for (int i = 1; i < 5; i++)
		guard_fail(g, last, 10000);
	assert_int_equal(guard_blocked(g, last, 10000), 1000);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_double),
		cmocka_unit_test(test_flood_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

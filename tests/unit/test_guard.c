/* Tests src/sip/guard.c: free failures, doubling blocks, reset on success,
 * bounded table under a flood of sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sip/guard.h"

static void test_blocks_double(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t ip = 0x7f000001;
	for (int i = 1; i < GUARD_FREE_FAILS; i++) {
		assert_false(guard_fail(g, ip, 1000));
		assert_int_equal(guard_blocked(g, ip, 1000), 0);
	}
	assert_true(guard_fail(g, ip, 1000));
	assert_int_equal(guard_blocked(g, ip, 1000), 1000);
	assert_int_equal(guard_blocked(g, ip, 2000), 0);
	assert_true(guard_fail(g, ip, 2000));
	assert_int_equal(guard_blocked(g, ip, 2000), 2000);
	for (int i = 0; i < 20; i++)
		guard_fail(g, ip, 5000);
	assert_int_equal(guard_blocked(g, ip, 5000), GUARD_MAX_BLOCK_S * 1000);
	/* another address is not affected; success clears */
	assert_int_equal(guard_blocked(g, ip + 1, 5000), 0);
	guard_ok(g, ip);
	assert_int_equal(guard_blocked(g, ip, 5000), 0);
	free(g);
}

static void test_flood_is_bounded(void **state)
{
	(void)state;
	struct guard *g = malloc(sizeof *g);
	guard_init(g);
	uint32_t victim = 0x0a000001;
	for (int i = 0; i < GUARD_FREE_FAILS; i++)
		guard_fail(g, victim, 100);
	/* Many new sources evict the stalest entries, never grow the table. */
	for (uint32_t a = 1; a <= 3 * GUARD_SLOTS; a++)
		guard_fail(g, 0x0b000000 + a, 200 + a);
	assert_int_equal(guard_blocked(g, victim, 150), 0);
	assert_int_equal(guard_blocked(g, 0, 150), 0);
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

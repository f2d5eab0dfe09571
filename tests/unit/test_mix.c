/* test_mix.c — the saturating mixer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/mix.h"

static void test_mix(void **state)
{
	(void)state;
	int16_t a[4] = { 100, 30000, -30000, -5 }, b[4] = { 23, 10000, -10000, 5 };
	int16_t c[4] = { 1, 1, 1, 1 }, out[4];
	const int16_t *two[] = { a, b }, *three[] = { a, b, c }, *one[] = { b };
	mix_sum(out, two, 2, 4);
	assert_int_equal(out[0], 123);
	assert_int_equal(out[1], 32767);
	assert_int_equal(out[2], -32768);
	assert_int_equal(out[3], 0);
	mix_sum(out, three, 3, 4);
	assert_int_equal(out[0], 124);
	assert_int_equal(out[3], 1);
	mix_sum(out, one, 1, 4);
	assert_memory_equal(out, b, sizeof b);
	mix_sum(out, NULL, 0, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_mix) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}

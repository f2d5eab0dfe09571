/* test_throttle.c — failed control logins counted per login: free failures,
 * growing refusals, one check in flight per login, success forgets, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ctl/throttle.h"

static struct throttle t;

static int setup(void **state)
{
	(void)state;
	throttle_init(&t);
	return 0;
}

static void failed_once(const char *login, int64_t now)
{
	int64_t wait;
	assert_true(throttle_begin(&t, login, now, &wait));
	throttle_done(&t, login, now, false);
}

static void test_free_then_growing(void **state)
{
	(void)state;
	int64_t wait;
	for (int i = 0; i < THROTTLE_FREE; i++)
		failed_once("1001", 1000);
	failed_once("1001", 1000);                         /* first beyond the free ones: 2 s */
	assert_false(throttle_begin(&t, "1001", 2999, &wait));
	assert_int_equal(wait, 1);
	assert_true(throttle_begin(&t, "1002", 2999, &wait));   /* other logins are not affected */
	throttle_done(&t, "1002", 2999, true);
	failed_once("1001", 3000);                         /* second: 4 s */
	assert_false(throttle_begin(&t, "1001", 6999, &wait));
	assert_int_equal(wait, 1);
	for (int i = 0; i < 20; i++)                /* capped at 2^THROTTLE_SHIFT_MAX s */
		failed_once("1001", 10000000 + i * 2000000);
	int64_t last = 10000000 + 19 * 2000000;
	assert_false(throttle_begin(&t, "1001", last, &wait));
	assert_int_equal(wait, (int64_t)1000 << THROTTLE_SHIFT_MAX);
}

static void test_one_in_flight(void **state)
{
	(void)state;
	int64_t wait;
	assert_true(throttle_begin(&t, "1001", 0, &wait));
	assert_false(throttle_begin(&t, "1001", 0, &wait));     /* a second connection waits */
	assert_int_equal(wait, 0);
	throttle_cancel(&t, "1001");
	assert_true(throttle_begin(&t, "1001", 0, &wait));
	throttle_done(&t, "1001", 0, false);
	assert_true(throttle_begin(&t, "1001", 0, &wait));
}

static void test_success_forgets(void **state)
{
	(void)state;
	int64_t wait;
	for (int i = 0; i < THROTTLE_FREE; i++)
		failed_once("1001", 0);
	assert_true(throttle_begin(&t, "1001", 0, &wait));
	throttle_done(&t, "1001", 0, true);
	for (int i = 0; i < THROTTLE_FREE; i++)
		failed_once("1001", 0);                    /* the free failures are back */
	assert_true(throttle_begin(&t, "1001", 0, &wait));
}

/* A full table reuses the entry failed longest ago; the table never grows. */
static void test_bounded(void **state)
{
	(void)state;
	char login[16];
	int64_t wait;
	for (int i = 0; i <= THROTTLE_FREE; i++)
		failed_once("victim", 5000);
	for (int i = 0; i < THROTTLE_SLOTS - 1; i++) {
		snprintf(login, sizeof login, "u%d", i);
		failed_once(login, 6000);
	}
	assert_int_equal(t.n, THROTTLE_SLOTS);
	assert_false(throttle_begin(&t, "victim", 6000, &wait));   /* still locked while it fits */
	failed_once("newcomer", 7000);
	assert_int_equal(t.n, THROTTLE_SLOTS);
	assert_true(throttle_begin(&t, "victim", 7000, &wait));    /* its entry was the oldest */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_free_then_growing, setup),
		cmocka_unit_test_setup(test_one_in_flight, setup),
		cmocka_unit_test_setup(test_success_forgets, setup),
		cmocka_unit_test_setup(test_bounded, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

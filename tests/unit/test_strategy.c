/* test_strategy.c — the routing strategies on hand-made candidate lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "acd/strategy.h"

static struct strategy_cand cand(eng_id member, size_t pos, unsigned handled,
                                 unsigned offers, eng_ms last_end)
{
	struct strategy_cand c = { member, pos, handled, offers, last_end };

	return c;
}

static struct strategy_ctx ctx_of(const struct strategy_cand *c, size_t n, size_t npos,
                                  size_t after, uint64_t *rng)
{
	struct strategy_ctx x = { c, n, npos, after, rng };

	return x;
}

static void test_round_robin_from_start(void **state)
{
	struct strategy_cand c[] = { cand(11, 1, 0, 0, 0), cand(12, 3, 0, 0, 0) };
	struct strategy_ctx x = ctx_of(c, 2, 4, STRATEGY_FROM_START, NULL);

	(void)state;
	assert_int_equal(strategy_round_robin(&x), 0);
}

static void test_round_robin_after_cursor_wraps(void **state)
{
	struct strategy_cand c[] = { cand(10, 0, 0, 0, 0), cand(11, 1, 0, 0, 0), cand(13, 3, 0, 0, 0) };
	struct strategy_ctx x = ctx_of(c, 3, 4, 1, NULL);

	(void)state;
	assert_int_equal(strategy_round_robin(&x), 2);     /* after pos 1: pos 3 */
	x.after = 3;
	assert_int_equal(strategy_round_robin(&x), 0);     /* wraps to pos 0 */
	x.after = 2;                                       /* cursor on an unavailable agent */
	assert_int_equal(strategy_round_robin(&x), 2);
}

static void test_round_robin_same_agent_last(void **state)
{
	struct strategy_cand c[] = { cand(10, 0, 0, 0, 0), cand(12, 2, 0, 0, 0) };
	struct strategy_ctx x = ctx_of(c, 2, 3, 0, NULL);

	(void)state;
	assert_int_equal(strategy_round_robin(&x), 1);
	x.n = 1;                                           /* only the last agent left */
	assert_int_equal(strategy_round_robin(&x), 0);
}

static void test_most_idle(void **state)
{
	struct strategy_cand c[] = { cand(1, 0, 0, 0, 500), cand(2, 1, 0, 0, 100),
	                             cand(3, 2, 0, 0, 100), cand(4, 3, 0, 0, 900) };
	struct strategy_ctx x = ctx_of(c, 4, 4, STRATEGY_FROM_START, NULL);

	(void)state;
	assert_int_equal(strategy_most_idle(&x), 1);       /* oldest end; tie -> lower pos */
}

static void test_least_offers(void **state)
{
	struct strategy_cand c[] = { cand(1, 0, 0, 3, 0), cand(2, 1, 0, 1, 0),
	                             cand(3, 2, 0, 1, 0), cand(4, 3, 0, 2, 0) };
	struct strategy_ctx x = ctx_of(c, 4, 4, STRATEGY_FROM_START, NULL);

	(void)state;
	assert_int_equal(strategy_least_offers(&x), 1);
}

static void test_least_calls_only_least(void **state)
{
	struct strategy_cand c[] = { cand(1, 0, 4, 0, 0), cand(2, 1, 2, 0, 0), cand(3, 2, 3, 0, 0) };
	uint64_t rng = 42;
	struct strategy_ctx x = ctx_of(c, 3, 3, STRATEGY_FROM_START, &rng);

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_int_equal(strategy_least_calls(&x), 1);
}

static void test_least_calls_ties_even(void **state)
{
	struct strategy_cand c[] = { cand(1, 0, 1, 0, 0), cand(2, 1, 5, 0, 0),
	                             cand(3, 2, 1, 0, 0), cand(4, 3, 1, 0, 0) };
	uint64_t rng = 7;
	struct strategy_ctx x = ctx_of(c, 4, 4, STRATEGY_FROM_START, &rng);
	unsigned hits[4] = { 0 };

	(void)state;
	for (int i = 0; i < 3000; i++)
		hits[strategy_least_calls(&x)]++;
	assert_int_equal(hits[1], 0);
	for (int i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		assert_in_range(hits[i], 850, 1150);
	}
}

static void test_strategy_for(void **state)
{
	(void)state;
	assert_ptr_equal(strategy_for(STRAT_ROUND_ROBIN), strategy_round_robin);
	assert_ptr_equal(strategy_for(STRAT_MOST_IDLE), strategy_most_idle);
	assert_ptr_equal(strategy_for(STRAT_LEAST_CALLS), strategy_least_calls);
	assert_ptr_equal(strategy_for(STRAT_LEAST_OFFERS), strategy_least_offers);
	assert_null(strategy_for(STRAT_SKILLS_STRICT));
	assert_null(strategy_for(STRAT_SKILLS_LOOSE));
}

static void test_random_seeded(void **state)
{
	uint64_t a = 99, b = 99, c = 100;

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_true(strategy_random(&a) == strategy_random(&b));
	assert_false(strategy_random(&a) == strategy_random(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_robin_from_start),
		cmocka_unit_test(test_round_robin_after_cursor_wraps),
		cmocka_unit_test(test_round_robin_same_agent_last),
		cmocka_unit_test(test_most_idle),
		cmocka_unit_test(test_least_offers),
		cmocka_unit_test(test_least_calls_only_least),
		cmocka_unit_test(test_least_calls_ties_even),
		cmocka_unit_test(test_strategy_for),
		cmocka_unit_test(test_random_seeded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_strategy.c — the routing structures: bitsets, indexed heap, buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "acd/strategy.h"

static struct strategy_bits bits_of(const size_t *pos, size_t n)
{
	struct strategy_bits b = { NULL, 0 };

	for (size_t i = 0; i < n; i++)
		strategy_bits_put(&b, pos[i], true);
	return b;
}

static void test_bits_round_robin(void **state)
{
	size_t on[] = { 0, 1, 3 };
	struct strategy_bits b = bits_of(on, 3);

	(void)state;
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 4, STRATEGY_FROM_START), 0);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 4, 1), 3);   /* after pos 1 */
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 4, 3), 0);   /* wraps */
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 4, 2), 3);   /* cursor on a clear bit */
	strategy_bits_put(&b, 0, false);
	strategy_bits_put(&b, 3, false);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 4, 1), 1);   /* the last one, last */
	strategy_bits_put(&b, 1, false);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 4, 1), STRATEGY_NONE);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 4, STRATEGY_FROM_START), STRATEGY_NONE);
	strategy_bits_free(&b);
}

static void test_bits_across_words_and_masks(void **state)
{
	size_t on[] = { 5, 70, 130, 199 }, m1[] = { 5, 199 }, m2[] = { 130 };
	struct strategy_bits b = bits_of(on, 4), k1 = bits_of(m1, 2), k2 = bits_of(m2, 1);
	const struct strategy_bits *mask[] = { &k1, &k2 };

	(void)state;
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 200, 5), 70);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 200, 130), 199);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 200, 199), 5);
	assert_int_equal(strategy_bits_next(&b, mask, 1, 200, 5), 199);
	assert_int_equal(strategy_bits_next(&b, mask, 2, 200, 5), 130);
	assert_int_equal(strategy_bits_next(&b, mask, 2, 200, 199), 5);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 200, 69), 70);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 100000, 199), 5);   /* past the words */
	/* Positions beyond npos do not count. */
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 150, 130), 5);
	strategy_bits_clear(&b);
	assert_int_equal(strategy_bits_next(&b, NULL, 0, 200, STRATEGY_FROM_START), STRATEGY_NONE);
	strategy_bits_free(&b);
	strategy_bits_free(&k1);
	strategy_bits_free(&k2);
}

static void test_heap_order_and_remove(void **state)
{
	struct strategy_heap h = { NULL, 0, 0 };
	struct strategy_node n[200];
	int64_t last = INT64_MIN;

	(void)state;
	srand(7);
	for (int i = 0; i < 200; i++)
		strategy_heap_push(&h, &n[i], rand() % 50, i);
	for (int i = 0; i < 200; i += 3)
		strategy_heap_remove(&h, &n[i]);
	assert_int_equal(h.n, 200 - 67);
	for (int i = 0; i < 200; i += 3)
		assert_true(n[i].idx == STRATEGY_NONE);
	while (h.n) {
		const struct strategy_heap_item *t = strategy_heap_top(&h);
		int64_t key = t->k1 * 1000 + t->k2;
		struct strategy_node *node = t->node;

		assert_true(key > last);
		assert_true((node - n) % 3 != 0);
		last = key;
		strategy_heap_remove(&h, node);
	}
	assert_null(strategy_heap_top(&h));
	strategy_heap_free(&h);
}

static void test_heap_ties_by_second_key(void **state)
{
	struct strategy_heap h = { NULL, 0, 0 };
	struct strategy_node a, b, c;

	(void)state;
	strategy_heap_push(&h, &a, 100, 2);
	strategy_heap_push(&h, &b, 100, 1);
	strategy_heap_push(&h, &c, 300, 0);
	assert_ptr_equal(strategy_heap_top(&h)->node, &b);
	strategy_heap_remove(&h, &b);
	assert_ptr_equal(strategy_heap_top(&h)->node, &a);
	strategy_heap_free(&h);
}

static void test_buckets_lowest_uniform(void **state)
{
	struct strategy_buckets bk = { NULL, 0, 0, 0 };
	struct strategy_node n[4];
	uint64_t rng = 7;
	unsigned hits[4] = { 0 };

	(void)state;
	strategy_buckets_add(&bk, &n[0], 1);
	strategy_buckets_add(&bk, &n[1], 5);
	strategy_buckets_add(&bk, &n[2], 1);
	strategy_buckets_add(&bk, &n[3], 1);
	for (int i = 0; i < 3000; i++)
		hits[strategy_buckets_pick(&bk, &rng) - n]++;
	assert_int_equal(hits[1], 0);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			assert_in_range(hits[i], 850, 1150);
	strategy_buckets_remove(&bk, &n[0], 1);
	strategy_buckets_remove(&bk, &n[3], 1);
	assert_ptr_equal(strategy_buckets_pick(&bk, &rng), &n[2]);
	strategy_buckets_remove(&bk, &n[2], 1);
	assert_ptr_equal(strategy_buckets_pick(&bk, &rng), &n[1]);   /* min moves up */
	strategy_buckets_remove(&bk, &n[1], 5);
	assert_null(strategy_buckets_pick(&bk, &rng));
	strategy_buckets_add(&bk, &n[1], 0);
	assert_ptr_equal(strategy_buckets_pick(&bk, &rng), &n[1]);
	strategy_buckets_clear(&bk);
	assert_null(strategy_buckets_pick(&bk, &rng));
	strategy_buckets_free(&bk);
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
		cmocka_unit_test(test_bits_round_robin),
		cmocka_unit_test(test_bits_across_words_and_masks),
		cmocka_unit_test(test_heap_order_and_remove),
		cmocka_unit_test(test_heap_ties_by_second_key),
		cmocka_unit_test(test_buckets_lowest_uniform),
		cmocka_unit_test(test_random_seeded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

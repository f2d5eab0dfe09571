/* Tests src/core/idmap.c: put/get/del under growth and backward-shift deletion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/idmap.h"

static void test_put_get_del(void **state)
{
	(void)state;
	struct idmap m;
	idmap_init(&m);
	int vals[3];
	assert_int_equal(idmap_put(&m, 7, &vals[0]), 0);
	assert_int_equal(idmap_put(&m, 9, &vals[1]), 0);
	assert_ptr_equal(idmap_get(&m, 7), &vals[0]);
	assert_ptr_equal(idmap_get(&m, 9), &vals[1]);
	assert_null(idmap_get(&m, 8));
	assert_int_equal(idmap_put(&m, 7, &vals[2]), 0);
	assert_ptr_equal(idmap_get(&m, 7), &vals[2]);
	assert_int_equal(m.len, 2);
	assert_ptr_equal(idmap_del(&m, 7), &vals[2]);
	assert_null(idmap_get(&m, 7));
	assert_null(idmap_del(&m, 7));
	assert_int_equal(idmap_any(&m), 9);
	idmap_free(&m);
}

/* Many ids, deleted in an order that breaks probe runs: every survivor must
 * still be found, every deleted id must be gone. */
static void test_many(void **state)
{
	(void)state;
	struct idmap m;
	idmap_init(&m);
	enum { N = 20000 };
	for (uintptr_t i = 1; i <= N; i++)
		assert_int_equal(idmap_put(&m, (uint32_t)i, (void *)i), 0);
	for (uint32_t i = 1; i <= N; i += 3)
		assert_ptr_equal(idmap_del(&m, i), (void *)(uintptr_t)i);
	for (uint32_t i = 1; i <= N; i++) {
		void *p = idmap_get(&m, i);
		if (i % 3 == 1)
			assert_null(p);
		else
			assert_ptr_equal(p, (void *)(uintptr_t)i);
	}
	size_t left = 0;
	uint32_t id;
	while ((id = idmap_any(&m))) {
		idmap_del(&m, id);
		left++;
	}
	assert_int_equal(left, N - (N + 2) / 3);
	idmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

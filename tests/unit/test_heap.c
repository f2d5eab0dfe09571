/* test_heap.c — the janitor of src/core/heap.c: memory a burst freed goes
 * back to the system once notes stop (and only then), and once more late. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/heap.h"

#define BLOCKS 200000
#define BLOCK  256                       /* small: glibc keeps these on the heap, not mmap */

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* About 50 MiB in small blocks, then all freed but one at the top, so glibc
 * cannot give it back by shrinking the heap: only a trim does. */
static void *burst(void)
{
	static void *b[BLOCKS];
	for (int i = 0; i < BLOCKS; i++) {
		b[i] = malloc(BLOCK);
		memset(b[i], 1, BLOCK);
	}
	void *top = malloc(BLOCK);
	for (int i = 0; i < BLOCKS; i++)
		free(b[i]);
	return top;
}

/* RSS after waiting up to ms for it to fall below limit. */
static long rss_within(long limit, int ms)
{
	long r = rss_kib();
	for (int t = 0; t < ms && r > limit; t += 20) {
		usleep(20000);
		r = rss_kib();
	}
	return r;
}

static void test_trim_after_burst(void **state)
{
	(void)state;
	assert_int_equal(heap_janitor_start(200, 100000), 0);
	long before = rss_kib();
	void *top = burst();
	long peak = rss_kib();
	assert_true(peak - before > 30000);               /* the burst is resident */
	usleep(500000);
	assert_true(rss_kib() - before > 30000);          /* no note: nothing trimmed */
	heap_note(1);
	long after = rss_within(before + 10000, 3000);
	assert_true(after - before < 10000);
	free(top);
	heap_janitor_stop();
}

static void test_late_trim(void **state)
{
	(void)state;
	/* quiet_ms too long to matter here: only the late trim can run. */
	assert_int_equal(heap_janitor_start(100000, 800), 0);
	heap_note(1);
	usleep(100000);                                   /* the burst comes after the note */
	long before = rss_kib();
	void *top = burst();
	assert_true(rss_kib() - before > 30000);
	long after = rss_within(before + 10000, 3000);
	assert_true(after - before < 10000);
	free(top);
	heap_janitor_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim_after_burst),
		cmocka_unit_test(test_late_trim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

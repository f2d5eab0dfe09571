/* test_jitter.c — the jitter buffer: reordering, loss, late duplicates,
 * prebuffering, adaptive depth and restarts. Frames carry their number in
 * every sample so the order that comes out is easy to check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/jitter.h"

#define F JITTER_FRAME

static struct jitter jb;

static void put(uint32_t base, int k, uint32_t tick)
{
	int16_t pcm[F];
	for (int i = 0; i < F; i++)
		pcm[i] = (int16_t)(k + 1);
	jitter_put(&jb, base + (uint32_t)k * F, pcm, F, tick * F);
}

/* The frame number that came out (0 = silence), checking it is uniform. */
static int get(void)
{
	int16_t out[F];
	bool got = jitter_get(&jb, out);
	for (int i = 1; i < F; i++)
		assert_int_equal(out[i], out[0]);
	if (!got)
		assert_int_equal(out[0], 0);
	return out[0];
}

static void test_reorder(void **state)
{
	(void)state;
	jitter_reset(&jb);
	static const int order[] = { 0, 2, 1, 3, 5, 4, 7, 6, 8, 9 };
	int seen[16], n = 0;
	for (int t = 0; t < 10; t++) {
		put(1000, order[t], (uint32_t)t);
		int k = get();
		if (k)
			seen[n++] = k;
	}
	for (int t = 0; t < 4; t++) {
		int k = get();
		if (k)
			seen[n++] = k;
	}
	assert_int_equal(n, 10);
	for (int i = 0; i < n; i++)
		assert_int_equal(seen[i], i + 1);
}

static void test_loss_and_late(void **state)
{
	(void)state;
	jitter_reset(&jb);
	put(5000, 0, 0);
	put(5000, 1, 0);
	assert_int_equal(get(), 1);
	put(5000, 3, 1);                   /* frame 2 lost */
	assert_int_equal(get(), 2);
	assert_int_equal(get(), 0);        /* the gap: silence, in place */
	put(5000, 2, 3);                   /* arrives after its turn: dropped */
	put(5000, 1, 3);                   /* duplicate of a played frame: dropped */
	assert_int_equal(jb.late, 2);
	assert_int_equal(get(), 4);
	assert_int_equal(get(), 0);        /* drained */
}

static void test_prebuffer_single(void **state)
{
	(void)state;
	jitter_reset(&jb);
	put(77, 0, 0);                     /* a lone packet still plays, after the target wait */
	int k = 0, waits = 0;
	while (!(k = get()) && waits < 10)
		waits++;
	assert_int_equal(k, 1);
	assert_true(waits >= JITTER_MIN - 1 && waits <= JITTER_MIN);
}

static void test_adaptive(void **state)
{
	(void)state;
	jitter_reset(&jb);
	for (int k = 0; k < 50; k++) {     /* steady: stays at the minimum */
		put(0, k, (uint32_t)k);
		get();
	}
	assert_int_equal(jb.target, JITTER_MIN);
	for (int k = 50; k < 150; k++) {   /* bursts of three every three ticks */
		put(0, k, (uint32_t)(k - k % 3 + 2));
		if (k % 3 == 2)
			for (int i = 0; i < 3; i++)
				get();
	}
	assert_true(jb.target > JITTER_MIN);
	assert_true(jb.target <= JITTER_MAX);
}

static void test_restart_and_trim(void **state)
{
	(void)state;
	jitter_reset(&jb);
	put(0, 0, 0);
	put(0, 1, 0);
	assert_int_equal(get(), 1);
	put(0x80000000u, 0, 1);            /* a new stream far away: restart */
	assert_int_equal(jb.restarts, 2);
	jitter_reset(&jb);
	for (int k = 0; k < 10; k++)       /* ten frames at once: the delay is trimmed */
		put(0, k, 0);
	int first = get();
	assert_true(first > 1);
	assert_true(10 - first + 1 <= (int)jb.target + 2);
}

/* Packets at ts start + k * F + shift, one per tick (put, then get). */
static void spurt(uint32_t start, uint32_t shift, int from, int to, int *full, int *partial)
{
	int16_t pcm[F], out[F];
	for (int i = 0; i < F; i++)
		pcm[i] = 7;
	for (int k = from; k < to; k++) {
		jitter_put(&jb, start + (uint32_t)k * F + shift, pcm, F, (uint32_t)k * F);
		if (!jitter_get(&jb, out))
			continue;
		int heard = 0;
		for (int i = 0; i < F; i++)
			heard += out[i] == 7;
		*full += heard == F;
		*partial += heard && heard < F;
	}
}

/* The sender's timestamps move by half a frame, then it pauses without
 * counting the pause: the next spurt continues where the last one ended. Only
 * whole frames are played, so the shift costs one frame's worth of samples at
 * most and the next spurt comes out whole (it used to come out half silence
 * for good: the last half frame moved the read position past the end). */
static void test_half_frame_shift(void **state)
{
	(void)state;
	jitter_reset(&jb);
	int full = 0, partial = 0;
	spurt(1000, 0, 0, 5, &full, &partial);
	spurt(1000, F / 2, 5, 10, &full, &partial);
	int16_t out[F];
	for (int i = 0; i < 4; i++)
		jitter_get(&jb, out);
	assert_int_equal(partial, 1);        /* the hole the shift left */
	full = partial = 0;
	spurt(1000, F / 2, 10, 30, &full, &partial);
	assert_int_equal(partial, 0);
	assert_true(full >= 20 - (int)JITTER_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_loss_and_late),
		cmocka_unit_test(test_prebuffer_single),
		cmocka_unit_test(test_adaptive),
		cmocka_unit_test(test_restart_and_trim),
		cmocka_unit_test(test_half_frame_shift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

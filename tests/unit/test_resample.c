/* test_resample.c — the offline resampler: a 1 kHz tone at 44.1 kHz comes out
 * at 1 kHz with low distortion, a 6 kHz tone does not fold back to 2 kHz, and
 * lengths follow the rate ratio. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "media/resample.h"

#define IN_RATE 44100

static int16_t *tone(size_t n, double hz, double amp)
{
	int16_t *s = malloc(n * sizeof *s);
	for (size_t i = 0; i < n; i++)
		s[i] = (int16_t)lrint(amp * sin(2 * M_PI * hz * (double)i / IN_RATE));
	return s;
}

/* Power of x at frequency hz (Goertzel-style projection), away from the edges. */
static double power_at(const int16_t *x, size_t n, double hz)
{
	double re = 0, im = 0;
	for (size_t i = 400; i < n - 400; i++) {
		re += x[i] * cos(2 * M_PI * hz * (double)i / RESAMPLE_RATE);
		im += x[i] * sin(2 * M_PI * hz * (double)i / RESAMPLE_RATE);
	}
	double m = (double)(n - 800);
	return (re * re + im * im) / (m * m) * 4;
}

static double power_total(const int16_t *x, size_t n)
{
	double p = 0;
	for (size_t i = 400; i < n - 400; i++)
		p += (double)x[i] * x[i];
	return 2 * p / (double)(n - 800);
}

static void test_tone_1k(void **state)
{
	(void)state;
	int16_t *in = tone(IN_RATE, 1000, 10000);
	size_t n;
	int16_t *out = resample_to_8k(in, IN_RATE, IN_RATE, &n);
	assert_non_null(out);
	assert_int_equal(n, 8000);
	double p1k = power_at(out, n, 1000), all = power_total(out, n);
	double thd_db = 10 * log10((all - p1k) / p1k);
	print_message("1 kHz: amplitude %.0f, distortion+noise %.1f dB\n", sqrt(p1k), thd_db);
	assert_true(fabs(sqrt(p1k) - 10000) < 100);        /* passband gain within 1% */
	assert_true(thd_db < -60);
	free(in);
	free(out);
}

static void test_no_alias(void **state)
{
	(void)state;
	int16_t *in = tone(IN_RATE, 6000, 10000);
	size_t n;
	int16_t *out = resample_to_8k(in, IN_RATE, IN_RATE, &n);
	assert_non_null(out);
	double alias = power_at(out, n, 2000), all = power_total(out, n);
	double db = 10 * log10((all + 1e-9) / (10000.0 * 10000.0));
	print_message("6 kHz: alias at 2 kHz %.1f dB, total %.1f dB below the input\n",
	              10 * log10((alias + 1e-9) / 1e8), -db);
	assert_true(db < -60);
	free(in);
	free(out);
}

static void test_upsample_and_rates(void **state)
{
	(void)state;
	int16_t in[4000];
	for (size_t i = 0; i < 4000; i++)
		in[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 440 * (double)i / 4000));
	size_t n;
	int16_t *out = resample_to_8k(in, 4000, 4000, &n);
	assert_non_null(out);
	assert_int_equal(n, 8000);
	double p = power_at(out, n, 440);
	assert_true(fabs(sqrt(p) - 8000) < 160);
	free(out);
	assert_null(resample_to_8k(in, 10, 999, &n));
	assert_null(resample_to_8k(in, 10, 400000, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tone_1k),
		cmocka_unit_test(test_no_alias),
		cmocka_unit_test(test_upsample_and_rates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

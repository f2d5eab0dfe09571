/* test_g711.c — G.711 against values from the recommendation's tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/g711.h"

static void test_ulaw_known(void **state)
{
	(void)state;
	assert_int_equal(g711_lin2ulaw(0), 0xFF);
	assert_int_equal(g711_ulaw2lin(0xFF), 0);
	assert_int_equal(g711_ulaw2lin(0x7F), 0);          /* negative zero */
	assert_int_equal(g711_ulaw2lin(0x80), 32124);
	assert_int_equal(g711_ulaw2lin(0x00), -32124);
	assert_int_equal(g711_ulaw2lin(0xFE), 8);
	assert_int_equal(g711_ulaw2lin(0x7E), -8);
	assert_int_equal(g711_ulaw2lin(0xEF), 132);        /* first step of segment 1 */
	assert_int_equal(g711_lin2ulaw(32767), 0x80);      /* clipped */
	assert_int_equal(g711_lin2ulaw(-32768), 0x00);
	assert_int_equal(g711_lin2ulaw(8), 0xFE);
	assert_int_equal(g711_lin2ulaw(-8), 0x7E);
}

static void test_alaw_known(void **state)
{
	(void)state;
	assert_int_equal(g711_lin2alaw(0), 0xD5);
	assert_int_equal(g711_alaw2lin(0xD5), 8);
	assert_int_equal(g711_alaw2lin(0x55), -8);
	assert_int_equal(g711_alaw2lin(0xAA), 32256);
	assert_int_equal(g711_alaw2lin(0x2A), -32256);
	assert_int_equal(g711_alaw2lin(0xC5), 264);        /* first step of segment 1 */
	assert_int_equal(g711_lin2alaw(8), 0xD5);
	assert_int_equal(g711_lin2alaw(-1), 0x55);
	assert_int_equal(g711_lin2alaw(32767), 0xAA);
	assert_int_equal(g711_lin2alaw(-32768), 0x2A);
}

/* Every code decodes to a value that encodes back to the same code. */
static void test_round_trip(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		if (c != 0x7F)                                  /* -0 comes back as +0 */
			assert_int_equal(g711_lin2ulaw(g711_ulaw2lin((uint8_t)c)), c);
		assert_int_equal(g711_lin2alaw(g711_alaw2lin((uint8_t)c)), c);
	}
}

/* Decoded values grow with the magnitude code; encoding never goes backwards. */
static void test_monotonic(void **state)
{
	(void)state;
	for (int c = 0x80; c < 0xFF; c++)                  /* 0x80 loudest .. 0xFF zero */
		assert_true(g711_ulaw2lin((uint8_t)c) > g711_ulaw2lin((uint8_t)(c + 1)));
	int prev_u = -40000, prev_a = -40000;
	for (int x = -32768; x <= 32767; x += 7) {
		int u = g711_ulaw2lin(g711_lin2ulaw((int16_t)x));
		int a = g711_alaw2lin(g711_lin2alaw((int16_t)x));
		assert_true(u >= prev_u);
		assert_true(a >= prev_a);
		prev_u = u;
		prev_a = a;
	}
}

/* Quantisation error stays within half a step of the segment (generous bound). */
static void test_error_bound(void **state)
{
	(void)state;
	for (int x = -32000; x <= 32000; x += 13) {
		int u = g711_ulaw2lin(g711_lin2ulaw((int16_t)x));
		int a = g711_alaw2lin(g711_lin2alaw((int16_t)x));
		int mag = x < 0 ? -x : x;
		int bound = mag / 16 + 16;
		assert_true(u - x <= bound && x - u <= bound);
		assert_true(a - x <= bound && x - a <= bound);
	}
}

static void test_transcode(void **state)
{
	(void)state;
	assert_int_equal(g711_ulaw2alaw(0xFF), 0xD5);
	assert_int_equal(g711_alaw2ulaw(0xD5), 0xFE);      /* A-law +8 is mu-law +8 */
	for (int c = 0; c < 256; c++) {
		int lin = g711_ulaw2lin((uint8_t)c);
		int via = g711_alaw2lin(g711_ulaw2alaw((uint8_t)c));
		int mag = lin < 0 ? -lin : lin;
		assert_true(via - lin <= mag / 16 + 8 && lin - via <= mag / 16 + 8);
		assert_int_equal(g711_ulaw2alaw((uint8_t)c), g711_lin2alaw((int16_t)lin));
	}
	int16_t lin[4] = { 0, 1000, -1000, 32767 };
	uint8_t enc[4];
	int16_t dec[4];
	g711_encode(1, lin, enc, 4);
	g711_decode(1, enc, dec, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(dec[i], g711_alaw2lin(g711_lin2alaw(lin[i])));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ulaw_known),
		cmocka_unit_test(test_alaw_known),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_transcode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

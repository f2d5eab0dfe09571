/* Tests src/sip/sdes.c: RFC 4568 crypto attributes parsed and written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sip/sdes.h"

/* 30 bytes 0x00..0x1d in base64. */
#define KEY_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"

static void test_parse_baresip_line(void **state)
{
	(void)state;
	struct sdes c;
	assert_int_equal(sdes_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64, &c), 0);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.suite, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80);
	for (int i = 0; i < MEDIA_SRTP_KEY; i++)
		assert_int_equal(c.key[i], i);
	assert_int_equal(sdes_parse("7 AES_CM_128_HMAC_SHA1_32 inline:" KEY_B64 "|2^20", &c), 0);
	assert_int_equal(c.tag, 7);
	assert_int_equal(c.suite, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(sdes_parse("2 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 " WSH=64", &c), 0);
}

static void test_refused(void **state)
{
	(void)state;
	struct sdes c;
	static const char *const bad[] = {
		"",
		"1",
		"0 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64,                 /* tag 0 */
		"1 AES_256_CM_HMAC_SHA1_80 inline:" KEY_B64,                 /* suite we lack */
		"1 F8_128_HMAC_SHA1_80 inline:" KEY_B64,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|2^20|1:4",     /* MKI */
		"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|1:4",
		"1 AES_CM_128_HMAC_SHA1_80 inline:AAEC",                    /* short key */
		"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "AAAA",         /* long key */
		"1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx!d",
		"1 AES_CM_128_HMAC_SHA1_80 " KEY_B64,                        /* no inline: */
		"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 ";inline:" KEY_B64,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 " UNENCRYPTED_SRTP",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(sdes_parse(bad[i], &c), -1);
		assert_int_equal(c.suite, 0);
	}
	assert_int_equal(sdes_parse(NULL, &c), -1);
}

static void test_format_round_trip(void **state)
{
	(void)state;
	struct sdes a, b;
	char line[128];
	assert_int_equal(sdes_new(&a, 3, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	size_t n = sdes_format(line, sizeof line, &a);
	assert_int_equal(n, strlen("3 AES_CM_128_HMAC_SHA1_80 inline:") + 40);
	assert_int_equal(sdes_parse(line, &b), 0);
	assert_int_equal(b.tag, 3);
	assert_int_equal(b.suite, a.suite);
	assert_memory_equal(b.key, a.key, MEDIA_SRTP_KEY);
	assert_int_equal(sdes_format(line, 20, &a), 0);
	/* Two fresh keys differ (getrandom). */
	assert_int_equal(sdes_new(&b, 3, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	assert_memory_not_equal(a.key, b.key, MEDIA_SRTP_KEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_baresip_line),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests src/media/srtp.c: protect/unprotect round trip, tampering and replay
 * refused, and a re-key that keeps the direction whose key did not change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "media/srtp.h"

static uint8_t key_a[MEDIA_SRTP_KEY], key_b[MEDIA_SRTP_KEY], key_c[MEDIA_SRTP_KEY];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < MEDIA_SRTP_KEY; i++) {
		key_a[i] = (uint8_t)i;
		key_b[i] = (uint8_t)(0xA0 + i);
		key_c[i] = (uint8_t)(0x33 * i + 9);
	}
	return 0;
}

/* An RTP packet of 160 bytes of payload `fill`, in buf (room for the tag). */
static int packet(uint8_t *buf, uint16_t seq, uint8_t fill)
{
	memset(buf, 0, 12 + 160 + MSRTP_TRAILER);
	buf[0] = 0x80;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[8] = 0x12;
	buf[11] = 0x34;
	memset(buf + 12, fill, 160);
	return 12 + 160;
}

static void test_round_trip(void **state)
{
	(void)state;
	enum media_srtp_suite suites[] = { MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
		                           MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32 };
	for (int s = 0; s < 2; s++) {
		struct msrtp *us = msrtp_new(suites[s], key_a, key_b);
		struct msrtp *them = msrtp_new(suites[s], key_b, key_a);
		assert_non_null(us);
		assert_non_null(them);
		uint8_t buf[200], copy[200];
		for (uint16_t seq = 1; seq < 50; seq++) {
			int n = packet(buf, seq, 0x55);
			assert_int_equal(msrtp_protect(us, buf, &n), 0);
			assert_int_equal(n, 12 + 160 + (s == 0 ? 10 : 4));
			int clear = 0;
			for (int i = 12; i < 172; i++)
				clear += buf[i] == 0x55;
			assert_true(clear < 20);                  /* encrypted, not the payload */
			memcpy(copy, buf, (size_t)n);
			int len = n;
			assert_int_equal(msrtp_unprotect(them, buf, &len), 0);
			assert_int_equal(len, 12 + 160);
			for (int i = 12; i < len; i++)
				assert_int_equal(buf[i], 0x55);
			/* The same packet again: a replay. */
			len = n;
			assert_int_equal(msrtp_unprotect(them, copy, &len), -1);
		}
		msrtp_free(us);
		msrtp_free(them);
	}
}

static void test_tampered_and_wrong_key(void **state)
{
	(void)state;
	struct msrtp *us = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key_a, key_b);
	struct msrtp *them = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key_b, key_a);
	struct msrtp *stranger = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key_b, key_c);
	uint8_t buf[200];
	int n = packet(buf, 7, 1);
	assert_int_equal(msrtp_protect(us, buf, &n), 0);
	int len = n;
	assert_int_equal(msrtp_unprotect(stranger, buf, &len), -1);
	buf[40] ^= 0x80;
	len = n;
	assert_int_equal(msrtp_unprotect(them, buf, &len), -1);
	/* Plain RTP is not SRTP. */
	n = packet(buf, 8, 1);
	assert_int_equal(msrtp_unprotect(them, buf, &n), -1);
	msrtp_free(us);
	msrtp_free(them);
	msrtp_free(stranger);
}

/* A re-INVITE that changes only the remote's key: our outbound session goes
 * on (its replay state with it), the inbound one starts over with the new key. */
static void test_carry(void **state)
{
	(void)state;
	struct msrtp *us = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key_a, key_b);
	struct msrtp *them = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key_c, key_a);
	uint8_t buf[200];
	int n = packet(buf, 100, 9);
	assert_int_equal(msrtp_protect(us, buf, &n), 0);
	int len = n;
	assert_int_equal(msrtp_unprotect(them, buf, &len), 0);

	struct msrtp *next = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key_a, key_c);
	msrtp_carry(next, us);
	/* Our outbound session is the old one: it remembers index 100 and will
	 * not protect it twice (a fresh session would, reusing the keystream). */
	n = packet(buf, 100, 9);
	assert_int_equal(msrtp_protect(next, buf, &n), -1);
	n = packet(buf, 101, 9);
	assert_int_equal(msrtp_protect(next, buf, &n), 0);
	/* Inbound now takes the new key. */
	n = packet(buf, 5, 3);
	assert_int_equal(msrtp_protect(them, buf, &n), 0);
	assert_int_equal(msrtp_unprotect(next, buf, &n), 0);
	msrtp_free(next);
	msrtp_free(them);
	struct msrtp *alone = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key_a, key_b);
	msrtp_carry(alone, NULL);
	msrtp_free(alone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_round_trip, setup),
		cmocka_unit_test_setup(test_tampered_and_wrong_key, setup),
		cmocka_unit_test_setup(test_carry, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

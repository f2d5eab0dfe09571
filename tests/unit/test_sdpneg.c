/* Tests src/sip/sdpneg.c: codec choice, telephone-event, hold, bad SDP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sip/sdpneg.h"

static int parse(const char *sdp, struct sdpneg *r)
{
	char err[128];
	return sdpneg_parse(sdp, strlen(sdp), r, err, sizeof err);
}

static void test_offer_order_kept(void **state)
{
	(void)state;
	struct sdpneg r;
	const char *sdp = "v=0\r\no=- 1 1 IN IP4 10.1.2.3\r\ns=-\r\nc=IN IP4 10.1.2.3\r\nt=0 0\r\n"
	                  "m=audio 4000 RTP/AVP 18 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n";
	assert_int_equal(parse(sdp, &r), 0);
	assert_string_equal(r.ip, "10.1.2.3");
	assert_int_equal(r.port, 4000);
	assert_int_equal(r.ncodecs, 2);
	assert_int_equal(r.codecs[0], 8);
	assert_int_equal(r.codecs[1], 0);
	assert_int_equal(r.dtmf_pt, 96);
	assert_false(r.hold);
	assert_string_equal(r.reply_dir, "sendrecv");
}

static void test_no_common_codec(void **state)
{
	(void)state;
	struct sdpneg r;
	const char *sdp = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
	                  "m=audio 4000 RTP/AVP 18\r\n";
	assert_int_equal(parse(sdp, &r), 0);
	assert_int_equal(r.ncodecs, 0);
}

static void test_hold_and_media_level_c(void **state)
{
	(void)state;
	struct sdpneg r;
	const char *sdp = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"
	                  "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 5.6.7.8\r\na=sendonly\r\n";
	assert_int_equal(parse(sdp, &r), 0);
	assert_string_equal(r.ip, "5.6.7.8");
	assert_true(r.hold);
	assert_false(r.quiet);
	assert_string_equal(r.reply_dir, "recvonly");
	const char *inactive = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"
	                       "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 5.6.7.8\r\na=inactive\r\n";
	assert_int_equal(parse(inactive, &r), 0);
	assert_true(r.quiet);
	assert_string_equal(r.reply_dir, "inactive");
}

static void test_garbage(void **state)
{
	(void)state;
	struct sdpneg r;
	assert_int_equal(parse("hello world", &r), -1);
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n", &r), -1);
	char err[64];
	assert_int_equal(sdpneg_parse(NULL, 0, &r, err, sizeof err), -1);
}

static void test_build_round_trip(void **state)
{
	(void)state;
	char buf[1024];
	int codecs[] = { 0, 8 };
	size_t n = sdpneg_build(buf, sizeof buf, "127.0.0.1", 20000, codecs, 2, 101, 7, "sendrecv", NULL, false);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "m=audio 20000 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(buf, "a=rtpmap:101 telephone-event/8000\r\n"));
	struct sdpneg r;
	assert_int_equal(parse(buf, &r), 0);
	assert_int_equal(r.ncodecs, 2);
	assert_int_equal(r.dtmf_pt, 101);
	assert_int_equal(sdpneg_build(buf, 40, "127.0.0.1", 20000, codecs, 2, 101, 7, "sendrecv", NULL, false), 0);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct sdpneg r;
	char buf[1024];
	const char *sdp = "v=0\r\no=- 1 1 IN IP6 2001:db8::5\r\ns=-\r\nc=IN IP6 2001:db8::5\r\n"
	                  "t=0 0\r\nm=audio 4000 RTP/AVP 8\r\n";
	assert_int_equal(parse(sdp, &r), 0);
	assert_string_equal(r.ip, "2001:db8::5");
	assert_int_equal(r.port, 4000);
	assert_int_equal(r.codecs[0], 8);
	assert_false(r.hold);
	const char *held = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::\r\nt=0 0\r\n"
	                   "m=audio 4000 RTP/AVP 0\r\n";
	assert_int_equal(parse(held, &r), 0);
	assert_true(r.hold);
	assert_string_equal(r.reply_dir, "recvonly");
	int codecs[] = { 0 };
	assert_true(sdpneg_build(buf, sizeof buf, "::1", 20000, codecs, 1, 0, 3, "sendrecv", NULL, false) > 0);
	assert_non_null(strstr(buf, "o=callq 3 3 IN IP6 ::1\r\n"));
	assert_non_null(strstr(buf, "c=IN IP6 ::1\r\n"));
	assert_int_equal(parse(buf, &r), 0);
	assert_string_equal(r.ip, "::1");
	/* IPv4 stays IPv4 */
	assert_true(sdpneg_build(buf, sizeof buf, "10.0.0.1", 20000, codecs, 1, 0, 3, "sendrecv", NULL, false) > 0);
	assert_non_null(strstr(buf, "c=IN IP4 10.0.0.1\r\n"));
}

/* Found by tests/fuzz/fuzz_sdp: Sofia-SIP's parse_media looped forever,
 * allocating, on these m= lines (a non-RTP proto whose format list has a word
 * starting outside its TOKEN set, or a tab it does not skip). Each must now be
 * refused at once; legitimate non-RTP streams beside the audio still parse. */
static void test_fuzz_sofia_media_loop(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"m=audio 4000 UDP 8 ,\r\n",
		"m=audio 4000 UDP (\r\n",
		"m=audio 4000 UDP /\r\n",
		"m=audio 4000 UDP 8//\r\n",
		"m=audio 4000 x\001/y 8\r\n",
		"m=audio 4000 RT\273/AVP 8 101\r\n",
		"  \t m=audio 4000 UDP 8 ,\r\n",
		"\rm=audio 4000 UDP (\r",
		"m=au/2AV\t\t\t\r\t\t\t\t\t\t\t\t I\n",
		"m=audio 4000 UDP \t\r\n",
	};
	const char *head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
	char sdp[512], err[128];
	struct sdpneg r;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(sdp, sizeof sdp, "%s%s", head, bad[i]);
		assert_int_equal(sdpneg_parse(sdp, strlen(sdp), &r, err, sizeof err), -1);
		assert_non_null(strstr(err, "m= line"));
	}
	/* The first crash input, byte for byte (it has a NUL inside the m= line). */
	static const char first[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
	                            "t=0 0\r\nm=audio 4000 RT#\273\263\352\376\177\0\0P/AVP 8 101\r\n"
	                            "a=rtpmap:0 PCMU/8000\r\na=rtpm=fmtp:101 0-16\r\na=sendrecv\r\n";
	assert_int_equal(sdpneg_parse(first, sizeof first - 1, &r, err, sizeof err), -1);
	snprintf(sdp, sizeof sdp, "%s%s", head,
	         "m=audio 4000 RTP/AVP 0 8 \r\nm=image 0 udptl t38\r\nm=video 0 RTP/AVP 31 \r\n");
	assert_int_equal(sdpneg_parse(sdp, strlen(sdp), &r, err, sizeof err), 0);
	assert_int_equal(r.ncodecs, 2);
}

static void test_srtp_offer_and_answer(void **state)
{
	(void)state;
	struct sdpneg r;
	char buf[1024];
	static const int codecs[] = { 0 };
	const char *savp = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
	                   "m=audio 4000 RTP/SAVP 0\r\n"
	                   "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:xyz\r\n"
	                   "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
	                   "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n";
	assert_int_equal(parse(savp, &r), 0);
	assert_true(r.savp);
	assert_int_equal(r.crypto.tag, 2);
	assert_int_equal(r.crypto.suite, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(r.crypto.key[29], 29);
	/* RTP/SAVP with nothing we support: parsed, no crypto (ua.c answers 488). */
	const char *none = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
	                   "m=audio 4000 RTP/SAVP 0\r\n";
	assert_int_equal(parse(none, &r), 0);
	assert_true(r.savp);
	assert_int_equal(r.crypto.suite, 0);
	/* Our answer: the key in the profile asked for. */
	struct sdes ours;
	assert_int_equal(sdes_new(&ours, 2, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	assert_true(sdpneg_build(buf, sizeof buf, "127.0.0.1", 20000, codecs, 1, 0, 3, "sendrecv",
	                         &ours, true) > 0);
	assert_non_null(strstr(buf, "m=audio 20000 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(buf, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_int_equal(parse(buf, &r), 0);
	assert_memory_equal(r.crypto.key, ours.key, MEDIA_SRTP_KEY);
	assert_true(sdpneg_build(buf, sizeof buf, "127.0.0.1", 20000, codecs, 1, 0, 3, "sendrecv",
	                         &ours, false) > 0);
	assert_non_null(strstr(buf, "RTP/AVP 0"));
	assert_non_null(strstr(buf, "a=crypto:2 "));
	assert_true(sdpneg_build(buf, sizeof buf, "127.0.0.1", 20000, codecs, 1, 0, 3, "sendrecv",
	                         NULL, true) > 0);
	assert_null(strstr(buf, "crypto"));
	assert_null(strstr(buf, "SAVP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_order_kept),
		cmocka_unit_test(test_no_common_codec),
		cmocka_unit_test(test_hold_and_media_level_c),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_build_round_trip),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_fuzz_sofia_media_loop),
		cmocka_unit_test(test_srtp_offer_and_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

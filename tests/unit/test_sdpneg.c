/* Tests src/sip/sdpneg.c: codec choice, telephone-event, hold, bad SDP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	size_t n = sdpneg_build(buf, sizeof buf, "127.0.0.1", 20000, codecs, 2, 101, 7);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "m=audio 20000 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(buf, "a=rtpmap:101 telephone-event/8000\r\n"));
	struct sdpneg r;
	assert_int_equal(parse(buf, &r), 0);
	assert_int_equal(r.ncodecs, 2);
	assert_int_equal(r.dtmf_pt, 101);
	assert_int_equal(sdpneg_build(buf, 40, "127.0.0.1", 20000, codecs, 2, 101, 7), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_order_kept),
		cmocka_unit_test(test_no_common_codec),
		cmocka_unit_test(test_hold_and_media_level_c),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_build_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

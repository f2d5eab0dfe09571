/* Tests src/sip/info.c: DTMF digits from SIP INFO bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sip/info.h"

static char digit(const char *ct, const char *body)
{
	return info_dtmf_digit(ct, body, strlen(body));
}

static void test_bodies(void **state)
{
	(void)state;
	assert_int_equal(digit("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"), '5');
	assert_int_equal(digit("Application/DTMF-Relay", "signal= #\r\n"), '#');
	assert_int_equal(digit("application/dtmf", "*"), '*');
	assert_int_equal(digit("application/dtmf", "D"), 'D');
	assert_int_equal(digit("application/dtmf", ""), 0);
	assert_int_equal(digit("application/dtmf", "x"), 0);
	assert_int_equal(digit("application/dtmf-relay", "Duration=160"), 0);
	assert_int_equal(digit("application/dtmf-relay", "Signal="), 0);
	assert_int_equal(digit("text/plain", "5"), 0);
	assert_int_equal(info_dtmf_digit(NULL, "5", 1), 0);
	/* not NUL-terminated: only len bytes are read */
	assert_int_equal(info_dtmf_digit("application/dtmf", "57", 1), '5');
	char big[INFO_BODY_MAX];
	memset(big, '5', sizeof big);
	assert_int_equal(info_dtmf_digit("application/dtmf", big, sizeof big), 0);
	assert_int_equal(info_dtmf_digit("application/dtmf", big, sizeof big - 1), '5');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_supervise.c — recording file names: two recordings of one box in the
 * same second (voicemails) get different names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "app/app.h"

static void test_names_unique_within_a_second(void **state)
{
	(void)state;
	char a[256], b[256];
	time_t t = 1764151200;
	app_rec_name(a, sizeof a, "run/recordings", "voicemail", "1001", 0, t, 41);
	app_rec_name(b, sizeof b, "run/recordings", "voicemail", "1001", 0, t, 42);
	assert_string_not_equal(a, b);
	assert_non_null(strstr(a, "run/recordings/voicemail-"));
	assert_non_null(strstr(a, "-1001-0-41.wav"));
	assert_non_null(strstr(b, "-1001-0-42.wav"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_unique_within_a_second),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_country.c — country of origin by longest E.164 prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "report/country.h"

static void test_common_codes(void **state)
{
	(void)state;
	assert_string_equal(country_of("+15855550100"), "US/CA");
	assert_string_equal(country_of("+442079460000"), "GB");
	assert_string_equal(country_of("+4930123456"), "DE");
	assert_string_equal(country_of("+33123456789"), "FR");
	assert_string_equal(country_of("+34911234567"), "ES");
	assert_string_equal(country_of("+525512345678"), "MX");
	assert_string_equal(country_of("+5511987654321"), "BR");
	assert_string_equal(country_of("+919876543210"), "IN");
	assert_string_equal(country_of("+8613812345678"), "CN");
	assert_string_equal(country_of("+81312345678"), "JP");
	assert_string_equal(country_of("+61212345678"), "AU");
	assert_string_equal(country_of("+27211234567"), "ZA");
	assert_string_equal(country_of("+971501234567"), "AE");
	assert_string_equal(country_of("+74951234567"), "RU");
}

static void test_longest_prefix_wins(void **state)
{
	(void)state;
	assert_string_equal(country_of("+18765551234"), "JM");   /* NANP, not US/CA */
	assert_string_equal(country_of("+17875551234"), "PR");
	assert_string_equal(country_of("+18095551234"), "DO");
	assert_string_equal(country_of("+77011234567"), "KZ");   /* +7, not RU */
	assert_string_equal(country_of("+441534123456"), "JE");  /* +44, not GB */
	assert_string_equal(country_of("+3531234567"), "IE");    /* 353 over 35x */
	assert_string_equal(country_of("+3801234567"), "UA");
	const struct country *c = country_lookup("+18765551234");
	assert_non_null(c);
	assert_string_equal(c->prefix, "1876");
	assert_string_equal(c->name, "Jamaica");
}

static void test_number_forms(void **state)
{
	(void)state;
	assert_string_equal(country_of("004930123456"), "DE");        /* 00 international prefix */
	assert_string_equal(country_of("+1 (585) 555-0100"), "US/CA"); /* separators */
	assert_string_equal(country_of(" +33.1.23.45.67.89"), "FR");
	assert_string_equal(country_of("+4930123456;ext=1"), "DE");
	assert_string_equal(country_of("5551234"), "");                /* local */
	assert_string_equal(country_of("030123456"), "");              /* national */
	assert_string_equal(country_of("1001"), "");
	assert_string_equal(country_of("+"), "");
	assert_string_equal(country_of("+0123"), "");                  /* no such code */
	assert_string_equal(country_of("anonymous"), "");
	assert_string_equal(country_of(""), "");
	assert_string_equal(country_of(NULL), "");
	assert_null(country_lookup("+2"));                             /* zone digit alone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_codes),
		cmocka_unit_test(test_longest_prefix_wins),
		cmocka_unit_test(test_number_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

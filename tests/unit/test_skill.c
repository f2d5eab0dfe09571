/* test_skill.c — skill rules: parsing, matching, limits, bad patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "acd/skill.h"

static char err[256];

static struct eng_skill_rule rule(const char *text)
{
	struct eng_skill_rule r;

	err[0] = '\0';
	if (skill_rule_parse(text, &r, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", text, err);
	return r;
}

static void refused(const char *text, const char *why)
{
	struct eng_skill_rule r;

	err[0] = '\0';
	assert_int_equal(skill_rule_parse(text, &r, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' lacks '%s'", text, err, why);
}

static struct skill_subject subject(const char *number, const char *name, const char *callee)
{
	struct skill_subject s = { { number, name, callee, "Sales line" } };

	return s;
}

static void test_parse(void **state)
{
	struct eng_skill_rule r = rule("caller_number starts_with +1585");
	char buf[200];

	(void)state;
	assert_int_equal(r.field, SKF_CALLER_NUMBER);
	assert_int_equal(r.op, SKOP_STARTS_WITH);
	assert_string_equal(r.value, "+1585");
	r = rule("caller_name matches ^Juan Carlos( |$)");
	assert_int_equal(r.field, SKF_CALLER_NAME);
	assert_int_equal(r.op, SKOP_MATCHES);
	assert_string_equal(r.value, "^Juan Carlos( |$)");   /* spaces kept */
	assert_int_equal(skill_rule_format(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "caller_name matches ^Juan Carlos( |$)");
	assert_int_equal(skill_rule_format(&r, buf, 10), -1);
	r = rule("callee_number starts_with 6000");
	assert_int_equal(r.field, SKF_CALLEE_NUMBER);
	r = rule("callee_name matches Sales");
	assert_int_equal(r.field, SKF_CALLEE_NAME);
	refused("caller_number", "FIELD OP VALUE");
	refused("caller_number starts_with", "FIELD OP VALUE");
	refused("caller_number starts_with ", "empty value");
	refused("caller starts_with 1", "field must be");
	refused("caller_number equals 1", "operator must be");
	refused("caller_number  starts_with 1", "operator must be");
	refused(NULL, "empty");
}

static void test_parse_long_value(void **state)
{
	char text[300];
	struct eng_skill_rule r;

	(void)state;
	snprintf(text, sizeof(text), "caller_name starts_with %0128d", 0);
	assert_int_equal(skill_rule_parse(text, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "127"));
	snprintf(text, sizeof(text), "caller_name starts_with %0127d", 0);
	assert_int_equal(skill_rule_parse(text, &r, err, sizeof(err)), 0);
}

static void test_match_any_all(void **state)
{
	struct eng_skill_rule rs[2] = { rule("caller_number starts_with +1585"),
	                                rule("caller_name matches (?i)^juan") };
	struct skill *any = skill_new("spanish", false, rs, 2, err, sizeof(err));
	struct skill *all = skill_new("both", true, rs, 2, err, sizeof(err));
	struct skill_subject s1 = subject("+15853611962", "Ann", "6000");
	struct skill_subject s2 = subject("+4930123", "JUAN Perez", "6000");
	struct skill_subject s3 = subject("+15850000", "juanita", "6000");
	struct skill_subject s4 = subject(NULL, NULL, NULL);
	const struct eng_skill_rule *got;

	(void)state;
	assert_non_null(any);
	assert_non_null(all);
	assert_string_equal(skill_name(any), "spanish");
	assert_false(skill_match_all(any));
	assert_int_equal(skill_rules(all, &got), 2);
	assert_string_equal(got[1].value, "(?i)^juan");
	assert_true(skill_matches(any, &s1));
	assert_true(skill_matches(any, &s2));
	assert_false(skill_matches(any, &s4));
	assert_false(skill_matches(all, &s1));
	assert_false(skill_matches(all, &s2));
	assert_true(skill_matches(all, &s3));
	skill_free(any);
	skill_free(all);
}

static void test_starts_with_is_plain(void **state)
{
	struct eng_skill_rule r = rule("caller_number starts_with +1.8");
	struct skill *s = skill_new("plain", false, &r, 1, err, sizeof(err));
	struct skill_subject yes = subject("+1.800", "", ""), no = subject("+12800", "", "");

	(void)state;
	assert_true(skill_matches(s, &yes));
	assert_false(skill_matches(s, &no));   /* '.' is not a wildcard */
	skill_free(s);
}

static void test_bad_regex_message(void **state)
{
	struct eng_skill_rule rs[2] = { rule("caller_number starts_with +1"),
	                                rule("caller_name matches (ab") };

	(void)state;
	assert_null(skill_new("bad", false, rs, 2, err, sizeof(err)));
	assert_string_equal(err, "rule 2: PCRE2 error at offset 3: missing closing parenthesis");
	rs[1] = rule("caller_name matches a[z-a]");
	assert_null(skill_new("bad", false, rs, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "rule 2: PCRE2 error at offset"));
	assert_null(skill_new("none", false, rs, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "1 to 16 rules"));
}

/* Catastrophic backtracking: the match limit turns it into a quick "no". */
static void test_match_limit(void **state)
{
	struct eng_skill_rule r = rule("caller_name matches ^(a+)+$");
	struct skill *s = skill_new("evil", false, &r, 1, err, sizeof(err));
	char name[64];
	struct skill_subject subj;
	struct timespec t0, t1;
	double ms;

	(void)state;
	assert_non_null(s);
	memset(name, 'a', 40);
	strcpy(name + 40, "!");
	subj = subject("", name, "");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_false(skill_matches(s, &subj));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 100.0);
	name[40] = '\0';
	assert_true(skill_matches(s, &subj));
	skill_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_long_value),
		cmocka_unit_test(test_match_any_all),
		cmocka_unit_test(test_starts_with_is_plain),
		cmocka_unit_test(test_bad_regex_message),
		cmocka_unit_test(test_match_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

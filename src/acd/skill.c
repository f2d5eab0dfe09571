/* skill.c — see skill.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "acd/skill.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct skill {
	char name[ENG_NAME_MAX];
	bool match_all;
	size_t n;
	struct eng_skill_rule rules[ENG_SKILL_RULES_MAX];
	pcre2_code *re[ENG_SKILL_RULES_MAX];    /* `matches` rules only */
	pcre2_match_data *md;       /* one per skill: the engine is single-threaded */
	pcre2_match_context *mc;    /* carries the limits */
};

static const char *const skill_fields[] = {
	[SKF_CALLER_NUMBER] = "caller_number",
	[SKF_CALLER_NAME] = "caller_name",
	[SKF_CALLEE_NUMBER] = "callee_number",
	[SKF_CALLEE_NAME] = "callee_name",
};

static const char *const skill_ops[] = {
	[SKOP_STARTS_WITH] = "starts_with",
	[SKOP_MATCHES] = "matches",
};

#define SKILL_COUNT(a) (sizeof(a) / sizeof(*(a)))

static int skill_fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, arg);
	return -1;
}

/* Finds the word s[0..len) in names; -1 if absent. */
static int skill_word(const char *const *names, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}

int skill_rule_parse(const char *text, struct eng_skill_rule *out, char *err, size_t errlen)
{
	const char *sp1, *op, *sp2, *value;
	int f, o;

	if (!text)
		return skill_fail(err, errlen, "%s", "empty rule");
	sp1 = strchr(text, ' ');
	if (!sp1)
		return skill_fail(err, errlen, "rule '%.40s' is not FIELD OP VALUE", text);
	f = skill_word(skill_fields, SKILL_COUNT(skill_fields), text, (size_t)(sp1 - text));
	if (f < 0)
		return skill_fail(err, errlen, "%s",
		                  "field must be caller_number, caller_name, callee_number or callee_name");
	op = sp1 + 1;
	sp2 = strchr(op, ' ');
	if (!sp2)
		return skill_fail(err, errlen, "rule '%.40s' is not FIELD OP VALUE", text);
	o = skill_word(skill_ops, SKILL_COUNT(skill_ops), op, (size_t)(sp2 - op));
	if (o < 0)
		return skill_fail(err, errlen, "%s", "operator must be starts_with or matches");
	value = sp2 + 1;
	if (*value == '\0')
		return skill_fail(err, errlen, "%s", "empty value");
	if (strlen(value) >= ENG_SKILL_VALUE_MAX)
		return skill_fail(err, errlen, "%s", "value longer than 127 bytes");
	out->field = (enum eng_skill_field)f;
	out->op = (enum eng_skill_op)o;
	snprintf(out->value, sizeof(out->value), "%s", value);
	return 0;
}

int skill_rule_format(const struct eng_skill_rule *r, char *buf, size_t len)
{
	int n;

	if ((size_t)r->field >= SKILL_COUNT(skill_fields) || (size_t)r->op >= SKILL_COUNT(skill_ops))
		return -1;
	n = snprintf(buf, len, "%s %s %s", skill_fields[r->field], skill_ops[r->op], r->value);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static void skill_oom(const void *p)
{
	if (!p)
		abort();
}

/* Compiles rule i of s; -1 with "rule N: PCRE2 error at offset K: TEXT". */
static int skill_compile(struct skill *s, size_t i, char *err, size_t errlen)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int code;

	s->re[i] = pcre2_compile((PCRE2_SPTR)s->rules[i].value, PCRE2_ZERO_TERMINATED, 0,
	                         &code, &off, NULL);
	if (s->re[i])
		return 0;
	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "code %d", code);
	if (err && errlen)
		snprintf(err, errlen, "rule %zu: PCRE2 error at offset %zu: %s", i + 1, (size_t)off,
		         (const char *)msg);
	return -1;
}

static bool skill_rule_valid(const struct eng_skill_rule *r)
{
	return (size_t)r->field < SKILL_COUNT(skill_fields) &&
	       (size_t)r->op < SKILL_COUNT(skill_ops) && r->value[0] != '\0' &&
	       memchr(r->value, '\0', sizeof(r->value)) != NULL;
}

struct skill *skill_new(const char *name, bool match_all, const struct eng_skill_rule *rules,
                        size_t n, char *err, size_t errlen)
{
	struct skill *s;

	if (n == 0 || n > ENG_SKILL_RULES_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "a skill needs 1 to %d rules", ENG_SKILL_RULES_MAX);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	skill_oom(s);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->match_all = match_all;
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		s->rules[i] = rules[i];
		if (!skill_rule_valid(&rules[i])) {
			if (err && errlen)
				snprintf(err, errlen, "rule %zu: invalid field, operator or value", i + 1);
			skill_free(s);
			return NULL;
		}
		if (rules[i].op == SKOP_MATCHES && skill_compile(s, i, err, errlen) < 0) {
			skill_free(s);
			return NULL;
		}
	}
	s->md = pcre2_match_data_create(1, NULL);
	s->mc = pcre2_match_context_create(NULL);
	skill_oom(s->md);
	skill_oom(s->mc);
	pcre2_set_match_limit(s->mc, SKILL_MATCH_LIMIT);
	pcre2_set_depth_limit(s->mc, SKILL_DEPTH_LIMIT);
	return s;
}

void skill_free(struct skill *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		pcre2_code_free(s->re[i]);
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mc);
	free(s);
}

const char *skill_name(const struct skill *s)
{
	return s->name;
}

bool skill_match_all(const struct skill *s)
{
	return s->match_all;
}

size_t skill_rules(const struct skill *s, const struct eng_skill_rule **rules)
{
	*rules = s->rules;
	return s->n;
}

/* A match error, the limits included, is "no match": the call simply does not
 * get this skill's agents. */
static bool skill_rule_matches(const struct skill *s, size_t i, const char *v)
{
	const struct eng_skill_rule *r = &s->rules[i];

	if (r->op == SKOP_STARTS_WITH)
		return strncmp(v, r->value, strlen(r->value)) == 0;
	return pcre2_match(s->re[i], (PCRE2_SPTR)v, strlen(v), 0, 0, s->md, s->mc) >= 0;
}

bool skill_matches(const struct skill *s, const struct skill_subject *subj)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *v = subj->field[s->rules[i].field];
		bool hit = skill_rule_matches(s, i, v ? v : "");

		if (hit != s->match_all)
			return hit;
	}
	return s->match_all;
}

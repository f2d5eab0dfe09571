/* skill.h — skills: named rule sets that decide which calls an agent suits.
 *
 * Internal to the ACD. A rule reads one field of the call ("FIELD OP VALUE",
 * e.g. "caller_number starts_with +1585"); a skill matches a call when all
 * (match_all) or any of its rules match. `matches` rules are PCRE2 patterns,
 * compiled once when the skill is defined and run with match and depth limits:
 * a pattern that hits a limit counts as not matching, so a hostile pattern
 * costs a bounded amount of work per call and cannot stall the engine.
 */
#ifndef CALLQ_SKILL_H
#define CALLQ_SKILL_H

#include <stdbool.h>
#include <stddef.h>

#include "acd/engine.h"

#define SKILL_MATCH_LIMIT 10000
#define SKILL_DEPTH_LIMIT 1000

struct skill;

/* The call fields rules look at, indexed by enum eng_skill_field; NULL = "". */
struct skill_subject {
	const char *field[4];
};

/* Parses "FIELD OP VALUE" (VALUE is the rest of the line and may hold spaces).
 * 0 on success; -1 with a message in err. Patterns are checked by skill_new. */
int skill_rule_parse(const char *text, struct eng_skill_rule *out, char *err, size_t errlen);
/* The text skill_rule_parse reads back. 0, or -1 if buf is too small. */
int skill_rule_format(const struct eng_skill_rule *r, char *buf, size_t len);

/* Compiles a skill. NULL with err ("rule 2: PCRE2 error at offset 3: ...")
 * when a rule is invalid; aborts when out of memory. */
struct skill *skill_new(const char *name, bool match_all, const struct eng_skill_rule *rules,
                        size_t n, char *err, size_t errlen);
void skill_free(struct skill *s);

const char *skill_name(const struct skill *s);
bool skill_match_all(const struct skill *s);
size_t skill_rules(const struct skill *s, const struct eng_skill_rule **rules);
bool skill_matches(const struct skill *s, const struct skill_subject *subj);

#endif

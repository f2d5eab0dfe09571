/* fuzz_skill.c — skill rules end to end: skill_rule_parse on each input line,
 * format/parse round trip, engine_skill_set with the rules that parsed, then a
 * call whose caller/callee fields come from the input entering a skills-strict
 * queue with one ready agent holding the skill: whatever the rules are, the
 * call is offered to that agent exactly when skill_matches says so, and the
 * hang-up leaves the engine empty.
 *
 * Input: byte 0 = flags (bit 0 match_all), then '\n'-separated lines: the
 * first four are caller_number, caller_name, callee_number, callee_name; the
 * rest are rules (at most ENG_SKILL_RULES_MAX + 2 tried). */
#include "acd/engine.h"
#include "acd/qconf.h"
#include "acd/skill.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static engine_t *e;
static eng_id q, agent;
static eng_ms now = 1000000;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_skill: %s\n", what);
	abort();
}

static void drain(size_t *offers, eng_id *offer, size_t *releases)
{
	struct eng_action a;
	while (engine_next_action(e, &a)) {
		if (a.kind == ACT_OFFER) {
			(*offers)++;
			*offer = a.offer;
		} else if (a.kind == ACT_RELEASE) {
			(*releases)++;
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	e = engine_new();
	struct eng_queue_conf c;
	qconf_defaults(&c);
	snprintf(c.name, sizeof c.name, "fz");
	snprintf(c.number, sizeof c.number, "6000");
	c.strategy = STRAT_SKILLS_STRICT;
	c.recovery_s = 0;
	q = engine_queue_add(e, now, &c);
	agent = engine_member_add(e, "1001", "Agent", ROLE_AGENT);
	if (!q || !agent || !engine_assign(e, now, q, agent, false, true) || !engine_agent_login(e, now, agent))
		die("setup");
	size_t o = 0, r = 0;
	eng_id off = 0;
	drain(&o, &off, &r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	bool match_all = data[0] & 1;
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	char *lines[4 + ENG_SKILL_RULES_MAX + 2] = { 0 };
	size_t nlines = 0;
	for (char *p = text; p && nlines < sizeof lines / sizeof *lines;) {
		lines[nlines++] = p;
		char *nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		p = nl;
	}
	/* The engine keeps the fields in fixed buffers (ENG_NUMBER_MAX / ENG_NAME_MAX):
	 * truncate the same way, so both sides judge the same text. */
	static const size_t cap[4] = { ENG_NUMBER_MAX, ENG_NAME_MAX, ENG_NUMBER_MAX, ENG_NAME_MAX };
	for (size_t i = 0; i < 4 && i < nlines; i++)
		if (strlen(lines[i]) >= cap[i])
			lines[i][cap[i] - 1] = '\0';
	struct skill_subject subj = { { lines[0], lines[1], lines[2], lines[3] } };
	struct eng_call_info ci = { lines[0] ? lines[0] : "", lines[1] ? lines[1] : "",
	                            lines[2] ? lines[2] : "", lines[3] ? lines[3] : "" };

	struct eng_skill_rule rules[ENG_SKILL_RULES_MAX + 2];
	size_t n = 0;
	char err[256], buf[512];
	for (size_t i = 4; i < nlines; i++) {
		struct eng_skill_rule r, back;
		err[0] = '\0';
		if (skill_rule_parse(lines[i], &r, err, sizeof err) != 0) {
			if (!err[0])
				die("refusal without a reason");
			continue;
		}
		if (!memchr(r.value, '\0', sizeof r.value) || !r.value[0])
			die("value not terminated or empty");
		if (skill_rule_format(&r, buf, sizeof buf) != 0)
			die("a parsed rule does not format");
		if (skill_rule_parse(buf, &back, err, sizeof err) != 0 || back.field != r.field ||
		    back.op != r.op || strcmp(back.value, r.value))
			die("format/parse round trip changed the rule");
		rules[n++] = r;
	}

	err[0] = '\0';
	struct skill *sk = skill_new("fz", match_all, rules, n, err, sizeof err);
	int rc = engine_skill_set(e, "fz", match_all, rules, n, err, sizeof err);
	if ((sk != NULL) != (rc == 0))
		die("skill_new and engine_skill_set disagree");
	if (!sk) {
		if (!err[0])
			die("skill refused without a reason");
		engine_skill_del(e, "fz");
		free(text);
		return 0;
	}
	bool hit = skill_matches(sk, &subj);
	if (skill_matches(sk, &subj) != hit)
		die("skill_matches is not deterministic");
	skill_free(sk);
	if (!engine_skill_assign(e, agent, "fz", true))
		die("assign");

	size_t offers = 0, releases = 0;
	eng_id offer = 0;
	engine_tick(e, now);
	drain(&offers, &offer, &releases);
	eng_id call = engine_call_enter(e, now, q, &ci);
	engine_tick(e, now);
	drain(&offers, &offer, &releases);
	if (hit && offers != 1)
		die("a matching call was not offered to the agent with the skill");
	if (!hit && offers != 0)
		die("a call the skill does not match was offered");
	if (call && engine_call_hangup(e, now, call))
		drain(&offers, &offer, &releases);
	engine_tick(e, now);
	drain(&offers, &offer, &releases);
	struct eng_call_view v[4];
	if (engine_call_list(e, now, q, v, 4) != 0)
		die("a call stayed in the queue");
	struct eng_member_view mv;
	if (!engine_member_view(e, now, agent, &mv) || mv.activity != ACTV_IDLE)
		die("the agent did not end idle");
	now += 10;
	free(text);
	return 0;
}

/* bench_engine.c — the cost of one routing decision, per strategy.
 *
 * 10,000 agents over 1,000 queues, each agent in 10 queues (so about 100
 * agents per queue), all logged in and ready, half of them talking. A
 * decision is one engine_call_enter into a random queue: the engine picks an
 * agent (or finds none) and queues the offer. Each call is then hung up
 * (untimed), so the agent pool stays the same from one sample to the next.
 * Every assignment has a priority level 1..3 and every other queue widens
 * levels over time (priority_step 30), so a pick walks the levels.
 * Prints the median and 99th percentile per strategy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acd/engine.h"
#include "acd/qconf.h"
#include "acd/skill.h"

#define BENCH_AGENTS 10000
#define BENCH_QUEUES 1000
#define BENCH_PER_AGENT 10
#define BENCH_SKILLS 20
#define BENCH_SAMPLES 20000
#define BENCH_GOAL_NS 20000

static uint64_t bench_rng = 88172645463325252ULL;

static unsigned bench_rand(unsigned n)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return (unsigned)(bench_rng % n);
}

static int64_t bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void bench_drain(engine_t *e, eng_id *offer)
{
	struct eng_action a;

	*offer = 0;
	while (engine_next_action(e, &a))
		if (a.kind == ACT_OFFER)
			*offer = a.offer;
}

static void bench_skills(engine_t *e)
{
	char err[128], text[64], name[16];

	for (int s = 0; s < BENCH_SKILLS; s++) {
		struct eng_skill_rule r;

		snprintf(text, sizeof(text), "caller_number starts_with +%d", 10 + s);
		snprintf(name, sizeof(name), "s%d", s);
		if (skill_rule_parse(text, &r, err, sizeof(err)) != 0 ||
		    engine_skill_set(e, name, false, &r, 1, err, sizeof(err)) != 0) {
			fprintf(stderr, "skill: %s\n", err);
			exit(1);
		}
	}
}

static engine_t *bench_build(enum eng_strategy s, eng_ms now)
{
	engine_t *e = engine_new();
	char name[32], num[16];

	for (int i = 0; i < BENCH_QUEUES; i++) {
		struct eng_queue_conf c;

		qconf_defaults(&c);
		snprintf(c.name, sizeof(c.name), "q%d", i);
		snprintf(c.number, sizeof(c.number), "%d", 10000 + i);
		c.strategy = s;
		c.timeout_s = 7200;
		c.priority_step_s = i % 2 ? 30 : 0;
		engine_queue_add(e, now, &c);
	}
	bench_skills(e);
	for (int i = 0; i < BENCH_AGENTS; i++) {
		eng_id m;

		snprintf(name, sizeof(name), "a%d", i);
		m = engine_member_add(e, name, name, ROLE_AGENT);
		for (int k = 0; k < BENCH_PER_AGENT; k++) {
			eng_id q = 1 + (eng_id)bench_rand(BENCH_QUEUES);

			engine_assign(e, now, q, m, false, true);
			engine_set_priority(e, now, q, m, 1 + bench_rand(3));
		}
		for (int k = 0; k < 2; k++) {
			snprintf(num, sizeof(num), "s%u", bench_rand(BENCH_SKILLS));
			engine_skill_assign(e, m, num, true);
		}
		engine_agent_login(e, now, m);
	}
	return e;
}

static struct eng_call_info bench_caller(char *buf, size_t len)
{
	struct eng_call_info ci = { buf, "Caller", "6000", "Line" };

	snprintf(buf, len, "+%u5550100", 10 + bench_rand(BENCH_SKILLS));
	return ci;
}

/* Half the agents end up talking: calls answered until that many are busy. */
static void bench_load(engine_t *e, eng_ms now)
{
	char num[32];
	eng_id offer;
	int busy = 0;

	for (int tries = 0; busy < BENCH_AGENTS / 2 && tries < BENCH_AGENTS * 4; tries++) {
		struct eng_call_info ci = bench_caller(num, sizeof(num));
		eng_id c = engine_call_enter(e, now, 1 + (eng_id)bench_rand(BENCH_QUEUES), &ci);

		bench_drain(e, &offer);
		if (offer && engine_offer_answered(e, now, offer))
			busy++;
		else if (c)
			engine_call_hangup(e, now, c);
		bench_drain(e, &offer);
	}
}

static int bench_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void bench_strategy(enum eng_strategy s)
{
	static int64_t ns[BENCH_SAMPLES];
	eng_ms now = 1000000;
	engine_t *e = bench_build(s, now);
	unsigned offered = 0;
	char num[32];
	eng_id offer;

	bench_load(e, now);
	for (int i = 0; i < BENCH_SAMPLES; i++) {
		struct eng_call_info ci = bench_caller(num, sizeof(num));
		eng_id q = 1 + (eng_id)bench_rand(BENCH_QUEUES), c;
		int64_t t0 = bench_ns();

		c = engine_call_enter(e, now, q, &ci);
		ns[i] = bench_ns() - t0;
		bench_drain(e, &offer);
		offered += offer != 0;
		engine_call_hangup(e, now, c);
		bench_drain(e, &offer);
		now += 1;
	}
	qsort(ns, BENCH_SAMPLES, sizeof(*ns), bench_cmp);
	printf("| %-13s | %10lld | %10lld | %9.1f%% | %-7s |\n", engine_strategy_name(s),
	       (long long)ns[BENCH_SAMPLES / 2], (long long)ns[BENCH_SAMPLES * 99 / 100],
	       100.0 * offered / BENCH_SAMPLES, ns[BENCH_SAMPLES / 2] < BENCH_GOAL_NS ? "yes" : "NO");
	engine_free(e);
}

int main(void)
{
	static const enum eng_strategy all[] = { STRAT_ROUND_ROBIN, STRAT_MOST_IDLE, STRAT_LEAST_CALLS,
	                                         STRAT_LEAST_OFFERS, STRAT_SKILLS_STRICT,
	                                         STRAT_SKILLS_LOOSE };

	printf("routing decision = engine_call_enter into a random queue; %d agents, %d queues, "
	       "%d queues per agent, priority levels 1-3, half the agents talking, %d samples each\n\n",
	       BENCH_AGENTS, BENCH_QUEUES, BENCH_PER_AGENT, BENCH_SAMPLES);
	printf("| strategy      | median ns  | p99 ns     | offered    | < 20 us |\n");
	printf("|---------------|------------|------------|------------|---------|\n");
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		bench_strategy(all[i]);
	return 0;
}

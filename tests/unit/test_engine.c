/* test_engine.c — the ACD state machine, driven by a fake clock.
 *
 * Each test builds an engine, advances `now` by hand and drains the outbox
 * after every transition into `acts`, then asserts on what came out and on
 * the views. Nothing here sleeps: time is a plain variable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acd/engine.h"
#include "acd/qconf.h"
#include "acd/skill.h"

#define MAXACTS 4096

static engine_t *e;
static eng_ms now;
static struct eng_action acts[MAXACTS];
static size_t nacts;

static int setup(void **state)
{
	(void)state;
	e = engine_new();
	now = 1000000;
	nacts = 0;
	return e ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	engine_free(e);
	e = NULL;
	return 0;
}

/* Replaces `acts` with whatever the engine queued since the last drain. */
static size_t drain(void)
{
	nacts = 0;
	while (nacts < MAXACTS && engine_next_action(e, &acts[nacts]))
		nacts++;
	assert_true(nacts < MAXACTS);
	return nacts;
}

static size_t count_kind(enum eng_action_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < nacts; i++)
		n += acts[i].kind == k;
	return n;
}

static const struct eng_action *find_kind(enum eng_action_kind k)
{
	for (size_t i = 0; i < nacts; i++)
		if (acts[i].kind == k)
			return &acts[i];
	return NULL;
}

static const struct eng_action *find_event(enum eng_event ev)
{
	for (size_t i = 0; i < nacts; i++)
		if (acts[i].kind == ACT_EVENT && acts[i].event == ev)
			return &acts[i];
	return NULL;
}

static size_t count_event(enum eng_event ev)
{
	size_t n = 0;

	for (size_t i = 0; i < nacts; i++)
		n += acts[i].kind == ACT_EVENT && acts[i].event == ev;
	return n;
}

static size_t event_index(enum eng_event ev)
{
	for (size_t i = 0; i < nacts; i++)
		if (acts[i].kind == ACT_EVENT && acts[i].event == ev)
			return i;
	fail_msg("event %s not found", engine_event_name(ev));
	return 0;
}

/* The single ACT_OFFER of the last drain (fails the test if not exactly one). */
static const struct eng_action *the_offer(void)
{
	assert_int_equal(count_kind(ACT_OFFER), 1);
	return find_kind(ACT_OFFER);
}

static eng_id offered_to(void)
{
	return the_offer()->member;
}

static struct eng_queue_conf conf(const char *name, const char *number, enum eng_strategy s)
{
	struct eng_queue_conf c;

	qconf_defaults(&c);
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.number, sizeof(c.number), "%s", number);
	c.strategy = s;
	c.recovery_s = 0;
	return c;
}

static eng_id queue(const char *name, enum eng_strategy s)
{
	static unsigned number = 6000;
	char num[16];
	struct eng_queue_conf c;
	eng_id q;

	snprintf(num, sizeof(num), "%u", number++);
	c = conf(name, num, s);
	q = engine_queue_add(e, now, &c);
	assert_true(q != 0);
	return q;
}

static void set_conf(eng_id q, void (*edit)(struct eng_queue_conf *c, unsigned v), unsigned v)
{
	struct eng_queue_conf c = *engine_queue_conf(e, q);

	edit(&c, v);
	assert_true(engine_queue_update(e, now, q, &c));
	drain();
}

static void set_recovery(struct eng_queue_conf *c, unsigned v) { c->recovery_s = v; }
static void set_limit(struct eng_queue_conf *c, unsigned v) { c->call_limit = v; }
static void set_timeout(struct eng_queue_conf *c, unsigned v) { c->timeout_s = v; }
static void set_force_away(struct eng_queue_conf *c, unsigned v) { c->force_away = v; }
static void set_if_empty(struct eng_queue_conf *c, unsigned v) { c->timeout_if_empty = v; }
static void set_paused(struct eng_queue_conf *c, unsigned v) { c->paused = v; }

/* A member assigned (active) to the given queue and logged in. */
static eng_id agent(const char *login, eng_id q)
{
	eng_id m = engine_member_add(e, login, login, ROLE_AGENT);

	assert_true(m != 0);
	if (q)
		assert_true(engine_assign(e, now, q, m, false, true));
	assert_true(engine_agent_login(e, now, m));
	drain();
	return m;
}

static eng_id enter(eng_id q)
{
	struct eng_call_info ci = { "+15855550100", "Caller", "6000", "Support" };
	eng_id c = engine_call_enter(e, now, q, &ci);

	drain();
	return c;
}

static struct eng_member_view mview(eng_id m)
{
	struct eng_member_view v;

	assert_true(engine_member_view(e, now, m, &v));
	return v;
}

static struct eng_queue_stats qstats(eng_id q)
{
	struct eng_queue_stats s;

	assert_true(engine_queue_stats(e, now, q, &s));
	return s;
}

static void tick_to(eng_ms t)
{
	now = t;
	engine_tick(e, now);
	drain();
}

/* Answers the current offer of the last drain and returns the member. */
static eng_id answer(void)
{
	const struct eng_action *o = the_offer();
	eng_id m = o->member, offer = o->offer;

	assert_true(engine_offer_answered(e, now, offer));
	drain();
	return m;
}

/* ---- round robin ---- */

static void test_rr_order_and_cursor(void **state)
{
	eng_id q = queue("rr", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q), a4 = agent("1004", q);
	eng_id c1, c2, c3;

	(void)state;
	c1 = enter(q);
	assert_int_equal(offered_to(), a1);
	/* 1 does not answer: the call goes to 2, who answers. */
	assert_true(engine_offer_failed(e, now, the_offer()->offer, "rejected"));
	drain();
	assert_int_equal(offered_to(), a2);
	answer();
	/* Any new call goes to 3. */
	c2 = enter(q);
	assert_int_equal(offered_to(), a3);
	assert_int_equal(answer(), a3);
	c3 = enter(q);
	assert_int_equal(offered_to(), a4);
	answer();
	assert_true(engine_talk_end(e, now, c1));
	assert_true(engine_talk_end(e, now, c2));
	drain();
	/* Cursor after 4 wraps to 1, once 1's retry rest after its reject is over. */
	tick_to(now + 5000);
	enter(q);
	assert_int_equal(offered_to(), a1);
	(void)c3;
}

static void test_rr_miss_cursor_per_call(void **state)
{
	eng_id q = queue("rr", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q);
	eng_id c1, c2;

	(void)state;
	c1 = enter(q);
	assert_int_equal(offered_to(), a1);
	assert_int_equal(answer(), a1);
	c2 = enter(q);
	assert_int_equal(offered_to(), a2);
	/* 2 misses: the call moves on to 3, not back to the queue cursor's 2. */
	tick_to(now + 15000);
	assert_int_equal(offered_to(), a3);
	/* 3 misses too: 1 is busy, so the call wraps to 2. */
	tick_to(now + 15000);
	assert_int_equal(offered_to(), a2);
	(void)c1;
	(void)c2;
}

/* The storm this replaces: an agent whose phone rejects at once was offered
 * the same call again in the same instant, tens of thousands of times a
 * second. Now it rests retry_rejected (5 s) and the call waits for it. */
static void test_rr_only_one_available_rests(void **state)
{
	eng_id q = queue("rr", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c;
	eng_id o1, o2;
	eng_ms t0 = now;

	(void)state;
	c = enter(q);
	o1 = the_offer()->offer;
	assert_true(engine_offer_failed(e, now, o1, "rejected"));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(mview(a1).retry_left_ms, 5000);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_int_equal(engine_next_deadline(e), t0 + 5000);
	tick_to(t0 + 4999);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(t0 + 5000);
	o2 = the_offer()->offer;
	assert_int_equal(offered_to(), a1);
	assert_int_equal(the_offer()->call, c);
	assert_true(o2 != o1);
	assert_int_equal(mview(a1).retry_left_ms, 0);
	/* The old offer id stays stale. */
	assert_false(engine_offer_answered(e, now, o1));
	assert_false(engine_offer_failed(e, now, o1, "rejected"));
	assert_int_equal(drain(), 0);
}

/* ---- most idle ---- */

static void test_most_idle_selection(void **state)
{
	eng_id q = queue("mi", STRAT_MOST_IDLE);
	eng_id a1, a2, a3, c1, c2, c3;

	(void)state;
	a1 = agent("1001", q);
	now += 1000;
	a2 = agent("1002", q);
	now += 1000;
	a3 = agent("1003", q);
	/* Logged in first = idle longest. */
	c1 = enter(q);
	assert_int_equal(answer(), a1);
	c2 = enter(q);
	assert_int_equal(answer(), a2);
	c3 = enter(q);
	assert_int_equal(answer(), a3);
	/* Hang up in the order 2, 3, 1: 2 is the most idle. */
	now += 1000;
	engine_talk_end(e, now, c2);
	now += 1000;
	engine_talk_end(e, now, c3);
	now += 1000;
	engine_talk_end(e, now, c1);
	drain();
	enter(q);
	assert_int_equal(offered_to(), a2);
}

/* A miss does not change the idle order: the call goes on to the next agent
 * while the one who rejected rests, and after the rest that agent is the
 * most idle again. A call with no one else waits for it. */
static void test_most_idle_retry_on_reject(void **state)
{
	eng_id q = queue("mi", STRAT_MOST_IDLE);
	eng_id a1, a2, c1, c2;
	eng_ms t0;

	(void)state;
	a1 = agent("1001", q);
	now += 1000;
	a2 = agent("1002", q);
	t0 = now;
	c1 = enter(q);
	assert_int_equal(offered_to(), a1);
	assert_true(engine_offer_failed(e, now, the_offer()->offer, "rejected"));
	drain();
	assert_int_equal(offered_to(), a2);
	assert_int_equal(answer(), a2);
	/* a1 rests: a new call waits, and gets a1 exactly when the rest ends. */
	c2 = enter(q);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(t0 + 4999);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(t0 + 5000);
	assert_int_equal(offered_to(), a1);
	assert_int_equal(the_offer()->call, c2);
	assert_int_equal(mview(a1).missed_total, 1);
	assert_int_equal(mview(a2).session_offers, 1);
	(void)c1;
}

static void test_most_idle_force_away_moves_on(void **state)
{
	eng_id q = queue("mi", STRAT_MOST_IDLE);
	eng_id a1, a2;
	struct eng_member_view v;

	(void)state;
	set_conf(q, set_force_away, 1);
	a1 = agent("1001", q);
	now += 1000;
	a2 = agent("1002", q);
	enter(q);
	assert_int_equal(offered_to(), a1);
	assert_true(engine_offer_failed(e, now, the_offer()->offer, "rejected"));
	drain();
	assert_non_null(find_event(EV_AGENT_AWAY));
	assert_string_equal(find_event(EV_AGENT_AWAY)->reason, "missed");
	assert_int_equal(find_event(EV_AGENT_AWAY)->member, a1);
	assert_int_equal(offered_to(), a2);
	v = mview(a1);
	assert_false(v.ready);
	assert_true(v.logged_in);
	assert_string_equal(v.away_reason, "missed");
}

/* ---- least calls / least offers ---- */

static void test_least_calls_reset_at_login(void **state)
{
	eng_id q = queue("lc", STRAT_LEAST_CALLS);
	eng_id a1 = agent("1001", q), a2, c;

	(void)state;
	for (int i = 0; i < 2; i++) {
		c = enter(q);
		assert_int_equal(answer(), a1);
		engine_talk_end(e, now, c);
		drain();
	}
	assert_int_equal(mview(a1).session_handled, 2);
	a2 = agent("1002", q);
	c = enter(q);
	assert_int_equal(answer(), a2);
	engine_talk_end(e, now, c);
	drain();
	/* a2 has 1, a1 has 2: a2 again. */
	c = enter(q);
	assert_int_equal(answer(), a2);
	engine_talk_end(e, now, c);
	drain();
	/* Away and back keeps the count; log out and in resets it. */
	engine_agent_away(e, now, a1, "lunch");
	engine_agent_ready(e, now, a1);
	assert_int_equal(mview(a1).session_handled, 2);
	engine_agent_logout(e, now, a1);
	engine_agent_login(e, now, a1);
	drain();
	assert_int_equal(mview(a1).session_handled, 0);
	assert_int_equal(mview(a1).session_offers, 0);
	assert_int_equal(mview(a1).handled, 2);
	enter(q);
	assert_int_equal(offered_to(), a1);
}

static void test_least_calls_random_ties(void **state)
{
	eng_id q = queue("lc", STRAT_LEAST_CALLS);
	eng_id m[3];
	unsigned hits[3] = { 0 };

	(void)state;
	engine_seed(e, 12345);
	m[0] = agent("1001", q);
	m[1] = agent("1002", q);
	m[2] = agent("1003", q);
	for (int i = 0; i < 3000; i++) {
		eng_id c = enter(q), who = offered_to();

		for (int k = 0; k < 3; k++)
			hits[k] += who == m[k];
		engine_call_hangup(e, now, c);   /* handled stays 0 for all */
		drain();
	}
	for (int k = 0; k < 3; k++)
		assert_in_range(hits[k], 850, 1150);
}

static void test_least_offers(void **state)
{
	eng_id q = queue("lo", STRAT_LEAST_OFFERS);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q);
	eng_id c;

	(void)state;
	/* All at 0 offers: assignment order. */
	c = enter(q);
	assert_int_equal(offered_to(), a1);
	engine_offer_failed(e, now, the_offer()->offer, "rejected");
	drain();
	/* 1 has one offer now: 2. */
	assert_int_equal(offered_to(), a2);
	engine_offer_failed(e, now, the_offer()->offer, "rejected");
	drain();
	assert_int_equal(offered_to(), a3);
	engine_offer_failed(e, now, the_offer()->offer, "rejected");
	drain();
	/* Everyone rests: the call waits; at 5 s all tie at 1 offer. */
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(now + 5000);
	assert_int_equal(offered_to(), a1);
	assert_int_equal(mview(a1).session_offers, 2);
	assert_int_equal(mview(a2).session_offers, 1);
	engine_call_hangup(e, now, c);
	drain();
	enter(q);
	assert_int_equal(offered_to(), a2);
}

/* ---- availability ---- */

static void test_availability_rules(void **state)
{
	eng_id q = queue("av", STRAT_ROUND_ROBIN);
	eng_id m = engine_member_add(e, "1001", "Ann", ROLE_AGENT);
	eng_id c;

	(void)state;
	c = enter(q);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	/* Newly assigned without `active`: paused in the queue. */
	assert_true(engine_assign(e, now, q, m, false, false));
	assert_true(engine_agent_login(e, now, m));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);
	/* Away globally. */
	assert_true(engine_agent_away(e, now, m, "coffee"));
	assert_true(engine_agent_resume(e, now, q, m));
	drain();
	assert_int_equal(count_event(EV_AGENT_RESUME), 1);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	/* Logged out, but otherwise ready and active. */
	assert_true(engine_agent_logout(e, now, m));
	assert_false(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);
	/* Queue paused. */
	set_conf(q, set_paused, 1);
	assert_true(engine_agent_login(e, now, m));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);
	set_conf(q, set_paused, 0);
	assert_int_equal(offered_to(), m);
	assert_int_equal(the_offer()->call, c);
}

static void test_ringing_agent_gets_one_call(void **state)
{
	eng_id q = queue("av", STRAT_ROUND_ROBIN);
	eng_id m = agent("1001", q), c1, c2;
	struct eng_call_view v;

	(void)state;
	c1 = enter(q);
	assert_int_equal(offered_to(), m);
	c2 = enter(q);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_true(engine_call_view(e, now, c2, &v));
	assert_int_equal(v.position, 2);
	assert_int_equal(v.member, 0);
	assert_true(engine_call_view(e, now, c1, &v));
	assert_int_equal(v.position, 1);
	assert_int_equal(v.member, m);
}

static void test_one_call_across_queues(void **state)
{
	eng_id q1 = queue("one", STRAT_ROUND_ROBIN), q2 = queue("two", STRAT_ROUND_ROBIN);
	eng_id m = agent("1001", q1), c1, c2;

	(void)state;
	assert_true(engine_assign(e, now, q2, m, false, true));
	drain();
	c1 = enter(q1);
	answer();
	c2 = enter(q2);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_true(engine_talk_end(e, now, c1));
	drain();
	assert_int_equal(the_offer()->call, c2);
	assert_int_equal(offered_to(), m);
}

static void test_pause_all_queues(void **state)
{
	eng_id q1 = queue("one", STRAT_ROUND_ROBIN), q2 = queue("two", STRAT_ROUND_ROBIN);
	eng_id m = agent("1001", q1);
	bool active;

	(void)state;
	assert_true(engine_assign(e, now, q2, m, false, true));
	assert_true(engine_agent_pause(e, now, 0, m));
	drain();
	assert_int_equal(count_event(EV_AGENT_PAUSE), 2);
	assert_true(engine_is_member(e, q2, m, NULL, &active));
	assert_false(active);
	enter(q1);
	enter(q2);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_true(engine_agent_resume(e, now, q2, m));
	drain();
	assert_int_equal(count_event(EV_AGENT_RESUME), 1);
	assert_int_equal(the_offer()->queue, q2);
	/* Pause in a queue the agent is not in is refused. */
	assert_false(engine_agent_pause(e, now, 99, m));
}

static void test_pause_while_ringing_withdraws(void **state)
{
	eng_id q = queue("pr", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q);

	(void)state;
	enter(q);
	assert_int_equal(offered_to(), a1);
	assert_true(engine_agent_pause(e, now, q, a1));
	drain();
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 1);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_int_equal(offered_to(), a2);
}

/* ---- logout / away during calls ---- */

static void test_logout_while_ringing(void **state)
{
	eng_id q = queue("lr", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c1, c2;
	const struct eng_action *cancel;
	struct eng_call_view v;
	eng_id offer;

	(void)state;
	c1 = enter(q);
	offer = the_offer()->offer;
	c2 = enter(q);
	assert_true(engine_agent_logout(e, now, a1));
	drain();
	cancel = find_kind(ACT_CANCEL_OFFER);
	assert_non_null(cancel);
	assert_int_equal(cancel->offer, offer);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_int_equal(qstats(q).missed, 0);
	assert_int_equal(mview(a1).missed_total, 0);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_true(engine_call_view(e, now, c1, &v));
	assert_int_equal(v.position, 1);
	assert_int_equal(v.member, 0);
	assert_false(engine_offer_answered(e, now, offer));
	(void)c2;
}

static void test_away_while_ringing(void **state)
{
	eng_id q = queue("ar", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q);

	(void)state;
	enter(q);
	assert_int_equal(offered_to(), a1);
	assert_true(engine_agent_away(e, now, a1, "break"));
	drain();
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 1);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_string_equal(find_event(EV_AGENT_AWAY)->reason, "break");
	assert_int_equal(offered_to(), a2);
}

static void test_logout_while_on_call(void **state)
{
	eng_id q = queue("lc", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c;

	(void)state;
	set_conf(q, set_recovery, 30);
	c = enter(q);
	answer();
	assert_true(engine_agent_logout(e, now, a1));
	drain();
	/* The logout waits for the end of the call. */
	assert_int_equal(nacts, 0);
	assert_true(mview(a1).logged_in);
	assert_int_equal(mview(a1).activity, ACTV_ONCALL);
	assert_int_equal(qstats(q).busy, 1);
	now += 60000;
	assert_true(engine_talk_end(e, now, c));
	drain();
	assert_true(event_index(EV_CALL_END) < event_index(EV_AGENT_LOGOUT));
	assert_false(mview(a1).logged_in);
	assert_int_equal(count_event(EV_RECOVERY_START), 0);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_int_equal(find_event(EV_CALL_END)->value, 60000);
	assert_string_equal(find_event(EV_CALL_END)->reason, "agent");
	assert_int_equal(engine_next_deadline(e), ENG_NEVER);
}

/* ---- offer outcomes ---- */

static void test_offer_timeout_miss_next_agent(void **state)
{
	eng_id q = queue("ot", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), c;
	const struct eng_action *o, *miss;
	eng_id stale;
	eng_ms t0;

	(void)state;
	t0 = now;
	c = enter(q);
	o = the_offer();
	assert_int_equal(o->member, a1);
	assert_int_equal(o->timeout_ms, 15000);
	assert_int_equal(o->call, c);
	assert_int_equal(o->queue, q);
	assert_non_null(find_event(EV_CALL_OFFER));
	assert_int_equal(find_event(EV_CALL_OFFER)->offer, o->offer);
	stale = o->offer;
	assert_int_equal(engine_next_deadline(e), t0 + 15000);
	tick_to(t0 + 14999);
	assert_int_equal(nacts, 0);
	tick_to(t0 + 15000);
	assert_int_equal(find_kind(ACT_CANCEL_OFFER)->offer, stale);
	miss = find_event(EV_CALL_MISS);
	assert_non_null(miss);
	assert_string_equal(miss->reason, "timeout");
	assert_int_equal(miss->member, a1);
	assert_int_equal(miss->at, t0 + 15000);
	assert_int_equal(offered_to(), a2);
	assert_int_equal(qstats(q).missed, 1);
	assert_int_equal(mview(a1).missed_total, 1);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	/* Missed flag shows for 4 s and does not block offers. */
	assert_true(mview(a1).missed);
	now += 3999;
	assert_true(mview(a1).missed);
	now += 1;
	assert_false(mview(a1).missed);
	/* A late 200 OK for the expired offer is refused and changes nothing. */
	assert_false(engine_offer_answered(e, now, stale));
	assert_int_equal(drain(), 0);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_int_equal(qstats(q).handled, 0);
}

static void test_offer_failed_reason_and_no_cancel(void **state)
{
	eng_id q = queue("of", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q);

	(void)state;
	enter(q);
	assert_true(engine_offer_failed(e, now, the_offer()->offer, "unreachable"));
	drain();
	/* The adapter reported the failure: its leg is gone, nothing to cancel. */
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 0);
	assert_string_equal(find_event(EV_CALL_MISS)->reason, "unreachable");
	/* Not offered again at once: the agent rests retry_unreachable (30 s). */
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(mview(a1).retry_left_ms, 30000);
}

static void test_answer_bridge_and_wait(void **state)
{
	eng_id q = queue("an", STRAT_ROUND_ROBIN);
	eng_id a1, c;
	const struct eng_action *b;
	struct eng_member_view v;
	eng_id offer;

	(void)state;
	c = enter(q);
	now += 7000;
	a1 = agent("1001", q);
	offer = the_offer()->offer;
	now += 3000;
	assert_true(engine_offer_answered(e, now, offer));
	drain();
	b = find_kind(ACT_BRIDGE);
	assert_non_null(b);
	assert_int_equal(b->offer, offer);
	assert_int_equal(b->call, c);
	assert_int_equal(b->member, a1);
	assert_int_equal(find_event(EV_CALL_ANSWER)->value, 10000);
	v = mview(a1);
	assert_int_equal(v.activity, ACTV_ONCALL);
	assert_int_equal(v.call, c);
	assert_int_equal(v.handled, 1);
	assert_int_equal(v.session_handled, 1);
	/* Answering twice is stale. */
	assert_false(engine_offer_answered(e, now, offer));
	assert_false(engine_offer_failed(e, now, offer, "rejected"));
}

/* ---- abandon, drop, refusals, timeouts ---- */

static void test_abandon_waiting(void **state)
{
	eng_id q = queue("ab", STRAT_ROUND_ROBIN);
	eng_id c = enter(q);
	const struct eng_action *r;

	(void)state;
	assert_true(engine_call_hangup(e, now, c));
	drain();
	assert_string_equal(find_event(EV_CALL_ABANDON)->reason, "waiting");
	r = find_kind(ACT_RELEASE);
	assert_non_null(r);
	assert_int_equal(r->call, c);
	assert_int_equal(r->release, REL_ABANDONED);
	assert_int_equal(count_kind(ACT_RELEASE), 1);
	assert_int_equal(qstats(q).abandoned, 1);
	assert_int_equal(qstats(q).missed, 0);
	assert_int_equal(qstats(q).waiting, 0);
	assert_false(engine_call_hangup(e, now, c));
	assert_int_equal(engine_next_deadline(e), ENG_NEVER);
}

static void test_abandon_ringing(void **state)
{
	eng_id q = queue("ab", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c = enter(q);
	eng_id offer = the_offer()->offer;

	(void)state;
	assert_true(engine_call_hangup(e, now, c));
	drain();
	assert_int_equal(find_kind(ACT_CANCEL_OFFER)->offer, offer);
	assert_string_equal(find_event(EV_CALL_ABANDON)->reason, "ringing");
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_ABANDONED);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_int_equal(mview(a1).call, 0);
	assert_int_equal(qstats(q).abandoned, 1);
	assert_false(engine_offer_answered(e, now, offer));
}

/* A talking call's end says who ended it: the queue_log's COMPLETECALLER or
 * COMPLETEAGENT. */
static void test_end_says_who(void **state)
{
	eng_id q = queue("who", STRAT_ROUND_ROBIN), c;

	(void)state;
	agent("1001", q);
	c = enter(q);
	answer();
	now += 2000;
	assert_true(engine_call_hangup(e, now, c));
	drain();
	assert_string_equal(find_event(EV_CALL_END)->reason, "caller");
	assert_int_equal(find_event(EV_CALL_END)->value, 2000);
	assert_null(find_event(EV_CALL_ABANDON));
	c = enter(q);
	answer();
	assert_true(engine_talk_end(e, now, c));
	drain();
	assert_string_equal(find_event(EV_CALL_END)->reason, "agent");
}

static void test_drop_counts_nowhere(void **state)
{
	eng_id q = queue("dr", STRAT_ROUND_ROBIN);
	eng_id c1 = enter(q), c2, a1;
	struct eng_queue_stats s;

	(void)state;
	assert_true(engine_call_drop(e, now, c1));
	drain();
	assert_string_equal(find_event(EV_CALL_ABANDON)->reason, "operator");
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_HANGUP);
	a1 = agent("1001", q);
	c2 = enter(q);
	answer();
	now += 5000;
	assert_true(engine_call_drop(e, now, c2));
	drain();
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_HANGUP);
	assert_int_equal(find_event(EV_CALL_END)->value, 5000);
	assert_string_equal(find_event(EV_CALL_END)->reason, "operator");
	s = qstats(q);
	assert_int_equal(s.abandoned, 0);
	assert_int_equal(s.missed, 0);
	assert_int_equal(s.handled, 1);
	assert_int_equal(s.avg_talk_ms, 5000);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
}

static void test_call_limit_refused(void **state)
{
	eng_id q = queue("cl", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c1, c2, c3, offer1;
	const struct eng_action *r;

	(void)state;
	set_conf(q, set_limit, 2);
	c1 = enter(q);              /* ringing: counts toward the limit */
	offer1 = the_offer()->offer;
	c2 = enter(q);
	assert_true(c1 && c2);
	c3 = enter(q);
	assert_int_equal(c3, 0);
	assert_string_equal(find_event(EV_CALL_REFUSED)->reason, "limit");
	r = find_kind(ACT_RELEASE);
	assert_non_null(r);
	assert_int_equal(r->release, REL_REFUSED);
	assert_true(r->call != 0 && r->call != c1 && r->call != c2);
	assert_int_equal(count_event(EV_CALL_ENTER), 0);
	assert_int_equal(qstats(q).missed, 1);
	assert_int_equal(qstats(q).waiting, 2);
	/* A talking call no longer counts. */
	assert_true(engine_offer_answered(e, now, offer1));
	drain();
	assert_int_equal(mview(a1).activity, ACTV_ONCALL);
	assert_true(enter(q) != 0);
	/* Unknown queue. */
	assert_int_equal(engine_call_enter(e, now, 999, NULL), 0);
	drain();
	assert_string_equal(find_event(EV_CALL_REFUSED)->reason, "unknown");
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_REFUSED);
}

static void test_timeout_if_empty(void **state)
{
	eng_id q = queue("em", STRAT_ROUND_ROBIN);
	eng_id m = engine_member_add(e, "1001", "Ann", ROLE_AGENT);

	(void)state;
	set_conf(q, set_if_empty, 1);
	assert_true(engine_assign(e, now, q, m, false, false));
	drain();
	assert_int_equal(enter(q), 0);
	assert_string_equal(find_event(EV_CALL_REFUSED)->reason, "empty");
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_REFUSED);
	assert_int_equal(qstats(q).missed, 1);
	/* Logged in but paused and away: not empty, the call waits. */
	engine_agent_login(e, now, m);
	engine_agent_away(e, now, m, "x");
	drain();
	assert_true(enter(q) != 0);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(qstats(q).missed, 1);
}

static void test_queue_timeout_while_ringing(void **state)
{
	eng_id q = queue("qt", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c;
	eng_ms t0 = now;
	eng_id offer;

	(void)state;
	set_conf(q, set_timeout, 10);
	c = enter(q);
	offer = the_offer()->offer;
	assert_int_equal(engine_next_deadline(e), t0 + 10000);
	tick_to(t0 + 10000);
	assert_int_equal(find_kind(ACT_CANCEL_OFFER)->offer, offer);
	assert_non_null(find_event(EV_CALL_TIMEOUT));
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_TIMEOUT);
	assert_int_equal(find_kind(ACT_RELEASE)->call, c);
	assert_int_equal(count_kind(ACT_RELEASE), 1);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_int_equal(mview(a1).missed_total, 0);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_int_equal(qstats(q).missed, 1);
	assert_int_equal(engine_next_deadline(e), ENG_NEVER);
}

static void test_queue_timeout_waiting(void **state)
{
	eng_id q = queue("qw", STRAT_ROUND_ROBIN);
	eng_ms t0 = now;

	(void)state;
	set_conf(q, set_timeout, 600);
	enter(q);
	tick_to(t0 + 599999);
	assert_int_equal(nacts, 0);
	tick_to(t0 + 600000);
	assert_non_null(find_event(EV_CALL_TIMEOUT));
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_TIMEOUT);
	assert_int_equal(qstats(q).missed, 1);
	assert_int_equal(qstats(q).waiting, 0);
}

/* ---- recovery ---- */

static void test_recovery_then_offer_at_deadline(void **state)
{
	eng_id q = queue("rc", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c1, c2;
	struct eng_member_view v;
	eng_ms t_end;

	(void)state;
	set_conf(q, set_recovery, 5);
	c1 = enter(q);
	answer();
	c2 = enter(q);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	now += 20000;
	t_end = now;
	assert_true(engine_talk_end(e, now, c1));
	drain();
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_ENDED);
	assert_non_null(find_event(EV_RECOVERY_START));
	assert_int_equal(count_kind(ACT_OFFER), 0);
	v = mview(a1);
	assert_int_equal(v.activity, ACTV_RECOVERY);
	assert_int_equal(v.recovery_left_ms, 5000);
	assert_int_equal(engine_next_deadline(e), t_end + 5000);
	tick_to(t_end + 4999);
	assert_int_equal(nacts, 0);
	tick_to(t_end + 5000);
	assert_non_null(find_event(EV_RECOVERY_END));
	assert_int_equal(the_offer()->call, c2);
	assert_int_equal(the_offer()->at, t_end + 5000);
	assert_int_equal(offered_to(), a1);
}

static void test_recovery_extend(void **state)
{
	eng_id q = queue("rx", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c;
	struct eng_queue_conf cf = *engine_queue_conf(e, q);

	(void)state;
	cf.recovery_s = 10;
	cf.recovery_extend_s = 20;
	assert_true(engine_queue_update(e, now, q, &cf));
	c = enter(q);
	answer();
	engine_talk_end(e, now, c);
	drain();
	assert_true(engine_agent_extend(e, now, a1));
	assert_false(engine_agent_extend(e, now, a1));   /* once, without recovery_multi */
	assert_int_equal(engine_next_deadline(e), now + 30000);
	tick_to(now + 30000);
	assert_non_null(find_event(EV_RECOVERY_END));
	assert_false(engine_agent_extend(e, now, a1));
}

/* ---- late tick: deadlines in time order ---- */

static void test_late_tick_time_order(void **state)
{
	eng_id q = queue("lt", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), c1, c2;
	eng_ms t0 = now;

	(void)state;
	set_conf(q, set_timeout, 20);
	c1 = enter(q);                  /* -> a1, expires t0+15000 */
	now += 1000;
	c2 = enter(q);                  /* -> a2, expires t0+16000 */
	/* One tick long after, everything in deadline order, stamped `now`:
	 * 15 s a1 misses c1 and rests until 20 s (a2 still rings, c1 waits);
	 * 16 s a2 misses c2 and rests until 21 s; 20 s c1 times out before a1's
	 * rest ends (timeouts first), then c2 goes to a1; 21 s c2 times out,
	 * cancelling that fresh offer without charging anyone. Rests count from
	 * the ring expiry, not from the late tick. */
	tick_to(t0 + 30000);
	assert_int_equal(count_event(EV_CALL_MISS), 2);
	assert_int_equal(count_event(EV_CALL_TIMEOUT), 2);
	assert_int_equal(count_kind(ACT_RELEASE), 2);
	assert_int_equal(count_kind(ACT_OFFER), 1);
	assert_int_equal(find_kind(ACT_OFFER)->call, c2);
	assert_int_equal(find_kind(ACT_OFFER)->member, a1);
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 3);
	assert_int_equal(acts[0].kind, ACT_CANCEL_OFFER);
	assert_int_equal(acts[0].member, a1);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_int_equal(mview(a2).activity, ACTV_IDLE);
	assert_int_equal(engine_next_deadline(e), ENG_NEVER);
	(void)c1;
	(void)c2;
}

static void test_same_instant_timeout_before_miss(void **state)
{
	eng_id q = queue("si", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q);
	eng_ms t0 = now;

	(void)state;
	set_conf(q, set_timeout, 15);       /* queue timeout == connect timeout */
	enter(q);
	tick_to(t0 + 15000);
	/* The call leaves first, so the agent is not charged with a miss. */
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 1);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(mview(a1).missed_total, 0);
	assert_int_equal(qstats(q).missed, 1);
}

static void test_same_instant_across_calls(void **state)
{
	eng_id q = queue("sa", STRAT_ROUND_ROBIN), q2 = queue("sb", STRAT_ROUND_ROBIN);
	eng_ms t0 = now;

	(void)state;
	agent("1001", q);
	set_conf(q2, set_timeout, 10);
	enter(q);                           /* rings until t0 + 15 s */
	now = t0 + 5000;
	enter(q2);                          /* no agents; times out at t0 + 15 s */
	tick_to(t0 + 15000);
	assert_true(event_index(EV_CALL_TIMEOUT) < event_index(EV_CALL_MISS));
}

/* ---- stats and lists ---- */

static void test_stats_counters(void **state)
{
	eng_id q = queue("st", STRAT_ROUND_ROBIN), q2 = queue("other", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q);
	eng_id a4 = engine_member_add(e, "1004", "D", ROLE_AGENT), a5 = agent("1005", q2);
	eng_id c1, c2, c3;
	struct eng_queue_stats s;

	(void)state;
	assert_true(engine_assign(e, now, q, a4, false, false));   /* paused, logged out */
	assert_true(engine_assign(e, now, q, a5, false, false));   /* paused, logged in */
	engine_agent_away(e, now, a3, "lunch");                    /* active, away */
	drain();
	s = qstats(q);
	assert_int_equal(s.ready, 2);
	assert_int_equal(s.away, 2);
	assert_int_equal(s.busy, 0);

	c1 = enter(q);                      /* a1 rings: still counted ready */
	assert_int_equal(offered_to(), a1);
	s = qstats(q);
	assert_int_equal(s.ready, 2);
	assert_int_equal(s.waiting, 1);
	now += 4000;
	answer();                           /* wait 4 s */
	c2 = enter(q);
	now += 8000;
	assert_int_equal(answer(), a2);     /* wait 8 s */
	c3 = enter(q);
	s = qstats(q);
	assert_int_equal(s.busy, 2);
	assert_int_equal(s.ready, 0);
	assert_int_equal(s.waiting, 1);
	engine_call_hangup(e, now, c3);     /* abandoned */
	now += 10000;
	engine_talk_end(e, now, c1);        /* talk 18 s */
	engine_talk_end(e, now, c2);        /* talk 10 s */
	drain();
	enter(q);
	tick_to(now + 15000);               /* miss by a1 */
	s = qstats(q);
	assert_int_equal(s.handled, 2);
	assert_int_equal(s.abandoned, 1);
	assert_int_equal(s.missed, 1);
	assert_int_equal(s.waiting, 1);
	assert_int_equal(s.longest_wait_ms, 8000);
	assert_int_equal(s.avg_wait_ms, 6000);
	assert_int_equal(s.avg_talk_ms, 14000);
	assert_int_equal(s.busy, 0);
	assert_int_equal(s.ready, 2);
	assert_int_equal(s.away, 2);
	assert_false(engine_queue_stats(e, now, 999, &s));
}

static void test_call_list_order(void **state)
{
	eng_id q = queue("cl", STRAT_ROUND_ROBIN), q2 = queue("x", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c1, c2, c3, c4, offer1;
	struct eng_call_view v[8];

	(void)state;
	c1 = enter(q);
	offer1 = the_offer()->offer;
	now += 1000;
	c2 = enter(q);
	enter(q2);
	now += 1000;
	c3 = enter(q);
	assert_true(engine_offer_answered(e, now, offer1));   /* c1 talking */
	c4 = enter(q);
	assert_int_equal(engine_call_list(e, now, q, v, 8), 4);
	assert_int_equal(v[0].id, c2);
	assert_int_equal(v[0].position, 1);
	assert_int_equal(v[0].wait_ms, 1000);
	assert_string_equal(v[0].caller_number, "+15855550100");
	assert_int_equal(v[1].id, c3);
	assert_int_equal(v[1].position, 2);
	assert_int_equal(v[2].id, c4);
	assert_int_equal(v[2].position, 3);
	assert_int_equal(v[3].id, c1);
	assert_int_equal(v[3].position, 0);
	assert_true(v[3].talking);
	assert_int_equal(v[3].member, a1);
	assert_int_equal(engine_call_list(e, now, q, v, 2), 2);
}

/* ---- configuration ---- */

static void test_config_rules(void **state)
{
	eng_id q = queue("cf", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c;
	struct eng_queue_conf cf = *engine_queue_conf(e, q), bad;
	eng_id ids[4];

	(void)state;
	assert_int_equal(engine_queue_find(e, "cf"), q);
	assert_int_equal(engine_queue_by_number(e, cf.number), q);
	/* Duplicate name or number, zero timeouts: refused; skills strategies taken. */
	assert_int_equal(engine_queue_add(e, now, &cf), 0);
	bad = conf("other", cf.number, STRAT_ROUND_ROBIN);
	assert_int_equal(engine_queue_add(e, now, &bad), 0);
	bad = conf("other", "7777", STRAT_ROUND_ROBIN);
	bad.timeout_s = 0;
	assert_int_equal(engine_queue_add(e, now, &bad), 0);
	bad = conf("other", "7777", STRAT_ROUND_ROBIN);
	bad.connect_timeout_s = 0;
	assert_int_equal(engine_queue_add(e, now, &bad), 0);
	/* A zero retry delay would ring a failing phone in a loop. */
	bad = conf("other", "7777", STRAT_ROUND_ROBIN);
	bad.retry_rejected_s = 0;
	assert_int_equal(engine_queue_add(e, now, &bad), 0);
	bad = conf("other", "7777", STRAT_ROUND_ROBIN);
	bad.retry_timeout_s = 0;
	assert_int_equal(engine_queue_add(e, now, &bad), 0);
	bad = conf("other", "7777", STRAT_ROUND_ROBIN);
	bad.retry_unreachable_s = 0;
	assert_int_equal(engine_queue_add(e, now, &bad), 0);
	bad = cf;
	snprintf(bad.name, sizeof(bad.name), "renamed");
	assert_false(engine_queue_update(e, now, q, &bad));

	c = enter(q);
	assert_false(engine_queue_remove(e, now, q));
	assert_false(engine_member_remove(e, now, a1));     /* ringing */
	answer();
	assert_false(engine_member_remove(e, now, a1));     /* on call */
	engine_talk_end(e, now, c);
	drain();
	assert_true(engine_queue_remove(e, now, q));
	assert_null(engine_queue_conf(e, q));
	assert_int_equal(engine_queue_find(e, "cf"), 0);
	assert_false(engine_is_member(e, q, a1, NULL, NULL));
	assert_int_equal(engine_queue_ids(e, ids, 4), 0);
	assert_true(engine_member_remove(e, now, a1));
	assert_int_equal(engine_member_find(e, "1001"), 0);
	assert_false(engine_agent_login(e, now, a1));
	/* A new queue never reuses an old id. */
	bad = conf("cf", "7000", STRAT_ROUND_ROBIN);
	assert_true(engine_queue_add(e, now, &bad) != q);
	bad = conf("sk", "7001", STRAT_SKILLS_STRICT);
	assert_true(engine_queue_add(e, now, &bad) != 0);
}

static void test_unassign_while_ringing(void **state)
{
	eng_id q = queue("un", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q);

	(void)state;
	enter(q);
	assert_int_equal(offered_to(), a1);
	assert_true(engine_unassign(e, now, q, a1));
	drain();
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 1);
	assert_int_equal(offered_to(), a2);
	assert_false(engine_unassign(e, now, q, a1));
}

static void test_names(void **state)
{
	enum eng_strategy s;
	enum eng_role r;

	(void)state;
	assert_string_equal(engine_strategy_name(STRAT_LEAST_OFFERS), "least-offers");
	assert_true(engine_strategy_parse("skills-loose", &s));
	assert_int_equal(s, STRAT_SKILLS_LOOSE);
	assert_false(engine_strategy_parse("fastest", &s));
	assert_true(engine_role_parse("manager", &r));
	assert_int_equal(r, ROLE_MANAGER);
	assert_string_equal(engine_role_name(ROLE_ADMIN), "admin");
	assert_false(engine_role_parse("root", &r));
	assert_string_equal(engine_event_name(EV_CALL_MISS), "call.miss");
	assert_string_equal(engine_event_name(EV_RECOVERY_END), "agent.recovery_end");
}

/* ---- escalation ---- */

static struct eng_queue_conf qconf_of(eng_id q)
{
	return *engine_queue_conf(e, q);
}

static void update(eng_id q, const struct eng_queue_conf *c)
{
	assert_true(engine_queue_update(e, now, q, c));
	drain();
}

/* key=value through qconf_set, as the control socket does it. */
static void qset(eng_id q, const char *key, const char *value)
{
	struct eng_queue_conf c = qconf_of(q);
	char err[128];

	if (qconf_set(&c, key, value, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	update(q, &c);
}

static struct eng_call_view cview(eng_id c)
{
	struct eng_call_view v;

	assert_true(engine_call_view(e, now, c, &v));
	return v;
}

static void test_escalation_queue_then_dest(void **state)
{
	eng_id a = queue("ea", STRAT_ROUND_ROBIN), b = queue("eb", STRAT_ROUND_ROBIN);
	eng_id cq = queue("ec", STRAT_ROUND_ROBIN), c;
	eng_ms t0 = now;
	const struct eng_action *ev, *r;

	(void)state;
	qset(a, "timeout", "10");
	qset(a, "escalation_queue", "eb");
	qset(a, "escalation_dest", "voicemail:1001");
	qset(b, "timeout", "20");
	qset(b, "escalation_queue", "ec");     /* not followed: the origin's rules apply */
	c = enter(a);
	tick_to(t0 + 10000);
	ev = find_event(EV_CALL_ESCALATE);
	assert_non_null(ev);
	assert_int_equal(ev->call, c);
	assert_int_equal(ev->queue, a);
	assert_int_equal(ev->value, b);
	assert_string_equal(ev->reason, "timeout");
	assert_int_equal(count_kind(ACT_RELEASE), 0);
	assert_int_equal(count_event(EV_CALL_TIMEOUT), 0);
	assert_int_equal(qstats(a).missed, 1);
	assert_int_equal(qstats(a).waiting, 0);
	assert_int_equal(qstats(b).waiting, 1);
	assert_int_equal(cview(c).queue, b);
	assert_int_equal(cview(c).entered, t0);          /* kept for reporting */
	assert_int_equal(engine_next_deadline(e), t0 + 30000);   /* a fresh timeout */
	tick_to(t0 + 30000);
	ev = find_event(EV_CALL_TRANSFER);
	assert_non_null(ev);
	assert_string_equal(ev->reason, "voicemail:1001");
	r = find_kind(ACT_RELEASE);
	assert_int_equal(r->release, REL_TRANSFER);
	assert_string_equal(r->dest, "voicemail:1001");
	assert_int_equal(r->queue, b);
	assert_int_equal(count_kind(ACT_RELEASE), 1);
	assert_int_equal(qstats(b).missed, 1);
	assert_int_equal(qstats(cq).waiting, 0);
	assert_false(engine_call_view(e, now, c, &(struct eng_call_view){ 0 }));
}

static void test_escalation_dest_queue_and_plain_timeout(void **state)
{
	eng_id a = queue("da", STRAT_ROUND_ROBIN), b = queue("db", STRAT_ROUND_ROBIN), c;
	eng_ms t0 = now;

	(void)state;
	qset(a, "timeout", "5");
	qset(a, "escalation_dest", "queue:db");
	qset(b, "timeout", "7");
	c = enter(a);
	tick_to(t0 + 5000);
	assert_int_equal(find_event(EV_CALL_ESCALATE)->value, b);
	assert_int_equal(cview(c).queue, b);
	/* db is now the call's home: no escalation there, so a plain timeout. */
	tick_to(t0 + 12000);
	assert_non_null(find_event(EV_CALL_TIMEOUT));
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_TIMEOUT);
	assert_int_equal(find_kind(ACT_RELEASE)->queue, b);
}

static void test_escalation_on_limit_and_empty(void **state)
{
	eng_id a = queue("la", STRAT_ROUND_ROBIN), b = queue("lb", STRAT_ROUND_ROBIN);
	eng_id em = queue("le", STRAT_ROUND_ROBIN), c1, c2, c3;
	const struct eng_action *ev;

	(void)state;
	qset(a, "call_limit", "1");
	qset(a, "escalation_queue", "lb");
	c1 = enter(a);
	c2 = enter(a);
	assert_true(c1 && c2);
	assert_int_equal(count_event(EV_CALL_REFUSED), 0);
	assert_int_equal(count_event(EV_CALL_ENTER), 2);     /* into a, then into b */
	ev = find_event(EV_CALL_ESCALATE);
	assert_int_equal(ev->queue, a);
	assert_int_equal(ev->value, b);
	assert_string_equal(ev->reason, "limit");
	assert_true(event_index(EV_CALL_ESCALATE) < nacts);
	ev = &acts[event_index(EV_CALL_ESCALATE) + 1];        /* b counts it offered */
	assert_int_equal(ev->event, EV_CALL_ENTER);
	assert_int_equal(ev->queue, b);
	assert_string_equal(ev->reason, "escalated");
	assert_int_equal(qstats(a).missed, 1);
	assert_int_equal(cview(c2).queue, b);
	/* Empty queue straight to an outside destination: the call gets an id
	 * and leaves in the same transition. */
	qset(em, "timeout_if_empty", "yes");
	qset(em, "escalation_dest", "uri:sip:night@example.com");
	c3 = enter(em);
	assert_true(c3 != 0);
	assert_string_equal(find_event(EV_CALL_TRANSFER)->reason, "uri:sip:night@example.com");
	assert_int_equal(find_kind(ACT_RELEASE)->call, c3);
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_TRANSFER);
	assert_int_equal(qstats(em).missed, 1);
	/* The limit is checked again when escalating into a full queue. */
	qset(b, "call_limit", "1");
	qset(a, "escalation_dest", "hangup");
	enter(a);
	assert_int_equal(count_event(EV_CALL_ESCALATE), 1);
	assert_string_equal(find_event(EV_CALL_TRANSFER)->reason, "hangup");
	assert_int_equal(qstats(b).missed, 1);
}

static void test_escalation_runtime_guard(void **state)
{
	eng_id a = queue("ga", STRAT_ROUND_ROBIN), b = queue("gb", STRAT_ROUND_ROBIN);
	struct eng_queue_conf ca = qconf_of(a), cb = qconf_of(b);

	(void)state;
	/* A loop the configuration check would refuse, written directly. */
	ca.timeout_s = 1;
	snprintf(ca.escalation_dest, sizeof(ca.escalation_dest), "queue:gb");
	cb.timeout_s = 1;
	snprintf(cb.escalation_dest, sizeof(cb.escalation_dest), "queue:ga");
	update(a, &ca);
	update(b, &cb);
	enter(a);
	for (int i = 0; i < 8; i++) {
		tick_to(engine_next_deadline(e));
		assert_int_equal(count_event(EV_CALL_ESCALATE), 1);
		assert_int_equal(find_event(EV_CALL_ESCALATE)->value, i % 2 ? a : b);
	}
	tick_to(engine_next_deadline(e));
	assert_int_equal(count_event(EV_CALL_ESCALATE), 0);
	assert_string_equal(find_event(EV_CALL_TRANSFER)->reason, "hangup");
	assert_int_equal(count_kind(ACT_RELEASE), 1);
	assert_int_equal(engine_next_deadline(e), ENG_NEVER);
}

static void test_escalation_loop_check(void **state)
{
	eng_id a = queue("A", STRAT_ROUND_ROBIN), b = queue("B", STRAT_ROUND_ROBIN);

	(void)state;
	queue("C", STRAT_ROUND_ROBIN);
	queue("D", STRAT_ROUND_ROBIN);
	qset(a, "escalation_queue", "B");
	qset(b, "escalation_dest", "queue:C");
	assert_true(engine_escalation_loop(e, "C", "A"));    /* C -> A -> B -> C */
	assert_true(engine_escalation_loop(e, "B", "A"));
	assert_false(engine_escalation_loop(e, "C", "D"));
	assert_false(engine_escalation_loop(e, "D", "A"));
	assert_true(engine_escalation_loop(e, "D", "D"));
	assert_false(engine_escalation_loop(e, "D", ""));
	assert_false(engine_escalation_loop(e, "D", "nosuch"));
}

/* ---- zero out ---- */

static void digits(eng_id c, const char *s)
{
	for (; *s; s++)
		assert_true(engine_call_digit(e, now, c, *s));
	drain();
}

static void test_zero_out_destination(void **state)
{
	eng_id q = queue("zo", STRAT_ROUND_ROBIN), a1 = agent("1001", q), c, c2;
	const struct eng_action *r;

	(void)state;
	c = enter(q);
	digits(c, "#0");
	assert_int_equal(nacts, 0);             /* no zero_out set: just digits */
	qset(q, "zero_out", "voicemail:1001");
	digits(c, "0#10");
	assert_int_equal(nacts, 0);
	digits(c, "#0");
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 1);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_string_equal(find_event(EV_CALL_ABANDON)->reason, "zero_out");
	assert_string_equal(find_event(EV_CALL_TRANSFER)->reason, "voicemail:1001");
	r = find_kind(ACT_RELEASE);
	assert_int_equal(r->release, REL_TRANSFER);
	assert_string_equal(r->dest, "voicemail:1001");
	assert_int_equal(qstats(q).abandoned, 1);
	assert_int_equal(qstats(q).missed, 0);
	assert_int_equal(mview(a1).missed_total, 0);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	/* A talking call ignores it. */
	c2 = enter(q);
	answer();
	digits(c2, "#0");
	assert_int_equal(nacts, 0);
	assert_false(engine_call_digit(e, now, 999, '#'));
}

static void test_zero_out_to_queue(void **state)
{
	eng_id q = queue("zq", STRAT_ROUND_ROBIN), q2 = queue("zr", STRAT_ROUND_ROBIN), c;
	const struct eng_action *ev;

	(void)state;
	qset(q, "zero_out", "queue:zr");
	c = enter(q);
	digits(c, "#0");
	ev = find_event(EV_CALL_ESCALATE);
	assert_int_equal(ev->value, q2);
	assert_string_equal(ev->reason, "zero_out");
	assert_int_equal(count_kind(ACT_RELEASE), 0);
	assert_int_equal(qstats(q).abandoned, 1);
	assert_int_equal(cview(c).queue, q2);
	assert_int_equal(qstats(q2).waiting, 1);
}

/* ---- bump ---- */

static void test_bump(void **state)
{
	eng_id q = queue("bu", STRAT_ROUND_ROBIN), q2 = queue("bv", STRAT_ROUND_ROBIN);
	eng_id m = engine_member_add(e, "1001", "A", ROLE_AGENT), c1, c2, c3, x;
	struct eng_call_view v[4];

	(void)state;
	assert_true(engine_assign(e, now, q, m, false, true));
	assert_true(engine_assign(e, now, q2, m, false, true));
	c1 = enter(q);
	now += 1000;
	x = enter(q2);
	now += 1000;
	c2 = enter(q);
	c3 = enter(q);
	assert_true(engine_call_bump(e, now, c3));
	drain();
	assert_int_equal(find_event(EV_CALL_BUMP)->call, c3);
	assert_int_equal(engine_call_list(e, now, q, v, 4), 3);
	assert_int_equal(v[0].id, c3);
	assert_int_equal(v[0].position, 1);
	assert_int_equal(v[1].id, c1);
	assert_int_equal(v[2].id, c2);
	assert_int_equal(cview(c2).position, 3);
	/* Bumped ahead of the other queue's older call too. */
	engine_agent_login(e, now, m);
	drain();
	assert_int_equal(the_offer()->call, c3);
	answer();
	assert_false(engine_call_bump(e, now, c3));        /* talking */
	assert_false(engine_call_bump(e, now, 999));
	(void)x;
}

/* ---- call.answer (pickup) ---- */

static void test_pickup(void **state)
{
	eng_id q = queue("pk", STRAT_ROUND_ROBIN), a1 = agent("1001", q);
	eng_id mgr = engine_member_add(e, "1100", "Boss", ROLE_MANAGER), c, offer;
	const struct eng_action *o;

	(void)state;
	c = enter(q);
	assert_int_equal(offered_to(), a1);
	offer = engine_call_pickup(e, now, c, mgr);      /* not assigned, logged out */
	drain();
	assert_true(offer != 0);
	assert_int_equal(find_kind(ACT_CANCEL_OFFER)->member, a1);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	o = the_offer();
	assert_int_equal(o->member, mgr);
	assert_int_equal(o->offer, offer);
	assert_int_equal(o->timeout_ms, 15000);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	assert_int_equal(mview(mgr).activity, ACTV_RINGING);
	/* The manager's offer survives changes that would withdraw an agent's. */
	engine_agent_logout(e, now, mgr);
	drain();
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 0);
	assert_int_equal(engine_call_pickup(e, now, c, mgr), 0);   /* already ringing */
	assert_true(engine_offer_answered(e, now, offer));
	drain();
	assert_int_equal(find_kind(ACT_BRIDGE)->member, mgr);
	assert_int_equal(qstats(q).handled, 1);
	assert_int_equal(mview(mgr).handled, 1);
	assert_int_equal(engine_call_pickup(e, now, c, a1), 0);    /* talking */
	assert_int_equal(engine_call_pickup(e, now, 999, a1), 0);
}

static void test_pickup_missed_goes_back(void **state)
{
	eng_id q = queue("pm", STRAT_ROUND_ROBIN), a1 = agent("1001", q);
	eng_id mgr = agent("1100", 0), c, c2;

	(void)state;
	qset(q, "force_away", "yes");
	qset(q, "recovery", "30");
	c = enter(q);
	answer();
	c2 = enter(q);
	engine_talk_end(e, now, c);
	drain();
	assert_int_equal(mview(a1).activity, ACTV_RECOVERY);
	/* An agent in recovery may be picked: recovery ends. */
	assert_true(engine_call_pickup(e, now, c2, a1) != 0);
	drain();
	assert_non_null(find_event(EV_RECOVERY_END));
	assert_int_equal(offered_to(), a1);
	assert_true(engine_offer_failed(e, now, the_offer()->offer, "rejected"));
	drain();
	/* A refused pickup is a miss, but not a reason to force anyone away;
	 * it starts a rest like any miss, so the call waits in line. */
	assert_int_equal(count_event(EV_CALL_MISS), 1);
	assert_true(mview(a1).ready);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(mview(a1).retry_left_ms, 5000);
	/* The manager may ring the resting phone again: a pickup ends the rest. */
	assert_true(engine_call_pickup(e, now, c2, a1) != 0);
	drain();
	assert_int_equal(offered_to(), a1);
	assert_int_equal(mview(a1).retry_left_ms, 0);
	(void)mgr;
}

/* ---- retry policy ---- */

/* Fails the single offer of the last drain with `reason` and checks the
 * agent's rest; returns the member. */
static eng_id fail_offer(const char *reason, eng_ms rest_ms)
{
	eng_id m = offered_to();

	assert_true(engine_offer_failed(e, now, the_offer()->offer, reason));
	drain();
	assert_int_equal(mview(m).retry_left_ms, rest_ms);
	return m;
}

/* Each reason rests the agent for its own delay, and the waiting call is
 * offered again exactly when that rest ends, not a millisecond before. */
static void test_retry_delay_per_reason(void **state)
{
	static const struct { const char *reason; eng_ms rest; } cases[] = {
		{ "rejected", 7000 }, { "timeout", 11000 }, { "unreachable", 13000 },
		{ "500", 13000 },     /* any other reason: unreachable */
		{ NULL, 7000 },       /* no reason: rejected */
	};
	eng_id q = queue("rd", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c;

	(void)state;
	qset(q, "retry_rejected", "7");
	qset(q, "retry_timeout", "11");
	qset(q, "retry_unreachable", "13");
	c = enter(q);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		eng_ms t0 = now;

		assert_int_equal(fail_offer(cases[i].reason, cases[i].rest), a1);
		assert_int_equal(count_kind(ACT_OFFER), 0);
		assert_int_equal(engine_next_deadline(e), t0 + cases[i].rest);
		now += 2000;
		assert_int_equal(mview(a1).retry_left_ms, cases[i].rest - 2000);
		tick_to(t0 + cases[i].rest - 1);
		assert_int_equal(count_kind(ACT_OFFER), 0);
		tick_to(t0 + cases[i].rest);
		assert_int_equal(the_offer()->call, c);
	}
	/* The ring timeout is a "timeout" miss. */
	tick_to(now + 15000);
	assert_string_equal(find_event(EV_CALL_MISS)->reason, "timeout");
	assert_int_equal(mview(a1).retry_left_ms, 11000);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(mview(a1).missed_total, 6);
}

/* A call whose only agent rests keeps its place: a later call does not pass
 * it, and it is the one offered when the rest ends. */
static void test_retry_call_keeps_place(void **state)
{
	eng_id q = queue("kp", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c1, c2;
	eng_ms t0 = now;

	(void)state;
	c1 = enter(q);
	fail_offer("rejected", 5000);
	now += 1000;
	c2 = enter(q);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(cview(c1).position, 1);
	assert_int_equal(cview(c2).position, 2);
	assert_int_equal(qstats(q).waiting, 2);
	assert_int_equal(qstats(q).ready, 1);        /* resting still counts ready */
	tick_to(t0 + 5000);
	assert_int_equal(offered_to(), a1);
	assert_int_equal(the_offer()->call, c1);
}

/* The rest is the agent's, in every queue, for the delay of the queue whose
 * offer was missed. */
static void test_retry_rest_in_every_queue(void **state)
{
	eng_id q1 = queue("r1", STRAT_ROUND_ROBIN), q2 = queue("r2", STRAT_MOST_IDLE);
	eng_id a1 = agent("1001", q1), c2;
	eng_ms t0 = now;

	(void)state;
	assert_true(engine_assign(e, now, q2, a1, false, true));
	qset(q1, "retry_rejected", "20");
	drain();
	enter(q1);
	fail_offer("rejected", 20000);
	c2 = enter(q2);                               /* q2's own delay (5 s) does not apply */
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(t0 + 19999);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	/* At 20 s both queues are marked; the older call (q1's) goes first. */
	tick_to(t0 + 20000);
	assert_int_equal(offered_to(), a1);
	assert_int_equal(the_offer()->queue, q1);
	(void)c2;
}

/* A local failure (our side could not place the offer) is not the agent's
 * miss: no counter, no event, no force_away; but the agent rests 1 s, so the
 * call is not offered to it again in the same instant. */
static void test_retry_local_failure(void **state)
{
	eng_id q = queue("lf", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), c;
	eng_ms t0 = now;
	struct eng_member_view v;

	(void)state;
	qset(q, "force_away", "yes");
	assert_true(engine_agent_away(e, now, a2, "lunch"));
	drain();
	c = enter(q);
	assert_int_equal(fail_offer("local", ENG_RETRY_LOCAL_MS), a1);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_int_equal(count_event(EV_AGENT_AWAY), 0);
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 0);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	v = mview(a1);
	assert_true(v.ready);
	assert_false(v.missed);
	assert_int_equal(v.missed_total, 0);
	assert_int_equal(qstats(q).missed, 0);
	/* Another agent takes it at once if there is one... */
	assert_true(engine_agent_ready(e, now, a2));
	drain();
	assert_int_equal(offered_to(), a2);
	assert_int_equal(fail_offer("local", ENG_RETRY_LOCAL_MS), a2);
	/* ...and nobody gets it again before the rest is over. */
	tick_to(t0 + ENG_RETRY_LOCAL_MS - 1);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(t0 + ENG_RETRY_LOCAL_MS);
	assert_int_equal(offered_to(), a1);
	assert_int_equal(the_offer()->call, c);
}

/* Round robin goes on to the next agent when the one whose turn it is rests. */
static void test_rr_skips_resting_agent(void **state)
{
	eng_id q = queue("rs", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q);
	eng_id c1, c2;
	eng_ms t0 = now;

	(void)state;
	c1 = enter(q);
	assert_int_equal(fail_offer("rejected", 5000), a1);
	assert_int_equal(answer(), a2);
	c2 = enter(q);
	assert_int_equal(answer(), a3);
	assert_true(engine_talk_end(e, now, c1));
	drain();
	/* After a3 comes a1, who rests: a2 takes it. */
	enter(q);
	assert_int_equal(answer(), a2);
	assert_true(engine_talk_end(e, now, c2));
	drain();
	/* After a2: a3 is free again, a1 still rests. */
	enter(q);
	assert_int_equal(answer(), a3);
	tick_to(t0 + 5000);
	enter(q);
	assert_int_equal(offered_to(), a1);
}

/* A rest outlives status changes (the phone is the same), and a member
 * removed while resting leaves no deadline behind. */
static void test_retry_rest_outlives_status(void **state)
{
	eng_id q = queue("ro", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q);
	eng_ms t0 = now;

	(void)state;
	enter(q);
	fail_offer("unreachable", 30000);
	assert_true(engine_agent_away(e, now, a1, "x"));
	assert_true(engine_agent_ready(e, now, a1));
	assert_true(engine_agent_logout(e, now, a1));
	assert_true(engine_agent_login(e, now, a1));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(mview(a1).retry_left_ms, 30000);
	tick_to(t0 + 30000);
	assert_int_equal(offered_to(), a1);
	tick_to(now + 15000);                         /* ring timeout: a 5 s rest */
	assert_true(engine_agent_logout(e, now, a1));
	assert_true(engine_member_remove(e, now, a1));
	drain();
	assert_int_equal(engine_next_deadline(e), t0 + 600000);   /* the call's timeout */
}

/* ---- skills ---- */

static void skill(const char *name, const char *r1)
{
	struct eng_skill_rule r;
	char err[128];

	assert_int_equal(skill_rule_parse(r1, &r, err, sizeof(err)), 0);
	assert_int_equal(engine_skill_set(e, name, false, &r, 1, err, sizeof(err)), 0);
}

static eng_id enter_from(eng_id q, const char *number)
{
	struct eng_call_info ci = { number, "Caller", "6000", "Support" };
	eng_id c = engine_call_enter(e, now, q, &ci);

	drain();
	return c;
}

static void test_skills_strict(void **state)
{
	eng_id q = queue("ss", STRAT_SKILLS_STRICT);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q), c;
	const struct eng_action *r;

	(void)state;
	skill("es", "caller_number starts_with +34");
	skill("us", "caller_number matches ^\\+1[0-9]{3}");
	assert_true(engine_skill_assign(e, a1, "es", true));
	assert_true(engine_skill_assign(e, a2, "us", true));
	assert_true(engine_member_has_skill(e, a2, "us"));
	assert_false(engine_member_has_skill(e, a3, "us"));
	c = enter_from(q, "+15855550100");
	assert_int_equal(offered_to(), a2);
	answer();
	enter_from(q, "+15855550101");               /* a2 busy: waits for a2 */
	assert_int_equal(count_kind(ACT_OFFER), 0);
	enter_from(q, "+34911");
	assert_int_equal(offered_to(), a1);          /* not a3, who has no skill */
	/* No skill matches: no escalation configured, so hang up. */
	enter_from(q, "+4930");
	assert_string_equal(find_event(EV_CALL_TRANSFER)->reason, "hangup");
	r = find_kind(ACT_RELEASE);
	assert_int_equal(r->release, REL_TRANSFER);
	assert_string_equal(r->dest, "hangup");
	/* With escalation: there, reason noskill. */
	queue("spill", STRAT_ROUND_ROBIN);
	qset(q, "escalation_queue", "spill");
	enter_from(q, "+4930");
	assert_string_equal(find_event(EV_CALL_ESCALATE)->reason, "noskill");
	(void)c;
	(void)a3;
}

static void test_skills_loose(void **state)
{
	eng_id q = queue("sl", STRAT_SKILLS_LOOSE);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q);
	eng_id c1, c2;

	(void)state;
	skill("us", "caller_number starts_with +1");
	skill("fr", "caller_number starts_with +33");
	engine_skill_assign(e, a2, "us", true);
	engine_skill_assign(e, a3, "us", true);
	c1 = enter_from(q, "+1585");
	assert_int_equal(offered_to(), a2);
	answer();
	c2 = enter_from(q, "+1586");
	assert_int_equal(offered_to(), a3);           /* round robin among matching */
	answer();
	enter_from(q, "+1587");                       /* matching members all busy: waits */
	assert_int_equal(count_kind(ACT_OFFER), 0);
	enter_from(q, "+33140");                      /* nobody has fr: anyone */
	assert_int_equal(offered_to(), a1);
	engine_talk_end(e, now, c1);
	drain();
	assert_int_equal(offered_to(), a2);           /* the waiting +1 call */
	(void)c2;
}

/* ---- priorities ---- */

static void test_priorities(void **state)
{
	eng_id q = queue("pr", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q);

	(void)state;
	assert_int_equal(engine_priority(e, q, a1), ENG_PRIO_DEFAULT);
	assert_true(engine_set_priority(e, now, q, a1, 2));
	assert_false(engine_set_priority(e, now, q, a1, 0));
	assert_false(engine_set_priority(e, now, q, a1, ENG_PRIO_LEVELS + 1));
	assert_int_equal(engine_priority(e, q, a1), 2);
	drain();
	/* Level 1 first, round robin inside it; level 2 only when 1 has nobody. */
	enter(q);
	assert_int_equal(offered_to(), a2);
	answer();
	enter(q);
	assert_int_equal(offered_to(), a3);
	answer();
	enter(q);
	assert_int_equal(offered_to(), a1);
	answer();
	enter(q);                                    /* everyone busy: waits */
	assert_int_equal(count_kind(ACT_OFFER), 0);
	/* Raising a1 to level 1 is not enough: a1 is on a call. */
	assert_true(engine_set_priority(e, now, q, a1, 1));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(engine_priority(e, q, 0), 0);
}

static void test_priority_step_widens(void **state)
{
	eng_id q = queue("pw", STRAT_MOST_IDLE);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), a3 = agent("1003", q), c;
	eng_ms t0;

	(void)state;
	qset(q, "priority_step", "30");
	assert_true(engine_set_priority(e, now, q, a2, 2));
	assert_true(engine_set_priority(e, now, q, a3, 3));
	drain();
	enter(q);
	assert_int_equal(offered_to(), a1);
	answer();
	t0 = now;
	c = enter(q);
	assert_int_equal(count_kind(ACT_OFFER), 0);  /* level 2 not open yet */
	assert_int_equal(engine_call_level(e, now, c), 1);
	tick_to(t0 + 29999);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(t0 + 30000);
	assert_int_equal(engine_call_level(e, now, c), 2);
	assert_int_equal(offered_to(), a2);          /* level 2 opened, level 3 not yet */
	answer();
	/* Levels count from the best staffed one: with a1 logged out and a2 away
	 * (each after its call), level 3 is the best and opens at once. */
	c = enter(q);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_true(engine_agent_away(e, now, a2, "x"));
	assert_true(engine_agent_logout(e, now, a1));
	assert_true(engine_talk_end(e, now, mview(a1).call));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);   /* a2, staffed at level 2, still talks */
	assert_true(engine_talk_end(e, now, mview(a2).call));
	drain();
	assert_int_equal(engine_call_level(e, now, c), 3);
	assert_int_equal(offered_to(), a3);
}

/* The guide's skills-strict: a call waits only while a staffed member (logged
 * in, ready, active) has its skill; skill conflicts go to escalation. */
static void test_skills_strict_guide(void **state)
{
	eng_id q = queue("sg", STRAT_SKILLS_STRICT), spill = queue("sgx", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), a2 = agent("1002", q), c;

	(void)state;
	(void)spill;
	qset(q, "escalation_queue", "sgx");
	skill("es", "caller_number starts_with +34");
	skill("mad", "caller_number starts_with +3491");
	skill("us", "caller_number starts_with +1");
	engine_skill_assign(e, a1, "es", true);
	engine_skill_assign(e, a2, "mad", true);
	engine_skill_assign(e, a2, "us", true);
	/* +3491 matches es (a1) and mad (a2): a conflict. */
	enter_from(q, "+34911");
	assert_string_equal(find_event(EV_CALL_ESCALATE)->reason, "conflict");
	/* a1 away: nobody staffed has es, so a +34 call escalates at once. */
	assert_true(engine_agent_away(e, now, a1, "lunch"));
	drain();
	enter_from(q, "+3493");
	assert_string_equal(find_event(EV_CALL_ESCALATE)->reason, "noskill");
	/* a waiting call leaves when its last staffed match does. */
	c = enter_from(q, "+1555");
	answer();
	c = enter_from(q, "+1556");
	assert_int_equal(count_kind(ACT_OFFER), 0);   /* a2 busy but staffed: waits */
	assert_int_equal(cview(c).queue, q);
	assert_true(engine_agent_pause(e, now, q, a2));
	drain();
	assert_string_equal(find_event(EV_CALL_ESCALATE)->reason, "noskill");
	assert_int_equal(cview(c).queue, spill);
}

static void test_timeout_if_empty_waiting(void **state)
{
	eng_id q = queue("te", STRAT_ROUND_ROBIN), spill = queue("tex", STRAT_ROUND_ROBIN);
	eng_id a1 = agent("1001", q), c;

	(void)state;
	qset(q, "escalation_queue", "tex");
	set_conf(q, set_if_empty, 1);
	assert_true(engine_agent_away(e, now, a1, "x"));
	drain();
	c = enter(q);                                  /* away is not empty: waits */
	assert_int_equal(cview(c).queue, q);
	assert_true(engine_agent_logout(e, now, a1));
	drain();
	assert_string_equal(find_event(EV_CALL_ESCALATE)->reason, "empty");
	assert_int_equal(cview(c).queue, spill);
	assert_int_equal(qstats(q).missed, 1);
}

/* The queue an escalated call joins counts it offered and measures its wait
 * from its own entry; the wait from the first entry stays in the call view. */
static void test_escalated_waits_count_here(void **state)
{
	eng_id a = queue("wa", STRAT_ROUND_ROBIN), b = queue("wb", STRAT_ROUND_ROBIN), c, m;
	eng_ms t0 = now;

	(void)state;
	qset(a, "escalation_queue", "wb");
	set_conf(a, set_timeout, 10);
	c = enter(a);
	tick_to(t0 + 10000);
	assert_int_equal(cview(c).queue, b);
	assert_string_equal(acts[event_index(EV_CALL_ESCALATE) + 1].reason, "escalated");
	now = t0 + 15000;
	m = agent("1001", b);
	assert_int_equal(offered_to(), m);
	answer();
	assert_int_equal(find_event(EV_CALL_ANSWER)->value, 5000);
	assert_int_equal(qstats(b).avg_wait_ms, 5000);
	assert_int_equal(qstats(b).longest_wait_ms, 5000);
	assert_int_equal(cview(c).wait_ms, 15000);
	assert_int_equal(cview(c).queue_wait_ms, 5000);
}

static void test_dids(void **state)
{
	struct eng_queue_conf c = conf("dd", "7000", STRAT_ROUND_ROBIN), d;
	eng_id q;

	(void)state;
	snprintf(c.dids, sizeof(c.dids), "7001,7002");
	q = engine_queue_add(e, now, &c);
	assert_true(q != 0);
	assert_int_equal(engine_queue_by_number(e, "7000"), q);
	assert_int_equal(engine_queue_by_number(e, "7002"), q);
	assert_int_equal(engine_queue_by_number(e, "700"), 0);
	d = conf("de", "7002", STRAT_ROUND_ROBIN);      /* taken as a did */
	assert_int_equal(engine_queue_add(e, now, &d), 0);
	d = conf("de", "7003", STRAT_ROUND_ROBIN);
	snprintf(d.dids, sizeof(d.dids), "7000");       /* taken as a number */
	assert_int_equal(engine_queue_add(e, now, &d), 0);
	snprintf(d.dids, sizeof(d.dids), "7004");
	assert_true(engine_queue_add(e, now, &d) != 0);
}

static void test_skill_changes_apply(void **state)
{
	eng_id q = queue("sc", STRAT_SKILLS_STRICT), a1 = agent("1001", q), a2 = agent("1002", q), c;
	const char *names[4];
	struct eng_skill_rule rules[ENG_SKILL_RULES_MAX], bad;
	bool all = true;
	size_t n = 0;
	char err[128];

	(void)state;
	skill("us", "caller_number starts_with +1");
	skill("de", "caller_number starts_with +49");
	engine_skill_assign(e, a2, "de", true);
	c = enter_from(q, "+1555");
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_non_null(find_event(EV_CALL_TRANSFER));   /* nobody has us: hung up */
	engine_skill_assign(e, a2, "us", true);
	c = enter_from(q, "+1555");
	answer();
	c = enter_from(q, "+1556");
	assert_int_equal(count_kind(ACT_OFFER), 0);      /* waits for a2 */
	/* Giving a1 the skill takes effect at the next dispatch, due now. */
	assert_true(engine_skill_assign(e, a1, "us", true));
	assert_int_equal(engine_next_deadline(e), 0);
	tick_to(now);
	assert_int_equal(offered_to(), a1);
	assert_int_equal(the_offer()->call, c);
	/* Names, rules, deletion. */
	assert_int_equal(engine_skill_names(e, names, 4), 2);
	assert_string_equal(names[0], "us");
	assert_string_equal(names[1], "de");
	assert_true(engine_skill_get(e, "us", &all, rules, &n));
	assert_false(all);
	assert_int_equal(n, 1);
	assert_string_equal(rules[0].value, "+1");
	assert_true(engine_skill_del(e, "us"));
	assert_false(engine_member_has_skill(e, a1, "us"));
	assert_false(engine_skill_del(e, "us"));
	assert_int_equal(engine_skill_names(e, names, 4), 1);
	assert_false(engine_skill_assign(e, a1, "us", true));
	/* Bad name or pattern: refused, nothing changes. */
	assert_int_equal(skill_rule_parse("caller_name matches (x", &bad, err, sizeof(err)), 0);
	assert_int_equal(engine_skill_set(e, "de", false, &bad, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "rule 1: PCRE2 error at offset 2: missing closing parenthesis");
	assert_true(engine_skill_get(e, "de", NULL, rules, &n));
	assert_string_equal(rules[0].value, "+49");
	assert_int_equal(engine_skill_set(e, "no good", false, rules, 1, err, sizeof(err)), -1);
}

/* ---- agent rules ---- */

static void test_away_during_call_applies_after(void **state)
{
	eng_id q = queue("pa", STRAT_ROUND_ROBIN), a1 = agent("1001", q), c;

	(void)state;
	qset(q, "recovery", "5");
	c = enter(q);
	answer();
	assert_true(engine_agent_away(e, now, a1, "lunch"));
	drain();
	assert_int_equal(nacts, 0);
	assert_true(mview(a1).ready);
	now += 1000;
	engine_talk_end(e, now, c);
	drain();
	assert_true(event_index(EV_CALL_END) < event_index(EV_AGENT_AWAY));
	assert_string_equal(find_event(EV_AGENT_AWAY)->reason, "lunch");
	assert_false(mview(a1).ready);
	assert_string_equal(mview(a1).away_reason, "lunch");
	assert_int_equal(mview(a1).activity, ACTV_RECOVERY);
	/* In recovery a change applies at once. */
	assert_true(engine_agent_ready(e, now, a1));
	drain();
	assert_non_null(find_event(EV_AGENT_READY));
	/* Ready during the call cancels a pending away. */
	tick_to(now + 5000);
	c = enter(q);
	answer();
	engine_agent_away(e, now, a1, "x");
	engine_agent_ready(e, now, a1);
	engine_talk_end(e, now, c);
	drain();
	assert_int_equal(count_event(EV_AGENT_AWAY), 0);
	assert_true(mview(a1).ready);
}

static void test_missed_display_4s(void **state)
{
	eng_id q = queue("md", STRAT_ROUND_ROBIN), a1 = agent("1001", q);
	eng_ms t0 = now;

	(void)state;
	enter(q);
	tick_to(t0 + 15000);
	assert_true(mview(a1).missed);
	now = t0 + 18999;
	assert_true(mview(a1).missed);
	now = t0 + 19000;
	assert_false(mview(a1).missed);
}

static void test_recovery_extend_multi(void **state)
{
	eng_id q = queue("rm", STRAT_ROUND_ROBIN), a1 = agent("1001", q), c;
	eng_ms t;

	(void)state;
	qset(q, "recovery", "10");
	qset(q, "recovery_extend", "5");
	qset(q, "recovery_multi", "yes");
	c = enter(q);
	answer();
	t = now;
	engine_talk_end(e, now, c);
	drain();
	assert_true(engine_agent_extend(e, now, a1));
	assert_true(engine_agent_extend(e, now, a1));
	assert_true(engine_agent_extend(e, now, a1));
	assert_int_equal(mview(a1).recovery_left_ms, 25000);
	assert_int_equal(engine_next_deadline(e), t + 25000);
	tick_to(t + 24999);
	assert_int_equal(mview(a1).activity, ACTV_RECOVERY);
	tick_to(t + 25000);
	assert_int_equal(mview(a1).activity, ACTV_IDLE);
	qset(q, "recovery_extend", "0");
	c = enter(q);
	answer();
	engine_talk_end(e, now, c);
	drain();
	assert_false(engine_agent_extend(e, now, a1));   /* extension not allowed */
}

/* ---- wait estimates and service level ---- */

/* Answers every offer of the last drain. */
static void answer_all(void)
{
	size_t n = nacts;
	eng_id offers[64], k = 0;

	for (size_t i = 0; i < n; i++)
		if (acts[i].kind == ACT_OFFER)
			offers[k++] = acts[i].offer;
	for (size_t i = 0; i < k; i++)
		assert_true(engine_offer_answered(e, now, offers[i]));
	drain();
}

/* 3 agents, 33 calls at once, each talk 60 s, no recovery: the backlog
 * drains 3 calls a minute, so the last caller waits 600 s. last5 only knows
 * recent answers (0 s, then 36 s, then 96 s); throughput sees the backlog
 * (1200 s with the 120 s default handle time, then exactly the 540 s and 480 s
 * that remain once real handle times are known). */
static void test_wait_estimators_backlog(void **state)
{
	eng_id q = queue("we", STRAT_ROUND_ROBIN), c[33], talking[3];
	eng_ms t0 = now;
	struct eng_queue_conf cf;
	unsigned last5[3], thr[3];

	(void)state;
	agent("1001", q);
	agent("1002", q);
	agent("1003", q);
	qset(q, "timeout", "7200");
	nacts = 0;
	for (int i = 0; i < 33; i++) {
		struct eng_call_info ci = { "+1", "", "", "" };
		size_t before = nacts;

		c[i] = engine_call_enter(e, now, q, &ci);
		while (engine_next_action(e, &acts[nacts]))
			nacts++;
		(void)before;
	}
	answer_all();
	for (int k = 0; k < 3; k++)
		talking[k] = c[k];
	for (int round = 0; round < 3; round++) {
		cf = qconf_of(q);
		cf.wait_estimate = WAIT_LAST5;
		update(q, &cf);
		last5[round] = engine_wait_estimate(e, now, c[32]);
		cf.wait_estimate = WAIT_THROUGHPUT;
		update(q, &cf);
		thr[round] = engine_wait_estimate(e, now, c[32]);
		now = t0 + (round + 1) * 60000;
		for (int k = 0; k < 3; k++)
			engine_talk_end(e, now, talking[k]);
		drain();
		assert_int_equal(count_kind(ACT_OFFER), 3);
		for (int k = 0, j = 0; k < (int)nacts; k++)
			if (acts[k].kind == ACT_OFFER)
				talking[j++] = acts[k].call;
		answer_all();
	}
	assert_int_equal(last5[0], 0);
	assert_int_equal(last5[1], 36);
	assert_int_equal(last5[2], 96);
	assert_int_equal(thr[0], 1200);
	assert_int_equal(thr[1], 540);
	assert_int_equal(thr[2], 480);
	assert_int_equal(cview(c[32]).position, 21);
	/* Service level (20 s): 3 of the 12 answers were within it. */
	assert_int_equal(qstats(q).answered_in_sl, 3);
	assert_int_equal(qstats(q).service_level_pct, 25);
	assert_int_equal(engine_wait_estimate(e, now, talking[0]), 0);
	assert_int_equal(engine_wait_estimate(e, now, 9999), 0);
}

/* ---- soak ---- */

struct soak_call {
	eng_id id;
	unsigned releases;
};

#define SOAK_CALLS 6000
#define SOAK_OFFERS 40000

static struct soak_call soak_calls[SOAK_CALLS];
static size_t soak_ncalls;
static unsigned char offer_live[SOAK_OFFERS];  /* 1 = ringing per the actions seen */

static struct soak_call *soak_find(eng_id id)
{
	for (size_t i = 0; i < soak_ncalls; i++)
		if (soak_calls[i].id == id)
			return &soak_calls[i];
	return NULL;
}

static unsigned long ev_count[EV_CALL_BUMP + 1];
static unsigned long operator_drops, limit_refusals;

/* Applies the drained actions to the test's view of the world and checks
 * that each action makes sense against it. */
static void soak_account(void)
{
	for (size_t i = 0; i < nacts; i++) {
		const struct eng_action *a = &acts[i];
		struct soak_call *c;

		assert_true(a->at == now);
		switch (a->kind) {
		case ACT_OFFER:
			assert_true(a->offer < SOAK_OFFERS);
			assert_int_equal(offer_live[a->offer], 0);
			offer_live[a->offer] = 1;
			break;
		case ACT_CANCEL_OFFER:
		case ACT_BRIDGE:
			assert_int_equal(offer_live[a->offer], 1);
			offer_live[a->offer] = 2;
			break;
		case ACT_RELEASE:
			c = soak_find(a->call);
			if (!c) {
				assert_int_equal(a->release, REL_REFUSED);
				assert_true(soak_ncalls < SOAK_CALLS);
				c = &soak_calls[soak_ncalls++];
				c->id = a->call;
			}
			c->releases++;
			break;
		case ACT_EVENT:
			ev_count[a->event]++;
			if (a->event == EV_CALL_ABANDON && strcmp(a->reason, "operator") == 0)
				operator_drops++;
			if (a->event == EV_CALL_REFUSED && strcmp(a->reason, "unknown") != 0)
				limit_refusals++;
			break;
		case ACT_DIAL_CALLBACK:
			fail_msg("no callbacks in the soak");
			break;
		}
	}
}

static eng_id soak_live_offer(unsigned pick)
{
	unsigned n = 0;

	for (eng_id o = 1; o < SOAK_OFFERS; o++)
		n += offer_live[o] == 1;
	if (n == 0)
		return 0;
	pick %= n;
	for (eng_id o = 1; o < SOAK_OFFERS; o++)
		if (offer_live[o] == 1 && pick-- == 0)
			return o;
	return 0;
}

static void test_soak_one_release_per_call(void **state)
{
	eng_id q[2], m[6];
	struct eng_queue_conf cf;
	unsigned long entered = 0, handled = 0, abandoned = 0, missed = 0;
	unsigned long misses_seen, timeouts_seen;

	(void)state;
	srand(4242);
	engine_seed(e, 99);
	q[0] = queue("s0", STRAT_ROUND_ROBIN);
	q[1] = queue("s1", STRAT_LEAST_CALLS);
	cf = *engine_queue_conf(e, q[0]);
	cf.call_limit = 4;
	cf.timeout_s = 60;
	cf.connect_timeout_s = 5;
	cf.recovery_s = 3;
	cf.force_away = true;
	assert_true(engine_queue_update(e, now, q[0], &cf));
	cf = *engine_queue_conf(e, q[1]);
	cf.timeout_s = 40;
	cf.connect_timeout_s = 7;
	cf.recovery_s = 2;
	cf.timeout_if_empty = true;
	assert_true(engine_queue_update(e, now, q[1], &cf));
	for (int i = 0; i < 6; i++) {
		char login[16];

		snprintf(login, sizeof(login), "%d", 2000 + i);
		m[i] = engine_member_add(e, login, login, ROLE_AGENT);
		engine_assign(e, now, q[i % 2], m[i], false, true);
		if (i < 4)
			engine_assign(e, now, q[(i + 1) % 2], m[i], false, i % 3 != 0);
		engine_agent_login(e, now, m[i]);
	}
	drain();

	for (int step = 0; step < 20000 && soak_ncalls < SOAK_CALLS - 10; step++) {
		int r = rand() % 100;
		eng_id mm = m[rand() % 6], qq = q[rand() % 2];

		if (r < 30) {
			now += rand() % 4000;
			engine_tick(e, now);
		} else if (r < 45) {
			eng_id c = engine_call_enter(e, now, qq, NULL);

			if (c) {
				soak_calls[soak_ncalls].id = c;
				soak_calls[soak_ncalls++].releases = 0;
			}
		} else if (r < 57) {
			eng_id o = soak_live_offer((unsigned)rand());

			if (o)
				assert_true(engine_offer_answered(e, now, o));
		} else if (r < 62) {
			eng_id o = soak_live_offer((unsigned)rand());

			if (o) {
				assert_true(engine_offer_failed(e, now, o, "rejected"));
				offer_live[o] = 2;
			}
		} else if (r < 64) {
			eng_id o = 1 + (eng_id)rand() % SOAK_OFFERS;

			if (o < SOAK_OFFERS && offer_live[o] == 2)
				assert_false(engine_offer_answered(e, now, o));
		} else if (r < 80) {
			struct eng_call_view v[64];
			size_t n = engine_call_list(e, now, qq, v, 64);
			eng_id c = n ? v[(size_t)rand() % n].id : (eng_id)(1 + rand() % 50);

			switch (rand() % 4) {
			case 0: engine_call_hangup(e, now, c); break;
			case 1: engine_call_drop(e, now, c); break;
			default: engine_talk_end(e, now, c); break;
			}
		} else {
			switch (rand() % 10) {
			case 0: engine_agent_logout(e, now, mm); break;
			case 1: engine_agent_away(e, now, mm, "x"); break;
			case 2: engine_agent_pause(e, now, rand() % 2 ? qq : 0, mm); break;
			case 3: case 4: engine_agent_login(e, now, mm); break;
			case 5: case 6: engine_agent_ready(e, now, mm); break;
			case 7: case 8: engine_agent_resume(e, now, rand() % 2 ? qq : 0, mm); break;
			default: engine_agent_extend(e, now, mm); break;
			}
		}
		drain();
		soak_account();
	}

	/* Drain: end every talk, then let every deadline pass. */
	for (size_t i = 0; i < soak_ncalls; i++)
		engine_talk_end(e, now, soak_calls[i].id);
	drain();
	soak_account();
	for (int i = 0; i < 6; i++)
		engine_agent_logout(e, now, m[i]);
	drain();
	soak_account();
	while (engine_next_deadline(e) != ENG_NEVER) {
		now = engine_next_deadline(e);
		engine_tick(e, now);
		drain();
		soak_account();
	}

	for (size_t i = 0; i < soak_ncalls; i++)
		assert_int_equal(soak_calls[i].releases, 1);
	for (eng_id o = 1; o < SOAK_OFFERS; o++)
		assert_true(offer_live[o] != 1);
	for (int i = 0; i < 6; i++) {
		struct eng_member_view v = mview(m[i]);

		assert_int_equal(v.activity, ACTV_IDLE);
		assert_int_equal(v.call, 0);
	}
	for (int i = 0; i < 2; i++) {
		struct eng_queue_stats s = qstats(q[i]);

		assert_int_equal(s.waiting, 0);
		assert_int_equal(s.busy, 0);
		handled += s.handled;
		abandoned += s.abandoned;
		missed += s.missed;
	}
	entered = ev_count[EV_CALL_ENTER] + ev_count[EV_CALL_REFUSED];
	misses_seen = ev_count[EV_CALL_MISS];
	timeouts_seen = ev_count[EV_CALL_TIMEOUT];
	/* Every call that came in left exactly one way: without escalation, the
	 * calls s1 (timeout_if_empty) had waiting when its last member logged
	 * out were hung up (EV_CALL_TRANSFER). */
	assert_int_equal(entered, soak_ncalls);
	assert_int_equal(entered, ev_count[EV_CALL_END] + ev_count[EV_CALL_ABANDON] +
	                 timeouts_seen + ev_count[EV_CALL_REFUSED] + ev_count[EV_CALL_TRANSFER]);
	assert_int_equal(handled, ev_count[EV_CALL_ANSWER]);
	assert_int_equal(handled, ev_count[EV_CALL_END]);
	assert_int_equal(abandoned, ev_count[EV_CALL_ABANDON] - operator_drops);
	assert_int_equal(missed, misses_seen + timeouts_seen + limit_refusals +
	                 ev_count[EV_CALL_TRANSFER]);
	/* The soak did exercise every path. */
	assert_true(ev_count[EV_CALL_END] > 50);
	assert_true(ev_count[EV_CALL_ABANDON] > 50);
	assert_true(timeouts_seen > 10);
	assert_true(misses_seen > 50);
	assert_true(ev_count[EV_CALL_REFUSED] > 10);
	assert_true(operator_drops > 10);
	assert_true(ev_count[EV_RECOVERY_START] > 50);
}

/* ---- transfers by the agent (REFER) ---- */

static void test_agent_transfer(void **state)
{
	eng_id q = queue("tr", STRAT_ROUND_ROBIN), a1 = agent("1001", q), a2, c;
	const struct eng_action *rel;
	struct eng_queue_stats st;

	(void)state;
	qset(q, "recovery", "5");
	c = enter(q);
	/* Not talking yet: no transfer. */
	assert_false(engine_call_transfer(e, now, c, "member:1002"));
	answer();
	assert_false(engine_call_transfer(e, now, c, ""));
	assert_false(engine_call_transfer(e, now, c + 100, "member:1002"));
	drain();
	assert_int_equal(nacts, 0);
	now += 3000;
	assert_true(engine_call_transfer(e, now, c, "member:1002"));
	drain();
	/* Ended for the agent, then the transfer, then the one release. */
	assert_true(event_index(EV_CALL_END) < event_index(EV_CALL_TRANSFER));
	assert_int_equal(find_event(EV_CALL_END)->value, 3000);
	assert_int_equal(find_event(EV_CALL_END)->member, a1);
	assert_string_equal(find_event(EV_CALL_END)->reason, "transfer");
	assert_string_equal(find_event(EV_CALL_TRANSFER)->reason, "member:1002");
	assert_int_equal(find_event(EV_CALL_TRANSFER)->call, c);
	assert_int_equal(count_kind(ACT_RELEASE), 1);
	rel = find_kind(ACT_RELEASE);
	assert_int_equal(rel->release, REL_TRANSFER);
	assert_string_equal(rel->dest, "member:1002");
	assert_int_equal(rel->call, c);
	assert_int_equal(rel->member, a1);
	assert_int_equal(mview(a1).activity, ACTV_RECOVERY);
	assert_non_null(find_event(EV_RECOVERY_START));
	st = qstats(q);
	assert_int_equal(st.handled, 1);
	assert_int_equal(st.missed, 0);
	assert_int_equal(st.waiting, 0);
	/* The call is gone from the engine. */
	assert_false(engine_talk_end(e, now, c));
	assert_false(engine_call_transfer(e, now, c, "member:1002"));
	/* After recovery the agent takes the next call; a transfer to a queue is
	 * released the same way (the adapter makes the new entry). */
	a2 = agent("1002", q);
	tick_to(now + 5000);
	c = enter(q);
	assert_int_equal(answer(), a2);
	assert_true(engine_call_transfer(e, now, c, "queue:tr"));
	drain();
	assert_string_equal(find_kind(ACT_RELEASE)->dest, "queue:tr");
	assert_int_equal(qstats(q).waiting, 0);
}

/* ---- callbacks ---- */

static void set_callbacks(struct eng_queue_conf *c, unsigned retries)
{
	snprintf(c->callback_gateway, sizeof(c->callback_gateway), "prov");
	c->callback_retries = retries;
	c->callback_retry_delay_s = 60;
}

/* Three callers wait; the middle one takes a callback and hangs up. It keeps
 * its place: counted in positions and `waiting`, offered second by the same
 * strategy, and answered only when the customer is reached. */
static void test_callback_keeps_place(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, a, b, c;
	(void)state;
	set_conf(q, set_callbacks, 2);
	m = agent("1001", q);
	assert_true(engine_agent_away(e, now, m, "lunch"));
	drain();
	a = enter_from(q, "+15550001");
	now += 1000;
	b = enter_from(q, "+15550002");
	now += 1000;
	c = enter_from(q, "+15550003");
	now += 1000;
	assert_true(engine_call_callback(e, now, b, "5550002"));
	drain();
	assert_int_equal(find_event(EV_CALLBACK_REQUEST)->value, 2);
	assert_string_equal(find_event(EV_CALLBACK_REQUEST)->reason, "5550002");
	assert_true(engine_call_hangup(e, now, b));     /* the caller's leg ends: no abandon */
	drain();
	assert_int_equal(count_event(EV_CALL_ABANDON), 0);
	assert_int_equal(count_kind(ACT_RELEASE), 0);
	assert_int_equal(cview(b).position, 2);
	assert_true(cview(b).callback);
	assert_int_equal(cview(c).position, 3);
	assert_int_equal(qstats(q).waiting, 3);
	assert_false(engine_callback_offerable(e, now, b));
	assert_false(engine_call_drop(e, now, b));      /* call.hangup is not for callbacks */

	assert_true(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(the_offer()->call, a);
	answer();
	assert_true(engine_talk_end(e, now, a));
	drain();
	assert_int_equal(the_offer()->call, b);         /* served second */
	answer();
	assert_int_equal(count_kind(ACT_BRIDGE), 1);
	assert_int_equal(find_event(EV_CALLBACK_ATTEMPT)->value, 1);
	assert_int_equal(count_event(EV_CALL_ANSWER), 0);
	assert_true(cview(b).dialing);
	assert_int_equal(qstats(q).waiting, 2);
	assert_int_equal(qstats(q).busy, 1);
	now += 5000;
	assert_true(engine_callback_reached(e, now, b));
	drain();
	assert_true(event_index(EV_CALL_ANSWER) < event_index(EV_CALLBACK_REACHED));
	assert_int_equal(find_event(EV_CALL_ANSWER)->value, now - (1000000 + 1000));
	assert_int_equal(qstats(q).handled, 2);
	assert_true(engine_talk_end(e, now, b));
	drain();
	assert_int_equal(the_offer()->call, c);
}

/* The offer of callback `call` (the single ACT_OFFER of the last drain), answered. */
static eng_id answer_callback(eng_id call)
{
	assert_int_equal(the_offer()->call, call);
	return answer();
}

/* A busy customer: the agent is free at once, the callback waits its retry
 * delay at its place, and after the retries it is given up. */
static void test_callback_retries_spaced(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, b;
	(void)state;
	set_conf(q, set_callbacks, 1);
	m = agent("1001", q);
	assert_true(engine_agent_away(e, now, m, "x"));
	b = enter_from(q, "+15550002");
	assert_true(engine_call_callback(e, now, b, "5550002"));
	assert_true(engine_agent_ready(e, now, m));
	drain();
	answer_callback(b);
	assert_true(engine_callback_failed(e, now, b, "busy"));
	drain();
	assert_int_equal(find_event(EV_CALLBACK_RETRY)->value, 60000);
	assert_string_equal(find_event(EV_CALLBACK_RETRY)->reason, "busy");
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(mview(m).activity, ACTV_IDLE);
	assert_true(cview(b).held);
	assert_int_equal(cview(b).position, 1);
	assert_int_equal(qstats(q).waiting, 1);
	assert_int_equal(engine_next_deadline(e), now + 60000);
	tick_to(now + 59999);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(now + 1);
	answer_callback(b);
	assert_int_equal(find_event(EV_CALLBACK_ATTEMPT)->value, 2);
	assert_true(engine_callback_failed(e, now, b, "noanswer"));
	drain();
	assert_int_equal(find_event(EV_CALLBACK_FAILED)->value, 2);
	assert_string_equal(find_event(EV_CALLBACK_FAILED)->reason, "noanswer");
	assert_int_equal(find_kind(ACT_RELEASE)->release, REL_HANGUP);
	assert_false(engine_call_view(e, now, b, &(struct eng_call_view){ 0 }));
	assert_int_equal(qstats(q).waiting, 0);
}

static void set_hours(struct eng_queue_conf *c, unsigned drop)
{
	c->callback_open_min = 8 * 60;
	c->callback_close_min = 18 * 60;
	c->callback_drop = drop;
}

/* The hours, with the engine's clock: now is 20:00 local. Kept: held until
 * 08:00, then offered. Dropped: given up with a record. */
static void test_callback_hours(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, b, d;
	eng_ms eight = now + 12LL * 3600 * 1000;
	(void)state;
	engine_set_day_origin(e, now - 20LL * 3600 * 1000);
	set_conf(q, set_callbacks, 2);
	set_conf(q, set_hours, 0);
	m = agent("1001", q);
	assert_true(engine_agent_away(e, now, m, "x"));
	b = enter_from(q, "+15550002");
	d = enter_from(q, "+15550004");
	assert_true(engine_call_callback(e, now, b, "5550002"));
	assert_true(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(the_offer()->call, d);         /* the live caller behind it */
	assert_true(cview(b).held);
	assert_int_equal(cview(b).position, 1);
	assert_true(engine_offer_failed(e, now, the_offer()->offer, "local"));
	assert_true(engine_call_hangup(e, now, d));
	drain();
	tick_to(now + ENG_RETRY_LOCAL_MS);              /* the agent's rest after "local" */
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_int_equal(engine_next_deadline(e), eight);
	tick_to(eight - 1);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	tick_to(eight);
	assert_int_equal(the_offer()->call, b);

	/* With callback_drop, a turn outside the hours gives the callback up, and
	 * none is offered to a caller while they are closed. */
	answer_callback(b);
	assert_true(engine_callback_reached(e, now, b));
	assert_true(engine_talk_end(e, now, b));
	drain();
	set_conf(q, set_hours, 1);
	now = eight + 11LL * 3600 * 1000;               /* 19:00 */
	assert_true(engine_agent_away(e, now, m, "x"));
	b = enter_from(q, "+15550002");
	assert_false(engine_callback_offerable(e, now, b));
	assert_true(engine_call_callback(e, now, b, "5550002"));
	assert_true(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_string_equal(find_event(EV_CALLBACK_FAILED)->reason, "window");
	assert_int_equal(find_kind(ACT_RELEASE)->call, b);
}

/* Never two callbacks for one number in one queue; managers move, place now
 * and cancel. */
static void test_callback_manage(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, a, b, c;
	(void)state;
	set_conf(q, set_callbacks, 2);
	m = agent("1001", q);
	assert_true(engine_agent_away(e, now, m, "x"));
	drain();
	a = enter_from(q, "+15550001");
	b = enter_from(q, "+15550002");
	c = enter_from(q, "+15550003");
	assert_false(engine_call_callback(e, now, a, ""));
	assert_true(engine_call_callback(e, now, b, "5550009"));
	assert_false(engine_call_callback(e, now, c, "5550009"));
	assert_true(engine_call_callback(e, now, c, "5550003"));
	drain();
	assert_false(engine_callback_move(e, now, a, 1));   /* a live caller */
	assert_true(engine_callback_move(e, now, c, 1));
	drain();
	assert_int_equal(find_event(EV_CALLBACK_MOVE)->value, 1);
	assert_int_equal(cview(c).position, 1);
	assert_int_equal(cview(a).position, 2);
	assert_int_equal(cview(b).position, 3);
	assert_true(engine_callback_move(e, now, c, 9));
	assert_int_equal(cview(c).position, 3);
	assert_true(engine_callback_now(e, now, b));
	assert_true(engine_callback_cancel(e, now, c));
	drain();
	assert_string_equal(find_event(EV_CALLBACK_FAILED)->reason, "cancelled");
	assert_int_equal(find_kind(ACT_RELEASE)->call, c);
	assert_int_equal(cview(b).position, 1);
	assert_true(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(the_offer()->call, b);
	/* Cancelled while ringing: the offer is withdrawn, no miss. */
	assert_true(engine_callback_cancel(e, now, b));
	drain();
	assert_int_equal(count_kind(ACT_CANCEL_OFFER), 1);
	assert_int_equal(count_event(EV_CALL_MISS), 0);
	assert_int_equal(the_offer()->call, a);
}

/* After a restart: restored in order with their entry times and attempts,
 * without events; the same number is still refused. */
static void test_callback_restore(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), b, c;
	struct eng_call_info ci = { "+15550002", "Caller", "6000", "" };
	(void)state;
	set_conf(q, set_callbacks, 2);
	b = engine_callback_restore(e, now, q, &ci, "5550002", now - 600000, 1);
	c = engine_callback_restore(e, now, q, &ci, "5550003", now - 300000, 0);
	assert_int_equal(engine_callback_restore(e, now, q, &ci, "5550002", now, 0), 0);
	assert_int_equal(drain(), 0);
	assert_int_equal(cview(b).position, 1);
	assert_int_equal(cview(b).wait_ms, 600000);
	assert_int_equal(cview(b).attempts, 1);
	assert_int_equal(cview(c).position, 2);
	assert_int_equal(qstats(q).waiting, 2);
	agent("1001", q);   /* drains the offer made at login */
	assert_int_equal(cview(b).member, engine_member_find(e, "1001"));
}

static void set_customer_first(struct eng_queue_conf *c, unsigned retries)
{
	set_callbacks(c, retries);
	c->callback_customer_first = true;
}

/* Customer first: the customer is dialed when the callback's turn comes with
 * an agent available, not before, and no agent is held for it; answered, it
 * waits at the front of its line and is offered like any caller. */
static void test_callback_customer_first_turn(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, m2, a, b, c, d;
	(void)state;
	set_conf(q, set_customer_first, 2);
	m = agent("1001", q);
	m2 = agent("1002", q);
	assert_true(engine_agent_away(e, now, m, "x"));
	assert_true(engine_agent_away(e, now, m2, "x"));
	drain();
	a = enter_from(q, "+15550001");
	b = enter_from(q, "+15550002");
	c = enter_from(q, "+15550003");
	d = enter_from(q, "+15550004");
	assert_true(engine_call_callback(e, now, b, "5550002"));
	assert_true(engine_call_hangup(e, now, b));
	drain();
	assert_int_equal(count_kind(ACT_DIAL_CALLBACK), 0);     /* nobody free */
	assert_true(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(the_offer()->call, a);
	assert_int_equal(count_kind(ACT_DIAL_CALLBACK), 0);     /* not its turn */
	answer();
	assert_true(engine_talk_end(e, now, a));
	drain();
	assert_int_equal(find_kind(ACT_DIAL_CALLBACK)->call, b);
	assert_int_equal(find_kind(ACT_DIAL_CALLBACK)->queue, q);
	assert_int_equal(find_event(EV_CALLBACK_ATTEMPT)->value, 1);
	assert_int_equal(find_event(EV_CALLBACK_ATTEMPT)->member, 0);
	assert_int_equal(the_offer()->call, c);         /* no agent held for b */
	assert_true(cview(b).dialing);
	assert_int_equal(cview(b).member, 0);
	assert_false(engine_callback_reached(e, now, b));       /* agent first's */
	now += 4000;
	assert_true(engine_callback_connected(e, now, b));
	drain();
	assert_int_equal(find_event(EV_CALLBACK_REACHED)->call, b);
	assert_int_equal(count_kind(ACT_OFFER), 0);     /* m still rings c */
	assert_false(cview(b).callback);
	assert_int_equal(cview(b).position, 1);         /* ahead of c and d */
	assert_int_equal(cview(d).position, 3);
	assert_false(engine_callback_connected(e, now, b));
	assert_true(engine_agent_ready(e, now, m2));
	drain();
	assert_int_equal(the_offer()->call, b);
	assert_int_equal(the_offer()->member, m2);
	answer();
	assert_int_equal(find_event(EV_CALL_ANSWER)->call, b);
	assert_int_equal(qstats(q).handled, 2);
}

static void set_customer_first_throughput(struct eng_queue_conf *c, unsigned retries)
{
	set_customer_first(c, retries);
	c->wait_estimate = WAIT_THROUGHPUT;     /* a wait estimate from the first call */
}

/* Customer first: a reached callback waits again as a live caller, but is
 * not offered another callback (the hold-loop item stays silent, the key is
 * ignored), while the other callers still are. */
static void test_callback_reached_not_offered_again(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, a, b, c;
	(void)state;
	set_conf(q, set_customer_first_throughput, 2);
	m = agent("1001", q);
	assert_true(engine_agent_away(e, now, m, "x"));
	drain();
	a = enter_from(q, "+15550001");
	b = enter_from(q, "+15550002");
	c = enter_from(q, "+15550003");
	assert_true(engine_call_callback(e, now, b, "5550002"));
	assert_true(engine_call_hangup(e, now, b));
	assert_true(engine_agent_ready(e, now, m));
	drain();
	answer();
	now += 60000;
	assert_true(engine_talk_end(e, now, a));
	drain();
	assert_int_equal(find_kind(ACT_DIAL_CALLBACK)->call, b);
	assert_true(engine_callback_connected(e, now, b));
	drain();
	assert_int_equal(cview(b).position, 1);
	assert_true(engine_wait_estimate(e, now, b) > 0);
	assert_true(engine_callback_offerable(e, now, c));
	assert_false(engine_callback_offerable(e, now, b));
	assert_false(engine_call_callback(e, now, b, "5550002"));
	assert_false(engine_call_callback(e, now, b, "5550009"));
	drain();
	assert_int_equal(count_event(EV_CALLBACK_REQUEST), 0);
	assert_false(cview(b).callback);
	assert_int_equal(cview(b).position, 1);
}

/* Customer first: busy is retried after the delay, every time; the agent is
 * never involved in a failed dial. */
static void test_callback_customer_first_retry(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, b;
	(void)state;
	set_conf(q, set_customer_first, 1);
	m = agent("1001", q);
	assert_true(engine_agent_away(e, now, m, "x"));
	b = enter_from(q, "+15550002");
	assert_true(engine_call_callback(e, now, b, "5550002"));
	assert_true(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(find_kind(ACT_DIAL_CALLBACK)->call, b);
	assert_true(engine_callback_failed(e, now, b, "busy"));
	drain();
	assert_int_equal(find_event(EV_CALLBACK_RETRY)->value, 60000);
	assert_string_equal(find_event(EV_CALLBACK_RETRY)->reason, "busy");
	assert_true(cview(b).held);
	assert_int_equal(count_kind(ACT_DIAL_CALLBACK), 0);
	tick_to(now + 59999);
	assert_int_equal(count_kind(ACT_DIAL_CALLBACK), 0);
	tick_to(now + 1);
	assert_int_equal(find_kind(ACT_DIAL_CALLBACK)->call, b);
	assert_int_equal(find_event(EV_CALLBACK_ATTEMPT)->value, 2);
	assert_int_equal(count_kind(ACT_OFFER), 0);
	assert_true(engine_callback_failed(e, now, b, "noanswer"));
	drain();
	assert_string_equal(find_event(EV_CALLBACK_FAILED)->reason, "noanswer");
	assert_int_equal(find_kind(ACT_RELEASE)->call, b);
	assert_false(engine_call_view(e, now, b, &(struct eng_call_view){ 0 }));
}

/* Customer first: one number is never dialed twice at once, and one free
 * agent starts one dial, not one per callback in the line. */
static void test_callback_customer_first_one_dial(void **state)
{
	eng_id q = queue("cb", STRAT_ROUND_ROBIN), m, b, c, d;
	(void)state;
	set_conf(q, set_customer_first, 2);
	m = agent("1001", q);
	assert_true(engine_agent_away(e, now, m, "x"));
	b = enter_from(q, "+15550002");
	c = enter_from(q, "+15550003");
	d = enter_from(q, "+15550004");
	assert_true(engine_call_callback(e, now, b, "5550009"));
	assert_false(engine_call_callback(e, now, c, "5550009"));
	assert_true(engine_call_callback(e, now, d, "5550004"));
	assert_true(engine_agent_ready(e, now, m));
	drain();
	assert_int_equal(count_kind(ACT_DIAL_CALLBACK), 1);
	assert_int_equal(find_kind(ACT_DIAL_CALLBACK)->call, b);
	assert_int_equal(the_offer()->call, c);         /* the live caller gets m */
	answer();
	assert_true(engine_callback_cancel(e, now, b));
	drain();
	assert_int_equal(find_kind(ACT_RELEASE)->call, b);
	assert_true(engine_talk_end(e, now, c));
	drain();
	assert_int_equal(count_kind(ACT_DIAL_CALLBACK), 1);
	assert_int_equal(find_kind(ACT_DIAL_CALLBACK)->call, d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_rr_order_and_cursor),
		T(test_rr_miss_cursor_per_call),
		T(test_rr_only_one_available_rests),
		T(test_most_idle_selection),
		T(test_most_idle_retry_on_reject),
		T(test_most_idle_force_away_moves_on),
		T(test_least_calls_reset_at_login),
		T(test_least_calls_random_ties),
		T(test_least_offers),
		T(test_availability_rules),
		T(test_ringing_agent_gets_one_call),
		T(test_one_call_across_queues),
		T(test_pause_all_queues),
		T(test_pause_while_ringing_withdraws),
		T(test_logout_while_ringing),
		T(test_away_while_ringing),
		T(test_logout_while_on_call),
		T(test_offer_timeout_miss_next_agent),
		T(test_offer_failed_reason_and_no_cancel),
		T(test_answer_bridge_and_wait),
		T(test_abandon_waiting),
		T(test_abandon_ringing),
		T(test_end_says_who),
		T(test_drop_counts_nowhere),
		T(test_call_limit_refused),
		T(test_timeout_if_empty),
		T(test_queue_timeout_while_ringing),
		T(test_queue_timeout_waiting),
		T(test_recovery_then_offer_at_deadline),
		T(test_recovery_extend),
		T(test_late_tick_time_order),
		T(test_same_instant_timeout_before_miss),
		T(test_same_instant_across_calls),
		T(test_stats_counters),
		T(test_call_list_order),
		T(test_config_rules),
		T(test_unassign_while_ringing),
		T(test_names),
		T(test_escalation_queue_then_dest),
		T(test_escalation_dest_queue_and_plain_timeout),
		T(test_escalation_on_limit_and_empty),
		T(test_escalation_runtime_guard),
		T(test_escalation_loop_check),
		T(test_zero_out_destination),
		T(test_zero_out_to_queue),
		T(test_bump),
		T(test_pickup),
		T(test_pickup_missed_goes_back),
		T(test_retry_delay_per_reason),
		T(test_retry_call_keeps_place),
		T(test_retry_rest_in_every_queue),
		T(test_retry_local_failure),
		T(test_rr_skips_resting_agent),
		T(test_retry_rest_outlives_status),
		T(test_skills_strict),
		T(test_priorities),
		T(test_priority_step_widens),
		T(test_skills_strict_guide),
		T(test_timeout_if_empty_waiting),
		T(test_dids),
		T(test_escalated_waits_count_here),
		T(test_skills_loose),
		T(test_skill_changes_apply),
		T(test_away_during_call_applies_after),
		T(test_missed_display_4s),
		T(test_recovery_extend_multi),
		T(test_wait_estimators_backlog),
		T(test_soak_one_release_per_call),
		T(test_agent_transfer),
		T(test_callback_keeps_place),
		T(test_callback_retries_spaced),
		T(test_callback_hours),
		T(test_callback_manage),
		T(test_callback_restore),
		T(test_callback_customer_first_turn),
		T(test_callback_customer_first_retry),
		T(test_callback_reached_not_offered_again),
		T(test_callback_customer_first_one_dial),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

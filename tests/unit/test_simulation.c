/* test_simulation.c — the engine alone under tens of thousands of random
 * events, checked against a model built only from the actions it emits.
 *
 * Every event is followed by a drain; each action is applied to the model and
 * checked against it on the way (an offer must name an agent the model says
 * is available, unless the test just asked for a pickup), then the engine's
 * views are compared with the model: queue lines in order (FIFO, except
 * bumps), agents' activity and retry rests, and no timer overrun after a tick.
 *
 * Retry policy: some phones fail every offer at once, inside the drain that
 * carries the offer (as the SIP layer may), with every reason, "local"
 * included. The model keeps each agent's rest (from the miss and the queue's
 * retry delay for its reason, or ENG_RETRY_LOCAL_MS) and checks that no agent
 * is offered a queue call before its rest is over, and that one drain carries
 * at most SIM_DRAIN_OFFERS offers: a phone rung again in the same instant
 * would loop for ever and trip that cap. Time moves only by ticks, between
 * events, so rests end as they would in callqd. The whole run is made with
 * force_away off in every queue, then on in every queue.
 *
 * Priorities: members get random levels (1..4) and change them as they go;
 * most queues widen levels over time (priority_step). Every queue offer must
 * go to a level the call may use (the best staffed level of the queue plus
 * one per step waited there, from the model's own clock of the call's entry),
 * and never while a member at a better level is available for that call.
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

#define SIM_STEPS 40000
#define SIM_AGENTS 240
#define SIM_QUEUES 6
#define SIM_CALLS 40000
#define SIM_OFFERS 200000
#define SIM_SKILLS 3
#define SIM_BAD_EVERY 11                /* every 11th agent's phone fails every offer */
#define SIM_DRAIN_OFFERS (2 * SIM_AGENTS)

struct sim_member {
	bool logged, ready, recovering;
	bool active[SIM_QUEUES + 1];        /* assigned and active */
	bool skill[SIM_SKILLS];
	eng_id offer, call;
	eng_id ended;                       /* its last offer that is over */
	eng_ms rest_until;                  /* no queue offer before this */
	unsigned fails;                     /* bad phone: offers failed so far */
};

struct sim_call {
	unsigned releases;
	bool known, talking, gone;
	eng_id queue;
	eng_ms qentered;                    /* entry into its current queue */
	int skills;                         /* bit per skill the call matches */
};

struct sim_offer {
	eng_id call, member;
	eng_ms expires;
	unsigned char state;                /* 0 unused, 1 ringing, 2 over */
	bool cancelled;                     /* ended by ACT_CANCEL_OFFER */
	bool local;                         /* failed with "local": no miss */
};

struct sim_line {
	eng_id call[SIM_CALLS];
	size_t n;
};

static engine_t *e;
static eng_ms now;
static eng_ms settled;                  /* deadlines up to here are handled */
static struct sim_member mem[SIM_AGENTS + 1];
static struct sim_call calls[SIM_CALLS + 1];
static struct sim_offer offers[SIM_OFFERS];
static struct sim_line line[SIM_QUEUES + 1];
static bool paused[SIM_QUEUES + 1];
static eng_id pickup_call, pickup_member;
static unsigned long ev_count[EV_CALL_BUMP + 1], rel_count[REL_TRANSFER + 1];
static unsigned long local_fails, bad_fails, rest_returns, level_checks, wider_offers;
static unsigned long escalated_enters;      /* EV_CALL_ENTER of a call moved in */
static const char *const fail_reasons[] = { "rejected", "unreachable", "timeout", "local" };
static const char *const skill_names[SIM_SKILLS] = { "us", "fr", "vip" };

/* ---- the model's queue lines ---- */

static bool line_remove(eng_id q, eng_id c)
{
	struct sim_line *l = &line[q];

	for (size_t i = 0; i < l->n; i++) {
		if (l->call[i] == c) {
			memmove(&l->call[i], &l->call[i + 1], (l->n - i - 1) * sizeof(eng_id));
			l->n--;
			return true;
		}
	}
	return false;
}

static void line_add(eng_id q, eng_id c, bool front)
{
	struct sim_line *l = &line[q];

	assert_true(l->n < SIM_CALLS);
	if (front) {
		memmove(&l->call[1], &l->call[0], l->n * sizeof(eng_id));
		l->call[0] = c;
	} else {
		l->call[l->n] = c;
	}
	l->n++;
}

/* ---- applying actions ---- */

static int sim_call_skills(const struct eng_call_info *ci)
{
	return (strncmp(ci->caller_number, "+1", 2) == 0) |
	       (strncmp(ci->caller_number, "+33", 3) == 0) << 1 |
	       (strncmp(ci->caller_name, "VIP", 3) == 0) << 2;
}

static bool sim_has_skill(const struct sim_member *m, int skills)
{
	for (int s = 0; s < SIM_SKILLS; s++)
		if (m->skill[s] && (skills >> s & 1))
			return true;
	return false;
}

static bool sim_staffed(const struct sim_member *m, eng_id q)
{
	return m->logged && m->ready && m->active[q];
}

/* Could member k take call c of queue q right now, as far as the model knows?
 * Under a skills strategy only members having one of the call's skills
 * count: they are candidates whatever the queue's other members hold. A rest
 * counts as over only if it ended before the tick began: a tick handles its
 * deadlines one at a time, and an offer made at an earlier one rightly
 * ignores an agent whose rest ends at a later one. */
static bool sim_available(eng_id k, eng_id q, eng_id c)
{
	const struct sim_member *m = &mem[k];
	enum eng_strategy s = engine_queue_conf(e, q)->strategy;

	if (!sim_staffed(m, q) || m->recovering || m->offer || m->call || m->rest_until > settled ||
	    paused[q])
		return false;
	return (s != STRAT_SKILLS_STRICT && s != STRAT_SKILLS_LOOSE) || sim_has_skill(m, calls[c].skills);
}

/* The priority invariants for a queue offer to a->member. */
static void sim_check_level(const struct eng_action *a)
{
	unsigned lvl = engine_priority(e, a->queue, a->member), best = ENG_PRIO_LEVELS, allowed;
	unsigned step = engine_queue_conf(e, a->queue)->priority_step_s;

	assert_true(lvl >= 1 && lvl <= ENG_PRIO_LEVELS);
	for (eng_id k = 1; k <= SIM_AGENTS; k++) {
		unsigned l = engine_priority(e, a->queue, k);

		if (l && l < best && sim_staffed(&mem[k], a->queue))
			best = l;
	}
	allowed = step ? best + (unsigned)((a->at - calls[a->call].qentered) / ((eng_ms)step * 1000))
	               : ENG_PRIO_LEVELS;
	assert_true(lvl <= allowed);
	for (eng_id k = 1; k <= SIM_AGENTS; k++) {
		unsigned l = engine_priority(e, a->queue, k);

		if (k != a->member && l && l < lvl && sim_available(k, a->queue, a->call))
			fail_msg("call %u offered to %u at level %u while %u at level %u was available",
			         a->call, a->member, lvl, k, l);
	}
	level_checks++;
	wider_offers += lvl > best;
}

static void sim_offer(const struct eng_action *a)
{
	struct sim_member *m = &mem[a->member];
	bool pickup = a->call == pickup_call && a->member == pickup_member;

	assert_true(a->offer < SIM_OFFERS);
	assert_int_equal(offers[a->offer].state, 0);
	assert_int_equal(m->offer, 0);                 /* one offer ... */
	assert_int_equal(m->call, 0);                  /* ... or call at a time */
	assert_false(calls[a->call].talking || calls[a->call].gone);
	if (!pickup) {
		assert_true(m->logged && m->ready && !m->recovering);
		assert_true(m->active[a->queue] && !paused[a->queue]);
		if (a->queue == 5)      /* skills-strict */
			assert_true(sim_has_skill(m, calls[a->call].skills));
		/* The retry policy: not before the rest after a miss is over. */
		assert_true(a->at >= m->rest_until);
		sim_check_level(a);
		rest_returns += m->rest_until > 0;
		m->rest_until = 0;
	} else {
		m->rest_until = 0;      /* a pickup ends the rest */
		pickup_call = pickup_member = 0;
	}
	offers[a->offer] = (struct sim_offer){ a->call, a->member, a->at + a->timeout_ms, 1, false,
	                                       false };
	m->offer = a->offer;
}

static void sim_offer_over(eng_id offer)
{
	assert_int_equal(offers[offer].state, 1);
	offers[offer].state = 2;
	mem[offers[offer].member].offer = 0;
	mem[offers[offer].member].ended = offer;
}

/* The rest a miss starts: the queue's retry delay for the reason, from the
 * miss, or for a ring timeout from the expiry (a late tick rests the agent
 * as an on-time tick would have). */
static eng_ms sim_rest_end(const struct eng_action *a, const struct sim_offer *o)
{
	const struct eng_queue_conf *c = engine_queue_conf(e, a->queue);
	unsigned s = c->retry_unreachable_s;

	if (strcmp(a->reason, "rejected") == 0)
		s = c->retry_rejected_s;
	else if (strcmp(a->reason, "timeout") == 0)
		s = c->retry_timeout_s;
	return (o->cancelled ? o->expires : a->at) + (eng_ms)s * 1000;
}

/* Our side could not place the offer: no miss follows, but a short rest. */
static void sim_local_failed(eng_id offer)
{
	sim_offer_over(offer);
	offers[offer].local = true;
	mem[offers[offer].member].rest_until = now + ENG_RETRY_LOCAL_MS;
	local_fails++;
}

/* A bad phone fails the offer it was just given, before the drain goes on.
 * The offer may be over already (a later action of the same transition
 * cancels it): then the engine refuses the failure as stale. */
static void sim_bad_phone(const struct eng_action *a)
{
	struct sim_member *m = &mem[a->member];
	const char *reason = fail_reasons[m->fails++ % 4];

	if (!engine_offer_failed(e, now, a->offer, reason))
		return;
	bad_fails++;
	if (strcmp(reason, "local") == 0)
		sim_local_failed(a->offer);
}

static void sim_event(const struct eng_action *a)
{
	struct sim_member *m = &mem[a->member];

	ev_count[a->event]++;
	switch (a->event) {
	case EV_CALL_ENTER:
		if (strcmp(a->reason, "escalated") == 0) {      /* follows EV_CALL_ESCALATE */
			assert_int_equal(calls[a->call].queue, a->queue);
			escalated_enters++;
			break;
		}
		calls[a->call].queue = a->queue;
		calls[a->call].qentered = a->at;
		line_add(a->queue, a->call, false);
		break;
	case EV_CALL_ESCALATE:
		assert_true(line_remove(a->queue, a->call) || calls[a->call].queue == a->queue);
		calls[a->call].queue = (eng_id)a->value;
		calls[a->call].qentered = a->at;
		line_add((eng_id)a->value, a->call, false);
		break;
	case EV_CALL_BUMP:
		assert_true(line_remove(a->queue, a->call));
		line_add(a->queue, a->call, true);
		break;
	case EV_CALL_ANSWER:
		assert_true(line_remove(a->queue, a->call));
		break;
	case EV_CALL_MISS:
		if (m->offer && offers[m->offer].call == a->call)
			sim_offer_over(m->offer);
		assert_int_equal(offers[m->ended].call, a->call);
		assert_false(offers[m->ended].local);          /* a local failure is no miss */
		m->rest_until = sim_rest_end(a, &offers[m->ended]);
		break;
	case EV_CALL_END:
		assert_int_equal(m->call, a->call);
		m->call = 0;
		break;
	case EV_AGENT_LOGIN: m->logged = m->ready = true; break;
	case EV_AGENT_LOGOUT: m->logged = m->ready = false; break;
	case EV_AGENT_READY: m->ready = true; break;
	case EV_AGENT_AWAY: m->ready = false; break;
	case EV_AGENT_PAUSE: m->active[a->queue] = false; break;
	case EV_AGENT_RESUME: m->active[a->queue] = true; break;
	case EV_RECOVERY_START: m->recovering = true; break;
	case EV_RECOVERY_END: m->recovering = false; break;
	default: break;
	}
}

static void sim_release(const struct eng_action *a)
{
	struct sim_call *c;

	assert_true(a->call <= SIM_CALLS);
	c = &calls[a->call];
	c->releases++;
	assert_int_equal(c->releases, 1);              /* exactly once */
	c->gone = true;
	rel_count[a->release]++;
	if (a->release == REL_TRANSFER)
		assert_true(a->dest[0] != '\0');
	if (!c->talking)
		line_remove(c->queue, a->call);
}

static void sim_apply(const struct eng_action *a)
{
	assert_true(a->at == now);
	switch (a->kind) {
	case ACT_OFFER:
		sim_offer(a);
		break;
	case ACT_CANCEL_OFFER:
		sim_offer_over(a->offer);
		offers[a->offer].cancelled = true;
		break;
	case ACT_BRIDGE:
		sim_offer_over(a->offer);
		mem[a->member].call = a->call;
		calls[a->call].talking = true;
		break;
	case ACT_RELEASE:
		sim_release(a);
		break;
	case ACT_EVENT:
		sim_event(a);
		break;
	case ACT_DIAL_CALLBACK:
		fail_msg("no callbacks in the simulation");
		break;
	}
}

static void sim_drain(void)
{
	struct eng_action a;
	unsigned offered = 0;

	while (engine_next_action(e, &a)) {
		sim_apply(&a);
		if (a.kind != ACT_OFFER)
			continue;
		assert_true(++offered <= SIM_DRAIN_OFFERS);    /* no offer storm */
		if (a.member % SIM_BAD_EVERY == 0)
			sim_bad_phone(&a);
	}
	pickup_call = pickup_member = 0;
}

/* ---- invariants against the engine's views ---- */

static void sim_check_queue(eng_id q)
{
	static struct eng_call_view v[SIM_CALLS];
	size_t n = engine_call_list(e, now, q, v, SIM_CALLS), k = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i].talking) {
			assert_true(calls[v[i].id].talking);
			continue;
		}
		assert_true(k < line[q].n);
		assert_int_equal(v[i].id, line[q].call[k]);     /* FIFO but for bumps */
		assert_int_equal(v[i].position, k + 1);
		k++;
	}
	assert_int_equal(k, line[q].n);
}

static void sim_check_member(eng_id id, bool ticked)
{
	const struct sim_member *m = &mem[id];
	struct eng_member_view v;

	assert_true(engine_member_view(e, now, id, &v));
	assert_int_equal(v.retry_left_ms, m->rest_until > now ? m->rest_until - now : 0);
	assert_int_equal(v.logged_in, m->logged);
	assert_int_equal(v.ready, m->ready);
	assert_false(m->offer && m->call);
	switch (v.activity) {
	case ACTV_RINGING:
		assert_true(m->offer != 0);
		assert_int_equal(v.call, offers[m->offer].call);
		if (ticked)
			assert_true(offers[m->offer].expires > now);
		break;
	case ACTV_ONCALL:
		assert_true(m->call != 0);
		assert_int_equal(v.call, m->call);
		break;
	case ACTV_RECOVERY:
		assert_true(m->recovering && !m->offer && !m->call);
		if (ticked)
			assert_true(v.recovery_left_ms > 0);
		break;
	case ACTV_IDLE:
		assert_true(!m->recovering && !m->offer && !m->call);
		break;
	}
}

static void sim_check(bool ticked)
{
	for (eng_id q = 1; q <= SIM_QUEUES; q++)
		sim_check_queue(q);
	for (eng_id m = 1; m <= SIM_AGENTS; m++)
		sim_check_member(m, ticked);
	if (ticked)
		assert_true(engine_next_deadline(e) > now);
}

/* ---- setup ---- */

static bool force_away;

static eng_id sim_queue(const char *name, enum eng_strategy s, const char *const *kv)
{
	struct eng_queue_conf c;
	char err[128];
	eng_id q;

	qconf_defaults(&c);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.strategy = s;
	c.timeout_s = 40;
	c.connect_timeout_s = 6;
	c.recovery_s = 3;
	c.force_away = force_away;
	for (; kv && kv[0]; kv += 2)
		if (qconf_set(&c, kv[0], kv[1], err, sizeof(err)) != 0)
			fail_msg("%s", err);
	q = engine_queue_add(e, now, &c);
	assert_true(q != 0);
	return q;
}

static void sim_skills(void)
{
	const char *rules[SIM_SKILLS] = { "caller_number starts_with +1",
	                                   "caller_number matches ^\\+33",
	                                   "caller_name starts_with VIP" };
	char err[128];

	for (int s = 0; s < SIM_SKILLS; s++) {
		struct eng_skill_rule r;

		assert_int_equal(skill_rule_parse(rules[s], &r, err, sizeof(err)), 0);
		assert_int_equal(engine_skill_set(e, skill_names[s], false, &r, 1, err, sizeof(err)), 0);
	}
}

/* Queue ids 1..6 in this order: escalation chains, zero-out, limits, every
 * strategy. Escalation targets are created after their sources, so names
 * are resolved at run time. */
static void sim_setup(void)
{
	static const char *const q1[] = { "escalation_queue", "q2", "escalation_dest", "queue:q3",
	                                  "zero_out", "voicemail:1", "retry_rejected", "2",
	                                  "priority_step", "5", NULL };
	static const char *const q2[] = { "escalation_dest", "voicemail:2", "retry_timeout", "1",
	                                  "priority_step", "2", NULL };
	static const char *const q3[] = { "timeout_if_empty", "yes", "escalation_dest", "queue:q4",
	                                  "call_limit", "15", "retry_unreachable", "4",
	                                  "priority_step", "3", NULL };
	static const char *const q4[] = { "escalation_queue", "q5", "zero_out", "queue:q1",
	                                  "recovery_extend", "5", "recovery_multi", "yes",
	                                  "retry_rejected", "1", "retry_unreachable", "1", NULL };
	static const char *const q5[] = { "escalation_dest", "uri:sip:overflow@example.com",
	                                  "retry_timeout", "9", "priority_step", "4", NULL };
	static const char *const q6[] = { "zero_out", "queue:q1", "call_limit", "3",
	                                  "priority_step", "1", NULL };

	sim_queue("q1", STRAT_ROUND_ROBIN, q1);
	sim_queue("q2", STRAT_MOST_IDLE, q2);
	sim_queue("q3", STRAT_LEAST_CALLS, q3);
	sim_queue("q4", STRAT_LEAST_OFFERS, q4);
	sim_queue("q5", STRAT_SKILLS_STRICT, q5);
	sim_queue("q6", STRAT_SKILLS_LOOSE, q6);
	sim_skills();
	for (int i = 1; i <= SIM_AGENTS; i++) {
		char login[16];
		eng_id m;

		snprintf(login, sizeof(login), "a%d", i);
		m = engine_member_add(e, login, login, ROLE_AGENT);
		assert_int_equal(m, (eng_id)i);
		for (int k = 0; k < 1 + i % 3; k++) {
			eng_id q = 1 + (eng_id)((i + k * 2) % SIM_QUEUES);

			assert_true(engine_assign(e, now, q, m, false, true));
			assert_true(engine_set_priority(e, now, q, m, 1 + (unsigned)(i + k) % 4));
			mem[m].active[q] = true;
		}
		for (int s = 0; s < SIM_SKILLS; s++) {
			mem[m].skill[s] = (i + s) % 4 == 0;
			if (mem[m].skill[s])
				assert_true(engine_skill_assign(e, m, skill_names[s], true));
		}
	}
	sim_drain();
}

/* ---- random events ---- */

static unsigned sim_rand(unsigned n)
{
	return (unsigned)rand() % n;
}

static eng_id sim_live_offer(void)
{
	eng_id m0 = 1 + sim_rand(SIM_AGENTS);

	for (eng_id k = 0; k < SIM_AGENTS; k++) {
		eng_id m = 1 + (m0 + k) % SIM_AGENTS;

		if (mem[m].offer)
			return mem[m].offer;
	}
	return 0;
}

/* A call of the model that is still in the engine, or 0. */
static eng_id sim_some_call(void)
{
	eng_id q = 1 + sim_rand(SIM_QUEUES);

	if (line[q].n && sim_rand(3))
		return line[q].call[sim_rand((unsigned)line[q].n)];
	for (eng_id m = 1 + sim_rand(SIM_AGENTS), k = 0; k < 20; k++, m = 1 + m % SIM_AGENTS)
		if (mem[m].call)
			return mem[m].call;
	return 0;
}

static void sim_arrival(void)
{
	static const char *const numbers[] = { "+15855550100", "+33140000000", "+4930123", "+1212" };
	static const char *const names[] = { "Ann", "VIP Bob", "Carla" };
	struct eng_call_info ci = { numbers[sim_rand(4)], names[sim_rand(3)], "6000", "Line" };
	eng_id id = engine_call_enter(e, now, 1 + sim_rand(SIM_QUEUES), &ci);

	if (id) {
		assert_true(id <= SIM_CALLS);
		calls[id].known = true;
		calls[id].skills = sim_call_skills(&ci);
	}
}

static void sim_agent_event(void)
{
	eng_id m = 1 + sim_rand(SIM_AGENTS), q = 1 + sim_rand(SIM_QUEUES);

	switch (sim_rand(13)) {
	case 0: engine_agent_logout(e, now, m); break;
	case 1: engine_agent_away(e, now, m, "break"); break;
	case 2: engine_agent_pause(e, now, sim_rand(2) ? q : 0, m); break;
	case 3: case 4: case 5: engine_agent_login(e, now, m); break;
	case 6: case 7: engine_agent_ready(e, now, m); break;
	case 8: engine_agent_resume(e, now, sim_rand(2) ? q : 0, m); break;
	case 9: engine_agent_extend(e, now, m); break;
	case 11:
		engine_set_priority(e, now, q, m, 1 + sim_rand(4));
		break;
	case 10: {
		int s = (int)sim_rand(SIM_SKILLS);

		mem[m].skill[s] = !mem[m].skill[s];
		assert_true(engine_skill_assign(e, m, skill_names[s], mem[m].skill[s]));
		break;
	}
	default:
		if (sim_rand(2)) {
			bool act = sim_rand(2);

			engine_assign(e, now, q, m, false, act);
			if (!mem[m].active[q] && act)
				mem[m].active[q] = true;
		} else if (engine_unassign(e, now, q, m)) {
			mem[m].active[q] = false;
		}
		break;
	}
}

static void sim_call_event(void)
{
	eng_id c = sim_some_call(), m = 1 + sim_rand(SIM_AGENTS);

	if (!c)
		return;
	switch (sim_rand(8)) {
	case 0: case 1: engine_call_hangup(e, now, c); break;
	case 2: engine_call_drop(e, now, c); break;
	case 3: case 4: engine_talk_end(e, now, c); break;
	case 5: engine_call_bump(e, now, c); break;
	case 6:
		engine_call_digit(e, now, c, '#');
		engine_call_digit(e, now, c, sim_rand(2) ? '0' : '1');
		break;
	default:
		pickup_call = c;
		pickup_member = m;
		engine_call_pickup(e, now, c, m);
		break;
	}
}

static void sim_queue_event(void)
{
	eng_id q = 1 + sim_rand(SIM_QUEUES);
	struct eng_queue_conf c = *engine_queue_conf(e, q);

	c.paused = !c.paused && sim_rand(3) == 0;
	assert_true(engine_queue_update(e, now, q, &c));
	paused[q] = c.paused;
}

static void sim_step(void)
{
	unsigned r = sim_rand(100);
	eng_id o;

	settled = now;
	if (r < 25) {
		now += sim_rand(3000);
		engine_tick(e, now);
		sim_drain();
		sim_check(true);
		return;
	}
	if (r < 45) {
		sim_arrival();
	} else if (r < 60) {
		if ((o = sim_live_offer()))
			assert_true(engine_offer_answered(e, now, o));
	} else if (r < 65) {
		if ((o = sim_live_offer())) {
			const char *reason = fail_reasons[sim_rand(4)];

			assert_true(engine_offer_failed(e, now, o, reason));
			if (strcmp(reason, "local") == 0)
				sim_local_failed(o);
			else
				assert_int_equal(offers[o].state, 1);
		}
	} else if (r < 67) {
		o = 1 + sim_rand(SIM_OFFERS - 1);
		if (offers[o].state == 2)
			assert_false(engine_offer_answered(e, now, o));
	} else if (r < 82) {
		sim_call_event();
	} else if (r < 98) {
		sim_agent_event();
	} else {
		sim_queue_event();
	}
	sim_drain();
	sim_check(false);
}

/* Ends every call, logs everyone out, lets every deadline pass. */
static void sim_wind_down(void)
{
	for (eng_id q = 1; q <= SIM_QUEUES; q++) {
		struct eng_queue_conf c = *engine_queue_conf(e, q);

		c.paused = true;
		assert_true(engine_queue_update(e, now, q, &c));
		paused[q] = true;
	}
	sim_drain();
	for (eng_id c = 1; c <= SIM_CALLS; c++)
		if (calls[c].known && !calls[c].gone)
			engine_call_hangup(e, now, c);
	sim_drain();
	for (eng_id m = 1; m <= SIM_AGENTS; m++)
		engine_agent_logout(e, now, m);
	sim_drain();
	while (engine_next_deadline(e) != ENG_NEVER) {
		now = engine_next_deadline(e) > now ? engine_next_deadline(e) : now;
		engine_tick(e, now);
		sim_drain();
		sim_check(true);
	}
}

static void sim_reset(void)
{
	memset(mem, 0, sizeof(mem));
	memset(calls, 0, sizeof(calls));
	memset(offers, 0, sizeof(offers));
	memset(line, 0, sizeof(line));
	memset(paused, 0, sizeof(paused));
	memset(ev_count, 0, sizeof(ev_count));
	memset(rel_count, 0, sizeof(rel_count));
	pickup_call = pickup_member = 0;
	local_fails = bad_fails = rest_returns = level_checks = wider_offers = escalated_enters = 0;
}

static void sim_run(bool with_force_away)
{
	unsigned long released = 0;

	sim_reset();
	force_away = with_force_away;
	srand(20261126);
	e = engine_new();
	engine_seed(e, 77);
	now = 5000000;
	sim_setup();
	for (int step = 0; step < SIM_STEPS; step++)
		sim_step();
	sim_wind_down();

	for (eng_id c = 1; c <= SIM_CALLS; c++) {
		if (calls[c].known)
			assert_int_equal(calls[c].releases, 1);
		released += calls[c].releases;
	}
	for (eng_id q = 1; q <= SIM_QUEUES; q++)
		assert_int_equal(line[q].n, 0);
	for (eng_id o = 1; o < SIM_OFFERS; o++)
		assert_true(offers[o].state != 1);
	assert_int_equal(released, ev_count[EV_CALL_ENTER] - escalated_enters + ev_count[EV_CALL_REFUSED]);
	assert_int_equal(escalated_enters, ev_count[EV_CALL_ESCALATE]);
	/* Every path was taken. */
	assert_true(ev_count[EV_CALL_ANSWER] > 1000);
	assert_true(ev_count[EV_CALL_MISS] > 500);
	assert_true(ev_count[EV_CALL_ESCALATE] > 200);
	assert_true(ev_count[EV_CALL_TRANSFER] > 50);
	assert_true(ev_count[EV_CALL_BUMP] > 100);
	assert_true(ev_count[EV_CALL_REFUSED] > 0);
	assert_true(rel_count[REL_TIMEOUT] > 0);
	assert_true(rel_count[REL_ABANDONED] > 500);
	assert_true(rel_count[REL_ENDED] > 500);
	assert_true(rel_count[REL_HANGUP] > 100);
	print_message("force_away=%s: %lu calls: %lu answered, %lu escalations, %lu transfers, "
	              "%lu misses, %lu failed at once by bad phones, %lu local failures, "
	              "%lu offers after a rest\n",
	              force_away ? "yes" : "no", released, ev_count[EV_CALL_ANSWER],
	              ev_count[EV_CALL_ESCALATE], ev_count[EV_CALL_TRANSFER], ev_count[EV_CALL_MISS],
	              bad_fails, local_fails, rest_returns);
	assert_true(bad_fails > 100);
	assert_true(local_fails > 30);
	assert_true(rest_returns > 100);
	print_message("%lu offers checked against priority levels, %lu beyond the best staffed one\n",
	              level_checks, wider_offers);
	assert_true(level_checks > 1000);
	assert_true(wider_offers > 100);
	engine_free(e);
}

static void test_simulation(void **state)
{
	(void)state;
	sim_run(false);
}

static void test_simulation_force_away(void **state)
{
	(void)state;
	sim_run(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulation),
		cmocka_unit_test(test_simulation_force_away),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

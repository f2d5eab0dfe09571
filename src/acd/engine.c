/* engine.c — the ACD state machine. See engine.h for the contract.
 *
 * State lives in three tables:
 *  - queues and members: arrays indexed by id - 1. Ids are handed out in
 *    creation order and never reused; a removed entry keeps its slot with
 *    id 0, so an old id can never name a newer object.
 *  - calls: one array kept in offer order (oldest first, across queues).
 *    Dispatch walks it front to back; positions are ranks within a queue.
 *    Calls in a queue are few (tens, maybe hundreds), so lookups by id scan.
 * A call has at most one offer at a time; the offer id lives in the call.
 *
 * Out of memory is fatal (abort): an action that cannot be queued would leave
 * a call or an agent leg stuck, which is worse than a restart.
 */
#include "acd/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acd/qconf.h"
#include "acd/strategy.h"

#define ENG_MISSED_SHOW_MS 4000
#define ENG_SEED_DEFAULT 0x9E3779B97F4A7C15ULL

enum eng_call_state { CALL_WAITING, CALL_OFFERING, CALL_TALKING };

struct eng_membership {
	eng_id member;
	bool manager;
	bool active;
};

struct eng_queue {
	eng_id id;                  /* 0: removed */
	struct eng_queue_conf conf;
	struct eng_membership *mem; /* assignment order: round robin's circle */
	size_t nmem, capmem;
	unsigned handled, abandoned, missed;
	unsigned nanswered, nended;
	eng_ms wait_sum, talk_sum, longest_wait;
	eng_id rr_last;             /* who answered last: round robin goes on after it */
};

struct eng_member {
	eng_id id;                  /* 0: removed */
	char login[ENG_NAME_MAX];
	char name[ENG_NAME_MAX];
	enum eng_role role;
	bool logged_in;
	bool ready;
	char away_reason[ENG_REASON_MAX];
	enum eng_agent_activity activity;
	eng_id call;                /* ringing or talking call */
	eng_id recovery_queue;      /* whose recovery settings apply */
	eng_ms recovery_end;
	unsigned extensions;        /* recovery extensions used */
	eng_ms last_end;            /* most-idle: end of last queue call, or login */
	eng_ms missed_until;        /* display flag */
	unsigned session_handled, session_offers;
	unsigned handled, missed_total;
};

struct eng_call {
	eng_id id, queue;
	enum eng_call_state state;
	char caller_number[ENG_NUMBER_MAX];
	char caller_name[ENG_NAME_MAX];
	char callee_number[ENG_NUMBER_MAX];
	eng_ms entered, answered;
	eng_id member;              /* ringing or talking member */
	eng_id offer;               /* current offer, 0 when none */
	eng_ms offer_expires;
	eng_id rr_after;            /* round robin: the agent who last missed this call */
};

struct engine {
	struct eng_queue *queues;
	size_t nqueues, capqueues;
	struct eng_member *members;
	size_t nmembers, capmembers;
	struct eng_call *calls;
	size_t ncalls, capcalls;
	struct eng_action *out;     /* outbox FIFO: out[head..tail) */
	size_t head, tail, capout;
	struct strategy_cand *cand; /* dispatch scratch */
	size_t capcand;
	eng_id last_call, last_offer;
	uint64_t rng;
};

/* ---- small helpers ---- */

static void engine_grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t n = *cap ? *cap : 8;
	void *np;

	if (need <= *cap)
		return;
	while (n < need)
		n *= 2;
	np = realloc(*p, n * size);
	if (!np)
		abort();
	*p = np;
	*cap = n;
}

static void engine_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static struct eng_queue *engine_queue(const engine_t *e, eng_id q)
{
	if (q == 0 || q > e->nqueues || e->queues[q - 1].id == 0)
		return NULL;
	return &e->queues[q - 1];
}

static struct eng_member *engine_member(const engine_t *e, eng_id m)
{
	if (m == 0 || m > e->nmembers || e->members[m - 1].id == 0)
		return NULL;
	return &e->members[m - 1];
}

static struct eng_call *engine_call(const engine_t *e, eng_id c)
{
	for (size_t i = 0; i < e->ncalls; i++)
		if (e->calls[i].id == c)
			return &e->calls[i];
	return NULL;
}

static struct eng_membership *engine_membership(const struct eng_queue *q, eng_id m, size_t *pos)
{
	for (size_t i = 0; i < q->nmem; i++) {
		if (q->mem[i].member == m) {
			if (pos)
				*pos = i;
			return &q->mem[i];
		}
	}
	return NULL;
}

static eng_ms engine_call_timeout_at(const engine_t *e, const struct eng_call *c)
{
	return c->entered + (eng_ms)engine_queue(e, c->queue)->conf.timeout_s * 1000;
}

/* ---- outbox ---- */

static struct eng_action *engine_push(engine_t *e, enum eng_action_kind kind, eng_ms now)
{
	struct eng_action *a;

	if (e->tail == e->capout && e->head > 0) {
		memmove(e->out, e->out + e->head, (e->tail - e->head) * sizeof(*e->out));
		e->tail -= e->head;
		e->head = 0;
	}
	engine_grow(&e->out, &e->capout, e->tail + 1, sizeof(*e->out));
	a = &e->out[e->tail++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->at = now;
	return a;
}

static struct eng_action *engine_event(engine_t *e, eng_ms now, enum eng_event ev, eng_id call,
                                       eng_id q, eng_id m, int64_t value, const char *reason)
{
	struct eng_action *a = engine_push(e, ACT_EVENT, now);

	a->event = ev;
	a->call = call;
	a->queue = q;
	a->member = m;
	a->value = value;
	engine_copy(a->reason, sizeof(a->reason), reason);
	return a;
}

bool engine_next_action(engine_t *e, struct eng_action *out)
{
	if (e->head == e->tail)
		return false;
	*out = e->out[e->head++];
	if (e->head == e->tail)
		e->head = e->tail = 0;
	return true;
}

/* ---- availability ---- */

/* May m be offered calls of q, leaving aside whether m is busy right now? */
static bool engine_eligible(const struct eng_queue *q, const struct eng_member *m)
{
	const struct eng_membership *ms = engine_membership(q, m->id, NULL);

	return ms && ms->active && m->logged_in && m->ready && !q->conf.paused;
}

static bool engine_available(const struct eng_queue *q, const struct eng_member *m)
{
	return m->activity == ACTV_IDLE && engine_eligible(q, m);
}

/* ---- offers ---- */

static void engine_offer(engine_t *e, eng_ms now, struct eng_call *c,
                         const struct eng_queue *q, struct eng_member *m)
{
	struct eng_action *a;

	c->state = CALL_OFFERING;
	c->member = m->id;
	c->offer = ++e->last_offer;
	c->offer_expires = now + (eng_ms)q->conf.connect_timeout_s * 1000;
	m->activity = ACTV_RINGING;
	m->call = c->id;
	m->session_offers++;

	a = engine_push(e, ACT_OFFER, now);
	a->call = c->id;
	a->queue = c->queue;
	a->member = m->id;
	a->offer = c->offer;
	a->timeout_ms = q->conf.connect_timeout_s * 1000;
	engine_event(e, now, EV_CALL_OFFER, c->id, c->queue, m->id, 0, NULL)->offer = c->offer;
}

/* Ends the current offer of c: the call goes back to waiting at its place in
 * line and the agent back to idle. `cancel`: the agent leg still rings and
 * the adapter must stop it (it need not when it reported the failure). */
static void engine_offer_end(engine_t *e, eng_ms now, struct eng_call *c, bool cancel)
{
	struct eng_member *m = engine_member(e, c->member);

	if (cancel) {
		struct eng_action *a = engine_push(e, ACT_CANCEL_OFFER, now);

		a->call = c->id;
		a->queue = c->queue;
		a->member = c->member;
		a->offer = c->offer;
	}
	m->activity = ACTV_IDLE;
	m->call = 0;
	c->state = CALL_WAITING;
	c->member = 0;
	c->offer = 0;
}

/* Withdrawing an offer does not judge the agent: no miss is counted. */
static void engine_withdraw(engine_t *e, eng_ms now, struct eng_call *c)
{
	engine_offer_end(e, now, c, true);
}

static void engine_force_away(engine_t *e, eng_ms now, struct eng_member *m, const char *reason)
{
	m->ready = false;
	engine_copy(m->away_reason, sizeof(m->away_reason), reason);
	engine_event(e, now, EV_AGENT_AWAY, 0, 0, m->id, 0, reason);
}

/* The agent did not take the offer. The call's next offer starts after this
 * agent in round robin order, whatever the queue's cursor says. */
static void engine_miss(engine_t *e, eng_ms now, struct eng_call *c, const char *reason, bool cancel)
{
	struct eng_queue *q = engine_queue(e, c->queue);
	struct eng_member *m = engine_member(e, c->member);

	engine_offer_end(e, now, c, cancel);
	q->missed++;
	m->missed_total++;
	m->missed_until = now + ENG_MISSED_SHOW_MS;
	c->rr_after = m->id;
	engine_event(e, now, EV_CALL_MISS, c->id, c->queue, m->id, 0, reason);
	if (q->conf.force_away && m->logged_in && m->ready)
		engine_force_away(e, now, m, "missed");
}

/* After an agent or queue change, withdraw offers the agent is no longer
 * eligible for (logged out, away, paused, unassigned, queue paused). */
static void engine_recheck(engine_t *e, eng_ms now)
{
	for (size_t i = 0; i < e->ncalls; i++) {
		struct eng_call *c = &e->calls[i];

		if (c->state == CALL_OFFERING &&
		    !engine_eligible(engine_queue(e, c->queue), engine_member(e, c->member)))
			engine_withdraw(e, now, c);
	}
}

/* ---- dispatch ---- */

static size_t engine_rr_start(const struct eng_queue *q, const struct eng_call *c)
{
	size_t pos;

	if (c->rr_after && engine_membership(q, c->rr_after, &pos))
		return pos;
	if (q->rr_last && engine_membership(q, q->rr_last, &pos))
		return pos;
	return STRATEGY_FROM_START;
}

static struct eng_member *engine_pick(engine_t *e, const struct eng_queue *q, const struct eng_call *c)
{
	struct strategy_ctx ctx;
	size_t n = 0;

	engine_grow(&e->cand, &e->capcand, q->nmem, sizeof(*e->cand));
	for (size_t i = 0; i < q->nmem; i++) {
		const struct eng_member *m = engine_member(e, q->mem[i].member);

		if (!engine_available(q, m))
			continue;
		e->cand[n].member = m->id;
		e->cand[n].pos = i;
		e->cand[n].session_handled = m->session_handled;
		e->cand[n].session_offers = m->session_offers;
		e->cand[n].last_end = m->last_end;
		n++;
	}
	if (n == 0)
		return NULL;
	ctx.cand = e->cand;
	ctx.n = n;
	ctx.npos = q->nmem;
	ctx.after = engine_rr_start(q, c);
	ctx.rng = &e->rng;
	return engine_member(e, e->cand[strategy_for(q->conf.strategy)(&ctx)].member);
}

/* One pass in offer order is enough: an offer only takes an agent away, so a
 * call skipped for lack of agents cannot become offerable later in the pass.
 * A paused queue has no available agents (engine_eligible), so its calls wait. */
static void engine_dispatch(engine_t *e, eng_ms now)
{
	for (size_t i = 0; i < e->ncalls; i++) {
		struct eng_call *c = &e->calls[i];
		const struct eng_queue *q;
		struct eng_member *m;

		if (c->state != CALL_WAITING)
			continue;
		q = engine_queue(e, c->queue);
		m = engine_pick(e, q, c);
		if (m)
			engine_offer(e, now, c, q, m);
	}
}

/* ---- calls leaving ---- */

/* The one place a call leaves the tables, so the one place ACT_RELEASE is
 * made (refusals aside: those calls never entered). `c` is gone afterwards. */
static void engine_release(engine_t *e, eng_ms now, struct eng_call *c, enum eng_release why)
{
	struct eng_action *a = engine_push(e, ACT_RELEASE, now);
	size_t i = (size_t)(c - e->calls);

	a->call = c->id;
	a->queue = c->queue;
	a->member = c->member;
	a->release = why;
	memmove(&e->calls[i], &e->calls[i + 1], (e->ncalls - i - 1) * sizeof(*e->calls));
	e->ncalls--;
}

static void engine_recovery_end(engine_t *e, eng_ms now, struct eng_member *m)
{
	m->activity = ACTV_IDLE;
	m->recovery_queue = 0;
	engine_event(e, now, EV_RECOVERY_END, 0, 0, m->id, 0, NULL);
}

/* A talking call ends: stats, release, and the agent into recovery. An agent
 * who logged out during the call skips recovery: nothing would be offered to
 * them anyway, and recovery would outlive the session. */
static void engine_finish(engine_t *e, eng_ms now, struct eng_call *c, enum eng_release why)
{
	struct eng_queue *q = engine_queue(e, c->queue);
	struct eng_member *m = engine_member(e, c->member);
	eng_ms talk = now - c->answered;

	q->nended++;
	q->talk_sum += talk;
	engine_event(e, now, EV_CALL_END, c->id, c->queue, m->id, talk, NULL);
	engine_release(e, now, c, why);
	m->call = 0;
	m->last_end = now;
	if (m->logged_in && q->conf.recovery_s > 0) {
		m->activity = ACTV_RECOVERY;
		m->recovery_queue = q->id;
		m->recovery_end = now + (eng_ms)q->conf.recovery_s * 1000;
		m->extensions = 0;
		engine_event(e, now, EV_RECOVERY_START, 0, q->id, m->id, 0, NULL);
	} else {
		m->activity = ACTV_IDLE;
	}
}

/* Queue timeout: the call leaves (escalation is a later step). The ringing
 * agent is not charged: the queue gave up, not the agent. */
static void engine_timeout(engine_t *e, eng_ms now, struct eng_call *c)
{
	struct eng_queue *q = engine_queue(e, c->queue);

	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	q->missed++;
	engine_event(e, now, EV_CALL_TIMEOUT, c->id, c->queue, 0, 0, NULL);
	engine_release(e, now, c, REL_TIMEOUT);
}

/* ---- lifecycle ---- */

engine_t *engine_new(void)
{
	engine_t *e = calloc(1, sizeof(*e));

	if (e)
		e->rng = ENG_SEED_DEFAULT;
	return e;
}

void engine_seed(engine_t *e, uint64_t seed)
{
	e->rng = seed ? seed : ENG_SEED_DEFAULT;
}

void engine_free(engine_t *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nqueues; i++)
		free(e->queues[i].mem);
	free(e->queues);
	free(e->members);
	free(e->calls);
	free(e->out);
	free(e->cand);
	free(e);
}

/* ---- queues ---- */

/* What the engine itself relies on; qconf_set checks the rest. A zero connect
 * timeout would make an offer expire in the tick that made it, forever. */
static bool engine_conf_ok(const engine_t *e, eng_id self, const struct eng_queue_conf *c)
{
	if (!qconf_name_valid(c->name) || !strategy_for(c->strategy) ||
	    c->timeout_s == 0 || c->connect_timeout_s == 0)
		return false;
	for (size_t i = 0; i < e->nqueues; i++) {
		const struct eng_queue *q = &e->queues[i];

		if (q->id == 0 || q->id == self)
			continue;
		if (strcmp(q->conf.name, c->name) == 0)
			return false;
		if (c->number[0] && strcmp(q->conf.number, c->number) == 0)
			return false;
	}
	return true;
}

eng_id engine_queue_add(engine_t *e, eng_ms now, const struct eng_queue_conf *c)
{
	struct eng_queue *q;

	(void)now;
	if (!engine_conf_ok(e, 0, c))
		return 0;
	engine_grow(&e->queues, &e->capqueues, e->nqueues + 1, sizeof(*e->queues));
	q = &e->queues[e->nqueues++];
	memset(q, 0, sizeof(*q));
	q->id = (eng_id)e->nqueues;
	q->conf = *c;
	return q->id;
}

bool engine_queue_update(engine_t *e, eng_ms now, eng_id qid, const struct eng_queue_conf *c)
{
	struct eng_queue *q = engine_queue(e, qid);

	if (!q || strcmp(q->conf.name, c->name) != 0 || !engine_conf_ok(e, qid, c))
		return false;
	q->conf = *c;
	engine_recheck(e, now);
	engine_dispatch(e, now);
	return true;
}

bool engine_queue_remove(engine_t *e, eng_ms now, eng_id qid)
{
	struct eng_queue *q = engine_queue(e, qid);

	(void)now;
	if (!q)
		return false;
	for (size_t i = 0; i < e->ncalls; i++)
		if (e->calls[i].queue == qid)
			return false;
	free(q->mem);
	memset(q, 0, sizeof(*q));
	return true;
}

eng_id engine_queue_find(const engine_t *e, const char *name)
{
	for (size_t i = 0; i < e->nqueues; i++)
		if (e->queues[i].id && strcmp(e->queues[i].conf.name, name) == 0)
			return e->queues[i].id;
	return 0;
}

eng_id engine_queue_by_number(const engine_t *e, const char *number)
{
	if (!number || !*number)
		return 0;
	for (size_t i = 0; i < e->nqueues; i++)
		if (e->queues[i].id && strcmp(e->queues[i].conf.number, number) == 0)
			return e->queues[i].id;
	return 0;
}

const struct eng_queue_conf *engine_queue_conf(const engine_t *e, eng_id qid)
{
	const struct eng_queue *q = engine_queue(e, qid);

	return q ? &q->conf : NULL;
}

size_t engine_queue_ids(const engine_t *e, eng_id *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nqueues && n < max; i++)
		if (e->queues[i].id)
			out[n++] = e->queues[i].id;
	return n;
}

/* ---- members ---- */

eng_id engine_member_add(engine_t *e, const char *login, const char *name, enum eng_role role)
{
	struct eng_member *m;

	if (!qconf_name_valid(login) || engine_member_find(e, login))
		return 0;
	engine_grow(&e->members, &e->capmembers, e->nmembers + 1, sizeof(*e->members));
	m = &e->members[e->nmembers++];
	memset(m, 0, sizeof(*m));
	m->id = (eng_id)e->nmembers;
	engine_copy(m->login, sizeof(m->login), login);
	engine_copy(m->name, sizeof(m->name), name);
	m->role = role;
	return m->id;
}

bool engine_member_update(engine_t *e, eng_id mid, const char *name, enum eng_role role)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m)
		return false;
	engine_copy(m->name, sizeof(m->name), name);
	m->role = role;
	return true;
}

static void engine_unassign_at(struct eng_queue *q, size_t pos)
{
	memmove(&q->mem[pos], &q->mem[pos + 1], (q->nmem - pos - 1) * sizeof(*q->mem));
	q->nmem--;
}

bool engine_member_remove(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);
	size_t pos;

	(void)now;
	if (!m || m->activity == ACTV_RINGING || m->activity == ACTV_ONCALL)
		return false;
	for (size_t i = 0; i < e->nqueues; i++)
		if (e->queues[i].id && engine_membership(&e->queues[i], mid, &pos))
			engine_unassign_at(&e->queues[i], pos);
	memset(m, 0, sizeof(*m));
	return true;
}

eng_id engine_member_find(const engine_t *e, const char *login)
{
	for (size_t i = 0; i < e->nmembers; i++)
		if (e->members[i].id && strcmp(e->members[i].login, login) == 0)
			return e->members[i].id;
	return 0;
}

size_t engine_member_ids(const engine_t *e, eng_id *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nmembers && n < max; i++)
		if (e->members[i].id)
			out[n++] = e->members[i].id;
	return n;
}

static void engine_set_active(engine_t *e, eng_ms now, struct eng_queue *q,
                              struct eng_membership *ms, bool active)
{
	if (ms->active == active)
		return;
	ms->active = active;
	engine_event(e, now, active ? EV_AGENT_RESUME : EV_AGENT_PAUSE, 0, q->id, ms->member, 0, NULL);
}

/* Assigning an existing member updates its role and state in place: it keeps
 * its place in the round robin order. */
bool engine_assign(engine_t *e, eng_ms now, eng_id qid, eng_id mid, bool manager, bool active)
{
	struct eng_queue *q = engine_queue(e, qid);
	struct eng_membership *ms;

	if (!q || !engine_member(e, mid))
		return false;
	ms = engine_membership(q, mid, NULL);
	if (ms) {
		ms->manager = manager;
		engine_set_active(e, now, q, ms, active);
	} else {
		engine_grow(&q->mem, &q->capmem, q->nmem + 1, sizeof(*q->mem));
		ms = &q->mem[q->nmem++];
		ms->member = mid;
		ms->manager = manager;
		ms->active = active;
	}
	engine_recheck(e, now);
	engine_dispatch(e, now);
	return true;
}

bool engine_unassign(engine_t *e, eng_ms now, eng_id qid, eng_id mid)
{
	struct eng_queue *q = engine_queue(e, qid);
	size_t pos;

	if (!q || !engine_membership(q, mid, &pos))
		return false;
	engine_unassign_at(q, pos);
	engine_recheck(e, now);
	engine_dispatch(e, now);
	return true;
}

bool engine_is_member(const engine_t *e, eng_id qid, eng_id mid, bool *manager, bool *active)
{
	const struct eng_queue *q = engine_queue(e, qid);
	const struct eng_membership *ms = q ? engine_membership(q, mid, NULL) : NULL;

	if (!ms)
		return false;
	if (manager)
		*manager = ms->manager;
	if (active)
		*active = ms->active;
	return true;
}

/* ---- agent state ---- */

/* Every agent state change ends the same way: offers the agent may no longer
 * take are withdrawn, and whatever became possible is offered. */
static void engine_agent_changed(engine_t *e, eng_ms now)
{
	engine_recheck(e, now);
	engine_dispatch(e, now);
}

/* Logging in while already logged in only makes the agent ready: the session
 * (and its counters) goes on. */
bool engine_agent_login(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m)
		return false;
	if (m->logged_in)
		return engine_agent_ready(e, now, mid);
	m->logged_in = true;
	m->ready = true;
	m->away_reason[0] = '\0';
	m->session_handled = 0;
	m->session_offers = 0;
	m->last_end = now;
	engine_event(e, now, EV_AGENT_LOGIN, 0, 0, mid, 0, NULL);
	engine_agent_changed(e, now);
	return true;
}

/* A call the agent is talking on goes on; one ringing is withdrawn (not a
 * miss); recovery ends now. */
bool engine_agent_logout(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m)
		return false;
	if (!m->logged_in)
		return true;
	m->logged_in = false;
	m->ready = false;
	m->away_reason[0] = '\0';
	if (m->activity == ACTV_RECOVERY)
		engine_recovery_end(e, now, m);
	engine_event(e, now, EV_AGENT_LOGOUT, 0, 0, mid, 0, NULL);
	engine_agent_changed(e, now);
	return true;
}

bool engine_agent_ready(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m || !m->logged_in)
		return false;
	if (m->ready)
		return true;
	m->ready = true;
	m->away_reason[0] = '\0';
	engine_event(e, now, EV_AGENT_READY, 0, 0, mid, 0, NULL);
	engine_agent_changed(e, now);
	return true;
}

bool engine_agent_away(engine_t *e, eng_ms now, eng_id mid, const char *reason)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m || !m->logged_in)
		return false;
	if (!m->ready && strcmp(m->away_reason, reason ? reason : "") == 0)
		return true;
	engine_force_away(e, now, m, reason);
	engine_agent_changed(e, now);
	return true;
}

static bool engine_agent_activate(engine_t *e, eng_ms now, eng_id qid, eng_id mid, bool active)
{
	struct eng_membership *ms;

	if (!engine_member(e, mid))
		return false;
	if (qid) {
		struct eng_queue *q = engine_queue(e, qid);

		ms = q ? engine_membership(q, mid, NULL) : NULL;
		if (!ms)
			return false;
		engine_set_active(e, now, q, ms, active);
	} else {
		for (size_t i = 0; i < e->nqueues; i++) {
			struct eng_queue *q = &e->queues[i];

			ms = q->id ? engine_membership(q, mid, NULL) : NULL;
			if (ms)
				engine_set_active(e, now, q, ms, active);
		}
	}
	engine_agent_changed(e, now);
	return true;
}

bool engine_agent_pause(engine_t *e, eng_ms now, eng_id qid, eng_id mid)
{
	return engine_agent_activate(e, now, qid, mid, false);
}

bool engine_agent_resume(engine_t *e, eng_ms now, eng_id qid, eng_id mid)
{
	return engine_agent_activate(e, now, qid, mid, true);
}

/* Recovery extension: the queue's recovery_extend seconds, once per
 * recovery unless recovery_multi. */
bool engine_agent_extend(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);
	const struct eng_queue *q;

	(void)now;
	if (!m || m->activity != ACTV_RECOVERY)
		return false;
	q = engine_queue(e, m->recovery_queue);
	if (!q || q->conf.recovery_extend_s == 0 || (m->extensions > 0 && !q->conf.recovery_multi))
		return false;
	m->recovery_end += (eng_ms)q->conf.recovery_extend_s * 1000;
	m->extensions++;
	return true;
}

bool engine_member_view(const engine_t *e, eng_ms now, eng_id mid, struct eng_member_view *out)
{
	const struct eng_member *m = engine_member(e, mid);

	if (!m)
		return false;
	memset(out, 0, sizeof(*out));
	out->id = m->id;
	engine_copy(out->login, sizeof(out->login), m->login);
	engine_copy(out->name, sizeof(out->name), m->name);
	out->role = m->role;
	out->logged_in = m->logged_in;
	out->ready = m->ready;
	engine_copy(out->away_reason, sizeof(out->away_reason), m->away_reason);
	out->activity = m->activity;
	out->call = m->call;
	out->missed = now < m->missed_until;
	out->recovery_left_ms = m->activity == ACTV_RECOVERY ? m->recovery_end - now : 0;
	out->session_handled = m->session_handled;
	out->session_offers = m->session_offers;
	out->handled = m->handled;
	out->missed_total = m->missed_total;
	return true;
}

/* ---- calls ---- */

static unsigned engine_queue_load(const engine_t *e, eng_id qid)
{
	unsigned n = 0;

	for (size_t i = 0; i < e->ncalls; i++)
		if (e->calls[i].queue == qid && e->calls[i].state != CALL_TALKING)
			n++;
	return n;
}

/* Empty in the guide's sense: nobody assigned is logged in. Away, paused or
 * busy agents still make the queue non-empty. */
static bool engine_queue_empty(const engine_t *e, const struct eng_queue *q)
{
	for (size_t i = 0; i < q->nmem; i++)
		if (engine_member(e, q->mem[i].member)->logged_in)
			return false;
	return true;
}

/* A refused call still gets an id, so the journal can name it, but the caller
 * gets 0 and the call never exists in the tables. */
static eng_id engine_refuse(engine_t *e, eng_ms now, eng_id call, eng_id qid, const char *reason)
{
	struct eng_queue *q = engine_queue(e, qid);
	struct eng_action *a;

	if (q)
		q->missed++;
	engine_event(e, now, EV_CALL_REFUSED, call, qid, 0, 0, reason);
	a = engine_push(e, ACT_RELEASE, now);
	a->call = call;
	a->queue = qid;
	a->release = REL_REFUSED;
	return 0;
}

eng_id engine_call_enter(engine_t *e, eng_ms now, eng_id qid, const struct eng_call_info *ci)
{
	const struct eng_queue *q = engine_queue(e, qid);
	eng_id id = ++e->last_call;
	struct eng_call *c;

	if (!q)
		return engine_refuse(e, now, id, qid, "unknown");
	if (q->conf.call_limit > 0 && engine_queue_load(e, qid) >= q->conf.call_limit)
		return engine_refuse(e, now, id, qid, "limit");
	if (q->conf.timeout_if_empty && engine_queue_empty(e, q))
		return engine_refuse(e, now, id, qid, "empty");

	engine_grow(&e->calls, &e->capcalls, e->ncalls + 1, sizeof(*e->calls));
	c = &e->calls[e->ncalls++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->queue = qid;
	c->state = CALL_WAITING;
	c->entered = now;
	if (ci) {
		engine_copy(c->caller_number, sizeof(c->caller_number), ci->caller_number);
		engine_copy(c->caller_name, sizeof(c->caller_name), ci->caller_name);
		engine_copy(c->callee_number, sizeof(c->callee_number), ci->callee_number);
	}
	engine_event(e, now, EV_CALL_ENTER, id, qid, 0, 0, NULL);
	engine_dispatch(e, now);
	return id;
}

bool engine_call_hangup(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);
	const char *stage;

	if (!c)
		return false;
	if (c->state == CALL_TALKING) {
		engine_finish(e, now, c, REL_ENDED);
		engine_dispatch(e, now);
		return true;
	}
	stage = c->state == CALL_OFFERING ? "ringing" : "waiting";
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	engine_queue(e, c->queue)->abandoned++;
	engine_event(e, now, EV_CALL_ABANDON, c->id, c->queue, 0, 0, stage);
	engine_release(e, now, c, REL_ABANDONED);
	engine_dispatch(e, now);
	return true;
}

/* Operator hang-up. A talking call ends like any other. A waiting or ringing
 * one is counted in no queue counter (the caller did not give up, no agent
 * missed it, the queue did not time out): it is journaled as EV_CALL_ABANDON
 * with reason "operator" so reports can tell it apart. */
bool engine_call_drop(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);

	if (!c)
		return false;
	if (c->state == CALL_TALKING) {
		engine_finish(e, now, c, REL_HANGUP);
	} else {
		if (c->state == CALL_OFFERING)
			engine_withdraw(e, now, c);
		engine_event(e, now, EV_CALL_ABANDON, c->id, c->queue, 0, 0, "operator");
		engine_release(e, now, c, REL_HANGUP);
	}
	engine_dispatch(e, now);
	return true;
}

static struct eng_call *engine_call_by_offer(const engine_t *e, eng_id offer)
{
	if (offer == 0)
		return NULL;
	for (size_t i = 0; i < e->ncalls; i++)
		if (e->calls[i].offer == offer)
			return &e->calls[i];
	return NULL;
}

bool engine_offer_answered(engine_t *e, eng_ms now, eng_id offer)
{
	struct eng_call *c = engine_call_by_offer(e, offer);
	struct eng_queue *q;
	struct eng_member *m;
	struct eng_action *a;
	eng_ms wait;

	if (!c)
		return false;
	q = engine_queue(e, c->queue);
	m = engine_member(e, c->member);
	wait = now - c->entered;
	c->state = CALL_TALKING;
	c->answered = now;
	c->offer = 0;
	m->activity = ACTV_ONCALL;
	m->session_handled++;
	m->handled++;
	q->handled++;
	q->nanswered++;
	q->wait_sum += wait;
	if (wait > q->longest_wait)
		q->longest_wait = wait;
	q->rr_last = m->id;

	a = engine_push(e, ACT_BRIDGE, now);
	a->call = c->id;
	a->queue = c->queue;
	a->member = m->id;
	a->offer = offer;
	engine_event(e, now, EV_CALL_ANSWER, c->id, c->queue, m->id, wait, NULL);
	return true;
}

bool engine_offer_failed(engine_t *e, eng_ms now, eng_id offer, const char *reason)
{
	struct eng_call *c = engine_call_by_offer(e, offer);

	if (!c)
		return false;
	engine_miss(e, now, c, reason && *reason ? reason : "rejected", false);
	engine_dispatch(e, now);
	return true;
}

bool engine_talk_end(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);

	if (!c || c->state != CALL_TALKING)
		return false;
	engine_finish(e, now, c, REL_ENDED);
	engine_dispatch(e, now);
	return true;
}

/* Position: rank among the queue's calls not yet answered, 1 = next. */
static unsigned engine_call_position(const engine_t *e, const struct eng_call *c)
{
	unsigned pos = 1;

	if (c->state == CALL_TALKING)
		return 0;
	for (const struct eng_call *o = e->calls; o < c; o++)
		if (o->queue == c->queue && o->state != CALL_TALKING)
			pos++;
	return pos;
}

static void engine_fill_call_view(const engine_t *e, eng_ms now, const struct eng_call *c,
                                  struct eng_call_view *out)
{
	memset(out, 0, sizeof(*out));
	out->id = c->id;
	out->queue = c->queue;
	engine_copy(out->caller_number, sizeof(out->caller_number), c->caller_number);
	engine_copy(out->caller_name, sizeof(out->caller_name), c->caller_name);
	engine_copy(out->callee_number, sizeof(out->callee_number), c->callee_number);
	out->position = engine_call_position(e, c);
	out->entered = c->entered;
	out->talking = c->state == CALL_TALKING;
	out->wait_ms = (out->talking ? c->answered : now) - c->entered;
	out->member = c->member;
}

bool engine_call_view(const engine_t *e, eng_ms now, eng_id call, struct eng_call_view *out)
{
	const struct eng_call *c = engine_call(e, call);

	if (!c)
		return false;
	engine_fill_call_view(e, now, c, out);
	return true;
}

/* Returns how many views were written (at most max). */
size_t engine_call_list(const engine_t *e, eng_ms now, eng_id qid, struct eng_call_view *out, size_t max)
{
	size_t n = 0;

	for (int talking = 0; talking <= 1; talking++) {
		for (size_t i = 0; i < e->ncalls && n < max; i++) {
			const struct eng_call *c = &e->calls[i];

			if (c->queue == qid && (c->state == CALL_TALKING) == (talking == 1))
				engine_fill_call_view(e, now, c, &out[n++]);
		}
	}
	return n;
}

/* ---- time ---- */

/* Deadline kinds in the order they run when due at the same instant: a call
 * leaving frees its agent before that agent's offer would be judged, and a
 * call that times out is not offered to an agent just leaving recovery. */
enum eng_due_kind { DUE_TIMEOUT, DUE_OFFER, DUE_RECOVERY };

struct eng_due {
	eng_ms at;
	enum eng_due_kind kind;
	eng_id id;                  /* call or member */
};

static void engine_due_consider(struct eng_due *d, eng_ms at, enum eng_due_kind kind, eng_id id)
{
	if (at < d->at || (at == d->at && kind < d->kind)) {
		d->at = at;
		d->kind = kind;
		d->id = id;
	}
}

static struct eng_due engine_due(const engine_t *e)
{
	struct eng_due d = { ENG_NEVER, DUE_RECOVERY, 0 };

	for (size_t i = 0; i < e->ncalls; i++) {
		const struct eng_call *c = &e->calls[i];

		if (c->state == CALL_TALKING)
			continue;
		engine_due_consider(&d, engine_call_timeout_at(e, c), DUE_TIMEOUT, c->id);
		if (c->state == CALL_OFFERING)
			engine_due_consider(&d, c->offer_expires, DUE_OFFER, c->id);
	}
	for (size_t i = 0; i < e->nmembers; i++) {
		const struct eng_member *m = &e->members[i];

		if (m->id && m->activity == ACTV_RECOVERY)
			engine_due_consider(&d, m->recovery_end, DUE_RECOVERY, m->id);
	}
	return d;
}

eng_ms engine_next_deadline(const engine_t *e)
{
	return engine_due(e).at;
}

/* One deadline at a time, earliest first, dispatching after each, so a late
 * tick does what on-time ticks would have done. Every deadline made here lies
 * after `now` (timeouts are at least a second), so the loop ends. */
void engine_tick(engine_t *e, eng_ms now)
{
	for (;;) {
		struct eng_due d = engine_due(e);

		if (d.at > now)
			break;
		switch (d.kind) {
		case DUE_TIMEOUT:
			engine_timeout(e, now, engine_call(e, d.id));
			break;
		case DUE_OFFER:
			engine_miss(e, now, engine_call(e, d.id), "timeout", true);
			break;
		case DUE_RECOVERY:
			engine_recovery_end(e, now, engine_member(e, d.id));
			break;
		}
		engine_dispatch(e, now);
	}
}

/* ---- reading ---- */

bool engine_queue_stats(const engine_t *e, eng_ms now, eng_id qid, struct eng_queue_stats *out)
{
	const struct eng_queue *q = engine_queue(e, qid);

	(void)now;
	if (!q)
		return false;
	memset(out, 0, sizeof(*out));
	out->waiting = engine_queue_load(e, qid);
	out->handled = q->handled;
	out->abandoned = q->abandoned;
	out->missed = q->missed;
	out->longest_wait_ms = q->longest_wait;
	out->avg_wait_ms = q->nanswered ? q->wait_sum / q->nanswered : 0;
	out->avg_talk_ms = q->nended ? q->talk_sum / q->nended : 0;

	/* Busy counts whoever talks on a call of this queue, assigned or not. */
	for (size_t i = 0; i < e->ncalls; i++)
		if (e->calls[i].queue == qid && e->calls[i].state == CALL_TALKING)
			out->busy++;
	for (size_t i = 0; i < q->nmem; i++) {
		const struct eng_member *m = engine_member(e, q->mem[i].member);
		const struct eng_call *c;

		if (!m->logged_in)
			continue;
		c = m->activity == ACTV_ONCALL ? engine_call(e, m->call) : NULL;
		if (c && c->queue == qid)
			continue;
		if (q->mem[i].active && m->ready)
			out->ready++;
		else
			out->away++;
	}
	return true;
}

/* ---- names ---- */

static const char *const engine_strategy_names[] = {
	[STRAT_ROUND_ROBIN] = "round-robin",
	[STRAT_MOST_IDLE] = "most-idle",
	[STRAT_LEAST_CALLS] = "least-calls",
	[STRAT_LEAST_OFFERS] = "least-offers",
	[STRAT_SKILLS_STRICT] = "skills-strict",
	[STRAT_SKILLS_LOOSE] = "skills-loose",
};

static const char *const engine_role_names[] = {
	[ROLE_AGENT] = "agent",
	[ROLE_MANAGER] = "manager",
	[ROLE_ADMIN] = "admin",
};

static const char *const engine_event_names[] = {
	[EV_CALL_ENTER] = "call.enter",
	[EV_CALL_REFUSED] = "call.refused",
	[EV_CALL_OFFER] = "call.offer",
	[EV_CALL_MISS] = "call.miss",
	[EV_CALL_ANSWER] = "call.answer",
	[EV_CALL_ABANDON] = "call.abandon",
	[EV_CALL_TIMEOUT] = "call.timeout",
	[EV_CALL_END] = "call.end",
	[EV_AGENT_LOGIN] = "agent.login",
	[EV_AGENT_LOGOUT] = "agent.logout",
	[EV_AGENT_READY] = "agent.ready",
	[EV_AGENT_AWAY] = "agent.away",
	[EV_AGENT_PAUSE] = "agent.pause",
	[EV_AGENT_RESUME] = "agent.resume",
	[EV_RECOVERY_START] = "agent.recovery_start",
	[EV_RECOVERY_END] = "agent.recovery_end",
};

#define ENG_COUNT(a) (sizeof(a) / sizeof(*(a)))

static const char *engine_name_of(const char *const *names, size_t n, unsigned i)
{
	return i < n && names[i] ? names[i] : "unknown";
}

static bool engine_name_parse(const char *const *names, size_t n, const char *s, unsigned *out)
{
	for (unsigned i = 0; s && i < n; i++) {
		if (names[i] && strcmp(names[i], s) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

const char *engine_strategy_name(enum eng_strategy s)
{
	return engine_name_of(engine_strategy_names, ENG_COUNT(engine_strategy_names), (unsigned)s);
}

bool engine_strategy_parse(const char *s, enum eng_strategy *out)
{
	unsigned i;

	if (!engine_name_parse(engine_strategy_names, ENG_COUNT(engine_strategy_names), s, &i))
		return false;
	*out = (enum eng_strategy)i;
	return true;
}

const char *engine_role_name(enum eng_role r)
{
	return engine_name_of(engine_role_names, ENG_COUNT(engine_role_names), (unsigned)r);
}

bool engine_role_parse(const char *s, enum eng_role *out)
{
	unsigned i;

	if (!engine_name_parse(engine_role_names, ENG_COUNT(engine_role_names), s, &i))
		return false;
	*out = (enum eng_role)i;
	return true;
}

const char *engine_event_name(enum eng_event ev)
{
	return engine_name_of(engine_event_names, ENG_COUNT(engine_event_names), (unsigned)ev);
}

/* engine.c — the ACD state machine. See engine.h for the contract.
 *
 * Objects: queues and members are allocated one by one and found by id through
 * arrays indexed by id - 1 (ids are never reused; a removed one leaves NULL).
 * Calls are allocated one by one too and found through a hash map, as are
 * offers. Stable addresses let queues keep intrusive lists of their calls.
 *
 * Routing never walks all agents or all calls:
 *  - each queue keeps its available members in the structures of
 *    acd/strategy.h, updated by engine_sync on every availability change;
 *  - each queue keeps its unanswered calls in offer order (a list), and
 *    dispatch only visits queues marked dirty (a call became waiting there or
 *    an agent became available there), taking their calls in global offer
 *    order, which is what one pass over every call in offer order would do;
 *  - deadlines (queue timeouts, offer expiries, recovery ends, retry rests)
 *    sit in one heap.
 *
 * Out of memory is fatal (abort): an action that cannot be queued would leave
 * a call or an agent leg stuck, which is worse than a restart.
 */
#include "acd/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acd/qconf.h"
#include "acd/skill.h"
#include "acd/strategy.h"

#define ENG_MISSED_SHOW_MS 4000
#define ENG_SEED_DEFAULT 0x9E3779B97F4A7C15ULL
#define ENG_ESCALATE_MAX 8          /* queue moves per call before it is hung up */
#define ENG_SKILLS_MAX 64           /* one bit each in a call's and a member's set */
#define ENG_LAST_WAITS 5            /* WAIT_LAST5 */
#define ENG_LAST_HANDLES 20         /* WAIT_THROUGHPUT */
#define ENG_HANDLE_DEFAULT_MS 120000
#define ENG_DUE_NOW 0               /* next deadline while a dispatch is pending */

#define ENG_CONTAINER(p, type, field) ((type *)(void *)((char *)(p) - offsetof(type, field)))

/* HELD and DIALING are callbacks' (engine.h): in the waiting list, at
 * their place, but not offered. */
enum eng_call_state { CALL_WAITING, CALL_OFFERING, CALL_TALKING, CALL_HELD, CALL_DIALING };
enum eng_pending { PEND_NONE, PEND_AWAY, PEND_LOGOUT };

/* Deadline kinds in the order they run when due at the same instant: a call
 * leaving frees its agent before that agent's offer would be judged, and a
 * call that times out is not offered to an agent just leaving recovery or
 * a retry rest. */
enum eng_due_kind { DUE_TIMEOUT, DUE_OFFER, DUE_RECOVERY, DUE_REST, DUE_WIDEN, DUE_CALLBACK };

struct eng_timer {
	struct strategy_node node;  /* in engine.timers */
	eng_ms at;
};

struct eng_queue;
struct eng_member;

/* One assignment of a member to a queue. The flags cache what engine_sync
 * last saw, so counters and structures change exactly on transitions. */
struct eng_mship {
	struct eng_queue *q;
	struct eng_member *m;
	size_t pos;                 /* index in q->mem: round robin's circle */
	struct strategy_node sn;    /* in its level's heap or buckets while available */
	size_t bkey;                /* least-calls: the bucket it sits in */
	unsigned prio;              /* priority level, 1..ENG_PRIO_LEVELS */
	unsigned lv;                /* level index whose structures hold it (prio - 1 when added) */
	bool manager, active;
	bool logged, staffed, avail;
};

struct eng_call {
	eng_id id;
	struct eng_queue *q;
	enum eng_call_state state;
	char caller_number[ENG_NUMBER_MAX];
	char caller_name[ENG_NAME_MAX];
	char callee_number[ENG_NUMBER_MAX];
	char callee_name[ENG_NAME_MAX];
	int64_t seq;                /* global offer order; bumps go below every other */
	eng_ms entered;             /* first entry, kept across escalations */
	eng_ms qentered;            /* entry into its current queue: priority widening */
	eng_ms answered;
	eng_id member, offer;
	bool pickup;                /* the offer is a manager's call.answer */
	struct eng_timer timeout, expiry, widen;
	eng_id rr_after;            /* round robin: the agent who last missed this call */
	uint64_t skills;            /* skills matching the call, computed at entry */
	eng_id home;                /* queue whose escalation settings apply */
	bool escalated;             /* in home's escalation_queue */
	unsigned hops;
	char last_digit;
	bool callback;              /* a callback (engine.h) */
	bool cb_now;                /* callback.now: placed whatever the hours */
	bool cb_reached;            /* customer first: a reached callback, waiting
	                               again; never offered another callback */
	char cb_number[ENG_NUMBER_MAX];
	unsigned cb_attempts;       /* dials so far */
	struct eng_timer cbtimer;   /* held: its retry delay or the hours' opening */
	bool listed;                /* in q's waiting or talking list */
	struct eng_call *prev, *next;
};

/* One priority level's available members, ordered for the queue's strategy. */
struct eng_level {
	struct strategy_bits avail; /* by position */
	struct strategy_heap heap;  /* most-idle, least-offers */
	struct strategy_buckets buckets;  /* least-calls */
	unsigned navail, nstaffed;
};

struct eng_queue {
	eng_id id;
	struct eng_queue_conf conf;
	struct eng_mship **mem;     /* assignment order */
	size_t nmem, capmem;
	struct eng_level lv[ENG_PRIO_LEVELS];
	struct strategy_bits staffed;     /* by position: skills-strict asks who could take a call */
	struct strategy_bits skill[ENG_SKILLS_MAX];  /* members having skill s, by position */
	unsigned nskill[ENG_SKILLS_MAX];
	uint64_t skillmask;         /* skills some member has */
	struct eng_call *head, *tail;     /* waiting and ringing, offer order */
	struct eng_call *thead, *ttail;   /* talking */
	unsigned nwait, ntalk, nlogged, nstaffed;
	unsigned ndialing;          /* callbacks whose agent answered, customer ringing */
	unsigned ncustdial;         /* customer first: callbacks being dialed, no agent yet */
	bool dirty;
	struct eng_call *cursor;    /* dispatch: next call to consider */
	unsigned handled, abandoned, missed, answered_in_sl;
	unsigned nanswered, nended;
	eng_ms wait_sum, talk_sum, longest_wait;
	eng_ms last_wait[ENG_LAST_WAITS];
	eng_ms last_handle[ENG_LAST_HANDLES];
	unsigned nwaits, nhandles;  /* ever recorded: rings index by count */
	eng_id rr_last;             /* who answered last: round robin goes on after it */
};

struct eng_member {
	eng_id id;
	char login[ENG_NAME_MAX];
	char name[ENG_NAME_MAX];
	enum eng_role role;
	bool logged_in;
	bool ready;
	char away_reason[ENG_REASON_MAX];
	enum eng_pending pending;   /* asked for during a call: applied when it ends */
	char pending_reason[ENG_REASON_MAX];
	enum eng_agent_activity activity;
	eng_id call;                /* ringing or talking call */
	eng_id recovery_queue;      /* whose recovery settings apply */
	struct eng_timer recovery;
	struct eng_timer rest;      /* retry rest after a miss: out of every queue */
	unsigned extensions;        /* recovery extensions used */
	eng_ms last_end;            /* most-idle: end of last queue call, or login */
	eng_ms missed_until;        /* display flag */
	unsigned session_handled, session_offers;
	unsigned handled, missed_total;
	uint64_t skills;
	struct eng_mship **ms;      /* its queues */
	size_t nms, capms;
};

struct eng_map_slot {
	eng_id key;                 /* 0: empty */
	struct eng_call *val;
};

struct eng_map {
	struct eng_map_slot *s;
	size_t cap, n;              /* cap: power of two */
};

struct engine {
	struct eng_queue **queues;
	size_t nqueues, capqueues;
	struct eng_member **members;
	size_t nmembers, capmembers;
	struct eng_map calls, offers;
	struct strategy_heap timers;
	struct eng_queue **dirty;
	size_t ndirty, capdirty;
	struct eng_action *out;     /* outbox FIFO: out[head..tail) */
	size_t head, tail, capout;
	struct skill *skills[ENG_SKILLS_MAX];
	int skill_order[ENG_SKILLS_MAX];  /* slots in creation order */
	size_t nskills;
	eng_id last_call, last_offer;
	int64_t seq, front_seq;
	uint64_t rng;
	eng_ms day_origin;          /* a local midnight, monotonic: callback hours */
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

static void *engine_alloc(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		abort();
	return p;
}

static void engine_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static struct eng_queue *engine_queue(const engine_t *e, eng_id q)
{
	return q == 0 || q > e->nqueues ? NULL : e->queues[q - 1];
}

static struct eng_member *engine_member(const engine_t *e, eng_id m)
{
	return m == 0 || m > e->nmembers ? NULL : e->members[m - 1];
}

static struct eng_queue *engine_queue_named(const engine_t *e, const char *name)
{
	return engine_queue(e, engine_queue_find(e, name));
}

static struct eng_mship *engine_mship(const struct eng_queue *q, const struct eng_member *m)
{
	for (size_t i = 0; m && i < m->nms; i++)
		if (m->ms[i]->q == q)
			return m->ms[i];
	return NULL;
}

/* ---- id maps: open addressing, linear probing, backward-shift delete ---- */

static size_t engine_map_home(const struct eng_map *mp, eng_id key)
{
	return (size_t)(key * 2654435761u) & (mp->cap - 1);
}

static struct eng_call *engine_map_get(const struct eng_map *mp, eng_id key)
{
	if (key == 0 || mp->cap == 0)
		return NULL;
	for (size_t i = engine_map_home(mp, key);; i = (i + 1) & (mp->cap - 1)) {
		if (mp->s[i].key == key)
			return mp->s[i].val;
		if (mp->s[i].key == 0)
			return NULL;
	}
}

static void engine_map_insert(struct eng_map *mp, eng_id key, struct eng_call *val)
{
	size_t i = engine_map_home(mp, key);

	while (mp->s[i].key != 0)
		i = (i + 1) & (mp->cap - 1);
	mp->s[i].key = key;
	mp->s[i].val = val;
	mp->n++;
}

static void engine_map_put(struct eng_map *mp, eng_id key, struct eng_call *val)
{
	if ((mp->n + 1) * 2 > mp->cap) {
		struct eng_map old = *mp;

		mp->cap = old.cap ? old.cap * 2 : 64;
		mp->s = engine_alloc(mp->cap * sizeof(*mp->s));
		mp->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.s[i].key)
				engine_map_insert(mp, old.s[i].key, old.s[i].val);
		free(old.s);
	}
	engine_map_insert(mp, key, val);
}

static void engine_map_del(struct eng_map *mp, eng_id key)
{
	size_t mask = mp->cap - 1, i = engine_map_home(mp, key), j;

	while (mp->s[i].key != key)
		i = (i + 1) & mask;
	/* Pull later entries of the probe run back so lookups never stop early. */
	for (j = (i + 1) & mask; mp->s[j].key; j = (j + 1) & mask) {
		size_t h = engine_map_home(mp, mp->s[j].key);

		if (((j - h) & mask) >= ((j - i) & mask)) {
			mp->s[i] = mp->s[j];
			i = j;
		}
	}
	mp->s[i].key = 0;
	mp->s[i].val = NULL;
	mp->n--;
}

static struct eng_call *engine_call(const engine_t *e, eng_id c)
{
	return engine_map_get(&e->calls, c);
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

/* ---- timers ---- */

/* Same-instant deadlines run by kind, then by call or member id. */
static void engine_timer_set(engine_t *e, struct eng_timer *t, enum eng_due_kind kind, eng_id id,
                             eng_ms at)
{
	if (t->node.idx != STRATEGY_NONE)
		strategy_heap_remove(&e->timers, &t->node);
	t->at = at;
	strategy_heap_push(&e->timers, &t->node, at, ((int64_t)kind << 32) | id);
}

static void engine_timer_clear(engine_t *e, struct eng_timer *t)
{
	if (t->node.idx != STRATEGY_NONE)
		strategy_heap_remove(&e->timers, &t->node);
}

static void engine_timer_init(struct eng_timer *t)
{
	t->node.idx = STRATEGY_NONE;
}

/* ---- availability structures ---- */

static bool engine_uses_heap(enum eng_strategy s)
{
	return s == STRAT_MOST_IDLE || s == STRAT_LEAST_OFFERS;
}

/* ms joins the structures of its priority level (and remembers which). */
static void engine_avail_add(struct eng_queue *q, struct eng_mship *ms)
{
	const struct eng_member *m = ms->m;
	struct eng_level *lv;

	ms->lv = ms->prio - 1;
	lv = &q->lv[ms->lv];
	lv->navail++;
	strategy_bits_put(&lv->avail, ms->pos, true);
	if (q->conf.strategy == STRAT_MOST_IDLE)
		strategy_heap_push(&lv->heap, &ms->sn, m->last_end, (int64_t)ms->pos);
	else if (q->conf.strategy == STRAT_LEAST_OFFERS)
		strategy_heap_push(&lv->heap, &ms->sn, m->session_offers, (int64_t)ms->pos);
	else if (q->conf.strategy == STRAT_LEAST_CALLS) {
		ms->bkey = m->session_handled;
		strategy_buckets_add(&lv->buckets, &ms->sn, ms->bkey);
	}
}

static void engine_avail_del(struct eng_queue *q, struct eng_mship *ms)
{
	struct eng_level *lv = &q->lv[ms->lv];

	lv->navail--;
	strategy_bits_put(&lv->avail, ms->pos, false);
	if (engine_uses_heap(q->conf.strategy))
		strategy_heap_remove(&lv->heap, &ms->sn);
	else if (q->conf.strategy == STRAT_LEAST_CALLS)
		strategy_buckets_remove(&lv->buckets, &ms->sn, ms->bkey);
}

/* The staffed flag of one assignment, counted in its level; skills-strict
 * and timeout_if_empty look again at the queue's waiting calls when someone
 * leaves. */
static void engine_staffed_put(struct eng_queue *q, struct eng_mship *ms, bool on)
{
	q->nstaffed += on ? 1 : (unsigned)-1;
	q->lv[ms->prio - 1].nstaffed += on ? 1 : (unsigned)-1;
	strategy_bits_put(&q->staffed, ms->pos, on);
}

static void engine_skill_bits(struct eng_queue *q, const struct eng_mship *ms, uint64_t skills, bool on)
{
	for (int s = 0; s < ENG_SKILLS_MAX; s++) {
		if (!(skills >> s & 1))
			continue;
		strategy_bits_put(&q->skill[s], ms->pos, on);
		q->nskill[s] += on ? 1 : (unsigned)-1;
		if (q->nskill[s])
			q->skillmask |= 1ULL << s;
		else
			q->skillmask &= ~(1ULL << s);
	}
}

/* Dispatch will look at q again, from its first call. */
static void engine_mark(engine_t *e, struct eng_queue *q)
{
	q->cursor = q->head;
	if (q->dirty || !q->head)
		return;
	q->dirty = true;
	engine_grow(&e->dirty, &e->capdirty, e->ndirty + 1, sizeof(*e->dirty));
	e->dirty[e->ndirty++] = q;
}

static bool engine_resting(const struct eng_member *m)
{
	return m->rest.node.idx != STRATEGY_NONE;
}

/* Losing a member may send q's waiting calls away (under skills-strict when
 * no staffed member is left for them, with timeout_if_empty when nobody is
 * logged in any more) or open worse priority levels to them (with a
 * priority_step, levels count from the best staffed one). Dispatch decides,
 * call by call. */
static bool engine_loss_matters(const struct eng_queue *q)
{
	return q->conf.strategy == STRAT_SKILLS_STRICT || q->conf.priority_step_s > 0 ||
	       (q->conf.timeout_if_empty && q->nlogged == 0);
}

/* Brings one assignment's cached flags, q's counters and q's structures in
 * line with the member's state. Called after anything that may change them.
 * A resting agent counts as staffed (it is ready) but is not available. */
static void engine_sync_ms(engine_t *e, struct eng_mship *ms)
{
	const struct eng_member *m = ms->m;
	struct eng_queue *q = ms->q;
	bool logged = m->logged_in;
	bool staffed = logged && m->ready && ms->active;
	bool avail = staffed && m->activity == ACTV_IDLE && !engine_resting(m);

	bool lost = (ms->logged && !logged) || (ms->staffed && !staffed);

	if (logged != ms->logged)
		q->nlogged += logged ? 1 : (unsigned)-1;
	if (staffed != ms->staffed)
		engine_staffed_put(q, ms, staffed);
	ms->logged = logged;
	ms->staffed = staffed;
	if (lost && engine_loss_matters(q))
		engine_mark(e, q);
	if (avail == ms->avail)
		return;
	ms->avail = avail;
	if (avail) {
		engine_avail_add(q, ms);
		engine_mark(e, q);
	} else {
		engine_avail_del(q, ms);
	}
}

static void engine_sync(engine_t *e, struct eng_member *m)
{
	for (size_t i = 0; i < m->nms; i++)
		engine_sync_ms(e, m->ms[i]);
}

/* Positions or the strategy changed: every structure of q from scratch. */
static void engine_rebuild(struct eng_queue *q)
{
	for (int l = 0; l < ENG_PRIO_LEVELS; l++) {
		strategy_bits_clear(&q->lv[l].avail);
		q->lv[l].heap.n = 0;
		strategy_buckets_clear(&q->lv[l].buckets);
		q->lv[l].navail = 0;
		q->lv[l].nstaffed = 0;
	}
	strategy_bits_clear(&q->staffed);
	q->nstaffed = 0;
	for (int s = 0; s < ENG_SKILLS_MAX; s++) {
		strategy_bits_clear(&q->skill[s]);
		q->nskill[s] = 0;
	}
	q->skillmask = 0;
	for (size_t i = 0; i < q->nmem; i++) {
		struct eng_mship *ms = q->mem[i];

		ms->pos = i;
		ms->sn.idx = STRATEGY_NONE;
		engine_skill_bits(q, ms, ms->m->skills, true);
		if (ms->staffed)
			engine_staffed_put(q, ms, true);
		if (ms->avail)
			engine_avail_add(q, ms);
	}
}

/* ---- picking an agent ---- */

static size_t engine_rr_start(const struct eng_queue *q, const struct eng_call *c,
                              const engine_t *e)
{
	const struct eng_mship *ms = engine_mship(q, engine_member(e, c->rr_after));

	if (!ms)
		ms = engine_mship(q, engine_member(e, q->rr_last));
	return ms ? ms->pos : STRATEGY_FROM_START;
}

static struct eng_mship *engine_at(const struct eng_queue *q, size_t pos)
{
	return pos == STRATEGY_NONE ? NULL : q->mem[pos];
}

/* The skills of the queue's members that the call matches, as masks over
 * positions; n = 0 means "anyone" (no skill of the call is held here). */
static size_t engine_skill_masks(const struct eng_queue *q, const struct eng_call *c,
                                 const struct strategy_bits **mask)
{
	uint64_t want = c->skills & q->skillmask;
	size_t n = 0;

	for (int s = 0; want && s < ENG_SKILLS_MAX; s++)
		if (want >> s & 1)
			mask[n++] = &q->skill[s];
	return n;
}

/* The best level a staffed member has (0-based); ENG_PRIO_LEVELS - 1 if none. */
static unsigned engine_best_level(const struct eng_queue *q)
{
	for (unsigned l = 0; l < ENG_PRIO_LEVELS; l++)
		if (q->lv[l].nstaffed)
			return l;
	return ENG_PRIO_LEVELS - 1;
}

/* How many levels (from the best) call c may use now: all of them without a
 * priority_step, else the best staffed level and one more per step waited. */
static unsigned engine_levels_allowed(const struct eng_queue *q, const struct eng_call *c, eng_ms now)
{
	unsigned step = q->conf.priority_step_s;
	eng_ms steps;

	if (step == 0)
		return ENG_PRIO_LEVELS;
	steps = now > c->qentered ? (now - c->qentered) / ((eng_ms)step * 1000) : 0;
	steps += engine_best_level(q) + 1;
	return steps < ENG_PRIO_LEVELS ? (unsigned)steps : ENG_PRIO_LEVELS;
}

/* The strategy's pick within one level. Skills strategies: round robin among
 * the level's available members having a skill the call matches, or anyone
 * when the queue's members have none of its skills (skills-strict never gets
 * there: dispatch sends such calls to escalation). */
static struct eng_mship *engine_pick_level(engine_t *e, const struct eng_queue *q,
                                           const struct eng_level *lv, const struct eng_call *c)
{
	const struct strategy_bits *mask[ENG_SKILLS_MAX];
	const struct strategy_heap_item *top;
	struct strategy_node *node;
	size_t n = 0;

	switch (q->conf.strategy) {
	case STRAT_MOST_IDLE:
	case STRAT_LEAST_OFFERS:
		top = strategy_heap_top(&lv->heap);
		return top ? ENG_CONTAINER(top->node, struct eng_mship, sn) : NULL;
	case STRAT_LEAST_CALLS:
		node = strategy_buckets_pick(&lv->buckets, &e->rng);
		return node ? ENG_CONTAINER(node, struct eng_mship, sn) : NULL;
	case STRAT_SKILLS_STRICT:
	case STRAT_SKILLS_LOOSE:
		n = engine_skill_masks(q, c, mask);
		break;
	case STRAT_ROUND_ROBIN:
		break;
	}
	return engine_at(q, strategy_bits_next(&lv->avail, mask, n, q->nmem, engine_rr_start(q, c, e)));
}

/* The best allowed level with an available agent for c decides. */
static struct eng_mship *engine_pick(engine_t *e, struct eng_queue *q, const struct eng_call *c,
                                     eng_ms now)
{
	unsigned n;

	if (q->conf.paused)
		return NULL;
	n = engine_levels_allowed(q, c, now);
	for (unsigned l = 0; l < n; l++) {
		struct eng_mship *ms;

		if (q->lv[l].navail == 0)
			continue;
		ms = engine_pick_level(e, q, &q->lv[l], c);
		if (ms)
			return ms;
	}
	return NULL;
}

/* Skills-strict: is some staffed member of q one of those the call wants? */
static bool engine_strict_staffed(const struct eng_queue *q, const struct eng_call *c)
{
	const struct strategy_bits *mask[ENG_SKILLS_MAX];
	size_t n = engine_skill_masks(q, c, mask);

	return n > 0 && strategy_bits_next(&q->staffed, mask, n, q->nmem, STRATEGY_FROM_START) !=
	                        STRATEGY_NONE;
}

/* ---- call lists ---- */

static void engine_link(struct eng_call **head, struct eng_call **tail, struct eng_call *c, bool front)
{
	c->prev = front ? NULL : *tail;
	c->next = front ? *head : NULL;
	if (c->prev)
		c->prev->next = c;
	else
		*head = c;
	if (c->next)
		c->next->prev = c;
	else
		*tail = c;
}

static void engine_unlink(struct eng_call **head, struct eng_call **tail, struct eng_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		*tail = c->prev;
	c->prev = c->next = NULL;
}

/* Takes c out of its queue's lists (it keeps c->q for the journal). */
static void engine_delist(struct eng_call *c)
{
	struct eng_queue *q = c->q;

	if (!c->listed)
		return;
	c->listed = false;
	if (c->state == CALL_TALKING) {
		engine_unlink(&q->thead, &q->ttail, c);
		q->ntalk--;
		return;
	}
	if (q->cursor == c)
		q->cursor = c->next;
	engine_unlink(&q->head, &q->tail, c);
	q->nwait--;
}

/* With a priority_step, dispatch looks at c again each time one more level
 * opens to it (at most ENG_PRIO_LEVELS - 1 times). */
static void engine_widen_set(engine_t *e, struct eng_call *c, eng_ms now)
{
	unsigned step = c->q->conf.priority_step_s;

	if (step == 0 || c->state == CALL_TALKING ||
	    (now - c->qentered) / ((eng_ms)step * 1000) >= ENG_PRIO_LEVELS - 1) {
		engine_timer_clear(e, &c->widen);
		return;
	}
	engine_timer_set(e, &c->widen, DUE_WIDEN, c->id,
	                 c->qentered + ((now - c->qentered) / ((eng_ms)step * 1000) + 1) * step * 1000);
}

/* c joins the end of q's line with a fresh queue timeout. */
static void engine_place(engine_t *e, eng_ms now, struct eng_call *c, struct eng_queue *q)
{
	c->q = q;
	c->state = CALL_WAITING;
	c->seq = ++e->seq;
	c->listed = true;
	c->rr_after = 0;
	c->qentered = now;
	engine_link(&q->head, &q->tail, c, false);
	q->nwait++;
	engine_timer_set(e, &c->timeout, DUE_TIMEOUT, c->id, now + (eng_ms)q->conf.timeout_s * 1000);
	engine_widen_set(e, c, now);
	engine_mark(e, q);
}

/* ---- offers ---- */

static void engine_recovery_end(engine_t *e, eng_ms now, struct eng_member *m)
{
	engine_timer_clear(e, &m->recovery);
	m->activity = ACTV_IDLE;
	m->recovery_queue = 0;
	engine_event(e, now, EV_RECOVERY_END, 0, 0, m->id, 0, NULL);
}

static void engine_offer(engine_t *e, eng_ms now, struct eng_call *c, struct eng_member *m)
{
	const struct eng_queue *q = c->q;
	unsigned ring_ms = q->conf.connect_timeout_s * 1000;
	struct eng_action *a;

	if (m->activity == ACTV_RECOVERY)
		engine_recovery_end(e, now, m);
	engine_timer_clear(e, &m->rest);    /* a pickup rings a resting agent */
	c->state = CALL_OFFERING;
	c->member = m->id;
	c->offer = ++e->last_offer;
	engine_map_put(&e->offers, c->offer, c);
	engine_timer_set(e, &c->expiry, DUE_OFFER, c->id, now + ring_ms);
	m->activity = ACTV_RINGING;
	m->call = c->id;
	engine_sync(e, m);
	m->session_offers++;

	a = engine_push(e, ACT_OFFER, now);
	a->call = c->id;
	a->queue = q->id;
	a->member = m->id;
	a->offer = c->offer;
	a->timeout_ms = ring_ms;
	engine_event(e, now, EV_CALL_OFFER, c->id, q->id, m->id, 0, NULL)->offer = c->offer;
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
		a->queue = c->q->id;
		a->member = c->member;
		a->offer = c->offer;
	}
	engine_map_del(&e->offers, c->offer);
	engine_timer_clear(e, &c->expiry);
	c->state = CALL_WAITING;
	c->member = 0;
	c->offer = 0;
	c->pickup = false;
	m->activity = ACTV_IDLE;
	m->call = 0;
	engine_sync(e, m);
	engine_mark(e, c->q);
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
	engine_sync(e, m);
}

/* The retry rest: m leaves every queue's availability structures until
 * `until` (engine_sync sees it), and comes back through DUE_REST. */
static void engine_rest(engine_t *e, struct eng_member *m, eng_ms until)
{
	engine_timer_set(e, &m->rest, DUE_REST, m->id, until);
}

/* The rest after a miss, by reason, from the settings of the queue whose
 * offer was missed. An unknown reason is an unreachable phone. */
static eng_ms engine_retry_ms(const struct eng_queue *q, const char *reason)
{
	unsigned s = q->conf.retry_unreachable_s;

	if (strcmp(reason, "rejected") == 0)
		s = q->conf.retry_rejected_s;
	else if (strcmp(reason, "timeout") == 0)
		s = q->conf.retry_timeout_s;
	return (eng_ms)s * 1000;
}

/* The agent did not take the offer. The call's next offer starts after this
 * agent in round robin order, whatever the queue's cursor says, and the agent
 * rests (the queue's retry delay for that reason, from `at`, when the miss
 * happened) before any queue offers it a call again: a phone that fails at
 * once is not rung in a loop. A manager who missed a call.answer is not
 * forced away: they asked for that call. */
static void engine_miss(engine_t *e, eng_ms now, eng_ms at, struct eng_call *c, const char *reason,
                        bool cancel)
{
	struct eng_queue *q = c->q;
	struct eng_member *m = engine_member(e, c->member);
	bool pickup = c->pickup;

	engine_rest(e, m, at + engine_retry_ms(q, reason));
	engine_offer_end(e, now, c, cancel);
	q->missed++;
	m->missed_total++;
	m->missed_until = now + ENG_MISSED_SHOW_MS;
	c->rr_after = m->id;
	engine_event(e, now, EV_CALL_MISS, c->id, q->id, m->id, 0, reason);
	if (q->conf.force_away && !pickup && m->logged_in && m->ready)
		engine_force_away(e, now, m, "missed");
}

/* May m keep ringing for a call of q? A pickup rings whatever m's status. */
static bool engine_eligible(const struct eng_queue *q, const struct eng_member *m)
{
	const struct eng_mship *ms = engine_mship(q, m);

	return ms && ms->active && m->logged_in && m->ready && !q->conf.paused;
}

/* After an agent change, withdraw the offer m may no longer take. */
static void engine_recheck_member(engine_t *e, eng_ms now, struct eng_member *m)
{
	struct eng_call *c;

	if (m->activity != ACTV_RINGING)
		return;
	c = engine_call(e, m->call);
	if (!c->pickup && !engine_eligible(c->q, m))
		engine_withdraw(e, now, c);
}

/* After a queue change (paused, unassigned), the same for q's offers. */
static void engine_recheck_queue(engine_t *e, eng_ms now, struct eng_queue *q)
{
	for (struct eng_call *c = q->head; c; c = c->next)
		if (c->state == CALL_OFFERING && !c->pickup &&
		    !engine_eligible(q, engine_member(e, c->member)))
			engine_withdraw(e, now, c);
}

/* ---- calls leaving ---- */

/* The one place a call leaves the engine, so the one place ACT_RELEASE is
 * made (refusals aside: those calls never entered). Any offer must be over.
 * `c` is freed. */
static void engine_release(engine_t *e, eng_ms now, struct eng_call *c, enum eng_release why,
                           const char *dest)
{
	struct eng_action *a = engine_push(e, ACT_RELEASE, now);

	a->call = c->id;
	a->queue = c->q->id;
	a->member = c->member;
	a->release = why;
	engine_copy(a->dest, sizeof(a->dest), dest);
	engine_delist(c);
	engine_timer_clear(e, &c->timeout);
	engine_timer_clear(e, &c->expiry);
	engine_timer_clear(e, &c->widen);
	engine_timer_clear(e, &c->cbtimer);
	engine_map_del(&e->calls, c->id);
	free(c);
}

static void engine_transfer(engine_t *e, eng_ms now, struct eng_call *c, const char *dest)
{
	engine_event(e, now, EV_CALL_TRANSFER, c->id, c->q->id, 0, 0, dest);
	engine_release(e, now, c, REL_TRANSFER, dest);
}

/* Why q would not take a new call now, or NULL. */
static const char *engine_admit_refusal(const struct eng_queue *q)
{
	if (q->conf.call_limit > 0 && q->nwait >= q->conf.call_limit)
		return "limit";
	if (q->conf.timeout_if_empty && q->nlogged == 0)
		return "empty";
	return NULL;
}

static struct eng_queue *engine_dest_queue(const engine_t *e, const char *dest)
{
	return strncmp(dest, "queue:", 6) == 0 ? engine_queue_named(e, dest + 6) : NULL;
}

static void engine_route(engine_t *e, eng_ms now, struct eng_call *c, const char *reason);

/* Moves c (in no list) into queue `to`, or on down the escalation path when
 * `to` refuses it. Every move is journaled as EV_CALL_ESCALATE. */
static void engine_move(engine_t *e, eng_ms now, struct eng_call *c, struct eng_queue *to,
                        const char *reason)
{
	const char *why;

	engine_event(e, now, EV_CALL_ESCALATE, c->id, c->q->id, 0, to->id, reason);
	engine_event(e, now, EV_CALL_ENTER, c->id, to->id, 0, 0, "escalated");
	c->q = to;
	why = engine_admit_refusal(to);
	if (!why) {
		engine_place(e, now, c, to);
		return;
	}
	to->missed++;
	engine_route(e, now, c, why);
}

/* The end of the escalation path: the call leaves the queues. */
static void engine_route_end(engine_t *e, eng_ms now, struct eng_call *c, const char *reason,
                             const char *dest)
{
	if (*dest) {
		engine_transfer(e, now, c, dest);
	} else if (strcmp(reason, "timeout") == 0) {
		engine_event(e, now, EV_CALL_TIMEOUT, c->id, c->q->id, 0, 0, NULL);
		engine_release(e, now, c, REL_TIMEOUT, NULL);
	} else {
		/* No skill, or an escalation target that refused: nothing can
		 * take the call, and the adapter logs the hang-up. */
		engine_transfer(e, now, c, "hangup");
	}
}

/* Escalation handling for c, which has just left c->q (or never got in):
 * first the home queue's escalation_queue, once; then its escalation_dest,
 * where a queue:NAME makes NAME the new home. A call that has moved
 * ENG_ESCALATE_MAX times is hung up, whatever the configuration says. */
static void engine_route(engine_t *e, eng_ms now, struct eng_call *c, const char *reason)
{
	const struct eng_queue *home = engine_queue(e, c->home);
	struct eng_queue *to = NULL;
	const char *dest = "";

	if (++c->hops > ENG_ESCALATE_MAX) {
		engine_transfer(e, now, c, "hangup");
		return;
	}
	if (home && !c->escalated)
		to = engine_queue_named(e, home->conf.escalation_queue);
	if (to && to != c->q) {
		c->escalated = true;
		engine_move(e, now, c, to, reason);
		return;
	}
	dest = home ? home->conf.escalation_dest : "";
	to = engine_dest_queue(e, dest);
	if (to) {
		c->home = to->id;
		c->escalated = false;
		engine_move(e, now, c, to, reason);
		return;
	}
	engine_route_end(e, now, c, reason, strncmp(dest, "queue:", 6) == 0 ? "hangup" : dest);
}

/* Does q send calls it cannot take somewhere? */
static bool engine_escalates(const engine_t *e, const struct eng_queue *q)
{
	const struct eng_queue *to = engine_queue_named(e, q->conf.escalation_queue);

	return (to && to != q) || q->conf.escalation_dest[0];
}

/* Queue timeout. The ringing agent is not charged: the queue gave up, not
 * the agent. */
static void engine_timeout(engine_t *e, eng_ms now, struct eng_call *c)
{
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	c->q->missed++;
	engine_delist(c);
	engine_route(e, now, c, "timeout");
}

static void engine_apply_pending(engine_t *e, eng_ms now, struct eng_member *m)
{
	enum eng_pending p = m->pending;

	m->pending = PEND_NONE;
	if (p == PEND_LOGOUT) {
		m->logged_in = false;
		m->ready = false;
		m->away_reason[0] = '\0';
		engine_event(e, now, EV_AGENT_LOGOUT, 0, 0, m->id, 0, NULL);
	} else if (p == PEND_AWAY) {
		engine_force_away(e, now, m, m->pending_reason);
	}
}

/* A talking call ends: stats, release, any state change the agent asked for
 * during the call, and the agent into recovery. An agent who logged out skips
 * recovery: nothing would be offered to them anyway, and recovery would
 * outlive the session. `by` (EV_CALL_END's reason) says who ended it. */
static void engine_finish_to(engine_t *e, eng_ms now, struct eng_call *c, enum eng_release why,
                             const char *by, const char *dest)
{
	struct eng_queue *q = c->q;
	struct eng_member *m = engine_member(e, c->member);
	eng_ms talk = now - c->answered;

	q->nended++;
	q->talk_sum += talk;
	q->last_handle[q->nhandles++ % ENG_LAST_HANDLES] = talk + (eng_ms)q->conf.recovery_s * 1000;
	engine_event(e, now, EV_CALL_END, c->id, q->id, m->id, talk, by);
	if (dest)
		engine_event(e, now, EV_CALL_TRANSFER, c->id, q->id, 0, 0, dest);
	engine_release(e, now, c, why, dest);
	m->call = 0;
	m->last_end = now;
	engine_apply_pending(e, now, m);
	if (m->logged_in && q->conf.recovery_s > 0) {
		m->activity = ACTV_RECOVERY;
		m->recovery_queue = q->id;
		m->extensions = 0;
		engine_timer_set(e, &m->recovery, DUE_RECOVERY, m->id,
		                 now + (eng_ms)q->conf.recovery_s * 1000);
		engine_event(e, now, EV_RECOVERY_START, 0, q->id, m->id, 0, NULL);
	} else {
		m->activity = ACTV_IDLE;
	}
	engine_sync(e, m);
}

static void engine_finish(engine_t *e, eng_ms now, struct eng_call *c, enum eng_release why,
                          const char *by)
{
	engine_finish_to(e, now, c, why, by, NULL);
}

/* ---- callback hours ---- */

#define ENG_DAY_MS (24LL * 3600 * 1000)

static eng_ms engine_day_ms(const engine_t *e, eng_ms t)
{
	eng_ms d = (t - e->day_origin) % ENG_DAY_MS;

	return d < 0 ? d + ENG_DAY_MS : d;
}

static bool engine_cb_open(const engine_t *e, const struct eng_queue *q, eng_ms now)
{
	eng_ms open = (eng_ms)q->conf.callback_open_min * 60000;
	eng_ms close = (eng_ms)q->conf.callback_close_min * 60000;
	eng_ms t = engine_day_ms(e, now);

	if (open == close)
		return true;
	return open < close ? t >= open && t < close : t >= open || t < close;
}

/* The next time the hours open, after now. */
static eng_ms engine_cb_opening(const engine_t *e, const struct eng_queue *q, eng_ms now)
{
	eng_ms d = (eng_ms)q->conf.callback_open_min * 60000 - engine_day_ms(e, now);

	return now + (d <= 0 ? d + ENG_DAY_MS : d);
}

static void engine_cb_hold(engine_t *e, struct eng_call *c, eng_ms until)
{
	c->state = CALL_HELD;
	engine_timer_set(e, &c->cbtimer, DUE_CALLBACK, c->id, until);
}

/* A callback's turn came outside the hours: held until they open, or given
 * up with callback_drop. */
static void engine_cb_outside(engine_t *e, eng_ms now, struct eng_call *c)
{
	if (!c->q->conf.callback_drop) {
		engine_cb_hold(e, c, engine_cb_opening(e, c->q, now));
		return;
	}
	engine_event(e, now, EV_CALLBACK_FAILED, c->id, c->q->id, 0, c->cb_attempts, "window");
	engine_release(e, now, c, REL_HANGUP, NULL);
}

/* Customer first: an agent is available for the callback, so its customer
 * is dialed (ACT_DIAL_CALLBACK); no agent is reserved meanwhile. At most as
 * many customers are dialed at once as the queue has available agents, so
 * one free agent does not start every callback in the line. */
static void engine_cb_dial(engine_t *e, eng_ms now, struct eng_queue *q, struct eng_call *c)
{
	unsigned navail = 0;
	struct eng_action *a;

	for (unsigned l = 0; l < ENG_PRIO_LEVELS; l++)
		navail += q->lv[l].navail;
	if (q->ncustdial >= navail)
		return;
	c->state = CALL_DIALING;
	c->cb_attempts++;
	q->ncustdial++;
	a = engine_push(e, ACT_DIAL_CALLBACK, now);
	a->call = c->id;
	a->queue = q->id;
	engine_event(e, now, EV_CALLBACK_ATTEMPT, c->id, q->id, 0, c->cb_attempts, NULL);
}

/* ---- dispatch ---- */

static struct eng_call *engine_next_waiting(struct eng_queue *q)
{
	while (q->cursor && q->cursor->state != CALL_WAITING)
		q->cursor = q->cursor->next;
	return q->cursor;
}

static bool engine_skills_strategy(enum eng_strategy s)
{
	return s == STRAT_SKILLS_STRICT || s == STRAT_SKILLS_LOOSE;
}

/* Why c must leave q now rather than wait, or NULL: timeout_if_empty with
 * nobody logged in; under skills-strict, a skill conflict (two or more of
 * the members' skills match) or no staffed member with its skill. */
static const char *engine_leave_reason(const struct eng_queue *q, const struct eng_call *c)
{
	uint64_t want = c->skills & q->skillmask;

	if (c->callback)
		return NULL;
	if (q->conf.timeout_if_empty && q->nlogged == 0)
		return "empty";
	if (q->conf.strategy != STRAT_SKILLS_STRICT)
		return NULL;
	if (want & (want - 1))
		return "conflict";
	return engine_strict_staffed(q, c) ? NULL : "noskill";
}

/* One call's turn. Without an agent for it, a plain queue has no agent for
 * any later call either: they all want the same agents and, entered later,
 * may use no more priority levels — a bumped call aside, which may have
 * entered after calls behind it. Under a skills strategy the next call may
 * want others. */
static void engine_dispatch_one(engine_t *e, eng_ms now, struct eng_queue *q, struct eng_call *c)
{
	const char *leave = engine_leave_reason(q, c);
	struct eng_mship *ms;

	q->cursor = c->next;
	if (c->callback && !c->cb_now && !engine_cb_open(e, q, now)) {
		engine_cb_outside(e, now, c);
		return;
	}
	if (leave) {
		q->missed++;
		engine_delist(c);
		engine_route(e, now, c, leave);
		return;
	}
	ms = engine_pick(e, q, c, now);
	if (ms && c->callback && q->conf.callback_customer_first)
		engine_cb_dial(e, now, q, c);
	else if (ms)
		engine_offer(e, now, c, ms->m);
	else if (!engine_skills_strategy(q->conf.strategy) && c->seq > 0)
		q->cursor = NULL;
}

/* Repeatedly takes the dirty queue whose next waiting call is oldest in
 * global offer order and gives that call its turn. A queue leaves the dirty
 * set when it has no call left to try. */
static void engine_dispatch(engine_t *e, eng_ms now)
{
	for (;;) {
		struct eng_queue *best = NULL;
		struct eng_call *bc = NULL;

		for (size_t i = 0; i < e->ndirty;) {
			struct eng_queue *q = e->dirty[i];
			struct eng_call *c = engine_next_waiting(q);

			if (!c) {
				q->dirty = false;
				e->dirty[i] = e->dirty[--e->ndirty];
				continue;
			}
			if (!bc || c->seq < bc->seq) {
				best = q;
				bc = c;
			}
			i++;
		}
		if (!bc)
			return;
		engine_dispatch_one(e, now, best, bc);
	}
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

static void engine_queue_free(struct eng_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nmem; i++)
		free(q->mem[i]);
	free(q->mem);
	for (int l = 0; l < ENG_PRIO_LEVELS; l++) {
		strategy_bits_free(&q->lv[l].avail);
		strategy_heap_free(&q->lv[l].heap);
		strategy_buckets_free(&q->lv[l].buckets);
	}
	strategy_bits_free(&q->staffed);
	for (int s = 0; s < ENG_SKILLS_MAX; s++)
		strategy_bits_free(&q->skill[s]);
	free(q);
}

void engine_free(engine_t *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->calls.cap; i++)
		free(e->calls.s[i].val);
	for (size_t i = 0; i < e->nqueues; i++)
		engine_queue_free(e->queues[i]);
	for (size_t i = 0; i < e->nmembers; i++)
		if (e->members[i])
			free(e->members[i]->ms);
	for (size_t i = 0; i < e->nmembers; i++)
		free(e->members[i]);
	for (int s = 0; s < ENG_SKILLS_MAX; s++)
		skill_free(e->skills[s]);
	free(e->queues);
	free(e->members);
	free(e->calls.s);
	free(e->offers.s);
	strategy_heap_free(&e->timers);
	free(e->dirty);
	free(e->out);
	free(e);
}

/* ---- queues ---- */

/* Is `number` (len characters) the queue's number or one of its dids? */
static bool engine_has_number(const struct eng_queue_conf *c, const char *number, size_t len)
{
	if (len == 0)
		return false;
	if (strlen(c->number) == len && strncmp(c->number, number, len) == 0)
		return true;
	for (const char *p = c->dids; *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, number, len) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* Does another queue already answer one of c's numbers? */
static bool engine_numbers_taken(const struct eng_queue_conf *other, const struct eng_queue_conf *c)
{
	if (engine_has_number(other, c->number, strlen(c->number)))
		return true;
	for (const char *p = c->dids; *p;) {
		size_t n = strcspn(p, ",");

		if (engine_has_number(other, p, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* What the engine itself relies on; qconf_set checks the rest. A zero connect
 * timeout would make an offer expire in the tick that made it, forever; a
 * zero retry delay would ring a phone that fails at once in a loop. */
static bool engine_conf_ok(const engine_t *e, eng_id self, const struct eng_queue_conf *c)
{
	if (!qconf_name_valid(c->name) || (unsigned)c->strategy > STRAT_SKILLS_LOOSE ||
	    (unsigned)c->wait_estimate > WAIT_THROUGHPUT ||
	    c->timeout_s == 0 || c->connect_timeout_s == 0 ||
	    c->retry_rejected_s == 0 || c->retry_timeout_s == 0 || c->retry_unreachable_s == 0)
		return false;
	for (size_t i = 0; i < e->nqueues; i++) {
		const struct eng_queue *q = e->queues[i];

		if (!q || q->id == self)
			continue;
		if (strcmp(q->conf.name, c->name) == 0)
			return false;
		if (engine_numbers_taken(&q->conf, c))
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
	q = engine_alloc(sizeof(*q));
	e->queues[e->nqueues++] = q;
	q->id = (eng_id)e->nqueues;
	q->conf = *c;
	return q->id;
}

/* A changed timeout applies to the calls already waiting, counted from
 * when each entered this queue. */
static void engine_retime(engine_t *e, struct eng_queue *q, unsigned old_s)
{
	eng_ms delta = ((eng_ms)q->conf.timeout_s - (eng_ms)old_s) * 1000;

	if (delta == 0)
		return;
	for (struct eng_call *c = q->head; c; c = c->next)
		if (!c->callback)
			engine_timer_set(e, &c->timeout, DUE_TIMEOUT, c->id, c->timeout.at + delta);
}

bool engine_queue_update(engine_t *e, eng_ms now, eng_id qid, const struct eng_queue_conf *c)
{
	struct eng_queue *q = engine_queue(e, qid);
	struct eng_queue_conf old;

	if (!q || strcmp(q->conf.name, c->name) != 0 || !engine_conf_ok(e, qid, c))
		return false;
	old = q->conf;
	q->conf = *c;
	if (old.strategy != c->strategy)
		engine_rebuild(q);
	engine_retime(e, q, old.timeout_s);
	for (struct eng_call *w = q->head; w && old.priority_step_s != c->priority_step_s; w = w->next)
		engine_widen_set(e, w, now);
	engine_recheck_queue(e, now, q);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

bool engine_queue_remove(engine_t *e, eng_ms now, eng_id qid)
{
	struct eng_queue *q = engine_queue(e, qid);

	(void)now;
	if (!q || q->head || q->thead)
		return false;
	for (size_t i = 0; q->dirty && i < e->ndirty; i++)
		if (e->dirty[i] == q)
			e->dirty[i] = e->dirty[--e->ndirty];
	for (size_t i = 0; i < q->nmem; i++) {
		struct eng_member *m = q->mem[i]->m;

		for (size_t k = 0; k < m->nms; k++) {
			if (m->ms[k]->q == q) {
				m->ms[k] = m->ms[--m->nms];
				break;
			}
		}
	}
	engine_queue_free(q);
	e->queues[qid - 1] = NULL;
	return true;
}

eng_id engine_queue_find(const engine_t *e, const char *name)
{
	for (size_t i = 0; name && *name && i < e->nqueues; i++)
		if (e->queues[i] && strcmp(e->queues[i]->conf.name, name) == 0)
			return e->queues[i]->id;
	return 0;
}

eng_id engine_queue_by_number(const engine_t *e, const char *number)
{
	if (!number || !*number)
		return 0;
	for (size_t i = 0; i < e->nqueues; i++)
		if (e->queues[i] && engine_has_number(&e->queues[i]->conf, number, strlen(number)))
			return e->queues[i]->id;
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
		if (e->queues[i])
			out[n++] = e->queues[i]->id;
	return n;
}

/* ---- members ---- */

eng_id engine_member_add(engine_t *e, const char *login, const char *name, enum eng_role role)
{
	struct eng_member *m;

	if (!qconf_name_valid(login) || engine_member_find(e, login))
		return 0;
	engine_grow(&e->members, &e->capmembers, e->nmembers + 1, sizeof(*e->members));
	m = engine_alloc(sizeof(*m));
	e->members[e->nmembers++] = m;
	m->id = (eng_id)e->nmembers;
	engine_copy(m->login, sizeof(m->login), login);
	engine_copy(m->name, sizeof(m->name), name);
	m->role = role;
	engine_timer_init(&m->recovery);
	engine_timer_init(&m->rest);
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

/* Drops one assignment; q's positions shift, so its structures are rebuilt. */
static void engine_unassign_ms(struct eng_mship *ms)
{
	struct eng_queue *q = ms->q;
	struct eng_member *m = ms->m;

	if (ms->logged)
		q->nlogged--;
	memmove(&q->mem[ms->pos], &q->mem[ms->pos + 1], (q->nmem - ms->pos - 1) * sizeof(*q->mem));
	q->nmem--;
	for (size_t k = 0; k < m->nms; k++) {
		if (m->ms[k] == ms) {
			memmove(&m->ms[k], &m->ms[k + 1], (m->nms - k - 1) * sizeof(*m->ms));
			m->nms--;
			break;
		}
	}
	free(ms);
	engine_rebuild(q);
}

bool engine_member_remove(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);

	(void)now;
	if (!m || m->activity == ACTV_RINGING || m->activity == ACTV_ONCALL)
		return false;
	engine_timer_clear(e, &m->recovery);
	engine_timer_clear(e, &m->rest);
	while (m->nms)
		engine_unassign_ms(m->ms[m->nms - 1]);
	free(m->ms);
	free(m);
	e->members[mid - 1] = NULL;
	return true;
}

eng_id engine_member_find(const engine_t *e, const char *login)
{
	for (size_t i = 0; login && i < e->nmembers; i++)
		if (e->members[i] && strcmp(e->members[i]->login, login) == 0)
			return e->members[i]->id;
	return 0;
}

size_t engine_member_ids(const engine_t *e, eng_id *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nmembers && n < max; i++)
		if (e->members[i])
			out[n++] = e->members[i]->id;
	return n;
}

static void engine_set_active(engine_t *e, eng_ms now, struct eng_mship *ms, bool active)
{
	if (ms->active == active)
		return;
	ms->active = active;
	engine_event(e, now, active ? EV_AGENT_RESUME : EV_AGENT_PAUSE, 0, ms->q->id, ms->m->id, 0, NULL);
	engine_sync_ms(e, ms);
}

/* Assigning an existing member updates its role and state in place: it keeps
 * its place in the round robin order. */
bool engine_assign(engine_t *e, eng_ms now, eng_id qid, eng_id mid, bool manager, bool active)
{
	struct eng_queue *q = engine_queue(e, qid);
	struct eng_member *m = engine_member(e, mid);
	struct eng_mship *ms;

	if (!q || !m)
		return false;
	ms = engine_mship(q, m);
	if (ms) {
		ms->manager = manager;
		engine_set_active(e, now, ms, active);
	} else {
		ms = engine_alloc(sizeof(*ms));
		ms->q = q;
		ms->m = m;
		ms->pos = q->nmem;
		ms->sn.idx = STRATEGY_NONE;
		ms->manager = manager;
		ms->active = active;
		ms->prio = ENG_PRIO_DEFAULT;
		engine_grow(&q->mem, &q->capmem, q->nmem + 1, sizeof(*q->mem));
		q->mem[q->nmem++] = ms;
		engine_grow(&m->ms, &m->capms, m->nms + 1, sizeof(*m->ms));
		m->ms[m->nms++] = ms;
		for (int l = 0; l < ENG_PRIO_LEVELS; l++)
			strategy_bits_reserve(&q->lv[l].avail, q->nmem);
		strategy_bits_reserve(&q->staffed, q->nmem);
		engine_skill_bits(q, ms, m->skills, true);
		engine_sync_ms(e, ms);
	}
	engine_recheck_member(e, now, m);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

bool engine_unassign(engine_t *e, eng_ms now, eng_id qid, eng_id mid)
{
	struct eng_queue *q = engine_queue(e, qid);
	struct eng_member *m = engine_member(e, mid);
	struct eng_mship *ms = q ? engine_mship(q, m) : NULL;

	if (!ms)
		return false;
	engine_unassign_ms(ms);
	engine_recheck_member(e, now, m);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

bool engine_is_member(const engine_t *e, eng_id qid, eng_id mid, bool *manager, bool *active)
{
	const struct eng_queue *q = engine_queue(e, qid);
	const struct eng_mship *ms = q ? engine_mship(q, engine_member(e, mid)) : NULL;

	if (!ms)
		return false;
	if (manager)
		*manager = ms->manager;
	if (active)
		*active = ms->active;
	return true;
}

bool engine_set_priority(engine_t *e, eng_ms now, eng_id qid, eng_id mid, unsigned prio)
{
	struct eng_queue *q = engine_queue(e, qid);
	struct eng_mship *ms = q ? engine_mship(q, engine_member(e, mid)) : NULL;

	if (!ms || prio < 1 || prio > ENG_PRIO_LEVELS)
		return false;
	if (ms->prio == prio)
		return true;
	if (ms->avail)
		engine_avail_del(q, ms);
	if (ms->staffed)
		engine_staffed_put(q, ms, false);
	ms->prio = prio;
	if (ms->staffed)
		engine_staffed_put(q, ms, true);
	if (ms->avail)
		engine_avail_add(q, ms);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

unsigned engine_priority(const engine_t *e, eng_id qid, eng_id mid)
{
	const struct eng_queue *q = engine_queue(e, qid);
	const struct eng_mship *ms = q ? engine_mship(q, engine_member(e, mid)) : NULL;

	return ms ? ms->prio : 0;
}

unsigned engine_call_level(const engine_t *e, eng_ms now, eng_id call)
{
	const struct eng_call *c = engine_call(e, call);

	return c ? engine_levels_allowed(c->q, c, now) : 0;
}

/* ---- agent state ---- */

/* Every agent state change ends the same way: the offer the agent may no
 * longer take is withdrawn, and whatever became possible is offered. */
static void engine_agent_changed(engine_t *e, eng_ms now, struct eng_member *m)
{
	engine_sync(e, m);
	engine_recheck_member(e, now, m);
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
	m->pending = PEND_NONE;
	m->logged_in = true;
	m->ready = true;
	m->away_reason[0] = '\0';
	m->session_handled = 0;
	m->session_offers = 0;
	m->last_end = now;
	engine_event(e, now, EV_AGENT_LOGIN, 0, 0, mid, 0, NULL);
	engine_agent_changed(e, now, m);
	return true;
}

/* During a call, logging out waits for the call's end (the guide: state
 * changes asked for during a call apply after it). A call ringing is
 * withdrawn (not a miss); recovery ends now. */
bool engine_agent_logout(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m)
		return false;
	if (!m->logged_in)
		return true;
	if (m->activity == ACTV_ONCALL) {
		m->pending = PEND_LOGOUT;
		return true;
	}
	m->logged_in = false;
	m->ready = false;
	m->away_reason[0] = '\0';
	if (m->activity == ACTV_RECOVERY)
		engine_recovery_end(e, now, m);
	engine_event(e, now, EV_AGENT_LOGOUT, 0, 0, mid, 0, NULL);
	engine_agent_changed(e, now, m);
	return true;
}

/* Ready cancels a pending away or logout: the latest request wins. */
bool engine_agent_ready(engine_t *e, eng_ms now, eng_id mid)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m || !m->logged_in)
		return false;
	m->pending = PEND_NONE;
	if (m->ready)
		return true;
	m->ready = true;
	m->away_reason[0] = '\0';
	engine_event(e, now, EV_AGENT_READY, 0, 0, mid, 0, NULL);
	engine_agent_changed(e, now, m);
	return true;
}

bool engine_agent_away(engine_t *e, eng_ms now, eng_id mid, const char *reason)
{
	struct eng_member *m = engine_member(e, mid);

	if (!m || !m->logged_in)
		return false;
	if (m->activity == ACTV_ONCALL) {
		m->pending = PEND_AWAY;
		engine_copy(m->pending_reason, sizeof(m->pending_reason), reason);
		return true;
	}
	if (!m->ready && strcmp(m->away_reason, reason ? reason : "") == 0)
		return true;
	engine_force_away(e, now, m, reason);
	engine_agent_changed(e, now, m);
	return true;
}

static bool engine_agent_activate(engine_t *e, eng_ms now, eng_id qid, eng_id mid, bool active)
{
	struct eng_member *m = engine_member(e, mid);
	struct eng_mship *ms;

	if (!m)
		return false;
	if (qid) {
		ms = engine_mship(engine_queue(e, qid), m);
		if (!ms)
			return false;
		engine_set_active(e, now, ms, active);
	} else {
		for (size_t i = 0; i < m->nms; i++)
			engine_set_active(e, now, m->ms[i], active);
	}
	engine_agent_changed(e, now, m);
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

/* Recovery extension: the recovery queue's recovery_extend seconds, once per
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
	engine_timer_set(e, &m->recovery, DUE_RECOVERY, m->id,
	                 m->recovery.at + (eng_ms)q->conf.recovery_extend_s * 1000);
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
	out->recovery_left_ms = m->activity == ACTV_RECOVERY ? m->recovery.at - now : 0;
	out->retry_left_ms = engine_resting(m) ? m->rest.at - now : 0;
	out->session_handled = m->session_handled;
	out->session_offers = m->session_offers;
	out->handled = m->handled;
	out->missed_total = m->missed_total;
	return true;
}

/* ---- calls ---- */

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

/* Which skills the call matches: once, at entry. Skills defined later do not
 * apply to calls already in the queues. */
static uint64_t engine_call_skills(const engine_t *e, const struct eng_call *c)
{
	struct skill_subject subj = { { c->caller_number, c->caller_name,
	                                c->callee_number, c->callee_name } };
	uint64_t set = 0;

	for (int s = 0; s < ENG_SKILLS_MAX; s++)
		if (e->skills[s] && skill_matches(e->skills[s], &subj))
			set |= 1ULL << s;
	return set;
}

static struct eng_call *engine_call_new(engine_t *e, eng_ms now, eng_id id, struct eng_queue *q,
                                        const struct eng_call_info *ci)
{
	struct eng_call *c = engine_alloc(sizeof(*c));

	c->id = id;
	c->q = q;
	c->home = q->id;
	c->entered = now;
	engine_timer_init(&c->timeout);
	engine_timer_init(&c->expiry);
	engine_timer_init(&c->widen);
	engine_timer_init(&c->cbtimer);
	if (ci) {
		engine_copy(c->caller_number, sizeof(c->caller_number), ci->caller_number);
		engine_copy(c->caller_name, sizeof(c->caller_name), ci->caller_name);
		engine_copy(c->callee_number, sizeof(c->callee_number), ci->callee_number);
		engine_copy(c->callee_name, sizeof(c->callee_name), ci->callee_name);
	}
	c->skills = engine_call_skills(e, c);
	engine_map_put(&e->calls, id, c);
	return c;
}

bool engine_call_admissible(const engine_t *e, eng_id qid)
{
	const struct eng_queue *q = engine_queue(e, qid);

	return q && (!engine_admit_refusal(q) || engine_escalates(e, q));
}

/* A call the queue will not take (limit, empty) is refused only when the
 * queue has no escalation; otherwise it enters and goes straight on to
 * escalation handling, counted missed here. */
eng_id engine_call_enter(engine_t *e, eng_ms now, eng_id qid, const struct eng_call_info *ci)
{
	struct eng_queue *q = engine_queue(e, qid);
	eng_id id = ++e->last_call;
	const char *why;
	struct eng_call *c;

	if (!q)
		return engine_refuse(e, now, id, qid, "unknown");
	why = engine_admit_refusal(q);
	if (why && !engine_escalates(e, q))
		return engine_refuse(e, now, id, qid, why);
	c = engine_call_new(e, now, id, q, ci);
	engine_event(e, now, EV_CALL_ENTER, id, qid, 0, 0, NULL);
	if (why) {
		q->missed++;
		engine_route(e, now, c, why);
	} else {
		engine_place(e, now, c, q);
	}
	engine_dispatch(e, now);
	return id;
}

bool engine_call_hangup(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);
	const char *stage;

	if (!c)
		return false;
	if (c->callback && c->state != CALL_TALKING)
		return true;    /* the caller who asked for it hangs up: that was the point */
	if (c->state == CALL_TALKING) {
		engine_finish(e, now, c, REL_ENDED, "caller");
		engine_dispatch(e, now);
		return true;
	}
	stage = c->state == CALL_OFFERING ? "ringing" : "waiting";
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	c->q->abandoned++;
	engine_event(e, now, EV_CALL_ABANDON, c->id, c->q->id, 0, 0, stage);
	engine_release(e, now, c, REL_ABANDONED, NULL);
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
	if (c->callback && c->state != CALL_TALKING)
		return false;   /* callback.cancel; a shutdown keeps it for the restart */
	if (c->state == CALL_TALKING) {
		engine_finish(e, now, c, REL_HANGUP, "operator");
	} else {
		if (c->state == CALL_OFFERING)
			engine_withdraw(e, now, c);
		engine_event(e, now, EV_CALL_ABANDON, c->id, c->q->id, 0, 0, "operator");
		engine_release(e, now, c, REL_HANGUP, NULL);
	}
	engine_dispatch(e, now);
	return true;
}

static void engine_record_wait(struct eng_queue *q, eng_ms wait)
{
	q->handled++;
	q->nanswered++;
	q->wait_sum += wait;
	if (wait > q->longest_wait)
		q->longest_wait = wait;
	if (wait <= (eng_ms)q->conf.service_level_s * 1000)
		q->answered_in_sl++;
	q->last_wait[q->nwaits++ % ENG_LAST_WAITS] = wait;
}

/* Agent first: the agent answered a callback; the adapter dials the
 * customer. The call keeps its place in line until the customer answers. */
static bool engine_cb_answered(engine_t *e, eng_ms now, struct eng_call *c, eng_id offer)
{
	struct eng_member *m = engine_member(e, c->member);
	struct eng_action *a;

	engine_map_del(&e->offers, offer);
	engine_timer_clear(e, &c->expiry);
	c->state = CALL_DIALING;
	c->offer = 0;
	c->cb_attempts++;
	c->q->ndialing++;
	m->activity = ACTV_ONCALL;
	a = engine_push(e, ACT_BRIDGE, now);
	a->call = c->id;
	a->queue = c->q->id;
	a->member = m->id;
	a->offer = offer;
	engine_event(e, now, EV_CALLBACK_ATTEMPT, c->id, c->q->id, m->id, c->cb_attempts, NULL);
	return true;
}

/* The queue's wait counts from the call's entry into it: an escalated call
 * does not bring the wait of the queue it left into this one's numbers. */
bool engine_offer_answered(engine_t *e, eng_ms now, eng_id offer)
{
	struct eng_call *c = engine_map_get(&e->offers, offer);
	struct eng_queue *q;
	struct eng_member *m;
	struct eng_action *a;
	eng_ms wait;

	if (!c)
		return false;
	if (c->callback)
		return engine_cb_answered(e, now, c, offer);
	q = c->q;
	m = engine_member(e, c->member);
	wait = now - c->qentered;
	engine_map_del(&e->offers, offer);
	engine_timer_clear(e, &c->expiry);
	engine_timer_clear(e, &c->timeout);
	engine_timer_clear(e, &c->widen);
	engine_delist(c);
	c->state = CALL_TALKING;
	c->answered = now;
	c->offer = 0;
	c->listed = true;
	engine_link(&q->thead, &q->ttail, c, false);
	q->ntalk++;
	m->activity = ACTV_ONCALL;
	m->session_handled++;
	m->handled++;
	engine_record_wait(q, wait);
	if (!c->pickup)
		q->rr_last = m->id;

	a = engine_push(e, ACT_BRIDGE, now);
	a->call = c->id;
	a->queue = q->id;
	a->member = m->id;
	a->offer = offer;
	engine_event(e, now, EV_CALL_ANSWER, c->id, q->id, m->id, wait, NULL);
	return true;
}

/* Our side could not place the offer: not the agent's miss, but the agent
 * still rests a moment, or the next dispatch would pick it again at once. */
static void engine_local_fail(engine_t *e, eng_ms now, struct eng_call *c)
{
	struct eng_member *m = engine_member(e, c->member);

	engine_rest(e, m, now + ENG_RETRY_LOCAL_MS);
	c->rr_after = m->id;
	engine_offer_end(e, now, c, false);
}

bool engine_offer_failed(engine_t *e, eng_ms now, eng_id offer, const char *reason)
{
	struct eng_call *c = engine_map_get(&e->offers, offer);

	if (!c)
		return false;
	if (reason && strcmp(reason, "local") == 0)
		engine_local_fail(e, now, c);
	else
		engine_miss(e, now, now, c, reason && *reason ? reason : "rejected", false);
	engine_dispatch(e, now);
	return true;
}

bool engine_talk_end(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);

	if (c && c->state == CALL_DIALING)
		return engine_callback_failed(e, now, call, "agent");
	if (!c || c->state != CALL_TALKING)
		return false;
	engine_finish(e, now, c, REL_ENDED, "agent");
	engine_dispatch(e, now);
	return true;
}

/* "#0": the caller leaves for the queue's zero_out destination, counted
 * abandoned here. A queue:NAME destination is a move inside the engine. */
static void engine_zero_out(engine_t *e, eng_ms now, struct eng_call *c)
{
	struct eng_queue *q = c->q;
	struct eng_queue *to = engine_dest_queue(e, q->conf.zero_out);
	char dest[ENG_DEST_MAX];

	engine_copy(dest, sizeof(dest), q->conf.zero_out);
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	q->abandoned++;
	engine_event(e, now, EV_CALL_ABANDON, c->id, q->id, 0, 0, "zero_out");
	engine_delist(c);
	c->last_digit = 0;
	if (to && ++c->hops <= ENG_ESCALATE_MAX) {
		c->home = to->id;
		c->escalated = false;
		engine_move(e, now, c, to, "zero_out");
		return;
	}
	engine_transfer(e, now, c, to || strncmp(dest, "queue:", 6) == 0 ? "hangup" : dest);
}

bool engine_call_digit(engine_t *e, eng_ms now, eng_id call, char digit)
{
	struct eng_call *c = engine_call(e, call);
	char prev;

	if (!c)
		return false;
	if (c->callback)
		return true;
	prev = c->last_digit;
	c->last_digit = digit;
	if (prev == '#' && digit == '0' && c->state != CALL_TALKING && c->q->conf.zero_out[0]) {
		engine_zero_out(e, now, c);
		engine_dispatch(e, now);
	}
	return true;
}

/* The call goes to the front of its queue's line and of the global offer
 * order, ahead of earlier bumps too. */
bool engine_call_bump(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);
	struct eng_queue *q;

	if (!c || c->state == CALL_TALKING)
		return false;
	q = c->q;
	engine_delist(c);
	c->listed = true;
	c->seq = e->front_seq--;
	engine_link(&q->head, &q->tail, c, true);
	q->nwait++;
	engine_event(e, now, EV_CALL_BUMP, c->id, q->id, 0, 0, NULL);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

eng_id engine_call_pickup(engine_t *e, eng_ms now, eng_id call, eng_id mid)
{
	struct eng_call *c = engine_call(e, call);
	struct eng_member *m = engine_member(e, mid);

	if (!c || !m || (c->state != CALL_WAITING && c->state != CALL_OFFERING) ||
	    m->activity == ACTV_RINGING || m->activity == ACTV_ONCALL)
		return 0;
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	engine_offer(e, now, c, m);
	c->pickup = true;
	engine_dispatch(e, now);
	return c->offer;
}

/* Position: rank among the queue's calls not yet answered, 1 = next. Views
 * are for people and hold loops, not routing, so counting along is fine. */
static unsigned engine_call_position(const struct eng_call *c)
{
	unsigned pos = 1;

	if (c->state == CALL_TALKING)
		return 0;
	for (const struct eng_call *o = c->prev; o; o = o->prev)
		pos++;
	return pos;
}

static void engine_fill_call_view(const struct eng_call *c, eng_ms now, unsigned position,
                                  struct eng_call_view *out)
{
	memset(out, 0, sizeof(*out));
	out->id = c->id;
	out->queue = c->q->id;
	engine_copy(out->caller_number, sizeof(out->caller_number), c->caller_number);
	engine_copy(out->caller_name, sizeof(out->caller_name), c->caller_name);
	engine_copy(out->callee_number, sizeof(out->callee_number), c->callee_number);
	out->position = position;
	out->entered = c->entered;
	out->talking = c->state == CALL_TALKING;
	out->wait_ms = (out->talking ? c->answered : now) - c->entered;
	out->queue_wait_ms = (out->talking ? c->answered : now) - c->qentered;
	out->member = c->member;
	out->callback = c->callback;
	out->held = c->state == CALL_HELD;
	out->dialing = c->state == CALL_DIALING;
	engine_copy(out->callback_number, sizeof(out->callback_number), c->cb_number);
	out->attempts = c->cb_attempts;
}

bool engine_call_view(const engine_t *e, eng_ms now, eng_id call, struct eng_call_view *out)
{
	const struct eng_call *c = engine_call(e, call);

	if (!c)
		return false;
	engine_fill_call_view(c, now, engine_call_position(c), out);
	return true;
}

size_t engine_call_list(const engine_t *e, eng_ms now, eng_id qid, struct eng_call_view *out, size_t max)
{
	const struct eng_queue *q = engine_queue(e, qid);
	size_t n = 0;

	if (!q)
		return 0;
	for (const struct eng_call *c = q->head; c && n < max; c = c->next, n++)
		engine_fill_call_view(c, now, (unsigned)n + 1, &out[n]);
	for (const struct eng_call *c = q->thead; c && n < max; c = c->next)
		engine_fill_call_view(c, now, 0, &out[n++]);
	return n;
}

static unsigned engine_ms_to_s(eng_ms ms)
{
	return (unsigned)((ms + 500) / 1000);
}

/* WAIT_LAST5: the guide's estimate, blind to the calls now waiting.
 * WAIT_THROUGHPUT: the calls ahead, each taking a recent mean handle time
 * (talk + recovery), shared by the agents staffing the queue now. */
unsigned engine_wait_estimate(const engine_t *e, eng_ms now, eng_id call)
{
	const struct eng_call *c = engine_call(e, call);
	const struct eng_queue *q;
	unsigned n, staffed;
	eng_ms sum = 0, handle;

	(void)now;
	if (!c || c->state == CALL_TALKING)
		return 0;
	q = c->q;
	if (q->conf.wait_estimate == WAIT_LAST5) {
		n = q->nwaits < ENG_LAST_WAITS ? q->nwaits : ENG_LAST_WAITS;
		for (unsigned i = 0; i < n; i++)
			sum += q->last_wait[i];
		return n ? engine_ms_to_s(sum / n) : 0;
	}
	n = q->nhandles < ENG_LAST_HANDLES ? q->nhandles : ENG_LAST_HANDLES;
	for (unsigned i = 0; i < n; i++)
		sum += q->last_handle[i];
	handle = n ? sum / n : ENG_HANDLE_DEFAULT_MS;
	staffed = q->nstaffed ? q->nstaffed : 1;
	return engine_ms_to_s((eng_ms)engine_call_position(c) * handle / staffed);
}

void engine_queue_restore_waits(engine_t *e, eng_id qid, const eng_ms *waits, size_t n)
{
	struct eng_queue *q = engine_queue(e, qid);

	for (size_t i = 0; q && i < n; i++)
		q->last_wait[q->nwaits++ % ENG_LAST_WAITS] = waits[i];
}

/* ---- skills ---- */

static int engine_skill_slot(const engine_t *e, const char *name)
{
	for (int s = 0; name && s < ENG_SKILLS_MAX; s++)
		if (e->skills[s] && strcmp(skill_name(e->skills[s]), name) == 0)
			return s;
	return -1;
}

static int engine_skill_free_slot(const engine_t *e)
{
	for (int s = 0; s < ENG_SKILLS_MAX; s++)
		if (!e->skills[s])
			return s;
	return -1;
}

/* Queues learn of skill changes at the next dispatch; engine_next_deadline
 * reports it as due now, so the adapter's next tick makes the offers. */
int engine_skill_set(engine_t *e, const char *name, bool match_all,
                     const struct eng_skill_rule *rules, size_t n, char *err, size_t errlen)
{
	int slot = engine_skill_slot(e, name);
	struct skill *sk;

	if (!qconf_name_valid(name)) {
		if (err && errlen)
			snprintf(err, errlen, "skill name must be [A-Za-z0-9_.-], 1 to 63 characters");
		return -1;
	}
	if (slot < 0 && (slot = engine_skill_free_slot(e)) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "at most %d skills", ENG_SKILLS_MAX);
		return -1;
	}
	sk = skill_new(name, match_all, rules, n, err, errlen);
	if (!sk)
		return -1;
	if (e->skills[slot])
		skill_free(e->skills[slot]);
	else
		e->skill_order[e->nskills++] = slot;
	e->skills[slot] = sk;
	return 0;
}

static void engine_member_skill(engine_t *e, struct eng_member *m, int slot, bool on)
{
	uint64_t bit = 1ULL << slot;

	if (((m->skills & bit) != 0) == on)
		return;
	m->skills ^= bit;
	for (size_t i = 0; i < m->nms; i++) {
		engine_skill_bits(m->ms[i]->q, m->ms[i], bit, on);
		engine_mark(e, m->ms[i]->q);
	}
}

/* The slot is reused later, so no member or call may keep its bit. */
bool engine_skill_del(engine_t *e, const char *name)
{
	int slot = engine_skill_slot(e, name);
	size_t k = 0;

	if (slot < 0)
		return false;
	for (size_t i = 0; i < e->nmembers; i++)
		if (e->members[i])
			engine_member_skill(e, e->members[i], slot, false);
	for (size_t i = 0; i < e->calls.cap; i++)
		if (e->calls.s[i].val)
			e->calls.s[i].val->skills &= ~(1ULL << slot);
	skill_free(e->skills[slot]);
	e->skills[slot] = NULL;
	while (e->skill_order[k] != slot)
		k++;
	memmove(&e->skill_order[k], &e->skill_order[k + 1], (e->nskills - k - 1) * sizeof(int));
	e->nskills--;
	return true;
}

bool engine_skill_assign(engine_t *e, eng_id mid, const char *skill, bool on)
{
	struct eng_member *m = engine_member(e, mid);
	int slot = engine_skill_slot(e, skill);

	if (!m || slot < 0)
		return false;
	engine_member_skill(e, m, slot, on);
	return true;
}

size_t engine_skill_names(const engine_t *e, const char **out, size_t max)
{
	size_t n = 0;

	for (; n < e->nskills && n < max; n++)
		out[n] = skill_name(e->skills[e->skill_order[n]]);
	return n;
}

bool engine_skill_get(const engine_t *e, const char *name, bool *match_all,
                      struct eng_skill_rule *rules, size_t *n)
{
	int slot = engine_skill_slot(e, name);
	const struct eng_skill_rule *r;
	size_t k;

	if (slot < 0)
		return false;
	k = skill_rules(e->skills[slot], &r);
	if (match_all)
		*match_all = skill_match_all(e->skills[slot]);
	if (rules)
		memcpy(rules, r, k * sizeof(*r));
	if (n)
		*n = k;
	return true;
}

bool engine_member_has_skill(const engine_t *e, eng_id mid, const char *skill)
{
	const struct eng_member *m = engine_member(e, mid);
	int slot = engine_skill_slot(e, skill);

	return m && slot >= 0 && (m->skills >> slot & 1);
}

/* ---- escalation loops ---- */

/* Queues a queue sends calls to: its escalation_queue and a queue:NAME
 * escalation_dest. */
static size_t engine_links(const engine_t *e, const struct eng_queue *q, struct eng_queue *out[2])
{
	size_t n = 0;

	out[n] = engine_queue_named(e, q->conf.escalation_queue);
	n += out[n] != NULL;
	out[n] = engine_dest_queue(e, q->conf.escalation_dest);
	n += out[n] != NULL;
	return n;
}

/* Depth-first from target over both links; a loop is a way back to `queue`. */
bool engine_escalation_loop(const engine_t *e, const char *queue, const char *target)
{
	struct eng_queue **stack;
	bool *seen, loop = false;
	size_t n = 0;

	if (!queue || !target || !*target)
		return false;
	if (strcmp(queue, target) == 0)
		return true;
	stack = engine_alloc((2 * e->nqueues + 1) * sizeof(*stack));
	seen = engine_alloc((e->nqueues + 1) * sizeof(*seen));
	stack[n] = engine_queue_named(e, target);
	n += stack[n] != NULL;
	while (n && !loop) {
		struct eng_queue *q = stack[--n], *next[2];
		size_t k;

		if (seen[q->id])
			continue;
		seen[q->id] = true;
		k = engine_links(e, q, next);
		for (size_t i = 0; i < k; i++) {
			loop |= strcmp(next[i]->conf.name, queue) == 0;
			stack[n++] = next[i];
		}
	}
	free(stack);
	free(seen);
	return loop;
}

/* ---- time ---- */

eng_ms engine_next_deadline(const engine_t *e)
{
	const struct strategy_heap_item *top = strategy_heap_top(&e->timers);

	if (e->ndirty)
		return ENG_DUE_NOW;
	return top ? top->k1 : ENG_NEVER;
}

/* One more level opened to c: its queue is looked at again. The next
 * opening is computed from the timer's own time, so a late tick skips none. */
static void engine_widen_due(engine_t *e, eng_ms now, struct eng_call *c)
{
	eng_ms at = c->widen.at;

	engine_timer_clear(e, &c->widen);
	engine_mark(e, c->q);
	engine_widen_set(e, c, at > now ? now : at);
}

/* A held callback's delay is over (or the hours open): it may be offered
 * again, from its place; dispatch checks the hours. */
static void engine_cb_wake(engine_t *e, struct eng_call *c)
{
	c->state = CALL_WAITING;
	engine_mark(e, c->q);
}

static void engine_due(engine_t *e, eng_ms now, const struct strategy_heap_item *it)
{
	struct eng_timer *t = ENG_CONTAINER(it->node, struct eng_timer, node);

	switch ((enum eng_due_kind)(it->k2 >> 32)) {
	case DUE_TIMEOUT:
		engine_timeout(e, now, ENG_CONTAINER(t, struct eng_call, timeout));
		break;
	case DUE_OFFER:
		/* A late tick rests the agent from the expiry, as an on-time one would. */
		engine_miss(e, now, t->at, ENG_CONTAINER(t, struct eng_call, expiry), "timeout", true);
		break;
	case DUE_RECOVERY:
		engine_recovery_end(e, now, ENG_CONTAINER(t, struct eng_member, recovery));
		engine_sync(e, ENG_CONTAINER(t, struct eng_member, recovery));
		break;
	case DUE_REST:
		engine_timer_clear(e, t);
		engine_sync(e, ENG_CONTAINER(t, struct eng_member, rest));
		break;
	case DUE_WIDEN:
		engine_widen_due(e, now, ENG_CONTAINER(t, struct eng_call, widen));
		break;
	case DUE_CALLBACK:
		engine_timer_clear(e, t);
		engine_cb_wake(e, ENG_CONTAINER(t, struct eng_call, cbtimer));
		break;
	}
}

/* One deadline at a time, earliest first, dispatching after each, so a late
 * tick does what on-time ticks would have done. Every deadline made here lies
 * after the one being handled (timeouts and rests are at least a second), so
 * the loop ends. */
void engine_tick(engine_t *e, eng_ms now)
{
	const struct strategy_heap_item *top;

	engine_dispatch(e, now);
	while ((top = strategy_heap_top(&e->timers)) && top->k1 <= now) {
		engine_due(e, now, top);
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
	out->waiting = q->nwait;
	out->handled = q->handled;
	out->abandoned = q->abandoned;
	out->missed = q->missed;
	out->longest_wait_ms = q->longest_wait;
	out->avg_wait_ms = q->nanswered ? q->wait_sum / q->nanswered : 0;
	out->avg_talk_ms = q->nended ? q->talk_sum / q->nended : 0;
	out->answered_in_sl = q->answered_in_sl;
	out->service_level_pct = q->nanswered ? q->answered_in_sl * 100 / q->nanswered : 0;
	/* Busy counts whoever talks on a call of this queue, assigned or not. */
	out->busy = q->ntalk + q->ndialing;
	for (size_t i = 0; i < q->nmem; i++) {
		const struct eng_member *m = q->mem[i]->m;
		const struct eng_call *c;

		if (!m->logged_in)
			continue;
		c = m->activity == ACTV_ONCALL ? engine_call(e, m->call) : NULL;
		if (c && c->q == q)
			continue;
		if (q->mem[i]->active && m->ready)
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
	[EV_CALL_ESCALATE] = "call.escalate",
	[EV_CALL_TRANSFER] = "call.transfer",
	[EV_CALL_BUMP] = "call.bump",
	[EV_CALLBACK_REQUEST] = "callback.request",
	[EV_CALLBACK_ATTEMPT] = "callback.attempt",
	[EV_CALLBACK_RETRY] = "callback.retry",
	[EV_CALLBACK_REACHED] = "callback.reached",
	[EV_CALLBACK_FAILED] = "callback.failed",
	[EV_CALLBACK_MOVE] = "callback.move",
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

/* ---- transfers by the agent ---- */

bool engine_call_transfer(engine_t *e, eng_ms now, eng_id call, const char *dest)
{
	struct eng_call *c = engine_call(e, call);

	if (!c || c->state != CALL_TALKING || !dest || !*dest)
		return false;
	engine_finish_to(e, now, c, REL_TRANSFER, "transfer", dest);
	engine_dispatch(e, now);
	return true;
}

/* ---- callbacks ---- */

void engine_set_day_origin(engine_t *e, eng_ms origin)
{
	e->day_origin = origin;
}

static bool engine_cb_enabled(const struct eng_queue *q)
{
	return q->conf.callback_gateway[0] && q->conf.callback_key;
}

/* Another callback of q to `number`? Managers' and callers' requests only:
 * counting along the line is fine. */
static bool engine_cb_duplicate(const struct eng_queue *q, const char *number)
{
	for (const struct eng_call *c = q->head; c; c = c->next)
		if (c->callback && strcmp(c->cb_number, number) == 0)
			return true;
	return false;
}

bool engine_callback_offerable(const engine_t *e, eng_ms now, eng_id call)
{
	const struct eng_call *c = engine_call(e, call);
	const struct eng_queue *q;

	if (!c || c->callback || c->cb_reached ||
	    (c->state != CALL_WAITING && c->state != CALL_OFFERING))
		return false;
	q = c->q;
	return engine_cb_enabled(q) && engine_wait_estimate(e, now, call) > q->conf.callback_wait_s &&
	       (!q->conf.callback_drop || engine_cb_open(e, q, now));
}

static void engine_cb_convert(struct eng_call *c, const char *number, unsigned attempts)
{
	c->callback = true;
	c->cb_attempts = attempts;
	engine_copy(c->cb_number, sizeof(c->cb_number), number);
}

bool engine_call_callback(engine_t *e, eng_ms now, eng_id call, const char *number)
{
	struct eng_call *c = engine_call(e, call);

	if (!c || c->callback || c->cb_reached ||
	    (c->state != CALL_WAITING && c->state != CALL_OFFERING) || !engine_cb_enabled(c->q) ||
	    !number || !*number || strlen(number) >= ENG_NUMBER_MAX ||
	    engine_cb_duplicate(c->q, number))
		return false;
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	engine_cb_convert(c, number, 0);
	engine_timer_clear(e, &c->timeout);
	engine_event(e, now, EV_CALLBACK_REQUEST, c->id, c->q->id, 0, engine_call_position(c), number);
	engine_mark(e, c->q);
	engine_dispatch(e, now);
	return true;
}

bool engine_callback_reached(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);
	struct eng_queue *q;
	struct eng_member *m;
	eng_ms wait;

	if (!c || c->state != CALL_DIALING || !c->member)
		return false;
	q = c->q;
	m = engine_member(e, c->member);
	wait = now - c->qentered;
	engine_delist(c);
	q->ndialing--;
	engine_timer_clear(e, &c->widen);
	c->state = CALL_TALKING;
	c->answered = now;
	c->listed = true;
	engine_link(&q->thead, &q->ttail, c, false);
	q->ntalk++;
	m->session_handled++;
	m->handled++;
	engine_record_wait(q, wait);
	q->rr_last = m->id;
	engine_event(e, now, EV_CALL_ANSWER, c->id, q->id, m->id, wait, NULL);
	engine_event(e, now, EV_CALLBACK_REACHED, c->id, q->id, m->id, c->cb_attempts, NULL);
	return true;
}

/* The agent of a dialing callback is free again, without recovery: there was
 * no conversation to wrap up. */
static void engine_cb_free_agent(engine_t *e, eng_ms now, struct eng_call *c)
{
	struct eng_member *m = engine_member(e, c->member);

	c->q->ndialing--;
	c->member = 0;
	m->call = 0;
	m->activity = ACTV_IDLE;
	engine_apply_pending(e, now, m);
	engine_sync(e, m);
}

bool engine_callback_failed(engine_t *e, eng_ms now, eng_id call, const char *reason)
{
	struct eng_call *c = engine_call(e, call);
	struct eng_queue *q;
	eng_id m;
	eng_ms delay;

	if (!c || c->state != CALL_DIALING)
		return false;
	q = c->q;
	m = c->member;
	reason = reason && *reason ? reason : "failed";
	if (m)
		engine_cb_free_agent(e, now, c);
	else
		q->ncustdial--;
	if (c->cb_attempts > q->conf.callback_retries) {
		engine_event(e, now, EV_CALLBACK_FAILED, c->id, q->id, m, c->cb_attempts, reason);
		engine_release(e, now, c, REL_HANGUP, NULL);
	} else {
		delay = (eng_ms)q->conf.callback_retry_delay_s * 1000;
		c->rr_after = m;
		engine_cb_hold(e, c, now + delay);
		engine_event(e, now, EV_CALLBACK_RETRY, c->id, q->id, m, delay, reason);
	}
	engine_dispatch(e, now);
	return true;
}

bool engine_callback_connected(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);
	struct eng_queue *q;

	if (!c || c->state != CALL_DIALING || c->member)
		return false;
	q = c->q;
	q->ncustdial--;
	engine_delist(c);
	c->callback = false;
	c->cb_now = false;
	c->cb_reached = true;
	c->state = CALL_WAITING;
	c->listed = true;
	c->seq = e->front_seq--;
	engine_link(&q->head, &q->tail, c, true);
	q->nwait++;
	engine_event(e, now, EV_CALLBACK_REACHED, c->id, q->id, 0, c->cb_attempts, NULL);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

bool engine_callback_cancel(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);

	if (!c || !c->callback || c->state == CALL_TALKING)
		return false;
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	engine_event(e, now, EV_CALLBACK_FAILED, c->id, c->q->id, c->member, c->cb_attempts,
	             "cancelled");
	if (c->state == CALL_DIALING && !c->member) {
		c->q->ncustdial--;
	} else if (c->state == CALL_DIALING) {
		eng_id m = c->member;

		engine_cb_free_agent(e, now, c);
		c->member = m;      /* ACT_RELEASE names the agent whose leg to end */
	}
	engine_release(e, now, c, REL_HANGUP, NULL);
	engine_dispatch(e, now);
	return true;
}

/* Relinks c (out of every list) before `at` in q's line, or at the end; its
 * seq takes its new neighbour's, so the line stays in offer order. */
static void engine_cb_link_before(engine_t *e, struct eng_queue *q, struct eng_call *c,
                                  struct eng_call *at)
{
	c->listed = true;
	q->nwait++;
	if (!at) {
		c->seq = ++e->seq;
		engine_link(&q->head, &q->tail, c, false);
		return;
	}
	c->seq = at->seq;
	c->next = at;
	c->prev = at->prev;
	if (at->prev)
		at->prev->next = c;
	else
		q->head = c;
	at->prev = c;
}

bool engine_callback_move(engine_t *e, eng_ms now, eng_id call, unsigned position)
{
	struct eng_call *c = engine_call(e, call);
	struct eng_queue *q;
	struct eng_call *at;
	unsigned n = 1;

	if (!c || !c->callback || position == 0 || c->state == CALL_DIALING ||
	    c->state == CALL_TALKING)
		return false;
	q = c->q;
	if (c->state == CALL_OFFERING)
		engine_withdraw(e, now, c);
	engine_delist(c);
	for (at = q->head; at && n < position; at = at->next)
		n++;
	engine_cb_link_before(e, q, c, at);
	engine_event(e, now, EV_CALLBACK_MOVE, c->id, q->id, 0, engine_call_position(c), NULL);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

bool engine_callback_now(engine_t *e, eng_ms now, eng_id call)
{
	struct eng_call *c = engine_call(e, call);
	struct eng_queue *q;

	if (!c || !c->callback || c->state == CALL_DIALING || c->state == CALL_TALKING)
		return false;
	q = c->q;
	engine_timer_clear(e, &c->cbtimer);
	if (c->state == CALL_HELD)
		c->state = CALL_WAITING;
	c->cb_now = true;
	engine_delist(c);
	c->listed = true;
	c->seq = e->front_seq--;
	engine_link(&q->head, &q->tail, c, true);
	q->nwait++;
	engine_event(e, now, EV_CALL_BUMP, c->id, q->id, 0, 0, "callback.now");
	engine_mark(e, q);
	engine_dispatch(e, now);
	return true;
}

eng_id engine_callback_restore(engine_t *e, eng_ms now, eng_id qid, const struct eng_call_info *ci,
                               const char *number, eng_ms entered, unsigned attempts)
{
	struct eng_queue *q = engine_queue(e, qid);
	struct eng_call *c;

	if (!q || !number || !*number || strlen(number) >= ENG_NUMBER_MAX ||
	    engine_cb_duplicate(q, number))
		return 0;
	c = engine_call_new(e, entered, ++e->last_call, q, ci);
	engine_cb_convert(c, number, attempts);
	c->state = CALL_WAITING;
	c->seq = ++e->seq;
	c->listed = true;
	c->qentered = entered;
	engine_link(&q->head, &q->tail, c, false);
	q->nwait++;
	engine_widen_set(e, c, now);
	engine_mark(e, q);
	engine_dispatch(e, now);
	return c->id;
}

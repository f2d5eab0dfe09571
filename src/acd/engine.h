/* engine.h — the ACD engine: queues, members (agents), calls. The one authority.
 *
 * The engine does no I/O and reads no clock. Every public function that changes
 * state is one transition: it takes the current time `now` (milliseconds on a
 * monotonic clock, supplied by the caller), updates the state, and appends
 * actions to the engine's outbox. The adapter (SIP, media, store, control)
 * drains the outbox with engine_next_action() after each call and carries the
 * actions out. Timers are the adapter's job too: after each transition it asks
 * engine_next_deadline() and calls engine_tick(now) when that time comes.
 *
 * Why an outbox and ids instead of callbacks and pointers: the adapter may be
 * told about an offer that the engine already gave up (a 200 OK that crossed a
 * CANCEL). Every offer has its own id; events naming a stale offer are refused
 * (return false) and the adapter cleans up its own leg. Nothing outside this
 * file holds a pointer into engine state, so nothing can dangle.
 *
 * Life of a call:
 *   engine_call_enter  -> WAITING (or refused: limit / empty queue / paused…)
 *   dispatch           -> OFFERING one agent (ACT_OFFER), for connect_timeout
 *   offer fails/times out -> miss counted, back to WAITING at its place, next
 *                         agent; the agent who missed rests (below)
 *   engine_offer_answered -> TALKING (ACT_BRIDGE)
 *   engine_call_hangup / engine_talk_end / queue timeout -> gone (ACT_RELEASE)
 * Escalation handling (queue timeout; call_limit; timeout_if_empty, for new
 * calls and for calls waiting when the last member logs out; under
 * skills-strict, a call whose skills no staffed member has — staffed: logged
 * in, globally ready, active in the queue, the guide's "available" — reason
 * "noskill", or a call matching two or more of the skills the queue's members
 * have, reason "conflict"): the
 * home queue's escalation_queue takes the call once; after that, or without
 * one, the home queue's escalation_dest: "queue:NAME" moves the call there
 * (NAME becomes its home), anything else releases it with REL_TRANSFER and
 * that dest. A move keeps the call id and its first entry time but starts a
 * fresh timeout in the new queue, at the end of its line, and is journaled as
 * EV_CALL_ESCALATE, then EV_CALL_ENTER (reason "escalated") in the queue it
 * joins, which counts it offered; the queue it left counts it missed. A
 * queue's waits (stats, the wait announcement, EV_CALL_ANSWER's value) count
 * from the call's entry into that queue; the wait from the first entry stays
 * in the call view (wait_ms) and in the journal (its first EV_CALL_ENTER). Nothing configured: a timeout releases with
 * REL_TIMEOUT, limit/empty refuse the call, no skill hangs up (REL_TRANSFER,
 * dest "hangup"). A call moved 8 times is hung up the same
 * way, whatever the configuration says, so a loop cannot keep it forever.
 * Every call that leaves the engine produces exactly one ACT_RELEASE, and the
 * adapter tears down whatever legs of that call still exist. The agent of a
 * finished call goes to recovery (if the queue has any), then back to idle.
 *
 * Priorities: each assignment has a level, 1 (best) .. ENG_PRIO_LEVELS. An
 * offer goes to the best level that has an available agent among the levels
 * the call may use; the strategy chooses within that level. With
 * priority_step 0 a call may use every level. With priority_step N it may use
 * the best level any staffed member of the queue has, plus one level for
 * every N seconds it has waited in this queue (from its entry here, so an
 * escalated call starts again at the best level). Each queue keeps its
 * availability structures per level, so a pick walks at most
 * ENG_PRIO_LEVELS small structures, never the members.
 *
 * Retry rest: an agent who missed an offer is offered no queue call, in any
 * of its queues, for the retry delay of the queue whose offer it missed, by
 * reason: retry_rejected ("rejected"), retry_timeout ("timeout"),
 * retry_unreachable ("unreachable" and any other reason). It leaves the
 * availability structures like a ringing agent and comes back through a
 * deadline (engine_tick), so a phone that fails every offer at once is rung
 * once per delay, not in a loop. A call whose only candidates rest keeps its
 * place and waits. An offer our side could not place (reason "local") is no
 * miss: no counter, no force_away, no EV_CALL_MISS, but a rest of
 * ENG_RETRY_LOCAL_MS. A status change does not end a rest; a pickup
 * (engine_call_pickup) ignores it and ends it, and a missed pickup starts one.
 *
 * Callbacks: a call whose caller asked to be called back and hung up
 * (engine_call_callback). It keeps its id, entry time and place in line: it
 * counts in positions and `waiting`, and is offered by the same strategy,
 * priorities and skills as a live caller. Its states besides waiting and
 * offering: held (its retry delay runs, or its turn came outside the hours
 * window: a deadline brings it back) and dialing (its agent answered and
 * the adapter dials the customer; customer first, the dial comes before any
 * agent: engine_callback_connected). The hours need the local time of day:
 * the adapter passes it in (engine_set_day_origin), the engine reads no
 * clock.
 */
#ifndef CALLQ_ENGINE_H
#define CALLQ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct engine engine_t;
typedef uint32_t eng_id;          /* queue, member, call and offer ids; 0 = none */
typedef int64_t eng_ms;           /* monotonic milliseconds */
#define ENG_NEVER INT64_MAX

#define ENG_NAME_MAX 64
#define ENG_NUMBER_MAX 32
#define ENG_HOLD_MAX 512
#define ENG_REASON_MAX 64
#define ENG_DEST_MAX 128
#define ENG_LANG_MAX 16
#define ENG_DIDS_MAX 256

/* Member priorities per queue: levels 1 (best) .. ENG_PRIO_LEVELS. */
#define ENG_PRIO_LEVELS 9
#define ENG_PRIO_DEFAULT 1

enum eng_strategy {
	STRAT_ROUND_ROBIN,
	STRAT_MOST_IDLE,
	STRAT_LEAST_CALLS,
	STRAT_LEAST_OFFERS,
	STRAT_SKILLS_STRICT,
	STRAT_SKILLS_LOOSE,
};

enum eng_role { ROLE_AGENT, ROLE_MANAGER, ROLE_ADMIN };

/* How the hold loop's `wait` item estimates the wait (queue key wait_estimate). */
enum eng_wait_estimator {
	WAIT_LAST5,       /* the guide's: mean time to answer of the last 5 answered calls */
	WAIT_THROUGHPUT,  /* position x recent mean handle time / agents staffed */
};

/* Queue settings, as stored in SQLite and set by queue.create/queue.set.
 * Validation and text conversion live in acd/qconf.c (qconf_set). */
struct eng_queue_conf {
	char name[ENG_NAME_MAX];
	char number[ENG_NUMBER_MAX];
	char dids[ENG_DIDS_MAX];    /* more numbers into this queue: "6010,6011", or "" */
	enum eng_strategy strategy;
	unsigned call_limit;        /* 0 = none */
	unsigned timeout_s;         /* 1..7200 */
	unsigned connect_timeout_s; /* ring time per offer */
	unsigned recovery_s;        /* wrap-up after each call */
	unsigned recovery_extend_s;
	bool recovery_multi;
	bool timeout_if_empty;
	bool force_away;
	bool record;
	bool show_agents;
	bool paused;                /* queue.pause: offers nothing */
	char escalation_queue[ENG_NAME_MAX];
	char escalation_dest[ENG_NAME_MAX * 2];
	char zero_out[ENG_NAME_MAX * 2];
	char hold[ENG_HOLD_MAX];    /* hold loop, e.g. "position,pause:2,file:music.wav,wait,repeat" */
	char lang[ENG_LANG_MAX];    /* prompt set folder under the media directory, "en" */
	enum eng_wait_estimator wait_estimate;
	unsigned service_level_s;   /* answered within this counts toward service level */
	unsigned retry_rejected_s;  /* rest after a miss, by reason: 1..3600 (see above) */
	unsigned retry_timeout_s;
	unsigned retry_unreachable_s;
	unsigned priority_step_s;   /* 0: every level at once; else one more level per step waited */
	/* Callbacks (see "Callbacks" above): offered while the estimated wait
	 * exceeds callback_wait_s, on key callback_key, when callback_gateway
	 * names the gateway that places them ("" = no callbacks). */
	char callback_gateway[ENG_NAME_MAX];
	char callback_key;          /* '0'..'9' or '*' */
	unsigned callback_wait_s;
	unsigned callback_retries;  /* tries after the first: 0..10 */
	unsigned callback_retry_delay_s;
	/* Hours in local minutes since midnight; open == close: any time. The
	 * window may wrap past midnight (open > close). */
	unsigned callback_open_min, callback_close_min;
	bool callback_drop;         /* its turn outside the hours: dropped, not kept */
	bool callback_customer_first;  /* dial the customer, then offer (ACT_DIAL_CALLBACK) */
};

/* Rest after an offer failed on our side (engine_offer_failed, "local"). */
#define ENG_RETRY_LOCAL_MS 1000

/* What the engine asks the adapter to do. */
enum eng_action_kind {
	ACT_OFFER,        /* ring member `member` for call `call`; offer id `offer` */
	ACT_CANCEL_OFFER, /* stop ringing offer `offer` (timed out, or call gone) */
	ACT_BRIDGE,       /* offer `offer` was answered: connect caller and agent */
	ACT_RELEASE,      /* call `call` has left the engine: tear down all its legs */
	ACT_EVENT,        /* a journal/event-stream record; see `event` */
	ACT_DIAL_CALLBACK,/* customer first: dial callback `call`'s customer through
	                     queue `queue`'s callback_gateway (engine_call_view gives
	                     the number); answer engine_callback_connected, failure
	                     engine_callback_failed */
};

/* Journal events: what reports and the event stream are built from. */
enum eng_event {
	EV_CALL_ENTER,    /* call, queue; reason "" for a new call, "escalated" when a
	                     move brings it in (after EV_CALL_ESCALATE) */
	EV_CALL_REFUSED,  /* call, queue, reason: "limit", "empty", "unknown" */
	EV_CALL_OFFER,    /* call, queue, member, offer */
	EV_CALL_MISS,     /* call, queue, member, reason: "timeout", "rejected", "unreachable" */
	EV_CALL_ANSWER,   /* call, queue, member, value = wait ms in this queue */
	EV_CALL_ABANDON,  /* call, queue, reason: "waiting", "ringing"; "operator" for
	                     call.hangup before an answer, which no counter includes */
	EV_CALL_TIMEOUT,  /* call, queue */
	EV_CALL_END,      /* call, queue, member, value = talk ms, reason = who ended it:
	                     "caller", "agent", "operator" (call.hangup, shutdown),
	                     "transfer" (engine_call_transfer) */
	EV_AGENT_LOGIN,   /* member */
	EV_AGENT_LOGOUT,  /* member */
	EV_AGENT_READY,   /* member */
	EV_AGENT_AWAY,    /* member, reason */
	EV_AGENT_PAUSE,   /* member, queue */
	EV_AGENT_RESUME,  /* member, queue */
	EV_RECOVERY_START,/* member, queue */
	EV_RECOVERY_END,  /* member */
	EV_CALL_ESCALATE, /* call, queue (from), value = queue id (to), reason: "timeout",
	                     "limit", "empty", "noskill", "conflict", "zero_out": the call
	                     moved queues */
	EV_CALL_TRANSFER, /* call, queue, reason = destination ("member:1001", "hangup", ...) */
	EV_CALL_BUMP,     /* call, queue */
	EV_CALLBACK_REQUEST, /* call, queue, reason = number, value = position: a waiting
	                        caller asked to be called back and hung up */
	EV_CALLBACK_ATTEMPT, /* call, queue, member, value = attempt (1 = first): an agent
	                        answered a callback (customer first: member 0, its
	                        turn came); the customer is being dialed */
	EV_CALLBACK_RETRY,   /* call, queue, member, reason ("busy", "noanswer", "failed",
	                        "agent"), value = delay ms: an attempt failed, another
	                        follows after the delay */
	EV_CALLBACK_REACHED, /* call, queue, member: the customer answered (EV_CALL_ANSWER
	                        came just before; customer first: member 0, the call
	                        now waits at the front of its line) */
	EV_CALLBACK_FAILED,  /* call, queue, reason: "busy", "noanswer", "failed", "agent"
	                        (retries used up), "window" (its turn came outside the
	                        hours, callback_drop), "cancelled" (a manager): given up */
	EV_CALLBACK_MOVE,    /* call, queue, value = new position: a manager moved it */
};

/* Why a call left: carried by ACT_RELEASE. */
enum eng_release {
	REL_ABANDONED,    /* caller hung up (its leg is already gone) */
	REL_ENDED,        /* talk ended normally (one side hung up) */
	REL_TIMEOUT,      /* queue timeout reached */
	REL_REFUSED,      /* never entered: limit, empty, paused queue */
	REL_HANGUP,       /* operator call.hangup, or daemon shutdown */
	REL_TRANSFER,     /* sent to a destination outside the queues: see `dest`
	                     (escalation_dest, zero_out, "hangup", or the agent's
	                     transfer: engine_call_transfer) */
};

struct eng_action {
	enum eng_action_kind kind;
	eng_id call, queue, member, offer;
	eng_ms at;                  /* time of the transition */
	unsigned timeout_ms;        /* ACT_OFFER: ring time */
	enum eng_release release;   /* ACT_RELEASE */
	enum eng_event event;       /* ACT_EVENT */
	int64_t value;              /* ACT_EVENT: see enum eng_event */
	char reason[ENG_REASON_MAX];/* ACT_EVENT: reason text, may be "" */
	char dest[ENG_DEST_MAX];    /* ACT_RELEASE with REL_TRANSFER: "member:L", "group:A+B",
	                               "voicemail:L", "uri:sip:...", "hangup"; after
	                               engine_call_transfer also "queue:NAME" */
};

/* Counters shown by `stats`. Definitions (also in the README):
 *  waiting   calls in the queue now, not yet answered (ringing ones included)
 *  handled   calls answered by an agent of this queue
 *  abandoned calls whose caller hung up before an agent answered
 *  missed    offers not answered (timeout, reject, unreachable), plus calls
 *            that timed out in the queue, plus calls refused by the call limit
 *  longest_wait  wait of the longest-waiting call at the moment an agent answered
 *            it, the maximum since start (the guide's rule: updated on delivery)
 *  avg_wait  mean wait of answered calls; avg_talk mean talk of ended calls
 *  ready     members active here, logged in, globally ready (idle or not)
 *  busy      members on a call from this queue
 *  away      members logged in and paused here, or active here and globally away */
struct eng_queue_stats {
	unsigned waiting, handled, abandoned, missed;
	unsigned ready, busy, away;
	eng_ms longest_wait_ms, avg_wait_ms, avg_talk_ms;
	unsigned answered_in_sl;    /* answered within the queue's service_level */
	unsigned service_level_pct; /* answered_in_sl / answered calls, 0 when none */
};

enum eng_agent_activity { ACTV_IDLE, ACTV_RINGING, ACTV_ONCALL, ACTV_RECOVERY };

struct eng_member_view {
	eng_id id;
	char login[ENG_NAME_MAX];
	char name[ENG_NAME_MAX];
	enum eng_role role;
	bool logged_in;
	bool ready;                 /* global status: ready (true) or away */
	char away_reason[ENG_REASON_MAX];
	enum eng_agent_activity activity;
	eng_id call;                /* ringing or talking call, else 0 */
	bool missed;                /* a miss in the last 4 s (display only) */
	eng_ms recovery_left_ms;
	eng_ms retry_left_ms;       /* retry rest left, 0 when not resting */
	unsigned session_handled, session_offers;
	unsigned handled, missed_total;  /* since start, all queues */
};

struct eng_call_view {
	eng_id id, queue;
	char caller_number[ENG_NUMBER_MAX];
	char caller_name[ENG_NAME_MAX];
	char callee_number[ENG_NUMBER_MAX];
	unsigned position;          /* 1 = next to be offered */
	eng_ms entered, wait_ms;    /* first entry; wait from it (to the answer when talking) */
	eng_ms queue_wait_ms;       /* the same from the entry into this queue */
	bool talking;
	eng_id member;              /* ringing or talking member, else 0 */
	/* A callback: the number to call, dials so far, and whether it is
	 * held (waiting for its retry delay or the hours window) or being
	 * dialed (its agent answered, the customer rings). */
	bool callback, held, dialing;
	char callback_number[ENG_NUMBER_MAX];
	unsigned attempts;
};

struct eng_call_info {
	const char *caller_number, *caller_name, *callee_number, *callee_name;
};

/* Skills: global per member. A skill matches a call when all (match_all) or
 * any of its rules match. `matches` is a PCRE2 pattern, compiled once at
 * engine_skill_set with a match limit so a hostile pattern cannot stall the
 * engine. Rule text: "FIELD OP VALUE", parsed by skill_rule_parse (acd/skill.h). */
#define ENG_SKILL_RULES_MAX 16
#define ENG_SKILL_VALUE_MAX 128
enum eng_skill_field { SKF_CALLER_NUMBER, SKF_CALLER_NAME, SKF_CALLEE_NUMBER, SKF_CALLEE_NAME };
enum eng_skill_op { SKOP_STARTS_WITH, SKOP_MATCHES };
struct eng_skill_rule {
	enum eng_skill_field field;
	enum eng_skill_op op;
	char value[ENG_SKILL_VALUE_MAX];
};

/* ---- lifecycle ---- */
engine_t *engine_new(void);
void engine_free(engine_t *e);
/* Seeds the generator behind least-calls tie breaks (engine_new uses a fixed
 * seed, so runs are reproducible; tests pick their own). */
void engine_seed(engine_t *e, uint64_t seed);

/* ---- configuration (from the store at start, and from control verbs) ---- */
eng_id engine_queue_add(engine_t *e, eng_ms now, const struct eng_queue_conf *c);
bool engine_queue_update(engine_t *e, eng_ms now, eng_id q, const struct eng_queue_conf *c);
bool engine_queue_remove(engine_t *e, eng_ms now, eng_id q);   /* refused while it has calls */
eng_id engine_queue_find(const engine_t *e, const char *name);
/* The queue whose number, or one of whose dids, is `number`. */
eng_id engine_queue_by_number(const engine_t *e, const char *number);
const struct eng_queue_conf *engine_queue_conf(const engine_t *e, eng_id q);
size_t engine_queue_ids(const engine_t *e, eng_id *out, size_t max);   /* creation order */

eng_id engine_member_add(engine_t *e, const char *login, const char *name, enum eng_role role);
bool engine_member_update(engine_t *e, eng_id m, const char *name, enum eng_role role);
bool engine_member_remove(engine_t *e, eng_ms now, eng_id m);  /* refused while ringing/on call */
eng_id engine_member_find(const engine_t *e, const char *login);
size_t engine_member_ids(const engine_t *e, eng_id *out, size_t max);

/* Membership: a newly assigned member is paused in that queue unless `active`. */
bool engine_assign(engine_t *e, eng_ms now, eng_id q, eng_id m, bool manager, bool active);
bool engine_unassign(engine_t *e, eng_ms now, eng_id q, eng_id m);
bool engine_is_member(const engine_t *e, eng_id q, eng_id m, bool *manager, bool *active);
/* A member's priority level in q (1..ENG_PRIO_LEVELS; a new assignment has
 * ENG_PRIO_DEFAULT). False if not a member or prio is out of range. */
bool engine_set_priority(engine_t *e, eng_ms now, eng_id q, eng_id m, unsigned prio);
unsigned engine_priority(const engine_t *e, eng_id q, eng_id m);   /* 0: not a member */
/* The worst level a call waiting in q may be offered to now (see the top). */
unsigned engine_call_level(const engine_t *e, eng_ms now, eng_id call);

/* ---- agent state (control verbs and feature codes) ---- */
bool engine_agent_login(engine_t *e, eng_ms now, eng_id m);      /* login = logged in + ready */
/* Logout and away asked for while on a call apply when the call ends (their
 * events come then, after EV_CALL_END); while ringing they withdraw the offer
 * at once; in recovery they apply at once. Ready (or login) during the call
 * cancels a pending one. */
bool engine_agent_logout(engine_t *e, eng_ms now, eng_id m);
bool engine_agent_ready(engine_t *e, eng_ms now, eng_id m);
bool engine_agent_away(engine_t *e, eng_ms now, eng_id m, const char *reason);
bool engine_agent_pause(engine_t *e, eng_ms now, eng_id q, eng_id m);  /* q = 0: all its queues */
bool engine_agent_resume(engine_t *e, eng_ms now, eng_id q, eng_id m);
/* agent.extend / *56: recovery grows by the queue's recovery_extend; once per
 * recovery unless recovery_multi. False if not in recovery or not allowed. */
bool engine_agent_extend(engine_t *e, eng_ms now, eng_id m);
bool engine_member_view(const engine_t *e, eng_ms now, eng_id m, struct eng_member_view *out);

/* ---- calls (SIP adapter) ---- */
/* A caller enters queue q. Returns the new call id, or 0 if refused (the
 * outbox then holds EV_CALL_REFUSED and ACT_RELEASE with REL_REFUSED, both
 * naming a fresh call id that nothing else will use). A call the queue
 * cannot take but escalates (limit, empty, no skill) gets an id: it may be
 * in another queue already, or released (REL_TRANSFER) in this same outbox. */
eng_id engine_call_enter(engine_t *e, eng_ms now, eng_id q, const struct eng_call_info *ci);
/* Whether engine_call_enter would take a call into q now (not refuse it). */
bool engine_call_admissible(const engine_t *e, eng_id q);
/* The caller hung up (any stage; a talking call ends with reason "caller"). */
bool engine_call_hangup(engine_t *e, eng_ms now, eng_id call);
/* Operator hang-up (call.hangup). False for a pending callback
 * (engine_callback_cancel ends those): a shutdown keeps it for the restart. */
bool engine_call_drop(engine_t *e, eng_ms now, eng_id call);
/* Offer outcomes. Return false if the offer is no longer current: the adapter
 * then ends its agent leg itself (BYE after a late 200, nothing after a 4xx).
 * Failure reasons: "rejected" (486/600/603), "timeout" (408/480/487),
 * "unreachable" (anything else, no registered phone) are the agent's miss
 * (NULL or "" = "rejected"); "local" = the adapter could not place the offer
 * (no free port, no leg): withdrawn without a miss, the agent rests
 * ENG_RETRY_LOCAL_MS. Either way the agent rests (see the top). */
bool engine_offer_answered(engine_t *e, eng_ms now, eng_id offer);
bool engine_offer_failed(engine_t *e, eng_ms now, eng_id offer, const char *reason);
/* The agent's side of a bridged call hung up (the caller's side is
 * engine_call_hangup): EV_CALL_END with reason "agent". */
bool engine_talk_end(engine_t *e, eng_ms now, eng_id call);
/* The agent of a talking call sends the caller on (a REFER from the agent's
 * phone): the call ends for the agent like any talk end (EV_CALL_END, the
 * agent to recovery, pending logout/away applied), then EV_CALL_TRANSFER with
 * reason = dest and ACT_RELEASE with REL_TRANSFER and dest ("member:L",
 * "queue:NAME", "uri:..."). A "queue:NAME" dest is released like the others:
 * the adapter enters the caller into NAME as a new call. False unless the
 * call is talking and dest is not empty. */
bool engine_call_transfer(engine_t *e, eng_ms now, eng_id call, const char *dest);
bool engine_call_view(const engine_t *e, eng_ms now, eng_id call, struct eng_call_view *out);
/* Waiting and talking calls of queue q: waiting/ringing ones in offer order
 * (position 1..n), then talking ones (position 0). Returns how many were
 * written, at most max. */
size_t engine_call_list(const engine_t *e, eng_ms now, eng_id q, struct eng_call_view *out, size_t max);

/* Caller keyed a DTMF digit: "#0" while waiting or ringing sends the call to
 * the queue's zero_out destination: any offer is withdrawn (no miss), the
 * queue counts it abandoned (EV_CALL_ABANDON, reason "zero_out"), then
 * REL_TRANSFER with dest = zero_out, or for "queue:NAME" a move to NAME
 * (EV_CALL_ESCALATE, reason "zero_out"). False only for an unknown call. */
bool engine_call_digit(engine_t *e, eng_ms now, eng_id call, char digit);
/* Manager: make this call the next one offered in its queue (ahead of older
 * calls of other queues too; EV_CALL_BUMP). False if talking or unknown. */
bool engine_call_bump(engine_t *e, eng_ms now, eng_id call);
/* Manager answers a waiting call on member m's phone: any current offer is
 * withdrawn (no miss) and m is offered the call whatever its status (not
 * logged in, away, not assigned; recovery ends). The offer is a normal
 * ACT_OFFER with the queue's connect_timeout, never withdrawn by m's status
 * changes; a retry rest of m ends. Answered, it counts handled for the queue
 * and m; missed, it is a miss without force_away (m rests as after any miss)
 * and the call goes back to its place in line.
 * Returns the offer id, or 0 if the call is not waiting or m is ringing/on a
 * call. */
eng_id engine_call_pickup(engine_t *e, eng_ms now, eng_id call, eng_id m);
/* The `wait` announcement for a waiting call, in seconds, by its queue's
 * estimator: WAIT_LAST5 = mean wait (from entry into the queue) of its last 5
 * answered calls, 0 if none; WAIT_THROUGHPUT = position x mean handle time of
 * the queue's last 20 ended calls (talk + the queue's recovery; 120 s if
 * none) / max(1, members logged in, ready and active there). 0 when talking. */
unsigned engine_wait_estimate(const engine_t *e, eng_ms now, eng_id call);
/* Restores the answered waits WAIT_LAST5 averages (oldest first, at most the
 * last 5 count), so the announcement survives a restart (store_load reads
 * them from the journal). Counters are not touched. */
void engine_queue_restore_waits(engine_t *e, eng_id q, const eng_ms *waits, size_t n);

/* ---- callbacks ---- */
/* Local time of day, for the callback hours: `origin` is the monotonic time
 * of a local midnight (the adapter's clock: now - ms since local midnight);
 * the minute of day at t is (t - origin) / 60000 mod 1440. The adapter sets
 * it at start and again now and then (DST); tests set their own. Until set,
 * origin 0. */
void engine_set_day_origin(engine_t *e, eng_ms origin);
/* Whether a waiting caller may be offered a callback now: the queue has a
 * callback_gateway, its estimated wait exceeds callback_wait_s, the call is
 * not one already nor a reached customer-first callback waiting again, and
 * the hours window is open (or callback_drop is off). engine_call_callback
 * refuses those calls too. */
bool engine_callback_offerable(const engine_t *e, eng_ms now, eng_id call);
/* The caller of a waiting (or ringing: the offer is withdrawn, no miss) call
 * confirmed a callback to `number` and will hang up: the call stays in line
 * at its place with its entry time (EV_CALLBACK_REQUEST), has no queue
 * timeout any more, and its caller's hang-up changes nothing. False (nothing
 * changes) if the queue has no callbacks, the number is empty, or another
 * callback of this queue has the same number. */
bool engine_call_callback(engine_t *e, eng_ms now, eng_id call, const char *number);
/* Agent first: a callback is offered like any call (ACT_OFFER). When the
 * agent answers, ACT_BRIDGE asks the adapter to dial the customer
 * (EV_CALLBACK_ATTEMPT); the call keeps its place meanwhile. The adapter
 * then reports: reached (the customer answered: EV_CALL_ANSWER, handled,
 * EV_CALLBACK_REACHED; the call talks), or failed with a reason ("busy",
 * "noanswer", "failed"; engine_talk_end during the dial is "agent"): the
 * agent is free at once, and the callback is held at its place for
 * callback_retry_delay_s (EV_CALLBACK_RETRY), or after callback_retries
 * retries given up (EV_CALLBACK_FAILED, ACT_RELEASE REL_HANGUP). A callback
 * whose turn comes outside the hours is held until they open, or with
 * callback_drop given up (reason "window"). Never queue timeouts, escalation
 * or zero-out for a callback. */
bool engine_callback_reached(engine_t *e, eng_ms now, eng_id call);
bool engine_callback_failed(engine_t *e, eng_ms now, eng_id call, const char *reason);
/* Managers: cancel (EV_CALLBACK_FAILED "cancelled", ACT_RELEASE REL_HANGUP;
 * an agent ringing or dialing for it is let go), move to `position` in its
 * line (1 = next; EV_CALLBACK_MOVE), place now (the next offered, whatever
 * its retry delay or the hours; EV_CALL_BUMP reason "callback.now"). False
 * if the call is no callback, or (move, now) is being dialed or talking. */
bool engine_callback_cancel(engine_t *e, eng_ms now, eng_id call);
/* Customer first (callback_customer_first): when a callback's turn comes and
 * an agent is available for it, it is not offered: the engine asks the
 * adapter to dial the customer (ACT_DIAL_CALLBACK, EV_CALLBACK_ATTEMPT with
 * no member; state dialing, at its place, no agent reserved; at most as many
 * dials at once as the queue has available agents). The customer answered:
 * engine_callback_connected makes it a live waiting call at the front of
 * its line (EV_CALLBACK_REACHED with no member; no queue timeout), offered to
 * agents like any caller. A failure goes through engine_callback_failed as
 * in agent first (no agent to free). False if the call is not such a
 * dialing callback. */
bool engine_callback_connected(engine_t *e, eng_ms now, eng_id call);
bool engine_callback_move(engine_t *e, eng_ms now, eng_id call, unsigned position);
bool engine_callback_now(engine_t *e, eng_ms now, eng_id call);
/* After a restart: a pending callback joins the end of q's line with its
 * entry time (monotonic, may be long ago) and attempts, without events.
 * Returns the new call id, or 0 (unknown queue, duplicate number). */
eng_id engine_callback_restore(engine_t *e, eng_ms now, eng_id q, const struct eng_call_info *ci,
                               const char *number, eng_ms entered, unsigned attempts);

/* ---- skills ---- */
/* Skill changes reach the queues at the next dispatch: until then
 * engine_next_deadline returns 0 (due now), so the adapter's next tick offers
 * what became possible. Which skills a call matches is decided once, when it
 * enters. At most 64 skills. */
/* Creates or replaces a skill. -1 with err (PCRE2's message and offset for a
 * bad pattern: "rule 2: PCRE2 error at offset 3: missing closing parenthesis")
 * if the name or a rule is invalid; nothing changes then. */
int engine_skill_set(engine_t *e, const char *name, bool match_all,
                     const struct eng_skill_rule *rules, size_t n, char *err, size_t errlen);
bool engine_skill_del(engine_t *e, const char *name);
bool engine_skill_assign(engine_t *e, eng_id m, const char *skill, bool on);
/* Skill names in creation order; the n-th skill's rules. */
size_t engine_skill_names(const engine_t *e, const char **out, size_t max);
bool engine_skill_get(const engine_t *e, const char *name, bool *match_all,
                      struct eng_skill_rule *rules, size_t *n);
bool engine_member_has_skill(const engine_t *e, eng_id m, const char *skill);
/* Would making queue `queue` send calls to queue `target` (its
 * escalation_queue, or NAME of an escalation_dest queue:NAME) make a loop?
 * Follows both links of every queue on the way. True for target == queue. */
bool engine_escalation_loop(const engine_t *e, const char *queue, const char *target);

/* ---- time ---- */
void engine_tick(engine_t *e, eng_ms now);
eng_ms engine_next_deadline(const engine_t *e);   /* ENG_NEVER if none; 0 = due now */

/* ---- outbox ---- */
bool engine_next_action(engine_t *e, struct eng_action *out);

/* ---- reading ---- */
bool engine_queue_stats(const engine_t *e, eng_ms now, eng_id q, struct eng_queue_stats *out);

const char *engine_strategy_name(enum eng_strategy s);
bool engine_strategy_parse(const char *s, enum eng_strategy *out);
const char *engine_role_name(enum eng_role r);
bool engine_role_parse(const char *s, enum eng_role *out);
const char *engine_event_name(enum eng_event ev);

#endif

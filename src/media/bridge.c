/* bridge.c — caller-agent bridges on the media thread: who hears whom
 * (bridge_route), spies joining and leaving, bridge hold, and the recordings
 * tied to a bridge or a leg. A bridge ends as a whole when its caller or agent
 * leaves (freed, re-bridged, given another thing to do): the other member gets
 * silence, a listener gets silence and MEV_SPY_END, a recording is finished.
 *
 * A plain bridge relays: each leg's packets go to the other as they arrive
 * (leg.c). A listener joining, or the agent holding, makes it mixed: the tick
 * sends each member its mix; leaving switches it back. Legs keep decoded
 * audio (a jitter buffer) only while mixed or recorded.
 */
#include "media/media_int.h"

#include <string.h>

static void bridge_hears(struct leg *l, struct leg *a, struct leg *b)
{
	l->nhear = 0;
	if (a)
		l->hear[l->nhear++] = a;
	if (b)
		l->hear[l->nhear++] = b;
}

/* The routing table of the guide: listen, whisper, barge; hold cuts the
 * caller off from the agent both ways. */
static void bridge_relay(struct leg *l, struct leg *to)
{
	if (l->relay_to != to)
		l->anchored = false;           /* the next packet fixes the timestamp offset */
	l->relay_to = to;
}

/* Legs keep audio while mixed or recorded (leg_need_audio). */
static void bridge_audio(struct bridge *br)
{
	leg_need_audio(br->caller);
	leg_need_audio(br->agent);
	if (br->listener)
		leg_need_audio(br->listener);
}

static void bridge_route(struct bridge *br)
{
	struct leg *c = br->caller, *a = br->agent, *li = br->listener;
	bool to_agent = li && br->mode != MEDIA_LISTEN, to_caller = li && br->mode == MEDIA_BARGE;
	bridge_hears(c, br->held ? NULL : a, to_caller ? li : NULL);
	bridge_hears(a, br->held ? NULL : c, to_agent ? li : NULL);
	if (li)
		bridge_hears(li, c, a);
	br->mixed = li || br->held;
	bridge_relay(c, br->mixed ? NULL : a);
	bridge_relay(a, br->mixed ? NULL : c);
	bridge_audio(br);
}

static void bridge_member(struct leg *l, struct bridge *br, enum leg_role role)
{
	l->br = br;
	l->role = role;
	l->mode = LEG_BRIDGE;
}

static void bridge_unmember(struct leg *l)
{
	l->br = NULL;
	l->nhear = 0;
	l->mode = LEG_SILENCE;
	bridge_relay(l, NULL);
	leg_need_audio(l);
}

static void bridge_end_spy(struct media *m, struct bridge *br)
{
	struct leg *li = br->listener;
	if (!li)
		return;
	br->listener = NULL;
	bridge_unmember(li);
	media_emit(m, MEV_SPY_END, li->id, 0);
}

void bridge_leave(struct media *m, struct leg *l)
{
	struct bridge *br = l->br;
	if (!br)
		return;
	if (l->role == ROLE_LISTENER) {
		br->listener = NULL;
		bridge_unmember(l);
		bridge_route(br);
		return;
	}
	bridge_end_spy(m, br);
	if (br->rec)
		rec_finish(m->recorder, br->rec);
	struct leg *c = br->caller, *a = br->agent;
	memset(br, 0, sizeof *br);
	bridge_unmember(c);
	bridge_unmember(a);
}

void bridge_join(struct media *m, struct leg *caller, struct leg *agent)
{
	bridge_leave(m, caller);
	bridge_leave(m, agent);
	struct bridge *br = &caller->bridge_store;
	*br = (struct bridge){ .caller = caller, .agent = agent };
	bridge_member(caller, br, ROLE_CALLER);
	bridge_member(agent, br, ROLE_AGENT);
	bridge_route(br);
}

void bridge_hold(struct leg *caller, bool on, const struct holdloop *prog, const char *lang)
{
	struct bridge *br = caller->br;
	if (!br || caller->role != ROLE_CALLER)
		return;
	if (on && !br->held)
		leg_program(caller, prog, lang);
	br->held = on;
	bridge_route(br);
}

void bridge_spy(struct media *m, struct leg *listener, struct leg *caller, struct leg *agent,
                enum media_spy_mode mode)
{
	struct bridge *br = caller->br;
	bridge_leave(m, listener);
	if (!br || br != agent->br || caller->role == ROLE_LISTENER || agent->role == ROLE_LISTENER) {
		listener->mode = LEG_SILENCE;
		media_emit(m, MEV_SPY_END, listener->id, 0);
		return;
	}
	bridge_end_spy(m, br);
	br->listener = listener;
	br->mode = mode;
	bridge_member(listener, br, ROLE_LISTENER);
	bridge_route(br);
}

void bridge_spy_mode(struct leg *listener, enum media_spy_mode mode)
{
	if (!listener->br || listener->role != ROLE_LISTENER)
		return;
	listener->br->mode = mode;
	bridge_route(listener->br);
}

void bridge_record(struct media *m, struct leg *caller, struct leg *agent, struct rec *r)
{
	struct bridge *br = caller->br;
	if (!br || br != agent->br || caller->role == ROLE_LISTENER || agent->role == ROLE_LISTENER)
		rec_abort(m->recorder, r, "the legs are not bridged");
	else if (br->rec)
		rec_abort(m->recorder, r, "the call is already being recorded");
	else
		br->rec = r;
	if (br)
		bridge_audio(br);
}

void bridge_leg_record(struct media *m, struct leg *l, struct rec *r)
{
	if (l->rec) {
		rec_abort(m->recorder, r, "the leg is already being recorded");
		return;
	}
	l->rec = r;
	leg_need_audio(l);
}

void bridge_record_stop(struct mthread *t, uint32_t id)
{
	struct media *m = t->m;
	for (unsigned i = 0; i < t->nactive; i++) {
		struct leg *l = t->active[i];
		struct bridge *br = l->role == ROLE_CALLER ? l->br : NULL;
		if (br && br->rec && rec_id(br->rec) == id) {
			rec_finish(m->recorder, br->rec);
			br->rec = NULL;
			bridge_audio(br);
		}
		if (l->rec && rec_id(l->rec) == id) {
			rec_finish(m->recorder, l->rec);
			l->rec = NULL;
			leg_need_audio(l);
		}
	}
}

/* Stops r if it is full or failed; true if it did. */
static bool bridge_rec_over(struct media *m, struct rec **r)
{
	if (!rec_full(*r) && !rec_failed(*r))
		return false;
	rec_finish(m->recorder, *r);
	*r = NULL;
	return true;
}

/* After every leg pulled its frame: one frame into each recording l owns. */
void bridge_record_tick(struct media *m, struct leg *l)
{
	if (l->rec) {
		if (bridge_rec_over(m, &l->rec))
			leg_need_audio(l);
		else
			rec_push(m->recorder, l->rec, leg_said(l));
	}
	struct bridge *br = l->role == ROLE_CALLER ? l->br : NULL;
	if (!br || !br->rec || br->held)
		return;
	if (bridge_rec_over(m, &br->rec)) {
		bridge_audio(br);
		return;
	}
	int16_t right[MEDIA_FRAME], st[2 * MEDIA_FRAME];
	const int16_t *src[2] = { leg_said(br->agent), br->listener ? leg_said(br->listener) : NULL };
	const int16_t *left = leg_said(l);
	mix_sum(right, src, br->listener && br->mode == MEDIA_BARGE ? 2 : 1, MEDIA_FRAME);
	for (unsigned i = 0; i < MEDIA_FRAME; i++) {
		st[2 * i] = left[i];
		st[2 * i + 1] = right[i];
	}
	rec_push(m->recorder, br->rec, st);
}

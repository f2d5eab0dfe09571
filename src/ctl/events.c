/* events.c — see events.h.
 *
 * A subscriber is a connection and the queue ids it follows. An event is
 * formatted once and handed to each interested subscriber's bounded output
 * buffer (ctl_conn_send); a connection that cannot take it is being dropped
 * by the server, so it is forgotten here at once. Publishing is one pass over
 * the subscribers, with a membership check per followed queue for the
 * events that name a member but no queue (login, away, ...).
 *
 * Line: EVENT <name> time=<unix ms> call=<id|0> queue=<name> member=<login>
 * value=<n> reason=<text>, every key always present ("" when empty).
 */
#include "ctl/events.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/proto.h"

struct events_sub {
	struct events_sub *next;
	ctl_conn_t *conn;
	eng_id self;                /* an agent: sees other members only where show_agents */
	size_t nqueues;             /* 0: every queue */
	eng_id queues[];
};

struct events {
	struct events_sub *subs;
};

events_t *events_new(void)
{
	return calloc(1, sizeof(events_t));
}

void events_free(events_t *ev)
{
	if (!ev)
		return;
	while (ev->subs) {
		struct events_sub *s = ev->subs;
		ev->subs = s->next;
		free(s);
	}
	free(ev);
}

/* Unlinks and frees the subscription of c, if any. */
static void events_forget(events_t *ev, const ctl_conn_t *c)
{
	for (struct events_sub **pp = &ev->subs; *pp; pp = &(*pp)->next) {
		if ((*pp)->conn == c) {
			struct events_sub *s = *pp;
			*pp = s->next;
			free(s);
			return;
		}
	}
}

/* Subscribing again replaces the queue list. */
int events_subscribe(events_t *ev, ctl_conn_t *c, const eng_id *queues, size_t n, eng_id self)
{
	struct events_sub *s = malloc(sizeof *s + n * sizeof s->queues[0]);
	if (!s)
		return -1;
	events_forget(ev, c);
	s->conn = c;
	s->self = self;
	s->nqueues = n;
	if (n)
		memcpy(s->queues, queues, n * sizeof s->queues[0]);
	s->next = ev->subs;
	ev->subs = s;
	return 0;
}

void events_unsubscribe(events_t *ev, ctl_conn_t *c)
{
	if (ev)
		events_forget(ev, c);
}

static bool events_member_visible(const struct events_sub *s, const engine_t *e, eng_id q,
                                  eng_id member)
{
	const struct eng_queue_conf *qc;
	if (!s->self || !member || member == s->self)
		return true;
	qc = engine_queue_conf(e, q);
	return qc && qc->show_agents;
}

/* Does subscriber s follow the event? A queue-less event about a member
 * concerns the queues that member belongs to. */
static bool events_wanted(const struct events_sub *s, const engine_t *e, const struct eng_action *a)
{
	if (s->nqueues == 0)
		return true;
	for (size_t i = 0; i < s->nqueues; i++) {
		eng_id q = s->queues[i];
		bool about = a->queue ? q == a->queue
		                      : a->member && engine_is_member(e, q, a->member, NULL, NULL);
		if (about && events_member_visible(s, e, q, a->member))
			return true;
	}
	return false;
}

static int64_t events_wallclock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats the event line; false if it did not fit (it always does: names
 * are bounded well below CTL_LINE_MAX). */
static bool events_format(const engine_t *e, const struct eng_action *a, struct ctl_out *o)
{
	const struct eng_queue_conf *qc = a->queue ? engine_queue_conf(e, a->queue) : NULL;
	struct eng_member_view mv = { .login = "" };
	char num[24];
	if (a->member)
		engine_member_view(e, a->at, a->member, &mv);
	ctl_out_raw(o, "EVENT");
	ctl_out_word(o, engine_event_name(a->event));
	snprintf(num, sizeof num, "%lld", (long long)events_wallclock_ms());
	ctl_out_kv(o, "time", num);
	ctl_out_kvu(o, "call", a->call);
	ctl_out_kv(o, "queue", qc ? qc->name : "");
	ctl_out_kv(o, "member", mv.login);
	snprintf(num, sizeof num, "%lld", (long long)a->value);
	ctl_out_kv(o, "value", num);
	ctl_out_kv(o, "reason", a->reason);
	ctl_out_nl(o);
	return !o->truncated;
}

void events_publish(events_t *ev, const engine_t *e, const struct eng_action *a)
{
	char line[CTL_LINE_MAX + 1];
	struct ctl_out o;
	bool formatted = false;
	if (!ev || a->kind != ACT_EVENT)
		return;
	ctl_out_init(&o, line, sizeof line);
	struct events_sub **pp = &ev->subs;
	while (*pp) {
		struct events_sub *s = *pp;
		if (!events_wanted(s, e, a)) {
			pp = &s->next;
			continue;
		}
		if (!formatted && !events_format(e, a, &o))
			return;
		formatted = true;
		if (ctl_conn_send(s->conn, o.buf, o.len)) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		free(s);
	}
}

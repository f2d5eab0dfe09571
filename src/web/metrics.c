/* metrics.c — see web.h. Counters since callqd started, per queue, counted
 * by report_count_call (the one definition that reports and `stats` use)
 * from the same engine events, plus a histogram of answered waits. */
#include "web/web.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/clock.h"
#include "core/idmap.h"
#include "sip/sip.h"
#include "store/queuelog.h"

const unsigned metrics_wait_le[METRICS_WAIT_BUCKETS] = { 5, 10, 15, 20, 30, 45, 60, 120, 300, 600 };

struct metrics_q {
	struct report_row totals;
	uint64_t wait_le[METRICS_WAIT_BUCKETS];
};

struct metrics {
	struct idmap queues;        /* queue id -> struct metrics_q */
	struct report_zero_out zero;
};

metrics_t *metrics_new(void)
{
	metrics_t *m = calloc(1, sizeof *m);
	if (m)
		idmap_init(&m->queues);
	return m;
}

void metrics_free(metrics_t *m)
{
	if (!m)
		return;
	for (uint32_t q; (q = idmap_any(&m->queues)) != 0;)
		free(idmap_del(&m->queues, q));
	idmap_free(&m->queues);
	free(m);
}

static struct metrics_q *metrics_q(metrics_t *m, eng_id q)
{
	struct metrics_q *mq = idmap_get(&m->queues, q);
	if (mq)
		return mq;
	mq = calloc(1, sizeof *mq);
	if (mq && idmap_put(&m->queues, q, mq) < 0) {
		free(mq);
		mq = NULL;
	}
	return mq;
}

static void metrics_add(struct report_row *t, const struct report_row *d)
{
	t->offered += d->offered;
	t->handled += d->handled;
	t->missed += d->missed;
	t->abandoned += d->abandoned;
	t->waits += d->waits;
	t->talks += d->talks;
	t->answered_in_sl += d->answered_in_sl;
	t->wait_sum_ms += d->wait_sum_ms;
	t->talk_sum_ms += d->talk_sum_ms;
	if (d->max_wait_ms > t->max_wait_ms)
		t->max_wait_ms = d->max_wait_ms;
	t->cb_requested += d->cb_requested;
	t->cb_attempted += d->cb_attempted;
	t->cb_reached += d->cb_reached;
	t->cb_failed += d->cb_failed;
}

void metrics_event(metrics_t *m, const engine_t *e, const struct eng_action *ev)
{
	const struct eng_queue_conf *qc = engine_queue_conf(e, ev->queue);
	struct report_call c = { .ev = ev->event, .call = ev->call, .run = -1, .value = ev->value,
	                         .reason = ev->reason };
	struct report_row delta = { .kind = REPORT_QUEUE,
	                            .sl_ms = qc ? (int64_t)qc->service_level_s * 1000 : 0 };
	struct metrics_q *mq = qc ? metrics_q(m, ev->queue) : NULL;
	report_count_call(mq ? &delta : NULL, &m->zero, &c);
	if (!mq)
		return;
	metrics_add(&mq->totals, &delta);
	if (delta.waits == 0)
		return;
	for (size_t i = 0; i < METRICS_WAIT_BUCKETS; i++)
		if (delta.wait_sum_ms <= (int64_t)metrics_wait_le[i] * 1000)
			mq->wait_le[i]++;
}

void metrics_queue_totals(const metrics_t *m, eng_id q, struct report_row *totals,
                          uint64_t wait_le[METRICS_WAIT_BUCKETS])
{
	const struct metrics_q *mq = idmap_get(&m->queues, q);
	memset(totals, 0, sizeof *totals);
	memset(wait_le, 0, METRICS_WAIT_BUCKETS * sizeof wait_le[0]);
	if (!mq)
		return;
	*totals = mq->totals;
	memcpy(wait_le, mq->wait_le, sizeof mq->wait_le);
}

/* ---- text format ---- */

static void metrics_head(struct jbuf *o, const char *name, const char *type, const char *help)
{
	jbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{queue="Q"[,extra]} — label values escaped as the format asks. */
static void metrics_series(struct jbuf *o, const char *name, const char *queue, const char *extra)
{
	jbuf_lit(o, name);
	jbuf_lit(o, "{queue=\"");
	for (const char *p = queue; *p; p++) {
		if (*p == '\\' || *p == '"')
			jbuf_raw(o, "\\", 1);
		if (*p == '\n')
			jbuf_lit(o, "\\n");
		else
			jbuf_raw(o, p, 1);
	}
	jbuf_lit(o, "\"");
	if (extra) {
		jbuf_lit(o, ",");
		jbuf_lit(o, extra);
	}
	jbuf_lit(o, "} ");
}

static void metrics_seconds(struct jbuf *o, int64_t ms)
{
	jbuf_printf(o, "%lld.%03lld\n", (long long)(ms / 1000), (long long)(ms % 1000));
}

enum mq_field {
	F_WAITING, F_LONGEST, F_OFFERED, F_HANDLED, F_ABANDONED, F_MISSED, F_TALK, F_SL,
	F_CB_REQUESTED, F_CB_ATTEMPTED, F_CB_REACHED, F_CB_FAILED,
};

static const struct {
	const char *name, *type, *help;
} mq_fields[] = {
	[F_WAITING] = { "callq_queue_waiting", "gauge",
	                "Calls in the queue now that no agent has answered (ringing ones included)." },
	[F_LONGEST] = { "callq_queue_longest_wait_seconds", "gauge",
	                "Wait so far of the longest-waiting unanswered call." },
	[F_OFFERED] = { "callq_queue_offered_total", "counter",
	                "Calls that arrived (entered or refused) since callqd started." },
	[F_HANDLED] = { "callq_queue_handled_total", "counter",
	                "Calls answered by an agent since callqd started." },
	[F_ABANDONED] = { "callq_queue_abandoned_total", "counter",
	                  "Calls whose caller hung up before an answer, or left with #0, since start." },
	[F_MISSED] = { "callq_queue_missed_total", "counter",
	               "Unanswered offers, queue timeouts and refusals since callqd started." },
	[F_TALK] = { "callq_queue_talk_seconds_total", "counter",
	             "Talk time of the calls that ended since callqd started." },
	[F_SL] = { "callq_queue_service_level_ratio", "gauge",
	           "Share of answered calls answered within the queue's service_level (1 if none)." },
	[F_CB_REQUESTED] = { "callq_queue_callbacks_requested_total", "counter",
	                     "Callers who confirmed a callback, since callqd started." },
	[F_CB_ATTEMPTED] = { "callq_queue_callbacks_attempted_total", "counter",
	                     "Dials of a callback's customer since callqd started." },
	[F_CB_REACHED] = { "callq_queue_callbacks_reached_total", "counter",
	                   "Callbacks whose customer answered, since callqd started." },
	[F_CB_FAILED] = { "callq_queue_callbacks_failed_total", "counter",
	                  "Callbacks given up (retries used up, outside the hours, cancelled) since start." },
};

static void metrics_field(struct jbuf *o, enum mq_field f, const struct metrics_queue_view *q)
{
	const struct report_row *t = &q->totals;
	metrics_series(o, mq_fields[f].name, q->name, NULL);
	switch (f) {
	case F_WAITING:
		jbuf_printf(o, "%u\n", q->waiting);
		break;
	case F_LONGEST:
		metrics_seconds(o, q->longest_wait_ms);
		break;
	case F_OFFERED:
		jbuf_printf(o, "%u\n", t->offered);
		break;
	case F_HANDLED:
		jbuf_printf(o, "%u\n", t->handled);
		break;
	case F_ABANDONED:
		jbuf_printf(o, "%u\n", t->abandoned);
		break;
	case F_MISSED:
		jbuf_printf(o, "%u\n", t->missed);
		break;
	case F_TALK:
		metrics_seconds(o, t->talk_sum_ms);
		break;
	case F_SL:
		if (t->handled)
			jbuf_printf(o, "%.4f\n", (double)t->answered_in_sl / t->handled);
		else
			jbuf_lit(o, "1\n");
		break;
	case F_CB_REQUESTED:
		jbuf_printf(o, "%u\n", t->cb_requested);
		break;
	case F_CB_ATTEMPTED:
		jbuf_printf(o, "%u\n", t->cb_attempted);
		break;
	case F_CB_REACHED:
		jbuf_printf(o, "%u\n", t->cb_reached);
		break;
	case F_CB_FAILED:
		jbuf_printf(o, "%u\n", t->cb_failed);
		break;
	}
}

static void metrics_agents(struct jbuf *o, const struct metrics_queue_view *qs, size_t nq)
{
	metrics_head(o, "callq_queue_agents", "gauge",
	             "Members of the queue by state: ready, busy (on a call from it), away.");
	for (size_t i = 0; i < nq; i++) {
		metrics_series(o, "callq_queue_agents", qs[i].name, "state=\"ready\"");
		jbuf_printf(o, "%u\n", qs[i].ready);
		metrics_series(o, "callq_queue_agents", qs[i].name, "state=\"busy\"");
		jbuf_printf(o, "%u\n", qs[i].busy);
		metrics_series(o, "callq_queue_agents", qs[i].name, "state=\"away\"");
		jbuf_printf(o, "%u\n", qs[i].away);
	}
}

static void metrics_histogram(struct jbuf *o, const struct metrics_queue_view *qs, size_t nq)
{
	metrics_head(o, "callq_queue_wait_seconds", "histogram",
	             "Wait from first entry to answer of the calls answered since callqd started.");
	for (size_t i = 0; i < nq; i++) {
		char le[32];
		for (size_t b = 0; b < METRICS_WAIT_BUCKETS; b++) {
			snprintf(le, sizeof le, "le=\"%u\"", metrics_wait_le[b]);
			metrics_series(o, "callq_queue_wait_seconds_bucket", qs[i].name, le);
			jbuf_printf(o, "%llu\n", (unsigned long long)qs[i].wait_le[b]);
		}
		metrics_series(o, "callq_queue_wait_seconds_bucket", qs[i].name, "le=\"+Inf\"");
		jbuf_printf(o, "%u\n", qs[i].totals.waits);
		metrics_series(o, "callq_queue_wait_seconds_sum", qs[i].name, NULL);
		metrics_seconds(o, qs[i].totals.wait_sum_ms);
		metrics_series(o, "callq_queue_wait_seconds_count", qs[i].name, NULL);
		jbuf_printf(o, "%u\n", qs[i].totals.waits);
	}
}

static void metrics_one(struct jbuf *o, const char *name, const char *type, const char *help,
                        unsigned long long v)
{
	metrics_head(o, name, type, help);
	jbuf_printf(o, "%s %llu\n", name, v);
}

static void metrics_process(struct jbuf *o, const struct metrics_process_view *p)
{
	metrics_one(o, "callq_calls_in_progress", "gauge", "Calls callqd is carrying now.", p->calls);
	metrics_one(o, "callq_media_legs", "gauge", "RTP legs of the media engine.", p->legs);
	metrics_one(o, "callq_media_rx_packets_total", "counter", "RTP packets received.",
	            p->rx_packets);
	metrics_one(o, "callq_media_rx_foreign_total", "counter",
	            "RTP packets dropped: from an address the leg does not talk to.", p->rx_foreign);
	metrics_one(o, "callq_media_tx_packets_total", "counter", "RTP packets sent.", p->tx_packets);
	metrics_one(o, "callq_media_tx_errors_total", "counter",
	            "RTP packets the system refused to send (buffer full, destination unreachable).",
	            p->tx_errors);
	metrics_one(o, "callq_media_ticks_total", "counter", "20 ms media ticks run.", p->ticks);
	metrics_one(o, "callq_media_late_ticks_total", "counter",
	            "Media ticks that woke more than 1 ms after their deadline.", p->late_ticks);
	metrics_one(o, "callq_media_skipped_ticks_total", "counter",
	            "Media periods skipped because a tick overran.", p->skipped_ticks);
	metrics_one(o, "callq_sip_refused_total", "counter",
	            "Unauthenticated SIP requests refused (bad credentials, ACL, caps).", p->sip_refused);
	metrics_one(o, "callq_sip_shut_out_total", "counter",
	            "Password-guessing shut-outs started (a source and login blocked).", p->sip_shut_out);
	metrics_one(o, "callq_sip_guarded_total", "counter",
	            "SIP requests answered 403 while their source was shut out.", p->sip_guarded);
	metrics_one(o, "callq_web_sessions", "gauge", "Logged-in browser sessions.", p->web_sessions);
	metrics_one(o, "callq_web_event_streams", "gauge", "Open /api/events streams.",
	            p->web_streams);
	metrics_one(o, "callq_journal_dropped_total", "counter",
	            "Journal records lost because the writer's ring was full.", p->journal_dropped);
	metrics_one(o, "callq_queue_log_dropped_total", "counter",
	            "queue_log lines lost because the writer's ring was full.", p->queue_log_dropped);
}

void metrics_format(struct jbuf *out, const struct metrics_queue_view *qs, size_t nq,
                    const struct metrics_process_view *p)
{
	for (enum mq_field f = F_WAITING; f <= F_CB_FAILED; f++) {
		metrics_head(out, mq_fields[f].name, mq_fields[f].type, mq_fields[f].help);
		for (size_t i = 0; i < nq; i++)
			metrics_field(out, f, &qs[i]);
		if (f == F_LONGEST)
			metrics_agents(out, qs, nq);
	}
	metrics_histogram(out, qs, nq);
	metrics_process(out, p);
}

void metrics_render(const struct app *a, struct jbuf *out, unsigned sessions, unsigned streams)
{
	static eng_id ids[1024];
	static struct metrics_queue_view qs[1024];
	static struct eng_call_view cv[4096];
	eng_ms now = clock_mono_ms();
	size_t nq = engine_queue_ids(a->engine, ids, 1024), n = 0;
	for (size_t i = 0; i < nq; i++) {
		const struct eng_queue_conf *qc = engine_queue_conf(a->engine, ids[i]);
		struct eng_queue_stats st;
		if (!qc || !engine_queue_stats(a->engine, now, ids[i], &st))
			continue;
		struct metrics_queue_view *q = &qs[n++];
		*q = (struct metrics_queue_view){ .name = qc->name, .waiting = st.waiting,
		                                  .ready = st.ready, .busy = st.busy, .away = st.away };
		size_t nc = engine_call_list(a->engine, now, ids[i], cv, 4096);
		for (size_t k = 0; k < nc; k++)
			if (!cv[k].talking && cv[k].wait_ms > q->longest_wait_ms)
				q->longest_wait_ms = cv[k].wait_ms;
		metrics_queue_totals(a->metrics, ids[i], &q->totals, q->wait_le);
	}
	struct media_stats ms;
	media_stats(a->media, &ms);
	struct sipua_refusals rf;
	sipua_refusals(a->sip, &rf);
	struct metrics_process_view p = { .calls = sipua_active_calls(a->sip), .legs = ms.legs,
	                                  .rx_packets = ms.rx_packets, .tx_packets = ms.tx_packets,
	                                  .rx_foreign = ms.rx_foreign, .sip_refused = rf.refused,
	                                  .sip_shut_out = rf.shut_out, .sip_guarded = rf.guarded,
	                                  .tx_errors = ms.tx_errors,
	                                  .late_ticks = ms.late_ticks, .ticks = ms.ticks,
	                                  .skipped_ticks = ms.skipped_ticks,
	                                  .web_sessions = sessions, .web_streams = streams,
	                                  .journal_dropped = store_journal_dropped(a->store),
	                                  .queue_log_dropped =
	                                          a->queuelog ? queuelog_dropped(a->queuelog) : 0 };
	metrics_format(out, qs, n, &p);
}

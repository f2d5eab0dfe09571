/* window.c — see window.h.
 *
 * A queue's buckets are a ring indexed by minute (since the epoch) modulo
 * WINDOW_MINUTES; each bucket remembers which minute it holds, so a stale one
 * is recognised when read and reset when written: nothing needs expiring. */
#include "report/window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idmap.h"

#define WINDOW_MINUTE_MS 60000

/* The run of live events: none of the journal's (they are start times), so
 * a live call is never taken for a journaled one with the same id. */
#define WINDOW_LIVE_RUN (-1)

/* The call counters of a queue row (those report_count_call keeps) for one
 * minute. */
struct window_bucket {
	int32_t minute;             /* the minute it holds; 0: none yet */
	unsigned offered, handled, missed, abandoned;
	unsigned waits, talks, answered_in_sl;
	int64_t wait_sum_ms, max_wait_ms, talk_sum_ms;
	unsigned cb_requested, cb_attempted, cb_reached, cb_failed;
};

struct window {
	struct idmap queues;        /* queue id -> struct window_bucket[WINDOW_MINUTES] */
	struct report_zero_out zero;
	bool lost;                  /* an event went uncounted: out of memory */
};

window_t *window_new(void)
{
	window_t *w = calloc(1, sizeof *w);
	if (w)
		idmap_init(&w->queues);
	return w;
}

void window_free(window_t *w)
{
	if (!w)
		return;
	for (uint32_t q; (q = idmap_any(&w->queues)) != 0;)
		free(idmap_del(&w->queues, q));
	idmap_free(&w->queues);
	free(w);
}

static int32_t window_minute(int64_t t_ms)
{
	return (int32_t)(t_ms / WINDOW_MINUTE_MS);
}

static struct window_bucket *window_ring(window_t *w, eng_id q)
{
	struct window_bucket *ring = idmap_get(&w->queues, q);
	if (ring)
		return ring;
	ring = calloc(WINDOW_MINUTES, sizeof *ring);
	if (ring && idmap_put(&w->queues, q, ring) < 0) {
		free(ring);
		ring = NULL;
	}
	return ring;
}

/* The bucket of minute m, reset if it held an older minute; NULL if it
 * holds a newer one (the clock went back by more than the ring). */
static struct window_bucket *window_bucket(struct window_bucket *ring, int32_t m)
{
	struct window_bucket *b = &ring[m % WINDOW_MINUTES];
	if (b->minute > m)
		return NULL;
	if (b->minute < m) {
		memset(b, 0, sizeof *b);
		b->minute = m;
	}
	return b;
}

static void window_bucket_add(struct window_bucket *b, const struct report_row *d)
{
	b->offered += d->offered;
	b->handled += d->handled;
	b->missed += d->missed;
	b->abandoned += d->abandoned;
	b->waits += d->waits;
	b->talks += d->talks;
	b->answered_in_sl += d->answered_in_sl;
	b->wait_sum_ms += d->wait_sum_ms;
	b->talk_sum_ms += d->talk_sum_ms;
	b->cb_requested += d->cb_requested;
	b->cb_attempted += d->cb_attempted;
	b->cb_reached += d->cb_reached;
	b->cb_failed += d->cb_failed;
	if (d->max_wait_ms > b->max_wait_ms)
		b->max_wait_ms = d->max_wait_ms;
}

static void window_row_add(struct report_row *row, const struct window_bucket *b)
{
	row->offered += b->offered;
	row->handled += b->handled;
	row->missed += b->missed;
	row->abandoned += b->abandoned;
	row->waits += b->waits;
	row->talks += b->talks;
	row->answered_in_sl += b->answered_in_sl;
	row->wait_sum_ms += b->wait_sum_ms;
	row->talk_sum_ms += b->talk_sum_ms;
	row->cb_requested += b->cb_requested;
	row->cb_attempted += b->cb_attempted;
	row->cb_reached += b->cb_reached;
	row->cb_failed += b->cb_failed;
	if (b->max_wait_ms > row->max_wait_ms)
		row->max_wait_ms = b->max_wait_ms;
}

static int64_t window_sl_ms(const engine_t *e, eng_id q)
{
	const struct eng_queue_conf *qc = engine_queue_conf(e, q);
	return qc ? (int64_t)qc->service_level_s * 1000 : 0;
}

/* Counts event c of queue q (0: none) at t_ms: report_count_call on an
 * empty row, whose counters then go into the minute's bucket. */
static void window_count(window_t *w, const engine_t *e, eng_id q, int64_t t_ms,
                         const struct report_call *c)
{
	struct report_row delta = { .kind = REPORT_QUEUE, .sl_ms = window_sl_ms(e, q) };
	struct window_bucket *ring = q ? window_ring(w, q) : NULL;
	struct window_bucket *b = ring ? window_bucket(ring, window_minute(t_ms)) : NULL;
	w->lost |= q && !ring;
	report_count_call(b ? &delta : NULL, &w->zero, c);
	if (b)
		window_bucket_add(b, &delta);
}

void window_event(window_t *w, const engine_t *e, int64_t t_ms, const struct eng_action *ev)
{
	struct report_call c = { .ev = ev->event, .call = ev->call, .run = WINDOW_LIVE_RUN,
	                         .value = ev->value, .reason = ev->reason };
	window_count(w, e, engine_queue_conf(e, ev->queue) ? ev->queue : 0, t_ms, &c);
}

struct window_filling {
	window_t *w;
	const engine_t *e;
};

static void window_fill_event(void *ctx, int64_t t_ms, const char *queue,
                              const struct report_call *c)
{
	struct window_filling *f = ctx;
	window_count(f->w, f->e, queue[0] ? engine_queue_find(f->e, queue) : 0, t_ms, c);
}

int window_fill(window_t *w, const engine_t *e, const char *db_path, int64_t now_ms, char *err,
                size_t errlen)
{
	struct window_filling f = { w, e };
	struct report_db r;
	int64_t from = ((int64_t)window_minute(now_ms) - WINDOW_MINUTES + 1) * WINDOW_MINUTE_MS;
	int rc = report_open(&r, db_path);
	if (rc == REPORT_OK) {
		/* Before the SIP loop runs: there is nothing to hold up yet. */
		r.deadline_ms = INT64_MAX;
		rc = report_calls(&r, from, INT64_MAX, window_fill_event, &f);
	}
	if (rc != REPORT_OK)
		snprintf(err, errlen, "%s", report_errmsg(&r));
	report_close(&r);
	return rc;
}

bool window_queue(const window_t *w, eng_id q, int64_t now_ms, unsigned window_s,
                  struct report_row *out)
{
	const struct window_bucket *ring = idmap_get(&w->queues, q);
	int32_t last = window_minute(now_ms);
	int32_t n = (int32_t)((window_s + 59) / 60);
	memset(out, 0, sizeof *out);
	out->kind = REPORT_QUEUE;
	if (n > WINDOW_MINUTES)
		n = WINDOW_MINUTES;
	for (int32_t m = last - n + 1; ring && m <= last; m++)
		if (ring[m % WINDOW_MINUTES].minute == m)
			window_row_add(out, &ring[m % WINDOW_MINUTES]);
	return !w->lost;
}

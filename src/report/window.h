/* window.h — rolling call counters per queue, for `stats QUEUE [window=S]`.
 *
 * Replaying the journal over the window on the SIP loop cost time in
 * proportion to the calls in it. Instead every engine event is counted as it
 * happens into per-minute buckets of its queue, through report_count_call —
 * the reports' own definitions — and `stats` adds up at most WINDOW_MINUTES
 * buckets, whatever the call rate. Each queue that has had an event holds the
 * last 24 hours (WINDOW_MINUTES buckets of 56 bytes, about 80 KB), allocated
 * at its first event. At start, window_fill counts the journal's last 24
 * hours once, so the counters survive a restart.
 *
 * The window is whole minutes of wall-clock time: the current minute and the
 * ceil(S / 60) - 1 minutes before it. window=60 is the current minute alone;
 * window=3600 covers between 59 and 60 minutes. The counters are exactly
 * those of report_queue_window over [start of the window's first minute,
 * now), but for answered_in_sl: an answer is held against the queue's
 * service_level of the moment it was answered (at start, of the moment of the
 * fill), while a report takes one threshold for its whole range.
 *
 * Queues are the engine's (by id); the journal's names are looked up at the
 * fill, and the history of queues deleted by then is not counted.
 */
#ifndef CALLQ_WINDOW_H
#define CALLQ_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acd/engine.h"
#include "report/report.h"

#define WINDOW_MINUTES 1440
#define WINDOW_MAX_S (WINDOW_MINUTES * 60)

typedef struct window window_t;

window_t *window_new(void);
void window_free(window_t *w);

/* Counts one engine event (ACT_EVENT) at wall-clock t_ms, the journal's
 * time for it; queue ids and service levels are read from the engine. */
void window_event(window_t *w, const engine_t *e, int64_t t_ms, const struct eng_action *ev);

/* Counts the call events the journal at db_path holds from the first
 * minute of the 24 hours ending at now_ms on. Once, before any
 * window_event: it reads as much of the journal as there is, with no time
 * budget. REPORT_OK, or another report_rc with the reason in err. */
int window_fill(window_t *w, const engine_t *e, const char *db_path, int64_t now_ms, char *err,
                size_t errlen);

/* Queue q's call counters over the window of window_s seconds (1 ..
 * WINDOW_MAX_S) ending at now_ms, into a zeroed out (kind REPORT_QUEUE, no
 * name). max_wait_ms is the longest over the window's buckets. False if an
 * event could not be counted (out of memory): the counters would be short. */
bool window_queue(const window_t *w, eng_id q, int64_t now_ms, unsigned window_s,
                  struct report_row *out);

#endif

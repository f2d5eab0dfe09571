/* tick.c — one media thread. It waits in its own epoll set for two things:
 * an RTP socket becoming readable, handled at once (a packet of a plain
 * bridge is relayed before the thread looks at anything else), and its
 * timerfd, armed on absolute 20 ms deadlines (CLOCK_MONOTONIC,
 * TFD_TIMER_ABSTIME), so a slow tick shortens the wait for the next instead of
 * shifting every later one; when a tick overruns whole periods it skips them
 * (timestamps jump by the same amount) rather than sending a burst. The
 * threads' ticks are staggered evenly over the 20 ms.
 *
 * One tick: apply queued commands, raise RTP timeouts, take one frame out of
 * each jitter buffer in use, feed the recordings, then send one frame on every
 * leg callq plays to or mixes (hold, prompts, silence, mixed bridges). All
 * pulls come before all sends so every mix is built from the same tick's audio.
 */
#include "media/media_int.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TICK_EVENTS 256            /* readiness events taken per wait */

int tick_arm(struct mthread *t)
{
	struct itimerspec its = { .it_value = { .tv_sec = t->deadline_ns / 1000000000L,
	                                        .tv_nsec = t->deadline_ns % 1000000000L } };
	return timerfd_settime(t->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void tick_run(struct mthread *t)
{
	struct media *m = t->m;
	media_apply_commands(t);
	for (unsigned i = 0; i < t->nactive; i++)
		leg_check_timeout(m, t->active[i]);
	for (unsigned i = 0; i < t->nactive; i++)
		leg_pull(t->active[i]);
	for (unsigned i = 0; i < t->nactive; i++)
		bridge_record_tick(m, t->active[i]);
	for (unsigned i = 0; i < t->nactive; i++)
		leg_send(m, t->active[i]);
	t->run.ticks++;
}

/* The deadline passed: account for lateness, skip whole periods if needed,
 * run the tick and arm the next. */
static void tick_due(struct mthread *t)
{
	int64_t now = t->now_ns, late = now - t->deadline_ns;
	if (late > MEDIA_LATE_NS)
		t->run.late_ticks++;
	if (late > 0 && (uint64_t)late / 1000 > t->run.max_late_us)
		t->run.max_late_us = (uint64_t)late / 1000;
	t->steps = 1;
	if (late >= MEDIA_TICK_NS) {
		int64_t skip = late / MEDIA_TICK_NS;
		t->deadline_ns += skip * MEDIA_TICK_NS;
		t->steps += (unsigned)skip;
		t->run.skipped_ticks += (uint64_t)skip;
	}
	tick_run(t);
	uint64_t work_us = (uint64_t)(media_now_ns() - now) / 1000;
	if (work_us > t->run.max_work_us)
		t->run.max_work_us = work_us;
	media_publish_stats(t);
	t->deadline_ns += MEDIA_TICK_NS;
	tick_arm(t);
}

void *tick_main(void *arg)
{
	struct mthread *t = arg;
	struct media *m = t->m;
	/* The threads' ticks are spread over the period, not stacked: each
	 * tick is a burst of sends, and bursts on every core at once would leave
	 * the SIP thread no core at all for that moment. */
	int64_t now = media_now_ns();
	t->deadline_ns = now - now % MEDIA_TICK_NS + MEDIA_TICK_NS + t->idx * (MEDIA_TICK_NS / m->nthreads);
	tick_arm(t);
	while (!atomic_load(&m->stop)) {
		int n = epoll_wait(t->epfd, t->epev, TICK_EVENTS, 100);
		t->now_ns = media_now_ns();
		bool due = false;
		for (int i = 0; i < n; i++) {
			struct leg *l = t->epev[i].data.ptr;
			if (l) {
				leg_receive(m, l);
			} else {
				uint64_t expirations;
				ssize_t r = read(t->timerfd, &expirations, sizeof expirations);
				(void)r;                /* EAGAIN if already read: the deadline says */
				due = true;
			}
		}
		if (due || t->now_ns >= t->deadline_ns)
			tick_due(t);
	}
	return NULL;
}

/* tick.c — the media thread. It sleeps to absolute 20 ms deadlines on
 * CLOCK_MONOTONIC, so a slow tick shortens the next sleep instead of shifting
 * every later one; when a tick overruns whole periods it skips them (the RTP
 * timestamps jump by the same amount) rather than sending a burst.
 *
 * One tick: apply queued commands, find which RTP sockets are readable (one
 * epoll_wait, no timeout), drain those, raise RTP timeouts, take one frame out
 * of each jitter buffer in use, feed the recordings, then send one frame per
 * leg. All receives and pulls come before all sends so every mix is built from
 * the same tick's audio.
 */
#include "media/media_int.h"

#include <errno.h>
#include <sys/epoll.h>

static void tick_sleep_until(int64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = deadline_ns / 1000000000L,
	                       .tv_nsec = deadline_ns % 1000000000L };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void tick_run(struct media *m)
{
	media_apply_commands(m);
	int n = epoll_wait(m->epfd, m->epev, (int)m->nslots, 0);
	for (int i = 0; i < n; i++) {
		struct leg *l = m->slots[m->epev[i].data.u32].leg;
		if (l)
			l->ready = true;
	}
	for (unsigned i = 0; i < m->nactive; i++) {
		struct leg *l = m->active[i];
		if (l->ready) {
			l->ready = false;
			leg_receive(m, l);
		}
		leg_check_timeout(m, l);
	}
	for (unsigned i = 0; i < m->nactive; i++)
		leg_pull(m->active[i]);
	for (unsigned i = 0; i < m->nactive; i++)
		bridge_record_tick(m, m->active[i]);
	for (unsigned i = 0; i < m->nactive; i++)
		leg_send(m, m->active[i]);
	m->run.ticks++;
}

void *tick_main(void *arg)
{
	struct media *m = arg;
	int64_t deadline = media_now_ns();
	while (!atomic_load(&m->stop)) {
		deadline += MEDIA_TICK_NS;
		tick_sleep_until(deadline);
		int64_t now = media_now_ns(), late = now - deadline;
		if (late > MEDIA_LATE_NS)
			m->run.late_ticks++;
		if (late > 0 && (uint64_t)late / 1000 > m->run.max_late_us)
			m->run.max_late_us = (uint64_t)late / 1000;
		m->steps = 1;
		if (late >= MEDIA_TICK_NS) {
			int64_t skip = late / MEDIA_TICK_NS;
			deadline += skip * MEDIA_TICK_NS;
			m->steps += (unsigned)skip;
			m->run.skipped_ticks += (uint64_t)skip;
		}
		m->now_ns = now;
		tick_run(m);
		uint64_t work_us = (uint64_t)(media_now_ns() - now) / 1000;
		if (work_us > m->run.max_work_us)
			m->run.max_work_us = work_us;
		media_publish_stats(m);
	}
	return NULL;
}

/* heap.c — the janitor of heap.h: one thread that wakes every half of its
 * shorter delay (or at stop), takes the notes that came meanwhile and trims when a burst
 * is over. */
#include "core/heap.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define HEAP_TRIM_ANYWAY 4096          /* notes: trim even while the burst goes on */

static atomic_uint heap_notes;
static pthread_t heap_thread;
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t heap_wake = PTHREAD_COND_INITIALIZER;
static bool heap_started, heap_stop;
static unsigned heap_quiet_ms, heap_late_ms;

static int64_t heap_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void heap_note(unsigned n)
{
	atomic_fetch_add_explicit(&heap_notes, n, memory_order_relaxed);
}

static void *heap_janitor(void *arg)
{
	(void)arg;
	unsigned pending = 0;
	bool late_due = false;
	int64_t last_note = heap_now_ms();
	unsigned shortest = heap_quiet_ms < heap_late_ms ? heap_quiet_ms : heap_late_ms;
	unsigned step = shortest / 2 ? shortest / 2 : 1;
	pthread_mutex_lock(&heap_lock);
	while (!heap_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (int64_t)step * 1000000;
		ts.tv_sec += ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		pthread_cond_timedwait(&heap_wake, &heap_lock, &ts);
		if (heap_stop)
			break;
		unsigned got = atomic_exchange(&heap_notes, 0);
		int64_t now = heap_now_ms();
		if (got) {
			pending += got;
			last_note = now;
			late_due = true;
		}
		bool trim = false;
		if (pending && (now - last_note >= heap_quiet_ms || pending >= HEAP_TRIM_ANYWAY)) {
			trim = true;
			pending = 0;
		} else if (late_due && now - last_note >= heap_late_ms) {
			trim = true;
			late_due = false;
			pending = 0;
		}
		if (trim) {
			pthread_mutex_unlock(&heap_lock);
			malloc_trim(0);
			pthread_mutex_lock(&heap_lock);
		}
	}
	pthread_mutex_unlock(&heap_lock);
	return NULL;
}

int heap_janitor_start(unsigned quiet_ms, unsigned late_ms)
{
	pthread_mutex_lock(&heap_lock);
	bool already = heap_started;
	heap_stop = false;
	heap_quiet_ms = quiet_ms;
	heap_late_ms = late_ms;
	pthread_mutex_unlock(&heap_lock);
	if (already)
		return 0;
	if (pthread_create(&heap_thread, NULL, heap_janitor, NULL) != 0)
		return -1;
	pthread_setname_np(heap_thread, "heap");
	heap_started = true;
	return 0;
}

void heap_janitor_stop(void)
{
	if (!heap_started)
		return;
	pthread_mutex_lock(&heap_lock);
	heap_stop = true;
	pthread_cond_broadcast(&heap_wake);
	pthread_mutex_unlock(&heap_lock);
	pthread_join(heap_thread, NULL);
	heap_started = false;
}

/* heap.h — gives back to the system the heap a burst freed.
 *
 * glibc keeps freed memory for the next allocations, so after a burst (an
 * offer storm, thousands of calls ending, a REGISTER flood) callqd would
 * stay at its peak. Modules say when things of a burst went away
 * (heap_note: a leg destroyed, a request refused); a janitor thread calls
 * malloc_trim(0) once the notes have stopped for `quiet_ms` (or after 4,096
 * of them while they go on), and once more `late_ms` after the last note:
 * the SIP stack frees a finished transaction only 32 s after it ended
 * (timer J), well after the burst that made it.
 *
 * malloc_trim walks each arena under that arena's lock, so it runs on the
 * janitor's own thread, never on the SIP loop or a media thread, and only
 * after bursts, never on a steady load. One janitor per process.
 */
#ifndef CALLQ_CORE_HEAP_H
#define CALLQ_CORE_HEAP_H

#define HEAP_QUIET_MS 2000
#define HEAP_LATE_MS  40000

/* Starts the janitor; 0, or -1 (no thread: the heap is never trimmed). */
int heap_janitor_start(unsigned quiet_ms, unsigned late_ms);
/* Stops it (waits for the thread); a no-op if it never started. */
void heap_janitor_stop(void);
/* n things of a burst were freed. Any thread; lock-free. */
void heap_note(unsigned n);

#endif

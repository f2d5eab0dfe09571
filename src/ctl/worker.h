/* worker.h — slow control requests, off the SIP loop.
 *
 * A few threads run jobs from a bounded queue; when a job's work is done the
 * job goes to a finished list and an eventfd registered with the su_root
 * wakes the loop, which calls the job's `done` there. So `run` executes on a
 * worker thread and must not touch the engine, the store's connection or a
 * control connection; `done` executes on the loop thread and may. The
 * threads run at a lower priority (nice +10) than the loop: password hashing
 * and reports never take the CPU from SIP.
 *
 * worker_submit refuses a job when the queue is full (the caller answers
 * "busy"), so a flood of slow requests costs bounded memory and time.
 */
#ifndef CALLQ_WORKER_H
#define CALLQ_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

typedef struct worker worker_t;

struct worker_job {
	struct worker_job *next;            /* the worker's */
	void (*run)(struct worker_job *j);  /* worker thread */
	/* Loop thread, exactly once; cancelled: the worker is being freed and
	 * run may not have executed — only release the job. */
	void (*done)(struct worker_job *j, bool cancelled);
};

#define WORKER_THREADS 2
#define WORKER_QUEUE_MAX 32

worker_t *worker_new(su_root_t *root, unsigned threads, unsigned queue_max, char *err,
                     size_t errlen);
/* Queues j; false (j untouched) when the queue is full. */
bool worker_submit(worker_t *w, struct worker_job *j);
/* Waits for running jobs; every job not yet done gets done(cancelled). */
void worker_free(worker_t *w);

#endif

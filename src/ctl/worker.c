/* worker.c — see worker.h. */
#include "ctl/worker.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKER_NICE 10
#define WORKER_THREADS_MAX 8

struct worker {
	su_root_t *root;
	int efd;                        /* readable while finished jobs wait for the loop */
	int index;
	su_wait_t wait;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct worker_job *queue, **queue_tail;
	struct worker_job *finished, **finished_tail;
	unsigned queued, queue_max;     /* queued: waiting or running */
	bool stop;
	unsigned nthreads;
	pthread_t threads[WORKER_THREADS_MAX];
};

static void worker_push(struct worker_job ***tail, struct worker_job *j)
{
	j->next = NULL;
	**tail = j;
	*tail = &j->next;
}

static struct worker_job *worker_pop(struct worker_job **head, struct worker_job ***tail)
{
	struct worker_job *j = *head;
	if (j) {
		*head = j->next;
		if (!*head)
			*tail = head;
	}
	return j;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	/* Linux: a thread's nice value is its own. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->queue)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		struct worker_job *j = worker_pop(&w->queue, &w->queue_tail);
		pthread_mutex_unlock(&w->lock);
		j->run(j);
		pthread_mutex_lock(&w->lock);
		worker_push(&w->finished_tail, j);
		uint64_t one = 1;
		ssize_t n = write(w->efd, &one, sizeof one);
		(void)n;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The loop: hands every finished job to its done. */
static int worker_event(su_root_magic_t *magic, su_wait_t *wt, su_wakeup_arg_t *arg)
{
	(void)magic;
	(void)wt;
	struct worker *w = arg;
	uint64_t n;
	ssize_t r = read(w->efd, &n, sizeof n);
	(void)r;
	pthread_mutex_lock(&w->lock);
	struct worker_job *list = w->finished;
	w->finished = NULL;
	w->finished_tail = &w->finished;
	pthread_mutex_unlock(&w->lock);
	while (list) {
		struct worker_job *j = list;
		list = j->next;
		pthread_mutex_lock(&w->lock);
		w->queued--;
		pthread_mutex_unlock(&w->lock);
		j->done(j, false);
	}
	return 0;
}

worker_t *worker_new(su_root_t *root, unsigned threads, unsigned queue_max, char *err,
                     size_t errlen)
{
	struct worker *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->root = root;
	w->queue_max = queue_max;
	w->queue_tail = &w->queue;
	w->finished_tail = &w->finished;
	w->index = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0 || su_wait_create(&w->wait, w->efd, SU_WAIT_IN) != 0 ||
	    (w->index = su_root_register(root, &w->wait, worker_event, w, 0)) < 0) {
		snprintf(err, errlen, "cannot register the worker with the event loop");
		worker_free(w);
		return NULL;
	}
	if (threads > WORKER_THREADS_MAX)
		threads = WORKER_THREADS_MAX;
	for (; w->nthreads < threads; w->nthreads++) {
		if (pthread_create(&w->threads[w->nthreads], NULL, worker_main, w) != 0) {
			snprintf(err, errlen, "cannot start a worker thread");
			worker_free(w);
			return NULL;
		}
	}
	return w;
}

bool worker_submit(worker_t *w, struct worker_job *j)
{
	pthread_mutex_lock(&w->lock);
	bool ok = w->queued < w->queue_max;
	if (ok) {
		w->queued++;
		worker_push(&w->queue_tail, j);
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void worker_free(worker_t *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	struct worker_job *j;
	while ((j = worker_pop(&w->queue, &w->queue_tail)) != NULL)
		j->done(j, true);
	while ((j = worker_pop(&w->finished, &w->finished_tail)) != NULL)
		j->done(j, true);
	if (w->index >= 0)
		su_root_deregister(w->root, w->index);
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}

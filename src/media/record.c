/* record.c — see record.h. The writer thread sleeps on a condition variable
 * while no recording exists and polls the ring every few milliseconds while
 * some do, so the media thread never makes a system call to wake it. */
#include "media/record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECORD_POLL_NS 5000000L

struct rec {
	uint32_t id;
	media_leg leg;
	unsigned channels;
	uint32_t max_frames;
	char *path;
	/* media thread */
	uint32_t offered;
	atomic_uint dropped;               /* written by the media thread, read at close */
	/* writer thread */
	SNDFILE *sf;
	bool opened;
	uint32_t written;
	atomic_bool failed;
	struct rec *next;                  /* finished list */
};

struct rec_slot {
	struct rec *r;
	int16_t s[2 * RECORD_FRAME];
};

struct recorder {
	record_emit_fn *emit;
	void *arg;
	pthread_t thread;
	struct rec_slot *ring;
	atomic_uint head, tail;            /* head: next to write (media), tail: next to read */
	pthread_mutex_t push;              /* between media threads: one producer at a time */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct rec *finished;
	unsigned live;                     /* recordings not yet freed */
	bool stop;
};

static void rec_event(struct recorder *w, struct rec *r, enum media_event_kind kind, const char *why)
{
	struct media_event ev = { .kind = kind, .leg = r->leg, .record = r->id,
	                          .duration_ms = r->written * 20, .frames_dropped = atomic_load(&r->dropped) };
	if (why)
		snprintf(ev.error, sizeof ev.error, "%s", why);
	w->emit(w->arg, &ev);
}

static void rec_destroy(struct recorder *w, struct rec *r)
{
	free(r->path);
	free(r);
	pthread_mutex_lock(&w->lock);
	w->live--;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

static void rec_fail(struct recorder *w, struct rec *r, const char *why)
{
	if (r->sf)
		sf_close(r->sf);
	r->sf = NULL;
	atomic_store(&r->failed, true);
	rec_event(w, r, MEV_RECORD_FAILED, why);
}

static void rec_open(struct recorder *w, struct rec *r)
{
	SF_INFO info = { .samplerate = 8000, .channels = (int)r->channels,
	                 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	r->opened = true;
	/* A new file only, owner-only, never through a symbolic link: nothing
	 * planted at the path (a link to another file, an older recording) is
	 * written over. */
	int fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		char why[96];
		snprintf(why, sizeof why, "%s", strerror(errno));
		rec_fail(w, r, why);
		return;
	}
	errno = 0;
	r->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
	if (!r->sf) {
		char why[96];
		snprintf(why, sizeof why, "%s", errno ? strerror(errno) : sf_strerror(NULL));
		close(fd);
		rec_fail(w, r, why);
		return;
	}
	sf_command(r->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
}

static void rec_write(struct recorder *w, struct rec *r, const int16_t *s)
{
	if (!r->opened)
		rec_open(w, r);
	if (!r->sf)
		return;
	errno = 0;
	if (sf_writef_short(r->sf, s, RECORD_FRAME) != RECORD_FRAME) {
		char why[96];
		snprintf(why, sizeof why, "%s", errno ? strerror(errno) : sf_strerror(r->sf));
		rec_fail(w, r, why);
		return;
	}
	r->written++;
}

static void rec_close(struct recorder *w, struct rec *r)
{
	if (!r->opened)
		rec_open(w, r);                /* an empty recording is still a file */
	if (r->sf) {
		sf_close(r->sf);
		r->sf = NULL;
		rec_event(w, r, MEV_RECORD_DONE, NULL);
	}
	rec_destroy(w, r);
}

static bool rec_drain(struct recorder *w)
{
	unsigned tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
	unsigned head = atomic_load_explicit(&w->head, memory_order_acquire);
	if (tail == head)
		return false;
	for (; tail != head; tail++) {
		struct rec_slot *s = &w->ring[tail % RECORD_RING];
		if (!atomic_load(&s->r->failed))
			rec_write(w, s->r, s->s);
		atomic_store_explicit(&w->tail, tail + 1, memory_order_release);
	}
	return true;
}

static void *rec_main(void *arg)
{
	struct recorder *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->live && !w->stop)
			pthread_cond_wait(&w->wake, &w->lock);
		struct rec *done = w->finished;
		w->finished = NULL;
		bool stop = w->stop && !w->live;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			return NULL;
		/* Frames pushed before a recording was finished are in the ring
		 * already: drain first, then close. */
		bool busy = rec_drain(w);
		while (done) {
			struct rec *r = done;
			done = r->next;
			rec_close(w, r);
			busy = true;
		}
		if (!busy) {
			struct timespec ts = { 0, RECORD_POLL_NS };
			nanosleep(&ts, NULL);
		}
	}
}

struct recorder *recorder_new(record_emit_fn *emit, void *arg)
{
	struct recorder *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	/* Untouched pages of the ring cost no memory until recordings use them. */
	w->ring = calloc(RECORD_RING, sizeof *w->ring);
	w->emit = emit;
	w->arg = arg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->push, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (!w->ring || pthread_create(&w->thread, NULL, rec_main, w) != 0) {
		free(w->ring);
		free(w);
		return NULL;
	}
	return w;
}

void recorder_free(struct recorder *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->push);
	pthread_cond_destroy(&w->wake);
	free(w->ring);
	free(w);
}

struct rec *rec_new(struct recorder *w, uint32_t id, media_leg leg, const char *path,
                    unsigned channels, unsigned max_s)
{
	if (!path || !*path || channels < 1 || channels > 2)
		return NULL;
	struct rec *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return NULL;
	}
	r->id = id;
	r->leg = leg;
	r->channels = channels;
	r->max_frames = (max_s && max_s < RECORD_MAX_S ? max_s : RECORD_MAX_S) * 50;
	atomic_init(&r->failed, false);
	atomic_init(&r->dropped, 0);
	pthread_mutex_lock(&w->lock);
	w->live++;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return r;
}

uint32_t rec_id(const struct rec *r)
{
	return r->id;
}

void rec_push(struct recorder *w, struct rec *r, const int16_t *frame)
{
	r->offered++;
	pthread_mutex_lock(&w->push);
	unsigned head = atomic_load_explicit(&w->head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&w->tail, memory_order_acquire);
	if (head - tail >= RECORD_RING) {
		pthread_mutex_unlock(&w->push);
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return;
	}
	struct rec_slot *s = &w->ring[head % RECORD_RING];
	s->r = r;
	memcpy(s->s, frame, r->channels * RECORD_FRAME * sizeof *frame);
	atomic_store_explicit(&w->head, head + 1, memory_order_release);
	pthread_mutex_unlock(&w->push);
}

bool rec_full(const struct rec *r)
{
	return r->offered >= r->max_frames;
}

bool rec_failed(const struct rec *r)
{
	return atomic_load(&r->failed);
}

void rec_finish(struct recorder *w, struct rec *r)
{
	pthread_mutex_lock(&w->lock);
	r->next = w->finished;
	w->finished = r;
	pthread_mutex_unlock(&w->lock);
}

void rec_abort(struct recorder *w, struct rec *r, const char *why)
{
	atomic_store(&r->failed, true);
	rec_event(w, r, MEV_RECORD_FAILED, why);
	rec_destroy(w, r);
}

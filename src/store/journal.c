/* journal.c — see journal.h. */
#include "store/journal.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acd/engine.h"
#include "core/log.h"

/* 16384 records (about 3.5 MB) hold minutes of a busy centre's events while
 * the disk stalls; more would only delay the moment we notice. */
#define JNL_RING 16384
/* A batch is committed when it reaches JNL_BATCH rows or has waited
 * JNL_DELAY_MS: few fsync-free commits, and rows land within a tenth of a second. */
#define JNL_BATCH 512
#define JNL_DELAY_MS 100
/* The writer is off the SIP thread, so it may wait for the lock much longer
 * than the main connection does. */
#define JNL_BUSY_MS 5000
/* Pruning old rows: checked this often, deleted in slices so the database
 * lock is never held long. */
#define JNL_PRUNE_EVERY_MS (3600 * 1000)
#define JNL_PRUNE_SLICE 5000

struct jnl_rec {
	int64_t t_ms, value;
	const char *event;
	uint32_t call;
	char queue[ENG_NAME_MAX];
	char member[ENG_NAME_MAX];
	char reason[ENG_REASON_MAX];
};

struct store_jnl {
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *prune;
	int64_t run;
	atomic_int_least64_t keep_ms;   /* retention; 0 keeps everything */
	int64_t next_prune_ms;          /* monotonic */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;        /* writer waits: records queued, flush or stop */
	pthread_cond_t done;        /* flushers wait: records written */
	size_t head, count;         /* ring[head - count .. head) are queued */
	uint64_t queued, written;   /* totals, for flush */
	unsigned flushers;
	bool stop;
	int64_t last_drop_log_ms;
	atomic_uint_least64_t dropped;
	struct jnl_rec ring[JNL_RING];
};

static int64_t jnl_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void jnl_copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void jnl_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int jnl_insert(struct store_jnl *j, const struct jnl_rec *r)
{
	sqlite3_stmt *st = j->insert;
	sqlite3_bind_int64(st, 1, r->t_ms);
	sqlite3_bind_int64(st, 2, j->run);
	sqlite3_bind_text(st, 3, r->event, -1, SQLITE_STATIC);
	if (r->call)
		sqlite3_bind_int64(st, 4, r->call);
	else
		sqlite3_bind_null(st, 4);
	jnl_bind_text(st, 5, r->queue);
	jnl_bind_text(st, 6, r->member);
	sqlite3_bind_int64(st, 7, r->value);
	jnl_bind_text(st, 8, r->reason);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Commits ring slots [first, first + n) (wrapping). The slots stay ours until
 * `count` is lowered, so no lock is needed to read them. */
static bool jnl_write_batch(struct store_jnl *j, size_t first, size_t n)
{
	if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (jnl_insert(j, &j->ring[(first + i) % JNL_RING]) != 0) {
			sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
	}
	if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return true;
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

static struct timespec jnl_deadline(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

/* With the lock held: waits until a batch is due; false when stopped and empty. */
/* Deletes rows older than the retention, a slice at a time; lock not held. */
static void jnl_prune(struct store_jnl *j)
{
	int64_t keep = atomic_load(&j->keep_ms);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t cutoff = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - keep;
	int total = 0, n;
	if (!keep)
		return;
	do {
		sqlite3_bind_int64(j->prune, 1, cutoff);
		sqlite3_bind_int(j->prune, 2, JNL_PRUNE_SLICE);
		n = sqlite3_step(j->prune) == SQLITE_DONE ? sqlite3_changes(j->db) : 0;
		sqlite3_reset(j->prune);
		total += n;
	} while (n == JNL_PRUNE_SLICE);
	if (total)
		log_info("store", "journal: pruned %d rows older than the retention", total);
}

/* Sleeps until records are queued or it is time to prune; false on stop. */
static bool jnl_wait_batch(struct store_jnl *j)
{
	while (j->count == 0 && !j->stop) {
		if (jnl_mono_ms() >= j->next_prune_ms) {
			j->next_prune_ms = jnl_mono_ms() + JNL_PRUNE_EVERY_MS;
			pthread_mutex_unlock(&j->lock);
			jnl_prune(j);
			pthread_mutex_lock(&j->lock);
			continue;
		}
		struct timespec until = jnl_deadline((int)(j->next_prune_ms - jnl_mono_ms()));
		pthread_cond_timedwait(&j->more, &j->lock, &until);
	}
	if (j->count == 0)
		return false;
	struct timespec until = jnl_deadline(JNL_DELAY_MS);
	while (j->count < JNL_BATCH && !j->stop && j->flushers == 0) {
		if (pthread_cond_timedwait(&j->more, &j->lock, &until) == ETIMEDOUT)
			break;
	}
	return true;
}

static void *jnl_main(void *arg)
{
	struct store_jnl *j = arg;
	pthread_mutex_lock(&j->lock);
	while (jnl_wait_batch(j)) {
		size_t n = j->count < JNL_BATCH ? j->count : JNL_BATCH;
		size_t first = (j->head + JNL_RING - j->count) % JNL_RING;
		pthread_mutex_unlock(&j->lock);
		bool ok = jnl_write_batch(j, first, n);
		if (!ok) {
			log_error("store", "journal: %zu rows lost: %s", n, sqlite3_errmsg(j->db));
			atomic_fetch_add(&j->dropped, n);
		}
		pthread_mutex_lock(&j->lock);
		j->count -= n;
		j->written += n;
		pthread_cond_broadcast(&j->done);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

static int jnl_open_db(struct store_jnl *j, const char *path, char *err, size_t errlen)
{
	static const char insert[] =
		"INSERT INTO journal (t_ms, run, event, call, queue, member, value, reason) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	static const char prune[] =
		"DELETE FROM journal WHERE rowid IN "
		"(SELECT rowid FROM journal WHERE t_ms < ?1 ORDER BY t_ms LIMIT ?2)";
	if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	            SQLITE_OK ||
	    sqlite3_busy_timeout(j->db, JNL_BUSY_MS) != SQLITE_OK ||
	    sqlite3_exec(j->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(j->db, insert, -1, SQLITE_PREPARE_PERSISTENT, &j->insert, NULL) !=
	            SQLITE_OK ||
	    sqlite3_prepare_v3(j->db, prune, -1, SQLITE_PREPARE_PERSISTENT, &j->prune, NULL) !=
	            SQLITE_OK) {
		snprintf(err, errlen, "journal: %s: %s", path,
		         j->db ? sqlite3_errmsg(j->db) : "out of memory");
		return -1;
	}
	return 0;
}

static void jnl_free(struct store_jnl *j)
{
	sqlite3_finalize(j->insert);
	sqlite3_finalize(j->prune);
	sqlite3_close(j->db);
	pthread_cond_destroy(&j->more);
	pthread_cond_destroy(&j->done);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

struct store_jnl *store_jnl_start(const char *path, int64_t run, char *err, size_t errlen)
{
	struct store_jnl *j = calloc(1, sizeof *j);
	if (!j) {
		snprintf(err, errlen, "journal: out of memory");
		return NULL;
	}
	j->run = run;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->more, &ca);
	pthread_cond_init(&j->done, NULL);
	pthread_condattr_destroy(&ca);
	atomic_init(&j->dropped, 0);
	atomic_init(&j->keep_ms, 0);
	if (jnl_open_db(j, path, err, errlen) != 0) {
		jnl_free(j);
		return NULL;
	}
	int rc = pthread_create(&j->thread, NULL, jnl_main, j);
	if (rc != 0) {
		snprintf(err, errlen, "journal: thread: %s", strerror(rc));
		jnl_free(j);
		return NULL;
	}
	return j;
}

void store_jnl_stop(struct store_jnl *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = true;
	pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	jnl_free(j);
}

/* With the lock held: counts a record that did not fit; true if it is time
 * to say so in the log (at most once a second). */
static bool jnl_note_drop(struct store_jnl *j)
{
	atomic_fetch_add(&j->dropped, 1);
	int64_t now = jnl_mono_ms();
	if (now - j->last_drop_log_ms < 1000)
		return false;
	j->last_drop_log_ms = now;
	return true;
}

void store_jnl_push(struct store_jnl *j, int64_t t_ms, const char *event, uint32_t call,
                    const char *queue, const char *member, int64_t value, const char *reason)
{
	pthread_mutex_lock(&j->lock);
	if (j->count == JNL_RING) {
		bool say = jnl_note_drop(j);
		pthread_mutex_unlock(&j->lock);
		if (say)
			log_warn("store", "journal ring full: %llu records dropped so far",
			         (unsigned long long)atomic_load(&j->dropped));
		return;
	}
	struct jnl_rec *r = &j->ring[j->head];
	r->t_ms = t_ms;
	r->value = value;
	r->event = event;
	r->call = call;
	jnl_copy(r->queue, sizeof r->queue, queue);
	jnl_copy(r->member, sizeof r->member, member);
	jnl_copy(r->reason, sizeof r->reason, reason);
	j->head = (j->head + 1) % JNL_RING;
	j->count++;
	j->queued++;
	/* Wake the writer only when it has something new to decide about. */
	if (j->count == 1 || j->count == JNL_BATCH)
		pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->lock);
}

void store_jnl_flush(struct store_jnl *j)
{
	pthread_mutex_lock(&j->lock);
	uint64_t target = j->queued;
	j->flushers++;
	pthread_cond_signal(&j->more);
	while (j->written < target)
		pthread_cond_wait(&j->done, &j->lock);
	j->flushers--;
	pthread_mutex_unlock(&j->lock);
}

uint64_t store_jnl_dropped(const struct store_jnl *j)
{
	return atomic_load(&j->dropped);
}

void store_jnl_retention(struct store_jnl *j, unsigned days)
{
	atomic_store(&j->keep_ms, (int64_t)days * 86400 * 1000);
	pthread_mutex_lock(&j->lock);
	j->next_prune_ms = 0;          /* prune at the next idle moment */
	pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->lock);
}

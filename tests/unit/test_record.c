/* test_record.c — the recording writer on its own: frames in, a readable
 * stereo or mono WAV out with MEV_RECORD_DONE; a full disk (/dev/full) and an
 * unwritable folder give MEV_RECORD_FAILED; a stuck disk makes the ring drop
 * and count frames instead of blocking the producer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media/record.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct media_event events[16];
static int nevents;
static char dir[64];

static void on_event(void *arg, const struct media_event *ev)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	if (nevents < 16)
		events[nevents++] = *ev;
	pthread_mutex_unlock(&lock);
}

static bool wait_events(int n)
{
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&lock);
		int got = nevents;
		pthread_mutex_unlock(&lock);
		if (got >= n)
			return true;
		usleep(10000);
	}
	return false;
}

static int setup(void **state)
{
	(void)state;
	nevents = 0;
	snprintf(dir, sizeof dir, "/tmp/callq-rec-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void frame(int16_t *s, unsigned channels, int k)
{
	for (unsigned i = 0; i < RECORD_FRAME; i++)
		for (unsigned c = 0; c < channels; c++)
			s[i * channels + c] = (int16_t)((c ? -1 : 1) * (k * 10 + 1));
}

static void test_stereo(void **state)
{
	(void)state;
	char path[96];
	snprintf(path, sizeof path, "%s/call.wav", dir);
	struct recorder *w = recorder_new(on_event, NULL);
	assert_non_null(w);
	struct rec *r = rec_new(w, 7, 42, path, 2, 1);   /* 1 s = 50 frames at most */
	assert_non_null(r);
	int16_t s[2 * RECORD_FRAME];
	int pushed = 0;
	while (!rec_full(r)) {
		frame(s, 2, pushed++);
		rec_push(w, r, s);
	}
	assert_int_equal(pushed, 50);
	rec_finish(w, r);
	assert_true(wait_events(1));
	assert_int_equal(events[0].kind, MEV_RECORD_DONE);
	assert_int_equal(events[0].record, 7);
	assert_int_equal(events[0].leg, 42);
	assert_int_equal(events[0].duration_ms, 1000);
	assert_int_equal(events[0].frames_dropped, 0);
	recorder_free(w);

	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	assert_int_equal(info.frames, 50 * RECORD_FRAME);
	int16_t got[2 * RECORD_FRAME];
	for (int k = 0; k < 50; k++) {
		assert_int_equal(sf_readf_short(sf, got, RECORD_FRAME), RECORD_FRAME);
		frame(s, 2, k);
		assert_memory_equal(got, s, sizeof s);
	}
	sf_close(sf);
}

static void test_failures(void **state)
{
	(void)state;
	char path[128];
	struct recorder *w = recorder_new(on_event, NULL);
	int16_t s[RECORD_FRAME] = { 0 };
	assert_null(rec_new(w, 1, 1, "", 1, 0));
	assert_null(rec_new(w, 1, 1, "/tmp/x.wav", 3, 0));

	struct rec *full = rec_new(w, 1, 5, "/dev/full", 1, 0);
	for (int i = 0; i < 3 && !rec_failed(full); i++)
		rec_push(w, full, s);
	snprintf(path, sizeof path, "%s/missing/dir/x.wav", dir);
	struct rec *nodir = rec_new(w, 2, 6, path, 1, 0);
	rec_push(w, nodir, s);
	struct rec *never = rec_new(w, 3, 7, path, 2, 0);
	rec_abort(w, never, "the legs are not bridged");
	assert_true(wait_events(3));
	for (int i = 0; i < 200 && !(rec_failed(full) && rec_failed(nodir)); i++)
		usleep(10000);
	assert_true(rec_failed(full));
	assert_true(rec_failed(nodir));
	rec_finish(w, full);                 /* no second event */
	rec_finish(w, nodir);
	recorder_free(w);
	assert_int_equal(nevents, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(events[i].kind, MEV_RECORD_FAILED);
		print_message("record %u: %s\n", events[i].record, events[i].error);
		if (events[i].record == 1)
			assert_string_equal(events[i].error, "No space left on device");
		if (events[i].record == 2)
			assert_string_equal(events[i].error, "No such file or directory");
		if (events[i].record == 3)
			assert_string_equal(events[i].error, "the legs are not bridged");
	}
}

/* A FIFO blocks the writer in open() until someone reads it: the ring fills
 * and the producer goes on, dropping. */
static void test_overflow(void **state)
{
	(void)state;
	char path[96];
	snprintf(path, sizeof path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	struct recorder *w = recorder_new(on_event, NULL);
	struct rec *r = rec_new(w, 9, 1, path, 1, 0);
	int16_t s[RECORD_FRAME] = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < RECORD_RING + 100; i++)
		rec_push(w, r, s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 500);
	rec_finish(w, r);
	int fd = open(path, O_RDONLY | O_NONBLOCK);  /* unblocks the writer */
	assert_true(wait_events(1));
	print_message("fifo: %s, %u frames dropped\n",
	              events[0].kind == MEV_RECORD_DONE ? "done" : events[0].error,
	              events[0].frames_dropped);
	assert_true(events[0].frames_dropped >= 100);
	char sink[4096];
	while (read(fd, sink, sizeof sink) > 0)
		;
	recorder_free(w);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stereo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_record.c — the recording writer on its own: frames in, a readable
 * stereo or mono WAV out with MEV_RECORD_DONE; a path that exists already (a
 * file, a symbolic link) and an unwritable folder give MEV_RECORD_FAILED and
 * nothing is written over or through; a writer slower than the producer makes
 * the ring drop and count frames instead of blocking the producer. */
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
	char path[128], existing[128], link[128], target[128];
	struct recorder *w = recorder_new(on_event, NULL);
	int16_t s[RECORD_FRAME] = { 0 };
	assert_null(rec_new(w, 1, 1, "", 1, 0));
	assert_null(rec_new(w, 1, 1, "/tmp/x.wav", 3, 0));

	snprintf(existing, sizeof existing, "%s/old.wav", dir);
	FILE *f = fopen(existing, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	snprintf(target, sizeof target, "%s/elsewhere", dir);
	snprintf(link, sizeof link, "%s/link.wav", dir);
	assert_int_equal(symlink(target, link), 0);
	struct rec *old = rec_new(w, 1, 5, existing, 1, 0);
	rec_push(w, old, s);
	struct rec *viasym = rec_new(w, 4, 8, link, 1, 0);
	rec_push(w, viasym, s);
	snprintf(path, sizeof path, "%s/missing/dir/x.wav", dir);
	struct rec *nodir = rec_new(w, 2, 6, path, 1, 0);
	rec_push(w, nodir, s);
	struct rec *never = rec_new(w, 3, 7, path, 2, 0);
	rec_abort(w, never, "the legs are not bridged");
	assert_true(wait_events(4));
	for (int i = 0; i < 200 && !(rec_failed(old) && rec_failed(nodir) && rec_failed(viasym)); i++)
		usleep(10000);
	assert_true(rec_failed(old));
	assert_true(rec_failed(viasym));
	assert_true(rec_failed(nodir));
	rec_finish(w, old);                  /* no second event */
	rec_finish(w, viasym);
	rec_finish(w, nodir);
	recorder_free(w);
	assert_int_equal(nevents, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(events[i].kind, MEV_RECORD_FAILED);
		print_message("record %u: %s\n", events[i].record, events[i].error);
		if (events[i].record == 1 || events[i].record == 4)
			assert_string_equal(events[i].error, "File exists");
		if (events[i].record == 2)
			assert_string_equal(events[i].error, "No such file or directory");
		if (events[i].record == 3)
			assert_string_equal(events[i].error, "the legs are not bridged");
	}
	char kept[16] = "";
	f = fopen(existing, "r");
	assert_non_null(f);
	assert_non_null(fgets(kept, sizeof kept, f));
	fclose(f);
	assert_string_equal(kept, "keep");
	assert_int_equal(access(target, F_OK), -1);     /* the link led nowhere new */
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

/* The writer polls every few milliseconds and writes far slower than frames
 * are pushed (a header update per frame): pushing well past the ring's size
 * in one go fills it, and the producer goes on, dropping, never waiting. */
static void test_overflow(void **state)
{
	(void)state;
	char path[96];
	snprintf(path, sizeof path, "%s/slow.wav", dir);
	struct recorder *w = recorder_new(on_event, NULL);
	struct rec *r = rec_new(w, 9, 1, path, 1, 0);
	int16_t s[RECORD_FRAME] = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < RECORD_RING + 2000; i++)
		rec_push(w, r, s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 500);
	rec_finish(w, r);
	assert_true(wait_events(1));
	print_message("slow writer: %s, %u frames dropped\n",
	              events[0].kind == MEV_RECORD_DONE ? "done" : events[0].error,
	              events[0].frames_dropped);
	assert_true(events[0].frames_dropped >= 100);
	recorder_free(w);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
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

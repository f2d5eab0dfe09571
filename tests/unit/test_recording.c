/* test_recording.c — GET /api/recording's checks: the `recordings id=N`
 * reply, and which paths are opened (only plain regular files inside the
 * recordings folder, never through a symbolic link). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "web/web.h"

static int reply(const char *text, char *code, char *path)
{
	return recording_reply(text, strlen(text), code, 32, path, 256);
}

static void test_reply(void **state)
{
	(void)state;
	char code[32], path[256];
	assert_int_equal(reply("OK 1 rows\nid=3 kind=call call=9 queue=support agent=1001 started=1 "
	                       "duration=5 status=done path=\"run/rec/a b.wav\" error=\n", code, path), 0);
	assert_string_equal(path, "run/rec/a b.wav");
	assert_int_equal(reply("OK 1 rows\nid=3 status=recording path=run/rec/a.wav\n", code, path), -1);
	assert_string_equal(code, "notfound");
	assert_int_equal(reply("OK 1 rows\nid=3 status=failed path=run/rec/a.wav\n", code, path), -1);
	assert_string_equal(code, "notfound");
	assert_int_equal(reply("ERR denied not allowed to see recording 3\n", code, path), -1);
	assert_string_equal(code, "denied");
	assert_int_equal(reply("ERR notfound no recording 4\n", code, path), -1);
	assert_string_equal(code, "notfound");
	assert_int_equal(reply("OK 0 rows\n", code, path), -1);
	assert_string_equal(code, "internal");
	assert_int_equal(reply("OK 1 rows\nid=3 status=done path=x", code, path), -1);
	assert_int_equal(reply("", code, path), -1);
}

static void test_open(void **state)
{
	(void)state;
	char base[] = "/tmp/callq-rec-XXXXXX", dir[64], dir_slash[72], p[128], q[128];
	uint64_t size = 0;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof dir, "%s/recordings", base);
	snprintf(dir_slash, sizeof dir_slash, "%s/", dir);
	assert_int_equal(mkdir(dir, 0700), 0);

	snprintf(p, sizeof p, "%s/call-1.wav", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("RIFF....WAVE", f);
	fclose(f);
	int fd = recording_open(dir, p, &size);
	assert_true(fd >= 0);
	assert_int_equal(size, 12);
	close(fd);
	fd = recording_open(dir_slash, p, &size);      /* a folder written with a final '/' */
	assert_true(fd >= 0);
	close(fd);

	/* Outside the folder, or climbing out of it. */
	snprintf(q, sizeof q, "%s/secret.wav", base);
	f = fopen(q, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(recording_open(dir, q, &size), -1);
	assert_int_equal(errno, EACCES);
	snprintf(q, sizeof q, "%s/../secret.wav", dir);
	assert_int_equal(recording_open(dir, q, &size), -1);
	assert_int_equal(errno, EACCES);
	snprintf(q, sizeof q, "%sx/call-1.wav", dir);
	assert_int_equal(recording_open(dir, q, &size), -1);
	assert_int_equal(recording_open(dir, "/etc/passwd", &size), -1);

	/* A symbolic link planted under a recording's name. */
	snprintf(q, sizeof q, "%s/call-2.wav", dir);
	char target[128];
	snprintf(target, sizeof target, "%s/secret.wav", base);
	assert_int_equal(symlink(target, q), 0);
	assert_int_equal(recording_open(dir, q, &size), -1);
	assert_int_equal(errno, EACCES);
	unlink(q);

	/* Not a regular file: a folder, a FIFO (which must not block). */
	snprintf(q, sizeof q, "%s/call-3.wav", dir);
	assert_int_equal(mkfifo(q, 0600), 0);
	assert_int_equal(recording_open(dir, q, &size), -1);
	assert_int_equal(errno, EACCES);
	unlink(q);
	snprintf(q, sizeof q, "%s/sub", dir);
	assert_int_equal(mkdir(q, 0700), 0);
	assert_int_equal(recording_open(dir, q, &size), -1);
	rmdir(q);

	/* Gone. */
	snprintf(q, sizeof q, "%s/call-4.wav", dir);
	assert_int_equal(recording_open(dir, q, &size), -1);
	assert_int_equal(errno, ENOENT);

	unlink(p);
	snprintf(q, sizeof q, "%s/secret.wav", base);
	unlink(q);
	rmdir(dir);
	rmdir(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

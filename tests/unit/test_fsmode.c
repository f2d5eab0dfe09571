/* test_fsmode.c — narrowing modes of private files and folders, never
 * through a symbolic link; folder names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fsmode.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/callq-fsmode-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_narrow(void **state)
{
	(void)state;
	char file[96], link[96], gone[96];
	snprintf(file, sizeof file, "%s/db", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	snprintf(gone, sizeof gone, "%s/missing", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(fsmode_narrow(file, 0600), 1);
	assert_int_equal(mode_of(file), 0600);
	assert_int_equal(fsmode_narrow(file, 0600), 0);          /* already private */
	assert_int_equal(fsmode_narrow(gone, 0600), 0);          /* missing is fine */
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(fsmode_narrow(link, 0600), 0);          /* never through a link */
	assert_int_equal(mode_of(file), 0644);
}

static void test_dir(void **state)
{
	(void)state;
	char sub[96];
	snprintf(sub, sizeof sub, "%s/rec", dir);
	umask(022);
	assert_int_equal(fsmode_dir(sub, 0700), 0);              /* created */
	assert_int_equal(mode_of(sub), 0700);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(fsmode_dir(sub, 0710), 0);              /* narrowed, group search kept */
	assert_int_equal(mode_of(sub), 0710);
}

static void test_dirname(void **state)
{
	(void)state;
	char out[64];
	fsmode_dirname("run/callq.db", out, sizeof out);
	assert_string_equal(out, "run");
	fsmode_dirname("callq.db", out, sizeof out);
	assert_string_equal(out, ".");
	fsmode_dirname("/callq.db", out, sizeof out);
	assert_string_equal(out, "/");
	fsmode_dirname("/var/lib/callq/callq.db", out, sizeof out);
	assert_string_equal(out, "/var/lib/callq");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_narrow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir, setup, teardown),
		cmocka_unit_test(test_dirname),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

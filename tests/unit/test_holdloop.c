/* test_holdloop.c — hold spec parsing, walking and number decomposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "media/holdloop.h"
#include "media/media.h"

static struct holdloop prog;

static void test_valid_specs(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"position", "wait", "pause:1",
		"pause:600", "file:music.wav", "file:en/ok.wav", "file:a-b_c.d/E9.wav",
		"position,pause:2,file:music.wav,wait,repeat", "file:x.wav,repeat",
	};
	char err[128];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		err[0] = '\0';
		assert_true(media_hold_valid(ok[i], err, sizeof err));
		assert_string_equal(err, "");
	}
	assert_int_equal(holdloop_parse("position,pause:2,file:music.wav,wait,repeat", &prog,
	                                err, sizeof err), 0);
	assert_int_equal(prog.n, 4);
	assert_true(prog.repeat);
	assert_int_equal(prog.item[0].kind, HOLDLOOP_POSITION);
	assert_int_equal(prog.item[1].kind, HOLDLOOP_PAUSE);
	assert_int_equal(prog.item[1].pause_s, 2);
	assert_int_equal(prog.item[2].kind, HOLDLOOP_FILE);
	assert_string_equal(prog.item[2].file, "music.wav");
	assert_int_equal(prog.item[3].kind, HOLDLOOP_WAIT);
}

static void test_invalid_specs(void **state)
{
	(void)state;
	static const struct { const char *spec, *item; } bad[] = {
		{ "", "" },
		{ "repeat", "repeat" },
		{ "repeat,position", "repeat" },
		{ "position,,wait", "" },
		{ "position,", "" },
		{ "pause:0", "pause:0" },
		{ "pause:601", "pause:601" },
		{ "pause:", "pause:" },
		{ "pause:-1", "pause:-1" },
		{ "pause:1x", "pause:1x" },
		{ "pause:0010", "pause:0010" },
		{ "file:music.mp3", "file:music.mp3" },
		{ "file:../etc/passwd.wav", "file:../etc/passwd.wav" },
		{ "file:/abs.wav", "file:/abs.wav" },
		{ "file:a b.wav", "file:a b.wav" },
		{ "file:.wav", "file:.wav" },
		{ "file:", "file:" },
		{ "Position", "Position" },
		{ "position ,wait", "position " },
		{ "music", "music" },
	};
	char err[160];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_false(media_hold_valid(bad[i].spec, err, sizeof err));
		char quoted[80];
		snprintf(quoted, sizeof quoted, "\"%s\"", bad[i].item);
		if (!strstr(err, quoted))
			fail_msg("spec \"%s\": error \"%s\" does not name %s", bad[i].spec, err, quoted);
	}
	assert_false(media_hold_valid(NULL, err, sizeof err));
	char many[400] = "";
	for (int i = 0; i < HOLDLOOP_MAX_ITEMS + 1; i++)
		strcat(many, i ? ",wait" : "wait");
	assert_false(media_hold_valid(many, err, sizeof err));
	static const char *const urls[] = { "file:http://radio.example/live.wav",
	                                    "position,https://x.example/a.mp3,repeat", "rtsp://cam/1" };
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		assert_false(media_hold_valid(urls[i], err, sizeof err));
		assert_string_equal(err, "stream URLs are not supported: import the file with media.import");
	}
}

static int walk(const char *spec, int *out, int n)
{
	char err[128];
	bool tail = false;
	assert_int_equal(holdloop_parse(spec, &prog, err, sizeof err), 0);
	int i = -1;
	for (int k = 0; k < n; k++)
		out[k] = i = holdloop_next(&prog, i, &tail);
	return tail;
}

static void test_program_steps(void **state)
{
	(void)state;
	int seq[7];
	assert_false(walk("position,file:a.wav,wait,repeat", seq, 7));
	int want1[] = { 0, 1, 2, 0, 1, 2, 0 };
	assert_memory_equal(seq, want1, sizeof want1);

	assert_true(walk("position,file:a.wav,pause:3,file:b.wav,wait", seq, 7));
	int want2[] = { 0, 1, 2, 3, 4, 3, 3 };               /* ends looping the last file */
	assert_memory_equal(seq, want2, sizeof want2);

	assert_true(walk("file:a.wav,pause:2", seq, 5));
	int want3[] = { 0, 1, 0, 0, 0 };
	assert_memory_equal(seq, want3, sizeof want3);

	assert_true(walk("position,wait", seq, 4));
	int want4[] = { 0, 1, -1, -1 };                      /* no file: silence forever */
	assert_memory_equal(seq, want4, sizeof want4);
}

static void names(const struct holdloop_step *s, size_t n, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(out);
		if (s[i].name[0])
			snprintf(out + used, len - used, "%s%s", i ? " " : "", s[i].name);
		else
			snprintf(out + used, len - used, "%s<%ums>", i ? " " : "", s[i].silence_ms);
	}
}

static void say(unsigned n, const char *want)
{
	struct holdloop_step s[HOLDLOOP_MAX_STEPS];
	char got[512];
	names(s, holdloop_number(n, "en", s, HOLDLOOP_MAX_STEPS), got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("%u: got \"%s\", want \"%s\"", n, got, want);
}

static void test_numbers(void **state)
{
	(void)state;
	say(0, "en/0.wav");
	say(7, "en/7.wav");
	say(19, "en/19.wav");
	say(20, "en/20.wav");
	say(21, "en/20.wav en/1.wav");
	say(99, "en/90.wav en/9.wav");
	say(100, "en/1.wav en/hundred.wav");
	say(105, "en/1.wav en/hundred.wav en/5.wav");
	say(113, "en/1.wav en/hundred.wav en/13.wav");
	say(345, "en/3.wav en/hundred.wav en/40.wav en/5.wav");
	say(999, "en/9.wav en/hundred.wav en/90.wav en/9.wav");
	say(5000, "en/9.wav en/hundred.wav en/90.wav en/9.wav");

	/* Every value uses only clips that exist in a complete language folder. */
	struct holdloop_step s[HOLDLOOP_MAX_STEPS];
	for (unsigned n = 0; n <= 999; n++) {
		size_t k = holdloop_number(n, "en", s, HOLDLOOP_MAX_STEPS);
		assert_true(k >= 1 && k <= 4);
		unsigned sum = 0;
		for (size_t i = 0; i < k; i++) {
			unsigned v;
			if (strcmp(s[i].name, "en/hundred.wav") == 0) {
				sum *= 100;
				continue;
			}
			assert_int_equal(sscanf(s[i].name, "en/%u.wav", &v), 1);
			assert_true(v < 20 || (v % 10 == 0 && v <= 90));
			sum += v;
		}
		assert_int_equal(sum, n);
	}
}

static char callback_key;

static void expand(const char *spec, bool known, unsigned pos, unsigned wait, const char *want)
{
	char err[128], got[512];
	struct holdloop_step s[HOLDLOOP_MAX_STEPS];
	struct holdloop_vars v = { .known = known, .position = pos, .wait_s = wait,
	                           .callback_key = callback_key };
	assert_int_equal(holdloop_parse(spec, &prog, err, sizeof err), 0);
	names(s, holdloop_expand(&prog.item[0], "en", &v, s, HOLDLOOP_MAX_STEPS), got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", spec, got, want);
}

static void test_expand(void **state)
{
	(void)state;
	expand("position", false, 3, 0, "");
	expand("position", true, 3, 0, "en/caller-number.wav en/3.wav <200ms>");
	expand("position", true, 42, 0, "en/caller-number.wav en/40.wav en/2.wav <200ms>");
	expand("wait", false, 1, 300, "");
	expand("wait", true, 1, 59, "en/wait-is.wav en/less-than-minute.wav <200ms>");
	expand("wait", true, 1, 60, "en/wait-is.wav en/about.wav en/1.wav en/minute.wav <200ms>");
	expand("wait", true, 1, 89, "en/wait-is.wav en/about.wav en/1.wav en/minute.wav <200ms>");
	expand("wait", true, 1, 90, "en/wait-is.wav en/about.wav en/2.wav en/minutes.wav <200ms>");
	expand("wait", true, 1, 3600 * 20,
	       "en/wait-is.wav en/about.wav en/9.wav en/hundred.wav en/90.wav en/9.wav en/minutes.wav <200ms>");
	expand("pause:3", false, 0, 0, "<3000ms>");
	expand("file:music.wav", false, 0, 0, "music.wav");
	/* The callback offer is heard only while the adapter passes a key. */
	expand("callback", true, 1, 600, "");
	callback_key = '1';
	expand("callback", true, 1, 600, "en/callback-press.wav en/1.wav en/callback-keep.wav <200ms>");
	expand("callback", false, 1, 600, "");
	callback_key = '*';
	expand("callback", true, 1, 600, "en/callback-press.wav en/star.wav en/callback-keep.wav <200ms>");
	callback_key = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_specs),
		cmocka_unit_test(test_invalid_specs),
		cmocka_unit_test(test_program_steps),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_expand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

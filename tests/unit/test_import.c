/* test_import.c — media_import: FLAC and AIFF at other rates and channel
 * counts come out as 8 kHz mono PCM16 WAV holding the same tone; unreadable
 * input gets an error naming the file and its format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/media.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/callq-imp-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* 1 s of a 500 Hz tone, left channel only (the right one silent). */
static void write_src(const char *path, int format, int rate, int channels)
{
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	int16_t *s = calloc((size_t)rate * (size_t)channels, sizeof *s);
	for (int i = 0; i < rate; i++)
		s[i * channels] = (int16_t)lrint(12000 * sin(2 * M_PI * 500 * i / rate));
	assert_int_equal(sf_writef_short(sf, s, rate), rate);
	sf_close(sf);
	free(s);
}

/* Amplitude of the 500 Hz tone in an 8 kHz mono WAV, after checking its format. */
static double check_out(const char *path)
{
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	assert_true(info.frames >= 7990 && info.frames <= 8000);
	int16_t s[8000];
	sf_count_t n = sf_readf_short(sf, s, 8000);
	sf_close(sf);
	double re = 0, im = 0;
	for (sf_count_t i = 400; i < n - 400; i++) {
		re += s[i] * cos(2 * M_PI * 500 * (double)i / 8000);
		im += s[i] * sin(2 * M_PI * 500 * (double)i / 8000);
	}
	return 2 * sqrt(re * re + im * im) / (double)(n - 800);
}

static void test_flac_stereo(void **state)
{
	(void)state;
	char src[128], dst[128], err[256];
	snprintf(src, sizeof src, "%s/in.flac", dir);
	snprintf(dst, sizeof dst, "%s/out.wav", dir);
	write_src(src, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2);
	assert_int_equal(media_import(src, dst, err, sizeof err), 0);
	double amp = check_out(dst);
	print_message("flac 44.1 kHz stereo: tone amplitude %.0f (expected 6000)\n", amp);
	assert_true(fabs(amp - 6000) < 120);           /* mixed down: half of the left channel */
}

static void test_aiff_48k(void **state)
{
	(void)state;
	char src[128], dst[128], err[256];
	snprintf(src, sizeof src, "%s/in.aiff", dir);
	snprintf(dst, sizeof dst, "%s/out.wav", dir);
	write_src(src, SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 48000, 1);
	assert_int_equal(media_import(src, dst, err, sizeof err), 0);
	assert_true(fabs(check_out(dst) - 12000) < 240);
	struct stat st;
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.import-%d", dst, (int)getpid());
	assert_int_equal(stat(tmp, &st), -1);           /* no temporary left behind */
}

static void test_errors(void **state)
{
	(void)state;
	char src[128], dst[128], err[256];
	snprintf(src, sizeof src, "%s/song.xyz", dir);
	snprintf(dst, sizeof dst, "%s/never.wav", dir);
	FILE *f = fopen(src, "w");
	fputs("ID3 this is not audio at all, not even close", f);
	fclose(f);
	assert_int_equal(media_import(src, dst, err, sizeof err), -1);
	print_message("%s\n", err);
	assert_non_null(strstr(err, src));
	assert_non_null(strstr(err, "format \"xyz\""));
	assert_int_equal(access(dst, F_OK), -1);

	snprintf(src, sizeof src, "%s/ok.wav", dir);
	write_src(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1);
	snprintf(dst, sizeof dst, "%s/no/such/dir/out.wav", dir);
	assert_int_equal(media_import(src, dst, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(media_import("/nonexistent.wav", dst, err, sizeof err), -1);
	assert_non_null(strstr(err, "format \"wav\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flac_stereo),
		cmocka_unit_test(test_aiff_48k),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* import.c — media_import (see media.h): anything libsndfile reads becomes
 * the 8 kHz mono PCM16 WAV the engine plays. Runs on the caller's thread. */
#include "media/media.h"
#include "media/resample.h"

#include <errno.h>
#include <limits.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMPORT_MAX_SECONDS 3600
#define IMPORT_CHUNK       4096      /* frames read at a time */

static int import_fail(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "%s: %s", path, why);
	return -1;
}

/* "flac", "mp3"...: the file's extension, to name the format libsndfile refused. */
static const char *import_ext(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	return dot && (!slash || dot > slash) && dot[1] ? dot + 1 : "unknown";
}

/* The whole file mixed down to mono; NULL with a message. */
static int16_t *import_read(SNDFILE *sf, const SF_INFO *info, const char *path, size_t *n,
                            char *err, size_t errlen)
{
	size_t ch = (size_t)info->channels, cap = 0, len = 0;
	int16_t *mono = NULL, *buf = malloc(IMPORT_CHUNK * ch * sizeof *buf);
	size_t limit = (size_t)info->samplerate * IMPORT_MAX_SECONDS;
	sf_count_t got;
	while (buf && (got = sf_readf_short(sf, buf, IMPORT_CHUNK)) > 0) {
		if (len + (size_t)got > limit) {
			free(buf);
			free(mono);
			import_fail(err, errlen, path, "longer than an hour");
			return NULL;
		}
		if (len + (size_t)got > cap) {
			cap = (len + (size_t)got) * 2;
			int16_t *v = realloc(mono, cap * sizeof *v);
			if (!v)
				break;
			mono = v;
		}
		for (sf_count_t i = 0; i < got; i++) {
			long sum = 0;
			for (size_t c = 0; c < ch; c++)
				sum += buf[(size_t)i * ch + c];
			mono[len++] = (int16_t)(sum / (long)ch);
		}
	}
	if (!buf || (len && !mono) || sf_error(sf)) {
		import_fail(err, errlen, path, buf ? sf_strerror(sf) : "out of memory");
		free(buf);
		free(mono);
		return NULL;
	}
	free(buf);
	*n = len;
	return mono ? mono : calloc(1, sizeof *mono);
}

static int import_write(const char *dst, const int16_t *s, size_t n, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.import-%d", dst, (int)getpid()) >= (int)sizeof tmp)
		return import_fail(err, errlen, dst, "path too long");
	SF_INFO info = { .samplerate = RESAMPLE_RATE, .channels = 1,
	                 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	errno = 0;
	SNDFILE *sf = sf_open(tmp, SFM_WRITE, &info);
	if (!sf)
		return import_fail(err, errlen, dst, errno ? strerror(errno) : sf_strerror(NULL));
	bool ok = sf_write_short(sf, s, (sf_count_t)n) == (sf_count_t)n;
	char why[128];
	snprintf(why, sizeof why, "%s", ok ? "" : sf_strerror(sf));
	if (sf_close(sf) != 0 && ok) {
		ok = false;
		snprintf(why, sizeof why, "%s", strerror(errno));
	}
	if (ok && rename(tmp, dst) < 0) {
		ok = false;
		snprintf(why, sizeof why, "%s", strerror(errno));
	}
	if (!ok) {
		unlink(tmp);
		return import_fail(err, errlen, dst, why);
	}
	return 0;
}

int media_import(const char *src_path, const char *dst_path, char *err, size_t errlen)
{
	if (!src_path || !dst_path)
		return import_fail(err, errlen, "media import", "source and destination are required");
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(src_path, SFM_READ, &info);
	if (!sf) {
		snprintf(err, errlen, "%s: cannot read this file (format \"%s\"): %s; "
		         "use WAV, AIFF, FLAC or OGG/Vorbis", src_path, import_ext(src_path),
		         sf_strerror(NULL));
		return -1;
	}
	if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 384000) {
		sf_close(sf);
		snprintf(err, errlen, "%s: unusable audio: %d Hz, %d channel(s)", src_path,
		         info.samplerate, info.channels);
		return -1;
	}
	size_t n;
	int16_t *mono = import_read(sf, &info, src_path, &n, err, errlen);
	sf_close(sf);
	if (!mono)
		return -1;
	int16_t *out = mono;
	if (info.samplerate != RESAMPLE_RATE) {
		out = resample_to_8k(mono, n, (unsigned)info.samplerate, &n);
		free(mono);
		if (!out)
			return import_fail(err, errlen, src_path, "out of memory resampling");
	}
	int rc = import_write(dst_path, out, n, err, errlen);
	free(out);
	return rc;
}

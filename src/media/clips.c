/* clips.c — see clips.h. */
#include "media/clips.h"

#include "core/log.h"
#include "media/g711.h"
#include "media/holdloop.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CLIPS_MAX_SECONDS 3600   /* refuse absurd files rather than eat memory */
#define CLIPS_SINC_ZEROS 12      /* half-width of the resampling filter, in zero crossings */
#define CLIPS_MAX_DEPTH 8

struct clips {
	struct clip *v;
	size_t n, cap;
};

static int clips_cmp(const void *a, const void *b)
{
	return strcmp(((const struct clip *)a)->name, ((const struct clip *)b)->name);
}

#define CLIPS_KERNEL_RES 256      /* kernel table points per zero crossing */

static double clips_sinc(double x)
{
	return x == 0.0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
}

int16_t *clips_resample(const int16_t *in, size_t n, unsigned from, size_t *out_n)
{
	/* Hann-windowed sinc indexed by distance in zero crossings; tabulated
	 * because a long music file needs about 10^8 taps. */
	double kernel[CLIPS_SINC_ZEROS * CLIPS_KERNEL_RES + 2];
	for (size_t j = 0; j < sizeof kernel / sizeof kernel[0]; j++) {
		double u = (double)j / CLIPS_KERNEL_RES;
		kernel[j] = u >= CLIPS_SINC_ZEROS ? 0.0
		            : clips_sinc(u) * (0.5 + 0.5 * cos(M_PI * u / CLIPS_SINC_ZEROS));
	}
	size_t on = (size_t)((double)n * CLIPS_RATE / from);
	int16_t *out = malloc((on ? on : 1) * sizeof *out);
	if (!out)
		return NULL;
	/* Cut off just below the lower of the two Nyquist limits, in input samples. */
	double fc = (from > CLIPS_RATE ? (double)CLIPS_RATE / from : 1.0) * 0.95;
	double half = CLIPS_SINC_ZEROS / fc;
	for (size_t i = 0; i < on; i++) {
		double t = (double)i * from / CLIPS_RATE;
		long lo = (long)ceil(t - half), hi = (long)floor(t + half);
		if (lo < 0)
			lo = 0;
		if (hi >= (long)n)
			hi = (long)n - 1;
		double acc = 0.0;
		for (long k = lo; k <= hi; k++) {
			double pos = fabs(t - (double)k) * fc * CLIPS_KERNEL_RES;
			size_t j = (size_t)pos;
			double h = kernel[j] + (pos - (double)j) * (kernel[j + 1] - kernel[j]);
			acc += in[k] * h;
		}
		acc *= fc;
		out[i] = (int16_t)(acc > 32767 ? 32767 : acc < -32768 ? -32768 : lrint(acc));
	}
	*out_n = on;
	return out;
}

/* Mono 16-bit samples at the file's own rate; NULL (logged) if unusable. */
static int16_t *clips_read(const char *path, SF_INFO *info)
{
	memset(info, 0, sizeof *info);
	SNDFILE *sf = sf_open(path, SFM_READ, info);
	if (!sf) {
		log_error("media", "clip %s: %s", path, sf_strerror(NULL));
		return NULL;
	}
	int16_t *mono = NULL, *frames = NULL;
	if (info->channels < 1 || info->samplerate < 1000 || info->frames < 0 ||
	    info->frames > (sf_count_t)info->samplerate * CLIPS_MAX_SECONDS) {
		log_error("media", "clip %s: unusable format 0x%x, %d Hz, %d channels, %lld frames",
		          path, (unsigned)info->format, info->samplerate, info->channels,
		          (long long)info->frames);
		goto out;
	}
	size_t n = (size_t)info->frames, ch = (size_t)info->channels;
	frames = malloc((n ? n : 1) * ch * sizeof *frames);
	mono = malloc((n ? n : 1) * sizeof *mono);
	if (!frames || !mono) {
		log_error("media", "clip %s: out of memory", path);
		free(mono);
		mono = NULL;
		goto out;
	}
	n = (size_t)sf_readf_short(sf, frames, (sf_count_t)n);
	for (size_t i = 0; i < n; i++) {
		long sum = 0;
		for (size_t c = 0; c < ch; c++)
			sum += frames[i * ch + c];
		mono[i] = (int16_t)(sum / (long)ch);
	}
	info->frames = (sf_count_t)n;
out:
	free(frames);
	sf_close(sf);
	return mono;
}

static int clips_add(struct clips *c, const char *path, const char *rel)
{
	SF_INFO info;
	int16_t *lin = clips_read(path, &info);
	if (!lin)
		return -1;
	size_t n = (size_t)info.frames;
	if (info.samplerate != CLIPS_RATE) {
		int16_t *rs = clips_resample(lin, n, (unsigned)info.samplerate, &n);
		free(lin);
		if (!rs) {
			log_error("media", "clip %s: out of memory resampling", path);
			return -1;
		}
		log_debug("media", "clip %s resampled from %d Hz", rel, info.samplerate);
		lin = rs;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct clip *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			free(lin);
			return -1;
		}
		c->v = v;
		c->cap = cap;
	}
	struct clip *k = &c->v[c->n];
	k->name = strdup(rel);
	k->len = n;
	k->lin = lin;
	k->ulaw = malloc(n ? n : 1);
	k->alaw = malloc(n ? n : 1);
	if (!k->name || !k->ulaw || !k->alaw) {
		free(k->name);
		free(k->ulaw);
		free(k->alaw);
		free(lin);
		return -1;
	}
	g711_encode(0, lin, k->ulaw, n);
	g711_encode(1, lin, k->alaw, n);
	c->n++;
	return 0;
}

static bool clips_is_wav(const char *name)
{
	size_t len = strlen(name);
	return len > 4 && strcasecmp(name + len - 4, ".wav") == 0;
}

static void clips_walk(struct clips *c, const char *root, const char *rel, int depth)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(dir);
	if (!d) {
		log_error("media", "cannot read %s: %s", dir, strerror(errno));
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char sub[PATH_MAX], path[PATH_MAX];
		int a = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		int b = snprintf(path, sizeof path, "%s/%s", root, sub);
		struct stat st;
		if (a < 0 || (size_t)a >= sizeof sub || b < 0 || (size_t)b >= sizeof path ||
		    stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < CLIPS_MAX_DEPTH)
			clips_walk(c, root, sub, depth + 1);
		else if (S_ISREG(st.st_mode) && clips_is_wav(e->d_name))
			clips_add(c, path, sub);
	}
	closedir(d);
}

/* One error per language folder (one holding any prompt) that lacks some. */
static void clips_check_lang(const struct clips *c, const char *lang)
{
	static const char *const words[] = {
		"caller-number", "wait-is", "less-than-minute", "about", "minute", "minutes", "hundred",
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
		"16", "17", "18", "19", "20", "30", "40", "50", "60", "70", "80", "90",
	};
	char name[HOLDLOOP_NAME_MAX], missing[256] = "";
	unsigned nmissing = 0, nfound = 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		int w = snprintf(name, sizeof name, "%s/%s.wav", lang, words[i]);
		if (w < 0 || (size_t)w >= sizeof name || clips_find(c, name)) {
			nfound++;
			continue;
		}
		if (nmissing++ < 8) {
			size_t len = strlen(missing);
			snprintf(missing + len, sizeof missing - len, "%s%s", len ? " " : "", words[i]);
		}
	}
	if (nfound && nmissing)
		log_error("media", "language %s lacks %u prompt(s), e.g. %s; they will be skipped",
		          lang, nmissing, missing);
}

static void clips_check_langs(const struct clips *c)
{
	const char *prev = NULL;
	size_t prevlen = 0;
	for (size_t i = 0; i < c->n; i++) {
		const char *name = c->v[i].name, *slash = strchr(name, '/');
		if (!slash || strchr(slash + 1, '/'))
			continue;
		size_t len = (size_t)(slash - name);
		if (prev && len == prevlen && memcmp(prev, name, len) == 0)
			continue;
		prev = name;
		prevlen = len;
		char lang[HOLDLOOP_NAME_MAX];
		snprintf(lang, sizeof lang, "%.*s", (int)len, name);
		clips_check_lang(c, lang);
	}
}

struct clips *clips_load(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) < 0) {
		snprintf(err, errlen, "media_dir %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "media_dir %s: not a directory", dir);
		return NULL;
	}
	struct clips *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	clips_walk(c, dir, "", 0);
	if (c->n)
		qsort(c->v, c->n, sizeof *c->v, clips_cmp);
	clips_check_langs(c);
	log_info("media", "loaded %zu clip(s) from %s", c->n, dir);
	return c;
}

const struct clip *clips_find(const struct clips *c, const char *name)
{
	if (!c->n)
		return NULL;
	struct clip key = { .name = (char *)name };
	return bsearch(&key, c->v, c->n, sizeof *c->v, clips_cmp);
}

size_t clips_count(const struct clips *c)
{
	return c->n;
}

void clips_free(struct clips *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].lin);
		free(c->v[i].ulaw);
		free(c->v[i].alaw);
	}
	free(c->v);
	free(c);
}

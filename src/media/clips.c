/* clips.c — see clips.h. */
#include "media/clips.h"

#include "core/log.h"
#include "media/g711.h"
#include "media/holdloop.h"
#include "media/resample.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CLIPS_MAX_SECONDS 3600   /* refuse absurd files rather than eat memory */
#define CLIPS_MAX_DEPTH 8

struct clips {
	char *dir;
	pthread_mutex_t lock;
	struct clip **v;           /* sorted by name */
	size_t n, cap;
};

static int clips_cmp(const void *a, const void *b)
{
	return strcmp((*(struct clip *const *)a)->name, (*(struct clip *const *)b)->name);
}

/* Mono 16-bit samples at the file's own rate; NULL (with a message) if unusable. */
static int16_t *clips_read(const char *path, SF_INFO *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	SNDFILE *sf = sf_open(path, SFM_READ, info);
	if (!sf) {
		snprintf(err, errlen, "clip %s: %s", path, sf_strerror(NULL));
		return NULL;
	}
	int16_t *mono = NULL, *frames = NULL;
	if (info->channels < 1 || info->samplerate < 1000 || info->frames < 0 ||
	    info->frames > (sf_count_t)info->samplerate * CLIPS_MAX_SECONDS) {
		snprintf(err, errlen, "clip %s: unusable format 0x%x, %d Hz, %d channels, %lld frames",
		         path, (unsigned)info->format, info->samplerate, info->channels,
		         (long long)info->frames);
		goto out;
	}
	size_t n = (size_t)info->frames, ch = (size_t)info->channels;
	frames = malloc((n ? n : 1) * ch * sizeof *frames);
	mono = malloc((n ? n : 1) * sizeof *mono);
	if (!frames || !mono) {
		snprintf(err, errlen, "clip %s: out of memory", path);
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

static void clips_destroy(struct clip *k)
{
	free(k->name);
	free(k->lin);
	free(k->ulaw);
	free(k->alaw);
	free(k);
}

/* A clip with one reference, decoded from path; NULL with a message. */
static struct clip *clips_decode(const char *path, const char *rel, char *err, size_t errlen)
{
	SF_INFO info;
	int16_t *lin = clips_read(path, &info, err, errlen);
	if (!lin)
		return NULL;
	size_t n = (size_t)info.frames;
	if (info.samplerate != CLIPS_RATE) {
		int16_t *rs = resample_to_8k(lin, n, (unsigned)info.samplerate, &n);
		free(lin);
		if (!rs) {
			snprintf(err, errlen, "clip %s: out of memory resampling", path);
			return NULL;
		}
		lin = rs;
	}
	struct clip *k = calloc(1, sizeof *k);
	if (!k) {
		free(lin);
		snprintf(err, errlen, "clip %s: out of memory", path);
		return NULL;
	}
	k->lin = lin;
	k->len = n;
	k->name = strdup(rel);
	k->ulaw = malloc(n ? n : 1);
	k->alaw = malloc(n ? n : 1);
	if (!k->name || !k->ulaw || !k->alaw) {
		clips_destroy(k);
		snprintf(err, errlen, "clip %s: out of memory", path);
		return NULL;
	}
	g711_encode(0, lin, k->ulaw, n);
	g711_encode(1, lin, k->alaw, n);
	atomic_init(&k->refs, 1);
	return k;
}

static int clips_append(struct clips *c, struct clip *k)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct clip **v = realloc(c->v, cap * sizeof *v);
		if (!v)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = k;
	return 0;
}

static bool clips_is_wav(const char *name)
{
	size_t len = strlen(name);
	return len > 4 && strcasecmp(name + len - 4, ".wav") == 0;
}

static void clips_add_file(struct clips *c, const char *path, const char *rel)
{
	char err[PATH_MAX + 128];
	struct clip *k = clips_decode(path, rel, err, sizeof err);
	if (!k)
		log_error("media", "%s", err);
	else if (clips_append(c, k) < 0)
		clips_put(k);
}

static void clips_walk(struct clips *c, const char *rel, int depth)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s%s%s", c->dir, *rel ? "/" : "", rel);
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
		int b = snprintf(path, sizeof path, "%s/%s", c->dir, sub);
		struct stat st;
		if (a < 0 || (size_t)a >= sizeof sub || b < 0 || (size_t)b >= sizeof path ||
		    stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < CLIPS_MAX_DEPTH)
			clips_walk(c, sub, depth + 1);
		else if (S_ISREG(st.st_mode) && clips_is_wav(e->d_name))
			clips_add_file(c, path, sub);
	}
	closedir(d);
}

/* Index of name in the sorted table, or where it would go (*found false). */
static size_t clips_index(const struct clips *c, const char *name, bool *found)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->v[mid]->name, name);
		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* One error per language folder (one holding any prompt) that lacks some. */
static void clips_check_lang(struct clips *c, const char *lang)
{
	static const char *const words[] = {
		"caller-number", "wait-is", "less-than-minute", "about", "minute", "minutes", "hundred",
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
		"16", "17", "18", "19", "20", "30", "40", "50", "60", "70", "80", "90",
	};
	char name[HOLDLOOP_NAME_MAX], missing[256] = "";
	unsigned nmissing = 0, nfound = 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		bool found = false;
		int w = snprintf(name, sizeof name, "%s/%s.wav", lang, words[i]);
		if (w > 0 && (size_t)w < sizeof name)
			clips_index(c, name, &found);
		if (found || w < 0 || (size_t)w >= sizeof name) {
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

static void clips_check_langs(struct clips *c)
{
	const char *prev = NULL;
	size_t prevlen = 0;
	for (size_t i = 0; i < c->n; i++) {
		const char *name = c->v[i]->name, *slash = strchr(name, '/');
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
	if (!c || !(c->dir = strdup(dir))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	clips_walk(c, "", 0);
	if (c->n)
		qsort(c->v, c->n, sizeof *c->v, clips_cmp);
	clips_check_langs(c);
	log_info("media", "loaded %zu clip(s) from %s", c->n, dir);
	return c;
}

struct clip *clips_get(struct clips *c, const char *name)
{
	bool found;
	struct clip *k = NULL;
	pthread_mutex_lock(&c->lock);
	size_t i = clips_index(c, name, &found);
	if (found) {
		k = c->v[i];
		atomic_fetch_add(&k->refs, 1);
	}
	pthread_mutex_unlock(&c->lock);
	return k;
}

void clips_put(struct clip *k)
{
	if (k && atomic_fetch_sub(&k->refs, 1) == 1)
		clips_destroy(k);
}

/* Puts k (NULL: removes) at name's place; returns the clip it replaced. */
static struct clip *clips_swap(struct clips *c, const char *name, struct clip *k)
{
	bool found;
	struct clip *old = NULL;
	pthread_mutex_lock(&c->lock);
	size_t i = clips_index(c, name, &found);
	if (found) {
		old = c->v[i];
		if (k) {
			c->v[i] = k;
		} else {
			memmove(c->v + i, c->v + i + 1, (c->n - i - 1) * sizeof *c->v);
			c->n--;
		}
	} else if (k && clips_append(c, k) == 0) {
		memmove(c->v + i + 1, c->v + i, (c->n - 1 - i) * sizeof *c->v);
		c->v[i] = k;
	} else {
		old = k;                     /* nothing to replace, or no room: drop it */
	}
	pthread_mutex_unlock(&c->lock);
	return old;
}

int clips_reload(struct clips *c, const char *rel, char *err, size_t errlen)
{
	struct holdloop probe;
	char spec[HOLDLOOP_NAME_MAX + 8];
	snprintf(spec, sizeof spec, "file:%s", rel);
	if (holdloop_parse(spec, &probe, err, errlen) < 0)
		return -1;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", c->dir, rel);
	struct stat st;
	struct clip *k = NULL;
	if (stat(path, &st) == 0 && !(k = clips_decode(path, rel, err, errlen)))
		return -1;
	clips_put(clips_swap(c, rel, k));
	log_info("media", "clip %s %s", rel, k ? "reloaded" : "removed");
	return 0;
}

size_t clips_count(struct clips *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void clips_free(struct clips *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		clips_put(c->v[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->v);
	free(c->dir);
	free(c);
}

/* holdloop.c — see holdloop.h. */
#include "media/holdloop.h"

#include <stdio.h>
#include <string.h>

static bool holdloop_name_ok(const char *s, size_t len)
{
	static const char ext[] = ".wav";
	if (len <= sizeof ext - 1 || len >= HOLDLOOP_NAME_MAX || s[0] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' || c == '-';
		if (!ok)
			return false;
		if (c == '.' && i + 1 < len && s[i + 1] == '.')
			return false;
	}
	return memcmp(s + len - (sizeof ext - 1), ext, sizeof ext - 1) == 0;
}

/* Strict decimal, no sign, no spaces; false on overflow or junk. */
static bool holdloop_seconds(const char *s, size_t len, unsigned *out)
{
	if (len == 0 || len > 3)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return v >= 1 && v <= 600;
}

static int holdloop_fail(char *err, size_t errlen, const char *s, size_t len, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "hold item \"%.*s\": %s", (int)(len > 64 ? 64 : len), s, why);
	return -1;
}

static int holdloop_item(struct holdloop *p, const char *s, size_t len, bool last,
                         char *err, size_t errlen)
{
	if (len == 0)
		return holdloop_fail(err, errlen, s, len, "empty item");
	if (len == 6 && memcmp(s, "repeat", 6) == 0) {
		if (!last)
			return holdloop_fail(err, errlen, s, len, "repeat must be the last item");
		if (p->n == 0)
			return holdloop_fail(err, errlen, s, len, "nothing to repeat");
		p->repeat = true;
		return 0;
	}
	if (p->n == HOLDLOOP_MAX_ITEMS)
		return holdloop_fail(err, errlen, s, len, "too many items");
	struct holdloop_item *it = &p->item[p->n];
	memset(it, 0, sizeof *it);
	if (len == 8 && memcmp(s, "position", 8) == 0) {
		it->kind = HOLDLOOP_POSITION;
	} else if (len == 4 && memcmp(s, "wait", 4) == 0) {
		it->kind = HOLDLOOP_WAIT;
	} else if (len == 8 && memcmp(s, "callback", 8) == 0) {
		it->kind = HOLDLOOP_CALLBACK;
	} else if (len > 6 && memcmp(s, "pause:", 6) == 0) {
		it->kind = HOLDLOOP_PAUSE;
		if (!holdloop_seconds(s + 6, len - 6, &it->pause_s))
			return holdloop_fail(err, errlen, s, len, "seconds must be 1..600");
	} else if (len > 5 && memcmp(s, "file:", 5) == 0) {
		it->kind = HOLDLOOP_FILE;
		if (!holdloop_name_ok(s + 5, len - 5))
			return holdloop_fail(err, errlen, s, len,
			                     "file must be a relative .wav path of [A-Za-z0-9_./-] without \"..\"");
		memcpy(it->file, s + 5, len - 5);
		it->file[len - 5] = '\0';
	} else {
		return holdloop_fail(err, errlen, s, len,
		                     "expected position, wait, callback, pause:SECONDS, file:NAME or "
		                     "repeat");
	}
	p->n++;
	return 0;
}

int holdloop_parse(const char *spec, struct holdloop *out, char *err, size_t errlen)
{
	out->n = 0;
	out->repeat = false;
	if (!spec || !*spec)
		return holdloop_fail(err, errlen, "", 0, "empty hold program");
	const char *s = spec;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (holdloop_item(out, s, len, comma == NULL, err, errlen) < 0)
			return -1;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

int holdloop_next(const struct holdloop *p, int i, bool *tail)
{
	if (*tail)
		return i;
	if (i + 1 < (int)p->n)
		return i + 1;
	if (p->repeat)
		return 0;
	*tail = true;
	for (int k = (int)p->n - 1; k >= 0; k--)
		if (p->item[k].kind == HOLDLOOP_FILE)
			return k;
	return -1;
}

static void holdloop_clip(struct holdloop_step *out, size_t *n, size_t max,
                          const char *lang, const char *what)
{
	if (*n < max) {
		snprintf(out[*n].name, sizeof out[*n].name, "%s/%s.wav", lang, what);
		out[*n].silence_ms = 0;
		(*n)++;
	}
}

static void holdloop_num(struct holdloop_step *out, size_t *n, size_t max,
                         const char *lang, unsigned v)
{
	char part[8];
	snprintf(part, sizeof part, "%u", v);
	holdloop_clip(out, n, max, lang, part);
}

size_t holdloop_number(unsigned n, const char *lang, struct holdloop_step *out, size_t max)
{
	size_t k = 0;
	if (n > 999)
		n = 999;
	if (n >= 100) {
		holdloop_num(out, &k, max, lang, n / 100);
		holdloop_clip(out, &k, max, lang, "hundred");
		n %= 100;
		if (n == 0)
			return k;
	}
	if (n < 20) {
		holdloop_num(out, &k, max, lang, n);
		return k;
	}
	holdloop_num(out, &k, max, lang, n / 10 * 10);
	if (n % 10)
		holdloop_num(out, &k, max, lang, n % 10);
	return k;
}

static void holdloop_gap(struct holdloop_step *out, size_t *n, size_t max, unsigned ms)
{
	if (*n < max) {
		out[*n].name[0] = '\0';
		out[*n].silence_ms = ms;
		(*n)++;
	}
}

size_t holdloop_expand(const struct holdloop_item *it, const char *lang,
                       const struct holdloop_vars *v, struct holdloop_step *out, size_t max)
{
	size_t n = 0;
	switch (it->kind) {
	case HOLDLOOP_POSITION:
		if (!v->known)
			break;
		holdloop_clip(out, &n, max, lang, "caller-number");
		n += holdloop_number(v->position, lang, out + n, max - n);
		holdloop_gap(out, &n, max, HOLDLOOP_GAP_MS);
		break;
	case HOLDLOOP_WAIT:
		if (!v->known)
			break;
		holdloop_clip(out, &n, max, lang, "wait-is");
		if (v->wait_s < 60) {
			holdloop_clip(out, &n, max, lang, "less-than-minute");
		} else {
			unsigned min = (v->wait_s + 30) / 60;
			holdloop_clip(out, &n, max, lang, "about");
			n += holdloop_number(min, lang, out + n, max - n);
			holdloop_clip(out, &n, max, lang, min == 1 ? "minute" : "minutes");
		}
		holdloop_gap(out, &n, max, HOLDLOOP_GAP_MS);
		break;
	case HOLDLOOP_CALLBACK:
		if (!v->known || !v->callback_key)
			break;
		holdloop_clip(out, &n, max, lang, "callback-press");
		if (v->callback_key == '*')
			holdloop_clip(out, &n, max, lang, "star");
		else
			holdloop_num(out, &n, max, lang, (unsigned)(v->callback_key - '0'));
		holdloop_clip(out, &n, max, lang, "callback-keep");
		holdloop_gap(out, &n, max, HOLDLOOP_GAP_MS);
		break;
	case HOLDLOOP_PAUSE:
		holdloop_gap(out, &n, max, it->pause_s * 1000);
		break;
	case HOLDLOOP_FILE:
		if (n < max) {
			snprintf(out[n].name, sizeof out[n].name, "%s", it->file);
			out[n].silence_ms = 0;
			n++;
		}
		break;
	}
	return n;
}

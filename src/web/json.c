/* json.c — see web.h: just enough JSON for the API — a bounded growing
 * writer and a reader for flat request objects. */
#include "web/web.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_KEY_MAX 64
#define JSON_VALUE_MAX 4096

/* ---- writer ---- */

void jbuf_init(struct jbuf *b, size_t max)
{
	*b = (struct jbuf){ .max = max };
}

void jbuf_free(struct jbuf *b)
{
	free(b->buf);
	*b = (struct jbuf){ .max = b->max };
}

static bool jbuf_room(struct jbuf *b, size_t n)
{
	if (b->failed)
		return false;
	if (b->len + 1 > b->max || n > b->max - b->len - 1) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *nb = realloc(b->buf, cap);
	if (!nb) {
		b->failed = true;
		return false;
	}
	b->buf = nb;
	b->cap = cap;
	return true;
}

void jbuf_raw(struct jbuf *b, const char *s, size_t n)
{
	if (!jbuf_room(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void jbuf_lit(struct jbuf *b, const char *s)
{
	jbuf_raw(b, s, strlen(s));
}

void jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->failed = true;
		return;
	}
	jbuf_raw(b, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t min, cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void jbuf_str(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	jbuf_raw(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			jbuf_raw(b, esc, 2);
			i++;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			char esc[2] = { '\\', c == '\n' ? 'n' : c == '\r' ? 'r' : 't' };
			jbuf_raw(b, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			jbuf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t len = utf8_len(p + i, n - i);
			if (len)
				jbuf_raw(b, s + i, len);
			else
				jbuf_lit(b, "\xef\xbf\xbd");
			i += len ? len : 1;
		}
	}
	jbuf_raw(b, "\"", 1);
}

/* ---- reader ---- */

struct jreader {
	const char *p, *end;
	const char *err;
};

static void jr_space(struct jreader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool jr_fail(struct jreader *r, const char *why)
{
	if (!r->err)
		r->err = why;
	return false;
}

static int jr_hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0'
		      : c >= 'a' && c <= 'f' ? c - 'a' + 10
		      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static size_t jr_put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \uXXXX escape (and its low surrogate) at r->p, just after the 'u'. */
static bool jr_unicode(struct jreader *r, uint32_t *cp)
{
	int hi = r->end - r->p >= 4 ? jr_hex4(r->p) : -1;
	if (hi < 0)
		return jr_fail(r, "bad \\u escape");
	r->p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return jr_fail(r, "lone low surrogate");
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = (uint32_t)hi;
		return true;
	}
	int lo = r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' ? jr_hex4(r->p + 2) : -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return jr_fail(r, "lone high surrogate");
	r->p += 6;
	*cp = 0x10000 + ((uint32_t)(hi - 0xd800) << 10) + (uint32_t)(lo - 0xdc00);
	return true;
}

/* A string at r->p (on the opening quote) into out (cap bytes, NUL-ended). */
static bool jr_string(struct jreader *r, char *out, size_t cap)
{
	size_t n = 0;
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		char tmp[4];
		size_t len = 1;
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20)
			return jr_fail(r, "control character in a string");
		if (c == '\\') {
			if (++r->p >= r->end)
				return jr_fail(r, "unterminated string");
			char e = *r->p++;
			uint32_t cp;
			const char *simple = strchr("\"\\/bfnrt", e);
			if (e && simple) {
				tmp[0] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
			} else if (e == 'u') {
				if (!jr_unicode(r, &cp))
					return false;
				if (cp == 0)
					return jr_fail(r, "NUL in a string");
				len = jr_put_utf8(tmp, cp);
			} else {
				return jr_fail(r, "bad escape");
			}
		} else {
			tmp[0] = (char)c;
			r->p++;
		}
		if (n + len >= cap)
			return jr_fail(r, "string too long");
		memcpy(out + n, tmp, len);
		n += len;
	}
	if (r->p >= r->end)
		return jr_fail(r, "unterminated string");
	r->p++;
	out[n] = '\0';
	return true;
}

static bool jr_digits(struct jreader *r)
{
	const char *start = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > start;
}

/* A number, copied as written after checking its syntax. */
static bool jr_number(struct jreader *r, char *out, size_t cap)
{
	const char *start = r->p;
	if (*r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (!jr_digits(r))
		return jr_fail(r, "bad number");
	if (r->p < r->end && *r->p == '.' && (r->p++, !jr_digits(r)))
		return jr_fail(r, "bad number");
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!jr_digits(r))
			return jr_fail(r, "bad number");
	}
	size_t n = (size_t)(r->p - start);
	if (n >= cap)
		return jr_fail(r, "number too long");
	memcpy(out, start, n);
	out[n] = '\0';
	return true;
}

static bool jr_word(struct jreader *r, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return false;
	r->p += n;
	return true;
}

/* A scalar into out; false (with r->err) for anything else. */
static bool jr_scalar(struct jreader *r, char *out, size_t cap)
{
	if (r->p >= r->end)
		return jr_fail(r, "value missing");
	char c = *r->p;
	if (c == '"')
		return jr_string(r, out, cap);
	if (c == '-' || (c >= '0' && c <= '9'))
		return jr_number(r, out, cap);
	if (jr_word(r, "true")) {
		snprintf(out, cap, "yes");
		return true;
	}
	if (jr_word(r, "false")) {
		snprintf(out, cap, "no");
		return true;
	}
	if (jr_word(r, "null"))
		return jr_fail(r, "null is not a value here");
	if (c == '{' || c == '[')
		return jr_fail(r, "nested objects and arrays are not accepted");
	return jr_fail(r, "bad value");
}

/* A member's array value, its elements handed to fn one by one. */
static bool jr_array(struct jreader *r, const char *key, json_member_fn fn, void *ctx)
{
	static char value[JSON_VALUE_MAX];
	r->p++;
	jr_space(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return true;
	}
	for (int i = 0;; i++) {
		jr_space(r);
		if (!jr_scalar(r, value, sizeof value))
			return false;
		if (!fn(ctx, key, i, value))
			return jr_fail(r, "stopped");
		jr_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return true;
		}
		return jr_fail(r, "expected , or ] in an array");
	}
}

static bool jr_member(struct jreader *r, json_member_fn fn, void *ctx)
{
	static char value[JSON_VALUE_MAX];
	char key[JSON_KEY_MAX];
	if (r->p >= r->end || *r->p != '"')
		return jr_fail(r, "expected a member name");
	if (!jr_string(r, key, sizeof key))
		return false;
	jr_space(r);
	if (r->p >= r->end || *r->p++ != ':')
		return jr_fail(r, "expected :");
	jr_space(r);
	if (r->p < r->end && *r->p == '[')
		return jr_array(r, key, fn, ctx);
	if (!jr_scalar(r, value, sizeof value))
		return false;
	return fn(ctx, key, -1, value) || jr_fail(r, "stopped");
}

int json_object_read(const char *text, size_t len, json_member_fn fn, void *ctx, const char **err)
{
	struct jreader r = { text, text + len, NULL };
	jr_space(&r);
	if (r.p >= r.end || *r.p++ != '{') {
		*err = "expected a JSON object";
		return -1;
	}
	jr_space(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
	} else {
		for (;;) {
			jr_space(&r);
			if (!jr_member(&r, fn, ctx))
				break;
			jr_space(&r);
			if (r.p < r.end && *r.p == ',') {
				r.p++;
				continue;
			}
			if (r.p < r.end && *r.p == '}') {
				r.p++;
				break;
			}
			jr_fail(&r, "expected , or } in the object");
			break;
		}
	}
	jr_space(&r);
	if (!r.err && r.p != r.end)
		r.err = "text after the object";
	*err = r.err;
	return r.err ? -1 : 0;
}

/* proto.c — see proto.h. */
#include "ctl/proto.h"

#include <stdio.h>
#include <string.h>

/* '\r' counts as a separator so lines from CRLF clients parse the same. */
static bool ctl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Unescapes a quoted part. *r points just after the opening quote; the text
 * is written at *w, which never runs ahead of *r. On success both advance
 * past the part. */
static const char *ctl_unquote(char **r, char **w)
{
	char *p = *r, *o = *w;
	for (;;) {
		char c = *p++;
		if (c == '\0')
			return "unterminated quote";
		if (c == '"')
			break;
		if (c == '\\') {
			if (*p != '"' && *p != '\\')
				return *p ? "bad escape" : "unterminated quote";
			c = *p++;
		}
		*o++ = c;
	}
	if (*p && !ctl_space(*p))
		return "text after closing quote";
	*r = p;
	*w = o;
	return NULL;
}

/* Reads the token at *r into `a`, splitting key=value when `split`, and
 * NUL-terminates it in place. A quote opens a quoted part only at the start
 * of the token or right after the first '='. */
static const char *ctl_token(char **r, bool split, struct ctl_arg *a)
{
	char *p = *r, *w = p;
	const char *err = NULL;
	a->key = NULL;
	a->value = p;
	if (*p == '"') {
		p++;
		err = ctl_unquote(&p, &w);
	}
	while (!err && *p && !ctl_space(*p)) {
		if (*p != '=' || !split || a->key) {
			*w++ = *p++;
			continue;
		}
		if (w == a->value)
			return "empty key";
		*w++ = '\0';
		a->key = a->value;
		a->value = w;
		if (*++p == '"') {
			p++;
			err = ctl_unquote(&p, &w);
		}
	}
	if (err)
		return err;
	char *next = *p ? p + 1 : p;
	*w = '\0';
	*r = next;
	return NULL;
}

int ctl_parse(char *line, struct ctl_req *req, const char **err)
{
	req->verb = NULL;
	req->argc = 0;
	*err = NULL;
	if (strnlen(line, CTL_LINE_MAX + 1) > CTL_LINE_MAX) {
		*err = "line too long";
		return -1;
	}
	char *p = line;
	for (;;) {
		while (ctl_space(*p))
			p++;
		if (!*p)
			break;
		if (req->verb && req->argc == CTL_ARGS_MAX) {
			*err = "too many arguments";
			return -1;
		}
		struct ctl_arg a;
		*err = ctl_token(&p, req->verb != NULL, &a);
		if (*err)
			return -1;
		if (!req->verb)
			req->verb = a.value;
		else
			req->argv[req->argc++] = a;
	}
	if (!req->verb) {
		*err = "empty request";
		return -1;
	}
	return 0;
}

const char *ctl_get(const struct ctl_req *req, const char *key)
{
	for (int i = 0; i < req->argc; i++) {
		if (req->argv[i].key && strcmp(req->argv[i].key, key) == 0)
			return req->argv[i].value;
	}
	return NULL;
}

const char *ctl_word(const struct ctl_req *req, int n)
{
	for (int i = 0; i < req->argc; i++) {
		if (!req->argv[i].key && n-- == 0)
			return req->argv[i].value;
	}
	return NULL;
}

int ctl_count(const struct ctl_req *req, const char *key)
{
	int n = 0;
	for (int i = 0; i < req->argc; i++)
		n += req->argv[i].key && strcmp(req->argv[i].key, key) == 0;
	return n;
}

/* ---- output ---- */

/* A line cannot carry control characters: they are written as spaces. */
static bool ctl_ctrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool ctl_needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (; *v; v++) {
		if (*v == ' ' || *v == '"' || *v == '\\' || *v == '=' || ctl_ctrl((unsigned char)*v))
			return true;
	}
	return false;
}

static size_t ctl_enc_len(const char *v, bool quote)
{
	size_t n = quote ? 2 : 0;
	for (; *v; v++)
		n += quote && (*v == '"' || *v == '\\') ? 2 : 1;
	return n;
}

static char *ctl_enc(char *dst, const char *v, bool quote)
{
	if (quote)
		*dst++ = '"';
	for (; *v; v++) {
		if (quote && (*v == '"' || *v == '\\'))
			*dst++ = '\\';
		*dst++ = ctl_ctrl((unsigned char)*v) ? ' ' : *v;
	}
	if (quote)
		*dst++ = '"';
	return dst;
}

/* Room for n more bytes plus the terminating NUL? Once something did not
 * fit, nothing more is added, so a truncated reply never has holes. */
static bool ctl_room(struct ctl_out *o, size_t n)
{
	if (o->truncated || n >= o->cap - o->len) {
		o->truncated = true;
		return false;
	}
	return true;
}

static bool ctl_line_start(const struct ctl_out *o)
{
	return o->len == 0 || o->buf[o->len - 1] == '\n';
}

void ctl_out_init(struct ctl_out *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	o->truncated = cap == 0;
	if (cap)
		buf[0] = '\0';
}

void ctl_out_raw(struct ctl_out *o, const char *s)
{
	size_t n = strlen(s);
	if (!ctl_room(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Appends [" "][key "="]value, all or nothing. */
static void ctl_out_item(struct ctl_out *o, const char *key, const char *value)
{
	value = value ? value : "";
	bool space = !ctl_line_start(o);
	bool quote = ctl_needs_quotes(value);
	size_t klen = key ? strlen(key) + 1 : 0;
	if (!ctl_room(o, space + klen + ctl_enc_len(value, quote)))
		return;
	char *p = o->buf + o->len;
	if (space)
		*p++ = ' ';
	if (key) {
		memcpy(p, key, klen - 1);
		p += klen - 1;
		*p++ = '=';
	}
	p = ctl_enc(p, value, quote);
	*p = '\0';
	o->len = (size_t)(p - o->buf);
}

void ctl_out_kv(struct ctl_out *o, const char *key, const char *value)
{
	ctl_out_item(o, key, value);
}

void ctl_out_kvu(struct ctl_out *o, const char *key, unsigned long long v)
{
	char num[24];
	snprintf(num, sizeof num, "%llu", v);
	ctl_out_item(o, key, num);
}

void ctl_out_word(struct ctl_out *o, const char *word)
{
	ctl_out_item(o, NULL, word);
}

void ctl_out_nl(struct ctl_out *o)
{
	ctl_out_raw(o, "\n");
}

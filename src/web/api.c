/* api.c — see web.h: a JSON request becomes one control line, the control
 * reply becomes JSON. Pure functions: no connection, no engine. */
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/proto.h"

#define API_NAME_MAX 64

/* Verbs and keys: what the control protocol's verbs and settings use. */
static bool api_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= API_NAME_MAX)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

struct api_build {
	struct ctl_out words, kvs;
	char *err;
	size_t errlen;
};

static bool api_member(void *ctx, const char *key, int index, const char *value)
{
	struct api_build *b = ctx;
	(void)index;
	if (!strcmp(key, "args")) {
		ctl_out_word(&b->words, value);
		return true;
	}
	if (!api_name_ok(key)) {
		snprintf(b->err, b->errlen, "bad member name '%.63s'", key);
		return false;
	}
	ctl_out_kv(&b->kvs, key, value);
	return true;
}

int api_line(const char *verb, const char *body, size_t len, char *line, size_t cap, char *err,
             size_t errlen)
{
	static char words[CTL_LINE_MAX + 1], kvs[CTL_LINE_MAX + 1];
	struct api_build b = { .err = err, .errlen = errlen };
	const char *jerr = NULL;
	err[0] = '\0';
	if (!api_name_ok(verb)) {
		snprintf(err, errlen, "bad verb name");
		return -1;
	}
	if (!strcmp(verb, "subscribe") || !strcmp(verb, "auth")) {
		snprintf(err, errlen, "%s is not available here: use %s", verb,
		         verb[0] == 's' ? "GET /api/events" : "POST /api/login");
		return -1;
	}
	ctl_out_init(&b.words, words, sizeof words);
	ctl_out_init(&b.kvs, kvs, sizeof kvs);
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i < len && json_object_read(body, len, api_member, &b, &jerr) < 0) {
		if (!err[0])
			snprintf(err, errlen, "bad JSON: %s", jerr);
		return -1;
	}
	struct ctl_out o;
	ctl_out_init(&o, line, cap);
	ctl_out_raw(&o, verb);
	if (b.words.len) {
		ctl_out_raw(&o, " ");
		ctl_out_raw(&o, words);
	}
	if (b.kvs.len) {
		ctl_out_raw(&o, " ");
		ctl_out_raw(&o, kvs);
	}
	if (b.words.truncated || b.kvs.truncated || o.truncated || o.len > CTL_LINE_MAX) {
		snprintf(err, errlen, "request too long");
		return -1;
	}
	return 0;
}

int api_status(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = { { "usage", 400 }, { "invalid", 400 }, { "denied", 403 }, { "notfound", 404 },
	            { "exists", 409 }, { "busy", 503 } };
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].code, code))
			return map[i].status;
	return 500;
}

void api_error(struct jbuf *out, const char *code, const char *msg)
{
	jbuf_lit(out, "{\"ok\":false,\"error\":{\"code\":");
	jbuf_str(out, code, strlen(code));
	jbuf_lit(out, ",\"message\":");
	jbuf_str(out, msg, strlen(msg));
	jbuf_lit(out, "}}");
}

/* A quoted part at *p (just after the quote) into out. */
static bool api_unquote(const char **p, char *out, size_t cap, size_t *n)
{
	const char *s = *p;
	for (;;) {
		char c = *s++;
		if (c == '\0' || c == '\n')
			return false;
		if (c == '"')
			break;
		if (c == '\\') {
			if (*s != '"' && *s != '\\')
				return false;
			c = *s++;
		}
		if (*n + 1 >= cap)
			return false;
		out[(*n)++] = c;
	}
	*p = s;
	return true;
}

bool api_kv_next(const char **p, char *key, size_t kcap, char *val, size_t vcap)
{
	const char *s = *p;
	size_t n = 0;
	bool split = false;
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	if (!*s || *s == '\n')
		return false;
	key[0] = '\0';
	if (*s == '"' && (s++, !api_unquote(&s, val, vcap, &n)))
		return false;
	while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
		if (*s == '=' && !split) {
			if (n == 0 || n >= kcap)
				return false;
			memcpy(key, val, n);
			key[n] = '\0';
			n = 0;
			split = true;
			if (*++s == '"' && (s++, !api_unquote(&s, val, vcap, &n)))
				return false;
			continue;
		}
		if (n + 1 >= vcap)
			return false;
		val[n++] = *s++;
	}
	val[n] = '\0';
	*p = s;
	return true;
}

/* The key=value pairs of one line as a JSON object's members (no braces). */
static bool api_kv_members(const char *line, struct jbuf *out, bool first)
{
	static char key[API_NAME_MAX], val[CTL_LINE_MAX + 1];
	const char *p = line;
	while (api_kv_next(&p, key, sizeof key, val, sizeof val)) {
		if (!key[0])
			continue;
		if (!first)
			jbuf_lit(out, ",");
		first = false;
		jbuf_str(out, key, strlen(key));
		jbuf_lit(out, ":");
		jbuf_str(out, val, strlen(val));
	}
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return !*p || *p == '\n';
}

static const char *api_next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl + 1 : NULL;
}

static int api_rows(const char *p, const char *end, unsigned n, bool raw, struct jbuf *out)
{
	jbuf_lit(out, raw ? "{\"ok\":true,\"text\":" : "{\"ok\":true,\"rows\":[");
	const char *start = p;
	for (unsigned i = 0; i < n; i++) {
		const char *next = p ? api_next_line(p, end) : NULL;
		if (!next) {
			jbuf_free(out);
			api_error(out, "internal", "reply cut short");
			return 500;
		}
		if (!raw) {
			jbuf_lit(out, i ? ",{" : "{");
			static char row[CTL_LINE_MAX * 64];
			size_t len = (size_t)(next - p - 1);
			if (len >= sizeof row || (memcpy(row, p, len), row[len] = '\0', !api_kv_members(row, out, true))) {
				jbuf_free(out);
				api_error(out, "internal", "unreadable row");
				return 500;
			}
			jbuf_lit(out, "}");
		}
		p = next;
	}
	if (raw)
		jbuf_str(out, start, n ? (size_t)(p - start - 1) : 0);
	jbuf_lit(out, raw ? "}" : "]}");
	return 200;
}

int api_reply(const char *reply, size_t len, bool raw_rows, struct jbuf *out)
{
	const char *end = reply + len;
	const char *next = api_next_line(reply, end);
	char head[CTL_LINE_MAX + 1];
	size_t hlen = next ? (size_t)(next - reply - 1) : 0;
	if (!next || hlen >= sizeof head) {
		api_error(out, "internal", "no reply");
		return 500;
	}
	memcpy(head, reply, hlen);
	head[hlen] = '\0';
	if (!strncmp(head, "ERR ", 4)) {
		char *code = head + 4, *msg = strchr(code, ' ');
		if (msg)
			*msg++ = '\0';
		api_error(out, code, msg ? msg : "");
		return api_status(code);
	}
	if (!strcmp(head, "OK")) {
		jbuf_lit(out, "{\"ok\":true}");
		return 200;
	}
	if (strncmp(head, "OK ", 3)) {
		api_error(out, "internal", "unexpected reply");
		return 500;
	}
	unsigned n;
	int used = 0;
	if (sscanf(head + 3, "%u rows%n", &n, &used) == 1 && head[3 + used] == '\0')
		return api_rows(next, end, n, raw_rows, out);
	jbuf_lit(out, "{\"ok\":true,\"text\":");
	jbuf_str(out, head + 3, strlen(head + 3));
	jbuf_lit(out, "}");
	return 200;
}

bool api_event_sse(const char *line, size_t len, struct jbuf *out)
{
	static char copy[CTL_LINE_MAX + 1];
	char key[API_NAME_MAX], name[API_NAME_MAX];
	const char *p = copy;
	if (len >= sizeof copy)
		return false;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (!api_kv_next(&p, key, sizeof key, name, sizeof name) || key[0] || strcmp(name, "EVENT") ||
	    !api_kv_next(&p, key, sizeof key, name, sizeof name) || key[0])
		return false;
	jbuf_lit(out, "event: ");
	jbuf_lit(out, name);
	jbuf_lit(out, "\ndata: {\"event\":");
	jbuf_str(out, name, strlen(name));
	bool ok = api_kv_members(p, out, false);
	jbuf_lit(out, "}\n\n");
	return ok && !out->failed;
}

/* proto.h — the control protocol's line format, shared by callqd and callqctl.
 *
 * A request is one UTF-8 line of at most CTL_LINE_MAX bytes: a verb, then
 * arguments that are bare words or key=value. A word or a value containing
 * spaces, quotes or '=' is written in double quotes with \" and \\ escapes.
 * Replies: "OK", "OK <text>", "OK <n> rows" followed by n lines of key=value,
 * or "ERR <code> <message>". Everything here works in caller-owned buffers:
 * no allocation, bounded output, truncation reported.
 */
#ifndef CALLQ_PROTO_H
#define CALLQ_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_LINE_MAX 4096
#define CTL_ARGS_MAX 64

struct ctl_arg {
	const char *key;    /* NULL for a bare word */
	const char *value;  /* the word, or the value after '=' (unquoted) */
};

struct ctl_req {
	const char *verb;
	int argc;           /* arguments after the verb */
	struct ctl_arg argv[CTL_ARGS_MAX];
};

/* Splits `line` in place (quotes removed, escapes resolved). A quote opens a
 * quoted part only at the start of a word or right after the first '='; the
 * word must end at the closing quote. Returns 0, or -1 with a reason in *err:
 * "empty request", "unterminated quote", "bad escape" (only \" and \\),
 * "text after closing quote", "empty key", "too many arguments",
 * "line too long". */
int ctl_parse(char *line, struct ctl_req *req, const char **err);

/* The value of key=value, or NULL. */
const char *ctl_get(const struct ctl_req *req, const char *key);
/* The n-th bare word (0-based), or NULL. */
const char *ctl_word(const struct ctl_req *req, int n);
/* Count of key=value arguments whose key is `key` (for repeated keys, e.g. rule=). */
int ctl_count(const struct ctl_req *req, const char *key);

/* A growing reply in a fixed buffer. */
struct ctl_out {
	char *buf;
	size_t cap, len;
	bool truncated;
};
void ctl_out_init(struct ctl_out *o, char *buf, size_t cap);
void ctl_out_raw(struct ctl_out *o, const char *s);
/* Appends " key=value" (leading space only if not at line start), quoting the
 * value when needed. Every append is all or nothing: once something does not
 * fit, `truncated` is set and nothing more is added, so the text stays
 * parseable. A line cannot carry control characters: they are written as
 * spaces. */
void ctl_out_kv(struct ctl_out *o, const char *key, const char *value);
void ctl_out_kvu(struct ctl_out *o, const char *key, unsigned long long v);
void ctl_out_word(struct ctl_out *o, const char *word);  /* spaced like kv, quoted if needed */
void ctl_out_nl(struct ctl_out *o);

#endif

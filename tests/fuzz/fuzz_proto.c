/* fuzz_proto.c — the control line parser and the reply writer.
 *
 * Input: any bytes. 1) ctl_parse on them as one line (NUL-terminated copy, so
 * over-long lines are tried too): must not crash, and what it returns must be
 * sane (verb set, argc <= CTL_ARGS_MAX, every string inside the line buffer).
 * 2) Round trip: the parsed request written back with ctl_out_word/ctl_out_kv
 * and parsed again gives the same verb, keys and values (control characters
 * come back as spaces: the writer's documented rule). 3) The writer alone on
 * a small buffer: all or nothing, always NUL-terminated, never past cap.
 */
#include "ctl/proto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
	fprintf(stderr, "fuzz_proto: %s\n", what);
	abort();
}

static int same_text(const char *orig, const char *back)
{
	/* The writer turns control characters into spaces. */
	for (; *orig && *back; orig++, back++) {
		unsigned char c = (unsigned char)*orig;
		char want = (c < 0x20 || c == 0x7f) ? ' ' : *orig;
		if (want != *back)
			return 0;
	}
	return *orig == *back;
}

static int key_writable(const char *k)
{
	/* Keys are written raw: only those that read back as one key. */
	for (; *k; k++) {
		unsigned char c = (unsigned char)*k;
		if (c == ' ' || c == '\t' || c == '\r' || c == '=' || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int inside(const char *p, const char *buf, size_t len)
{
	return p >= buf && p <= buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 3 * CTL_LINE_MAX)
		return 0;
	char *line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	size_t len = strlen(line);

	struct ctl_req req;
	const char *err = NULL;
	int rc = ctl_parse(line, &req, &err);
	if (rc != 0) {
		if (!err || !*err)
			die("failure without a reason");
		free(line);
		return 0;
	}
	if (!req.verb || req.argc < 0 || req.argc > CTL_ARGS_MAX || len > CTL_LINE_MAX)
		die("bad request shape");
	if (!inside(req.verb, line, len))
		die("verb outside the line");
	for (int i = 0; i < req.argc; i++) {
		if (!inside(req.argv[i].value, line, len) ||
		    (req.argv[i].key && (!inside(req.argv[i].key, line, len) || !*req.argv[i].key)))
			die("argument outside the line");
		if (req.argv[i].key && ctl_get(&req, req.argv[i].key) == NULL)
			die("ctl_get misses a key");
	}
	(void)ctl_word(&req, 0);

	/* Round trip through the writer. */
	int writable = 1;
	for (int i = 0; i < req.argc; i++)
		if (req.argv[i].key && !key_writable(req.argv[i].key))
			writable = 0;
	static char out[4 * CTL_LINE_MAX + 64];
	struct ctl_out o;
	ctl_out_init(&o, out, sizeof out);
	ctl_out_word(&o, req.verb);
	for (int i = 0; i < req.argc; i++) {
		if (req.argv[i].key)
			ctl_out_kv(&o, req.argv[i].key, req.argv[i].value);
		else
			ctl_out_word(&o, req.argv[i].value);
	}
	if (o.truncated || o.len != strlen(out))
		die("writer truncated a request that was read");
	/* A verb that is all control characters or spaces writes back as a quoted
	 * blank that parses to a different shape: only compare when it is not. */
	if (writable && o.len <= CTL_LINE_MAX) {
		struct ctl_req again;
		const char *err2 = NULL;
		char *copy = strdup(out);
		if (ctl_parse(copy, &again, &err2) != 0) {
			fprintf(stderr, "line: [%s]\nwritten: [%s]\nerror: %s\n", line, out, err2);
			die("the writer's output does not parse");
		}
		if (again.argc != req.argc || !same_text(req.verb, again.verb)) {
			fprintf(stderr, "written: [%s]\n", out);
			die("round trip changed the verb or argument count");
		}
		for (int i = 0; i < req.argc; i++) {
			const struct ctl_arg *a = &req.argv[i], *b = &again.argv[i];
			if (!a->key != !b->key || (a->key && strcmp(a->key, b->key)) ||
			    !same_text(a->value, b->value)) {
				fprintf(stderr, "written: [%s] arg %d\n", out, i);
				die("round trip changed an argument");
			}
		}
		free(copy);
	}

	/* The writer on a tiny buffer: bounded, terminated, all or nothing. */
	char small[64];
	size_t cap = size ? data[0] % sizeof small : 0;
	ctl_out_init(&o, small, cap);
	for (int i = 0; i < req.argc; i++) {
		size_t before = o.len;
		bool was = o.truncated;
		ctl_out_kv(&o, "k", req.argv[i].value);
		if (cap && (o.len >= cap || small[o.len] != '\0'))
			die("writer ran past its buffer or lost the NUL");
		if (o.truncated && o.len != before)
			die("a truncated append added text");
		if (was && !o.truncated)
			die("truncation forgotten");
	}
	ctl_out_nl(&o);
	ctl_out_kvu(&o, "n", size);
	free(line);
	return 0;
}

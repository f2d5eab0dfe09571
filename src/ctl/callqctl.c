/* callqctl.c — the control client.
 *
 *   callqctl [-s SOCKET] [VERB ARGS...]
 *
 * With arguments: sends them as one request (each word or value quoted as
 * needed; an argument with '=' is key=value with the key left bare) and prints
 * the reply. Without: sends each line of stdin as a request and prints each
 * reply. `subscribe` prints event lines until the server closes or Ctrl-C.
 * Exit status: 0 all OK, 1 some ERR, 2 cannot connect or broken reply.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/proto.h"

#define CQ_DEFAULT_SOCK "run/callq.sock"
/* Reply lines are normally under CTL_LINE_MAX; allow generous rows anyway. */
#define CQ_REPLY_MAX (64 * 1024)

enum { CQ_OK = 0, CQ_ERR = 1, CQ_FAIL = 2 };

struct cq_conn {
	int fd;
	const char *path;
	size_t off, len;            /* unread bytes: buf[off .. len) */
	char buf[CQ_REPLY_MAX];
};

static int cq_sys_fail(const char *path, const char *what)
{
	fprintf(stderr, "callqctl: %s: %s: %s\n", path, what, strerror(errno));
	return CQ_FAIL;
}

static int cq_connect(struct cq_conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	c->path = path;
	c->off = c->len = 0;
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "callqctl: %s: socket path too long\n", path);
		return CQ_FAIL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return cq_sys_fail(path, "socket");
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return cq_sys_fail(path, "connect");
	return CQ_OK;
}

static int cq_send(struct cq_conn *c, const char *line)
{
	size_t len = strlen(line);
	while (len > 0) {
		ssize_t n = send(c->fd, line, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cq_sys_fail(c->path, "send");
		line += n;
		len -= (size_t)n;
	}
	return CQ_OK;
}

/* Next line from the server, NUL-terminated in place. CQ_FAIL (reported) on
 * EOF, error or an overlong line. */
static int cq_getline(struct cq_conn *c, char **line)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (nl) {
			*nl = '\0';
			*line = c->buf + c->off;
			c->off = (size_t)(nl - c->buf) + 1;
			return CQ_OK;
		}
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
		if (c->len == sizeof c->buf) {
			fprintf(stderr, "callqctl: %s: reply line too long\n", c->path);
			return CQ_FAIL;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cq_sys_fail(c->path, "recv");
		if (n == 0) {
			fprintf(stderr, "callqctl: %s: connection closed by the server\n", c->path);
			return CQ_FAIL;
		}
		c->len += (size_t)n;
	}
}

static void cq_print(const char *line)
{
	puts(line);
	fflush(stdout);
}

/* "OK <n> rows" announces n data lines. */
static bool cq_rows(const char *line, unsigned long *rows)
{
	if (strncmp(line, "OK ", 3) != 0 || !isdigit((unsigned char)line[3]))
		return false;
	char *end;
	*rows = strtoul(line + 3, &end, 10);
	return strcmp(end, " rows") == 0;
}

static bool cq_is(const char *line, const char *word)
{
	size_t n = strlen(word);
	return strncmp(line, word, n) == 0 && (line[n] == ' ' || line[n] == '\0');
}

/* Reads and prints one reply. */
static int cq_reply(struct cq_conn *c)
{
	char *line;
	if (cq_getline(c, &line) != CQ_OK)
		return CQ_FAIL;
	cq_print(line);
	if (cq_is(line, "ERR"))
		return CQ_ERR;
	if (!cq_is(line, "OK")) {
		fprintf(stderr, "callqctl: %s: unexpected reply\n", c->path);
		return CQ_FAIL;
	}
	unsigned long rows = 0;
	if (!cq_rows(line, &rows))
		return CQ_OK;
	for (unsigned long i = 0; i < rows; i++) {
		if (cq_getline(c, &line) != CQ_OK)
			return CQ_FAIL;
		cq_print(line);
	}
	return CQ_OK;
}

/* After an OK to `subscribe`, events flow until the server closes. */
static int cq_stream(struct cq_conn *c)
{
	char *line;
	while (cq_getline(c, &line) == CQ_OK)
		cq_print(line);
	return CQ_OK;
}

/* Sends one request line (without newline) and prints its reply. */
static int cq_request(struct cq_conn *c, const char *line, bool subscribe)
{
	int rc = cq_send(c, line);
	if (rc == CQ_OK)
		rc = cq_send(c, "\n");
	if (rc == CQ_OK)
		rc = cq_reply(c);
	if (rc == CQ_OK && subscribe)
		rc = cq_stream(c);
	return rc;
}

/* Writes one argument: key=value with the key bare (when it can be), else a
 * word, quoting what needs it. */
static void cq_arg(struct ctl_out *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : 0;
	char key[CTL_LINE_MAX + 1];
	if (klen == 0 || klen >= sizeof key || strcspn(arg, " \t\"\\") < klen) {
		ctl_out_word(o, arg);
		return;
	}
	memcpy(key, arg, klen);
	key[klen] = '\0';
	ctl_out_kv(o, key, eq + 1);
}

static int cq_run_args(struct cq_conn *c, int argc, char **argv)
{
	char line[CTL_LINE_MAX + 1];
	struct ctl_out o;
	ctl_out_init(&o, line, sizeof line);
	ctl_out_word(&o, argv[0]);
	for (int i = 1; i < argc; i++)
		cq_arg(&o, argv[i]);
	if (o.truncated) {
		fprintf(stderr, "callqctl: request longer than %d bytes\n", CTL_LINE_MAX);
		return CQ_FAIL;
	}
	return cq_request(c, line, strcmp(argv[0], "subscribe") == 0);
}

static bool cq_is_subscribe(const char *line)
{
	char copy[CTL_LINE_MAX + 1];
	struct ctl_req req;
	const char *err;
	snprintf(copy, sizeof copy, "%s", line);
	return ctl_parse(copy, &req, &err) == 0 && strcmp(req.verb, "subscribe") == 0;
}

/* Reads one request from stdin into line; 1 if usable, 0 at EOF, -1 if too
 * long (the rest of it is skipped). */
static int cq_read_request(char *line, size_t cap)
{
	if (!fgets(line, (int)cap, stdin))
		return 0;
	size_t n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	else if (!feof(stdin)) {
		int ch;
		while ((ch = getchar()) != EOF && ch != '\n')
			;
		return -1;
	}
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return 1;
}

static int cq_run_stdin(struct cq_conn *c)
{
	char line[CTL_LINE_MAX + 2];
	int worst = CQ_OK, got;
	while ((got = cq_read_request(line, sizeof line)) != 0) {
		if (got < 0) {
			fprintf(stderr, "callqctl: request longer than %d bytes skipped\n", CTL_LINE_MAX);
			worst = CQ_ERR;
			continue;
		}
		if (line[strspn(line, " \t")] == '\0')
			continue;
		int rc = cq_request(c, line, cq_is_subscribe(line));
		if (rc == CQ_FAIL)
			return CQ_FAIL;
		if (rc == CQ_ERR)
			worst = CQ_ERR;
	}
	return worst;
}

static void cq_usage(FILE *f)
{
	fprintf(f, "usage: callqctl [-s SOCKET] [VERB ARGS...]\n"
	           "  Sends one request, or each line of stdin when no VERB is given.\n"
	           "  SOCKET defaults to $CALLQ_SOCK, else %s. `callqctl help` lists the verbs.\n",
	        CQ_DEFAULT_SOCK);
}

int main(int argc, char **argv)
{
	const char *path = getenv("CALLQ_SOCK");
	int opt;
	/* '+': options end at the verb, so arguments may start with '-'. */
	while ((opt = getopt(argc, argv, "+s:h")) != -1) {
		if (opt == 's') {
			path = optarg;
		} else {
			cq_usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? CQ_OK : CQ_FAIL;
		}
	}
	if (!path || !*path)
		path = CQ_DEFAULT_SOCK;
	static struct cq_conn conn;
	int rc = cq_connect(&conn, path);
	if (rc != CQ_OK)
		return rc;
	rc = optind < argc ? cq_run_args(&conn, argc - optind, argv + optind) : cq_run_stdin(&conn);
	close(conn.fd);
	return rc;
}

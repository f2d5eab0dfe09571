/* callqctl.c — the control client.
 *
 *   callqctl [-s SOCKET] [VERB ARGS...]
 *
 * With arguments: sends them as one request (each word or value quoted as
 * needed; an argument with '=' is key=value with the key left bare) and prints
 * the reply. Without: sends each line of stdin as a request and prints each
 * reply. `subscribe` prints event lines until the server closes or Ctrl-C.
 * `top [QUEUE]` is a live full-screen dashboard (see the top section).
 * Exit status: 0 all OK, 1 some ERR, 2 cannot connect or broken reply.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
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
	size_t n = strnlen(line, CTL_LINE_MAX);
	memcpy(copy, line, n);
	copy[n] = '\0';
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

/* ---- top: a live dashboard ----
 *
 * `callqctl top [QUEUE]` keeps two connections: one subscribed to the event
 * stream, which only says "something changed", and one that asks for the
 * state (stats, calls, queue.members of each queue) whenever an event
 * arrives or a second has passed. Each frame is written in one write():
 * cursor home, every line followed by clear-to-end-of-line, then clear below,
 * so the screen is overwritten in place and never blanks. Without a terminal
 * on stdout it prints one snapshot and exits. */

#define TOP_QUEUES_MAX 32
#define TOP_LINES_MAX 400
#define TOP_LINE_MAX 256
#define TOP_FRAME_MAX (TOP_LINES_MAX * (TOP_LINE_MAX + 8) + 64)
#define TOP_POLL_MS 1000

struct top {
	struct cq_conn *query, *events;
	int nqueues;
	char queues[TOP_QUEUES_MAX][CTL_LINE_MAX / 8];
	char last_event[TOP_LINE_MAX];
	int nlines;
	char lines[TOP_LINES_MAX][TOP_LINE_MAX];
	bool failed;
};

static volatile sig_atomic_t top_stop, top_resized;

__attribute__((format(printf, 2, 3))) static void top_add(struct top *t, const char *fmt, ...)
{
	if (t->nlines == TOP_LINES_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->lines[t->nlines++], TOP_LINE_MAX, fmt, ap);
	va_end(ap);
}

/* A reply row as key lookups: ctl_parse wants a verb first. */
static bool top_parse_row(const char *line, char *copy, size_t cap, struct ctl_req *req)
{
	const char *err;
	snprintf(copy, cap, "row %s", line);
	return ctl_parse(copy, req, &err) == 0;
}

static const char *top_get(const struct ctl_req *r, const char *key)
{
	const char *v = ctl_get(r, key);
	return v ? v : "";
}

typedef void (*top_row_fn)(struct top *t, const struct ctl_req *row);

/* Sends one request on the query connection and hands each row to fn. An
 * ERR becomes a line on the screen; a broken connection ends top. */
static int top_query(struct top *t, const char *request, top_row_fn fn)
{
	char *line, copy[CQ_REPLY_MAX + 8];
	unsigned long rows = 0;
	struct ctl_req req;
	if (cq_send(t->query, request) != CQ_OK || cq_send(t->query, "\n") != CQ_OK ||
	    cq_getline(t->query, &line) != CQ_OK)
		return CQ_FAIL;
	if (cq_is(line, "ERR")) {
		top_add(t, "  %s: %s", request, line);
		t->failed = true;
		return CQ_ERR;
	}
	cq_rows(line, &rows);
	for (unsigned long i = 0; i < rows; i++) {
		if (cq_getline(t->query, &line) != CQ_OK)
			return CQ_FAIL;
		if (top_parse_row(line, copy, sizeof copy, &req))
			fn(t, &req);
	}
	return CQ_OK;
}

static unsigned long top_num(const struct ctl_req *r, const char *key)
{
	return strtoul(top_get(r, key), NULL, 10);
}

static void top_stats_row(struct top *t, const struct ctl_req *r)
{
	unsigned long lw = top_num(r, "longest_wait"), aw = top_num(r, "avg_wait"),
	              at = top_num(r, "avg_talk");
	top_add(t, "  waiting %-3s longest %lu:%02lu  handled %-4s abandoned %-4s missed %-4s",
	        top_get(r, "waiting"), lw / 60, lw % 60, top_get(r, "handled"), top_get(r, "abandoned"),
	        top_get(r, "missed"));
	top_add(t, "  agents ready %-3s busy %-3s away %-3s  avg wait %lu:%02lu  avg talk %lu:%02lu",
	        top_get(r, "ready"), top_get(r, "busy"), top_get(r, "away"), aw / 60, aw % 60, at / 60,
	        at % 60);
}

static void top_call_row(struct top *t, const struct ctl_req *r)
{
	unsigned long w = top_num(r, "wait");
	const char *country = top_get(r, "country");
	top_add(t, "    %3s  call %-6s %3lu:%02lu  %-16s %-20s %-6s %-8s %s", top_get(r, "position"),
	        top_get(r, "call"), w / 60, w % 60, top_get(r, "caller_number"),
	        top_get(r, "caller_name"), *country ? country : "-", top_get(r, "state"),
	        top_get(r, "agent"));
}

/* One word for what the agent is doing in this queue. */
static void top_agent_state(const struct ctl_req *r, char *buf, size_t cap)
{
	const char *activity = top_get(r, "activity");
	if (strcmp(top_get(r, "logged_in"), "yes") != 0)
		snprintf(buf, cap, "logged out");
	else if (strcmp(activity, "idle") != 0 && strcmp(activity, "recovery") != 0)
		snprintf(buf, cap, "%s (call %s)", activity, top_get(r, "call"));
	else if (!strcmp(activity, "recovery"))
		snprintf(buf, cap, "recovery %ss", top_get(r, "recovery_left"));
	else if (strcmp(top_get(r, "ready"), "yes") != 0)
		snprintf(buf, cap, "away %s", top_get(r, "away_reason"));
	else if (strcmp(top_get(r, "active"), "yes") != 0)
		snprintf(buf, cap, "paused");
	else if (top_num(r, "retry_left") > 0)
		snprintf(buf, cap, "retry in %ss", top_get(r, "retry_left"));
	else
		snprintf(buf, cap, "%s", !strcmp(top_get(r, "missed"), "yes") ? "missed" : "ready");
}

static void top_member_row(struct top *t, const struct ctl_req *r)
{
	char state[96];
	top_agent_state(r, state, sizeof state);
	top_add(t, "    %-8s %-20s %-24s handled %-4s missed %s", top_get(r, "login"),
	        top_get(r, "name"), state, top_get(r, "handled"), top_get(r, "missed_total"));
}

static void top_queue_name_row(struct top *t, const struct ctl_req *r)
{
	if (t->nqueues < TOP_QUEUES_MAX)
		snprintf(t->queues[t->nqueues++], sizeof t->queues[0], "%s", top_get(r, "name"));
}

/* A request naming a queue, quoted as the protocol wants. */
static void top_request(char *buf, size_t cap, const char *verb, const char *queue)
{
	struct ctl_out o;
	ctl_out_init(&o, buf, cap);
	ctl_out_word(&o, verb);
	ctl_out_word(&o, queue);
}

/* Rebuilds the lines of the screen from fresh state. */
static int top_refresh(struct top *t, const char *only)
{
	char req[CTL_LINE_MAX], when[32];
	time_t now = time(NULL);
	int rc = CQ_OK;
	t->nlines = 0;
	t->failed = false;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
	top_add(t, "callq top   %s   (q quits)", when);
	t->nqueues = 0;
	if (only)
		snprintf(t->queues[t->nqueues++], sizeof t->queues[0], "%s", only);
	else
		rc = top_query(t, "queue.list", top_queue_name_row);
	for (int i = 0; rc != CQ_FAIL && i < t->nqueues; i++) {
		top_add(t, "%s", "");
		top_add(t, "queue %s", t->queues[i]);
		top_request(req, sizeof req, "stats", t->queues[i]);
		rc = top_query(t, req, top_stats_row);
		top_add(t, "  waiting calls:");
		top_request(req, sizeof req, "calls", t->queues[i]);
		if (rc != CQ_FAIL)
			rc = top_query(t, req, top_call_row);
		top_add(t, "  agents:");
		top_request(req, sizeof req, "queue.members", t->queues[i]);
		if (rc != CQ_FAIL)
			rc = top_query(t, req, top_member_row);
	}
	if (t->last_event[0]) {
		top_add(t, "%s", "");
		top_add(t, "last event: %s", t->last_event);
	}
	return rc == CQ_FAIL ? CQ_FAIL : t->failed ? CQ_ERR : CQ_OK;
}

/* Bytes of s that fit in `cols` terminal columns, counting one column per
 * UTF-8 character and never cutting one in half. */
static size_t top_fit(const char *s, int cols)
{
	size_t i = 0;
	int used = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		if (used++ == cols)
			break;
	}
	return i;
}

static void top_winsize(int *rows, int *cols)
{
	struct winsize ws;
	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void top_write(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void top_draw(const struct top *t)
{
	static char frame[TOP_FRAME_MAX];
	int rows, cols;
	size_t len = 0;
	top_winsize(&rows, &cols);
	len += (size_t)snprintf(frame, sizeof frame, "\x1b[H");
	for (int i = 0; i < t->nlines && i < rows; i++) {
		size_t n = top_fit(t->lines[i], cols);
		memcpy(frame + len, t->lines[i], n);
		len += n;
		len += (size_t)snprintf(frame + len, sizeof frame - len, "\x1b[K%s",
		                        i + 1 < t->nlines && i + 1 < rows ? "\r\n" : "");
	}
	len += (size_t)snprintf(frame + len, sizeof frame - len, "\x1b[J");
	top_write(frame, len);
}

static void top_print(const struct top *t)
{
	for (int i = 0; i < t->nlines; i++)
		puts(t->lines[i]);
	fflush(stdout);
}

static void top_on_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_stop = 1;
}

static struct termios top_saved_tty;
static bool top_tty_saved;

/* Raw keys (no line editing, no echo), alternate screen, hidden cursor.
 * Ctrl-C still raises SIGINT, which ends the loop and restores all this. */
static void top_screen_on(void)
{
	struct sigaction sa = { .sa_handler = top_on_signal };
	sigemptyset(&sa.sa_mask);
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &top_saved_tty) == 0) {
		struct termios raw = top_saved_tty;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		top_tty_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	top_write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J", 22);
}

static void top_screen_off(void)
{
	top_write("\x1b[?25h\x1b[?1049l", 14);
	if (top_tty_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &top_saved_tty);
}

/* Reads what the subscription sent; remembers the last event line. Returns
 * false when the server closed it. */
static bool top_read_events(struct top *t)
{
	struct cq_conn *c = t->events;
	memmove(c->buf, c->buf + c->off, c->len - c->off);
	c->len -= c->off;
	c->off = 0;
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return false;
	c->len += n > 0 ? (size_t)n : 0;
	char *line;
	while (memchr(c->buf + c->off, '\n', c->len - c->off) && cq_getline(c, &line) == CQ_OK)
		if (cq_is(line, "EVENT"))
			snprintf(t->last_event, sizeof t->last_event, "%s", line + 6);
	if (c->len - c->off == sizeof c->buf)
		c->off = c->len = 0;
	return true;
}

static int64_t top_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum top_key { TOP_KEY_OTHER, TOP_KEY_QUIT, TOP_KEY_EOF };

/* 'q' quits; anything else is ignored. */
static enum top_key top_key(void)
{
	char ch;
	ssize_t n = read(STDIN_FILENO, &ch, 1);
	if (n == 0)
		return TOP_KEY_EOF;
	return n == 1 && (ch == 'q' || ch == 'Q') ? TOP_KEY_QUIT : TOP_KEY_OTHER;
}

static int top_loop(struct top *t, const char *only)
{
	int64_t next = 0;
	bool dirty = true, keys = true;
	while (!top_stop) {
		if (dirty || top_resized || top_mono_ms() >= next) {
			if (top_refresh(t, only) == CQ_FAIL)
				return CQ_FAIL;
			top_draw(t);
			dirty = false;
			top_resized = 0;
			next = top_mono_ms() + TOP_POLL_MS;
		}
		/* A closed stdin (top < /dev/null) leaves only signals to quit. */
		struct pollfd fds[2] = { { .fd = t->events->fd, .events = POLLIN },
		                         { .fd = keys ? STDIN_FILENO : -1, .events = POLLIN } };
		int64_t wait = next - top_mono_ms();
		if (poll(fds, 2, wait < 0 ? 0 : (int)wait) < 0)
			continue;
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			enum top_key k = top_key();
			if (k == TOP_KEY_QUIT)
				return CQ_OK;
			keys = k != TOP_KEY_EOF;
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (!top_read_events(t)) {
				fprintf(stderr, "callqctl: %s: event stream closed by the server\n", t->events->path);
				return CQ_FAIL;
			}
			dirty = true;
		}
	}
	return CQ_OK;
}

static int top_subscribe(struct cq_conn *c, const char *only)
{
	char req[CTL_LINE_MAX], *line;
	if (only)
		top_request(req, sizeof req, "subscribe", only);
	else
		snprintf(req, sizeof req, "subscribe");
	if (cq_send(c, req) != CQ_OK || cq_send(c, "\n") != CQ_OK || cq_getline(c, &line) != CQ_OK)
		return CQ_FAIL;
	if (!cq_is(line, "OK")) {
		fprintf(stderr, "callqctl: %s\n", line);
		return CQ_ERR;
	}
	return CQ_OK;
}

static int cq_top(struct cq_conn *query, int argc, char **argv)
{
	static struct cq_conn events;
	static struct top t;
	const char *only = argc > 1 ? argv[1] : NULL;
	t.query = query;
	t.events = &events;
	if (!isatty(STDOUT_FILENO)) {
		int rc = top_refresh(&t, only);
		top_print(&t);
		return rc;
	}
	int rc = cq_connect(&events, query->path);
	if (rc == CQ_OK)
		rc = top_subscribe(&events, only);
	if (rc != CQ_OK)
		return rc;
	top_screen_on();
	rc = top_loop(&t, only);
	top_screen_off();
	close(events.fd);
	return rc;
}

static void cq_usage(FILE *f)
{
	fprintf(f, "usage: callqctl [-s SOCKET] [VERB ARGS...]\n"
	           "       callqctl [-s SOCKET] top [QUEUE]\n"
	           "  Sends one request, or each line of stdin when no VERB is given.\n"
	           "  `top` is a live dashboard (q quits); without a terminal, one snapshot.\n"
	           "  SOCKET defaults to $CALLQ_SOCK, else %s. `callqctl help` lists the verbs.\n"
	           "  Other users than root and callqd's own start with `auth LOGIN PASSWORD`, the\n"
	           "  member's control password (member.add/member.set control_password=..), not its\n"
	           "  SIP password.\n",
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
	if (optind < argc && strcmp(argv[optind], "top") == 0)
		rc = cq_top(&conn, argc - optind, argv + optind);
	else if (optind < argc)
		rc = cq_run_args(&conn, argc - optind, argv + optind);
	else
		rc = cq_run_stdin(&conn);
	close(conn.fd);
	return rc;
}

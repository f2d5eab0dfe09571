/* test_server.c — the control socket on a real su_root with real client
 * sockets in this process (non-blocking, so the test drives both ends). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "ctl/proto.h"
#include "ctl/server.h"

#define MAX_SEEN 64
#define BIG_REPLY (64 * 1024)

struct fx {
	char dir[64];
	char path[96];
	su_root_t *root;
	ctl_server_t *srv;
	int nseen;
	char seen[MAX_SEEN][64];
	ctl_conn_t *from[MAX_SEEN];
	int closes;
	ctl_conn_t *closed[MAX_SEEN];
	int send_failures;
	ctl_conn_t *sub;        /* the connection that sent "sub" */
	ctl_conn_t *held;       /* the connection that sent "hold" */
	int64_t worst_step_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The handler: "big" answers 64 KiB, "sub" remembers the connection,
 * anything else is echoed. Every line is recorded with its connection. */
static void on_line(void *ctx, ctl_conn_t *c, char *line)
{
	struct fx *f = ctx;
	if (f->nseen < MAX_SEEN) {
		snprintf(f->seen[f->nseen], sizeof f->seen[0], "%s", line);
		f->from[f->nseen++] = c;
	}
	if (strcmp(line, "big") == 0) {
		static char blob[BIG_REPLY];
		memset(blob, 'x', sizeof blob);
		blob[sizeof blob - 1] = '\n';
		f->send_failures += !ctl_conn_send(c, blob, sizeof blob);
		return;
	}
	if (strcmp(line, "sub") == 0)
		f->sub = c;
	if (strcmp(line, "hold") == 0) {
		f->held = c;
		ctl_conn_hold(c);
	}
	if (strcmp(line, "stream") == 0) {
		ctl_conn_set_authed(c, true);
		ctl_conn_set_streaming(c, true);
	}
	static char reply[CTL_LINE_MAX + 16];
	int n = snprintf(reply, sizeof reply, "echo %s\n", line);
	f->send_failures += !ctl_conn_send(c, reply, (size_t)n);
}

static void on_close(void *ctx, ctl_conn_t *c)
{
	struct fx *f = ctx;
	if (f->closes < MAX_SEEN)
		f->closed[f->closes++] = c;
	if (f->sub == c)
		f->sub = NULL;
	if (f->held == c)
		f->held = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/callq-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/callq.sock", f->dir);
	f->root = su_root_create(NULL);
	f->srv = ctl_server_new(f->root, f->path, on_line, on_close, f, err, sizeof err);
	if (!f->root || !f->srv) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ctl_server_free(f->srv);
	su_root_destroy(f->root);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void step(struct fx *f)
{
	int64_t t0 = now_ms();
	su_root_step(f->root, 5);
	int64_t took = now_ms() - t0;
	if (took > f->worst_step_ms)
		f->worst_step_ms = took;
}

static int client(struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void put(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

struct inbox {
	size_t len;
	char buf[16384];
};

/* Runs the loop, collecting what `fd` receives, until `want` has arrived. */
static bool await(struct fx *f, int fd, struct inbox *in, const char *want)
{
	int64_t until = now_ms() + 3000;
	while (now_ms() < until) {
		step(f);
		ssize_t n = recv(fd, in->buf + in->len, sizeof in->buf - 1 - in->len, MSG_DONTWAIT);
		if (n > 0) {
			in->len += (size_t)n;
			in->buf[in->len] = '\0';
		}
		if (strstr(in->buf, want))
			return true;
	}
	return false;
}

static bool await_closes(struct fx *f, int closes)
{
	int64_t until = now_ms() + 3000;
	while (f->closes < closes && now_ms() < until)
		step(f);
	return f->closes >= closes;
}

static void test_lines_in_order(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int fd = client(f);
	put(fd, "a\nb b\nc");
	put(fd, "\nd\r\n");
	assert_true(await(f, fd, &in, "echo d\n"));
	assert_string_equal(in.buf, "echo a\necho b b\necho c\necho d\n");
	assert_int_equal(f->nseen, 4);
	assert_string_equal(f->seen[3], "d");
	assert_int_equal(ctl_conn_uid(f->from[0]), getuid());
	close(fd);
	assert_true(await_closes(f, 1));
	assert_ptr_equal(f->closed[0], f->from[0]);
}

static void test_two_clients_interleaved(void **state)
{
	struct fx *f = *state;
	struct inbox ia = { 0 }, ib = { 0 };
	int a = client(f), b = client(f);
	put(a, "a1\na2");
	assert_true(await(f, a, &ia, "echo a1\n"));
	put(b, "b1\n");
	assert_true(await(f, b, &ib, "echo b1\n"));
	put(a, "\na3\n");
	put(b, "b2\n");
	assert_true(await(f, a, &ia, "echo a3\n"));
	assert_true(await(f, b, &ib, "echo b2\n"));
	assert_string_equal(ia.buf, "echo a1\necho a2\necho a3\n");
	assert_string_equal(ib.buf, "echo b1\necho b2\n");
	/* Each line reached the handler with its own connection. */
	assert_int_equal(f->nseen, 5);
	for (int i = 0; i < f->nseen; i++)
		assert_ptr_equal(f->from[i], f->seen[i][0] == 'a' ? f->from[0] : f->from[1]);
	assert_ptr_not_equal(f->from[0], f->from[1]);
	close(a);
	close(b);
}

static void test_partial_line_then_disconnect(void **state)
{
	struct fx *f = *state;
	struct inbox ib = { 0 };
	int a = client(f), b = client(f);
	put(a, "half a line");
	put(b, "x\n");
	assert_true(await(f, b, &ib, "echo x\n"));
	close(a);
	assert_true(await_closes(f, 1));
	put(b, "y\n");
	assert_true(await(f, b, &ib, "echo y\n"));
	assert_int_equal(f->nseen, 2);   /* the half line never ran */
	assert_string_equal(f->seen[0], "x");
	assert_string_equal(f->seen[1], "y");
	assert_int_equal(f->closes, 1);
	close(b);
}

static void test_long_line(void **state)
{
	struct fx *f = *state;
	static char line[CTL_LINE_MAX + 8];
	struct inbox in = { 0 };
	int fd = client(f);
	memset(line, 'L', CTL_LINE_MAX + 1);
	line[CTL_LINE_MAX + 1] = '\0';
	put(fd, line);
	put(fd, "more of it\nok\n");
	assert_true(await(f, fd, &in, "echo ok\n"));
	assert_string_equal(in.buf, "ERR invalid line too long\necho ok\n");
	/* A line of exactly CTL_LINE_MAX bytes is fine. */
	line[CTL_LINE_MAX] = '\n';
	put(fd, line);
	in.len = 0;
	in.buf[0] = '\0';
	assert_true(await(f, fd, &in, "L\n"));
	assert_int_equal(in.len, 5 + CTL_LINE_MAX + 1);
	assert_int_equal(f->nseen, 2);
	close(fd);
}

static void test_slow_reader_dropped(void **state)
{
	struct fx *f = *state;
	struct inbox ib = { 0 };
	int slow = client(f), b = client(f);
	for (int i = 0; i < 40; i++)
		put(slow, "big\n");          /* 2.5 MiB of replies, never read */
	put(b, "ping\n");
	assert_true(await(f, b, &ib, "echo ping\n"));
	assert_true(await_closes(f, 1));
	assert_true(f->send_failures >= 1);
	assert_true(f->nseen < 40 + 1);  /* lines after the drop were not run */
	put(b, "pong\n");
	assert_true(await(f, b, &ib, "echo pong\n"));
	assert_true(f->worst_step_ms < 500);
	/* The slow client is cut off: after what was sent, EOF or reset. */
	static char sink[65536];
	ssize_t n;
	int64_t until = now_ms() + 3000;
	while ((n = recv(slow, sink, sizeof sink, MSG_DONTWAIT)) != 0 && now_ms() < until)
		;
	assert_int_equal(n, 0);
	close(slow);
	close(b);
}

/* Sends from outside any handler (as an event broadcast does): the dead
 * connection stays valid until the loop runs, then on_close comes. */
static void test_overflow_outside_handler(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int fd = client(f);
	put(fd, "sub\n");
	assert_true(await(f, fd, &in, "echo sub\n"));
	assert_non_null(f->sub);
	static char chunk[4096];
	memset(chunk, 'e', sizeof chunk);
	int sent = 0;
	while (sent < 1000 && ctl_conn_send(f->sub, chunk, sizeof chunk))
		sent++;
	assert_true(sent < 1000);
	assert_false(ctl_conn_send(f->sub, "x", 1));   /* still valid, still dead */
	assert_int_equal(f->closes, 0);
	assert_true(await_closes(f, 1));
	assert_null(f->sub);
	close(fd);
}

static void test_socket_file(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char err[256] = "";
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	/* A live server keeps its socket. */
	assert_null(ctl_server_new(f->root, f->path, on_line, on_close, f, err, sizeof err));
	assert_non_null(strstr(err, "another server"));
	assert_int_equal(stat(f->path, &st), 0);
	/* A stale socket file is replaced; freeing the server removes it. */
	ctl_server_free(f->srv);
	f->srv = NULL;
	assert_int_equal(stat(f->path, &st), -1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	f->srv = ctl_server_new(f->root, f->path, on_line, on_close, f, err, sizeof err);
	assert_non_null(f->srv);
	struct inbox in = { 0 };
	int c = client(f);
	put(c, "hi\n");
	assert_true(await(f, c, &in, "echo hi\n"));
	close(c);
}

static void test_refuses_non_socket_path(void **state)
{
	struct fx *f = *state;
	char path[128], err[256] = "";
	snprintf(path, sizeof path, "%s/plain", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_null(ctl_server_new(f->root, path, on_line, on_close, f, err, sizeof err));
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
}

/* A burst of pipelined lines is handled one per loop turn, not all at once. */
static void test_one_line_per_turn(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int fd = client(f);
	put(fd, "a\nb\nc\n");
	int64_t until = now_ms() + 3000;
	while (f->nseen == 0 && now_ms() < until)
		step(f);
	assert_int_equal(f->nseen, 1);
	step(f);
	assert_int_equal(f->nseen, 2);
	assert_true(await(f, fd, &in, "echo c\n"));
	assert_string_equal(in.buf, "echo a\necho b\necho c\n");
	close(fd);
}

/* A held connection's next lines wait until it is resumed; it is found by id
 * while open, not after. */
static void test_hold_and_resume(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int fd = client(f);
	put(fd, "hold\nnext\n");
	assert_true(await(f, fd, &in, "echo hold\n"));
	for (int i = 0; i < 20; i++)
		step(f);
	assert_int_equal(f->nseen, 1);
	assert_non_null(f->held);
	uint64_t id = ctl_conn_id(f->held);
	assert_ptr_equal(ctl_server_conn(f->srv, id), f->held);
	ctl_conn_resume(f->held);
	assert_true(await(f, fd, &in, "echo next\n"));
	close(fd);
	assert_true(await_closes(f, 1));
	assert_null(ctl_server_conn(f->srv, id));
}

/* Idle and unauthenticated connections are closed; a streaming one stays. */
static void test_idle_timeout(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	ctl_server_set_idle(f->srv, 1);
	int quiet = client(f), streaming = client(f);
	put(streaming, "stream\n");
	assert_true(await(f, streaming, &in, "echo stream\n"));
	int64_t t0 = now_ms();
	assert_true(await_closes(f, 1));
	int64_t took = now_ms() - t0;
	assert_true(took >= 500 && took < 2500);
	for (int64_t until = now_ms() + 1500; now_ms() < until;)
		step(f);
	assert_int_equal(f->closes, 1);                 /* the streaming one is still open */
	char c;
	assert_int_equal(recv(quiet, &c, 1, MSG_DONTWAIT), 0);   /* EOF */
	close(quiet);
	close(streaming);
}

/* The last CTL_CONN_RESERVED slots are for root and our own uid. */
static void test_slot_admit(void **state)
{
	(void)state;
	unsigned open = CTL_CONN_MAX - CTL_CONN_RESERVED;
	assert_true(ctl_slot_admit(open - 1, 0, false));
	assert_false(ctl_slot_admit(open, 0, false));
	assert_true(ctl_slot_admit(open, 0, true));
	assert_true(ctl_slot_admit(open, 3, false));            /* privileged ones use the reserve */
	assert_true(ctl_slot_admit(CTL_CONN_MAX - 1, CTL_CONN_RESERVED, true));
	assert_false(ctl_slot_admit(CTL_CONN_MAX, CTL_CONN_RESERVED, true));
	assert_false(ctl_slot_admit(CTL_CONN_MAX - 1, CTL_CONN_RESERVED - 1, false));
}

/* A virtual connection (the HTTP API's): lines go to the handler, output to
 * the sink; hold/resume and end reach the sink; it takes no socket slot and
 * is found by id; detach closes it without calling the sink. */
struct vsink {
	char out[256];
	int resumed, ended;
	bool refuse;
};

static bool vs_write(void *arg, const char *data, size_t len)
{
	struct vsink *v = arg;
	size_t n = strlen(v->out);
	if (v->refuse || n + len >= sizeof v->out)
		return false;
	memcpy(v->out + n, data, len);
	v->out[n + len] = '\0';
	return true;
}

static void vs_resumed(void *arg)
{
	((struct vsink *)arg)->resumed++;
}

static void vs_ended(void *arg)
{
	((struct vsink *)arg)->ended++;
}

static void test_virtual_connection(void **state)
{
	struct fx *f = *state;
	static const struct ctl_sink sink = { vs_write, vs_resumed, vs_ended };
	struct vsink v = { .out = "" };
	ctl_conn_t *c = ctl_server_attach(f->srv, &sink, &v);
	assert_non_null(c);
	assert_ptr_equal(ctl_server_conn(f->srv, ctl_conn_id(c)), c);
	assert_false(ctl_conn_uid(c) == 0 || ctl_conn_uid(c) == getuid());
	char line[] = "hello";
	assert_true(ctl_conn_line(c, line));
	assert_string_equal(v.out, "echo hello\n");
	char hold[] = "hold";
	assert_false(ctl_conn_line(c, hold));
	assert_int_equal(v.resumed, 0);
	ctl_conn_resume(c);
	assert_int_equal(v.resumed, 1);
	v.refuse = true;
	assert_false(ctl_conn_send(c, "x", 1));
	ctl_conn_end(c);
	assert_int_equal(v.ended, 1);
	for (int i = 0; i < 5; i++)
		step(f);
	assert_ptr_equal(ctl_server_conn(f->srv, ctl_conn_id(c)), c);   /* still there: ours to close */
	assert_int_equal(f->closes, 0);
	uint64_t id = ctl_conn_id(c);
	ctl_conn_detach(c);
	assert_int_equal(f->closes, 1);
	assert_null(ctl_server_conn(f->srv, id));
	assert_int_equal(v.ended, 1);
	/* It took no socket slot: a client still connects and is served. */
	int fd = client(f);
	put(fd, "ping\n");
	for (int i = 0; i < 20 && f->nseen < 3; i++)
		step(f);
	assert_string_equal(f->seen[2], "ping");
	close(fd);
}

int main(void)
{
	su_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_clients_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_line_then_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_outside_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_non_socket_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_line_per_turn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_connection, setup, teardown),
		cmocka_unit_test(test_slot_admit),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	su_deinit();
	return rc;
}

/* test_events.c — the event stream on a real control server (su_root, Unix
 * socket, client sockets in this process) and a real engine naming the ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "acd/engine.h"
#include "acd/qconf.h"
#include "ctl/events.h"
#include "ctl/server.h"

struct fx {
	char dir[64];
	char path[96];
	su_root_t *root;
	ctl_server_t *srv;
	events_t *ev;
	engine_t *eng;
	eng_id support, sales, a1001, a1002;
	int closes;
	bool unsubscribe_on_close;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "sub" follows every queue; "sub support" only that one; "unsub" stops. */
static void on_line(void *ctx, ctl_conn_t *c, char *line)
{
	struct fx *f = ctx;
	if (strcmp(line, "unsub") == 0) {
		events_unsubscribe(f->ev, c);
		ctl_conn_send(c, "OK\n", 3);
		return;
	}
	eng_id q[2];
	size_t n = 0;
	if (strstr(line, "support"))
		q[n++] = f->support;
	if (strstr(line, "sales"))
		q[n++] = f->sales;
	/* "as1001": subscribe as agent 1001, who sees only itself where show_agents is off. */
	eng_id self = strstr(line, "as1001") ? f->a1001 : 0;
	assert_int_equal(events_subscribe(f->ev, c, q, n, self), 0);
	ctl_conn_send(c, "OK subscribed\n", 14);
}

static void on_close(void *ctx, ctl_conn_t *c)
{
	struct fx *f = ctx;
	f->closes++;
	if (f->unsubscribe_on_close)
		events_unsubscribe(f->ev, c);
}

static eng_id add_queue(engine_t *e, const char *name)
{
	struct eng_queue_conf c;
	qconf_defaults(&c);
	snprintf(c.name, sizeof c.name, "%s", name);
	snprintf(c.number, sizeof c.number, "%s", name);
	return engine_queue_add(e, 0, &c);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/callq-ev-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/callq.sock", f->dir);
	f->root = su_root_create(NULL);
	f->srv = ctl_server_new(f->root, f->path, on_line, on_close, f, err, sizeof err);
	f->ev = events_new();
	f->eng = engine_new();
	f->unsubscribe_on_close = true;
	f->support = add_queue(f->eng, "support");
	f->sales = add_queue(f->eng, "sales");
	f->a1001 = engine_member_add(f->eng, "1001", "Ann", ROLE_AGENT);
	f->a1002 = engine_member_add(f->eng, "1002", "Bob", ROLE_AGENT);
	engine_assign(f->eng, 0, f->support, f->a1001, false, true);
	engine_assign(f->eng, 0, f->sales, f->a1002, false, true);
	struct eng_action drain;
	while (engine_next_action(f->eng, &drain))
		;
	if (!f->root || !f->srv || !f->ev || !f->support || !f->sales) {
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
	events_free(f->ev);
	engine_free(f->eng);
	su_root_destroy(f->root);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
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

static void drain(int fd, struct inbox *in)
{
	ssize_t n = recv(fd, in->buf + in->len, sizeof in->buf - 1 - in->len, MSG_DONTWAIT);
	if (n > 0) {
		in->len += (size_t)n;
		in->buf[in->len] = '\0';
	}
}

/* Runs the loop until `want` has arrived on fd. */
static bool await(struct fx *f, int fd, struct inbox *in, const char *want)
{
	int64_t until = now_ms() + 3000;
	while (now_ms() < until) {
		su_root_step(f->root, 5);
		drain(fd, in);
		if (strstr(in->buf, want))
			return true;
	}
	return false;
}

/* Runs the loop for ms milliseconds, collecting whatever arrives. */
static void settle(struct fx *f, int fd, struct inbox *in, int ms)
{
	int64_t until = now_ms() + ms;
	while (now_ms() < until) {
		su_root_step(f->root, 5);
		drain(fd, in);
	}
}

static void publish(struct fx *f, enum eng_event ev, eng_id call, eng_id q, eng_id m, int64_t value,
                    const char *reason)
{
	struct eng_action a = { .kind = ACT_EVENT, .event = ev, .call = call, .queue = q, .member = m,
	                        .value = value };
	snprintf(a.reason, sizeof a.reason, "%s", reason);
	events_publish(f->ev, f->eng, &a);
}

/* Strips the time=... field, which is the wall clock, so lines compare exactly. */
static void strip_times(char *s)
{
	char *p;
	while ((p = strstr(s, " time=")) != NULL) {
		char *end = strchr(p + 1, ' ');
		memmove(p, end, strlen(end) + 1);
	}
}

static void test_line_format_and_order(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int fd = client(f);
	put(fd, "sub\n");
	assert_true(await(f, fd, &in, "OK subscribed\n"));
	int64_t before = (int64_t)time(NULL) * 1000;
	publish(f, EV_CALL_ENTER, 7, f->support, 0, 0, "");
	publish(f, EV_CALL_OFFER, 7, f->support, f->a1001, 0, "");
	publish(f, EV_CALL_ANSWER, 7, f->support, f->a1001, 4200, "");
	publish(f, EV_CALL_END, 7, f->support, f->a1001, 60000, "");
	publish(f, EV_AGENT_AWAY, 0, 0, f->a1001, 0, "coffee break");
	assert_true(await(f, fd, &in, "EVENT agent.away"));
	assert_true(await(f, fd, &in, "\n"));
	long long t = 0;
	assert_int_equal(sscanf(strstr(in.buf, "time="), "time=%lld", &t), 1);
	assert_true(t >= before && t < before + 60000);
	strip_times(in.buf);
	assert_string_equal(in.buf,
	                    "OK subscribed\n"
	                    "EVENT call.enter call=7 queue=support member=\"\" value=0 reason=\"\"\n"
	                    "EVENT call.offer call=7 queue=support member=1001 value=0 reason=\"\"\n"
	                    "EVENT call.answer call=7 queue=support member=1001 value=4200 reason=\"\"\n"
	                    "EVENT call.end call=7 queue=support member=1001 value=60000 reason=\"\"\n"
	                    "EVENT agent.away call=0 queue=\"\" member=1001 value=0 "
	                    "reason=\"coffee break\"\n");
	close(fd);
}

static void test_queue_filter(void **state)
{
	struct fx *f = *state;
	struct inbox all = { 0 }, sup = { 0 };
	int a = client(f), s = client(f);
	put(a, "sub\n");
	put(s, "sub support\n");
	assert_true(await(f, a, &all, "OK subscribed\n"));
	assert_true(await(f, s, &sup, "OK subscribed\n"));
	publish(f, EV_CALL_ENTER, 1, f->sales, 0, 0, "");
	publish(f, EV_AGENT_LOGIN, 0, 0, f->a1002, 0, "");     /* 1002 is in sales only */
	publish(f, EV_AGENT_LOGIN, 0, 0, f->a1001, 0, "");     /* 1001 is in support */
	publish(f, EV_CALL_ENTER, 2, f->support, 0, 0, "");
	assert_true(await(f, a, &all, "call=2"));
	assert_true(await(f, s, &sup, "call=2"));
	strip_times(sup.buf);
	assert_string_equal(sup.buf,
	                    "OK subscribed\n"
	                    "EVENT agent.login call=0 queue=\"\" member=1001 value=0 reason=\"\"\n"
	                    "EVENT call.enter call=2 queue=support member=\"\" value=0 reason=\"\"\n");
	assert_non_null(strstr(all.buf, "call=1 queue=sales"));
	assert_non_null(strstr(all.buf, "member=1002"));
	close(a);
	close(s);
}

/* An agent sees other members' events only in queues with show_agents. */
static void test_agent_sees_only_itself(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int a = client(f);
	engine_assign(f->eng, 0, f->support, f->a1002, false, true);
	put(a, "sub support as1001\n");
	assert_true(await(f, a, &in, "OK subscribed\n"));
	publish(f, EV_AGENT_LOGIN, 0, 0, f->a1002, 0, "");
	publish(f, EV_CALL_OFFER, 3, f->support, f->a1002, 0, "");
	publish(f, EV_CALL_OFFER, 4, f->support, f->a1001, 0, "");
	assert_true(await(f, a, &in, "call=4"));
	assert_null(strstr(in.buf, "member=1002"));
	struct eng_queue_conf c = *engine_queue_conf(f->eng, f->support);
	c.show_agents = true;
	assert_true(engine_queue_update(f->eng, 0, f->support, &c));
	publish(f, EV_CALL_OFFER, 5, f->support, f->a1002, 0, "");
	assert_true(await(f, a, &in, "call=5"));
	assert_non_null(strstr(in.buf, "member=1002"));
	close(a);
}

static void test_unsubscribe_and_resubscribe(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int fd = client(f);
	put(fd, "sub sales\n");
	assert_true(await(f, fd, &in, "OK subscribed\n"));
	put(fd, "sub support\n");   /* replaces the list: one subscription */
	assert_true(await(f, fd, &in, "OK subscribed\nOK subscribed\n"));
	publish(f, EV_CALL_ENTER, 3, f->support, 0, 0, "");
	publish(f, EV_CALL_ENTER, 4, f->sales, 0, 0, "");
	assert_true(await(f, fd, &in, "call=3"));
	put(fd, "unsub\n");
	assert_true(await(f, fd, &in, "OK\n"));
	publish(f, EV_CALL_ENTER, 5, f->support, 0, 0, "");
	settle(f, fd, &in, 50);
	strip_times(in.buf);
	assert_string_equal(in.buf,
	                    "OK subscribed\nOK subscribed\n"
	                    "EVENT call.enter call=3 queue=support member=\"\" value=0 reason=\"\"\n"
	                    "OK\n");
	close(fd);
}

/* A subscriber that never reads is dropped when its buffer fills; events
 * forgets it at once, even if nobody calls events_unsubscribe, and the
 * others keep receiving. */
static void test_slow_subscriber_dropped(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	f->unsubscribe_on_close = false;
	int slow = client(f), fast = client(f);
	put(slow, "sub\n");
	put(fast, "sub\n");
	settle(f, fast, &in, 50);
	assert_non_null(strstr(in.buf, "OK subscribed\n"));
	int64_t t0 = now_ms();
	for (int i = 0; i < 20000; i++) {
		publish(f, EV_CALL_ENTER, (eng_id)i, f->support, 0, 0, "");
		if (i % 64 == 0) {
			in.len = 0;   /* the fast client keeps reading */
			drain(fast, &in);
		}
	}
	assert_true(now_ms() - t0 < 2000);
	settle(f, fast, &in, 100);
	assert_int_equal(f->closes, 1);
	in.len = 0;
	in.buf[0] = '\0';
	publish(f, EV_CALL_ENTER, 99999, f->support, 0, 0, "");
	assert_true(await(f, fast, &in, "call=99999 "));
	close(slow);
	close(fast);
}

static void test_closed_subscriber_forgotten(void **state)
{
	struct fx *f = *state;
	struct inbox in = { 0 };
	int fd = client(f), other = client(f);
	put(fd, "sub\n");
	put(other, "sub\n");
	assert_true(await(f, fd, &in, "OK subscribed\n"));
	close(fd);
	int64_t until = now_ms() + 3000;
	while (f->closes < 1 && now_ms() < until)
		su_root_step(f->root, 5);
	assert_int_equal(f->closes, 1);
	in.len = 0;
	publish(f, EV_CALL_ENTER, 8, f->support, 0, 0, "");
	assert_true(await(f, other, &in, "call=8 "));
	close(other);
}

int main(void)
{
	su_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_format_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_sees_only_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribe_and_resubscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_subscriber_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_subscriber_forgotten, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	su_deinit();
	return rc;
}

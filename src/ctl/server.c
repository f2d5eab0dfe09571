/* server.c — see server.h. */
#include "ctl/server.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "ctl/proto.h"

/* A reply of 256 KiB is thousands of rows; a client that lets more pile up
 * is not reading and gets dropped. */
#define CTL_OUT_MAX (256 * 1024)
/* Idle connections are looked at this often. */
#define CTL_SWEEP_MS 500
#define CTL_BACKLOG 64
/* Accepts per wakeup, so a connection storm cannot hog the loop. */
#define CTL_ACCEPT_BURST 16
/* Out of descriptors, the listening socket stays readable: it is left out
 * of the poll this long before the next try, and said so at most once per
 * CTL_FULL_LOG_MS. */
#define CTL_FULL_PAUSE_MS 100
#define CTL_FULL_LOG_MS 1000

struct ctl_conn {
	ctl_server_t *srv;
	struct ctl_conn *next;
	int fd;
	int index;                  /* su_root registration */
	su_wait_t wait;
	uid_t uid;
	uint64_t id;                /* unique for the server's life, never reused */
	void *user;
	bool privileged;            /* root or our own uid: may use the reserved slots */
	bool authed, streaming;     /* set by the handler; decide the idle timeout */
	bool held;                  /* a request is in progress: no next line yet */
	int64_t accepted_ms, active_ms;   /* monotonic: connect, last request */
	bool dead;                  /* to be closed by the server, never by a handler */
	bool eof;                   /* client sent EOF: flush what is pending, then close */
	int mask;                   /* events registered with su_root */
	bool discarding;            /* skipping the rest of an overlong line */
	size_t in_len;
	char in[CTL_LINE_MAX + 1];
	size_t out_off, out_len;    /* pending bytes: out[out_off .. out_off + out_len) */
	char *out;
	const struct ctl_sink *sink;   /* virtual connection: no fd, output to the sink */
	void *sink_arg;
};

struct ctl_server {
	su_root_t *root;
	int fd;
	int index;
	su_wait_t wait;
	su_timer_t *reaper;         /* closes dead connections outside any handler */
	ctl_line_fn on_line;
	ctl_close_fn on_close;
	void *ctx;
	int pump_fd;                /* eventfd: readable while some connection has a line waiting */
	int pump_index;
	su_wait_t pump_wait;
	su_timer_t *sweeper;        /* closes idle connections */
	su_timer_t *unpause;        /* polls the listening socket again after running out of fds */
	int64_t full_logged_ms;     /* last "out of descriptors" log line */
	unsigned idle_ms;
	uint64_t next_id;
	struct ctl_conn *conns;
	unsigned nconns, nprivileged;
	bool bound;                 /* the socket file is ours to unlink */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ---- connections ---- */

static void ctl_conn_close(struct ctl_conn *c)
{
	ctl_server_t *s = c->srv;
	c->dead = true;             /* sends from on_close are refused */
	for (struct ctl_conn **pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (!c->sink) {
		s->nconns--;
		s->nprivileged -= c->privileged;
		su_root_deregister(s->root, c->index);
		close(c->fd);
	}
	if (s->on_close)
		s->on_close(s->ctx, c);
	free(c->out);
	free(c);
}

static void ctl_reap(ctl_server_t *s)
{
	struct ctl_conn **pp = &s->conns;
	while (*pp) {
		struct ctl_conn *c = *pp;
		if (c->dead)
			ctl_conn_close(c);
		else
			pp = &c->next;
	}
}

static void ctl_reap_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	ctl_reap(arg);
}

/* Marks `c` for closing (`why` is logged unless NULL). The connection's own
 * callback closes it when it returns; otherwise the reaper timer does, after
 * whatever callback is running now — so no handler ever sees a freed conn. */
static void ctl_conn_kill(struct ctl_conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	if (why)
		log_info("ctl", "dropping connection (uid %u): %s", (unsigned)c->uid, why);
	su_timer_set_interval(c->srv->reaper, ctl_reap_timer, c->srv, 0);
}

static int64_t ctl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool ctl_conn_has_line(const struct ctl_conn *c)
{
	return memchr(c->in, '\n', c->in_len) != NULL;
}

/* Wakes the pump: some connection has a complete line waiting its turn. */
static void ctl_pump_arm(ctl_server_t *s)
{
	uint64_t one = 1;
	ssize_t w = write(s->pump_fd, &one, sizeof one);
	(void)w;                    /* already readable if the counter is full */
}

/* Reads until EOF, but not while a line already waits its turn or a request
 * is in progress: what the client sends meanwhile waits in the socket. Waits
 * to write only while output is pending. */
static void ctl_update_mask(struct ctl_conn *c)
{
	bool reading = !c->eof && !c->held && !ctl_conn_has_line(c);
	int mask = (reading ? SU_WAIT_IN : 0) | (c->out_len ? SU_WAIT_OUT : 0);
	if (c->sink || mask == c->mask)
		return;
	c->mask = mask;
	su_root_eventmask(c->srv->root, c->index, c->fd, mask);
}

/* Writes what the socket takes now; waits for SU_WAIT_OUT for the rest. */
static void ctl_conn_flush(struct ctl_conn *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			ctl_conn_kill(c, strerror(errno));
			return;
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
	}
	if (c->out_len == 0)
		c->out_off = 0;
	if (c->eof && c->out_len == 0)
		ctl_conn_kill(c, NULL);
	else
		ctl_update_mask(c);
}

bool ctl_conn_send(ctl_conn_t *c, const char *data, size_t len)
{
	if (c->dead)
		return false;
	if (c->sink)
		return c->sink->write(c->sink_arg, data, len);
	if (len > CTL_OUT_MAX - c->out_len) {
		ctl_conn_kill(c, "client is not reading its replies");
		return false;
	}
	if (c->out_off + c->out_len + len > CTL_OUT_MAX) {
		memmove(c->out, c->out + c->out_off, c->out_len);
		c->out_off = 0;
	}
	memcpy(c->out + c->out_off + c->out_len, data, len);
	c->out_len += len;
	ctl_conn_flush(c);
	return !c->dead;
}

uid_t ctl_conn_uid(const ctl_conn_t *c)
{
	return c->uid;
}

void ctl_conn_set_user(ctl_conn_t *c, void *user)
{
	c->user = user;
}

void *ctl_conn_user(const ctl_conn_t *c)
{
	return c->user;
}

uint64_t ctl_conn_id(const ctl_conn_t *c)
{
	return c->id;
}

void ctl_conn_set_authed(ctl_conn_t *c, bool authed)
{
	c->authed = authed;
}

void ctl_conn_set_streaming(ctl_conn_t *c, bool streaming)
{
	c->streaming = streaming;
}

void ctl_conn_hold(ctl_conn_t *c)
{
	c->held = true;
	ctl_update_mask(c);
}

void ctl_conn_resume(ctl_conn_t *c)
{
	c->held = false;
	c->active_ms = ctl_now_ms();
	if (c->dead)
		return;
	if (c->sink) {
		c->sink->resumed(c->sink_arg);
		return;
	}
	if (ctl_conn_has_line(c))
		ctl_pump_arm(c->srv);
	ctl_update_mask(c);
}

void ctl_conn_end(ctl_conn_t *c)
{
	if (c->dead)
		return;
	if (c->sink) {
		c->sink->ended(c->sink_arg);
		return;
	}
	c->eof = true;
	c->in_len = 0;
	ctl_conn_flush(c);
}

ctl_conn_t *ctl_server_conn(ctl_server_t *s, uint64_t id)
{
	for (struct ctl_conn *c = s->conns; c; c = c->next)
		if (c->id == id && !c->dead)
			return c;
	return NULL;
}

void ctl_server_each(ctl_server_t *s, void (*fn)(void *arg, ctl_conn_t *c), void *arg)
{
	for (struct ctl_conn *c = s->conns; c; c = c->next)
		if (!c->dead)
			fn(arg, c);
}

void ctl_server_set_idle(ctl_server_t *s, unsigned seconds)
{
	s->idle_ms = seconds * 1000;
}

/* ---- reading lines ---- */

/* Hands the first complete line in the input buffer to the handler and keeps
 * the rest: one request per connection per loop turn, so a pipelined burst
 * cannot keep the loop from SIP. Skips the tail of an overlong line. */
static void ctl_conn_one_line(struct ctl_conn *c)
{
	ctl_server_t *s = c->srv;
	char *nl;
	while (!c->dead && !c->held && (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		size_t start = (size_t)(nl - c->in) + 1;
		bool skip = c->discarding;
		c->discarding = false;
		if (!skip) {
			static char line[CTL_LINE_MAX + 1];
			memcpy(line, c->in, start);
			line[start - 1] = '\0';
			if (start > 1 && line[start - 2] == '\r')
				line[start - 2] = '\0';
			memmove(c->in, c->in + start, c->in_len - start);
			c->in_len -= start;
			c->active_ms = ctl_now_ms();
			s->on_line(s->ctx, c, line);
			break;
		}
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
	}
	if (c->in_len == sizeof c->in && !ctl_conn_has_line(c)) {
		/* No newline within CTL_LINE_MAX + 1 bytes: the line is too long. */
		if (!c->discarding)
			ctl_conn_send(c, "ERR invalid line too long\n", 26);
		c->discarding = true;
		c->in_len = 0;
	}
	if (!c->dead && !c->held && ctl_conn_has_line(c))
		ctl_pump_arm(s);
	if (!c->dead)
		ctl_update_mask(c);
}

/* The pump: one waiting line of every connection that has one. */
static int ctl_pump_event(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	(void)magic;
	(void)w;
	ctl_server_t *s = arg;
	uint64_t n;
	ssize_t r = read(s->pump_fd, &n, sizeof n);
	(void)r;
	for (struct ctl_conn *c = s->conns; c; c = c->next)
		if (!c->dead && !c->held && ctl_conn_has_line(c))
			ctl_conn_one_line(c);
	ctl_reap(s);
	return 0;
}

/* One read per wakeup keeps clients fair; the poll is level-triggered. */
static void ctl_conn_read(struct ctl_conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		ctl_conn_kill(c, strerror(errno));
		return;
	}
	if (n == 0) {
		/* An unfinished line is dropped, never executed; replies already
		 * queued still go out (clients like `nc -U` half-close). */
		c->in_len = 0;
		c->eof = true;
		ctl_conn_flush(c);
		return;
	}
	c->in_len += (size_t)n;
	ctl_conn_one_line(c);
}

static int ctl_conn_event(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	(void)magic;
	struct ctl_conn *c = arg;
	int ev = su_wait_events(w, c->fd);
	if (ev & SU_WAIT_OUT)
		ctl_conn_flush(c);
	if (!c->dead && !c->eof && (ev & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR)))
		ctl_conn_read(c);
	if (c->dead)
		ctl_conn_close(c);
	return 0;
}

/* ---- virtual connections ---- */

ctl_conn_t *ctl_server_attach(ctl_server_t *s, const struct ctl_sink *sink, void *arg)
{
	struct ctl_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->srv = s;
	c->fd = -1;
	c->index = -1;
	c->uid = (uid_t)-1;
	c->id = ++s->next_id;
	c->sink = sink;
	c->sink_arg = arg;
	c->accepted_ms = c->active_ms = ctl_now_ms();
	c->next = s->conns;
	s->conns = c;
	return c;
}

bool ctl_conn_line(ctl_conn_t *c, char *line)
{
	c->active_ms = ctl_now_ms();
	c->srv->on_line(c->srv->ctx, c, line);
	return !c->held;
}

void ctl_conn_detach(ctl_conn_t *c)
{
	ctl_conn_close(c);
}

/* ---- listening ---- */

static uid_t ctl_peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return (uid_t)-1;
	return cred.uid;
}

static void ctl_conn_new(ctl_server_t *s, int fd, uid_t uid, bool privileged)
{
	struct ctl_conn *c = calloc(1, sizeof *c);
	char *out = malloc(CTL_OUT_MAX);
	if (!c || !out || su_wait_create(&c->wait, fd, SU_WAIT_IN) != 0) {
		log_error("ctl", "out of memory for a connection");
		free(c);
		free(out);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->out = out;
	c->uid = uid;
	c->id = ++s->next_id;
	c->privileged = privileged;
	c->accepted_ms = c->active_ms = ctl_now_ms();
	c->mask = SU_WAIT_IN;
	c->index = su_root_register(s->root, &c->wait, ctl_conn_event, c, 0);
	if (c->index < 0) {
		log_error("ctl", "cannot register a connection");
		free(c);
		free(out);
		close(fd);
		return;
	}
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	s->nprivileged += privileged;
}

bool ctl_slot_admit(unsigned nconns, unsigned nprivileged, bool privileged)
{
	if (nconns >= CTL_CONN_MAX)
		return false;
	return privileged || nconns - nprivileged < CTL_CONN_MAX - CTL_CONN_RESERVED;
}

static void ctl_refuse(int fd)
{
	static const char msg[] = "ERR busy too many connections\n";
	ssize_t w = send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	close(fd);
}

static void ctl_unpause(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	ctl_server_t *s = arg;
	su_root_eventmask(s->root, s->index, s->fd, SU_WAIT_ACCEPT);
}

/* accept() failed for want of descriptors or memory: the pending connection
 * stays queued and the socket readable, so polling it now would spin. */
static void ctl_accept_pause(ctl_server_t *s, int err)
{
	int64_t now = ctl_now_ms();
	if (now - s->full_logged_ms >= CTL_FULL_LOG_MS) {
		s->full_logged_ms = now;
		log_warn("ctl", "accept: %s (%u connections open); pausing accepts for %d ms",
		         strerror(err), s->nconns, CTL_FULL_PAUSE_MS);
	}
	su_root_eventmask(s->root, s->index, s->fd, 0);
	su_timer_set_interval(s->unpause, ctl_unpause, s, CTL_FULL_PAUSE_MS);
}

static int ctl_accept_event(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	(void)magic;
	(void)w;
	ctl_server_t *s = arg;
	for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		               errno == ENOMEM)) {
			ctl_accept_pause(s, errno);
			return 0;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("ctl", "accept: %s", strerror(errno));
			return 0;
		}
		uid_t uid = ctl_peer_uid(fd);
		bool privileged = uid == 0 || uid == getuid();
		if (!ctl_slot_admit(s->nconns, s->nprivileged, privileged))
			ctl_refuse(fd);
		else
			ctl_conn_new(s, fd, uid, privileged);
	}
	return 0;
}

/* Removes a socket file left by a previous run, but neither a live socket
 * (another daemon is serving it) nor a file that is not a socket. */
static int ctl_clear_path(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(sa->sun_path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", sa->sun_path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
	if (fd >= 0)
		close(fd);
	if (live) {
		snprintf(err, errlen, "%s: another server is listening there", sa->sun_path);
		return -1;
	}
	unlink(sa->sun_path);
	return 0;
}

static int ctl_sys_err(ctl_server_t *s, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", s->path, what, strerror(errno));
	return -1;
}

/* Binds and listens; the mode is set before listen() so no client can
 * connect while the file still has the umask's permissions. */
static int ctl_listen(ctl_server_t *s, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, s->path, sizeof sa.sun_path);
	if (ctl_clear_path(&sa, err, errlen) != 0)
		return -1;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return ctl_sys_err(s, "socket", err, errlen);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return ctl_sys_err(s, "bind", err, errlen);
	s->bound = true;
	if (chmod(s->path, 0660) != 0)
		return ctl_sys_err(s, "chmod", err, errlen);
	if (listen(s->fd, CTL_BACKLOG) != 0)
		return ctl_sys_err(s, "listen", err, errlen);
	return 0;
}

/* Unauthenticated connections get idle_ms from connect to authenticate;
 * any connection is closed after idle_ms without a request, unless it is
 * streaming events (a wallboard listens, it does not ask). A connection in
 * the middle of a request is never idle. */
static void ctl_sweep(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	ctl_server_t *s = arg;
	int64_t now = ctl_now_ms();
	for (struct ctl_conn *c = s->conns; c; c = c->next) {
		if (c->dead || c->held || c->sink)
			continue;
		if (!c->authed && now - c->accepted_ms >= s->idle_ms)
			ctl_conn_kill(c, "did not authenticate in time");
		else if (!c->streaming && now - c->active_ms >= s->idle_ms)
			ctl_conn_kill(c, "idle");
	}
	ctl_reap(s);
}

static int ctl_register_pump(ctl_server_t *s)
{
	s->pump_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->pump_fd < 0 || su_wait_create(&s->pump_wait, s->pump_fd, SU_WAIT_IN) != 0)
		return -1;
	s->pump_index = su_root_register(s->root, &s->pump_wait, ctl_pump_event, s, 0);
	return s->pump_index < 0 ? -1 : 0;
}

static int ctl_register(ctl_server_t *s, char *err, size_t errlen)
{
	if (su_wait_create(&s->wait, s->fd, SU_WAIT_ACCEPT) != 0 ||
	    (s->index = su_root_register(s->root, &s->wait, ctl_accept_event, s, 0)) < 0) {
		snprintf(err, errlen, "%s: cannot register with the event loop", s->path);
		return -1;
	}
	if (ctl_register_pump(s) != 0) {
		snprintf(err, errlen, "%s: cannot register the line pump", s->path);
		return -1;
	}
	s->reaper = su_timer_create(su_root_task(s->root), 0);
	s->unpause = su_timer_create(su_root_task(s->root), 0);
	s->sweeper = su_timer_create(su_root_task(s->root), CTL_SWEEP_MS);
	if (!s->reaper || !s->unpause || !s->sweeper ||
	    su_timer_set_for_ever(s->sweeper, ctl_sweep, s) != 0) {
		snprintf(err, errlen, "%s: cannot create a timer", s->path);
		return -1;
	}
	return 0;
}

ctl_server_t *ctl_server_new(su_root_t *root, const char *path, ctl_line_fn on_line,
                             ctl_close_fn on_close, void *ctx, char *err, size_t errlen)
{
	ctl_server_t *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*s = (ctl_server_t){ .root = root, .fd = -1, .index = -1, .pump_fd = -1, .pump_index = -1,
	                     .idle_ms = CTL_IDLE_DEFAULT_S * 1000, .on_line = on_line,
	                     .on_close = on_close, .ctx = ctx };
	if (strlen(path) >= sizeof s->path) {
		snprintf(err, errlen, "%s: socket path too long", path);
		free(s);
		return NULL;
	}
	strcpy(s->path, path);
	if (ctl_listen(s, err, errlen) != 0 || ctl_register(s, err, errlen) != 0) {
		ctl_server_free(s);
		return NULL;
	}
	return s;
}

void ctl_server_free(ctl_server_t *s)
{
	if (!s)
		return;
	while (s->conns)
		ctl_conn_close(s->conns);
	if (s->reaper)
		su_timer_destroy(s->reaper);
	if (s->unpause)
		su_timer_destroy(s->unpause);
	if (s->sweeper)
		su_timer_destroy(s->sweeper);
	if (s->pump_index >= 0)
		su_root_deregister(s->root, s->pump_index);
	if (s->pump_fd >= 0)
		close(s->pump_fd);
	if (s->index >= 0)
		su_root_deregister(s->root, s->index);
	if (s->fd >= 0)
		close(s->fd);
	if (s->bound)
		unlink(s->path);
	free(s);
}

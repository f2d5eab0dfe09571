/* backlog.c — see backlog.h. */
#include "sip/backlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

struct backlog {
	su_root_t *root;
	int spare;
	unsigned n;
	struct {
		int fd;      /* our duplicate of the listening socket */
		int index;   /* su_root registration */
		su_wait_t wait;
	} l[BACKLOG_MAX_FDS];
	unsigned closed;         /* connections closed since the last log line */
	int64_t logged;
};

/* A listening stream socket (TCP, TLS over TCP, or a Unix socket). */
static bool backlog_listening(int fd)
{
	int on = 0, type = 0;
	socklen_t len = sizeof on, tlen = sizeof type;
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on &&
	       getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM;
}

/* Calls fn for every listening stream socket of this process. */
static void backlog_scan(void (*fn)(void *ctx, int fd), void *ctx)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	if (!dir)
		return;
	int own = dirfd(dir);
	while ((e = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd == own)
			continue;
		if (backlog_listening((int)fd))
			fn(ctx, (int)fd);
	}
	closedir(dir);
}

static void backlog_note(void *ctx, int fd)
{
	struct backlog_snapshot *snap = ctx;
	if (snap->n < sizeof snap->fd / sizeof snap->fd[0])
		snap->fd[snap->n++] = fd;
}

void backlog_snapshot(struct backlog_snapshot *snap)
{
	snap->n = 0;
	backlog_scan(backlog_note, snap);
}

/* Accepts and closes what waits on fd, with the spare descriptor given up. */
static unsigned backlog_drain(struct backlog *b, int fd)
{
	unsigned n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (b->spare >= 0)
		close(b->spare);
	while (n < 256 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0)
			break;
		close(c);
		n++;
	}
	b->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return n;
}

static int backlog_wakeup(su_root_magic_t *m, su_wait_t *w, su_wakeup_arg_t *arg)
{
	(void)m;
	struct backlog *b = (struct backlog *)arg;
	int probe = fcntl(w->fd, F_DUPFD_CLOEXEC, 0);
	if (probe >= 0) {
		close(probe);   /* a descriptor is free: Sofia's accept gets it */
		return 0;
	}
	if (errno != EMFILE && errno != ENFILE)
		return 0;
	b->closed += backlog_drain(b, w->fd);
	int64_t now = clock_mono_ms();
	if (b->closed && now - b->logged >= BACKLOG_LOG_MS) {
		log_warn("sip", "out of file descriptors: %u incoming TCP connection(s) closed on arrival",
		         b->closed);
		b->closed = 0;
		b->logged = now;
	}
	return 0;
}

struct backlog_add {
	struct backlog *b;
	const struct backlog_snapshot *before;
};

static void backlog_watch(void *ctx, int fd)
{
	struct backlog_add *a = ctx;
	struct backlog *b = a->b;
	for (unsigned i = 0; i < a->before->n; i++)
		if (a->before->fd[i] == fd)
			return;
	if (b->n == BACKLOG_MAX_FDS)
		return;
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return;
	if (su_wait_create(&b->l[b->n].wait, dup, SU_WAIT_ACCEPT) < 0) {
		close(dup);
		return;
	}
	int index = su_root_register(b->root, &b->l[b->n].wait, backlog_wakeup, (su_wakeup_arg_t *)b, 0);
	if (index < 0) {
		su_wait_destroy(&b->l[b->n].wait);
		close(dup);
		return;
	}
	b->l[b->n].fd = dup;
	b->l[b->n].index = index;
	b->n++;
}

struct backlog *backlog_new(su_root_t *root, const struct backlog_snapshot *snap)
{
	struct backlog *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->root = root;
	b->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct backlog_add a = { b, snap };
	backlog_scan(backlog_watch, &a);
	if (!b->n) {
		backlog_free(b);
		return NULL;
	}
	return b;
}

void backlog_free(struct backlog *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < b->n; i++) {
		su_root_deregister(b->root, b->l[i].index);
		close(b->l[i].fd);
	}
	if (b->spare >= 0)
		close(b->spare);
	free(b);
}

/* backlog.h — keeps Sofia's TCP (and TLS) listening sockets from spinning when
 * callqd is out of file descriptors.
 *
 * Sofia's tport_accept() logs an accept() that fails with EMFILE and returns:
 * the connection stays in the kernel's backlog, the listening socket stays
 * readable, and the SIP loop spins on it. backlog_new() notes the listening
 * stream sockets nua_create() opened (those that were not there before it),
 * watches a duplicate of each on the same su_root, and holds one spare
 * descriptor (/dev/null). When such a socket is readable and no descriptor
 * is left (a probe dup fails with EMFILE or ENFILE), it gives up the spare,
 * accepts and closes what waits in the backlog (the peer sees its
 * connection closed and may retry), and takes the spare again. So an accept
 * that cannot be served costs one wake-up, never a spin; with descriptors
 * free it does nothing and Sofia accepts as usual. A log line at most every
 * BACKLOG_LOG_MS says how many connections were closed.
 */
#ifndef CALLQ_BACKLOG_H
#define CALLQ_BACKLOG_H

#include <sofia-sip/su_wait.h>

#define BACKLOG_MAX_FDS 8
#define BACKLOG_LOG_MS 10000

struct backlog;

/* Descriptors open now: a snapshot taken before nua_create(). */
struct backlog_snapshot {
	int fd[BACKLOG_MAX_FDS * 8];
	unsigned n;
};

void backlog_snapshot(struct backlog_snapshot *snap);
/* Watches the listening stream sockets opened since snap; NULL if none or out
 * of memory (nothing to watch, or callq runs without this guard). */
struct backlog *backlog_new(su_root_t *root, const struct backlog_snapshot *snap);
void backlog_free(struct backlog *b);

#endif

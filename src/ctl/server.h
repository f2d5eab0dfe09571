/* server.h — the control socket: a Unix stream listener on the SIP loop.
 *
 * The server accepts connections, reads bytes without blocking, and hands
 * each complete line to the handler. A line longer than CTL_LINE_MAX is
 * answered "ERR invalid line too long" and skipped. Replies are queued per
 * connection in a bounded buffer and written as the socket allows; a client
 * that stops reading and fills its buffer (256 KiB) is disconnected, so a
 * slow or vanished client never stalls the loop or other clients. A dropped
 * connection is only marked dead: it is closed (and on_close called) when the
 * callback now running returns, so a handler never sees a freed conn. On EOF
 * an unfinished line is discarded; replies already queued are still written
 * before the close. At most 128 connections, the last 8 of them kept for
 * root and callqd's own uid (a flood by other users never locks the local
 * administrator out); more are refused with "ERR busy too many connections".
 * The socket file is created mode 0660 (group members, e.g. a local
 * wallboard, may connect); a stale socket file is replaced, a live one
 * (another server) is an error. When accept() fails for want of file
 * descriptors (EMFILE, ENFILE) or memory, the listening socket is left out of
 * the poll for 100 ms (it stays readable, so polling it would spin) and the
 * waiting clients stay queued; a warning is logged at most once a second.
 *
 * Fairness: one request per connection per loop turn. After a line the
 * connection waits for the next turn (an eventfd "pump" registered with the
 * loop, polled together with SIP), so a pipelined burst cannot monopolise
 * the loop. A handler that answers later (work on another thread) holds the
 * connection (ctl_conn_hold): its next lines wait unread until
 * ctl_conn_resume. Connections are found again by id (ctl_server_conn), so
 * late work never touches a closed connection.
 *
 * Idle timeout (ctl_server_set_idle, default 300 s): a connection the handler
 * has not marked authenticated is closed that long after it connected; any
 * connection is closed after that long without a request, unless the
 * handler marked it streaming (an event subscriber).
 *
 * Virtual connections (ctl_server_attach) let another front end (the HTTP
 * API, web/web.h) run requests through the same handler, so the verbs and
 * their permission checks exist once: no socket, no slot, no idle timeout;
 * what the handler sends goes to the sink, and the front end owns the
 * connection until ctl_conn_detach.
 */
#ifndef CALLQ_SERVER_H
#define CALLQ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sofia-sip/su_wait.h>

#define CTL_CONN_MAX 128        /* each may hold 256 KiB of replies */
#define CTL_CONN_RESERVED 8     /* of them, only for root and our own uid */
#define CTL_IDLE_DEFAULT_S 300

typedef struct ctl_server ctl_server_t;
typedef struct ctl_conn ctl_conn_t;

/* Called once per complete line (without the newline, NUL-terminated). */
typedef void (*ctl_line_fn)(void *ctx, ctl_conn_t *c, char *line);
/* Called when a connection closes, so its user data can be released. */
typedef void (*ctl_close_fn)(void *ctx, ctl_conn_t *c);

ctl_server_t *ctl_server_new(su_root_t *root, const char *path, ctl_line_fn on_line,
                             ctl_close_fn on_close, void *ctx, char *err, size_t errlen);
void ctl_server_free(ctl_server_t *s);   /* closes every connection, unlinks the path */
void ctl_server_set_idle(ctl_server_t *s, unsigned seconds);
/* The live connection with this id, or NULL (closed or closing). */
ctl_conn_t *ctl_server_conn(ctl_server_t *s, uint64_t id);
/* Calls fn for every live connection; fn may end or kill connections. */
void ctl_server_each(ctl_server_t *s, void (*fn)(void *arg, ctl_conn_t *c), void *arg);
/* May a new connection take a slot, with nconns open of which nprivileged
 * are root's or our own uid's? */
bool ctl_slot_admit(unsigned nconns, unsigned nprivileged, bool privileged);

/* Queue bytes to the client and write what the socket takes now. Returns
 * false if the connection is dead (overflow, write error): it stays valid
 * until the current callback returns, but nothing more will be sent. */
bool ctl_conn_send(ctl_conn_t *c, const char *data, size_t len);
uid_t ctl_conn_uid(const ctl_conn_t *c);
void ctl_conn_set_user(ctl_conn_t *c, void *user);
void *ctl_conn_user(const ctl_conn_t *c);
uint64_t ctl_conn_id(const ctl_conn_t *c);
void ctl_conn_set_authed(ctl_conn_t *c, bool authed);
void ctl_conn_set_streaming(ctl_conn_t *c, bool streaming);
/* No further line is handed over until ctl_conn_resume. */
void ctl_conn_hold(ctl_conn_t *c);
void ctl_conn_resume(ctl_conn_t *c);
/* Reads nothing more; closes once the replies queued so far are written.
 * A virtual connection is not closed: its sink's `ended` is told. */
void ctl_conn_end(ctl_conn_t *c);

/* Where a virtual connection's output goes. `write` returns false if it
 * cannot take the bytes (ctl_conn_send then returns false); `resumed` tells
 * that a held request has replied; `ended` that the handler ended the
 * connection (ctl_conn_end: the member lost its rights) — the front end
 * detaches it later, never from inside these callbacks. */
struct ctl_sink {
	bool (*write)(void *arg, const char *data, size_t len);
	void (*resumed)(void *arg);
	void (*ended)(void *arg);
};
/* A new virtual connection (uid -1: never the local administrator). */
ctl_conn_t *ctl_server_attach(ctl_server_t *s, const struct ctl_sink *sink, void *arg);
/* Hands one request line (modified in place) to the handler. True if it has
 * replied; false if the request goes on elsewhere (the sink's `resumed`
 * follows the reply). */
bool ctl_conn_line(ctl_conn_t *c, char *line);
/* Closes a virtual connection now (on_close runs; the sink is not called). */
void ctl_conn_detach(ctl_conn_t *c);

#endif

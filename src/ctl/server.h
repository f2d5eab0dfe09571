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
 * before the close. At most 128 connections; more are refused with
 * "ERR busy too many connections". The socket file is created mode 0660; a
 * stale socket file is replaced, a live one (another server) is an error.
 */
#ifndef CALLQ_SERVER_H
#define CALLQ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <sofia-sip/su_wait.h>

typedef struct ctl_server ctl_server_t;
typedef struct ctl_conn ctl_conn_t;

/* Called once per complete line (without the newline, NUL-terminated). */
typedef void (*ctl_line_fn)(void *ctx, ctl_conn_t *c, char *line);
/* Called when a connection closes, so its user data can be released. */
typedef void (*ctl_close_fn)(void *ctx, ctl_conn_t *c);

ctl_server_t *ctl_server_new(su_root_t *root, const char *path, ctl_line_fn on_line,
                             ctl_close_fn on_close, void *ctx, char *err, size_t errlen);
void ctl_server_free(ctl_server_t *s);   /* closes every connection, unlinks the path */

/* Queue bytes to the client and write what the socket takes now. Returns
 * false if the connection is dead (overflow, write error): it stays valid
 * until the current callback returns, but nothing more will be sent. */
bool ctl_conn_send(ctl_conn_t *c, const char *data, size_t len);
uid_t ctl_conn_uid(const ctl_conn_t *c);
void ctl_conn_set_user(ctl_conn_t *c, void *user);
void *ctl_conn_user(const ctl_conn_t *c);

#endif

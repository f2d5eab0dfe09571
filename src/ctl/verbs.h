/* verbs.h — the control protocol's verbs: parse, check the role, act, reply.
 *
 * Each connection has an identity: root or callqd's own uid start as admin;
 * anyone else must `auth LOGIN PASSWORD`. Every verb declares the least role
 * it needs; managers are further limited to queues they manage, agents to
 * themselves. A change is written to SQLite and applied to the engine before
 * the reply is sent, so "OK" means it is stored and in force.
 */
#ifndef CALLQ_VERBS_H
#define CALLQ_VERBS_H

#include "ctl/server.h"

/* ctl_line_fn and ctl_close_fn for ctl_server_new; ctx is the struct app. */
void verbs_line(void *ctx, ctl_conn_t *c, char *line);
void verbs_close(void *ctx, ctl_conn_t *c);
/* Gives connection `to` the identity `from` has (login, role, authenticated):
 * the HTTP API runs each request on a virtual connection of its own with its
 * session's identity. False if out of memory. */
bool verbs_share_identity(ctl_conn_t *to, ctl_conn_t *from);

#endif

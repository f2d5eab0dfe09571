/* events.h — the live event stream behind `subscribe`.
 *
 * app.c publishes every engine event (ACT_EVENT) here, on the SIP loop. Each
 * subscriber connection gets the events of the queues it asked for (all if
 * none) as "EVENT <name> k=v..." lines through ctl_conn_send. A subscriber
 * that does not read is dropped when its bounded output buffer fills: the
 * engine never waits for a slow wallboard.
 */
#ifndef CALLQ_EVENTS_H
#define CALLQ_EVENTS_H

#include <stdbool.h>

#include "acd/engine.h"
#include "ctl/server.h"

typedef struct events events_t;

events_t *events_new(void);
void events_free(events_t *ev);
/* Adds a subscriber for these queue ids (n = 0: all queues). With `self`
 * set (an agent), events naming another member come only from queues with
 * show_agents=yes: agents see only themselves otherwise, as in queue.members. */
int events_subscribe(events_t *ev, ctl_conn_t *c, const eng_id *queues, size_t n, eng_id self);
/* Forgets a connection (called from the control server's close callback). */
void events_unsubscribe(events_t *ev, ctl_conn_t *c);
/* Sends one engine event to every interested subscriber; `e` names ids. */
void events_publish(events_t *ev, const engine_t *e, const struct eng_action *a);

#endif

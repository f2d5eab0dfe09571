/* queuelog.h — an Asterisk-compatible queue_log file, for the tools that
 * read one (`time|callid|queue|agent|VERB|data1|data2|...`).
 *
 * queuelog_event runs on the SIP loop after every engine event: it turns the
 * event into zero, one or two lines (the mapping is a table in the README)
 * and copies them into a bounded ring; a writer thread appends the ring to
 * the file, so the loop never waits for the disk. When the ring is full
 * lines are dropped and counted. callid is "<start>.<call id>" (callqd's
 * start time in unix seconds, then the engine's call id), unique across
 * restarts like Asterisk's uniqueid; an absent queue or agent is "NONE".
 * The file is opened O_APPEND|O_CREAT|O_NOFOLLOW, mode 0600.
 */
#ifndef CALLQ_QUEUELOG_H
#define CALLQ_QUEUELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acd/engine.h"

#define QUEUELOG_LINE_MAX 512
#define QUEUELOG_RING 4096

typedef struct queuelog queuelog_t;

/* Opens (creates) the file, writes QUEUESTART, starts the writer. */
queuelog_t *queuelog_open(const char *path, int64_t start_unix, char *err, size_t errlen);
/* Writes everything queued, stops the writer, closes. */
void queuelog_close(queuelog_t *q);
/* An engine event (ACT_EVENT) at wall-clock wall_ms; names and positions
 * are read from the engine (the call is still there for call.enter). */
void queuelog_event(queuelog_t *q, const engine_t *e, int64_t wall_ms, const struct eng_action *ev);
/* queue.assign of a new member (ADDMEMBER|PAUSED or ADDMEMBER|) or
 * queue.unassign (REMOVEMEMBER|): configuration, not engine events, so the
 * verbs call this; the line goes through the same ring and writer. */
void queuelog_member(queuelog_t *q, int64_t wall_ms, const char *queue, const char *login,
                     bool added, bool paused);
/* The call left the engine (ACT_RELEASE): its remembered times go. */
void queuelog_release(queuelog_t *q, eng_id call);
uint64_t queuelog_dropped(queuelog_t *q);

/* One line with its '\n' into buf: fields joined by '|', a '|' or a line
 * break inside a field replaced by a space. Returns its length, 0 if it
 * does not fit. */
size_t queuelog_format(char *buf, size_t cap, int64_t t_unix, const char *callid,
                       const char *queue, const char *agent, const char *verb,
                       const char *const *data, size_t ndata);

#endif

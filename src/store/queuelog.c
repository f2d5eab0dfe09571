/* queuelog.c — see queuelog.h. */
#include "store/queuelog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/idmap.h"
#include "core/log.h"

/* What a call's later lines need from its earlier events. */
struct ql_call {
	eng_ms entered;             /* first entry (waits count from there) */
	eng_ms offered;             /* the ring now in progress, 0 if none */
	eng_ms hold_ms;             /* entry to answer */
	unsigned origpos;           /* position on entering its current queue */
};

struct queuelog {
	int fd;
	int64_t start_unix;
	struct idmap calls;         /* call id -> struct ql_call */
	struct idmap logins;        /* member id -> login time (eng_ms) */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	size_t head, count;         /* ring[head .. head + count) pending */
	uint64_t dropped;
	char ring[QUEUELOG_RING][QUEUELOG_LINE_MAX];
};

size_t queuelog_format(char *buf, size_t cap, int64_t t_unix, const char *callid,
                       const char *queue, const char *agent, const char *verb,
                       const char *const *data, size_t ndata)
{
	size_t n = 0;
	int w = snprintf(buf, cap, "%" PRId64, t_unix);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	n = (size_t)w;
	const char *fixed[] = { callid, queue, agent, verb };
	for (size_t i = 0; i < 4 + ndata; i++) {
		const char *f = i < 4 ? fixed[i] : data[i - 4];
		f = f ? f : "";
		size_t len = strlen(f);
		if (n + 1 + len + 1 >= cap)
			return 0;
		buf[n++] = '|';
		for (size_t k = 0; k < len; k++)
			buf[n++] = f[k] == '|' || f[k] == '\n' || f[k] == '\r' ? ' ' : f[k];
	}
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* ---- the writer ---- */

static void *ql_writer(void *arg)
{
	queuelog_t *q = arg;
	static char batch[64 * QUEUELOG_LINE_MAX];
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->count && !q->stop)
			pthread_cond_wait(&q->wake, &q->lock);
		if (!q->count && q->stop)
			break;
		size_t len = 0;
		while (q->count && len + QUEUELOG_LINE_MAX <= sizeof batch) {
			const char *line = q->ring[q->head];
			size_t l = strlen(line);
			memcpy(batch + len, line, l);
			len += l;
			q->head = (q->head + 1) % QUEUELOG_RING;
			q->count--;
		}
		pthread_mutex_unlock(&q->lock);
		for (size_t off = 0; off < len;) {
			ssize_t w = write(q->fd, batch + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				log_error("queuelog", "write: %s: %zu bytes lost", strerror(errno), len - off);
				break;
			}
			off += (size_t)w;
		}
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void ql_push(queuelog_t *q, const char *line)
{
	pthread_mutex_lock(&q->lock);
	if (q->count == QUEUELOG_RING) {
		q->dropped++;
	} else {
		snprintf(q->ring[(q->head + q->count) % QUEUELOG_RING], QUEUELOG_LINE_MAX, "%s", line);
		q->count++;
		pthread_cond_signal(&q->wake);
	}
	pthread_mutex_unlock(&q->lock);
}

queuelog_t *queuelog_open(const char *path, int64_t start_unix, char *err, size_t errlen)
{
	queuelog_t *q = calloc(1, sizeof *q);
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (q->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(q);
		return NULL;
	}
	q->start_unix = start_unix;
	idmap_init(&q->calls);
	idmap_init(&q->logins);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	if (pthread_create(&q->thread, NULL, ql_writer, q) != 0) {
		snprintf(err, errlen, "cannot start the queue_log writer");
		close(q->fd);
		idmap_free(&q->calls);
		idmap_free(&q->logins);
		free(q);
		return NULL;
	}
	char line[QUEUELOG_LINE_MAX];
	if (queuelog_format(line, sizeof line, start_unix, "NONE", "NONE", "NONE", "QUEUESTART", NULL, 0))
		ql_push(q, line);
	return q;
}

void queuelog_close(queuelog_t *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	if (q->dropped)
		log_warn("queuelog", "%" PRIu64 " lines dropped: the disk was too slow", q->dropped);
	close(q->fd);
	for (uint32_t c; (c = idmap_any(&q->calls)) != 0;)
		free(idmap_del(&q->calls, c));
	idmap_free(&q->calls);
	idmap_free(&q->logins);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->wake);
	free(q);
}

uint64_t queuelog_dropped(queuelog_t *q)
{
	pthread_mutex_lock(&q->lock);
	uint64_t n = q->dropped;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* ---- events to lines ---- */

struct ql_line {
	queuelog_t *q;
	int64_t t;
	char callid[32];
	const char *queue, *agent;
};

static void ql_emit(struct ql_line *l, const char *verb, const char *const *data, size_t n)
{
	char line[QUEUELOG_LINE_MAX];
	if (queuelog_format(line, sizeof line, l->t, l->callid, l->queue, l->agent, verb, data, n))
		ql_push(l->q, line);
}

static struct ql_call *ql_call(queuelog_t *q, eng_id call)
{
	struct ql_call *c = idmap_get(&q->calls, call);
	if (c || !call)
		return c;
	c = calloc(1, sizeof *c);
	if (c && idmap_put(&q->calls, call, c) < 0) {
		free(c);
		c = NULL;
	}
	return c;
}

static void ql_secs(char *buf, size_t cap, eng_ms ms)
{
	snprintf(buf, cap, "%lld", (long long)((ms < 0 ? 0 : ms) / 1000));
}

/* ENTERQUEUE|url|callerid|position in the queue the call is in now. */
static void ql_enter(struct ql_line *l, const engine_t *e, const struct eng_action *ev,
                     struct ql_call *c)
{
	struct eng_call_view cv = { .position = 1 };
	char pos[16];
	bool known = engine_call_view(e, ev->at, ev->call, &cv);
	c->origpos = cv.position ? cv.position : 1;
	snprintf(pos, sizeof pos, "%u", c->origpos);
	const char *data[] = { "", known ? cv.caller_number : "", pos };
	ql_emit(l, "ENTERQUEUE", data, 3);
}

/* ABANDON, EXITWITHTIMEOUT, EXITEMPTY: position|origposition|waittime. The
 * call has left when the event is seen: its position is the one it had on
 * entering. */
static void ql_exit(struct ql_line *l, const char *verb, const struct ql_call *c, eng_ms now)
{
	char pos[16], wait[24];
	snprintf(pos, sizeof pos, "%u", c->origpos);
	ql_secs(wait, sizeof wait, now - c->entered);
	const char *data[] = { pos, pos, wait };
	ql_emit(l, verb, data, 3);
}

static void ql_exit_key(struct ql_line *l, const struct ql_call *c, eng_ms now)
{
	char pos[16], wait[24];
	snprintf(pos, sizeof pos, "%u", c->origpos);
	ql_secs(wait, sizeof wait, now - c->entered);
	const char *data[] = { "0", pos, pos, wait };
	ql_emit(l, "EXITWITHKEY", data, 4);
}

static void ql_answer(struct ql_line *l, struct ql_call *c, const struct eng_action *ev)
{
	char hold[24], ring[24];
	c->hold_ms = ev->value;
	ql_secs(hold, sizeof hold, ev->value);
	ql_secs(ring, sizeof ring, c->offered ? ev->at - c->offered : 0);
	c->offered = 0;
	const char *data[] = { hold, l->callid, ring };
	ql_emit(l, "CONNECT", data, 3);
}

/* COMPLETECALLER when the caller hung up, COMPLETEAGENT when the agent's
 * side or an operator did; a transfer is written as TRANSFER alone (the
 * EV_CALL_TRANSFER that follows), as Asterisk does. */
static void ql_end(struct ql_line *l, const struct ql_call *c, const struct eng_action *ev)
{
	char hold[24], talk[24], pos[16];
	if (!strcmp(ev->reason, "transfer"))
		return;
	ql_secs(hold, sizeof hold, c->hold_ms);
	ql_secs(talk, sizeof talk, ev->value);
	snprintf(pos, sizeof pos, "%u", c->origpos);
	const char *data[] = { hold, talk, pos };
	ql_emit(l, strcmp(ev->reason, "caller") ? "COMPLETEAGENT" : "COMPLETECALLER", data, 3);
}

static void ql_miss(struct ql_line *l, struct ql_call *c, eng_ms now)
{
	char ring[24];
	snprintf(ring, sizeof ring, "%lld", (long long)(c->offered ? now - c->offered : 0));
	c->offered = 0;
	const char *data[] = { ring };
	ql_emit(l, "RINGNOANSWER", data, 1);
}

static void ql_transfer(struct ql_line *l, const struct ql_call *c, const struct eng_action *ev)
{
	char hold[24], talk[24], pos[16];
	bool talked = c->hold_ms > 0;
	ql_secs(hold, sizeof hold, talked ? c->hold_ms : ev->at - c->entered);
	ql_secs(talk, sizeof talk, talked ? ev->at - c->entered - c->hold_ms : 0);
	snprintf(pos, sizeof pos, "%u", c->origpos);
	const char *data[] = { ev->reason, "", hold, talk, pos };
	ql_emit(l, "TRANSFER", data, 5);
}

/* The call moved to another queue: it leaves this one, enters that one. */
static void ql_escalate(struct ql_line *l, const engine_t *e, struct ql_call *c,
                        const struct eng_action *ev)
{
	const char *why = ev->reason;
	if (!strcmp(why, "timeout"))
		ql_exit(l, "EXITWITHTIMEOUT", c, ev->at);
	else if (!strcmp(why, "empty") || !strcmp(why, "noskill"))
		ql_exit(l, "EXITEMPTY", c, ev->at);
	else if (!strcmp(why, "limit"))
		ql_emit(l, "FULL", NULL, 0);
	const struct eng_queue_conf *to = engine_queue_conf(e, (eng_id)ev->value);
	l->queue = to ? to->name : "NONE";
	ql_enter(l, e, ev, c);
}

static void ql_agent(struct ql_line *l, queuelog_t *q, const struct eng_action *ev)
{
	char since[24];
	switch (ev->event) {
	case EV_AGENT_LOGIN:
		idmap_put(&q->logins, ev->member, (void *)(intptr_t)(ev->at ? ev->at : 1));
		ql_emit(l, "AGENTLOGIN", (const char *const[]){ l->agent }, 1);
		break;
	case EV_AGENT_LOGOUT: {
		eng_ms at = (eng_ms)(intptr_t)idmap_del(&q->logins, ev->member);
		ql_secs(since, sizeof since, at ? ev->at - at : 0);
		ql_emit(l, "AGENTLOGOFF", (const char *const[]){ l->agent, since }, 2);
		break;
	}
	case EV_AGENT_AWAY:
		ql_emit(l, "PAUSEALL", (const char *const[]){ ev->reason }, 1);
		break;
	case EV_AGENT_READY:
		ql_emit(l, "UNPAUSEALL", NULL, 0);
		break;
	case EV_AGENT_PAUSE:
		ql_emit(l, "PAUSE", (const char *const[]){ ev->reason }, 1);
		break;
	case EV_AGENT_RESUME:
		ql_emit(l, "UNPAUSE", (const char *const[]){ ev->reason }, 1);
		break;
	default:
		break;
	}
}

/* Callbacks have no Asterisk verb: CALLBACK* lines of our own. */
static void ql_callback(struct ql_line *l, const struct ql_call *c, const struct eng_action *ev)
{
	char v[24], wait[24];
	snprintf(v, sizeof v, "%lld", (long long)ev->value);
	switch (ev->event) {
	case EV_CALLBACK_REQUEST:
		ql_secs(wait, sizeof wait, ev->at - c->entered);
		ql_emit(l, "CALLBACKREQUEST", (const char *const[]){ ev->reason, v, wait }, 3);
		break;
	case EV_CALLBACK_ATTEMPT:
		ql_emit(l, "CALLBACKATTEMPT", (const char *const[]){ v }, 1);
		break;
	case EV_CALLBACK_RETRY:
		ql_secs(wait, sizeof wait, ev->value);
		ql_emit(l, "CALLBACKRETRY", (const char *const[]){ ev->reason, wait }, 2);
		break;
	case EV_CALLBACK_REACHED:
		ql_emit(l, "CALLBACKREACHED", (const char *const[]){ v }, 1);
		break;
	case EV_CALLBACK_FAILED:
		ql_emit(l, "CALLBACKFAILED", (const char *const[]){ ev->reason, v }, 2);
		break;
	case EV_CALLBACK_MOVE:
		ql_emit(l, "CALLBACKMOVE", (const char *const[]){ v }, 1);
		break;
	default:
		break;
	}
}

static void ql_call_event(struct ql_line *l, const engine_t *e, struct ql_call *c,
                          const struct eng_action *ev)
{
	switch (ev->event) {
	case EV_CALL_ENTER:
		c->entered = ev->at;
		ql_enter(l, e, ev, c);
		break;
	case EV_CALL_REFUSED:
		if (!strcmp(ev->reason, "limit"))
			ql_emit(l, "FULL", NULL, 0);
		else if (!strcmp(ev->reason, "empty"))
			ql_emit(l, "JOINEMPTY", NULL, 0);
		break;
	case EV_CALL_OFFER:
		c->offered = ev->at;
		break;
	case EV_CALL_MISS:
		ql_miss(l, c, ev->at);
		break;
	case EV_CALL_ANSWER:
		ql_answer(l, c, ev);
		break;
	case EV_CALL_END:
		ql_end(l, c, ev);
		break;
	case EV_CALL_ABANDON:
		if (!strcmp(ev->reason, "zero_out"))
			ql_exit_key(l, c, ev->at);
		else
			ql_exit(l, "ABANDON", c, ev->at);
		break;
	case EV_CALL_TIMEOUT:
		ql_exit(l, "EXITWITHTIMEOUT", c, ev->at);
		break;
	case EV_CALL_ESCALATE:
		ql_escalate(l, e, c, ev);
		break;
	case EV_CALL_TRANSFER:
		ql_transfer(l, c, ev);
		break;
	default:
		ql_callback(l, c, ev);
		break;
	}
}

void queuelog_event(queuelog_t *q, const engine_t *e, int64_t wall_ms, const struct eng_action *ev)
{
	const struct eng_queue_conf *qc = ev->queue ? engine_queue_conf(e, ev->queue) : NULL;
	struct eng_member_view mv = { .login = "" };
	struct ql_line l = { .q = q, .t = wall_ms / 1000, .queue = qc ? qc->name : "NONE" };
	if (ev->member)
		engine_member_view(e, ev->at, ev->member, &mv);
	l.agent = mv.login[0] ? mv.login : "NONE";
	if (!ev->call) {
		snprintf(l.callid, sizeof l.callid, "NONE");
		ql_agent(&l, q, ev);
		return;
	}
	snprintf(l.callid, sizeof l.callid, "%" PRId64 ".%u", q->start_unix, ev->call);
	struct ql_call *c = ql_call(q, ev->call);
	if (c)
		ql_call_event(&l, e, c, ev);
}

void queuelog_release(queuelog_t *q, eng_id call)
{
	free(idmap_del(&q->calls, call));
}

void queuelog_member(queuelog_t *q, int64_t wall_ms, const char *queue, const char *login,
                     bool added, bool paused)
{
	struct ql_line l = { .q = q, .t = wall_ms / 1000, .queue = queue, .agent = login };
	snprintf(l.callid, sizeof l.callid, "NONE");
	if (added)
		ql_emit(&l, "ADDMEMBER", (const char *const[]){ paused ? "PAUSED" : "" }, 1);
	else
		ql_emit(&l, "REMOVEMEMBER", (const char *const[]){ "" }, 1);
}

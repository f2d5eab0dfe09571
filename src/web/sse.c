/* sse.c — GET /api/events: the `subscribe` stream as Server-Sent Events.
 *
 * Each stream is a virtual control connection that ran `subscribe [QUEUE..]`
 * with the session's identity, so events.c applies the same visibility rules
 * as on the socket. Its event lines are turned into SSE text in a bounded
 * buffer that MHD reads from a content-reader callback; with nothing to read
 * the callback suspends the connection, and the next event resumes it. A
 * browser that lets WEB_SSE_BUFFER bytes pile up is dropped: the sink refuses
 * the event, events.c forgets the subscriber, the stream ends. */
#include "web/web_int.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/clock.h"
#include "ctl/proto.h"
#include "ctl/verbs.h"

#define SSE_QUEUES_MAX 16

static void sse_wake(struct web_stream *st)
{
	if (st->suspended) {
		st->suspended = false;
		MHD_resume_connection(st->mc);
		web_kick(st->w);
	}
}

static void sse_finish(struct web_stream *st)
{
	st->finished = true;
	sse_wake(st);
}

static bool sse_write(void *arg, const char *data, size_t len)
{
	struct web_stream *st = arg;
	if (!st->subscribed) {
		jbuf_raw(&st->reply, data, len);
		return !st->reply.failed;
	}
	if (st->finished)
		return false;
	if (st->off && st->off == st->out.len)
		st->off = st->out.len = 0;
	if (!api_event_sse(data, len, &st->out)) {
		sse_finish(st);         /* not reading: dropped */
		return false;
	}
	sse_wake(st);
	return true;
}

static void sse_resumed(void *arg)
{
	(void)arg;
}

static void sse_ended(void *arg)
{
	sse_finish(arg);
}

static const struct ctl_sink sse_sink = { sse_write, sse_resumed, sse_ended };

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct web_stream *st = cls;
	(void)pos;
	if (st->off < st->out.len) {
		size_t n = st->out.len - st->off;
		n = n < max ? n : max;
		memcpy(buf, st->out.buf + st->off, n);
		st->off += n;
		if (st->off == st->out.len)
			st->off = st->out.len = 0;
		return (ssize_t)n;
	}
	if (st->finished)
		return MHD_CONTENT_READER_END_OF_STREAM;
	st->suspended = true;
	MHD_suspend_connection(st->mc);
	return 0;
}

static void sse_free(void *cls)
{
	struct web_stream *st = cls;
	web_t *w = st->w;
	for (struct web_stream **pp = &w->streams; *pp; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			w->nstreams--;
			break;
		}
	}
	if (st->conn)
		ctl_conn_detach(st->conn);
	jbuf_free(&st->reply);
	jbuf_free(&st->out);
	free(st);
}

struct sse_queues {
	struct ctl_out *o;
	unsigned n;
};

static enum MHD_Result sse_queue_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct sse_queues *q = cls;
	(void)kind;
	if (key && value && !strcmp(key, "queue") && q->n < SSE_QUEUES_MAX) {
		ctl_out_word(q->o, value);
		q->n++;
	}
	return MHD_YES;
}

enum MHD_Result sse_open(web_t *w, struct web_session *s, struct MHD_Connection *mc)
{
	char line[CTL_LINE_MAX + 1];
	struct ctl_out o;
	ctl_out_init(&o, line, sizeof line);
	ctl_out_raw(&o, "subscribe");
	struct sse_queues q = { &o, 0 };
	MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, sse_queue_arg, &q);
	if (o.truncated)
		return web_send_error(mc, 400, "usage", "too many queues");
	struct web_stream *st = calloc(1, sizeof *st);
	if (!st)
		return web_send_error(mc, 500, "internal", "out of memory");
	st->w = w;
	st->sess = s;
	st->mc = mc;
	jbuf_init(&st->reply, 4096);
	jbuf_init(&st->out, WEB_SSE_BUFFER);
	st->conn = ctl_server_attach(w->app->ctl, &sse_sink, st);
	if (!st->conn || !verbs_share_identity(st->conn, s->conn)) {
		sse_free(st);
		return web_send_error(mc, 500, "internal", "out of memory");
	}
	st->next = w->streams;
	w->streams = st;
	w->nstreams++;
	ctl_conn_line(st->conn, line);
	if (st->reply.len < 3 || strncmp(st->reply.buf, "OK ", 3)) {
		struct jbuf j;
		jbuf_init(&j, 4096);
		int status = api_reply(st->reply.buf ? st->reply.buf : "", st->reply.len, false, &j);
		enum MHD_Result rc = web_send(mc, (unsigned)status, "application/json; charset=utf-8",
		                              j.buf ? j.buf : "{}", j.buf ? j.len : 2, NULL);
		jbuf_free(&j);
		sse_free(st);
		return rc;
	}
	st->subscribed = true;
	jbuf_lit(&st->out, "retry: 3000\n: subscribed\n\n");
	struct MHD_Response *r =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, st, sse_free);
	if (!r) {
		sse_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result rc = MHD_queue_response(mc, 200, r);
	MHD_destroy_response(r);
	return rc;
}

void sse_keepalive(web_t *w)
{
	eng_ms now = clock_mono_ms();
	for (struct web_stream *st = w->streams; st; st = st->next) {
		if (!st->subscribed || st->finished)
			continue;
		if (!st->sess) {
			sse_finish(st);
			continue;
		}
		st->sess->last_ms = now;    /* an open wallboard is an active session */
		jbuf_lit(&st->out, ": keep-alive\n\n");
		if (st->out.failed)
			sse_finish(st);
		else
			sse_wake(st);
	}
}

void sse_end_session(web_t *w, const struct web_session *s)
{
	for (struct web_stream *st = w->streams; st; st = st->next) {
		if (st->sess == s) {
			st->sess = NULL;
			sse_finish(st);
		}
	}
}

void sse_shutdown(web_t *w)
{
	for (struct web_stream *st = w->streams; st; st = st->next)
		sse_finish(st);
}

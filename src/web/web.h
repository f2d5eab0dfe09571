/* web.h — HTTP inside callqd: the JSON API, the live event feed, Prometheus
 * metrics and the embedded browser pages.
 *
 * http.c runs libmicrohttpd without a thread of its own (MHD_USE_EPOLL): its
 * epoll fd is registered in the su_root loop, MHD_run is called when it is
 * readable and when MHD_get_timeout expires (an su_timer), so the engine
 * keeps one owning thread and needs no lock.
 *
 * One permission table: `POST /api/VERB` with a JSON object becomes a control
 * line (api.c: "args" are the bare words in order, every other member a
 * key=value), run through the control verbs (ctl/verbs.h) on a virtual
 * connection (ctl_server_attach) that has the HTTP session's identity; the
 * reply lines ("OK", "OK text", "OK n rows" + rows, "ERR code msg") are
 * turned back into JSON. Slow verbs answer later on a worker thread: the
 * HTTP request is suspended (MHD_suspend_connection) until then.
 *
 * Sessions: `POST /api/login` runs `auth LOGIN PASSWORD` (same hash check off
 * the loop, same per-login throttle) on a virtual connection that then holds
 * the session's identity; the browser gets a random 128-bit cookie (HttpOnly,
 * SameSite=Strict, Secure under HTTPS) and a CSRF token it must send in
 * X-CSRF-Token with every later POST. A session ends at logout, after
 * WEB_SESSION_IDLE_S without a request, or when the verbs end the member's
 * sessions (demotion, deletion: ctl_conn_end reaches the sink). At most
 * WEB_SESSIONS_MAX; a new login beyond that ends the least recently used.
 *
 * `GET /api/events` (sse.c) is the `subscribe` stream of the session's
 * member as Server-Sent Events, through a bounded buffer: a browser that does
 * not read is dropped, the engine never waits. `GET /metrics` (metrics.c) is
 * Prometheus text. `GET /api/recording?id=N[&download=1]` (recording.c)
 * streams a finished recording's WAV file: it runs `recordings id=N` on the
 * session's identity (the verb's own permission check: admin all, a member
 * its own, a manager its queues'), then opens the row's path only if it is
 * a plain name inside the configured recordings folder, with O_NOFOLLOW, and
 * a regular file. Every other GET is a file embedded from src/web/pages/
 * (GET / is index.html).
 */
#ifndef CALLQ_WEB_H
#define CALLQ_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acd/engine.h"
#include "report/report.h"

struct app;

#define WEB_SESSIONS_MAX 64
#define WEB_SESSION_IDLE_S (8 * 3600)
#define WEB_BODY_MAX (64 * 1024)       /* request bodies */
#define WEB_REPLY_MAX (512 * 1024)     /* a reply of 256 KiB of rows, as JSON */
#define WEB_SSE_BUFFER (256 * 1024)    /* per event stream, as for socket subscribers */
#define WEB_SSE_KEEPALIVE_S 15

/* ---- http.c ---- */
typedef struct web web_t;
/* Starts listening on the configured http_listen:http_port (HTTPS when
 * http_cert and http_key are set). NULL with a reason in err. */
web_t *web_new(struct app *a, char *err, size_t errlen);
/* Ends every stream and session; before ctl_server_free. */
void web_free(web_t *w);

/* ---- json.c: a growing output buffer and a reader for flat objects ---- */
struct jbuf {
	char *buf;
	size_t len, cap, max;
	bool failed;                /* out of memory or over max: the text is incomplete */
};
void jbuf_init(struct jbuf *b, size_t max);
void jbuf_free(struct jbuf *b);
void jbuf_raw(struct jbuf *b, const char *s, size_t n);
void jbuf_lit(struct jbuf *b, const char *s);
void jbuf_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included; invalid UTF-8 bytes become U+FFFD. */
void jbuf_str(struct jbuf *b, const char *s, size_t n);

/* Called for each scalar of a JSON object: a member's value (index -1) or
 * the elements of a member's array (index 0, 1, ...). Strings are unescaped,
 * numbers as written, true/false as "yes"/"no". Returns false to stop. */
typedef bool (*json_member_fn)(void *ctx, const char *key, int index, const char *value);
/* Reads one object whose members are strings, numbers, booleans or arrays of
 * them (nothing nested deeper, no null, no NUL characters, keys at most 63
 * bytes). 0, or -1 with a reason in *err. */
int json_object_read(const char *text, size_t len, json_member_fn fn, void *ctx, const char **err);

/* ---- api.c: JSON request <-> control line ---- */
/* The control line for POST /api/VERB with this body (empty body = {}).
 * 0, or -1 with a message in err (a usage error). */
int api_line(const char *verb, const char *body, size_t len, char *line, size_t cap, char *err,
             size_t errlen);
/* Converts a complete control reply into JSON; returns the HTTP status.
 * raw_rows: the rows are not key=value (report format=csv), give them as
 * one "text". */
int api_reply(const char *reply, size_t len, bool raw_rows, struct jbuf *out);
/* HTTP status for an ERR code. */
int api_status(const char *code);
/* An error reply {"ok":false,"error":{...}}. */
void api_error(struct jbuf *out, const char *code, const char *msg);
/* Reads `key=value ...` (the control protocol's quoting) from *p, one pair
 * per call; a bare word has key "". False at the end of the line or on bad
 * quoting. */
bool api_kv_next(const char **p, char *key, size_t kcap, char *val, size_t vcap);
/* One event line ("EVENT name k=v ...") as SSE: "event: name\ndata: {..}\n\n". */
bool api_event_sse(const char *line, size_t len, struct jbuf *out);

/* ---- recording.c ---- */
/* Reads the reply to `recordings id=N`: 0 with the file's path if the row
 * is there and done; else -1 with the ERR code ("notfound" for a row not
 * done, "internal" for a reply that makes no sense). */
int recording_reply(const char *reply, size_t len, char *code, size_t ccap, char *path,
                    size_t pcap);
/* Opens path for reading if it is dir + "/" + a name (no further '/', not
 * starting with '.'), not a symbolic link, and a regular file: the fd and
 * its size, or -1 with errno (EACCES when refused, ENOENT when missing). */
int recording_open(const char *dir, const char *path, uint64_t *size);

/* ---- metrics.c ---- */
typedef struct metrics metrics_t;
metrics_t *metrics_new(void);
void metrics_free(metrics_t *m);
/* Counts an engine event (ACT_EVENT) since start, through report_count_call
 * like `stats` and reports do; answered waits go into the histogram. */
void metrics_event(metrics_t *m, const engine_t *e, const struct eng_action *ev);
/* Upper bounds of the wait histogram, seconds (then +Inf). */
#define METRICS_WAIT_BUCKETS 10
extern const unsigned metrics_wait_le[METRICS_WAIT_BUCKETS];

/* One queue's figures for the text format. */
struct metrics_queue_view {
	const char *name;
	unsigned waiting, ready, busy, away;
	int64_t longest_wait_ms;              /* of the calls waiting now */
	struct report_row totals;             /* since start */
	uint64_t wait_le[METRICS_WAIT_BUCKETS]; /* cumulative counts per bound */
};
struct metrics_process_view {
	unsigned calls, legs;
	uint64_t rx_packets, tx_packets, tx_errors, late_ticks, skipped_ticks, ticks;
	uint64_t rx_foreign;                          /* RTP from strangers, dropped */
	uint64_t sip_refused, sip_shut_out, sip_guarded;  /* sip.h's sipua_refusals */
	unsigned web_sessions, web_streams;
	uint64_t journal_dropped, queue_log_dropped;  /* records their full rings refused */
};
/* The queue's counters since start (zeroes if none yet). */
void metrics_queue_totals(const metrics_t *m, eng_id q, struct report_row *totals,
                          uint64_t wait_le[METRICS_WAIT_BUCKETS]);
/* Prometheus text format 0.0.4. */
void metrics_format(struct jbuf *out, const struct metrics_queue_view *qs, size_t nq,
                    const struct metrics_process_view *p);
/* Every figure of the running daemon. */
void metrics_render(const struct app *a, struct jbuf *out, unsigned sessions, unsigned streams);

#endif

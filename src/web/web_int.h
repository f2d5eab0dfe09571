/* web_int.h — shared by http.c and sse.c: the server, its sessions and
 * event streams, and the embedded pages (build/gen/web_embed.c). */
#ifndef CALLQ_WEB_INT_H
#define CALLQ_WEB_INT_H

#include <microhttpd.h>

#include "ctl/server.h"
#include "web/web.h"

struct web_session {
	bool used;
	bool ended;                 /* the verbs ended it (demotion, deletion) */
	char id[33], csrf[33];      /* 128-bit random, hex */
	char login[ENG_NAME_MAX];
	ctl_conn_t *conn;           /* a virtual connection holding the identity */
	eng_ms last_ms;             /* last request (or open stream) */
};

struct web_stream {
	struct web_stream *next;
	web_t *w;
	struct web_session *sess;   /* NULL once the session is gone */
	struct MHD_Connection *mc;
	ctl_conn_t *conn;           /* the subscriber */
	struct jbuf reply;          /* the reply to `subscribe` */
	bool subscribed;            /* after that reply, lines are events */
	struct jbuf out;            /* SSE text not yet read by MHD */
	size_t off;
	bool suspended, finished;
};

struct web {
	struct app *app;
	struct MHD_Daemon *d;
	int index;                  /* su_root registration of MHD's epoll fd */
	su_wait_t wait;
	su_timer_t *timer;          /* MHD_get_timeout */
	su_timer_t *keepalive;      /* SSE comments, session expiry */
	bool tls;
	char *cert, *key;
	struct web_session sessions[WEB_SESSIONS_MAX];
	struct web_req *reqs;       /* requests in progress */
	struct web_stream *streams;
	unsigned nstreams;
};

/* sse.c */
/* GET /api/events for session s; queues from ?queue=.. (at most 16). */
enum MHD_Result sse_open(web_t *w, struct web_session *s, struct MHD_Connection *mc);
/* A comment line to every stream; ends those whose session is gone. */
void sse_keepalive(web_t *w);
/* Ends the streams of session s (logout, expiry). */
void sse_end_session(web_t *w, const struct web_session *s);
/* Shutdown: lets every suspended stream finish. */
void sse_shutdown(web_t *w);

/* http.c */
/* Runs MHD on the next loop turn: after MHD_resume_connection, whose wake-up
 * through MHD's epoll fd is not to be relied on in external-poll mode. */
void web_kick(web_t *w);
enum MHD_Result web_send(struct MHD_Connection *mc, unsigned status, const char *type,
                         const char *body, size_t len, const char *cookie);
enum MHD_Result web_send_error(struct MHD_Connection *mc, unsigned status, const char *code,
                               const char *msg);

/* build/gen/web_embed.c (scripts/embed-files.sh) */
struct web_file {
	const char *path;           /* relative to src/web/pages/ */
	const unsigned char *data;
	size_t len;
};
extern const struct web_file web_files[];
extern const size_t web_nfiles;

#endif

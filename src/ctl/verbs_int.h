/* verbs_int.h — shared by the control verbs' files (verbs*.c): the
 * per-request context, the verb table entry, and reply/lookup helpers.
 * Each verbs_AREA.c defines one table; verbs.c dispatches over all of them. */
#ifndef CALLQ_VERBS_INT_H
#define CALLQ_VERBS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "acd/engine.h"
#include "app/app.h"
#include "ctl/proto.h"
#include "ctl/verbs.h"
#include "ctl/worker.h"
#include "store/store.h"

/* role is looked up again at every request (verbs_line): a demotion takes
 * effect at once, a deleted member's session is no longer authenticated. */
struct session {
	bool authed;
	enum eng_role role;
	char login[ENG_NAME_MAX];   /* "" for the local administrator (uid) */
};

struct vctx {
	struct app *app;
	ctl_conn_t *conn;
	struct session *who;
	const struct ctl_req *req;
	struct ctl_out rows;
	unsigned nrows;
	bool replied;
	eng_ms now;
};

enum need { NEED_NONE, NEED_AGENT, NEED_MANAGER, NEED_ADMIN };

struct verb {
	const char *name;
	enum need need;
	void (*fn)(struct vctx *v);
	const char *usage;
};

/* Slow verbs (auth, report, activity, media.import) finish off the SIP loop:
 * the verb checks permissions on the loop, copies what the work needs into
 * the job's argument block (v_job_new: zeroed, `size` bytes; the request
 * line does not outlive the verb) and calls v_async. `run` then executes on
 * a worker thread and may only read its argument, fill j->v's rows (v_row)
 * or set j->code/j->msg; `finish` executes back on the loop with j->v.conn
 * and j->v.who current again — or j->v.conn NULL if the connection has gone
 * (nothing is sent then) — and replies. Until then the connection's next
 * lines wait. The argument block is wiped before it is freed. */
struct vjob {
	struct worker_job w;
	uint64_t conn;
	struct vctx v;
	char code[16], msg[256];   /* an error from run, or "" */
	void (*run)(struct vjob *j);
	void (*finish)(struct vjob *j);
	char *rowbuf;
	size_t size;
	void *arg;
};
struct vjob *v_job_new(struct vctx *v, size_t size, bool rows, void (*run)(struct vjob *j),
                       void (*finish)(struct vjob *j));
/* Submits j and holds the connection; false (j freed, ERR busy replied) when
 * the workers' queue is full. */
bool v_async(struct vctx *v, struct vjob *j);
/* The session of a connection, made on first use (root and our uid: admin). */
struct session *v_session(ctl_conn_t *c);
/* Closes every control connection authenticated as login (after the replies
 * queued on it are written), ending its event stream too: called when the
 * member is demoted, deleted, loses a queue or gets a new control password. */
void v_end_sessions(struct vctx *v, const char *login);

/* Replies: exactly one per request. Rows are collected, then v_finish_rows
 * sends "OK <n> rows" and the rows. */
void v_ok(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void v_err(struct vctx *v, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct ctl_out *v_row(struct vctx *v);
void v_finish_rows(struct vctx *v);

/* Lookups that reply with the error themselves and return 0/false. */
const char *yesno(bool b);
bool v_bool(const char *s, bool *out);
eng_id v_queue(struct vctx *v, const char *name);
eng_id v_member(struct vctx *v, const char *login);
eng_id v_self(const struct vctx *v);
bool v_manages(const struct vctx *v, eng_id q);
bool v_may_touch(const struct vctx *v, eng_id m);
bool v_need_queue(struct vctx *v, eng_id q);
/* Queues are seen by their members (agents and managers) and by admins. */
bool v_sees_queue(const struct vctx *v, eng_id q);
bool v_need_sees(struct vctx *v, eng_id q);
eng_id v_target(struct vctx *v, const char *login);
bool v_store_ok(struct vctx *v, enum store_err e, const char *what);
bool v_name_ok(struct vctx *v, const char *name, const char *what);
/* dest "gateway:NAME/NUMBER" names a configured gateway (verbs_gateway.c). */
bool v_gateway_exists(struct vctx *v, const char *key, const char *dest);
/* One member's row (member.show, agent.show, queue.members). */
void v_member_row(struct vctx *v, eng_id m);

/* The tables, each ending with an entry whose name is NULL. */
extern const struct verb verbs_queue[], verbs_member[], verbs_agent[], verbs_call[], verbs_skill[],
	verbs_report[], verbs_media[], verbs_gateway[], verbs_feature[], verbs_callback[];

#endif

/* http.c — see web.h: libmicrohttpd in the su_root loop, sessions, the
 * JSON API over the control verbs, /metrics and the embedded pages. */
#include "web/web_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "app/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "ctl/proto.h"
#include "ctl/verbs.h"

#define WEB_CONN_MAX 256
#define WEB_CONN_PER_IP 64
#define WEB_CONN_TIMEOUT_S 60
#define WEB_COOKIE "callq_session"

enum web_kind { K_NONE, K_LOGIN, K_API, K_RECORDING };

/* One HTTP request in progress. An API request runs its control line on a
 * virtual connection of its own; a slow verb suspends the request until the
 * sink hears the reply (`resumed`). */
struct web_req {
	struct web_req *next;
	web_t *w;
	struct MHD_Connection *mc;
	enum web_kind kind;
	char *body;
	size_t blen;
	bool too_big;
	ctl_conn_t *conn;
	struct jbuf reply;          /* the control reply lines */
	bool raw_rows;              /* report format=csv */
	bool waiting, suspended;
	char login[ENG_NAME_MAX];   /* K_LOGIN */
};

/* ---- small helpers ---- */

static bool web_same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static bool web_random_hex(char out[33])
{
	unsigned char r[16];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return false;
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return true;
}

enum MHD_Result web_send(struct MHD_Connection *mc, unsigned status, const char *type,
                         const char *body, size_t len, const char *cookie)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (!strncmp(type, "application/json", 16))
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	enum MHD_Result rc = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result web_send_json(struct MHD_Connection *mc, unsigned status,
                                     const struct jbuf *j, const char *cookie)
{
	if (j->failed)
		return web_send_error(mc, 500, "internal", "reply too large");
	return web_send(mc, status, "application/json; charset=utf-8", j->buf ? j->buf : "{}",
	                j->buf ? j->len : 2, cookie);
}

enum MHD_Result web_send_error(struct MHD_Connection *mc, unsigned status, const char *code,
                               const char *msg)
{
	struct jbuf j;
	jbuf_init(&j, 4096);
	api_error(&j, code, msg);
	enum MHD_Result rc = web_send_json(mc, status, &j, NULL);
	jbuf_free(&j);
	return rc;
}

/* ---- sessions ---- */

static bool web_sess_write(void *arg, const char *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return true;
}

static void web_sess_resumed(void *arg)
{
	(void)arg;
}

static void web_sess_ended(void *arg)
{
	struct web_session *s = arg;
	s->ended = true;
}

static const struct ctl_sink web_sess_sink = { web_sess_write, web_sess_resumed, web_sess_ended };

static void web_session_free(web_t *w, struct web_session *s)
{
	sse_end_session(w, s);
	if (s->conn)
		ctl_conn_detach(s->conn);
	explicit_bzero(s, sizeof *s);
}

static unsigned web_nsessions(const web_t *w)
{
	unsigned n = 0;
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++)
		n += w->sessions[i].used && !w->sessions[i].ended;
	return n;
}

/* The live session named by the request's cookie, or NULL. An ended or
 * expired one is freed here. */
static struct web_session *web_session_of(web_t *w, struct MHD_Connection *mc)
{
	const char *id = MHD_lookup_connection_value(mc, MHD_COOKIE_KIND, WEB_COOKIE);
	eng_ms now = clock_mono_ms();
	if (!id || strlen(id) != 32)
		return NULL;
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct web_session *s = &w->sessions[i];
		if (!s->used || !web_same(s->id, id))
			continue;
		if (s->ended || now - s->last_ms > (eng_ms)WEB_SESSION_IDLE_S * 1000) {
			web_session_free(w, s);
			return NULL;
		}
		s->last_ms = now;
		return s;
	}
	return NULL;
}

/* A free slot; when all are taken, the least recently used session ends. */
static struct web_session *web_session_slot(web_t *w)
{
	struct web_session *lru = NULL;
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct web_session *s = &w->sessions[i];
		if (!s->used)
			return s;
		if (s->ended)
			return web_session_free(w, s), s;
		if (!lru || s->last_ms < lru->last_ms)
			lru = s;
	}
	log_info("web", "session table full: ending the least recently used (%s)", lru->login);
	web_session_free(w, lru);
	return lru;
}

static void web_sessions_sweep(web_t *w)
{
	eng_ms now = clock_mono_ms();
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++) {
		struct web_session *s = &w->sessions[i];
		if (s->used && (s->ended || now - s->last_ms > (eng_ms)WEB_SESSION_IDLE_S * 1000))
			web_session_free(w, s);
	}
}

/* ---- requests on virtual connections ---- */

static bool web_req_write(void *arg, const char *data, size_t len)
{
	struct web_req *r = arg;
	jbuf_raw(&r->reply, data, len);
	return !r->reply.failed;
}

static void web_req_resumed(void *arg)
{
	struct web_req *r = arg;
	r->waiting = false;
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->mc);
		web_kick(r->w);
	}
}

static void web_req_ended(void *arg)
{
	(void)arg;
}

static const struct ctl_sink web_req_sink = { web_req_write, web_req_resumed, web_req_ended };

/* Runs `line` for the request with identity `from` (NULL: none). Returns
 * false if the request must wait (suspended) for a slow verb. */
static bool web_req_run(struct web_req *r, ctl_conn_t *from, char *line)
{
	r->conn = ctl_server_attach(r->w->app->ctl, &web_req_sink, r);
	if (!r->conn || (from && !verbs_share_identity(r->conn, from))) {
		jbuf_lit(&r->reply, "ERR internal out of memory\n");
		return true;
	}
	if (ctl_conn_line(r->conn, line))
		return true;
	r->waiting = true;
	r->suspended = true;
	MHD_suspend_connection(r->mc);
	return false;
}

static void web_req_done(struct web_req *r)
{
	if (r->conn)
		ctl_conn_detach(r->conn);
	r->conn = NULL;
}

/* ---- login, logout, API ---- */

struct web_login_args {
	char login[ENG_NAME_MAX];
	char password[1024];
	bool bad;
};

static bool web_login_member(void *ctx, const char *key, int index, const char *value)
{
	struct web_login_args *a = ctx;
	char *dst = !strcmp(key, "login") ? a->login : !strcmp(key, "password") ? a->password : NULL;
	size_t cap = dst == a->login ? sizeof a->login : sizeof a->password;
	if (!dst || index >= 0)
		return true;
	if (strlen(value) >= cap)
		a->bad = true;
	else
		memcpy(dst, value, strlen(value) + 1);
	return true;
}

static enum MHD_Result web_login_start(struct web_req *r)
{
	struct web_login_args a = { .bad = false };
	const char *jerr;
	char line[CTL_LINE_MAX + 1];
	struct ctl_out o;
	if (json_object_read(r->body ? r->body : "", r->blen, web_login_member, &a, &jerr) < 0 ||
	    a.bad || !a.login[0] || !a.password[0]) {
		explicit_bzero(&a, sizeof a);
		return web_send_error(r->mc, 400, "usage", "send {\"login\":..,\"password\":..}");
	}
	ctl_out_init(&o, line, sizeof line);
	ctl_out_raw(&o, "auth");
	ctl_out_word(&o, a.login);
	ctl_out_word(&o, a.password);
	snprintf(r->login, sizeof r->login, "%s", a.login);
	explicit_bzero(&a, sizeof a);
	if (o.truncated) {
		explicit_bzero(line, sizeof line);
		return web_send_error(r->mc, 400, "usage", "login or password too long");
	}
	r->kind = K_LOGIN;
	web_req_run(r, NULL, line);
	explicit_bzero(line, sizeof line);
	return MHD_YES;
}

/* The auth reply is in: a session, or the error. */
static enum MHD_Result web_login_finish(struct web_req *r)
{
	web_t *w = r->w;
	if (r->reply.len < 3 || strncmp(r->reply.buf, "OK ", 3)) {
		struct jbuf j;
		jbuf_init(&j, 4096);
		int status = api_reply(r->reply.buf ? r->reply.buf : "", r->reply.len, false, &j);
		enum MHD_Result rc = web_send_json(r->mc, (unsigned)status, &j, NULL);
		jbuf_free(&j);
		web_req_done(r);
		return rc;
	}
	struct web_session *s = web_session_slot(w);
	*s = (struct web_session){ .used = true, .last_ms = clock_mono_ms() };
	s->conn = ctl_server_attach(w->app->ctl, &web_sess_sink, s);
	if (!s->conn || !verbs_share_identity(s->conn, r->conn) || !web_random_hex(s->id) ||
	    !web_random_hex(s->csrf)) {
		web_req_done(r);
		web_session_free(w, s);
		return web_send_error(r->mc, 500, "internal", "cannot create a session");
	}
	web_req_done(r);
	snprintf(s->login, sizeof s->login, "%s", r->login);
	char role[16] = "";
	sscanf(r->reply.buf + 3, "%*s %15s", role);
	char cookie[160];
	snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", WEB_COOKIE,
	         s->id, w->tls ? "; Secure" : "");
	struct jbuf j;
	jbuf_init(&j, 4096);
	jbuf_printf(&j, "{\"ok\":true,\"csrf\":\"%s\",\"login\":", s->csrf);
	jbuf_str(&j, s->login, strlen(s->login));
	jbuf_lit(&j, ",\"role\":");
	jbuf_str(&j, role, strlen(role));
	jbuf_lit(&j, "}");
	log_info("web", "%s logged in over HTTP", s->login);
	enum MHD_Result rc = web_send_json(r->mc, 200, &j, cookie);
	jbuf_free(&j);
	return rc;
}

static bool web_csrf_ok(struct MHD_Connection *mc, const struct web_session *s)
{
	const char *t = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "X-CSRF-Token");
	return t && web_same(t, s->csrf);
}

static enum MHD_Result web_logout(web_t *w, struct MHD_Connection *mc, struct web_session *s)
{
	char cookie[128];
	snprintf(cookie, sizeof cookie, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
	         WEB_COOKIE, w->tls ? "; Secure" : "");
	web_session_free(w, s);
	return web_send(mc, 200, "application/json; charset=utf-8", "{\"ok\":true}", 11, cookie);
}

static enum MHD_Result web_api_finish(struct web_req *r)
{
	struct jbuf j;
	jbuf_init(&j, WEB_REPLY_MAX);
	int status = r->reply.failed ? 500
	           : api_reply(r->reply.buf ? r->reply.buf : "", r->reply.len, r->raw_rows, &j);
	if (r->reply.failed)
		api_error(&j, "internal", "reply too large");
	web_req_done(r);
	enum MHD_Result rc = web_send_json(r->mc, (unsigned)status, &j, NULL);
	jbuf_free(&j);
	return rc;
}

/* POST /api/VERB: false when it must wait for a slow verb. */
static enum MHD_Result web_api_start(struct web_req *r, struct web_session *s, const char *verb)
{
	char line[CTL_LINE_MAX + 1], copy[CTL_LINE_MAX + 1], err[160];
	struct ctl_req req;
	const char *perr;
	if (api_line(verb, r->body ? r->body : "", r->blen, line, sizeof line, err, sizeof err) < 0)
		return web_send_error(r->mc, 400, "usage", err);
	memcpy(copy, line, sizeof copy);
	if (ctl_parse(copy, &req, &perr) == 0) {
		const char *fmt = ctl_get(&req, "format");
		r->raw_rows = fmt && !strcmp(fmt, "csv");
	}
	r->kind = K_API;
	if (!web_req_run(r, s->conn, line))
		return MHD_YES;
	return web_api_finish(r);
}

/* ---- GET ---- */

static const char *web_type_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".json", "application/json" },
		{ ".svg", "image/svg+xml" }, { ".png", "image/png" }, { ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".woff2", "font/woff2" },
		{ ".wav", "audio/wav" },
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

static enum MHD_Result web_static(struct MHD_Connection *mc, const char *url)
{
	const char *path = strcmp(url, "/") ? url + 1 : "index.html";
	for (size_t i = 0; i < web_nfiles; i++) {
		if (strcmp(web_files[i].path, path))
			continue;
		struct MHD_Response *r = MHD_create_response_from_buffer(
			web_files[i].len, (void *)web_files[i].data, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "Content-Type", web_type_of(path));
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Cache-Control", "no-cache");
		enum MHD_Result rc = MHD_queue_response(mc, 200, r);
		MHD_destroy_response(r);
		return rc;
	}
	return web_send(mc, 404, "text/plain; charset=utf-8", "not found\n", 10, NULL);
}

static enum MHD_Result web_metrics(web_t *w, struct MHD_Connection *mc)
{
	const char *token = w->app->conf.metrics_token;
	if (token[0]) {
		const char *auth = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
		char want[160];
		snprintf(want, sizeof want, "Bearer %s", token);
		if (!auth || !web_same(auth, want)) {
			struct MHD_Response *r = MHD_create_response_from_buffer(
				13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
			if (!r)
				return MHD_NO;
			MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
			enum MHD_Result rc = MHD_queue_response(mc, 401, r);
			MHD_destroy_response(r);
			return rc;
		}
	}
	struct jbuf j;
	jbuf_init(&j, 4 * 1024 * 1024);
	metrics_render(w->app, &j, web_nsessions(w), w->nstreams);
	enum MHD_Result rc = j.failed
		? web_send(mc, 500, "text/plain", "metrics too large\n", 18, NULL)
		: web_send(mc, 200, "text/plain; version=0.0.4; charset=utf-8", j.buf, j.len, NULL);
	jbuf_free(&j);
	return rc;
}

/* ---- recordings ---- */

/* The verb's reply is in: the file, or why not. */
static enum MHD_Result web_recording_finish(struct web_req *r)
{
	char code[32], path[1024];
	const char *reply = r->reply.buf ? r->reply.buf : "";
	const char *id = MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, "id");
	const char *dl = MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, "download");
	long long n = id ? strtoll(id, NULL, 10) : 0;   /* the verb accepted it as a number */
	int ok = recording_reply(reply, r->reply.len, code, sizeof code, path, sizeof path);
	web_req_done(r);
	if (ok < 0 && !strncmp(reply, "ERR ", 4)) {
		struct jbuf j;
		jbuf_init(&j, 4096);
		int status = api_reply(reply, r->reply.len, false, &j);
		enum MHD_Result rc = web_send_json(r->mc, (unsigned)status, &j, NULL);
		jbuf_free(&j);
		return rc;
	}
	if (ok < 0)
		return web_send_error(r->mc, api_status(code), code, "no finished recording with that id");
	uint64_t size;
	int fd = recording_open(r->w->app->conf.recordings, path, &size);
	if (fd < 0 && errno == ENOENT)
		return web_send_error(r->mc, 404, "notfound", "the recording's file is gone");
	if (fd < 0) {
		log_warn("web", "recording %lld: refused %s: not a regular file in %s", n, path,
		         r->w->app->conf.recordings);
		return web_send_error(r->mc, 403, "denied", "the recording's file is not served");
	}
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	char disp[96];
	snprintf(disp, sizeof disp, "%s; filename=\"callq-recording-%lld.wav\"",
	         dl && strcmp(dl, "0") ? "attachment" : "inline", n);
	MHD_add_response_header(resp, "Content-Type", "audio/wav");
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control", "private, no-store");
	enum MHD_Result rc = MHD_queue_response(r->mc, 200, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* GET /api/recording?id=N: `recordings id=N` on the session's identity
 * decides whether it may be seen. */
static enum MHD_Result web_recording_start(struct web_req *r, struct web_session *s)
{
	const char *id = MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, "id");
	char line[CTL_LINE_MAX + 1];
	struct ctl_out o;
	if (!id || !id[0])
		return web_send_error(r->mc, 400, "usage", "GET /api/recording?id=N[&download=1]");
	ctl_out_init(&o, line, sizeof line);
	ctl_out_raw(&o, "recordings");
	ctl_out_kv(&o, "id", id);
	if (o.truncated)
		return web_send_error(r->mc, 400, "invalid", "id must be a recording number");
	r->kind = K_RECORDING;
	if (!web_req_run(r, s->conn, line))
		return MHD_YES;
	return web_recording_finish(r);
}

/* ---- dispatch ---- */

static enum MHD_Result web_post(web_t *w, struct web_req *r, const char *url)
{
	if (!strncmp(url, "/api/", 5) && !strcmp(url + 5, "login")) {
		enum MHD_Result rc = web_login_start(r);
		if (r->kind != K_LOGIN)
			return rc;          /* a usage error, answered */
		/* The password check runs on a worker: suspended until it is done. */
		return r->waiting ? MHD_YES : web_login_finish(r);
	}
	if (strncmp(url, "/api/", 5))
		return web_send_error(r->mc, 404, "notfound", "no such resource");
	struct web_session *s = web_session_of(w, r->mc);
	if (!s)
		return web_send_error(r->mc, 401, "denied", "not logged in");
	if (!web_csrf_ok(r->mc, s))
		return web_send_error(r->mc, 403, "denied", "missing or wrong X-CSRF-Token");
	if (!strcmp(url + 5, "logout"))
		return web_logout(w, r->mc, s);
	return web_api_start(r, s, url + 5);
}

static enum MHD_Result web_get(web_t *w, struct web_req *r, const char *url)
{
	struct MHD_Connection *mc = r->mc;
	if (!strcmp(url, "/metrics"))
		return web_metrics(w, mc);
	if (!strcmp(url, "/api/events")) {
		struct web_session *s = web_session_of(w, mc);
		if (!s)
			return web_send_error(mc, 401, "denied", "not logged in");
		return sse_open(w, s, mc);
	}
	if (!strcmp(url, "/api/recording")) {
		struct web_session *s = web_session_of(w, mc);
		if (!s)
			return web_send_error(mc, 401, "denied", "not logged in");
		return web_recording_start(r, s);
	}
	if (!strncmp(url, "/api/", 5))
		return web_send_error(mc, 405, "usage", "use POST for the API");
	return web_static(mc, url);
}

static enum MHD_Result web_handler(void *cls, struct MHD_Connection *mc, const char *url,
                                   const char *method, const char *version,
                                   const char *upload, size_t *upload_size, void **con_cls)
{
	web_t *w = cls;
	struct web_req *r = *con_cls;
	(void)version;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		r->w = w;
		r->mc = mc;
		jbuf_init(&r->reply, WEB_REPLY_MAX);
		r->next = w->reqs;
		w->reqs = r;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->blen + *upload_size > WEB_BODY_MAX) {
			r->too_big = true;
		} else {
			char *nb = realloc(r->body, r->blen + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + r->blen, upload, *upload_size);
			r->blen += *upload_size;
			nb[r->blen] = '\0';
			r->body = nb;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->kind == K_LOGIN)             /* resumed: the password check is done */
		return web_login_finish(r);
	if (r->kind == K_API)
		return web_api_finish(r);
	if (r->kind == K_RECORDING)
		return web_recording_finish(r);
	if (r->too_big)
		return web_send_error(mc, 413, "invalid", "request body too large");
	if (!strcmp(method, "POST"))
		return web_post(w, r, url);
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return web_get(w, r, url);
	return web_send_error(mc, 405, "usage", "method not allowed");
}

static void web_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                          enum MHD_RequestTerminationCode why)
{
	web_t *w = cls;
	struct web_req *r = *con_cls;
	(void)mc;
	(void)why;
	if (!r)
		return;
	for (struct web_req **pp = &w->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	web_req_done(r);
	jbuf_free(&r->reply);
	if (r->body)
		explicit_bzero(r->body, r->blen);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* ---- the loop ---- */

static void web_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg);

static void web_run(web_t *w)
{
	MHD_UNSIGNED_LONG_LONG ms;
	MHD_run(w->d);
	su_timer_reset(w->timer);
	if (MHD_get_timeout(w->d, &ms) == MHD_YES)
		su_timer_set_interval(w->timer, web_timer, (su_timer_arg_t *)w,
		                      (su_duration_t)(ms > 60000 ? 60000 : ms));
}

static void web_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	web_run((web_t *)arg);
}

void web_kick(web_t *w)
{
	su_timer_reset(w->timer);
	su_timer_set_interval(w->timer, web_timer, (su_timer_arg_t *)w, 0);
}

static int web_ready(su_root_magic_t *magic, su_wait_t *wt, su_wakeup_arg_t *arg)
{
	(void)magic;
	(void)wt;
	web_run((web_t *)arg);
	return 0;
}

static void web_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	web_t *w = (web_t *)arg;
	sse_keepalive(w);
	web_sessions_sweep(w);
}

static void web_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("web", "%s", msg);
}

static char *web_read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < 1 << 20 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		fclose(f);
		return buf;
	}
	snprintf(err, errlen, "%s: %s", path, f ? "cannot read" : strerror(errno));
	if (f)
		fclose(f);
	free(buf);
	return NULL;
}

static bool web_addr(const char *ip, unsigned port, struct sockaddr_storage *ss, bool *v6)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof *ss);
	*v6 = false;
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return true;
	}
	if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return true;
	}
	return false;
}

static int web_start(web_t *w, char *err, size_t errlen)
{
	const struct conf *c = &w->app->conf;
	struct sockaddr_storage ss;
	bool v6;
	if (!web_addr(c->http_listen, c->http_port, &ss, &v6)) {
		snprintf(err, errlen, "http_listen '%s' is not an IP address", c->http_listen);
		return -1;
	}
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	                 (v6 ? MHD_USE_IPv6 : 0);
	if (c->http_cert[0]) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS");
			return -1;
		}
		if (!(w->cert = web_read_file(c->http_cert, err, errlen)) ||
		    !(w->key = web_read_file(c->http_key, err, errlen)))
			return -1;
		w->tls = true;
		flags |= MHD_USE_TLS;
	}
	w->d = MHD_start_daemon(
		flags, (uint16_t)c->http_port, NULL, NULL, web_handler, w,
		MHD_OPTION_EXTERNAL_LOGGER, web_log, w,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_CONN_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, web_completed, w,
		w->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, w->key,
		MHD_OPTION_HTTPS_MEM_CERT, w->cert,
		MHD_OPTION_END);
	if (!w->d) {
		snprintf(err, errlen, "cannot listen on %s:%u%s", c->http_listen, c->http_port,
		         w->tls ? " (or bad certificate/key)" : "");
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	w->timer = su_timer_create(su_root_task(w->app->root), 0);
	w->keepalive = su_timer_create(su_root_task(w->app->root), WEB_SSE_KEEPALIVE_S * 1000);
	if (!info || su_wait_create(&w->wait, info->epoll_fd, SU_WAIT_IN) != 0 ||
	    (w->index = su_root_register(w->app->root, &w->wait, web_ready, w, 0)) < 0 ||
	    !w->timer || !w->keepalive ||
	    su_timer_set_for_ever(w->keepalive, web_tick, (su_timer_arg_t *)w) != 0) {
		snprintf(err, errlen, "cannot register HTTP with the event loop");
		return -1;
	}
	web_run(w);
	return 0;
}

web_t *web_new(struct app *a, char *err, size_t errlen)
{
	web_t *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->app = a;
	w->index = -1;
	if (web_start(w, err, errlen) < 0) {
		web_free(w);
		return NULL;
	}
	log_info("web", "HTTP%s on %s:%u", w->tls ? "S" : "", a->conf.http_listen,
	         a->conf.http_port);
	return w;
}

void web_free(web_t *w)
{
	if (!w)
		return;
	if (w->d) {
		sse_shutdown(w);
		for (struct web_req *r = w->reqs; r; r = r->next) {
			if (r->suspended) {
				r->suspended = false;
				MHD_resume_connection(r->mc);
			}
		}
		MHD_stop_daemon(w->d);
	}
	for (size_t i = 0; i < WEB_SESSIONS_MAX; i++)
		if (w->sessions[i].used)
			web_session_free(w, &w->sessions[i]);
	if (w->index >= 0)
		su_root_deregister(w->app->root, w->index);
	if (w->timer)
		su_timer_destroy(w->timer);
	if (w->keepalive)
		su_timer_destroy(w->keepalive);
	if (w->key)
		explicit_bzero(w->key, strlen(w->key));
	free(w->key);
	free(w->cert);
	free(w);
}

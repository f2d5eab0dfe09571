/* callqd.c — the daemon: reads the config, opens the store, loads the engine,
 * starts media, SIP and the control socket, and runs the su_root loop until
 * SIGTERM/SIGINT, which drains calls and shuts SIP down cleanly. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/su_wait.h>

#include "app/app.h"
#include "core/clock.h"
#include "core/fsmode.h"
#include "core/heap.h"
#include "core/log.h"
#include "ctl/events.h"
#include "ctl/server.h"
#include "ctl/throttle.h"
#include "ctl/verbs.h"
#include "ctl/worker.h"
#include "report/window.h"
#include "sip/gateway.h"
#include "sip/sip.h"
#include "store/queuelog.h"
#include "web/web.h"

static void usage(void)
{
	fprintf(stderr, "usage: callqd -c CONFIG [-o key=value]...\n");
	exit(2);
}

static int read_args(int argc, char **argv, struct conf *c)
{
	char err[512];
	int opt;
	const char *path = NULL;
	conf_defaults(c);
	while ((opt = getopt(argc, argv, "c:o:h")) != -1) {
		if (opt == 'c') {
			path = optarg;
			if (conf_load(c, path, err, sizeof err) < 0) {
				fprintf(stderr, "callqd: %s\n", err);
				return -1;
			}
		} else if (opt == 'o') {
			char kv[CONF_STR_MAX + 64];
			snprintf(kv, sizeof kv, "%s", optarg);
			char *eq = strchr(kv, '=');
			if (!eq)
				usage();
			*eq = 0;
			if (conf_set(c, kv, eq + 1, err, sizeof err) < 0) {
				fprintf(stderr, "callqd: -o: %s\n", err);
				return -1;
			}
		} else {
			usage();
		}
	}
	return 0;
}

static void on_cred(void *ctx, const char *login, const char *ha1)
{
	struct app *a = ctx;
	sipua_cred(a->sip, login, ha1);
	sipua_secure(a->sip, login, store_member_secure(a->store, login));
}

/* A registration kept from before the restart, bound again while it lives. */
static void restore_reg(void *ctx, const struct store_reg *r)
{
	struct app *a = ctx;
	time_t now = time(NULL);
	if (r->expires_unix > now)
		sipua_bind(a->sip, r, (unsigned)(r->expires_unix - now));
}

static int load_store(struct app *a)
{
	struct eng_action discard;
	if (store_load(a->store, a->engine, clock_mono_ms(), on_cred, a) < 0)
		return -1;
	/* Loading replays saved state into the engine; those are not new events. */
	while (engine_next_action(a->engine, &discard))
		;
	a->nfeatures = store_features(a->store, a->features, APP_FEATURES_MAX);
	struct store_acl acl[64];
	size_t n = store_trunk_acl(a->store, acl, 64);
	for (size_t i = 0; i < n; i++)
		if (sipua_acl_add(a->sip, acl[i].cidr) < 0)
			log_warn("app", "trunk ACL entry '%s' ignored: not an IPv4 or IPv6 CIDR", acl[i].cidr);
	static struct store_gateway gws[GATEWAY_MAX];
	char err[200];
	n = store_gateways(a->store, gws, GATEWAY_MAX);
	for (size_t i = 0; i < n; i++)
		if (gateway_conf_check(&gws[i], err, sizeof err) < 0 ||
		    gateway_put(sipua_gateways(a->sip), &gws[i]) < 0)
			log_warn("app", "gateway '%s' ignored: %s", gws[i].name, err);
	store_reg_prune(a->store, time(NULL));
	store_regs(a->store, restore_reg, a);
	/* Pending callbacks last: they may be offered at once, and those offers
	 * stay in the engine's outbox until the loop starts. */
	app_day_origin(a);
	int ncb = store_callbacks_load(a->store, a->engine, clock_mono_ms(), clock_wall_ms());
	if (ncb < 0)
		return -1;
	if (ncb > 0)
		log_info("app", "%d pending callback(s) restored in their places", ncb);
	return 0;
}

static int on_media(su_root_magic_t *m, su_wait_t *w, su_wakeup_arg_t *arg)
{
	(void)m;
	(void)w;
	struct app *a = (struct app *)arg;
	struct media_event ev;
	while (media_next_event(a->media, &ev))
		sipua_media_event(a->sip, &ev);
	return 0;
}

static void on_sip_down(void *ctx)
{
	struct app *a = ctx;
	su_root_break(a->root);
}

static int on_signal(su_root_magic_t *m, su_wait_t *w, su_wakeup_arg_t *arg)
{
	(void)m;
	struct app *a = (struct app *)arg;
	struct signalfd_siginfo si;
	if (read(w->fd, &si, sizeof si) != (ssize_t)sizeof si || a->stopping)
		return 0;
	a->stopping = true;
	log_info("app", "signal %u: draining calls and shutting down", si.ssi_signo);
	sipua_shutdown(a->sip, on_sip_down, a);
	return 0;
}

static int watch_fd(struct app *a, int fd, su_wakeup_f fn)
{
	su_wait_t w;
	if (su_wait_create(&w, fd, SU_WAIT_IN) < 0)
		return -1;
	int i = su_root_register(a->root, &w, fn, (su_wakeup_arg_t *)a, 0);
	if (i < 0)
		return -1;
	a->waits[a->nwaits++] = i;
	return 0;
}

/* Blocked before any thread starts (the journal writer, the media tick), so
 * every thread inherits the mask and the signals reach only the signalfd. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int watch_signals(struct app *a)
{
	sigset_t set;
	block_signals(&set);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -1 : watch_fd(a, fd, on_signal);
}

/* Private files: the database (its SIP HA1s are password-equivalent) and
 * recordings are 0600 in 0700 folders. The database's folder keeps group
 * search (0710) when the control socket lives there too, so group members
 * can still reach the socket (0660) but list and read nothing. */
static int private_files(const struct conf *c)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char dbdir[CONF_STR_MAX], ctldir[CONF_STR_MAX], path[CONF_STR_MAX + 16];
	fsmode_dirname(c->db, dbdir, sizeof dbdir);
	fsmode_dirname(c->control, ctldir, sizeof ctldir);
	if (fsmode_dir(c->recordings, 0700) < 0 ||
	    fsmode_dir(dbdir, strcmp(dbdir, ctldir) ? 0700 : 0710) < 0) {
		log_error("app", "cannot make the recordings and database folders private: %s",
		          strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(path, sizeof path, "%s%s", c->db, suffixes[i]);
		if (fsmode_narrow(path, 0600) < 0) {
			log_error("app", "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Descriptors kept for everything not counted below: SQLite (store, journal,
 * report readers), the event loop, SIP sockets and TCP connections. */
#define FDS_OTHER 256

/* What callqd may hold open at its busiest: two per RTP leg (RTP and RTCP),
 * the legs bounded by the port range (one per even port) and by two per
 * call; a recording file per bridged call; the control connections. */
static unsigned long fds_needed(const struct conf *c, unsigned long *legs)
{
	unsigned long ports = (c->rtp_port_max - c->rtp_port_min) / 2 + 1;
	unsigned long calls = c->max_calls;
	*legs = ports < 2 * calls ? ports : 2 * calls;
	return 2 * *legs + *legs / 2 + CTL_CONN_MAX + FDS_OTHER;
}

/* Raises the soft RLIMIT_NOFILE to the hard limit (the soft default, 1024,
 * is for select() users; callqd polls) and says so when even that cannot
 * cover the configuration. Never fatal: callqd runs with what it has. */
static void raise_fd_limit(const struct conf *c)
{
	struct rlimit rl;
	unsigned long legs, need = fds_needed(c, &legs);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("app", "cannot read the file descriptor limit: %s", strerror(errno));
		return;
	}
	rlim_t was = rl.rlim_cur;
	/* An unlimited hard limit still cannot pass the kernel's nr_open. */
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY ? rl.rlim_max : was > need ? was : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = was;
	if (rl.rlim_cur >= need) {
		log_info("app", "file descriptors: limit %lu (was %lu), about %lu needed",
		         (unsigned long)rl.rlim_cur, (unsigned long)was, need);
		return;
	}
	log_warn("app",
	         "file descriptor limit %lu (hard limit %lu) is below the %lu needed: 2 for each of "
	         "%lu RTP legs (ports %u-%u, max_calls %u), %lu recordings, %d control connections, "
	         "%d other; busy hours will fail calls for want of descriptors: raise the hard limit "
	         "(LimitNOFILE= in the systemd unit, ulimit -Hn), narrow the port range or lower "
	         "max_calls",
	         (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max, need, legs,
	         c->rtp_port_min, c->rtp_port_max, c->max_calls, legs / 2, CTL_CONN_MAX, FDS_OTHER);
}

static int start(struct app *a)
{
	char err[512];
	raise_fd_limit(&a->conf);
	if (private_files(&a->conf) < 0)
		return -1;
	a->store = store_open(a->conf.db, err, sizeof err);
	if (!a->store) {
		log_error("app", "database %s: %s", a->conf.db, err);
		return -1;
	}
	store_journal_retention(a->store, a->conf.journal_days);
	if (a->conf.seed_demo && store_seed_demo(a->store) < 0)
		log_error("app", "cannot seed demo data: %s", store_errmsg(a->store));
	struct media_conf mc = { a->conf.rtp_ip, a->conf.rtp_port_min, a->conf.rtp_port_max,
	                         a->conf.media, a->conf.rtp_timeout_s,
	                         a->conf.rtp_quiet_timeout_s, a->conf.media_threads };
	idmap_init(&a->recordings);
	idmap_init(&a->member_since);
	a->engine = engine_new();
	a->events = events_new();
	a->window = window_new();
	a->metrics = metrics_new();
	a->media = media_new(&mc, err, sizeof err);
	if (!a->engine || !a->media || !a->events || !a->window || !a->metrics) {
		log_error("app", "media: %s", err);
		return -1;
	}
	a->timer = su_timer_create(su_root_task(a->root), 0);
	a->announce = su_timer_create(su_root_task(a->root), 0);
	struct sip_env env;
	app_sip_env(a, &env);
	a->sip = sipua_new(&env, err, sizeof err);
	if (!a->sip || !a->timer || !a->announce) {
		log_error("app", "sip: %s", err);
		return -1;
	}
	if (load_store(a) < 0) {
		log_error("app", "cannot load configuration: %s", store_errmsg(a->store));
		return -1;
	}
	/* `stats` counts from here on; its last 24 hours come from the journal. */
	if (window_fill(a->window, a->engine, a->conf.db, clock_wall_ms(), err, sizeof err) !=
	    REPORT_OK)
		log_error("app", "stats counters start empty: journal: %s", err);
	a->auth_throttle = malloc(sizeof *a->auth_throttle);
	a->worker = worker_new(a->root, WORKER_THREADS, WORKER_QUEUE_MAX, err, sizeof err);
	if (!a->worker || !a->auth_throttle) {
		log_error("app", "control workers: %s", a->worker ? "out of memory" : err);
		return -1;
	}
	throttle_init(a->auth_throttle);
	a->ctl = ctl_server_new(a->root, a->conf.control, verbs_line, verbs_close, a, err, sizeof err);
	if (!a->ctl) {
		log_error("app", "control socket: %s", err);
		return -1;
	}
	ctl_server_set_idle(a->ctl, a->conf.ctl_idle_timeout_s);
	if (a->conf.queue_log[0] &&
	    !(a->queuelog = queuelog_open(a->conf.queue_log, time(NULL), err, sizeof err))) {
		log_error("app", "queue_log: %s", err);
		return -1;
	}
	if (a->conf.http_port && !(a->web = web_new(a, err, sizeof err))) {
		log_error("app", "http: %s", err);
		return -1;
	}
	if (watch_fd(a, media_event_fd(a->media), on_media) < 0 || watch_signals(a) < 0 ||
	    media_start(a->media) < 0) {
		log_error("app", "cannot start the event loop: %s", strerror(errno));
		return -1;
	}
	if (heap_janitor_start(HEAP_QUIET_MS, HEAP_LATE_MS) < 0)
		log_warn("app", "no heap janitor thread: memory freed after bursts stays with callqd");
	app_engine_done(a);
	app_announce_start(a);
	return 0;
}

static void stop(struct app *a)
{
	while (a->nwaits > 0)
		su_root_deregister(a->root, a->waits[--a->nwaits]);
	/* Workers first: their finishing jobs look connections up. */
	worker_free(a->worker);
	/* HTTP before the control server: its sessions are virtual connections. */
	web_free(a->web);
	ctl_server_free(a->ctl);
	queuelog_close(a->queuelog);
	metrics_free(a->metrics);
	free(a->auth_throttle);
	events_free(a->events);
	window_free(a->window);
	sipua_free(a->sip);
	if (a->timer)
		su_timer_destroy(a->timer);
	if (a->announce)
		su_timer_destroy(a->announce);
	media_free(a->media);
	heap_janitor_stop();
	engine_free(a->engine);
	store_close(a->store);
	idmap_free(&a->recordings);
	idmap_free(&a->member_since);
}

int main(int argc, char **argv)
{
	static struct app app;
	sigset_t set;
	/* Everything callqd creates (database, recordings) is the owner's only;
	 * the control socket is set 0660 explicitly. */
	umask(077);
	block_signals(&set);
	if (read_args(argc, argv, &app.conf) < 0)
		return 2;
	log_set_level(app.conf.log_level);
	su_init();
	app.root = su_root_create(NULL);
	if (!app.root) {
		log_error("app", "cannot create the event loop");
		return 1;
	}
	su_root_threading(app.root, 0);
	int rc = start(&app);
	if (rc == 0) {
		log_info("app", "callqd ready: SIP %s:%u, control %s", app.conf.sip_listen,
		         app.conf.sip_port, app.conf.control);
		su_root_run(app.root);
		log_info("app", "callqd stopped");
	} else if (app.sip) {
		/* nua may only be destroyed after its asynchronous shutdown. */
		sipua_shutdown(app.sip, on_sip_down, &app);
		su_root_run(app.root);
	}
	stop(&app);
	su_root_destroy(app.root);
	su_deinit();
	return rc == 0 ? 0 : 1;
}

/* store.c — see store.h. Opening and migrating the database, the
 * configuration tables, and loading them into the engine. The journal writer
 * lives in journal.c. */
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acd/qconf.h"
#include "acd/skill.h"
#include "core/log.h"
#include "core/pwhash.h"
#include "store/journal.h"
#include "store/sql_embed.h"

/* Short, so a locked database answers ERR busy instead of stalling SIP. */
#define STORE_BUSY_MS 100

enum store_stmt {
	ST_QUEUE_INSERT,
	ST_QUEUE_UPDATE,
	ST_QUEUE_DELETE,
	ST_MEMBER_INSERT,
	ST_MEMBER_UPDATE,
	ST_MEMBER_DELETE,
	ST_MEMBER_RECORD,
	ST_MEMBER_PWHASH,
	ST_MEMBER_SECURE,
	ST_MEMBER_SECURE_SET,
	ST_ASSIGN,
	ST_UNASSIGN,
	ST_STATE,
	ST_ACTIVE,
	ST_PRIORITY,
	ST_SESSION,
	ST_SINCE,
	ST_COUNTS,
	ST_FEATURE_PUT,
	ST_FEATURE_DEL,
	ST_FEATURES,
	ST_ACL,
	ST_REG_PUT,
	ST_REG_DEL,
	ST_REG_PRUNE,
	ST_REGS,
	ST_SKILL_UPSERT,
	ST_SKILL_RULES_CLEAR,
	ST_SKILL_RULE_ADD,
	ST_SKILL_DELETE,
	ST_SKILL_GRANT,
	ST_SKILL_REVOKE,
	ST_REC_ADD,
	ST_REC_FINISH,
	ST_RECS,
	ST_REC,
	ST_COUNT
};

#define Q_COLS "number, strategy, call_limit, timeout, connect_timeout, recovery, " \
	"recovery_extend, recovery_multi, timeout_if_empty, force_away, record, show_agents, " \
	"paused, escalation_queue, escalation_dest, zero_out, hold, lang, wait_estimate, " \
	"service_level, retry_rejected, retry_timeout, retry_unreachable, dids, priority_step, " \
	"callback_gateway, callback_key, callback_wait, callback_retries, callback_retry_delay, " \
	"callback_hours, callback_outside, callback_mode"
#define Q_VALS ":number, :strategy, :call_limit, :timeout, :connect_timeout, :recovery, " \
	":recovery_extend, :recovery_multi, :timeout_if_empty, :force_away, :record, :show_agents, " \
	":paused, :escalation_queue, :escalation_dest, :zero_out, :hold, :lang, :wait_estimate, " \
	":service_level, :retry_rejected, :retry_timeout, :retry_unreachable, :dids, :priority_step, " \
	":callback_gateway, :callback_key, :callback_wait, :callback_retries, :callback_retry_delay, " \
	":callback_hours, :callback_outside, :callback_mode"
#define MEMBER_ID "(SELECT id FROM members WHERE login = :login)"
#define QUEUE_ID "(SELECT id FROM queues WHERE name = :queue)"
#define SKILL_ID "(SELECT id FROM skills WHERE name = :skill)"
#define REC_COLS "id, kind, call, run, queue, member, path, started_ms, duration_ms, status, error"

static const char *const store_sql[ST_COUNT] = {
	[ST_QUEUE_INSERT] = "INSERT INTO queues (name, " Q_COLS ") VALUES (:name, " Q_VALS ")",
	[ST_QUEUE_UPDATE] = "UPDATE queues SET (" Q_COLS ") = (" Q_VALS ") WHERE name = :name",
	[ST_QUEUE_DELETE] = "DELETE FROM queues WHERE name = :name",
	[ST_MEMBER_INSERT] = "INSERT INTO members (login, name, role, sip_ha1, password_hash, record) "
	                     "VALUES (:login, :name, :role, coalesce(:ha1, ''), "
	                     "coalesce(:pwhash, ''), :record)",
	[ST_MEMBER_UPDATE] = "UPDATE members SET name = :name, role = :role, "
	                     "sip_ha1 = coalesce(:ha1, sip_ha1), "
	                     "password_hash = coalesce(:pwhash, password_hash), record = :record "
	                     "WHERE login = :login",
	[ST_MEMBER_DELETE] = "DELETE FROM members WHERE login = :login",
	[ST_MEMBER_RECORD] = "SELECT record FROM members WHERE login = :login",
	[ST_MEMBER_PWHASH] = "SELECT password_hash FROM members WHERE login = :login",
	[ST_MEMBER_SECURE] = "SELECT secure FROM members WHERE login = :login",
	[ST_MEMBER_SECURE_SET] = "UPDATE members SET secure = :secure WHERE login = :login",
	[ST_ASSIGN] = "INSERT INTO queue_members (queue_id, member_id, is_manager, active) "
	              "SELECT q.id, m.id, :manager, :active FROM queues q, members m "
	              "WHERE q.name = :queue AND m.login = :login "
	              "ON CONFLICT (queue_id, member_id) DO UPDATE "
	              "SET is_manager = excluded.is_manager, active = excluded.active",
	[ST_UNASSIGN] = "DELETE FROM queue_members WHERE queue_id = " QUEUE_ID
	                " AND member_id = " MEMBER_ID,
	[ST_STATE] = "INSERT INTO member_state (member_id, logged_in, ready, away_reason) "
	             "SELECT id, :logged_in, :ready, coalesce(:reason, '') FROM members "
	             "WHERE login = :login ON CONFLICT (member_id) DO UPDATE "
	             "SET logged_in = excluded.logged_in, ready = excluded.ready, "
	             "away_reason = excluded.away_reason",
	[ST_ACTIVE] = "UPDATE queue_members SET active = :active WHERE queue_id = " QUEUE_ID
	              " AND member_id = " MEMBER_ID,
	[ST_PRIORITY] = "UPDATE queue_members SET priority = :priority WHERE queue_id = " QUEUE_ID
	                " AND member_id = " MEMBER_ID,
	[ST_SESSION] = "UPDATE member_state SET login_unix_ms = :since WHERE member_id = " MEMBER_ID,
	[ST_SINCE] = "SELECT coalesce(ms.login_unix_ms, 0) FROM member_state ms "
	             "WHERE ms.member_id = " MEMBER_ID " AND ms.logged_in",
	[ST_COUNTS] = "SELECT coalesce(sum(event = 'call.answer'), 0), "
	              "coalesce(sum(event = 'call.miss'), 0) FROM journal "
	              "WHERE member = :login AND t_ms >= :since",
	[ST_FEATURE_PUT] = "INSERT INTO feature_codes (code, action) VALUES (:code, :action) "
	                   "ON CONFLICT (code) DO UPDATE SET action = excluded.action",
	[ST_FEATURE_DEL] = "DELETE FROM feature_codes WHERE code = :code",
	[ST_FEATURES] = "SELECT code, action FROM feature_codes ORDER BY code",
	[ST_ACL] = "SELECT cidr FROM trunk_acl ORDER BY rowid",
	[ST_REG_PUT] = "INSERT INTO registrations (member_id, contact, expires_unix, src, src_port, "
	               "transport, path, instance, reg_id) "
	               "SELECT id, :contact, :expires, :src, :src_port, :transport, :path, :instance, "
	               ":reg_id FROM members WHERE login = :login "
	               "ON CONFLICT (member_id, contact) DO UPDATE SET expires_unix = excluded.expires_unix, "
	               "src = excluded.src, src_port = excluded.src_port, "
	               "transport = excluded.transport, path = excluded.path, "
	               "instance = excluded.instance, reg_id = excluded.reg_id",
	[ST_REG_DEL] = "DELETE FROM registrations WHERE member_id = " MEMBER_ID
	               " AND (:contact IS NULL OR contact = :contact)",
	[ST_REG_PRUNE] = "DELETE FROM registrations WHERE expires_unix <= :now",
	[ST_REGS] = "SELECT m.login, r.contact, r.expires_unix, r.src, r.src_port, r.transport, "
	            "r.path, r.instance, r.reg_id FROM registrations r "
	            "JOIN members m ON m.id = r.member_id ORDER BY m.login, r.contact",
	/* An upsert, not INSERT OR REPLACE: replacing would give the skill a new
	 * id (its place in creation order) and cascade away its members. */
	[ST_SKILL_UPSERT] = "INSERT INTO skills (name, match_all) VALUES (:skill, :match_all) "
	                    "ON CONFLICT (name) DO UPDATE SET match_all = excluded.match_all",
	[ST_SKILL_RULES_CLEAR] = "DELETE FROM skill_rules WHERE skill_id = " SKILL_ID,
	[ST_SKILL_RULE_ADD] = "INSERT INTO skill_rules (skill_id, position, field, op, value) "
	                      "VALUES (" SKILL_ID ", :position, :field, :op, :value)",
	[ST_SKILL_DELETE] = "DELETE FROM skills WHERE name = :skill",
	/* OR REPLACE so that granting a skill twice still counts as a change. */
	[ST_SKILL_GRANT] = "INSERT OR REPLACE INTO member_skills (member_id, skill_id) "
	                   "SELECT m.id, k.id FROM members m, skills k "
	                   "WHERE m.login = :login AND k.name = :skill",
	[ST_SKILL_REVOKE] = "DELETE FROM member_skills WHERE member_id = " MEMBER_ID
	                    " AND skill_id = " SKILL_ID,
	[ST_REC_ADD] = "INSERT INTO recordings (kind, call, run, queue, member, path, started_ms) "
	               "VALUES (:kind, :call, :run, :queue, :member, :path, :started)",
	[ST_REC_FINISH] = "UPDATE recordings SET duration_ms = :duration, status = :status, "
	                  "error = coalesce(:error, '') WHERE id = :id",
	[ST_RECS] = "SELECT " REC_COLS " FROM recordings "
	            "WHERE (:queue IS NULL OR queue = :queue) AND (:member IS NULL OR member = :member) "
	            "ORDER BY started_ms DESC, id DESC LIMIT :max",
	[ST_REC] = "SELECT " REC_COLS " FROM recordings WHERE id = :id",
};

static const char *const store_rec_kinds[] = { [STORE_REC_CALL] = "call",
	                                       [STORE_REC_VOICEMAIL] = "voicemail" };
static const char *const store_rec_states[] = { [STORE_REC_RECORDING] = "recording",
	                                        [STORE_REC_DONE] = "done",
	                                        [STORE_REC_FAILED] = "failed" };
/* Rule fields and operators as the skill_rules table spells them. */
static const char *const store_skill_fields[] = {
	[SKF_CALLER_NUMBER] = "caller_number", [SKF_CALLER_NAME] = "caller_name",
	[SKF_CALLEE_NUMBER] = "callee_number", [SKF_CALLEE_NAME] = "callee_name",
};
static const char *const store_skill_ops[] = { [SKOP_STARTS_WITH] = "starts_with",
	                                       [SKOP_MATCHES] = "matches" };

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	struct store_jnl *jnl;
	engine_t *eng;              /* from store_load: names the journal's ids */
	int64_t run;                /* start time (unix ms): tells runs apart in journal and recordings */
	char errmsg[256];
};

/* ---- small helpers ---- */

static void store_copy(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static void store_set_err(store_t *s, const char *msg)
{
	snprintf(s->errmsg, sizeof s->errmsg, "%s", msg);
}

/* Maps a failed SQLite result to the store's error and remembers the text. */
static enum store_err store_fail(store_t *s, int rc)
{
	store_set_err(s, sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
		               ? STORE_EXISTS
		               : STORE_FAILED;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	default:
		return STORE_FAILED;
	}
}

/* The cached statement `id`, reset and unbound; NULL (logged) on error. */
static sqlite3_stmt *store_stmt(store_t *s, enum store_stmt id)
{
	sqlite3_stmt **st = &s->stmt[id];
	if (!*st && sqlite3_prepare_v3(s->db, store_sql[id], -1, SQLITE_PREPARE_PERSISTENT, st,
	                               NULL) != SQLITE_OK) {
		store_set_err(s, sqlite3_errmsg(s->db));
		log_error("store", "prepare: %s", s->errmsg);
		return NULL;
	}
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return *st;
}

static void bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, name), v, -1, SQLITE_STATIC);
}

static void bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, name), v);
}

/* Runs a write statement; a statement that changed no row means NOTFOUND. */
static enum store_err store_change(store_t *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	enum store_err r = STORE_OK;
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc);
	else if (sqlite3_changes(s->db) == 0) {
		store_set_err(s, "not found");
		r = STORE_NOTFOUND;
	}
	sqlite3_reset(st);
	return r;
}

static int store_exec(store_t *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	store_set_err(s, msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

/* Runs `sql` (several statements) in one transaction. */
static int store_exec_tx(store_t *s, const char *sql)
{
	if (store_exec(s, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (store_exec(s, sql) != 0 || store_exec(s, "COMMIT") != 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static int store_query_int(store_t *s, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_set_err(s, sqlite3_errmsg(s->db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		store_set_err(s, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return v;
}

/* ---- open, migrate ---- */

/* Moves the database to `version` by running `sql`, unless another process
 * did so first (the version is read again inside the write transaction). */
static int store_step_version(store_t *s, int version, const char *sql)
{
	char pragma[48];
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
	if (store_exec(s, "BEGIN IMMEDIATE") != 0)
		return -1;
	int have = store_query_int(s, "PRAGMA user_version");
	if (have < 0 || (have < version && (store_exec(s, sql) != 0 || store_exec(s, pragma) != 0)) ||
	    store_exec(s, "COMMIT") != 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static int store_migrate(store_t *s, const struct sql_migration *m, unsigned n)
{
	int have = store_query_int(s, "PRAGMA user_version");
	int known = n ? m[n - 1].version : 1;
	if (have < 0)
		return -1;
	if (have > known) {
		snprintf(s->errmsg, sizeof s->errmsg,
		         "database schema version %d is newer than this build knows (%d)", have, known);
		return -1;
	}
	if (have == 0 && store_step_version(s, 1, sql_schema) != 0)
		return -1;
	have = have ? have : 1;
	for (unsigned i = 0; i < n; i++) {
		if (m[i].version <= have)
			continue;
		if (m[i].version != have + 1) {
			snprintf(s->errmsg, sizeof s->errmsg, "migration to version %d is missing",
			         have + 1);
			return -1;
		}
		if (store_step_version(s, m[i].version, m[i].sql) != 0)
			return -1;
		log_info("store", "migrated database to version %d", m[i].version);
		have = m[i].version;
	}
	return 0;
}

/* SQL function callq_pwhash(password): the stored control-socket hash, so
 * db/demo.sql can give the demo members theirs without the C code knowing
 * the demo passwords. */
static void store_sql_pwhash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char hash[PWHASH_TEXT_MAX];
	const unsigned char *pw = argc == 1 ? sqlite3_value_text(argv[0]) : NULL;
	if (!pw || pwhash_make((const char *)pw, hash, sizeof hash) != 0) {
		sqlite3_result_error(ctx, "callq_pwhash: no password or no randomness", -1);
		return;
	}
	sqlite3_result_text(ctx, hash, -1, SQLITE_TRANSIENT);
}

static int store_configure(store_t *s)
{
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_busy_timeout(s->db, STORE_BUSY_MS) != SQLITE_OK ||
	    sqlite3_create_function_v2(s->db, "callq_pwhash", 1, SQLITE_UTF8, NULL, store_sql_pwhash,
	                               NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	return store_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
	                     "PRAGMA foreign_keys = ON");
}

static int64_t store_unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void store_release(store_t *s)
{
	store_jnl_stop(s->jnl);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

store_t *store_open_migrations(const char *path, const struct sql_migration *m, unsigned n,
                               char *err, size_t errlen)
{
	store_t *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_release(s);
		return NULL;
	}
	if (store_configure(s) != 0 || store_migrate(s, m, n) != 0) {
		snprintf(err, errlen, "%s: %s", path, s->errmsg[0] ? s->errmsg : sqlite3_errmsg(s->db));
		store_release(s);
		return NULL;
	}
	s->run = store_unix_ms();
	s->jnl = store_jnl_start(path, s->run, err, errlen);
	if (!s->jnl) {
		store_release(s);
		return NULL;
	}
	return s;
}

store_t *store_open(const char *path, char *err, size_t errlen)
{
	return store_open_migrations(path, sql_migrations, sql_migrations_count, err, errlen);
}

void store_close(store_t *s)
{
	if (s)
		store_release(s);
}

int store_schema_version(store_t *s)
{
	return store_query_int(s, "PRAGMA user_version");
}

int store_seed_demo(store_t *s)
{
	int rows = store_query_int(s, "SELECT (SELECT count(*) FROM queues) + "
	                              "(SELECT count(*) FROM members)");
	if (rows != 0)
		return rows < 0 ? -1 : 0;
	if (store_exec_tx(s, sql_demo) != 0) {
		log_error("store", "demo data: %s", s->errmsg);
		return -1;
	}
	log_info("store", "seeded the demo data");
	return 0;
}

const char *store_errmsg(store_t *s)
{
	return s->errmsg;
}

/* ---- loading into the engine ---- */

static sqlite3_stmt *store_prepare(store_t *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_set_err(s, sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

/* Ends a row loop: 0 if the statement ran to completion. */
static int store_finish(store_t *s, sqlite3_stmt *st, int rc)
{
	if (rc != SQLITE_DONE)
		store_set_err(s, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* NULL columns keep the value qconf_defaults() put there. */
static void col_uint(sqlite3_stmt *st, int i, unsigned *out)
{
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		*out = (unsigned)sqlite3_column_int64(st, i);
}

static void col_bool(sqlite3_stmt *st, int i, bool *out)
{
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		*out = sqlite3_column_int(st, i) != 0;
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		store_copy(out, cap, sqlite3_column_text(st, i));
}

/* A setting kept as qconf's text: read back through qconf_set, so the text
 * form has one owner. */
static void store_col_setting(sqlite3_stmt *st, int i, struct eng_queue_conf *c, const char *key)
{
	char err[128];
	const unsigned char *text = sqlite3_column_text(st, i);
	if (text && qconf_set(c, key, (const char *)text, err, sizeof err) != 0)
		log_warn("store", "queue %s: %s, using the default", c->name, err);
}

/* The callback settings, columns in this order after priority_step. */
static const char *const store_callback_keys[] = {
	"callback_gateway", "callback_key", "callback_wait", "callback_retries",
	"callback_retry_delay", "callback_hours", "callback_outside", "callback_mode", NULL,
};

static void store_row_queue(sqlite3_stmt *st, struct eng_queue_conf *c)
{
	qconf_defaults(c);
	store_copy(c->name, sizeof c->name, sqlite3_column_text(st, 0));
	store_copy(c->number, sizeof c->number, sqlite3_column_text(st, 1));
	const unsigned char *strategy = sqlite3_column_text(st, 2);
	if (strategy && !engine_strategy_parse((const char *)strategy, &c->strategy))
		log_warn("store", "queue %s: unknown strategy %s, using the default", c->name, strategy);
	col_uint(st, 3, &c->call_limit);
	col_uint(st, 4, &c->timeout_s);
	col_uint(st, 5, &c->connect_timeout_s);
	col_uint(st, 6, &c->recovery_s);
	col_uint(st, 7, &c->recovery_extend_s);
	col_bool(st, 8, &c->recovery_multi);
	col_bool(st, 9, &c->timeout_if_empty);
	col_bool(st, 10, &c->force_away);
	col_bool(st, 11, &c->record);
	col_bool(st, 12, &c->show_agents);
	col_bool(st, 13, &c->paused);
	col_text(st, 14, c->escalation_queue, sizeof c->escalation_queue);
	col_text(st, 15, c->escalation_dest, sizeof c->escalation_dest);
	col_text(st, 16, c->zero_out, sizeof c->zero_out);
	col_text(st, 17, c->hold, sizeof c->hold);
	col_text(st, 18, c->lang, sizeof c->lang);
	store_col_setting(st, 19, c, "wait_estimate");
	col_uint(st, 20, &c->service_level_s);
	store_col_setting(st, 21, c, "retry_rejected");
	store_col_setting(st, 22, c, "retry_timeout");
	store_col_setting(st, 23, c, "retry_unreachable");
	col_text(st, 24, c->dids, sizeof c->dids);
	col_uint(st, 25, &c->priority_step_s);
	for (int i = 0; store_callback_keys[i]; i++)
		store_col_setting(st, 26 + i, c, store_callback_keys[i]);
}

static int store_load_queues(store_t *s, engine_t *e, eng_ms now)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT name, " Q_COLS " FROM queues ORDER BY id");
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct eng_queue_conf c;
		store_row_queue(st, &c);
		if (!engine_queue_add(e, now, &c))
			log_warn("store", "queue %s: refused by the engine, not loaded", c.name);
	}
	return store_finish(s, st, rc);
}

/* The last answered waits of each queue, from the journal, for the wait
 * announcement (engine_queue_restore_waits). */
static int store_load_waits(store_t *s, engine_t *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT value FROM (SELECT id, value FROM journal "
	                                    "WHERE event = 'call.answer' AND queue = ?1 "
	                                    "ORDER BY id DESC LIMIT 5) ORDER BY id");
	eng_id qs[1024];
	size_t nq = engine_queue_ids(e, qs, 1024);
	int rc = SQLITE_DONE;
	for (size_t i = 0; st && i < nq; i++) {
		eng_ms waits[5];
		size_t n = 0;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, engine_queue_conf(e, qs[i])->name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 5)
			waits[n++] = sqlite3_column_int64(st, 0);
		if (rc != SQLITE_DONE)
			break;
		engine_queue_restore_waits(e, qs[i], waits, n);
	}
	return st ? store_finish(s, st, rc) : -1;
}

static int store_load_members(store_t *s, engine_t *e,
                              void (*cred)(void *, const char *, const char *), void *ctx)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT login, name, role, sip_ha1 FROM members ORDER BY id");
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *login = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		enum eng_role role = ROLE_AGENT;
		if (!engine_role_parse((const char *)sqlite3_column_text(st, 2), &role) ||
		    !engine_member_add(e, login, name, role)) {
			log_warn("store", "member %s: refused by the engine, not loaded", login);
			continue;
		}
		if (cred)
			cred(ctx, login, (const char *)sqlite3_column_text(st, 3));
	}
	return store_finish(s, st, rc);
}

static int store_load_assign(store_t *s, engine_t *e, eng_ms now)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT q.name, m.login, qm.is_manager, qm.active, "
	                                    "qm.priority "
	                                    "FROM queue_members qm JOIN queues q ON q.id = qm.queue_id "
	                                    "JOIN members m ON m.id = qm.member_id ORDER BY qm.rowid");
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		eng_id q = engine_queue_find(e, (const char *)sqlite3_column_text(st, 0));
		eng_id m = engine_member_find(e, (const char *)sqlite3_column_text(st, 1));
		if (!q || !m || !engine_assign(e, now, q, m, sqlite3_column_int(st, 2) != 0,
		                               sqlite3_column_int(st, 3) != 0) ||
		    !engine_set_priority(e, now, q, m, (unsigned)sqlite3_column_int(st, 4)))
			log_warn("store", "membership %s/%s not loaded", sqlite3_column_text(st, 0),
			         sqlite3_column_text(st, 1));
	}
	return store_finish(s, st, rc);
}

static int store_load_state(store_t *s, engine_t *e, eng_ms now)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT m.login, ms.ready, ms.away_reason "
	                                    "FROM member_state ms JOIN members m ON m.id = ms.member_id "
	                                    "WHERE ms.logged_in ORDER BY m.id");
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		eng_id m = engine_member_find(e, (const char *)sqlite3_column_text(st, 0));
		if (!m || !engine_agent_login(e, now, m))
			continue;
		if (!sqlite3_column_int(st, 1))
			engine_agent_away(e, now, m, (const char *)sqlite3_column_text(st, 2));
	}
	return store_finish(s, st, rc);
}

/* One skill's rules, in order, through skill_rule_parse. -1 if one does not
 * parse (logged: the skill is then not loaded) or the query fails. */
static int store_skill_rules(store_t *s, sqlite3_stmt *rules, const char *name,
                             struct eng_skill_rule *out, size_t *n)
{
	int rc;
	*n = 0;
	while ((rc = sqlite3_step(rules)) == SQLITE_ROW) {
		char err[256] = "too many rules";
		const char *text = (const char *)sqlite3_column_text(rules, 0);
		if (*n == ENG_SKILL_RULES_MAX || skill_rule_parse(text, &out[*n], err, sizeof err) != 0) {
			log_warn("store", "skill %s: rule '%s': %s; skill not loaded", name, text, err);
			return -1;
		}
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		store_set_err(s, sqlite3_errmsg(s->db));
	return rc == SQLITE_DONE ? 0 : -1;
}

static void store_load_skill(store_t *s, engine_t *e, sqlite3_stmt *rules, sqlite3_stmt *skill)
{
	struct eng_skill_rule r[ENG_SKILL_RULES_MAX];
	char err[256];
	size_t n;
	const char *name = (const char *)sqlite3_column_text(skill, 1);
	sqlite3_reset(rules);
	sqlite3_bind_int64(rules, 1, sqlite3_column_int64(skill, 0));
	if (store_skill_rules(s, rules, name, r, &n) == 0 &&
	    engine_skill_set(e, name, sqlite3_column_int(skill, 2) != 0, r, n, err, sizeof err) != 0)
		log_warn("store", "skill %s: %s; not loaded", name, err);
}

static int store_load_skills(store_t *s, engine_t *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT id, name, match_all FROM skills ORDER BY id");
	sqlite3_stmt *rules = st ? store_prepare(s, "SELECT field || ' ' || op || ' ' || value "
	                                            "FROM skill_rules WHERE skill_id = ?1 "
	                                            "ORDER BY position") : NULL;
	int rc = SQLITE_ERROR;
	while (rules && (rc = sqlite3_step(st)) == SQLITE_ROW)
		store_load_skill(s, e, rules, st);
	sqlite3_finalize(rules);
	return st ? store_finish(s, st, rc) : -1;
}

static int store_load_member_skills(store_t *s, engine_t *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT m.login, k.name FROM member_skills ms "
	                                    "JOIN members m ON m.id = ms.member_id "
	                                    "JOIN skills k ON k.id = ms.skill_id ORDER BY ms.rowid");
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *login = (const char *)sqlite3_column_text(st, 0);
		const char *skill = (const char *)sqlite3_column_text(st, 1);
		eng_id m = engine_member_find(e, login);
		if (!m || !engine_skill_assign(e, m, skill, true))
			log_warn("store", "skill %s of %s not loaded", skill, login);
	}
	return store_finish(s, st, rc);
}

/* Recordings still "recording" from an earlier run were cut off when that
 * daemon stopped: their files end early, and nothing else will finish them. */
static int store_recordings_interrupted(store_t *s)
{
	char sql[192];
	snprintf(sql, sizeof sql, "UPDATE recordings SET status = 'failed', "
	                          "error = 'callqd stopped while recording' "
	                          "WHERE status = 'recording' AND run <> %lld", (long long)s->run);
	return store_exec(s, sql);
}

int store_load(store_t *s, engine_t *e, eng_ms now,
               void (*cred)(void *ctx, const char *login, const char *ha1), void *ctx)
{
	s->eng = e;
	if (store_load_queues(s, e, now) != 0 || store_load_waits(s, e) != 0 ||
	    store_load_members(s, e, cred, ctx) != 0 ||
	    store_load_assign(s, e, now) != 0 || store_load_state(s, e, now) != 0 ||
	    store_load_skills(s, e) != 0 || store_load_member_skills(s, e) != 0 ||
	    store_recordings_interrupted(s) != 0) {
		log_error("store", "load: %s", s->errmsg);
		return -1;
	}
	/* Restored state is not news: the events it produced must not reach the
	 * journal or subscribers as if agents had just logged in. */
	struct eng_action a;
	while (engine_next_action(e, &a))
		;
	return 0;
}

/* ---- queues and members ---- */

static void store_bind_queue(sqlite3_stmt *st, const struct eng_queue_conf *c)
{
	bind_text(st, ":name", c->name);
	bind_text(st, ":number", c->number);
	bind_text(st, ":strategy", engine_strategy_name(c->strategy));
	bind_int(st, ":call_limit", c->call_limit);
	bind_int(st, ":timeout", c->timeout_s);
	bind_int(st, ":connect_timeout", c->connect_timeout_s);
	bind_int(st, ":recovery", c->recovery_s);
	bind_int(st, ":recovery_extend", c->recovery_extend_s);
	bind_int(st, ":recovery_multi", c->recovery_multi);
	bind_int(st, ":timeout_if_empty", c->timeout_if_empty);
	bind_int(st, ":force_away", c->force_away);
	bind_int(st, ":record", c->record);
	bind_int(st, ":show_agents", c->show_agents);
	bind_int(st, ":paused", c->paused);
	bind_text(st, ":escalation_queue", c->escalation_queue);
	bind_text(st, ":escalation_dest", c->escalation_dest);
	bind_text(st, ":zero_out", c->zero_out);
	bind_text(st, ":hold", c->hold);
	bind_text(st, ":lang", c->lang);
	bind_int(st, ":service_level", c->service_level_s);
	bind_int(st, ":retry_rejected", c->retry_rejected_s);
	bind_int(st, ":retry_timeout", c->retry_timeout_s);
	bind_int(st, ":retry_unreachable", c->retry_unreachable_s);
	bind_text(st, ":dids", c->dids);
	bind_int(st, ":priority_step", c->priority_step_s);
}

/* The wait estimator as qconf's text; NULL (the default) if qconf has none. */
static void store_bind_setting(sqlite3_stmt *st, const char *name, const struct eng_queue_conf *c,
                               const char *key, char *buf, size_t cap)
{
	if (qconf_get(c, key, buf, cap) == 0)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, name), buf, -1, SQLITE_STATIC);
}

enum store_err store_queue_put(store_t *s, const struct eng_queue_conf *c, bool create)
{
	sqlite3_stmt *st = store_stmt(s, create ? ST_QUEUE_INSERT : ST_QUEUE_UPDATE);
	if (!st)
		return STORE_FAILED;
	char estimate[32], cb[8][ENG_NAME_MAX + 1], param[40];
	store_bind_queue(st, c);
	store_bind_setting(st, ":wait_estimate", c, "wait_estimate", estimate, sizeof estimate);
	for (int i = 0; store_callback_keys[i]; i++) {
		snprintf(param, sizeof param, ":%s", store_callback_keys[i]);
		store_bind_setting(st, param, c, store_callback_keys[i], cb[i], sizeof cb[i]);
	}
	return store_change(s, st);
}

enum store_err store_queue_del(store_t *s, const char *name)
{
	sqlite3_stmt *st = store_stmt(s, ST_QUEUE_DELETE);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":name", name);
	return store_change(s, st);
}

enum store_err store_member_put(store_t *s, const struct store_member *m, bool create)
{
	sqlite3_stmt *st = store_stmt(s, create ? ST_MEMBER_INSERT : ST_MEMBER_UPDATE);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", m->login);
	bind_text(st, ":name", m->name ? m->name : "");
	bind_text(st, ":role", engine_role_name(m->role));
	bind_text(st, ":ha1", m->ha1);
	bind_text(st, ":pwhash", m->pwhash);
	bind_int(st, ":record", m->record);
	return store_change(s, st);
}

bool store_member_pwhash(store_t *s, const char *login, char *out, size_t cap)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_PWHASH);
	if (!st)
		return false;
	bind_text(st, ":login", login);
	bool ok = sqlite3_step(st) == SQLITE_ROW &&
	          (size_t)sqlite3_column_bytes(st, 0) < cap;
	if (ok)
		store_copy(out, cap, sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return ok;
}

enum store_err store_member_del(store_t *s, const char *login)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_DELETE);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", login);
	return store_change(s, st);
}

bool store_member_record(store_t *s, const char *login)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_RECORD);
	if (!st)
		return false;
	bind_text(st, ":login", login);
	bool record = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return record;
}

bool store_member_secure(store_t *s, const char *login)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_SECURE);
	if (!st)
		return false;
	bind_text(st, ":login", login);
	bool secure = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return secure;
}

enum store_err store_member_set_secure(store_t *s, const char *login, bool secure)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_SECURE_SET);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", login);
	bind_int(st, ":secure", secure);
	return store_change(s, st);
}

enum store_err store_assign(store_t *s, const char *queue, const char *login, bool manager,
                            bool active)
{
	sqlite3_stmt *st = store_stmt(s, ST_ASSIGN);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":queue", queue);
	bind_text(st, ":login", login);
	bind_int(st, ":manager", manager);
	bind_int(st, ":active", active);
	return store_change(s, st);
}

enum store_err store_unassign(store_t *s, const char *queue, const char *login)
{
	sqlite3_stmt *st = store_stmt(s, ST_UNASSIGN);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":queue", queue);
	bind_text(st, ":login", login);
	return store_change(s, st);
}

enum store_err store_agent_state(store_t *s, const char *login, bool logged_in, bool ready,
                                 const char *away_reason)
{
	sqlite3_stmt *st = store_stmt(s, ST_STATE);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", login);
	bind_int(st, ":logged_in", logged_in);
	bind_int(st, ":ready", ready);
	bind_text(st, ":reason", away_reason);
	return store_change(s, st);
}

enum store_err store_agent_active(store_t *s, const char *queue, const char *login, bool active)
{
	sqlite3_stmt *st = store_stmt(s, ST_ACTIVE);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":queue", queue);
	bind_text(st, ":login", login);
	bind_int(st, ":active", active);
	return store_change(s, st);
}

enum store_err store_priority(store_t *s, const char *queue, const char *login, unsigned prio)
{
	sqlite3_stmt *st = store_stmt(s, ST_PRIORITY);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":queue", queue);
	bind_text(st, ":login", login);
	bind_int(st, ":priority", prio);
	return store_change(s, st);
}

enum store_err store_agent_session(store_t *s, const char *login, int64_t since_unix_ms)
{
	sqlite3_stmt *st = store_stmt(s, ST_SESSION);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", login);
	if (since_unix_ms)
		bind_int(st, ":since", since_unix_ms);
	return store_change(s, st);
}

int64_t store_agent_since(store_t *s, const char *login)
{
	sqlite3_stmt *st = store_stmt(s, ST_SINCE);
	int64_t since = 0;
	if (!st)
		return 0;
	bind_text(st, ":login", login);
	if (sqlite3_step(st) == SQLITE_ROW)
		since = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return since;
}

void store_member_counts(store_t *s, const char *login, int64_t since_unix_ms, unsigned *handled,
                         unsigned *missed)
{
	sqlite3_stmt *st = store_stmt(s, ST_COUNTS);
	*handled = *missed = 0;
	if (!st)
		return;
	bind_text(st, ":login", login);
	bind_int(st, ":since", since_unix_ms);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*handled = (unsigned)sqlite3_column_int64(st, 0);
		*missed = (unsigned)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
}

enum store_err store_feature_put(store_t *s, const char *code, const char *action)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEATURE_PUT);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":code", code);
	bind_text(st, ":action", action);
	return store_change(s, st);
}

enum store_err store_feature_del(store_t *s, const char *code)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEATURE_DEL);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":code", code);
	return store_change(s, st);
}

/* ---- skills ---- */

/* Runs a write statement whose row count does not matter. */
static enum store_err store_run(store_t *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	enum store_err r = rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc);
	sqlite3_reset(st);
	return r;
}

static enum store_err store_begin(store_t *s)
{
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : store_fail(s, rc);
}

/* Commits if everything went well (e == STORE_OK), else rolls back; the
 * result of the whole transaction. */
static enum store_err store_end(store_t *s, enum store_err e)
{
	if (e == STORE_OK) {
		int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return STORE_OK;
		e = store_fail(s, rc);
	}
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return e;
}

static enum store_err store_skill_rule_add(store_t *s, const char *skill, int position,
                                           const struct eng_skill_rule *r)
{
	sqlite3_stmt *st = store_stmt(s, ST_SKILL_RULE_ADD);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":skill", skill);
	bind_int(st, ":position", position);
	bind_text(st, ":field", store_skill_fields[r->field]);
	bind_text(st, ":op", store_skill_ops[r->op]);
	bind_text(st, ":value", r->value);
	return store_run(s, st);
}

/* Inside a transaction: the skill row, then its rules replaced. */
static enum store_err store_skill_write(store_t *s, const char *name, bool match_all,
                                        const struct eng_skill_rule *r, size_t n)
{
	sqlite3_stmt *st = store_stmt(s, ST_SKILL_UPSERT);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":skill", name);
	bind_int(st, ":match_all", match_all);
	enum store_err e = store_run(s, st);
	if (e == STORE_OK && !(st = store_stmt(s, ST_SKILL_RULES_CLEAR)))
		e = STORE_FAILED;
	if (e == STORE_OK) {
		bind_text(st, ":skill", name);
		e = store_run(s, st);
	}
	for (size_t i = 0; e == STORE_OK && i < n; i++)
		e = store_skill_rule_add(s, name, (int)i, &r[i]);
	return e;
}

enum store_err store_skill_put(store_t *s, const char *name, bool match_all,
                               const char *const *rules, size_t n)
{
	struct eng_skill_rule r[ENG_SKILL_RULES_MAX];
	char err[200];
	if (n > ENG_SKILL_RULES_MAX) {
		snprintf(s->errmsg, sizeof s->errmsg, "at most %d rules", ENG_SKILL_RULES_MAX);
		return STORE_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (skill_rule_parse(rules[i], &r[i], err, sizeof err) != 0) {
			snprintf(s->errmsg, sizeof s->errmsg, "rule '%.40s': %s", rules[i], err);
			return STORE_INVALID;
		}
	}
	enum store_err e = store_begin(s);
	if (e != STORE_OK)
		return e;
	return store_end(s, store_skill_write(s, name, match_all, r, n));
}

enum store_err store_skill_del(store_t *s, const char *name)
{
	sqlite3_stmt *st = store_stmt(s, ST_SKILL_DELETE);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":skill", name);
	return store_change(s, st);
}

enum store_err store_skill_assign(store_t *s, const char *login, const char *skill, bool on)
{
	sqlite3_stmt *st = store_stmt(s, on ? ST_SKILL_GRANT : ST_SKILL_REVOKE);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", login);
	bind_text(st, ":skill", skill);
	return store_change(s, st);
}

/* ---- recordings ---- */

/* Empty text is stored as NULL, as in the journal. */
static void bind_opt(sqlite3_stmt *st, const char *name, const char *v)
{
	if (v && *v)
		bind_text(st, name, v);
}

int64_t store_recording_add(store_t *s, const struct store_recording *r)
{
	sqlite3_stmt *st = store_stmt(s, ST_REC_ADD);
	if (!st)
		return -1;
	bind_text(st, ":kind", store_rec_kinds[r->kind]);
	if (r->call)
		bind_int(st, ":call", r->call);
	bind_int(st, ":run", s->run);
	bind_opt(st, ":queue", r->queue);
	bind_opt(st, ":member", r->member);
	bind_text(st, ":path", r->path);
	bind_int(st, ":started", r->started_unix_ms);
	return store_change(s, st) == STORE_OK ? sqlite3_last_insert_rowid(s->db) : -1;
}

enum store_err store_recording_finish(store_t *s, int64_t id, int64_t duration_ms, bool ok,
                                      const char *error)
{
	sqlite3_stmt *st = store_stmt(s, ST_REC_FINISH);
	if (!st)
		return STORE_FAILED;
	bind_int(st, ":id", id);
	bind_int(st, ":duration", duration_ms < 0 ? 0 : duration_ms);
	bind_text(st, ":status", store_rec_states[ok ? STORE_REC_DONE : STORE_REC_FAILED]);
	bind_text(st, ":error", error);
	return store_change(s, st);
}

/* Index of text in names[0..n), or 0 (the CHECK constraints keep it valid). */
static int store_enum(const unsigned char *text, const char *const *names, int n)
{
	for (int i = 0; text && i < n; i++)
		if (!strcmp((const char *)text, names[i]))
			return i;
	return 0;
}

static void store_row_recording(sqlite3_stmt *st, struct store_recording *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->kind = (enum store_rec_kind)store_enum(sqlite3_column_text(st, 1), store_rec_kinds, 2);
	r->call = (eng_id)sqlite3_column_int64(st, 2);
	r->run = sqlite3_column_int64(st, 3);
	store_copy(r->queue, sizeof r->queue, sqlite3_column_text(st, 4));
	store_copy(r->member, sizeof r->member, sqlite3_column_text(st, 5));
	store_copy(r->path, sizeof r->path, sqlite3_column_text(st, 6));
	r->started_unix_ms = sqlite3_column_int64(st, 7);
	r->duration_ms = sqlite3_column_int64(st, 8);
	r->status = (enum store_rec_status)store_enum(sqlite3_column_text(st, 9), store_rec_states, 3);
	store_copy(r->error, sizeof r->error, sqlite3_column_text(st, 10));
}

size_t store_recordings(store_t *s, const char *queue, const char *member,
                        struct store_recording *out, size_t max)
{
	sqlite3_stmt *st = store_stmt(s, ST_RECS);
	size_t n = 0;
	if (!st)
		return 0;
	bind_opt(st, ":queue", queue);
	bind_opt(st, ":member", member);
	bind_int(st, ":max", (int64_t)max);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		store_row_recording(st, &out[n++]);
	sqlite3_reset(st);
	return n;
}

bool store_recording_get(store_t *s, int64_t id, struct store_recording *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_REC);
	bool found = false;
	if (!st)
		return false;
	bind_int(st, ":id", id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		store_row_recording(st, out);
		found = true;
	}
	sqlite3_reset(st);
	return found;
}

/* ---- lists ---- */

size_t store_features(store_t *s, struct store_feature *out, size_t max)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEATURES);
	size_t n = 0;
	while (st && n < max && sqlite3_step(st) == SQLITE_ROW) {
		store_copy(out[n].code, sizeof out[n].code, sqlite3_column_text(st, 0));
		store_copy(out[n].action, sizeof out[n].action, sqlite3_column_text(st, 1));
		n++;
	}
	if (st)
		sqlite3_reset(st);
	return n;
}

size_t store_trunk_acl(store_t *s, struct store_acl *out, size_t max)
{
	sqlite3_stmt *st = store_stmt(s, ST_ACL);
	size_t n = 0;
	while (st && n < max && sqlite3_step(st) == SQLITE_ROW) {
		store_copy(out[n].cidr, sizeof out[n].cidr, sqlite3_column_text(st, 0));
		n++;
	}
	if (st)
		sqlite3_reset(st);
	return n;
}

enum store_err store_reg_put(store_t *s, const struct store_reg *r)
{
	sqlite3_stmt *st = store_stmt(s, ST_REG_PUT);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", r->login);
	bind_text(st, ":contact", r->contact);
	bind_int(st, ":expires", r->expires_unix);
	bind_text(st, ":src", r->src);
	bind_int(st, ":src_port", r->src_port);
	bind_text(st, ":transport", r->transport[0] ? r->transport : "udp");
	bind_text(st, ":path", r->path);
	bind_text(st, ":instance", r->instance);
	bind_int(st, ":reg_id", r->reg_id);
	return store_change(s, st);
}

enum store_err store_reg_del(store_t *s, const char *login, const char *contact)
{
	sqlite3_stmt *st = store_stmt(s, ST_REG_DEL);
	if (!st)
		return STORE_FAILED;
	bind_text(st, ":login", login);
	bind_text(st, ":contact", contact);
	return store_change(s, st);
}

void store_reg_prune(store_t *s, int64_t now_unix)
{
	sqlite3_stmt *st = store_stmt(s, ST_REG_PRUNE);
	if (!st)
		return;
	bind_int(st, ":now", now_unix);
	store_change(s, st);
}

size_t store_regs(store_t *s, void (*fn)(void *ctx, const struct store_reg *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, ST_REGS);
	size_t n = 0;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		struct store_reg r;
		store_copy(r.login, sizeof r.login, sqlite3_column_text(st, 0));
		store_copy(r.contact, sizeof r.contact, sqlite3_column_text(st, 1));
		r.expires_unix = sqlite3_column_int64(st, 2);
		store_copy(r.src, sizeof r.src, sqlite3_column_text(st, 3));
		r.src_port = (unsigned)sqlite3_column_int(st, 4);
		store_copy(r.transport, sizeof r.transport, sqlite3_column_text(st, 5));
		store_copy(r.path, sizeof r.path, sqlite3_column_text(st, 6));
		store_copy(r.instance, sizeof r.instance, sqlite3_column_text(st, 7));
		r.reg_id = (unsigned)sqlite3_column_int(st, 8);
		fn(ctx, &r);
		n++;
	}
	if (st)
		sqlite3_reset(st);
	return n;
}

/* ---- journal ---- */

void store_journal(store_t *s, int64_t t_unix_ms, const struct eng_action *ev)
{
	if (ev->kind != ACT_EVENT)
		return;
	const char *queue = NULL;
	struct eng_member_view mv = { .login = "" };
	if (s->eng && ev->queue) {
		const struct eng_queue_conf *c = engine_queue_conf(s->eng, ev->queue);
		queue = c ? c->name : NULL;
	}
	if (s->eng && ev->member)
		engine_member_view(s->eng, ev->at, ev->member, &mv);
	store_jnl_push(s->jnl, t_unix_ms, engine_event_name(ev->event), ev->call, queue, mv.login,
	               ev->value, ev->reason);
}

void store_journal_flush(store_t *s)
{
	store_jnl_flush(s->jnl);
}

void store_journal_retention(store_t *s, unsigned days)
{
	store_jnl_retention(s->jnl, days);
}

uint64_t store_journal_dropped(const store_t *s)
{
	return store_jnl_dropped(s->jnl);
}

/* ---- trunk ACL and gateways (control verbs; rare, so prepared per call) ---- */

static enum store_err store_prep(store_t *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		store_set_err(s, sqlite3_errmsg(s->db));
		return STORE_FAILED;
	}
	return STORE_OK;
}

/* Prepares sql, binds :a (text), runs it as a change, finalizes. */
static enum store_err store_change1(store_t *s, const char *sql, const char *a)
{
	sqlite3_stmt *st;
	if (store_prep(s, sql, &st) != STORE_OK)
		return STORE_FAILED;
	bind_text(st, ":a", a);
	enum store_err r = store_change(s, st);
	sqlite3_finalize(st);
	return r;
}

enum store_err store_acl_add(store_t *s, const char *cidr)
{
	return store_change1(s, "INSERT INTO trunk_acl (cidr) VALUES (:a)", cidr);
}

enum store_err store_acl_del(store_t *s, const char *cidr)
{
	return store_change1(s, "DELETE FROM trunk_acl WHERE cidr = :a", cidr);
}

#define GW_COLS "name, uri, username, password, realm, register, expires, from_user"

enum store_err store_gateway_put(store_t *s, const struct store_gateway *g, bool create)
{
	sqlite3_stmt *st;
	const char *sql = create ? "INSERT INTO gateways (" GW_COLS ") VALUES (:name, :uri, "
	                           ":username, :password, :realm, :register, :expires, :from_user)"
	                         : "UPDATE gateways SET (" GW_COLS ") = (:name, :uri, :username, "
	                           ":password, :realm, :register, :expires, :from_user) "
	                           "WHERE name = :name";
	if (store_prep(s, sql, &st) != STORE_OK)
		return STORE_FAILED;
	bind_text(st, ":name", g->name);
	bind_text(st, ":uri", g->uri);
	bind_text(st, ":username", g->username);
	bind_text(st, ":password", g->password);
	bind_text(st, ":realm", g->realm);
	bind_int(st, ":register", g->reg);
	bind_int(st, ":expires", g->expires);
	bind_text(st, ":from_user", g->from_user);
	enum store_err r = store_change(s, st);
	sqlite3_finalize(st);
	return r;
}

enum store_err store_gateway_del(store_t *s, const char *name)
{
	return store_change1(s, "DELETE FROM gateways WHERE name = :a", name);
}

size_t store_gateways(store_t *s, struct store_gateway *out, size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;
	if (store_prep(s, "SELECT " GW_COLS " FROM gateways ORDER BY name", &st) != STORE_OK)
		return 0;
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		struct store_gateway *g = &out[n++];
		store_copy(g->name, sizeof g->name, sqlite3_column_text(st, 0));
		store_copy(g->uri, sizeof g->uri, sqlite3_column_text(st, 1));
		store_copy(g->username, sizeof g->username, sqlite3_column_text(st, 2));
		store_copy(g->password, sizeof g->password, sqlite3_column_text(st, 3));
		store_copy(g->realm, sizeof g->realm, sqlite3_column_text(st, 4));
		g->reg = sqlite3_column_int(st, 5) != 0;
		g->expires = (unsigned)sqlite3_column_int(st, 6);
		store_copy(g->from_user, sizeof g->from_user, sqlite3_column_text(st, 7));
	}
	sqlite3_finalize(st);
	return n;
}

/* ---- pending callbacks ---- */

enum store_err store_callbacks_put(store_t *s, const char *queue, const struct store_callback *cb,
                                   size_t n)
{
	sqlite3_stmt *del = store_prepare(s, "DELETE FROM callbacks WHERE queue_id = " QUEUE_ID);
	sqlite3_stmt *ins = store_prepare(s, "INSERT INTO callbacks (queue_id, position, number, "
	                                     "caller_number, caller_name, callee_number, "
	                                     "entered_unix_ms, attempts) SELECT id, :position, "
	                                     ":number, :caller_number, :caller_name, :callee_number, "
	                                     ":entered, :attempts FROM queues WHERE name = :queue");
	enum store_err r = del && ins ? store_begin(s) : STORE_FAILED;
	if (r == STORE_OK) {
		bind_text(del, ":queue", queue);
		r = store_change(s, del);
		r = r == STORE_NOTFOUND ? STORE_OK : r;   /* none kept before */
	}
	for (size_t i = 0; r == STORE_OK && i < n; i++) {
		sqlite3_reset(ins);
		bind_text(ins, ":queue", queue);
		bind_int(ins, ":position", (int64_t)i + 1);
		bind_text(ins, ":number", cb[i].number);
		bind_text(ins, ":caller_number", cb[i].caller_number);
		bind_text(ins, ":caller_name", cb[i].caller_name);
		bind_text(ins, ":callee_number", cb[i].callee_number);
		bind_int(ins, ":entered", cb[i].entered_unix_ms);
		bind_int(ins, ":attempts", cb[i].attempts);
		r = store_change(s, ins);
	}
	if (del && ins)
		r = store_end(s, r);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return r;
}

int store_callbacks_load(store_t *s, engine_t *e, eng_ms now, int64_t now_unix_ms)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT q.name, c.number, c.caller_number, "
	                                    "c.caller_name, c.callee_number, c.entered_unix_ms, "
	                                    "c.attempts FROM callbacks c JOIN queues q "
	                                    "ON q.id = c.queue_id ORDER BY q.id, c.position");
	int rc, n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *col[5];
		for (int i = 0; i < 5; i++)
			col[i] = (const char *)sqlite3_column_text(st, i);
		struct eng_call_info ci = { col[2], col[3], col[4], "" };
		eng_ms entered = now - (now_unix_ms - sqlite3_column_int64(st, 5));
		if (engine_callback_restore(e, now, engine_queue_find(e, col[0]), &ci, col[1], entered,
		                            (unsigned)sqlite3_column_int(st, 6)))
			n++;
		else
			log_warn("store", "callback to %s in %s not restored", col[1], col[0]);
	}
	return store_finish(s, st, rc) == 0 ? n : -1;
}

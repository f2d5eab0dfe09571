/* test_store.c — the SQLite store: schema and migrations, demo seed, write
 * round trips through store_load into a real engine (queues, members,
 * skills), recordings, the journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "acd/engine.h"
#include "acd/qconf.h"
#include "core/pwhash.h"
#include "store/sql_embed.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/callq-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/callq.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		char p[128];
		snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The version the embedded migrations bring a database to. */
#define LATEST ((int)(1 + sql_migrations_count))

static enum store_err put_member(store_t *s, const char *login, const char *name,
                                 enum eng_role role, const char *ha1, bool record, bool create)
{
	struct store_member m = { .login = login, .name = name, .role = role, .ha1 = ha1,
		                  .record = record };
	return store_member_put(s, &m, create);
}

static store_t *open_ok(const char *path)
{
	char err[256] = "";
	store_t *s = store_open(path, err, sizeof err);
	if (!s)
		fail_msg("store_open: %s", err);
	return s;
}

/* First column of the first row of `sql`, through a connection of our own. */
static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

struct creds {
	int n;
	char login[8][ENG_NAME_MAX];
	char ha1[8][33];
};

static void collect_cred(void *ctx, const char *login, const char *ha1)
{
	struct creds *c = ctx;
	if (c->n < 8) {
		snprintf(c->login[c->n], sizeof c->login[0], "%s", login);
		snprintf(c->ha1[c->n], sizeof c->ha1[0], "%s", ha1);
		c->n++;
	}
}

static const char *cred_of(const struct creds *c, const char *login)
{
	for (int i = 0; i < c->n; i++) {
		if (strcmp(c->login[i], login) == 0)
			return c->ha1[i];
	}
	return NULL;
}

static engine_t *load(store_t *s, struct creds *creds)
{
	engine_t *e = engine_new();
	assert_int_equal(store_load(s, e, 1000, creds ? collect_cred : NULL, creds), 0);
	struct eng_action a;
	assert_false(engine_next_action(e, &a));   /* restored state is not news */
	return e;
}

static struct eng_member_view member(engine_t *e, const char *login)
{
	struct eng_member_view v;
	eng_id m = engine_member_find(e, login);
	if (!m || !engine_member_view(e, 1000, m, &v))
		fail_msg("member %s not loaded", login);
	return v;
}

static void assert_membership(engine_t *e, const char *queue, const char *login, bool manager,
                              bool active)
{
	bool is_manager = !manager, is_active = !active;
	assert_true(engine_is_member(e, engine_queue_find(e, queue), engine_member_find(e, login),
	                             &is_manager, &is_active));
	assert_int_equal(is_manager, manager);
	assert_int_equal(is_active, active);
}

/* ---- schema and migrations ---- */

struct regs_out {
	struct store_reg *v;
	size_t n, max;
};

static void regs_add(void *ctx, const struct store_reg *r)
{
	struct regs_out *o = ctx;
	if (o->n < o->max)
		o->v[o->n] = *r;
	o->n++;
}

/* store_regs into an array, as the tests below read them. */
static size_t regs_of(store_t *s, struct store_reg *out, size_t max)
{
	struct regs_out o = { out, 0, max };
	size_t n = store_regs(s, regs_add, &o);
	assert_int_equal(n, o.n);
	return n;
}

static void test_open_creates_schema(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(store_schema_version(s), LATEST);
	store_close(s);
	assert_true(LATEST >= 2);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), LATEST);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
	                                  "AND name IN ('queues', 'members', 'queue_members', "
	                                  "'member_state', 'feature_codes', 'trunk_acl', "
	                                  "'registrations', 'journal', 'skills', 'skill_rules', "
	                                  "'member_skills', 'recordings')"),
	                 12);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('queues') "
	                                  "WHERE name IN ('lang', 'wait_estimate', 'service_level')"),
	                 3);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('members') "
	                                  "WHERE name = 'password_hash'"),
	                 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
	                                  "AND name = 'journal_t'"),
	                 1);
	/* The database is left in WAL mode for every later connection. */
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static const struct sql_migration test_migrations[] = {
	{ 2, "CREATE TABLE t2 (x INTEGER); INSERT INTO t2 VALUES (2);" },
	{ 3, "ALTER TABLE t2 ADD COLUMN y INTEGER DEFAULT 3;" },
};

static void test_migrations_in_order(void **state)
{
	struct fixture *f = *state;
	char err[256];
	store_t *s = store_open_migrations(f->path, test_migrations, 1, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), 2);
	store_close(s);
	s = store_open_migrations(f->path, test_migrations, 2, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), 3);
	store_close(s);
	assert_int_equal(raw_int(f->path, "SELECT x * 10 + y FROM t2"), 23);
	/* Opening again applies nothing twice. */
	s = store_open_migrations(f->path, test_migrations, 2, err, sizeof err);
	assert_non_null(s);
	store_close(s);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM t2"), 1);
}

static void test_migration_refuses_newer_db(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	/* Version 10: well past what this build knows. */
	static const struct sql_migration far[] = { { 2, "SELECT 1;" }, { 3, "SELECT 1;" },
		                                    { 4, "SELECT 1;" }, { 5, "SELECT 1;" },
		                                    { 6, "SELECT 1;" }, { 7, "SELECT 1;" },
		                                    { 8, "SELECT 1;" }, { 9, "SELECT 1;" },
		                                    { 10, "SELECT 1;" } };
	store_t *s = store_open_migrations(f->path, far, 9, err, sizeof err);
	assert_non_null(s);
	store_close(s);
	assert_null(store_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 10);
}

/* A version 1 database with rows in it moves to the latest version with
 * its rows intact and the new columns at their defaults. */
static void test_migration_002_keeps_data(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	store_t *s = store_open_migrations(f->path, NULL, 0, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), 1);
	store_close(s);
	raw_exec(f->path, "INSERT INTO queues (name, number, strategy) VALUES ('support', '6000', "
	                  "'round-robin'); INSERT INTO members (login, name, role, sip_ha1) "
	                  "VALUES ('1001', 'A', 'agent', 'h1'), ('1100', 'M', 'manager', 'h2')");

	s = open_ok(f->path);
	assert_int_equal(store_schema_version(s), LATEST);
	char hash[PWHASH_TEXT_MAX] = "x";
	assert_true(store_member_pwhash(s, "1001", hash, sizeof hash));
	assert_string_equal(hash, "");   /* set by the first auth with the SIP password */
	engine_t *e = load(s, NULL);
	const struct eng_queue_conf *sup = engine_queue_conf(e, engine_queue_find(e, "support"));
	struct eng_queue_conf def;
	qconf_defaults(&def);
	assert_non_null(sup);
	assert_string_equal(sup->lang, def.lang);
	assert_int_equal(sup->wait_estimate, def.wait_estimate);
	assert_int_equal(sup->service_level_s, def.service_level_s);
	assert_int_equal(sup->retry_rejected_s, def.retry_rejected_s);     /* 003 */
	assert_int_equal(sup->retry_timeout_s, def.retry_timeout_s);
	assert_int_equal(sup->retry_unreachable_s, def.retry_unreachable_s);
	assert_non_null(engine_member_find(e, "1100"));
	engine_free(e);
	store_close(s);
}

static void test_migration_failure_rolls_back(void **state)
{
	struct fixture *f = *state;
	static const struct sql_migration bad[] = {
		{ 2, "CREATE TABLE t2 (x);" },
		{ 3, "CREATE TABLE t3 (x); INSERT INTO no_such_table VALUES (1);" },
	};
	static const struct sql_migration gap[] = { { 2, "SELECT 1;" }, { 4, "SELECT 1;" } };
	char err[256] = "";
	assert_null(store_open_migrations(f->path, bad, 2, err, sizeof err));
	assert_non_null(strstr(err, "no_such_table"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 't3'"), 0);
	assert_null(store_open_migrations(f->path, gap, 2, err, sizeof err));
	assert_non_null(strstr(err, "missing"));
}

static void test_embedded_migrations_are_sorted(void **state)
{
	(void)state;
	int last = 1;
	for (unsigned i = 0; i < sql_migrations_count; i++) {
		assert_int_equal(sql_migrations[i].version, last + 1);
		last = sql_migrations[i].version;
	}
	assert_null(sql_migrations[sql_migrations_count].sql);
}

/* ---- demo data ---- */

static void test_seed_demo(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(store_seed_demo(s), 0);
	assert_int_equal(store_seed_demo(s), 0);   /* not twice */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM members"), 5);

	struct creds creds = { 0 };
	engine_t *e = load(s, &creds);
	eng_id q[4];
	assert_int_equal(engine_queue_ids(e, q, 4), 2);
	const struct eng_queue_conf *sup = engine_queue_conf(e, q[0]);
	const struct eng_queue_conf *sal = engine_queue_conf(e, q[1]);
	assert_string_equal(sup->name, "support");
	assert_string_equal(sup->number, "6000");
	assert_int_equal(sup->strategy, STRAT_ROUND_ROBIN);
	assert_string_equal(sup->hold, "position,pause:2,file:music.wav,wait,repeat");
	assert_string_equal(sup->escalation_queue, "");
	assert_string_equal(sal->name, "sales");
	assert_string_equal(sal->number, "6001");
	assert_int_equal(sal->strategy, STRAT_MOST_IDLE);
	assert_string_equal(sal->escalation_queue, "support");
	for (int i = 0; i < 2; i++) {
		const struct eng_queue_conf *c = i ? sal : sup;
		assert_int_equal(c->connect_timeout_s, 15);
		assert_int_equal(c->recovery_s, 5);
		assert_int_equal(c->timeout_s, 600);
		assert_false(c->paused);
	}

	static const struct { const char *login, *ha1; enum eng_role role; } want[] = {
		{ "1001", "4ad6182b63c4eca8c0c5a57298ff429a", ROLE_AGENT },
		{ "1002", "8aaaa77bc84d26963434109df5b8562f", ROLE_AGENT },
		{ "1003", "d9cb0124048180051f4e4985b3c5fbc1", ROLE_AGENT },
		{ "1100", "999173b651b12128259a4fb4a8e5be74", ROLE_MANAGER },
		{ "1900", "55815812d7e722e3a6df1ba308e52b5a", ROLE_ADMIN },
	};
	assert_int_equal(creds.n, 5);
	for (int i = 0; i < 5; i++) {
		struct eng_member_view v = member(e, want[i].login);
		assert_int_equal(v.role, want[i].role);
		assert_false(v.logged_in);
		assert_string_equal(cred_of(&creds, want[i].login), want[i].ha1);
		/* The control-socket password is its own (pass<login>), salted and
		 * hashed; the SIP password (secret<login>) does not open it. */
		char hash[PWHASH_TEXT_MAX], pw[32], sip[32];
		snprintf(pw, sizeof pw, "pass%s", want[i].login);
		snprintf(sip, sizeof sip, "secret%s", want[i].login);
		assert_true(store_member_pwhash(s, want[i].login, hash, sizeof hash));
		assert_true(pwhash_verify(pw, hash));
		assert_false(pwhash_verify(sip, hash));
	}
	assert_int_equal(raw_int(f->path, "SELECT count(DISTINCT password_hash) FROM members"), 5);
	for (int i = 0; i < 3; i++) {
		assert_membership(e, "support", want[i].login, false, true);
		assert_membership(e, "sales", want[i].login, false, true);
	}
	assert_membership(e, "support", "1100", true, false);
	assert_membership(e, "sales", "1100", true, false);
	assert_false(engine_is_member(e, q[0], engine_member_find(e, "1900"), NULL, NULL));

	struct store_feature feat[16];
	assert_int_equal(store_features(s, feat, 16), 10);
	assert_string_equal(feat[0].code, "*50");
	assert_string_equal(feat[0].action, "login");
	assert_string_equal(feat[9].code, "*59");
	assert_string_equal(feat[9].action, "barge");
	assert_int_equal(store_features(s, feat, 3), 3);
	struct store_acl acl[4];
	assert_int_equal(store_trunk_acl(s, acl, 4), 1);
	assert_string_equal(acl[0].cidr, "127.0.0.1/32");
	engine_free(e);
	store_close(s);
}

/* ---- writes ---- */

static struct eng_queue_conf queue_conf(const char *name, const char *number)
{
	struct eng_queue_conf c;
	qconf_defaults(&c);
	snprintf(c.name, sizeof c.name, "%s", name);
	snprintf(c.number, sizeof c.number, "%s", number);
	return c;
}

static void test_queue_round_trip(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	struct eng_queue_conf c = queue_conf("q1", "7000");
	assert_int_equal(store_queue_put(s, &c, true), STORE_OK);
	assert_int_equal(store_queue_put(s, &c, true), STORE_EXISTS);
	struct eng_queue_conf dup = queue_conf("q2", "7000");
	assert_int_equal(store_queue_put(s, &dup, true), STORE_EXISTS);
	struct eng_queue_conf ghost = queue_conf("ghost", "7999");
	assert_int_equal(store_queue_put(s, &ghost, false), STORE_NOTFOUND);

	c.strategy = STRAT_LEAST_CALLS;
	c.call_limit = 4;
	c.timeout_s = 7200;
	c.connect_timeout_s = 20;
	c.recovery_s = 9;
	c.recovery_extend_s = 30;
	c.recovery_multi = c.timeout_if_empty = c.force_away = c.record = c.show_agents = true;
	c.paused = true;
	snprintf(c.escalation_dest, sizeof c.escalation_dest, "member:1001");
	snprintf(c.zero_out, sizeof c.zero_out, "uri:sip:op@example.com");
	snprintf(c.hold, sizeof c.hold, "file:a.wav,repeat");
	snprintf(c.lang, sizeof c.lang, "fr");
	c.wait_estimate = WAIT_THROUGHPUT;
	c.service_level_s = 45;
	c.retry_rejected_s = 2;
	c.retry_timeout_s = 3600;
	c.retry_unreachable_s = 90;
	snprintf(c.callback_gateway, sizeof c.callback_gateway, "prov");
	c.callback_key = '*';
	c.callback_wait_s = 120;
	c.callback_retries = 4;
	c.callback_retry_delay_s = 600;
	c.callback_open_min = 22 * 60;
	c.callback_close_min = 6 * 60 + 30;
	c.callback_drop = true;
	c.callback_customer_first = true;
	assert_int_equal(store_queue_put(s, &c, false), STORE_OK);
	struct eng_queue_conf q2 = queue_conf("q2", "7002");
	assert_int_equal(store_queue_put(s, &q2, true), STORE_OK);
	store_close(s);

	s = open_ok(f->path);
	engine_t *e = load(s, NULL);
	eng_id ids[4];
	assert_int_equal(engine_queue_ids(e, ids, 4), 2);
	assert_memory_equal(engine_queue_conf(e, ids[0]), &c, sizeof c);
	assert_string_equal(engine_queue_conf(e, ids[1])->name, "q2");
	engine_free(e);

	assert_int_equal(store_queue_del(s, "q1"), STORE_OK);
	assert_int_equal(store_queue_del(s, "q1"), STORE_NOTFOUND);
	e = load(s, NULL);
	assert_int_equal(engine_queue_ids(e, ids, 4), 1);
	assert_string_equal(engine_queue_conf(e, ids[0])->name, "q2");
	engine_free(e);
	store_close(s);
}

static void test_member_round_trip(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(put_member(s, "2001", "Ann", ROLE_AGENT, "aa", false, true), STORE_OK);
	assert_int_equal(put_member(s, "2001", "Ann", ROLE_AGENT, "aa", false, true), STORE_EXISTS);
	assert_int_equal(put_member(s, "2002", "Bob", ROLE_MANAGER, NULL, true, true), STORE_OK);
	assert_int_equal(put_member(s, "2009", "X", ROLE_AGENT, NULL, false, false),
	                 STORE_NOTFOUND);
	/* NULL HA1 keeps the old one. */
	assert_int_equal(put_member(s, "2001", "Ann Lee", ROLE_ADMIN, NULL, true, false), STORE_OK);
	assert_true(store_member_record(s, "2001"));
	assert_false(store_member_record(s, "2009"));
	store_close(s);

	s = open_ok(f->path);
	struct creds creds = { 0 };
	engine_t *e = load(s, &creds);
	struct eng_member_view v = member(e, "2001");
	assert_string_equal(v.name, "Ann Lee");
	assert_int_equal(v.role, ROLE_ADMIN);
	assert_string_equal(cred_of(&creds, "2001"), "aa");
	assert_string_equal(cred_of(&creds, "2002"), "");
	engine_free(e);

	/* The control-socket hash: set, kept by a NULL, read back. */
	char hash[PWHASH_TEXT_MAX];
	assert_true(store_member_pwhash(s, "2001", hash, sizeof hash));
	assert_string_equal(hash, "");
	struct store_member m = { .login = "2001", .name = "Ann Lee", .role = ROLE_ADMIN,
		                  .pwhash = "pbkdf2-sha256$1$00$11", .record = true };
	assert_int_equal(store_member_put(s, &m, false), STORE_OK);
	m.pwhash = NULL;
	m.ha1 = "bb";
	assert_int_equal(store_member_put(s, &m, false), STORE_OK);
	assert_true(store_member_pwhash(s, "2001", hash, sizeof hash));
	assert_string_equal(hash, "pbkdf2-sha256$1$00$11");
	assert_false(store_member_pwhash(s, "2001", hash, 8));   /* does not fit */
	assert_false(store_member_pwhash(s, "2999", hash, sizeof hash));

	assert_int_equal(store_member_del(s, "2002"), STORE_OK);
	assert_int_equal(store_member_del(s, "2002"), STORE_NOTFOUND);
	e = load(s, NULL);
	assert_int_equal(engine_member_find(e, "2002"), 0);
	engine_free(e);
	store_close(s);
}

static void test_assign_and_state_round_trip(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	struct eng_queue_conf a = queue_conf("qa", "7100"), b = queue_conf("qb", "7101");
	assert_int_equal(store_queue_put(s, &a, true), STORE_OK);
	assert_int_equal(store_queue_put(s, &b, true), STORE_OK);
	assert_int_equal(put_member(s, "3001", "C", ROLE_AGENT, "h", false, true), STORE_OK);
	assert_int_equal(put_member(s, "3002", "D", ROLE_AGENT, "h", false, true), STORE_OK);
	assert_int_equal(store_assign(s, "qa", "3001", false, true), STORE_OK);
	assert_int_equal(store_assign(s, "qb", "3001", false, false), STORE_OK);
	assert_int_equal(store_assign(s, "qa", "3002", false, true), STORE_OK);
	assert_int_equal(store_assign(s, "qa", "3002", true, true), STORE_OK);   /* re-assign */
	assert_int_equal(store_assign(s, "nope", "3001", false, true), STORE_NOTFOUND);
	assert_int_equal(store_assign(s, "qa", "nope", false, true), STORE_NOTFOUND);
	assert_int_equal(store_agent_active(s, "qb", "3001", true), STORE_OK);
	assert_int_equal(store_agent_active(s, "qb", "3002", true), STORE_NOTFOUND);
	assert_int_equal(store_agent_state(s, "3001", true, false, "lunch"), STORE_OK);
	assert_int_equal(store_agent_state(s, "3002", true, true, NULL), STORE_OK);
	assert_int_equal(store_agent_state(s, "3002", true, true, ""), STORE_OK);
	assert_int_equal(store_agent_state(s, "nope", true, true, NULL), STORE_NOTFOUND);
	assert_int_equal(store_priority(s, "qa", "3002", 4), STORE_OK);
	assert_int_equal(store_priority(s, "qb", "3002", 4), STORE_NOTFOUND);
	assert_int_equal(store_agent_session(s, "3001", 1700000000123LL), STORE_OK);
	store_close(s);

	s = open_ok(f->path);
	engine_t *e = load(s, NULL);
	assert_int_equal(engine_priority(e, engine_queue_find(e, "qa"), engine_member_find(e, "3002")), 4);
	assert_int_equal(engine_priority(e, engine_queue_find(e, "qa"), engine_member_find(e, "3001")),
	                 ENG_PRIO_DEFAULT);
	assert_int_equal(store_agent_since(s, "3001"), 1700000000123LL);
	assert_int_equal(store_agent_since(s, "3002"), 0);
	assert_membership(e, "qa", "3001", false, true);
	assert_membership(e, "qb", "3001", false, true);
	assert_membership(e, "qa", "3002", true, true);
	struct eng_member_view v = member(e, "3001");
	assert_true(v.logged_in);
	assert_false(v.ready);
	assert_string_equal(v.away_reason, "lunch");
	v = member(e, "3002");
	assert_true(v.logged_in);
	assert_true(v.ready);
	engine_free(e);

	/* Unassigning, and deleting a queue or member, take their dependants along. */
	assert_int_equal(store_unassign(s, "qa", "3001"), STORE_OK);
	assert_int_equal(store_unassign(s, "qa", "3001"), STORE_NOTFOUND);
	assert_int_equal(store_queue_del(s, "qb"), STORE_OK);
	assert_int_equal(store_member_del(s, "3002"), STORE_OK);
	assert_int_equal(store_agent_state(s, "3001", false, false, NULL), STORE_OK);
	e = load(s, NULL);
	eng_id m = engine_member_find(e, "3001");
	assert_false(engine_is_member(e, engine_queue_find(e, "qa"), m, NULL, NULL));
	assert_false(member(e, "3001").logged_in);
	engine_free(e);
	store_close(s);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM queue_members"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM member_state"), 1);
}

/* ---- skills ---- */

static void assert_skill(engine_t *e, const char *name, bool match_all, size_t n,
                         const char *first_value)
{
	struct eng_skill_rule r[ENG_SKILL_RULES_MAX];
	bool all = !match_all;
	size_t got = 0;
	assert_true(engine_skill_get(e, name, &all, r, &got));
	assert_int_equal(all, match_all);
	assert_int_equal(got, n);
	if (n)
		assert_string_equal(r[0].value, first_value);
}

static void test_skills_round_trip(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(put_member(s, "6001", "G", ROLE_AGENT, "h", false, true), STORE_OK);
	assert_int_equal(put_member(s, "6002", "H", ROLE_AGENT, "h", false, true), STORE_OK);
	const char *es[] = { "caller_number starts_with +34", "caller_name matches ^Se(ñ|n)or .*$" };
	const char *fr[] = { "callee_number starts_with 6001" };
	assert_int_equal(store_skill_put(s, "spanish", false, es, 2), STORE_OK);
	assert_int_equal(store_skill_put(s, "french", true, fr, 1), STORE_OK);
	assert_int_equal(store_skill_assign(s, "6001", "spanish", true), STORE_OK);
	assert_int_equal(store_skill_assign(s, "6001", "spanish", true), STORE_OK);   /* twice */
	assert_int_equal(store_skill_assign(s, "6002", "spanish", true), STORE_OK);
	assert_int_equal(store_skill_assign(s, "6002", "french", true), STORE_OK);
	assert_int_equal(store_skill_assign(s, "6009", "french", true), STORE_NOTFOUND);
	assert_int_equal(store_skill_assign(s, "6001", "klingon", true), STORE_NOTFOUND);
	assert_int_equal(store_skill_assign(s, "6001", "french", false), STORE_NOTFOUND);

	/* A bad rule changes nothing, not even the skill's other fields. */
	const char *bad[] = { "callee_number starts_with 7", "caller_colour matches x" };
	assert_int_equal(store_skill_put(s, "french", false, bad, 2), STORE_INVALID);
	assert_non_null(strstr(store_errmsg(s), "caller_colour"));
	const char *many[ENG_SKILL_RULES_MAX + 1];
	for (size_t i = 0; i <= ENG_SKILL_RULES_MAX; i++)
		many[i] = fr[0];
	assert_int_equal(store_skill_put(s, "french", true, many, ENG_SKILL_RULES_MAX + 1),
	                 STORE_INVALID);

	/* Replacing keeps creation order and members. */
	const char *es2[] = { "caller_number starts_with +52" };
	assert_int_equal(store_skill_put(s, "spanish", true, es2, 1), STORE_OK);
	store_close(s);

	s = open_ok(f->path);
	engine_t *e = load(s, NULL);
	const char *names[4];
	assert_int_equal(engine_skill_names(e, names, 4), 2);
	assert_string_equal(names[0], "spanish");
	assert_string_equal(names[1], "french");
	assert_skill(e, "spanish", true, 1, "+52");
	assert_skill(e, "french", true, 1, "6001");
	eng_id m1 = engine_member_find(e, "6001"), m2 = engine_member_find(e, "6002");
	assert_true(engine_member_has_skill(e, m1, "spanish"));
	assert_false(engine_member_has_skill(e, m1, "french"));
	assert_true(engine_member_has_skill(e, m2, "spanish"));
	assert_true(engine_member_has_skill(e, m2, "french"));
	engine_free(e);

	/* Rules with spaces and a regex come back exactly. */
	assert_int_equal(store_skill_put(s, "spanish", false, es, 2), STORE_OK);
	e = load(s, NULL);
	struct eng_skill_rule r[ENG_SKILL_RULES_MAX];
	bool all;
	size_t n;
	assert_true(engine_skill_get(e, "spanish", &all, r, &n));
	assert_int_equal(n, 2);
	assert_int_equal(r[1].field, SKF_CALLER_NAME);
	assert_int_equal(r[1].op, SKOP_MATCHES);
	assert_string_equal(r[1].value, "^Se(ñ|n)or .*$");
	engine_free(e);

	/* Unassigning, deleting a skill or a member take the assignments along. */
	assert_int_equal(store_skill_assign(s, "6002", "french", false), STORE_OK);
	assert_int_equal(store_skill_del(s, "spanish"), STORE_OK);
	assert_int_equal(store_skill_del(s, "spanish"), STORE_NOTFOUND);
	e = load(s, NULL);
	assert_int_equal(engine_skill_names(e, names, 4), 1);
	assert_false(engine_member_has_skill(e, engine_member_find(e, "6002"), "french"));
	engine_free(e);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM skill_rules"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM member_skills"), 0);
	assert_int_equal(store_skill_assign(s, "6001", "french", true), STORE_OK);
	assert_int_equal(store_member_del(s, "6001"), STORE_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM member_skills"), 0);
	store_close(s);
}

/* A rule the engine refuses (a bad pattern slipped into the table) costs
 * that skill only, and loading goes on. */
static void test_skill_bad_pattern_skipped(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	const char *ok[] = { "caller_number starts_with 1" };
	assert_int_equal(store_skill_put(s, "good", true, ok, 1), STORE_OK);
	assert_int_equal(store_skill_put(s, "bad", true, ok, 1), STORE_OK);
	raw_exec(f->path, "UPDATE skill_rules SET op = 'matches', value = '(' WHERE skill_id = "
	                  "(SELECT id FROM skills WHERE name = 'bad')");
	engine_t *e = load(s, NULL);
	const char *names[4];
	assert_int_equal(engine_skill_names(e, names, 4), 1);
	assert_string_equal(names[0], "good");
	engine_free(e);
	store_close(s);
}

/* ---- recordings ---- */

static struct store_recording recording(enum store_rec_kind kind, eng_id call, const char *queue,
                                        const char *member, int64_t started)
{
	struct store_recording r = { .kind = kind, .call = call, .started_unix_ms = started };
	snprintf(r.queue, sizeof r.queue, "%s", queue);
	snprintf(r.member, sizeof r.member, "%s", member);
	snprintf(r.path, sizeof r.path, "/rec/%s-%u.wav", queue[0] ? queue : "vm", call);
	return r;
}

static void test_recordings(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	struct store_recording a = recording(STORE_REC_CALL, 11, "support", "1001", 1000);
	struct store_recording b = recording(STORE_REC_CALL, 12, "sales", "1002", 2000);
	struct store_recording c = recording(STORE_REC_VOICEMAIL, 0, "", "1001", 3000);
	int64_t ia = store_recording_add(s, &a), ib = store_recording_add(s, &b);
	int64_t ic = store_recording_add(s, &c);
	assert_true(ia > 0 && ib > ia && ic > ib);
	assert_int_equal(store_recording_finish(s, ia, 65000, true, NULL), STORE_OK);
	assert_int_equal(store_recording_finish(s, ib, 500, false, "disk full"), STORE_OK);
	assert_int_equal(store_recording_finish(s, 9999, 1, true, NULL), STORE_NOTFOUND);

	struct store_recording out[8];
	assert_int_equal(store_recordings(s, NULL, NULL, out, 8), 3);
	assert_int_equal(out[0].id, ic);   /* newest first */
	assert_int_equal(out[0].kind, STORE_REC_VOICEMAIL);
	assert_int_equal(out[0].status, STORE_REC_RECORDING);
	assert_int_equal(out[0].call, 0);
	assert_string_equal(out[0].queue, "");
	assert_int_equal(out[2].id, ia);
	assert_int_equal(out[2].kind, STORE_REC_CALL);
	assert_int_equal(out[2].call, 11);
	assert_string_equal(out[2].queue, "support");
	assert_string_equal(out[2].member, "1001");
	assert_string_equal(out[2].path, "/rec/support-11.wav");
	assert_int_equal(out[2].started_unix_ms, 1000);
	assert_int_equal(out[2].duration_ms, 65000);
	assert_int_equal(out[2].status, STORE_REC_DONE);
	assert_true(out[2].run > 0);
	assert_int_equal(out[1].status, STORE_REC_FAILED);
	assert_string_equal(out[1].error, "disk full");

	assert_int_equal(store_recordings(s, "sales", NULL, out, 8), 1);
	assert_int_equal(out[0].id, ib);
	assert_int_equal(store_recordings(s, NULL, "1001", out, 8), 2);
	assert_int_equal(store_recordings(s, "support", "1001", out, 8), 1);
	assert_int_equal(store_recordings(s, "support", "1002", out, 8), 0);
	assert_int_equal(store_recordings(s, NULL, NULL, out, 1), 1);
	assert_int_equal(out[0].id, ic);

	/* Loaded by this run: its own unfinished recording is left alone. */
	engine_t *e = load(s, NULL);
	engine_free(e);
	assert_int_equal(store_recordings(s, NULL, "1001", out, 1), 1);
	assert_int_equal(out[0].status, STORE_REC_RECORDING);
	store_close(s);

	/* The next run marks it failed: the daemon that wrote it is gone. */
	usleep(5000);
	s = open_ok(f->path);
	e = load(s, NULL);
	engine_free(e);
	assert_int_equal(store_recordings(s, NULL, "1001", out, 1), 1);
	assert_int_equal(out[0].status, STORE_REC_FAILED);
	assert_non_null(strstr(out[0].error, "stopped"));
	assert_int_equal(store_recordings(s, "support", NULL, out, 1), 1);
	assert_int_equal(out[0].status, STORE_REC_DONE);
	store_close(s);
}

static void test_registrations(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(put_member(s, "4001", "E", ROLE_AGENT, "h", false, true), STORE_OK);
	struct store_reg r = { .login = "4001", .contact = "sip:4001@10.0.0.1:5062", .expires_unix = 100 };
	assert_int_equal(store_reg_put(s, &r), STORE_OK);
	r.expires_unix = 200;
	assert_int_equal(store_reg_put(s, &r), STORE_OK);   /* refresh */
	struct store_reg r2 = { .login = "4001", .contact = "sip:4001@10.0.0.2", .expires_unix = 300 };
	assert_int_equal(store_reg_put(s, &r2), STORE_OK);
	struct store_reg bad = { .login = "4999", .contact = "sip:x@y", .expires_unix = 1 };
	assert_int_equal(store_reg_put(s, &bad), STORE_NOTFOUND);
	store_close(s);

	s = open_ok(f->path);
	struct store_reg out[4];
	assert_int_equal(regs_of(s, out, 4), 2);
	assert_string_equal(out[0].login, "4001");
	assert_string_equal(out[0].contact, "sip:4001@10.0.0.1:5062");
	assert_int_equal(out[0].expires_unix, 200);
	assert_int_equal(out[1].expires_unix, 300);
	assert_int_equal(store_reg_del(s, "4001", "sip:4001@10.0.0.2"), STORE_OK);
	assert_int_equal(store_reg_del(s, "4001", "sip:4001@10.0.0.2"), STORE_NOTFOUND);
	assert_int_equal(regs_of(s, out, 4), 1);
	assert_int_equal(store_member_del(s, "4001"), STORE_OK);
	assert_int_equal(regs_of(s, out, 4), 0);
	store_close(s);
}

/* Version 4: how a REGISTER came is kept; expired rows are pruned; NULL
 * deletes every row of a member. */
static void test_registration_flows(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(put_member(s, "4001", "E", ROLE_AGENT, "h", false, true), STORE_OK);
	struct store_reg r = { .login = "4001", .contact = "sip:4001@10.0.0.1:5062;ob",
		               .src = "2001:db8::7", .src_port = 40123, .transport = "tcp",
		               .path = "<sip:127.0.0.5:5090;lr>", .instance = "<urn:uuid:1>",
		               .reg_id = 1, .expires_unix = 500 };
	assert_int_equal(store_reg_put(s, &r), STORE_OK);
	struct store_reg old = { .login = "4001", .contact = "sip:4001@10.0.0.2", .expires_unix = 100 };
	assert_int_equal(store_reg_put(s, &old), STORE_OK);
	struct store_reg bad = r;
	snprintf(bad.transport, sizeof bad.transport, "sctp");
	snprintf(bad.contact, sizeof bad.contact, "sip:4001@10.0.0.3");
	assert_int_equal(store_reg_put(s, &bad), STORE_FAILED);
	store_close(s);

	s = open_ok(f->path);
	struct store_reg out[4];
	assert_int_equal(regs_of(s, out, 4), 2);
	assert_string_equal(out[0].src, "2001:db8::7");
	assert_int_equal(out[0].src_port, 40123);
	assert_string_equal(out[0].transport, "tcp");
	assert_string_equal(out[0].path, "<sip:127.0.0.5:5090;lr>");
	assert_string_equal(out[0].instance, "<urn:uuid:1>");
	assert_int_equal(out[0].reg_id, 1);
	assert_string_equal(out[1].transport, "udp");
	assert_string_equal(out[1].src, "");
	store_reg_prune(s, 100);
	assert_int_equal(regs_of(s, out, 4), 1);
	assert_string_equal(out[0].contact, "sip:4001@10.0.0.1:5062;ob");
	assert_int_equal(store_reg_del(s, "4001", NULL), STORE_OK);
	assert_int_equal(regs_of(s, out, 4), 0);
	store_close(s);
}

static void test_locked_database_is_busy(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(put_member(s, "5001", "F", ROLE_AGENT, "h", false, true), STORE_BUSY);
	assert_non_null(strstr(store_errmsg(s), "locked"));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(put_member(s, "5001", "F", ROLE_AGENT, "h", false, true), STORE_OK);
	store_close(s);
}

/* ---- journal ---- */

static void test_journal_bulk(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	for (int i = 0; i < 10000; i++) {
		struct eng_action a = { .kind = ACT_EVENT, .event = EV_CALL_ENTER, .call = (eng_id)i + 1,
		                        .value = i };
		store_journal(s, 1700000000000LL + i, &a);
	}
	struct eng_action offer = { .kind = ACT_OFFER, .call = 1 };
	store_journal(s, 1, &offer);   /* not an event: ignored */
	store_journal_flush(s);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal"), 10000);
	assert_int_equal(raw_int(f->path, "SELECT sum(value) FROM journal"), 49995000);
	assert_int_equal(raw_int(f->path, "SELECT count(DISTINCT call) FROM journal"), 10000);
	assert_int_equal(store_journal_dropped(s), 0);
	store_close(s);

	s = open_ok(f->path);
	store_journal_flush(s);   /* nothing queued: returns at once */
	store_close(s);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal"), 10000);
	assert_int_equal(raw_int(f->path, "SELECT max(t_ms) - min(t_ms) FROM journal"), 9999);
}

/* Rows older than the retention go; recent ones stay. The writer prunes when
 * idle, so poll for a bounded time. */
static void test_journal_retention(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	int64_t now = (int64_t)time(NULL) * 1000, day = 86400LL * 1000;
	for (int i = 0; i < 12000; i++) {
		struct eng_action a = { .kind = ACT_EVENT, .event = EV_CALL_ENTER, .call = (eng_id)i + 1 };
		store_journal(s, i < 11000 ? now - 3 * day - i : now - i, &a);
	}
	store_journal_flush(s);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal"), 12000);
	store_journal_retention(s, 2);
	int left = 12000;
	for (int tries = 0; tries < 100 && left != 1000; tries++) {
		usleep(20000);
		left = raw_int(f->path, "SELECT count(*) FROM journal");
	}
	assert_int_equal(left, 1000);
	store_close(s);
}

static void test_journal_names_and_close_flushes(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(store_seed_demo(s), 0);
	engine_t *e = load(s, NULL);
	struct eng_action a = { .kind = ACT_EVENT, .event = EV_CALL_ANSWER, .call = 7, .at = 1000,
	                        .queue = engine_queue_find(e, "sales"),
	                        .member = engine_member_find(e, "1002"), .value = 1234 };
	store_journal(s, 5, &a);
	struct eng_action b = { .kind = ACT_EVENT, .event = EV_AGENT_AWAY, .at = 1000,
	                        .member = engine_member_find(e, "1003"), .reason = "coffee" };
	store_journal(s, 6, &b);
	store_close(s);   /* no explicit flush: closing commits the queue */
	engine_free(e);

	char want[96];
	snprintf(want, sizeof want, "SELECT count(*) FROM journal WHERE t_ms = 5 AND event = '%s'",
	         engine_event_name(EV_CALL_ANSWER));
	assert_int_equal(raw_int(f->path, want), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal WHERE t_ms = 5 AND call = 7 "
	                                  "AND queue = 'sales' AND member = '1002' AND value = 1234 "
	                                  "AND reason IS NULL AND run > 0"),
	                 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal WHERE t_ms = 6 AND call IS NULL "
	                                  "AND queue IS NULL AND member = '1003' AND reason = 'coffee'"),
	                 1);
}

static void test_gateways_and_acl_round_trip(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	struct store_gateway g = { .name = "prov", .uri = "sip:sip.example.net;transport=tcp",
		                   .username = "acct", .password = "s3cret!", .realm = "example",
		                   .reg = true, .expires = 600, .from_user = "+15550100" };
	assert_int_equal(store_gateway_put(s, &g, true), STORE_OK);
	assert_int_equal(store_gateway_put(s, &g, true), STORE_EXISTS);
	struct store_gateway other = { .name = "zz", .uri = "sip:10.0.0.9", .expires = 3600 };
	assert_int_equal(store_gateway_put(s, &other, false), STORE_NOTFOUND);
	assert_int_equal(store_gateway_put(s, &other, true), STORE_OK);
	assert_int_equal(store_acl_add(s, "10.1.0.0/16"), STORE_OK);
	assert_int_equal(store_acl_add(s, "10.1.0.0/16"), STORE_EXISTS);
	store_close(s);

	s = open_ok(f->path);
	struct store_gateway out[4];
	assert_int_equal(store_gateways(s, out, 4), 2);
	assert_string_equal(out[0].name, "prov");
	assert_string_equal(out[0].uri, "sip:sip.example.net;transport=tcp");
	assert_string_equal(out[0].username, "acct");
	assert_string_equal(out[0].password, "s3cret!");
	assert_string_equal(out[0].realm, "example");
	assert_true(out[0].reg);
	assert_int_equal(out[0].expires, 600);
	assert_string_equal(out[0].from_user, "+15550100");
	assert_false(out[1].reg);
	g.reg = false;
	snprintf(g.password, sizeof g.password, "new");
	assert_int_equal(store_gateway_put(s, &g, false), STORE_OK);
	assert_int_equal(store_gateways(s, out, 4), 2);
	assert_false(out[0].reg);
	assert_string_equal(out[0].password, "new");
	assert_int_equal(store_gateway_del(s, "zz"), STORE_OK);
	assert_int_equal(store_gateway_del(s, "zz"), STORE_NOTFOUND);
	assert_int_equal(store_gateways(s, out, 4), 1);

	struct store_acl acl[4];
	assert_int_equal(store_trunk_acl(s, acl, 4), 1);
	assert_string_equal(acl[0].cidr, "10.1.0.0/16");
	assert_int_equal(store_acl_del(s, "10.1.0.0/16"), STORE_OK);
	assert_int_equal(store_acl_del(s, "10.1.0.0/16"), STORE_NOTFOUND);
	assert_int_equal(store_trunk_acl(s, acl, 4), 0);
	store_close(s);
}

/* The wait announcement's last 5 answered waits come back from the journal. */
static void test_wait_estimate_restored(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	assert_int_equal(store_seed_demo(s), 0);
	engine_t *e = load(s, NULL);
	for (int i = 0; i < 7; i++) {
		struct eng_action a = { .kind = ACT_EVENT, .event = EV_CALL_ANSWER, .call = (eng_id)i + 1,
		                        .queue = engine_queue_find(e, "sales"),
		                        .member = engine_member_find(e, "1002"),
		                        .value = i < 2 ? 900000 : 60000 + 1000 * i };
		store_journal(s, 10 + i, &a);
	}
	store_close(s);
	engine_free(e);

	s = open_ok(f->path);
	e = load(s, NULL);
	eng_id c = engine_call_enter(e, 1000, engine_queue_find(e, "sales"), NULL);
	assert_true(c != 0);
	/* The last five: 62..66 s, mean 64 s; the two older 900 s waits are out. */
	assert_int_equal(engine_wait_estimate(e, 1000, c), 64);
	c = engine_call_enter(e, 1000, engine_queue_find(e, "support"), NULL);
	assert_int_equal(engine_wait_estimate(e, 1000, c), 0);
	engine_free(e);
	store_close(s);
}

/* Pending callbacks come back after a restart in their order, with their
 * entry times (wall clock mapped to the engine's) and attempts. */
static void test_callbacks_restored(void **state)
{
	struct fixture *f = *state;
	store_t *s = open_ok(f->path);
	struct eng_queue_conf c = queue_conf("q1", "7000");
	snprintf(c.callback_gateway, sizeof c.callback_gateway, "prov");
	assert_int_equal(store_queue_put(s, &c, true), STORE_OK);
	struct store_callback cb[2] = {
		{ .number = "5550009", .caller_number = "+15550009", .caller_name = "Nine",
		  .entered_unix_ms = 1000000, .attempts = 1 },
		{ .number = "5550001", .caller_number = "+15550001", .entered_unix_ms = 1060000 },
	};
	assert_int_equal(store_callbacks_put(s, "q1", cb, 2), STORE_OK);
	assert_int_equal(store_callbacks_put(s, "q1", cb, 2), STORE_OK);   /* replaces */
	assert_int_equal(store_callbacks_put(s, "nope", cb, 2), STORE_NOTFOUND);
	store_close(s);

	s = open_ok(f->path);
	engine_t *e = load(s, NULL);
	assert_int_equal(store_callbacks_load(s, e, 5000, 1120000), 2);
	struct eng_call_view v[4];
	assert_int_equal(engine_call_list(e, 5000, engine_queue_find(e, "q1"), v, 4), 2);
	assert_string_equal(v[0].callback_number, "5550009");
	assert_string_equal(v[0].caller_name, "Nine");
	assert_int_equal(v[0].wait_ms, 120000);
	assert_int_equal(v[0].attempts, 1);
	assert_string_equal(v[1].callback_number, "5550001");
	assert_int_equal(v[1].wait_ms, 60000);
	engine_free(e);
	assert_int_equal(store_callbacks_put(s, "q1", NULL, 0), STORE_OK);
	e = load(s, NULL);
	assert_int_equal(store_callbacks_load(s, e, 5000, 1120000), 0);
	engine_free(e);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_refuses_newer_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_failure_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_002_keeps_data, setup, teardown),
		cmocka_unit_test(test_embedded_migrations_are_sorted),
		cmocka_unit_test_setup_teardown(test_seed_demo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_and_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_estimate_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skills_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skill_bad_pattern_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recordings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registration_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_database_is_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_bulk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_names_and_close_flushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gateways_and_acl_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callbacks_restored, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

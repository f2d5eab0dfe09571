/* store.h — SQLite persistence: configuration, member state, registrations, journal.
 *
 * The database is the configuration: queues, members, memberships, skills,
 * feature codes, trunk ACL. callqd loads it into the engine at start
 * (store_load) and writes every control-plane change through at once, before
 * the control socket answers OK (WAL, synchronous=NORMAL: a commit is a WAL
 * append, well under a millisecond; busy_timeout is short so a locked database
 * gives ERR busy instead of stalling the SIP loop).
 *
 * High-rate writes — the journal of engine events — never run on the caller's
 * thread: store_journal() copies the record into a bounded ring and a writer
 * thread commits them in batches. If the ring is full the record is counted as
 * dropped and logged once per second; the caller never waits.
 *
 * Schema: db/schema.sql is version 1; db/migrations/NNN-*.sql move a database
 * from version NNN-1 to NNN. Both are compiled into the binary; store_open
 * applies whatever is missing, in order, each in its own transaction, and
 * records the result in PRAGMA user_version.
 */
#ifndef CALLQ_STORE_H
#define CALLQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acd/engine.h"

typedef struct store store_t;

enum store_err { STORE_OK = 0, STORE_NOTFOUND, STORE_EXISTS, STORE_BUSY, STORE_FAILED };

store_t *store_open(const char *path, char *err, size_t errlen);
/* store_open with another migration list (sorted by version): for tests of the
 * migration runner. A database newer than the last version listed is refused. */
struct sql_migration;
store_t *store_open_migrations(const char *path, const struct sql_migration *m, unsigned n,
                               char *err, size_t errlen);
void store_close(store_t *s);          /* flushes the journal first */
int store_schema_version(store_t *s);
/* Seeds the contract's demo data if the database has no queues and no members.
 * Returns 0 (seeded, or nothing to do) or -1. */
int store_seed_demo(store_t *s);

/* Loads queues, members, memberships and member state into a fresh engine.
 * For each member, calls cred(ctx, login, ha1) so the registrar can learn
 * its credentials. The engine is remembered to name the journal's queues and
 * members. Restoring state makes the engine emit events (logins...); they are
 * not news, so store_load drains the outbox before returning. Returns 0 or -1. */
int store_load(store_t *s, engine_t *e, eng_ms now,
               void (*cred)(void *ctx, const char *login, const char *ha1), void *ctx);

/* Queues. */
enum store_err store_queue_put(store_t *s, const struct eng_queue_conf *c, bool create);
enum store_err store_queue_del(store_t *s, const char *name);

/* Members. ha1 = MD5("login:realm:password") in hex; NULL keeps the old one. */
enum store_err store_member_put(store_t *s, const char *login, const char *name,
                                enum eng_role role, const char *ha1, bool record, bool create);
enum store_err store_member_del(store_t *s, const char *login);
bool store_member_record(store_t *s, const char *login);
enum store_err store_assign(store_t *s, const char *queue, const char *login, bool manager, bool active);
enum store_err store_unassign(store_t *s, const char *queue, const char *login);

/* Member state, so a restart keeps who is logged in, ready or paused. */
enum store_err store_agent_state(store_t *s, const char *login, bool logged_in, bool ready,
                                 const char *away_reason);
enum store_err store_agent_active(store_t *s, const char *queue, const char *login, bool active);

/* Feature codes ("*50" -> "login"); fills up to max pairs, returns the count. */
struct store_feature { char code[16]; char action[32]; };
size_t store_features(store_t *s, struct store_feature *out, size_t max);

/* Trunk ACL: source networks allowed to send calls without auth ("127.0.0.1/32"). */
struct store_acl { char cidr[64]; };
size_t store_trunk_acl(store_t *s, struct store_acl *out, size_t max);

/* Registrations, kept so a restart still reaches the phones. */
struct store_reg { char login[ENG_NAME_MAX]; char contact[256]; int64_t expires_unix; };
enum store_err store_reg_put(store_t *s, const struct store_reg *r);
enum store_err store_reg_del(store_t *s, const char *login, const char *contact);
size_t store_regs(store_t *s, struct store_reg *out, size_t max);

/* The journal: one row per engine event (actions other than ACT_EVENT are
 * ignored); t_unix_ms is wall-clock time. Queue and member ids are stored as
 * names, looked up in the engine given to store_load — so call it on the
 * thread that owns the engine. */
void store_journal(store_t *s, int64_t t_unix_ms, const struct eng_action *ev);
/* Blocks until everything queued so far is committed (tests, shutdown). */
void store_journal_flush(store_t *s);
uint64_t store_journal_dropped(const store_t *s);

const char *store_errmsg(store_t *s);

#endif

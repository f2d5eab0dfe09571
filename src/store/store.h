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

enum store_err { STORE_OK = 0, STORE_NOTFOUND, STORE_EXISTS, STORE_BUSY, STORE_FAILED, STORE_INVALID };

store_t *store_open(const char *path, char *err, size_t errlen);
/* store_open with another migration list (sorted by version): for tests of the
 * migration runner. A database newer than the last version listed is refused. */
struct sql_migration;
store_t *store_open_migrations(const char *path, const struct sql_migration *m, unsigned n,
                               char *err, size_t errlen);
void store_close(store_t *s);          /* flushes the journal first */
int store_schema_version(store_t *s);
/* Seeds the contract's demo data if the database has no queues and no members
 * (demo members get their control-socket password hashes too). Returns 0
 * (seeded, or nothing to do) or -1. */
int store_seed_demo(store_t *s);

/* Loads queues, members, memberships, member state and skills into a fresh
 * engine, and marks recordings a stopped daemon left unfinished as failed.
 * For each member, calls cred(ctx, login, ha1) so the registrar can learn
 * its credentials. The engine is remembered to name the journal's queues and
 * members. Restoring state makes the engine emit events (logins...); they are
 * not news, so store_load drains the outbox before returning. Returns 0 or -1. */
int store_load(store_t *s, engine_t *e, eng_ms now,
               void (*cred)(void *ctx, const char *login, const char *ha1), void *ctx);

/* Queues. */
enum store_err store_queue_put(store_t *s, const struct eng_queue_conf *c, bool create);
enum store_err store_queue_del(store_t *s, const char *name);

/* Members. Two independent secrets: the SIP password's digest HA1 and the
 * control password's slow hash. */
struct store_member {
	const char *login, *name;
	enum eng_role role;
	const char *ha1;            /* SIP: MD5("login:realm:password") hex; NULL keeps the old one */
	const char *pwhash;         /* control socket: core/pwhash.h text; NULL keeps the old one
	                             * ("" on a new member: no control password, no `auth`) */
	bool record;
};
enum store_err store_member_put(store_t *s, const struct store_member *m, bool create);
/* The stored control-socket hash ("" if none set yet) into out; false if no
 * such member or it does not fit. */
bool store_member_pwhash(store_t *s, const char *login, char *out, size_t cap);
enum store_err store_member_del(store_t *s, const char *login);
bool store_member_record(store_t *s, const char *login);
/* secure=yes: the member's SIP must come over TLS with SRTP (sip.h). */
bool store_member_secure(store_t *s, const char *login);
enum store_err store_member_set_secure(store_t *s, const char *login, bool secure);
enum store_err store_assign(store_t *s, const char *queue, const char *login, bool manager, bool active);
enum store_err store_unassign(store_t *s, const char *queue, const char *login);

/* Skills (global, per member). Rules are "FIELD OP VALUE" texts as
 * skill_rule_parse (acd/skill.h) reads them; a text it refuses makes the whole
 * put fail (STORE_INVALID, reason in store_errmsg) and nothing changes.
 * Replacing a skill keeps its place in creation order and its members. */
enum store_err store_skill_put(store_t *s, const char *name, bool match_all,
                               const char *const *rules, size_t n);
enum store_err store_skill_del(store_t *s, const char *name);   /* drops its assignments */
/* on: give login the skill (already having it is fine); off: take it away
 * (NOTFOUND if it did not have it). */
enum store_err store_skill_assign(store_t *s, const char *login, const char *skill, bool on);

/* Recordings: call recordings and voicemail messages. */
enum store_rec_kind { STORE_REC_CALL, STORE_REC_VOICEMAIL };
enum store_rec_status { STORE_REC_RECORDING, STORE_REC_DONE, STORE_REC_FAILED };
#define STORE_PATH_MAX 512
struct store_recording {
	int64_t id;                 /* set by the store */
	enum store_rec_kind kind;
	eng_id call;                /* engine call id, 0 if none */
	int64_t run;                /* set by the store: its start time, as in the journal */
	char queue[ENG_NAME_MAX];   /* "" if none */
	char member[ENG_NAME_MAX];  /* agent of a call, owner of a voicemail box; "" if none */
	char path[STORE_PATH_MAX];
	int64_t started_unix_ms;
	int64_t duration_ms;        /* 0 until finished */
	enum store_rec_status status;   /* a new row is STORE_REC_RECORDING */
	char error[128];
};
/* Adds a row in state "recording"; returns its id, or -1. */
int64_t store_recording_add(store_t *s, const struct store_recording *r);
/* Marks it done (ok) or failed with `error` (may be NULL). */
enum store_err store_recording_finish(store_t *s, int64_t id, int64_t duration_ms, bool ok,
                                      const char *error);
/* Rows for this queue and/or member (NULL: any), newest first, at most max. */
size_t store_recordings(store_t *s, const char *queue, const char *member,
                        struct store_recording *out, size_t max);
/* The row with this id; false if there is none. */
bool store_recording_get(store_t *s, int64_t id, struct store_recording *out);

/* Member state, so a restart keeps who is logged in, ready or paused. */
enum store_err store_agent_state(store_t *s, const char *login, bool logged_in, bool ready,
                                 const char *away_reason);
enum store_err store_agent_active(store_t *s, const char *queue, const char *login, bool active);
/* A member's priority level (1..9) in a queue. */
enum store_err store_priority(store_t *s, const char *queue, const char *login, unsigned prio);
/* When the member's session began (wall clock, unix ms; 0 = logged out), kept
 * so a restart does not reset the session's duration; store_agent_since
 * reads it back (0 if logged out or unknown). Call after store_agent_state. */
enum store_err store_agent_session(store_t *s, const char *login, int64_t since_unix_ms);
int64_t store_agent_since(store_t *s, const char *login);
/* The member's call.answer and call.miss events in the journal from
 * since_unix_ms on (as committed so far: the journal is written in batches). */
void store_member_counts(store_t *s, const char *login, int64_t since_unix_ms, unsigned *handled,
                         unsigned *missed);

/* Feature codes ("*50" -> "login"); fills up to max pairs, returns the count. */
struct store_feature { char code[16]; char action[32]; };
size_t store_features(store_t *s, struct store_feature *out, size_t max);
/* Adds or changes one code (the action must be one the schema allows:
 * STORE_FAILED otherwise); removes one (NOTFOUND if absent). */
enum store_err store_feature_put(store_t *s, const char *code, const char *action);
enum store_err store_feature_del(store_t *s, const char *code);

/* Trunk ACL: source networks allowed to send calls without auth ("127.0.0.1/32"). */
struct store_acl { char cidr[64]; };
size_t store_trunk_acl(store_t *s, struct store_acl *out, size_t max);

/* acl.add / acl.del: the text as given (the caller validates it). EXISTS if
 * already listed; NOTFOUND if not listed. */
enum store_err store_acl_add(store_t *s, const char *cidr);
enum store_err store_acl_del(store_t *s, const char *cidr);

/* Outbound gateways (sip/gateway.h validates them). The password is kept in
 * clear: a digest answer needs it or HA1, and HA1 depends on the realm the
 * provider names in its challenge (see db/migrations/005-gateways.sql). */
#define STORE_GW_NAME_MAX 64
#define STORE_GW_URI_MAX 256
#define STORE_GW_SECRET_MAX 128
struct store_gateway {
	char name[STORE_GW_NAME_MAX];
	char uri[STORE_GW_URI_MAX];          /* sip:HOST[:PORT][;transport=..] */
	char username[STORE_GW_NAME_MAX];
	char password[STORE_GW_SECRET_MAX];
	char realm[STORE_GW_SECRET_MAX];     /* "" = the challenge's */
	bool reg;                            /* register with the provider */
	unsigned expires;                    /* seconds asked for in REGISTER */
	char from_user[STORE_GW_NAME_MAX];   /* "" = username */
};
/* create: insert (EXISTS if the name is taken); else update (NOTFOUND). */
enum store_err store_gateway_put(store_t *s, const struct store_gateway *g, bool create);
enum store_err store_gateway_del(store_t *s, const char *name);
size_t store_gateways(store_t *s, struct store_gateway *out, size_t max);

/* Registrations, kept so a restart still reaches the phones: the Contact and
 * how the REGISTER came (source, transport, Path, RFC 5626 instance and
 * reg-id; sizes as in sip/registrar.h). */
struct store_reg {
	char login[ENG_NAME_MAX];
	char contact[256];
	char src[64];
	unsigned src_port;
	char transport[8];
	char path[512];
	char instance[128];
	unsigned reg_id;
	int64_t expires_unix;
};
enum store_err store_reg_put(store_t *s, const struct store_reg *r);
/* contact NULL: every registration of login. */
enum store_err store_reg_del(store_t *s, const char *login, const char *contact);
/* Calls fn for every stored registration (all of them: no cap); how many. */
size_t store_regs(store_t *s, void (*fn)(void *ctx, const struct store_reg *r), void *ctx);
/* Deletes registrations that expired before now_unix. */
void store_reg_prune(store_t *s, int64_t now_unix);

/* The journal: one row per engine event (actions other than ACT_EVENT are
 * ignored); t_unix_ms is wall-clock time. Queue and member ids are stored as
 * names, looked up in the engine given to store_load — so call it on the
 * thread that owns the engine. */
void store_journal(store_t *s, int64_t t_unix_ms, const struct eng_action *ev);
/* Blocks until everything queued so far is committed (tests, shutdown). */
void store_journal_flush(store_t *s);
uint64_t store_journal_dropped(const store_t *s);
/* Journal rows older than `days` are deleted by the writer thread when it is
 * idle, checked hourly; 0 keeps everything. */
void store_journal_retention(store_t *s, unsigned days);

/* Pending callbacks (engine.h), kept so a restart keeps them in their
 * places. The app rewrites a queue's list whenever one changes. */
struct store_callback {
	char number[ENG_NUMBER_MAX];
	char caller_number[ENG_NUMBER_MAX];
	char caller_name[ENG_NAME_MAX];
	char callee_number[ENG_NUMBER_MAX];
	int64_t entered_unix_ms;    /* the caller's first entry */
	unsigned attempts;
};
/* Replaces queue's pending callbacks with cb[0..n), in line order;
 * STORE_NOTFOUND (nothing changed) for an unknown queue with n > 0. */
enum store_err store_callbacks_put(store_t *s, const char *queue, const struct store_callback *cb,
                                   size_t n);
/* Puts them back into the engine (engine_callback_restore) in that order,
 * with their entry times mapped from wall-clock now_unix_ms to monotonic
 * now. After store_load, once the SIP side can place offers: the engine may
 * offer them at once. How many were restored, or -1. */
int store_callbacks_load(store_t *s, engine_t *e, eng_ms now, int64_t now_unix_ms);

const char *store_errmsg(store_t *s);

#endif

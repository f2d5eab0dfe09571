/* journal.h — private to src/store: the journal ring and its writer thread.
 *
 * store_jnl_push() runs on the caller's thread and never waits for the disk:
 * it copies the record into a bounded ring, or counts it as dropped when the
 * ring is full. A writer thread with its own SQLite connection commits the
 * ring in batches, one transaction per batch.
 */
#ifndef CALLQ_STORE_JOURNAL_H
#define CALLQ_STORE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct store_jnl;

/* Opens a second connection to `path` (already created and migrated) and
 * starts the writer. `run` is stored with every row. */
struct store_jnl *store_jnl_start(const char *path, int64_t run, char *err, size_t errlen);
/* Stops after committing everything queued; frees `j`. */
void store_jnl_stop(struct store_jnl *j);

/* `event` must be a string that outlives the store (engine_event_name()).
 * Empty strings and call 0 are stored as NULL. */
void store_jnl_push(struct store_jnl *j, int64_t t_ms, const char *event, uint32_t call,
                    const char *queue, const char *member, int64_t value, const char *reason);
void store_jnl_flush(struct store_jnl *j);
uint64_t store_jnl_dropped(const struct store_jnl *j);
/* Keep `days` of rows (0 = all); older ones are deleted in the background. */
void store_jnl_retention(struct store_jnl *j, unsigned days);

#endif

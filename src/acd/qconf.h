/* qconf.h — queue settings as text: validation, defaults, formatting.
 *
 * Pure functions over struct eng_queue_conf. The control socket (queue.create,
 * queue.set, queue.show) and the store both go through here, so a setting is
 * checked the same way wherever it comes from. Keys are the contract's names.
 */
#ifndef CALLQ_QCONF_H
#define CALLQ_QCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "acd/engine.h"

/* Defaults: round-robin, timeout 600, connect_timeout 15, recovery 5, the
 * standard hold loop, wait_estimate last5, lang en, service_level 20,
 * retry_rejected 5, retry_timeout 5, retry_unreachable 30 (1..3600 each);
 * everything else off or empty. Name and number empty. */
void qconf_defaults(struct eng_queue_conf *c);

/* Sets one key from text. 0 on success; -1 with err naming the key and the
 * reason, and *c unchanged. `paused` is not a key: queue.pause/resume set it. */
int qconf_set(struct eng_queue_conf *c, const char *key, const char *value,
              char *err, size_t errlen);

/* The settable keys in display order, NULL-terminated. */
const char *const *qconf_keys(void);

/* Formats one key the way qconf_set accepts it (booleans as yes/no).
 * 0 on success; -1 for an unknown key or a buffer too small. */
int qconf_get(const struct eng_queue_conf *c, const char *key, char *buf, size_t len);

/* Queue, member and skill names: [A-Za-z0-9_.-]{1,63}. */
bool qconf_name_valid(const char *s);

/* queue:NAME | member:LOGIN | group:L1+L2.. | voicemail:LOGIN | uri:sip(s):..
 * | gateway:NAME/NUMBER | hangup */
bool qconf_dest_valid(const char *s);

#endif

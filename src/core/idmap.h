/* idmap.h — a small open-addressing map from 32-bit ids to pointers.
 *
 * The SIP adapter finds its legs by engine call id and offer id; ids grow
 * monotonically, so a multiplicative hash spreads them well. Linear probing
 * with backward-shift deletion: no tombstones, lookups stay short. The table
 * doubles at 50% load; id 0 marks an empty slot.
 */
#ifndef CALLQ_IDMAP_H
#define CALLQ_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot { uint32_t id; void *ptr; };
struct idmap {
	struct idmap_slot *slots;
	size_t cap, len;       /* cap is a power of two */
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
int idmap_put(struct idmap *m, uint32_t id, void *ptr);   /* replaces; -1 on OOM */
void *idmap_get(const struct idmap *m, uint32_t id);
void *idmap_del(struct idmap *m, uint32_t id);            /* returns the old pointer */
/* Some id in the map, or 0 if it is empty (to drain a map one by one). */
uint32_t idmap_any(const struct idmap *m);

#endif

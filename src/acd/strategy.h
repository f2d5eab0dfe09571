/* strategy.h — the structures that make routing decisions cheap.
 *
 * Internal to the ACD. Each queue keeps its available members in structures
 * ordered for its strategy, updated on every availability change, so picking
 * an agent never walks the queue's members:
 *  - round robin and the skills strategies: a bitset over assignment positions
 *    (plus one bitset per skill); the pick is the nearest set bit after the
 *    cursor, a few word operations per 64 members.
 *  - most-idle and least-offers: an indexed min-heap on (key, position).
 *  - least-calls: buckets by calls handled, a uniform random pick in the
 *    lowest non-empty one (the guide's random tie break).
 * The same heap also orders the engine's timers. Nothing here knows about
 * members or calls: callers embed a strategy_node and get it back.
 */
#ifndef CALLQ_STRATEGY_H
#define CALLQ_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STRATEGY_FROM_START SIZE_MAX
#define STRATEGY_NONE SIZE_MAX

struct strategy_bits {
	uint64_t *w;
	size_t nw;
};

/* Makes room for bits 0..nbits-1 (new ones clear). */
void strategy_bits_reserve(struct strategy_bits *b, size_t nbits);
void strategy_bits_put(struct strategy_bits *b, size_t pos, bool on);
void strategy_bits_clear(struct strategy_bits *b);
void strategy_bits_free(struct strategy_bits *b);
/* Round robin over positions 0..npos-1 seen as a circle: the first set bit
 * after `after` (after itself last), or from 0 with STRATEGY_FROM_START. With
 * nmask > 0 only bits also set in at least one mask count. STRATEGY_NONE if
 * there is none. */
size_t strategy_bits_next(const struct strategy_bits *b, const struct strategy_bits *const *mask,
                          size_t nmask, size_t npos, size_t after);

/* Embedded in whatever a heap or bucket holds; idx is its slot there. */
struct strategy_node {
	size_t idx;                 /* STRATEGY_NONE when in no structure */
};

struct strategy_heap_item {
	int64_t k1, k2;             /* ordered by k1, then k2 */
	struct strategy_node *node;
};

struct strategy_heap {
	struct strategy_heap_item *a;
	size_t n, cap;
};

void strategy_heap_push(struct strategy_heap *h, struct strategy_node *node, int64_t k1, int64_t k2);
void strategy_heap_remove(struct strategy_heap *h, struct strategy_node *node);
/* The least item, or NULL when empty. */
const struct strategy_heap_item *strategy_heap_top(const struct strategy_heap *h);
void strategy_heap_free(struct strategy_heap *h);

struct strategy_bucket {
	struct strategy_node **a;
	size_t n, cap;
};

struct strategy_buckets {
	struct strategy_bucket *b;  /* indexed by key */
	size_t nb;
	size_t min;                 /* lowest non-empty key; meaningless when count == 0 */
	size_t count;
};

void strategy_buckets_add(struct strategy_buckets *bk, struct strategy_node *node, size_t key);
void strategy_buckets_remove(struct strategy_buckets *bk, struct strategy_node *node, size_t key);
/* A uniformly random node of the lowest key, or NULL when empty. */
struct strategy_node *strategy_buckets_pick(const struct strategy_buckets *bk, uint64_t *rng);
void strategy_buckets_clear(struct strategy_buckets *bk);
void strategy_buckets_free(struct strategy_buckets *bk);

/* xorshift64*: the engine's own generator, so routing never reads a clock or
 * touches rand() and tests can seed it. *state must not be 0. */
uint64_t strategy_random(uint64_t *state);

#endif

/* strategy.h — routing strategies: which available agent gets the next offer.
 *
 * Internal to the ACD. The engine builds the list of agents available for a
 * call (in the queue's assignment order) and asks the queue's strategy to pick
 * one. A strategy only chooses; it changes nothing, so each one is a short pure
 * function that tests can drive with hand-made candidate lists.
 */
#ifndef CALLQ_STRATEGY_H
#define CALLQ_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "acd/engine.h"

#define STRATEGY_FROM_START SIZE_MAX

struct strategy_cand {
	eng_id member;
	size_t pos;                 /* place in the queue's assignment order */
	unsigned session_handled;
	unsigned session_offers;
	eng_ms last_end;            /* end of the last queue call, or login time */
};

struct strategy_ctx {
	const struct strategy_cand *cand;   /* available agents, ascending pos */
	size_t n;                   /* at least 1 */
	size_t npos;                /* members in the queue: pos < npos */
	size_t after;               /* round robin: start after this pos, or STRATEGY_FROM_START */
	uint64_t *rng;              /* least-calls tie break */
};

/* Each returns an index into ctx->cand. */
typedef size_t (*strategy_fn)(const struct strategy_ctx *ctx);

size_t strategy_round_robin(const struct strategy_ctx *ctx);
size_t strategy_most_idle(const struct strategy_ctx *ctx);
size_t strategy_least_calls(const struct strategy_ctx *ctx);
size_t strategy_least_offers(const struct strategy_ctx *ctx);

/* NULL for a strategy that is not implemented yet (the skills ones). */
strategy_fn strategy_for(enum eng_strategy s);

/* xorshift64*: the engine's own generator, so routing never reads a clock or
 * touches rand() and tests can seed it. *state must not be 0. */
uint64_t strategy_random(uint64_t *state);

#endif

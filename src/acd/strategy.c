/* strategy.c — see strategy.h. */
#include "acd/strategy.h"

/* Round robin walks the assignment order as a circle, starting just after the
 * agent the queue (or this call) last went to; the nearest available agent
 * along the circle wins. The last agent itself is the farthest, so it is
 * offered again only when nobody else is available. */
size_t strategy_round_robin(const struct strategy_ctx *ctx)
{
	size_t best = 0, best_dist = SIZE_MAX;

	for (size_t i = 0; i < ctx->n; i++) {
		size_t pos = ctx->cand[i].pos, dist;

		if (ctx->after == STRATEGY_FROM_START)
			dist = pos;
		else
			dist = (pos + ctx->npos - ctx->after - 1) % ctx->npos;
		if (dist < best_dist) {
			best_dist = dist;
			best = i;
		}
	}
	return best;
}

/* The agent whose last queue call ended longest ago. A miss does not touch
 * last_end, so a call rejected by the most idle agent goes back to that same
 * agent for as long as it stays available: the guide's rule. */
size_t strategy_most_idle(const struct strategy_ctx *ctx)
{
	size_t best = 0;

	for (size_t i = 1; i < ctx->n; i++)
		if (ctx->cand[i].last_end < ctx->cand[best].last_end)
			best = i;
	return best;
}

/* Fewest calls handled this session; among equals, a uniform random pick so
 * that a group of fresh logins shares the load instead of the first in
 * assignment order taking every call. */
size_t strategy_least_calls(const struct strategy_ctx *ctx)
{
	unsigned least = ctx->cand[0].session_handled;
	size_t ties = 0, pick;

	for (size_t i = 1; i < ctx->n; i++)
		if (ctx->cand[i].session_handled < least)
			least = ctx->cand[i].session_handled;
	for (size_t i = 0; i < ctx->n; i++)
		if (ctx->cand[i].session_handled == least)
			ties++;
	pick = (size_t)(strategy_random(ctx->rng) % ties);
	for (size_t i = 0; i < ctx->n; i++) {
		if (ctx->cand[i].session_handled != least)
			continue;
		if (pick-- == 0)
			return i;
	}
	return 0;
}

/* Fewest offers this session; among equals, the first in assignment order. */
size_t strategy_least_offers(const struct strategy_ctx *ctx)
{
	size_t best = 0;

	for (size_t i = 1; i < ctx->n; i++)
		if (ctx->cand[i].session_offers < ctx->cand[best].session_offers)
			best = i;
	return best;
}

strategy_fn strategy_for(enum eng_strategy s)
{
	switch (s) {
	case STRAT_ROUND_ROBIN: return strategy_round_robin;
	case STRAT_MOST_IDLE: return strategy_most_idle;
	case STRAT_LEAST_CALLS: return strategy_least_calls;
	case STRAT_LEAST_OFFERS: return strategy_least_offers;
	case STRAT_SKILLS_STRICT:
	case STRAT_SKILLS_LOOSE:
		break;
	}
	return NULL;
}

uint64_t strategy_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

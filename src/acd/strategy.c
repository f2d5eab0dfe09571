/* strategy.c — see strategy.h. Out of memory aborts, as in the engine. */
#include "acd/strategy.h"

#include <stdlib.h>
#include <string.h>

static void *strategy_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 8;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p)
		abort();
	*cap = n;
	return p;
}

/* ---- bitsets ---- */

void strategy_bits_reserve(struct strategy_bits *b, size_t nbits)
{
	size_t nw = (nbits + 63) / 64, old = b->nw;

	if (nw <= old)
		return;
	b->w = strategy_grow(b->w, &b->nw, nw, sizeof(*b->w));
	memset(b->w + old, 0, (b->nw - old) * sizeof(*b->w));
}

void strategy_bits_put(struct strategy_bits *b, size_t pos, bool on)
{
	uint64_t bit = 1ULL << (pos % 64);

	strategy_bits_reserve(b, pos + 1);
	if (on)
		b->w[pos / 64] |= bit;
	else
		b->w[pos / 64] &= ~bit;
}

void strategy_bits_clear(struct strategy_bits *b)
{
	if (b->nw)
		memset(b->w, 0, b->nw * sizeof(*b->w));
}

void strategy_bits_free(struct strategy_bits *b)
{
	free(b->w);
	b->w = NULL;
	b->nw = 0;
}

static uint64_t strategy_word(const struct strategy_bits *b, const struct strategy_bits *const *mask,
                              size_t nmask, size_t i)
{
	uint64_t w = b->w[i], m = 0;

	if (nmask == 0)
		return w;
	for (size_t k = 0; k < nmask; k++)
		if (i < mask[k]->nw)
			m |= mask[k]->w[i];
	return w & m;
}

/* First set bit in [from, to), or STRATEGY_NONE. */
static size_t strategy_scan(const struct strategy_bits *b, const struct strategy_bits *const *mask,
                            size_t nmask, size_t from, size_t to)
{
	size_t i = from / 64;
	uint64_t w;

	if (from >= to || i >= b->nw)
		return STRATEGY_NONE;
	w = strategy_word(b, mask, nmask, i) & (~0ULL << (from % 64));
	for (;;) {
		if (w) {
			size_t pos = i * 64 + (size_t)__builtin_ctzll(w);

			return pos < to ? pos : STRATEGY_NONE;
		}
		if (++i >= b->nw || i * 64 >= to)
			return STRATEGY_NONE;
		w = strategy_word(b, mask, nmask, i);
	}
}

size_t strategy_bits_next(const struct strategy_bits *b, const struct strategy_bits *const *mask,
                          size_t nmask, size_t npos, size_t after)
{
	size_t p;

	if (after == STRATEGY_FROM_START || after >= npos)
		return strategy_scan(b, mask, nmask, 0, npos);
	p = strategy_scan(b, mask, nmask, after + 1, npos);
	return p != STRATEGY_NONE ? p : strategy_scan(b, mask, nmask, 0, after + 1);
}

/* ---- indexed min-heap ---- */

static bool strategy_less(const struct strategy_heap_item *x, const struct strategy_heap_item *y)
{
	return x->k1 < y->k1 || (x->k1 == y->k1 && x->k2 < y->k2);
}

static void strategy_place(struct strategy_heap *h, size_t i, struct strategy_heap_item it)
{
	h->a[i] = it;
	it.node->idx = i;
}

static void strategy_sift_up(struct strategy_heap *h, size_t i)
{
	struct strategy_heap_item it = h->a[i];

	while (i > 0 && strategy_less(&it, &h->a[(i - 1) / 2])) {
		strategy_place(h, i, h->a[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	strategy_place(h, i, it);
}

static void strategy_sift_down(struct strategy_heap *h, size_t i)
{
	struct strategy_heap_item it = h->a[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && strategy_less(&h->a[c + 1], &h->a[c]))
			c++;
		if (!strategy_less(&h->a[c], &it))
			break;
		strategy_place(h, i, h->a[c]);
		i = c;
	}
	strategy_place(h, i, it);
}

void strategy_heap_push(struct strategy_heap *h, struct strategy_node *node, int64_t k1, int64_t k2)
{
	struct strategy_heap_item it = { k1, k2, node };

	h->a = strategy_grow(h->a, &h->cap, h->n + 1, sizeof(*h->a));
	h->a[h->n] = it;
	node->idx = h->n++;
	strategy_sift_up(h, node->idx);
}

void strategy_heap_remove(struct strategy_heap *h, struct strategy_node *node)
{
	size_t i = node->idx;
	struct strategy_node *moved;

	node->idx = STRATEGY_NONE;
	if (i == --h->n)
		return;
	moved = h->a[h->n].node;
	strategy_place(h, i, h->a[h->n]);
	strategy_sift_down(h, i);
	strategy_sift_up(h, moved->idx);
}

const struct strategy_heap_item *strategy_heap_top(const struct strategy_heap *h)
{
	return h->n ? &h->a[0] : NULL;
}

void strategy_heap_free(struct strategy_heap *h)
{
	free(h->a);
	memset(h, 0, sizeof(*h));
}

/* ---- buckets ---- */

void strategy_buckets_add(struct strategy_buckets *bk, struct strategy_node *node, size_t key)
{
	struct strategy_bucket *b;

	if (key >= bk->nb) {
		size_t old = bk->nb;

		bk->b = strategy_grow(bk->b, &bk->nb, key + 1, sizeof(*bk->b));
		memset(bk->b + old, 0, (bk->nb - old) * sizeof(*bk->b));
	}
	b = &bk->b[key];
	b->a = strategy_grow(b->a, &b->cap, b->n + 1, sizeof(*b->a));
	b->a[b->n] = node;
	node->idx = b->n++;
	if (bk->count++ == 0 || key < bk->min)
		bk->min = key;
}

void strategy_buckets_remove(struct strategy_buckets *bk, struct strategy_node *node, size_t key)
{
	struct strategy_bucket *b = &bk->b[key];
	size_t i = node->idx;

	if (i != --b->n) {
		b->a[i] = b->a[b->n];
		b->a[i]->idx = i;
	}
	node->idx = STRATEGY_NONE;
	if (--bk->count == 0)
		return;
	while (bk->b[bk->min].n == 0)
		bk->min++;
}

struct strategy_node *strategy_buckets_pick(const struct strategy_buckets *bk, uint64_t *rng)
{
	const struct strategy_bucket *b;

	if (bk->count == 0)
		return NULL;
	b = &bk->b[bk->min];
	return b->a[strategy_random(rng) % b->n];
}

void strategy_buckets_clear(struct strategy_buckets *bk)
{
	for (size_t i = 0; i < bk->nb; i++)
		bk->b[i].n = 0;
	bk->count = 0;
}

void strategy_buckets_free(struct strategy_buckets *bk)
{
	for (size_t i = 0; i < bk->nb; i++)
		free(bk->b[i].a);
	free(bk->b);
	memset(bk, 0, sizeof(*bk));
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

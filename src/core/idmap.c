/* idmap.c — see idmap.h. */
#include "core/idmap.h"

#include <stdlib.h>

static size_t idmap_home(const struct idmap *m, uint32_t id)
{
	return (size_t)((id * 2654435761u) & (uint32_t)(m->cap - 1));
}

void idmap_init(struct idmap *m)
{
	m->slots = NULL;
	m->cap = m->len = 0;
}

void idmap_free(struct idmap *m)
{
	free(m->slots);
	idmap_init(m);
}

static void idmap_insert(struct idmap *m, uint32_t id, void *ptr)
{
	size_t i = idmap_home(m, id);
	while (m->slots[i].id && m->slots[i].id != id)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i].id)
		m->len++;
	m->slots[i].id = id;
	m->slots[i].ptr = ptr;
}

static int idmap_grow(struct idmap *m)
{
	struct idmap old = *m;
	size_t cap = old.cap ? old.cap * 2 : 64;
	m->slots = calloc(cap, sizeof *m->slots);
	if (!m->slots) {
		*m = old;
		return -1;
	}
	m->cap = cap;
	m->len = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].id)
			idmap_insert(m, old.slots[i].id, old.slots[i].ptr);
	free(old.slots);
	return 0;
}

int idmap_put(struct idmap *m, uint32_t id, void *ptr)
{
	if ((m->len + 1) * 2 > m->cap && idmap_grow(m) < 0)
		return -1;
	idmap_insert(m, id, ptr);
	return 0;
}

void *idmap_get(const struct idmap *m, uint32_t id)
{
	if (!m->cap || !id)
		return NULL;
	for (size_t i = idmap_home(m, id); m->slots[i].id; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].id == id)
			return m->slots[i].ptr;
	return NULL;
}

void *idmap_del(struct idmap *m, uint32_t id)
{
	if (!m->cap || !id)
		return NULL;
	size_t i = idmap_home(m, id);
	while (m->slots[i].id != id) {
		if (!m->slots[i].id)
			return NULL;
		i = (i + 1) & (m->cap - 1);
	}
	void *ptr = m->slots[i].ptr;
	m->len--;
	/* Backward-shift: pull later entries of the probe run into the hole. */
	for (size_t j = (i + 1) & (m->cap - 1); m->slots[j].id; j = (j + 1) & (m->cap - 1)) {
		size_t h = idmap_home(m, m->slots[j].id);
		if (((j - h) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].id = 0;
	m->slots[i].ptr = NULL;
	return ptr;
}

uint32_t idmap_any(const struct idmap *m)
{
	for (size_t i = 0; m->len && i < m->cap; i++)
		if (m->slots[i].id)
			return m->slots[i].id;
	return 0;
}

/* arena.c: a region allocator. Memory comes from a chain of blocks; a request that needs more than
 * a block gets a block of its own size. arena_reset keeps the first block so a reused arena (a job
 * worker's) does not return to malloc for every job. */
#include "base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/banned.h"

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN alignof(max_align_t)

struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	alignas(max_align_t) unsigned char mem[];
};

struct arena {
	struct arena_block *head;  /* the block allocations come from; older blocks follow */
	struct arena_block *first; /* the block kept by arena_reset */
	size_t used;
};

static struct arena_block *block_new(size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *arena_new(void)
{
	struct arena *a = xcalloc(1, sizeof(*a));
	a->first = block_new(ARENA_BLOCK_SIZE);
	a->head = a->first;
	return a;
}

static void free_blocks_except_first(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		if (b != a->first)
			free(b);
		b = next;
	}
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	free_blocks_except_first(a);
	free(a->first);
	free(a);
}

void arena_reset(struct arena *a)
{
	free_blocks_except_first(a);
	a->first->next = NULL;
	a->first->used = 0;
	a->head = a->first;
	a->used = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ARENA_ALIGN - sizeof(struct arena_block))
		abort();
	size_t rounded = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	struct arena_block *b = a->head;
	if (b->size - b->used < rounded) {
		if (rounded > ARENA_BLOCK_SIZE / 4) {
			/* A large request gets its own block behind the head, so the head's free
			 * space stays usable for small ones. */
			struct arena_block *big = block_new(rounded);
			big->used = rounded;
			big->next = b->next;
			b->next = big;
			a->used += size;
			memset(big->mem, 0, rounded);
			return big->mem;
		}
		struct arena_block *nb = block_new(ARENA_BLOCK_SIZE);
		nb->next = b;
		a->head = nb;
		b = nb;
	}
	void *p = b->mem + b->used;
	b->used += rounded;
	a->used += size;
	memset(p, 0, rounded);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}

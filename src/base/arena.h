/* arena.h: a region allocator for request- and job-scoped memory (h2o's req->pool).
 * Everything allocated from an arena is released at once by arena_free(). An arena belongs
 * to one thread at a time; it is not locked. Allocation failure aborts. */
#ifndef CX_BASE_ARENA_H
#define CX_BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* Caller frees with arena_free(). */
struct arena *arena_new(void);
void arena_free(struct arena *a);
/* Releases every allocation but keeps the first block for reuse. */
void arena_reset(struct arena *a);

/* Memory aligned for any type; zeroed. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
/* Total bytes handed out since creation or the last reset (for tests and limits). */
size_t arena_used(const struct arena *a);

#endif

/* alloc.h: allocation that aborts on failure, so callers never check for NULL (STYLE §4).
 * Every function here returns memory the caller frees with free(). Thread-safe. */
#ifndef CX_BASE_ALLOC_H
#define CX_BASE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

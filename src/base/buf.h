/* buf.h: a growable byte buffer with a hard maximum (curl's "toobig").
 * The data is always NUL-terminated, so text can be used as a C string. Not locked. */
#ifndef CX_BASE_BUF_H
#define CX_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/err.h"

struct buf {
	char *data;  /* NULL until the first append; NUL-terminated after it */
	size_t len;  /* bytes used, not counting the terminating NUL */
	size_t cap;  /* bytes allocated */
	size_t max;  /* the most len may become; appends beyond it fail with CX_ETOOBIG */
};

void buf_init(struct buf *b, size_t max);
/* Frees the data and leaves b as after buf_init with the same max. */
void buf_release(struct buf *b);
/* Keeps the allocation, sets len to 0. */
void buf_reset(struct buf *b);

/* On CX_ETOOBIG nothing is appended. */
enum cx_err buf_append(struct buf *b, const void *data, size_t len);
enum cx_err buf_puts(struct buf *b, const char *s);
enum cx_err buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum cx_err buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Hands the data to the caller (caller frees with free()); b is left empty. Never NULL. */
char *buf_detach(struct buf *b, size_t *len);

#endif

/* buf.c: a growable byte buffer with a hard maximum. */
#include "base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/banned.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for extra more bytes plus the NUL, growing geometrically but never past max + 1. */
static enum cx_err reserve(struct buf *b, size_t extra)
{
	if (extra > b->max || b->len > b->max - extra)
		return CX_ETOOBIG;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return CX_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1 && b->max + 1 >= need)
		cap = b->max + 1;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return CX_OK;
}

enum cx_err buf_append(struct buf *b, const void *data, size_t len)
{
	enum cx_err rc = reserve(b, len);
	if (rc != CX_OK)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return CX_OK;
}

enum cx_err buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum cx_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return CX_EINVAL;
	enum cx_err rc = reserve(b, (size_t)n);
	if (rc != CX_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return CX_OK;
}

enum cx_err buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum cx_err rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *data = b->data;
	if (len)
		*len = b->len;
	if (!data)
		data = xstrdup("");
	buf_init(b, b->max);
	return data;
}

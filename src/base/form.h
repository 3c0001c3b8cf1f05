/* form.h: application/x-www-form-urlencoded and query-string encoding for outbound requests.
 * egress/ and providers/ sit beside http/, not above it, so they cannot use http_url_encode; this
 * is the base-layer encoder they share. Same output as http_url_encode: RFC 3986 unreserved bytes
 * kept, everything else %XX (so '+' and ' ' are both escaped and no decoder can misread them).
 * Pure functions on a caller-owned struct buf: thread-safe. */
#ifndef CX_BASE_FORM_H
#define CX_BASE_FORM_H

#include "base/buf.h"
#include "base/err.h"

/* Appends the percent-encoded s. CX_ETOOBIG (nothing partial is guaranteed) when b is full. */
enum cx_err form_encode(struct buf *b, const char *s);
/* Appends "name=value", preceded by '&' unless b is empty or ends in '?' or '&' (so it also extends
 * a URL that already has "?"). value NULL appends nothing. */
enum cx_err form_add(struct buf *b, const char *name, const char *value);

#endif

/* form.c: percent-encoding for form bodies and query strings built below http/. */
#include "base/form.h"

#include <stdbool.h>
#include <string.h>

#include "base/banned.h"

enum cx_err form_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	enum cx_err err = CX_OK;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		if (keep) {
			err = buf_append(b, p, 1);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			err = buf_append(b, esc, sizeof(esc));
		}
		if (err)
			goto out;
	}
out:
	return err;
}

enum cx_err form_add(struct buf *b, const char *name, const char *value)
{
	enum cx_err err = CX_OK;
	if (!value)
		goto out;
	if (b->len > 0 && b->data[b->len - 1] != '?' && b->data[b->len - 1] != '&') {
		err = buf_append(b, "&", 1);
		if (err)
			goto out;
	}
	err = form_encode(b, name);
	if (err)
		goto out;
	err = buf_append(b, "=", 1);
	if (err)
		goto out;
	err = form_encode(b, value);
out:
	return err;
}

/* url.c: percent-decoding and encoding, and the k=v&k=v lookup shared by queries and forms. */
#include <stdbool.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/form.h"
#include "http/internal.h"

#include "base/banned.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %00 counts as a bad escape: the result is a C string and a NUL inside it would silently cut
 * the value short (a path "/a%00.png" must not become "/a"). */
char *http_url_decode(struct arena *a, const char *s, size_t len, bool plus_is_space)
{
	char *out = arena_alloc(a, len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\0')
			return NULL;
		if (c == '%') {
			if (len - i < 3)
				return NULL;
			int hi = hex_value(s[i + 1]);
			int lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			out[o++] = ' ';
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return out;
}

/* One encoder for the whole tree: base/form.c's, which egress and providers use too. */
enum cx_err http_url_encode(struct buf *out, const char *s)
{
	return form_encode(out, s);
}

/* Pairs whose key or value is badly escaped are skipped rather than failing the whole string:
 * one broken parameter must not hide the others. The first occurrence of a key wins. */
const char *http_form_lookup(struct arena *a, const char *s, size_t len, const char *name)
{
	if (!s || !name)
		return NULL;
	size_t name_len = strlen(name);
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && s[i] != '&')
			i++;
		size_t end = i;
		i++; /* past '&' */
		if (end == start)
			continue;
		const char *eq = memchr(s + start, '=', end - start);
		size_t key_end = eq ? (size_t)(eq - s) : end;
		/* Cheap reject before decoding: a decoded key is never longer than its raw form. */
		if (key_end - start < name_len)
			continue;
		char *key = http_url_decode(a, s + start, key_end - start, true);
		if (!key || strcmp(key, name) != 0)
			continue;
		if (!eq)
			return arena_strdup(a, "");
		char *value = http_url_decode(a, eq + 1, end - key_end - 1, true);
		if (value)
			return value;
	}
	return NULL;
}

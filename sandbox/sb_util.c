/* sb_util.c: small helpers the Google and Microsoft emulators share: the hex that their page and
 * sync tokens are made of, URL encoding into arena strings, OAuth redirects with query parameters
 * and the JSON body of the /_sandbox control endpoints. Pure functions; no state, no lock. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "sb.h"
#include "base/banned.h"

char *sb_hex_encode(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *out = arena_alloc(a, n * 2 + 1);
	for (size_t i = 0; i < n; i++)
		snprintf(out + i * 2, 3, "%02x", (unsigned char)s[i]);
	out[n * 2] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *sb_hex_decode(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	if (n % 2 != 0 || n > 4096)
		return NULL;
	char *out = arena_alloc(a, n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0 || (hi * 16 + lo) < 0x20)
			return NULL;
		out[i] = (char)(hi * 16 + lo);
	}
	out[n / 2] = '\0';
	return out;
}

char *sb_url_encode(struct arena *a, const char *s)
{
	struct buf b;
	buf_init(&b, 16384);
	char *out = arena_strdup(a, http_url_encode(&b, s) == CX_OK && b.data ? b.data : "");
	buf_release(&b);
	return out;
}

char *sb_redirect_with(struct arena *a, const char *uri, const char *const *kv)
{
	struct buf b;
	buf_init(&b, 65536);
	buf_puts(&b, uri);
	char sep = strchr(uri, '?') ? '&' : '?';
	for (size_t i = 0; kv[i]; i += 2) {
		if (!kv[i + 1])
			continue;
		buf_printf(&b, "%c%s=", sep, kv[i]);
		http_url_encode(&b, kv[i + 1]);
		sep = '&';
	}
	char *out = arena_strdup(a, b.data ? b.data : uri);
	buf_release(&b);
	return out;
}

json_t *sb_control_body(struct http_request *req, json_t **error)
{
	*error = NULL;
	if (!req->body || !req->body_len)
		return json_object();
	json_error_t jerr;
	json_t *v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(v))
		return v;
	json_decref(v);
	*error = json_pack("{s:{s:s,s:s}}", "error", "code", "invalid_request", "message",
	                   "the body must be a JSON object");
	return NULL;
}

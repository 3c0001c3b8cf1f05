/* json.c: strict decoding of untrusted JSON and shape checks. jansson does the parsing; this file
 * adds what it leaves to the caller (depth, raw NUL bytes) and turns its errors into sentences a
 * client can act on. */
#include "base/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define KEY_SHOWN_MAX 64

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	if (!err || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* Copies a key for an error message, shortened and with non-printable bytes replaced, since keys
 * come from the client and the message may be echoed back or logged. */
static void shown_key(const char *key, char out[KEY_SHOWN_MAX + 4])
{
	size_t i = 0;
	for (; i < KEY_SHOWN_MAX && key[i]; i++) {
		unsigned char c = (unsigned char)key[i];
		out[i] = (c < 0x20 || c == 0x7f || c == '\'') ? '?' : (char)c;
	}
	if (key[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* Depth of the deepest container, a scalar being 0. jansson already caps nesting at 2048, so the
 * recursion is bounded; stop as soon as the limit is passed. */
static int depth_of(const json_t *v, int limit)
{
	int deepest = 0;
	if (limit < 0)
		return 1;
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach((json_t *)v, key, child)
		{
			int d = depth_of(child, limit - 1);
			if (d > deepest)
				deepest = d;
			if (deepest > limit)
				break;
		}
		return deepest + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child)
		{
			int d = depth_of(child, limit - 1);
			if (d > deepest)
				deepest = d;
			if (deepest > limit)
				break;
		}
		return deepest + 1;
	}
	return 0;
}

/* jansson appends "near '<token>'" to its messages; for a duplicate key the token is the key. */
static void duplicate_key_message(const json_error_t *je, char *err, size_t err_len)
{
	char key[KEY_SHOWN_MAX + 4];
	const char *near = strstr(je->text, "near '\"");
	if (near) {
		char raw[JSON_ERROR_TEXT_LENGTH];
		const char *start = near + 7;
		size_t len = strlen(start);
		/* drop the closing "' */
		if (len >= 2 && start[len - 1] == '\'' && start[len - 2] == '"')
			len -= 2;
		memcpy(raw, start, len);
		raw[len] = '\0';
		shown_key(raw, key);
		set_err(err, err_len, "duplicate key '%s'", key);
		return;
	}
	set_err(err, err_len, "duplicate key at line %d column %d", je->line, je->column);
}

enum cx_err json_parse_strict(const char *data, size_t len, json_t **out, char *err, size_t err_len)
{
	enum cx_err rc = CX_OK;
	json_error_t je;
	json_t *v = NULL;

	*out = NULL;
	const char *nul = memchr(data, '\0', len);
	if (nul) {
		set_err(err, err_len, "invalid JSON: NUL byte at offset %zu", (size_t)(nul - data));
		rc = CX_EINVAL;
		goto out;
	}
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!v) {
		switch (json_error_code(&je)) {
		case json_error_duplicate_key:
			duplicate_key_message(&je, err, err_len);
			break;
		case json_error_null_character:
			set_err(
			    err, err_len,
			    "invalid JSON at line %d column %d: \\u0000 is not allowed in strings",
			    je.line, je.column);
			break;
		case json_error_premature_end_of_input:
			set_err(err, err_len,
			        "invalid JSON at line %d column %d: unexpected end of input",
			        je.line, je.column);
			break;
		default:
			set_err(err, err_len, "invalid JSON at line %d column %d: %s", je.line,
			        je.column, je.text);
			break;
		}
		rc = CX_EINVAL;
		goto out;
	}
	if (depth_of(v, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
		set_err(err, err_len, "invalid JSON: nested deeper than %d levels", JSON_MAX_DEPTH);
		rc = CX_EINVAL;
		goto out;
	}
	*out = v;
	v = NULL;
out:
	json_decref(v);
	return rc;
}

static const char *kind_phrase(enum json_kind kind)
{
	switch (kind) {
	case JK_STRING:
		return "a string";
	case JK_STRING_OR_NULL:
		return "a string or null";
	case JK_INT:
		return "an integer";
	case JK_BOOL:
		return "true or false";
	case JK_OBJECT:
		return "an object";
	case JK_OBJECT_OR_NULL:
		return "an object or null";
	case JK_ARRAY:
		return "an array";
	case JK_ANY:
		return "any value";
	}
	return "a value";
}

static bool kind_matches(const json_t *v, enum json_kind kind)
{
	switch (kind) {
	case JK_STRING:
		return json_is_string(v);
	case JK_STRING_OR_NULL:
		return json_is_string(v) || json_is_null(v);
	case JK_INT:
		return json_is_integer(v);
	case JK_BOOL:
		return json_is_boolean(v);
	case JK_OBJECT:
		return json_is_object(v);
	case JK_OBJECT_OR_NULL:
		return json_is_object(v) || json_is_null(v);
	case JK_ARRAY:
		return json_is_array(v);
	case JK_ANY:
		return true;
	}
	return false;
}

/* Values built in code (not parsed) can hold anything; check what the parser would have. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			if (c == 0)
				return false;
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

enum cx_err json_check_object(const json_t *obj, const struct json_field *fields, char *err,
                              size_t err_len)
{
	char shown[KEY_SHOWN_MAX + 4];
	const char *key;
	json_t *value;

	if (!json_is_object(obj)) {
		set_err(err, err_len, "expected a JSON object");
		return CX_EINVAL;
	}
	json_object_foreach((json_t *)obj, key, value)
	{
		const struct json_field *f = fields;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (!f->name) {
			shown_key(key, shown);
			set_err(err, err_len, "unknown field '%s'", shown);
			return CX_EINVAL;
		}
		if (!kind_matches(value, f->kind)) {
			set_err(err, err_len, "field '%s' must be %s", f->name,
			        kind_phrase(f->kind));
			return CX_EINVAL;
		}
		if (json_is_string(value)) {
			const char *s = json_string_value(value);
			size_t len = json_string_length(value);
			if (!utf8_valid((const unsigned char *)s, len)) {
				set_err(err, err_len, "field '%s' must be valid UTF-8 without NUL",
				        f->name);
				return CX_EINVAL;
			}
			if (f->max_len && len > f->max_len) {
				set_err(err, err_len, "field '%s' is longer than %zu characters",
				        f->name, f->max_len);
				return CX_EINVAL;
			}
		}
	}
	for (const struct json_field *f = fields; f->name; f++) {
		if (f->required && !json_object_get(obj, f->name)) {
			set_err(err, err_len, "field '%s' is required", f->name);
			return CX_EINVAL;
		}
	}
	return CX_OK;
}

const char *json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

long long json_get_int(const json_t *obj, const char *key, long long dflt)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

bool json_get_bool(const json_t *obj, const char *key, bool dflt)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

char *json_dump_compact(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	/* jansson fails only when out of memory or on a value that contains itself, both bugs
	 * this process cannot recover from (the same policy as xmalloc). */
	if (!s)
		abort();
	return s;
}

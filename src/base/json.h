/* json.h: strict JSON decoding of untrusted input and small helpers for checking a decoded object's
 * shape (STYLE §6). Everything untrusted is parsed with JSON_REJECT_DUPLICATES; the caller then
 * checks fields with json_check_object(). Thread-safe (jansson is, for separate values). */
#ifndef CX_BASE_JSON_H
#define CX_BASE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define JSON_MAX_DEPTH 32

/* Parses exactly one JSON value from data (not NUL-terminated); rejects duplicate keys, NUL bytes,
 * nesting deeper than JSON_MAX_DEPTH and trailing garbage. On CX_EINVAL err (if not NULL) gets a
 * human sentence. Caller owns *out (json_decref). */
enum cx_err json_parse_strict(const char *data, size_t len, json_t **out, char *err, size_t err_len);

/* Field kinds for json_check_object. */
enum json_kind {
	JK_STRING,
	JK_STRING_OR_NULL,
	JK_INT,
	JK_BOOL,
	JK_OBJECT,
	JK_OBJECT_OR_NULL,
	JK_ARRAY,
	JK_ANY,
};

struct json_field {
	const char *name;
	enum json_kind kind;
	bool required;
	size_t max_len; /* strings: most bytes allowed (0 = no limit beyond the body limit) */
};

/* Checks obj is an object whose keys are all in fields (unknown keys are rejected), each of the
 * declared kind, required ones present, strings within max_len and valid UTF-8 without NUL.
 * fields ends with a {NULL} entry. On failure writes "field 'x' must be a string" etc. to err. */
enum cx_err json_check_object(const json_t *obj, const struct json_field *fields, char *err,
			      size_t err_len);

/* Typed getters that return a default when the key is missing or of another type. */
const char *json_get_str(const json_t *obj, const char *key);       /* NULL if absent */
long long json_get_int(const json_t *obj, const char *key, long long dflt);
bool json_get_bool(const json_t *obj, const char *key, bool dflt);

/* Serialises compactly (JSON_COMPACT) into a new string; caller frees with free(). */
char *json_dump_compact(const json_t *v);

#endif

/* fuzz_json: strict JSON parsing of arbitrary bytes, then the shape check and the serialiser on
 * whatever parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct json_field fields[] = {
    {"title", JK_STRING, true, 64},    {"description", JK_STRING_OR_NULL, false, 0},
    {"start", JK_STRING, false, 40},   {"duration", JK_INT, false, 0},
    {"all_day", JK_BOOL, false, 0},    {"meeting", JK_OBJECT_OR_NULL, false, 0},
    {"attendees", JK_ARRAY, false, 0}, {"options", JK_OBJECT, false, 0},
    {"extra", JK_ANY, false, 0},       {NULL, JK_ANY, false, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL;
	char err[256];
	if (json_parse_strict((const char *)data, size, &v, err, sizeof(err)) != CX_OK) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	err[0] = '\0';
	if (json_check_object(v, fields, err, sizeof(err)) != CX_OK && err[0] == '\0')
		abort();
	(void)json_get_str(v, "title");
	(void)json_get_int(v, "duration", 0);
	(void)json_get_bool(v, "all_day", false);
	char *dumped = json_dump_compact(v);
	/* What was dumped is valid JSON again. */
	json_t *again = NULL;
	if (json_parse_strict(dumped, strlen(dumped), &again, err, sizeof(err)) != CX_OK)
		abort();
	if (!json_equal(v, again))
		abort();
	json_decref(again);
	free(dumped);
	json_decref(v);
	return 0;
}

/* fuzz_cookie.c: http_cookie_parse on arbitrary Cookie headers. The input is "name\nheader": the
 * part before the first newline is the cookie name looked up (plus a few fixed names). A found
 * value must be a piece of the header (quotes stripped) and never longer than it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "http/http.h"

#include "base/banned.h"

static void check(struct arena *a, const char *header, const char *name)
{
	const char *value = http_cookie_parse(a, header, name);
	if (!value)
		return;
	if (strlen(value) > strlen(header) || (*value && !strstr(header, value)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly sized NUL-terminated copies, so any read past the end trips ASan. */
	const uint8_t *nl = memchr(data, '\n', size);
	size_t name_len = nl ? (size_t)(nl - data) : 0;
	size_t header_len = nl ? size - name_len - 1 : size;
	char *name = malloc(name_len + 1);
	char *header = malloc(header_len + 1);
	memcpy(name, data, name_len);
	name[name_len] = '\0';
	memcpy(header, nl ? nl + 1 : data, header_len);
	header[header_len] = '\0';

	struct arena *a = arena_new();
	check(a, header, name);
	check(a, header, "calendox_session");
	check(a, header, "a");
	check(a, header, "");
	arena_free(a);
	free(name);
	free(header);
	return 0;
}

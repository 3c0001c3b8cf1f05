/* fuzz_rfc3339: the RFC 3339 and full-date parsers on arbitrary bytes. Whatever parses must
 * format and parse back to the same instant and offset. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/time.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	int64_t t = 0, back = 0;
	int off = 0, back_off = 0;
	char out[64];
	if (time_parse_rfc3339(s, &t, &off) == CX_OK) {
		if (time_format_rfc3339(t, off, out, sizeof(out)) == 0)
			abort();
		if (time_parse_rfc3339(out, &back, &back_off) != CX_OK || back != t ||
		    back_off != off)
			abort();
	}
	if (time_parse_date(s, &t) == CX_OK) {
		if (time_format_date(t, out, sizeof(out)) != 10)
			abort();
		if (time_parse_date(out, &back) != CX_OK || back != t || strcmp(out, s) != 0)
			abort();
	}
	free(s);
	return 0;
}

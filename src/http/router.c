/* router.c: matching a request path against the route table's patterns. */
#include <stdbool.h>
#include <string.h>

#include "base/arena.h"
#include "http/internal.h"

#include "base/banned.h"

/* A path of more segments than any route could have is simply not matched. */
#define MAX_SEGMENTS 64

struct segments {
	const char *start[MAX_SEGMENTS];
	size_t len[MAX_SEGMENTS];
	size_t n;
};

/* Splits "/a/b/" into "a", "b", "" (the leading '/' is dropped). false if it does not start with
 * '/' or has too many segments. */
static bool split(const char *path, struct segments *out)
{
	out->n = 0;
	if (!path || path[0] != '/')
		return false;
	const char *p = path + 1;
	for (;;) {
		if (out->n == MAX_SEGMENTS)
			return false;
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		out->start[out->n] = p;
		out->len[out->n] = len;
		out->n++;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

static bool is_param(const char *seg, size_t len)
{
	return len >= 3 && seg[0] == '{' && seg[len - 1] == '}';
}

static bool method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return true;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static bool path_matches(const struct segments *pat, char **decoded, const struct segments *path)
{
	if (pat->n != path->n)
		return false;
	for (size_t i = 0; i < pat->n; i++) {
		if (is_param(pat->start[i], pat->len[i])) {
			if (decoded[i][0] == '\0')
				return false;
			continue;
		}
		if (strlen(decoded[i]) != pat->len[i] ||
		    memcmp(decoded[i], pat->start[i], pat->len[i]) != 0)
			return false;
	}
	return true;
}

static void allow_add(struct arena *a, const char **allow, const char *method)
{
	if (*allow) {
		/* Route tables are small; a linear check for duplicates is fine. */
		const char *p = *allow;
		size_t mlen = strlen(method);
		while (p && *p) {
			const char *comma = strstr(p, ", ");
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			if (len == mlen && memcmp(p, method, len) == 0)
				return;
			p = comma ? comma + 2 : NULL;
		}
		*allow = arena_printf(a, "%s, %s", *allow, method);
	} else {
		*allow = arena_strdup(a, method);
	}
}

enum http_match http_router_match(struct arena *a, const struct http_route *routes, size_t n,
                                  const char *method, const char *raw_path,
                                  struct http_route_match *out)
{
	struct segments path, pat;
	char *decoded[MAX_SEGMENTS];
	enum http_match result = HTTP_MATCH_NONE;

	memset(out, 0, sizeof(*out));
	if (!split(raw_path, &path)) {
		result = raw_path && raw_path[0] == '/' ? HTTP_MATCH_NONE : HTTP_MATCH_BAD;
		goto out;
	}
	for (size_t i = 0; i < path.n; i++) {
		decoded[i] = http_url_decode(a, path.start[i], path.len[i], false);
		if (!decoded[i]) {
			result = HTTP_MATCH_BAD;
			goto out;
		}
	}
	for (size_t r = 0; r < n; r++) {
		if (!split(routes[r].pattern, &pat) || !path_matches(&pat, decoded, &path))
			continue;
		if (!method_matches(routes[r].method, method)) {
			if (result == HTTP_MATCH_NONE) {
				result = HTTP_MATCH_METHOD;
				out->route = &routes[r];
			}
			allow_add(a, &out->allow, routes[r].method);
			if (strcmp(routes[r].method, "GET") == 0)
				allow_add(a, &out->allow, "HEAD");
			continue;
		}
		memset(out, 0, sizeof(*out));
		out->route = &routes[r];
		for (size_t i = 0; i < pat.n; i++)
			if (is_param(pat.start[i], pat.len[i]))
				out->n_params++;
		out->names = arena_alloc(a, (out->n_params + 1) * sizeof(*out->names));
		out->values = arena_alloc(a, (out->n_params + 1) * sizeof(*out->values));
		size_t k = 0;
		for (size_t i = 0; i < pat.n; i++) {
			if (!is_param(pat.start[i], pat.len[i]))
				continue;
			out->names[k] = arena_strndup(a, pat.start[i] + 1, pat.len[i] - 2);
			out->values[k] = decoded[i];
			k++;
		}
		result = HTTP_MATCH_FOUND;
		goto out;
	}
out:
	return result;
}

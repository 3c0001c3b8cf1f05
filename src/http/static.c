/* static.c: the web app's files from the static root, confined to it. */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/log.h"
#include "http/internal.h"

#include "base/banned.h"

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
};

static const char *content_type_for(const char *file)
{
	const char *slash = strrchr(file, '/');
	const char *dot = strrchr(slash ? slash : file, '.');
	if (dot)
		for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
			if (strcasecmp(dot, content_types[i].ext) == 0)
				return content_types[i].type;
	return "application/octet-stream";
}

/* Dotfiles (".env", ".git/…") and ".." are never served, whatever the file system holds. */
static bool has_dot_segment(const char *path)
{
	for (const char *p = path; (p = strchr(p, '/')) != NULL; p++)
		if (p[1] == '.')
			return true;
	return false;
}

/* realpath() resolves every symlink, so a link that points outside the root (or at a dotfile) is
 * refused here even though the request path looked harmless. Returns an arena path or NULL. */
static char *confine(struct arena *a, const char *root, const char *candidate, bool want_file)
{
	char resolved[PATH_MAX];
	struct stat sb;
	if (!realpath(candidate, resolved))
		return NULL;
	size_t root_len = strlen(root);
	if (strncmp(resolved, root, root_len) != 0 ||
	    (resolved[root_len] != '/' && resolved[root_len] != '\0'))
		return NULL;
	if (has_dot_segment(resolved + root_len))
		return NULL;
	if (stat(resolved, &sb) != 0)
		return NULL;
	if (want_file ? !S_ISREG(sb.st_mode) : !S_ISDIR(sb.st_mode))
		return NULL;
	return arena_strdup(a, resolved);
}

static bool last_segment_has_extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	return strchr(slash ? slash : path, '.') != NULL;
}

/* If-None-Match is a list of entity tags, possibly weak ("W/…"), or "*". */
static bool etag_matches(const char *header, const char *etag)
{
	size_t etag_len = strlen(etag);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len >= 2 && strncmp(p, "W/", 2) == 0) {
			p += 2;
			len -= 2;
		}
		if ((len == 1 && p[0] == '*') || (len == etag_len && memcmp(p, etag, len) == 0))
			return true;
		p = end;
	}
	return false;
}

bool http_static_serve(struct http_request_state *st)
{
	struct http_request *req = &st->req;
	struct arena *a = req->arena;
	const char *root = st->srv->static_root;
	const char *path = req->path;
	char *file = NULL;
	bool fallback = false;
	bool served = false;
	int fd = -1;
	struct stat sb;

	if (!root || !path || path[0] != '/' || has_dot_segment(path) || strlen(path) >= PATH_MAX)
		goto out;
	const char *candidate = arena_printf(a, "%s%s", root, path);
	if (path[strlen(path) - 1] == '/')
		file = confine(a, root, arena_printf(a, "%sindex.html", candidate), true);
	else if (!(file = confine(a, root, candidate, true)) && confine(a, root, candidate, false))
		file = confine(a, root, arena_printf(a, "%s/index.html", candidate), true);
	if (!file && !last_segment_has_extension(path)) {
		/* A client-side route of the web app: the app itself decides what to show. */
		file = confine(a, root, arena_printf(a, "%s/index.html", root), true);
		fallback = true;
	}
	if (!file)
		goto out;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;

	const char *etag = arena_printf(a, "\"%jx-%jx\"", (uintmax_t)sb.st_size,
	                                (uintmax_t)sb.st_mtim.tv_sec * 1000000000u +
	                                    (uintmax_t)sb.st_mtim.tv_nsec);
	const char *cache = !fallback && strncmp(path, "/assets/", 8) == 0
	                        ? "public, max-age=31536000, immutable"
	                        : "no-cache";
	const char *inm = http_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && etag_matches(inm, etag)) {
		struct MHD_Response *r =
		    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		req->route = "static";
		st->static_file = true;
		http_add_header(req, MHD_HTTP_HEADER_ETAG, etag);
		http_queue_response(st, 304, r, 0, cache);
		served = true;
		goto out;
	}
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (!r) {
		log_error("static response failed", "rid=%s", req->request_id);
		goto out;
	}
	fd = -1; /* the response owns it now */
	req->route = "static";
	st->static_file = true;
	http_add_header(req, MHD_HTTP_HEADER_ETAG, etag);
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type_for(file)) !=
	    MHD_YES)
		log_warn("response header refused", "rid=%s header=Content-Type", req->request_id);
	http_queue_response(st, 200, r, (size_t)sb.st_size, cache);
	served = true;
out:
	if (fd >= 0)
		close(fd);
	return served;
}

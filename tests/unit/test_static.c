/* test_static.c: static files through a real server: confinement, content types, caching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "http/http.h"

#include "base/banned.h"

static char base[64]; /* the temp dir; the root is base/www, base/outside.txt lies outside */
static char root[128];
static struct http_server *srv;
static int port;

static void h_health(struct http_request *req)
{
	http_reply(req, 200, "text/plain", "ok", 2);
}

static const struct http_route routes[] = {
    {"GET", "/healthz", h_health},
};

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/cx_static_XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(root, sizeof(root), "%s/www", base);
	dir("www");
	dir("www/assets");
	dir("www/docs");
	dir("www/.hidden");
	put("outside.txt", "outside");
	put("www/index.html", "<html>app</html>");
	put("www/assets/app.js", "console.log(1)");
	put("www/assets/style.css", "a{}");
	put("www/assets/mod.mjs", "export{}");
	put("www/assets/data.json", "{}");
	put("www/assets/logo.svg", "<svg/>");
	put("www/assets/logo.png", "png");
	put("www/assets/font.woff2", "woff");
	put("www/assets/app.js.map", "{}");
	put("www/favicon.ico", "ico");
	put("www/robots.txt", "User-agent: *");
	put("www/blob.bin", "bin");
	put("www/docs/index.html", "docs");
	put("www/.env", "SECRET=1");
	put("www/.hidden/file.txt", "hidden");
	link_to("../outside.txt", "www/link_out.txt");
	link_to("assets/app.js", "www/link_in.js");
	link_to(".env", "www/link_dot.txt");

	struct http_server_options o = {
	    .host = "127.0.0.1",
	    .threads = 1,
	    .max_connections = 32,
	    .idle_timeout_s = 5,
	    .max_body = 1024,
	    .routes = routes,
	    .n_routes = 1,
	    .static_root = root,
	};
	if (http_server_start(&o, &srv) != CX_OK)
		return -1;
	port = http_server_port(srv);
	return 0;
}

static int teardown(void **state)
{
	http_server_stop(srv);
	const char *files[] = {"www/link_out.txt",
	                       "www/link_in.js",
	                       "www/link_dot.txt",
	                       "www/.hidden/file.txt",
	                       "www/.env",
	                       "www/docs/index.html",
	                       "www/blob.bin",
	                       "www/robots.txt",
	                       "www/favicon.ico",
	                       "www/assets/app.js.map",
	                       "www/assets/font.woff2",
	                       "www/assets/logo.png",
	                       "www/assets/logo.svg",
	                       "www/assets/data.json",
	                       "www/assets/mod.mjs",
	                       "www/assets/style.css",
	                       "www/assets/app.js",
	                       "www/index.html",
	                       "outside.txt",
	                       "www/.hidden",
	                       "www/docs",
	                       "www/assets",
	                       "www",
	                       ""};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", base, files[i]);
		remove(path);
	}
	return 0;
}

struct resp {
	long status;
	struct buf body;
	struct buf headers;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

static void fetch(const char *method, const char *path, const char *header, struct resp *r)
{
	char url[512];
	struct curl_slist *hdrs = header ? curl_slist_append(NULL, header) : NULL;
	CURL *c = curl_easy_init();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	buf_init(&r->body, 1 << 20);
	buf_init(&r->headers, 1 << 16);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
}

static void release(struct resp *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

static const char *header(const struct resp *r, const char *name)
{
	static char value[512];
	size_t len = strlen(name);
	for (const char *p = r->headers.data; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if ((size_t)(eol - p) > len && strncasecmp(p, name, len) == 0 && p[len] == ':') {
			const char *v = p + len + 1;
			while (*v == ' ')
				v++;
			snprintf(value, sizeof(value), "%.*s", (int)(eol - v), v);
			return value;
		}
		p = eol + 2;
	}
	return NULL;
}

static void expect_file(const char *path, const char *body, const char *type, const char *cache)
{
	struct resp r;
	fetch("GET", path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data ? r.body.data : "", body);
	assert_string_equal(header(&r, "Content-Type"), type);
	assert_string_equal(header(&r, "Cache-Control"), cache);
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	assert_non_null(header(&r, "ETag"));
	release(&r);
}

static void expect_404(const char *method, const char *path)
{
	struct resp r;
	fetch(method, path, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(header(&r, "Content-Type"), "application/json; charset=utf-8");
	assert_null(strstr(r.body.data, "SECRET"));
	assert_null(strstr(r.body.data, "outside"));
	assert_null(strstr(r.body.data, "<html>"));
	release(&r);
}

static void test_index_and_assets(void **state)
{
	const char *html = "text/html; charset=utf-8";
	expect_file("/", "<html>app</html>", html, "no-cache");
	expect_file("/index.html", "<html>app</html>", html, "no-cache");
	expect_file("/assets/app.js", "console.log(1)", "text/javascript; charset=utf-8",
	            "public, max-age=31536000, immutable");
	expect_file("/docs/", "docs", html, "no-cache");
	expect_file("/docs", "docs", html, "no-cache");
}

static void test_content_types(void **state)
{
	const char *imm = "public, max-age=31536000, immutable";
	expect_file("/assets/style.css", "a{}", "text/css; charset=utf-8", imm);
	expect_file("/assets/mod.mjs", "export{}", "text/javascript; charset=utf-8", imm);
	expect_file("/assets/data.json", "{}", "application/json; charset=utf-8", imm);
	expect_file("/assets/logo.svg", "<svg/>", "image/svg+xml", imm);
	expect_file("/assets/logo.png", "png", "image/png", imm);
	expect_file("/assets/font.woff2", "woff", "font/woff2", imm);
	expect_file("/assets/app.js.map", "{}", "application/json; charset=utf-8", imm);
	expect_file("/favicon.ico", "ico", "image/x-icon", "no-cache");
	expect_file("/robots.txt", "User-agent: *", "text/plain; charset=utf-8", "no-cache");
	expect_file("/blob.bin", "bin", "application/octet-stream", "no-cache");
}

static void test_client_side_routes_fall_back_to_index(void **state)
{
	expect_file("/dashboard", "<html>app</html>", "text/html; charset=utf-8", "no-cache");
	expect_file("/settings/app", "<html>app</html>", "text/html; charset=utf-8", "no-cache");
	/* Even under /assets/ the fallback is never cached as immutable. */
	expect_file("/assets/nothing", "<html>app</html>", "text/html; charset=utf-8", "no-cache");
	expect_404("GET", "/missing.js");
	expect_404("GET", "/assets/missing.css");
}

static void test_confinement(void **state)
{
	expect_404("GET", "/.env");
	expect_404("GET", "/.hidden/file.txt");
	expect_404("GET", "/%2eenv");
	expect_404("GET", "/../outside.txt");
	expect_404("GET", "/assets/../../outside.txt");
	expect_404("GET", "/%2e%2e/outside.txt");
	expect_404("GET", "/assets/%2e%2e%2f%2e%2e%2foutside.txt");
	expect_404("GET", "/link_out.txt");
	expect_404("GET", "/link_dot.txt");
	expect_file("/link_in.js", "console.log(1)", "text/javascript; charset=utf-8", "no-cache");
}

static void test_only_get_and_head_and_never_api(void **state)
{
	expect_404("POST", "/index.html");
	expect_404("DELETE", "/");
	expect_404("GET", "/api/whatever");
	expect_404("GET", "/api");

	struct resp r;
	fetch("HEAD", "/assets/app.js", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_string_equal(header(&r, "Content-Length"), "14");
	release(&r);

	/* Routes win over files. */
	fetch("GET", "/healthz", NULL, &r);
	assert_string_equal(r.body.data, "ok");
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	release(&r);
}

static void test_etag_and_304(void **state)
{
	struct resp r;
	char etag[128], inm[200];
	fetch("GET", "/assets/app.js", NULL, &r);
	snprintf(etag, sizeof(etag), "%s", header(&r, "ETag"));
	release(&r);
	assert_int_equal(etag[0], '"');

	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	fetch("GET", "/assets/app.js", inm, &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body.len, 0);
	assert_string_equal(header(&r, "ETag"), etag);
	assert_string_equal(header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
	release(&r);

	snprintf(inm, sizeof(inm), "If-None-Match: \"other\", W/%s", etag);
	fetch("GET", "/assets/app.js", inm, &r);
	assert_int_equal(r.status, 304);
	release(&r);

	fetch("GET", "/assets/app.js", "If-None-Match: \"other\"", &r);
	assert_int_equal(r.status, 200);
	release(&r);

	/* A changed file gets a new tag. */
	put("www/assets/app.js", "console.log(22)");
	fetch("GET", "/assets/app.js", NULL, &r);
	assert_string_not_equal(header(&r, "ETag"), etag);
	assert_string_equal(r.body.data, "console.log(22)");
	release(&r);
	put("www/assets/app.js", "console.log(1)");
}

static void test_metrics_label(void **state)
{
	struct resp r;
	fetch("GET", "/robots.txt", NULL, &r);
	release(&r);
	usleep(50 * 1000);
	struct buf out;
	buf_init(&out, 1 << 20);
	http_server_metrics(srv, &out);
	assert_non_null(strstr(out.data, "route=\"static\",method=\"GET\",status=\"200\""));
	buf_release(&out);
}

static void test_no_static_root(void **state)
{
	struct http_server *s;
	struct http_server_options o = {.host = "127.0.0.1", .threads = 1, .max_body = 1024};
	assert_int_equal(http_server_start(&o, &s), CX_OK);
	int saved = port;
	port = http_server_port(s);
	expect_404("GET", "/");
	expect_404("GET", "/dashboard");
	port = saved;
	http_server_stop(s);
}

int main(void)
{
	sec_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_and_assets),
	    cmocka_unit_test(test_content_types),
	    cmocka_unit_test(test_client_side_routes_fall_back_to_index),
	    cmocka_unit_test(test_confinement),
	    cmocka_unit_test(test_only_get_and_head_and_never_api),
	    cmocka_unit_test(test_etag_and_304),
	    cmocka_unit_test(test_metrics_label),
	    cmocka_unit_test(test_no_static_root),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}

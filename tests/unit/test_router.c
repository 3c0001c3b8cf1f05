/* test_router.c: path matching, parameters, per-segment decoding and 405 allow lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/arena.h"
#include "http/internal.h"

#include "base/banned.h"

static void h(struct http_request *req)
{
}

static const struct http_route routes[] = {
    {"GET", "/", h},
    {"GET", "/api/events", h},
    {"POST", "/api/events", h},
    {"GET", "/api/events/{id}", h},
    {"PATCH", "/api/events/{id}", h},
    {"DELETE", "/api/events/{id}", h},
    {"GET", "/oauth/{provider}/callback", h},
    {"GET", "/api/apps/zoom", h},
    {"DELETE", "/api/apps/{app}", h},
    {"POST", "/a/{x}/b/{y}", h},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static struct arena *a;

static int setup(void **state)
{
	a = arena_new();
	return 0;
}

static int teardown(void **state)
{
	arena_free(a);
	return 0;
}

static enum http_match match(const char *method, const char *path, struct http_route_match *m)
{
	return http_router_match(a, routes, N_ROUTES, method, path, m);
}

static void test_exact_and_root(void **state)
{
	struct http_route_match m;
	assert_int_equal(match("GET", "/api/events", &m), HTTP_MATCH_FOUND);
	assert_ptr_equal(m.route, &routes[1]);
	assert_int_equal(m.n_params, 0);
	assert_int_equal(match("POST", "/api/events", &m), HTTP_MATCH_FOUND);
	assert_ptr_equal(m.route, &routes[2]);
	assert_int_equal(match("GET", "/", &m), HTTP_MATCH_FOUND);
	assert_ptr_equal(m.route, &routes[0]);
	/* Exact segments only: no prefix, no trailing slash, case matters. */
	assert_int_equal(match("GET", "/api/events/", &m), HTTP_MATCH_NONE);
	assert_int_equal(match("GET", "/api/eventsx", &m), HTTP_MATCH_NONE);
	assert_int_equal(match("GET", "/API/events", &m), HTTP_MATCH_NONE);
	assert_int_equal(match("GET", "/api", &m), HTTP_MATCH_NONE);
}

static void test_params(void **state)
{
	struct http_route_match m;
	assert_int_equal(match("GET", "/api/events/ev_42", &m), HTTP_MATCH_FOUND);
	assert_ptr_equal(m.route, &routes[3]);
	assert_int_equal(m.n_params, 1);
	assert_string_equal(m.names[0], "id");
	assert_string_equal(m.values[0], "ev_42");

	assert_int_equal(match("POST", "/a/1/b/two", &m), HTTP_MATCH_FOUND);
	assert_int_equal(m.n_params, 2);
	assert_string_equal(m.names[0], "x");
	assert_string_equal(m.values[0], "1");
	assert_string_equal(m.names[1], "y");
	assert_string_equal(m.values[1], "two");

	assert_int_equal(match("GET", "/oauth/zoom/callback", &m), HTTP_MATCH_FOUND);
	assert_string_equal(m.values[0], "zoom");
}

static void test_param_needs_non_empty_segment(void **state)
{
	struct http_route_match m;
	assert_int_equal(match("GET", "/oauth//callback", &m), HTTP_MATCH_NONE);
	assert_int_equal(match("POST", "/a//b/2", &m), HTTP_MATCH_NONE);
}

static void test_segments_decoded_separately(void **state)
{
	struct http_route_match m;
	assert_int_equal(match("GET", "/api/events/a%2Fb", &m), HTTP_MATCH_FOUND);
	assert_string_equal(m.values[0], "a/b");
	assert_int_equal(match("GET", "/api/events/a/b", &m), HTTP_MATCH_NONE);
	assert_int_equal(match("GET", "/api/events/caf%C3%A9%20x", &m), HTTP_MATCH_FOUND);
	assert_string_equal(m.values[0], "caf\xc3\xa9 x");
	/* '+' is not a space in a path. */
	assert_int_equal(match("GET", "/api/events/a+b", &m), HTTP_MATCH_FOUND);
	assert_string_equal(m.values[0], "a+b");
	/* Encoded literal segments match too. */
	assert_int_equal(match("GET", "/api/%65vents", &m), HTTP_MATCH_FOUND);
	assert_ptr_equal(m.route, &routes[1]);
}

static void test_bad_paths(void **state)
{
	struct http_route_match m;
	assert_int_equal(match("GET", "/api/events/%zz", &m), HTTP_MATCH_BAD);
	assert_int_equal(match("GET", "/api/events/%4", &m), HTTP_MATCH_BAD);
	assert_int_equal(match("GET", "/api/events/a%00b", &m), HTTP_MATCH_BAD);
	assert_int_equal(match("GET", "api/events", &m), HTTP_MATCH_BAD);
	assert_int_equal(match("GET", "", &m), HTTP_MATCH_BAD);
}

static void test_method_not_allowed(void **state)
{
	struct http_route_match m;
	assert_int_equal(match("PUT", "/api/events/7", &m), HTTP_MATCH_METHOD);
	assert_string_equal(m.allow, "GET, HEAD, PATCH, DELETE");
	assert_string_equal(m.route->pattern, "/api/events/{id}");
	assert_int_equal(match("DELETE", "/api/events", &m), HTTP_MATCH_METHOD);
	assert_string_equal(m.allow, "GET, HEAD, POST");
	/* A literal and a parameter route on the same path both count. */
	assert_int_equal(match("POST", "/api/apps/zoom", &m), HTTP_MATCH_METHOD);
	assert_string_equal(m.allow, "GET, HEAD, DELETE");
	/* When a later route matches the method, it wins over an earlier 405 candidate. */
	assert_int_equal(match("DELETE", "/api/apps/zoom", &m), HTTP_MATCH_FOUND);
	assert_ptr_equal(m.route, &routes[8]);
	assert_string_equal(m.values[0], "zoom");
}

static void test_head_matches_get(void **state)
{
	struct http_route_match m;
	assert_int_equal(match("HEAD", "/api/events/1", &m), HTTP_MATCH_FOUND);
	assert_ptr_equal(m.route, &routes[3]);
	assert_int_equal(match("HEAD", "/a/1/b/2", &m), HTTP_MATCH_METHOD);
}

static void test_too_many_segments(void **state)
{
	struct http_route_match m;
	char path[400] = "";
	for (int i = 0; i < 100; i++)
		memcpy(path + 3 * i, "/ab", 4);
	assert_int_equal(match("GET", path, &m), HTTP_MATCH_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_and_root),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_param_needs_non_empty_segment),
	    cmocka_unit_test(test_segments_decoded_separately),
	    cmocka_unit_test(test_bad_paths),
	    cmocka_unit_test(test_method_not_allowed),
	    cmocka_unit_test(test_head_matches_get),
	    cmocka_unit_test(test_too_many_segments),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

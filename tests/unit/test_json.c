/* Tests for base/json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/banned.h"

static enum cx_err parse(const char *text, json_t **out, char *err, size_t err_len)
{
	return json_parse_strict(text, strlen(text), out, err, err_len);
}

static void test_parse_valid_values(void **state)
{
	(void)state;
	json_t *v = NULL;
	char err[200];
	assert_int_equal(parse("{\"title\":\"Standup\",\"n\":3}", &v, err, sizeof(err)), CX_OK);
	assert_string_equal(json_get_str(v, "title"), "Standup");
	assert_int_equal(json_get_int(v, "n", -1), 3);
	json_decref(v);
	assert_int_equal(parse("  [1, 2, 3]  \n", &v, err, sizeof(err)), CX_OK);
	assert_int_equal(json_array_size(v), 3);
	json_decref(v);
	assert_int_equal(parse("\"just a string\"", &v, err, sizeof(err)), CX_OK);
	assert_true(json_is_string(v));
	json_decref(v);
	assert_int_equal(parse("null", &v, NULL, 0), CX_OK);
	assert_true(json_is_null(v));
	json_decref(v);
	/* not NUL-terminated: only len bytes count */
	assert_int_equal(json_parse_strict("[1]xyz", 3, &v, err, sizeof(err)), CX_OK);
	json_decref(v);
}

static void test_parse_errors_are_sentences(void **state)
{
	(void)state;
	json_t *v = (json_t *)1;
	char err[200];
	assert_int_equal(parse("{\"a\":}", &v, err, sizeof(err)), CX_EINVAL);
	assert_null(v);
	assert_true(strncmp(err, "invalid JSON at line 1 column 6: ", 33) == 0);
	assert_int_equal(parse("{\"email\":\"a\",\"email\":\"b\"}", &v, err, sizeof(err)),
	                 CX_EINVAL);
	assert_string_equal(err, "duplicate key 'email'");
	assert_int_equal(parse("{\"a\":{\"x\":1,\"x\":2}}", &v, err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "duplicate key 'x'");
	assert_int_equal(parse("{} {}", &v, err, sizeof(err)), CX_EINVAL);
	assert_non_null(strstr(err, "invalid JSON at line 1"));
	assert_int_equal(parse("[1,2", &v, err, sizeof(err)), CX_EINVAL);
	assert_non_null(strstr(err, "unexpected end of input"));
	assert_int_equal(parse("", &v, err, sizeof(err)), CX_EINVAL);
	assert_int_equal(parse("\"a\\u0000b\"", &v, err, sizeof(err)), CX_EINVAL);
	assert_non_null(strstr(err, "\\u0000 is not allowed"));
	assert_int_equal(json_parse_strict("\"a\0b\"", 5, &v, err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "invalid JSON: NUL byte at offset 2");
	assert_int_equal(parse("\"\xff\"", &v, err, sizeof(err)), CX_EINVAL);
	assert_int_equal(parse("{'a':1}", &v, err, sizeof(err)), CX_EINVAL);
	assert_int_equal(parse("[1,]", &v, err, sizeof(err)), CX_EINVAL);
	assert_int_equal(parse("NaN", &v, NULL, 0), CX_EINVAL);
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);
	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth + i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

static void test_depth_limit(void **state)
{
	(void)state;
	json_t *v = NULL;
	char err[200];
	char *ok = nested(JSON_MAX_DEPTH);
	assert_int_equal(parse(ok, &v, err, sizeof(err)), CX_OK);
	json_decref(v);
	free(ok);
	char *deep = nested(JSON_MAX_DEPTH + 1);
	assert_int_equal(parse(deep, &v, err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "invalid JSON: nested deeper than 32 levels");
	free(deep);
	deep = nested(1000);
	assert_int_equal(parse(deep, &v, err, sizeof(err)), CX_EINVAL);
	free(deep);
	/* depth counted through objects too, and in a later sibling */
	const char *obj =
	    "{\"a\":1,\"b\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}";
	assert_int_equal(parse(obj, &v, err, sizeof(err)), CX_EINVAL);
}

static const struct json_field event_fields[] = {
    {"title", JK_STRING, true, 16},
    {"description", JK_STRING_OR_NULL, false, 0},
    {"duration", JK_INT, false, 0},
    {"all_day", JK_BOOL, false, 0},
    {"meeting", JK_OBJECT_OR_NULL, false, 0},
    {"options", JK_OBJECT, false, 0},
    {"attendees", JK_ARRAY, false, 0},
    {"extra", JK_ANY, false, 0},
    {NULL, JK_ANY, false, 0},
};

static enum cx_err check(const char *text, char *err, size_t err_len)
{
	json_t *v = NULL;
	assert_int_equal(parse(text, &v, err, err_len), CX_OK);
	enum cx_err rc = json_check_object(v, event_fields, err, err_len);
	json_decref(v);
	return rc;
}

static void test_check_object(void **state)
{
	(void)state;
	char err[200];
	assert_int_equal(check("{\"title\":\"a\",\"description\":null,\"duration\":30,"
	                       "\"all_day\":false,\"meeting\":{},\"options\":{},\"attendees\":[],"
	                       "\"extra\":1.5}",
	                       err, sizeof(err)),
	                 CX_OK);
	assert_int_equal(check("{\"title\":\"a\",\"meeting\":null}", err, sizeof(err)), CX_OK);
	assert_int_equal(check("{\"title\":5}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'title' must be a string");
	assert_int_equal(check("{\"title\":\"a\",\"foo\":1}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "unknown field 'foo'");
	assert_int_equal(check("{\"duration\":30}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'title' is required");
	assert_int_equal(check("{\"title\":\"0123456789abcdefg\"}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'title' is longer than 16 characters");
	assert_int_equal(check("{\"title\":\"0123456789abcdef\"}", err, sizeof(err)), CX_OK);
	/* max_len counts bytes: 8 two-byte characters = 16 bytes fits, 9 do not */
	assert_int_equal(check("{\"title\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	                       "\xa9\xc3\xa9\"}",
	                       err, sizeof(err)),
	                 CX_OK);
	assert_int_equal(check("{\"title\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	                       "\xa9\xc3\xa9\xc3\xa9\"}",
	                       err, sizeof(err)),
	                 CX_EINVAL);
	assert_int_equal(check("{\"title\":\"a\",\"duration\":1.5}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'duration' must be an integer");
	assert_int_equal(check("{\"title\":\"a\",\"all_day\":1}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'all_day' must be true or false");
	assert_int_equal(check("{\"title\":\"a\",\"description\":[]}", err, sizeof(err)),
	                 CX_EINVAL);
	assert_string_equal(err, "field 'description' must be a string or null");
	assert_int_equal(check("{\"title\":\"a\",\"options\":null}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'options' must be an object");
	assert_int_equal(check("{\"title\":\"a\",\"attendees\":{}}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'attendees' must be an array");
	assert_int_equal(check("{\"title\":\"a\",\"meeting\":\"x\"}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'meeting' must be an object or null");

	json_t *arr = json_array();
	assert_int_equal(json_check_object(arr, event_fields, err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "expected a JSON object");
	json_decref(arr);
	assert_int_equal(json_check_object(NULL, event_fields, err, sizeof(err)), CX_EINVAL);
}

static void test_check_rejects_nul_in_built_strings(void **state)
{
	(void)state;
	char err[200];
	json_t *obj = json_object();
	json_object_set_new(obj, "title", json_stringn("a\0b", 3));
	assert_int_equal(json_check_object(obj, event_fields, err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "field 'title' must be valid UTF-8 without NUL");
	json_decref(obj);
}

static void test_unknown_key_is_sanitised(void **state)
{
	(void)state;
	char err[300];
	char text[400];
	char key[150];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":1}", key);
	assert_int_equal(check(text, err, sizeof(err)), CX_EINVAL);
	assert_true(strlen(err) < 100);
	assert_non_null(strstr(err, "...'"));
	assert_int_equal(check("{\"a\\nb'\":1}", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "unknown field 'a?b?'");
}

static void test_getters(void **state)
{
	(void)state;
	json_t *v = NULL;
	assert_int_equal(
	    parse("{\"s\":\"x\",\"i\":-7,\"b\":true,\"f\":false,\"n\":null}", &v, NULL, 0), CX_OK);
	assert_string_equal(json_get_str(v, "s"), "x");
	assert_null(json_get_str(v, "i"));
	assert_null(json_get_str(v, "missing"));
	assert_int_equal(json_get_int(v, "i", 0), -7);
	assert_int_equal(json_get_int(v, "s", 11), 11);
	assert_int_equal(json_get_int(v, "missing", 12), 12);
	assert_true(json_get_bool(v, "b", false));
	assert_false(json_get_bool(v, "f", true));
	assert_true(json_get_bool(v, "n", true));
	assert_null(json_get_str(NULL, "s"));
	json_decref(v);
}

static void test_dump_compact(void **state)
{
	(void)state;
	json_t *v = json_pack("{s:s, s:i}", "a", "b", "c", 1);
	char *s = json_dump_compact(v);
	assert_string_equal(s, "{\"a\":\"b\",\"c\":1}");
	free(s);
	json_decref(v);
	v = json_string("caf\xc3\xa9");
	s = json_dump_compact(v);
	assert_string_equal(s, "\"caf\xc3\xa9\"");
	free(s);
	json_decref(v);
	v = json_integer(5);
	s = json_dump_compact(v);
	assert_string_equal(s, "5");
	free(s);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid_values),
	    cmocka_unit_test(test_parse_errors_are_sentences),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_check_object),
	    cmocka_unit_test(test_check_rejects_nul_in_built_strings),
	    cmocka_unit_test(test_unknown_key_is_sanitised),
	    cmocka_unit_test(test_getters),
	    cmocka_unit_test(test_dump_compact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

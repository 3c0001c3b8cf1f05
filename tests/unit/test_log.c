/* Tests for base/log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/banned.h"

static FILE *stream;

static int setup(void **state)
{
	(void)state;
	stream = tmpfile();
	log_set_stream(stream);
	log_set_level(LOG_LEVEL_INFO);
	log_context_set(NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_stream(NULL);
	fclose(stream);
	return 0;
}

/* Everything logged so far; caller frees. */
static char *logged(void)
{
	long len = ftell(stream);
	char *s = calloc(1, (size_t)len + 1);
	rewind(stream);
	assert_int_equal(fread(s, 1, (size_t)len, stream), (size_t)len);
	return s;
}

static void test_line_shape(void **state)
{
	(void)state;
	log_info("request done", "status=%d path=%s", 200, "/api/me");
	char *s = logged();
	assert_string_equal(s + strlen("ts=2026-11-24T08:00:00.123Z"),
	                    " level=info msg=\"request done\" status=200 path=/api/me\n");
	assert_memory_equal(s, "ts=", 3);
	assert_int_equal(s[13], 'T');
	assert_int_equal(s[26], 'Z');
	free(s);
}

static void test_level_filter_and_names(void **state)
{
	(void)state;
	log_debug("hidden", NULL);
	log_warn("shown", NULL);
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("now shown", "%s", "");
	log_set_level(LOG_LEVEL_ERROR);
	log_warn("hidden too", NULL);
	log_error("failed", NULL);
	char *s = logged();
	assert_null(strstr(s, "hidden"));
	assert_non_null(strstr(s, "level=warn msg=\"shown\"\n"));
	assert_non_null(strstr(s, "level=debug msg=\"now shown\"\n"));
	assert_non_null(strstr(s, "level=error msg=\"failed\"\n"));
	free(s);
}

static void test_level_parse(void **state)
{
	(void)state;
	enum log_level l = LOG_LEVEL_ERROR;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("verbose", &l), -1);
	assert_int_equal(log_level_parse("", &l), -1);
	assert_int_equal(l, LOG_LEVEL_ERROR);
}

static void test_context(void **state)
{
	(void)state;
	log_context_set("ab12", 42);
	log_info("with context", NULL);
	log_context_set("bad id\"\n", 0);
	log_info("sanitised", NULL);
	log_context_set(NULL, 0);
	log_info("without", NULL);
	char *s = logged();
	assert_non_null(strstr(s, " rid=ab12 job=42 msg=\"with context\"\n"));
	assert_non_null(strstr(s, " rid=bad_id__ msg=\"sanitised\"\n"));
	assert_non_null(strstr(s, "level=info msg=\"without\"\n"));
	free(s);
}

static void test_message_is_quoted_and_one_line(void **state)
{
	(void)state;
	log_info("line1\nline2 \"q\" back\\slash", "extra=%s", "a\nb");
	char *s = logged();
	assert_non_null(strstr(s, "msg=\"line1\\nline2 \\\"q\\\" back\\\\slash\" extra=a b\n"));
	assert_int_equal(strchr(s, '\n'), s + strlen(s) - 1);
	free(s);
}

static void test_quote(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(log_quote("plain", out, sizeof(out)), "\"plain\"");
	assert_string_equal(log_quote("a\"b\\c\td\x01", out, sizeof(out)),
	                    "\"a\\\"b\\\\c\\td\\x01\"");
	assert_string_equal(log_quote(NULL, out, sizeof(out)), "\"\"");
	assert_string_equal(log_quote("abcdef", out, 3), "\"\"");
	assert_string_equal(log_quote("abcdef", out, 6), "\"abc\"");
	/* an escape is never cut in half */
	assert_string_equal(log_quote("ab\"c", out, 6), "\"ab\"");
	assert_string_equal(log_quote("caf\xc3\xa9", out, sizeof(out)), "\"caf\xc3\xa9\"");
}

static void test_redact_url(void **state)
{
	(void)state;
	char out[256];
	assert_string_equal(
	    log_redact_url("http://127.0.0.1/oauth/zoom/callback?code=abc123&state=xyz&x=1", out,
	                   sizeof(out)),
	    "http://127.0.0.1/oauth/zoom/callback?code=REDACTED&state=REDACTED&x=1");
	assert_string_equal(
	    log_redact_url("https://h/p?a=1&access_token=t&refresh_token=r&b", out, sizeof(out)),
	    "https://h/p?a=1&access_token=REDACTED&refresh_token=REDACTED&b");
	assert_string_equal(
	    log_redact_url("https://h/token?client_secret=s&code_verifier=v&password=p&pwd=q"
	                   "&token=t",
	                   out, sizeof(out)),
	    "https://h/token?client_secret=REDACTED&code_verifier=REDACTED&password=REDACTED"
	    "&pwd=REDACTED&token=REDACTED");
	assert_string_equal(log_redact_url("https://h/cb#access_token=t&x=y", out, sizeof(out)),
	                    "https://h/cb#access_token=REDACTED&x=y");
	assert_string_equal(log_redact_url("https://h/p?codes=1&xcode=2", out, sizeof(out)),
	                    "https://h/p?codes=1&xcode=2");
	assert_string_equal(
	    log_redact_url("postgresql://app:hunter2@db/calendox", out, sizeof(out)),
	    "postgresql://app:REDACTED@db/calendox");
	assert_string_equal(log_redact_url("/j/123?pwd=secret", out, sizeof(out)),
	                    "/j/123?pwd=REDACTED");
	assert_string_equal(log_redact_url("https://h/plain", out, sizeof(out)), "https://h/plain");
	/* truncation keeps the output a C string and never leaks the secret's start */
	assert_string_equal(log_redact_url("https://h/p?code=abcdef", out, 20),
	                    "https://h/p?code=RE");
}

#define THREADS 4
#define LINES 200

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	char rid[16];
	snprintf(rid, sizeof(rid), "t%d", id);
	log_context_set(rid, id + 1);
	for (int i = 0; i < LINES; i++)
		log_info("tick", "n=%d pad=%0200d", i, 0);
	return NULL;
}

static void test_threads_do_not_interleave(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	char *s = logged();
	int count[THREADS] = {0};
	int lines = 0;
	for (char *line = s; *line;) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		int id = -1;
		char *rid = strstr(line, " rid=t");
		assert_non_null(rid);
		id = rid[6] - '0';
		assert_true(id >= 0 && id < THREADS);
		char expect[32];
		snprintf(expect, sizeof(expect), " job=%d msg=\"tick\" n=", id + 1);
		assert_non_null(strstr(line, expect));
		assert_int_equal(strlen(strstr(line, " pad=")), 5 + 200);
		count[id]++;
		lines++;
		line = nl + 1;
	}
	assert_int_equal(lines, THREADS * LINES);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(count[i], LINES);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_line_shape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_level_filter_and_names, setup, teardown),
	    cmocka_unit_test(test_level_parse),
	    cmocka_unit_test_setup_teardown(test_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_message_is_quoted_and_one_line, setup, teardown),
	    cmocka_unit_test(test_quote),
	    cmocka_unit_test(test_redact_url),
	    cmocka_unit_test_setup_teardown(test_threads_do_not_interleave, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for base/config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/banned.h"

/* A 32-byte key of 0x01..0x20 in standard base64. */
#define KEY_B64 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

static const char *fake_env[64][2];
static char tmpdir[] = "/tmp/cx_config_XXXXXX";

static void env_set(const char *name, const char *value)
{
	int i = 0;
	for (; fake_env[i][0]; i++) {
		if (strcmp(fake_env[i][0], name) == 0)
			break;
	}
	fake_env[i][0] = name;
	fake_env[i][1] = value;
}

static const char *fake_getenv(const char *name)
{
	for (int i = 0; fake_env[i][0]; i++) {
		if (strcmp(fake_env[i][0], name) == 0)
			return fake_env[i][1];
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	memset(fake_env, 0, sizeof(fake_env));
	env_set("CALENDOX_SECRET_KEY", KEY_B64);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	log_set_stream(tmpfile());
	return sec_init() == CX_OK ? 0 : -1;
}

static char *tmp_path(const char *name)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_defaults(void **state)
{
	(void)state;
	struct config cfg;
	char err[256] = "";
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_OK);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_string_equal(cfg.public_url, "http://localhost:8080");
	assert_false(cfg.secure_cookies);
	assert_string_equal(cfg.database, "sqlite:calendox.db");
	assert_null(cfg.sandbox);
	assert_string_equal(cfg.web_root, "web/dist");
	assert_int_equal(cfg.http_threads, 4);
	assert_int_equal(cfg.job_workers, 4);
	assert_int_equal(cfg.max_connections, 1024);
	assert_string_equal(cfg.log_level, "info");
	assert_string_equal(cfg.payments, "sandbox");
	assert_int_equal(cfg.trial_days, 14);
	assert_int_equal(cfg.plan_basic_accounts, 2);
	assert_int_equal(cfg.plan_standard_accounts, 5);
	assert_int_equal(cfg.sync_poll_s, 60);
	assert_int_equal(cfg.egress_concurrency, 64);
	for (int i = 0; i < SEC_KEY_BYTES; i++)
		assert_int_equal(cfg.secret_key[i], i + 1);

	assert_null(cfg.zoom.client_id);
	assert_null(cfg.zoom.client_secret);
	assert_null(cfg.zoom.webhook_secret);
	assert_string_equal(cfg.zoom.scopes, "meeting:write:meeting meeting:read:meeting "
	                                     "meeting:delete:meeting user:read:user");
	assert_string_equal(cfg.zoom.auth_url, "https://zoom.us/oauth/authorize");
	assert_string_equal(cfg.zoom.token_url, "https://zoom.us/oauth/token");
	assert_string_equal(cfg.zoom.revoke_url, "https://zoom.us/oauth/revoke");
	assert_string_equal(cfg.zoom.api_url, "https://api.zoom.us/v2");

	assert_string_equal(cfg.google.scopes,
	                    "openid email https://www.googleapis.com/auth/calendar.events "
	                    "https://www.googleapis.com/auth/calendar.calendarlist.readonly");
	assert_string_equal(cfg.google.auth_url, "https://accounts.google.com/o/oauth2/v2/auth");
	assert_string_equal(cfg.google.token_url, "https://oauth2.googleapis.com/token");
	assert_string_equal(cfg.google.revoke_url, "https://oauth2.googleapis.com/revoke");
	assert_string_equal(cfg.google.api_url, "https://www.googleapis.com/calendar/v3");

	assert_string_equal(cfg.microsoft.scopes,
	                    "offline_access openid email User.Read Calendars.ReadWrite");
	assert_string_equal(cfg.microsoft.auth_url,
	                    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
	assert_string_equal(cfg.microsoft.token_url,
	                    "https://login.microsoftonline.com/common/oauth2/v2.0/token");
	assert_null(cfg.microsoft.revoke_url);
	assert_string_equal(cfg.microsoft.api_url, "https://graph.microsoft.com/v1.0");

	assert_int_equal(config_require_provider(&cfg, "zoom", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "CALENDOX_ZOOM_CLIENT_ID is not set");
	assert_int_equal(config_require_provider(&cfg, "microsoft", err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "CALENDOX_MICROSOFT_CLIENT_ID is not set");
	config_release(&cfg);
	assert_null(cfg.listen_host);
}

static void test_sandbox_defaults(void **state)
{
	(void)state;
	struct config cfg;
	char err[256] = "";
	env_set("CALENDOX_SANDBOX", "http://127.0.0.1:9100/");
	env_set("CALENDOX_GOOGLE_CLIENT_ID", "my-google-client");
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_OK);
	const char *s = "http://127.0.0.1:9100";
	assert_string_equal(cfg.sandbox, s);
	assert_string_equal(cfg.zoom.auth_url, "http://127.0.0.1:9100/zoom/oauth/authorize");
	assert_string_equal(cfg.zoom.token_url, "http://127.0.0.1:9100/zoom/oauth/token");
	assert_string_equal(cfg.zoom.revoke_url, "http://127.0.0.1:9100/zoom/oauth/revoke");
	assert_string_equal(cfg.zoom.api_url, "http://127.0.0.1:9100/zoom/v2");
	assert_string_equal(cfg.zoom.client_id, "sandbox-zoom-client");
	assert_string_equal(cfg.zoom.client_secret, "sandbox-secret");
	assert_string_equal(cfg.zoom.webhook_secret, "sandbox-webhook-secret");
	assert_string_equal(cfg.google.auth_url, "http://127.0.0.1:9100/google/o/oauth2/v2/auth");
	assert_string_equal(cfg.google.token_url, "http://127.0.0.1:9100/google/token");
	assert_string_equal(cfg.google.revoke_url, "http://127.0.0.1:9100/google/revoke");
	assert_string_equal(cfg.google.api_url, "http://127.0.0.1:9100/google/calendar/v3");
	assert_string_equal(cfg.google.client_id, "my-google-client");
	assert_string_equal(cfg.google.client_secret, "sandbox-secret");
	assert_string_equal(cfg.microsoft.auth_url,
	                    "http://127.0.0.1:9100/microsoft/common/oauth2/v2.0/authorize");
	assert_string_equal(cfg.microsoft.token_url,
	                    "http://127.0.0.1:9100/microsoft/common/oauth2/v2.0/token");
	assert_string_equal(cfg.microsoft.api_url, "http://127.0.0.1:9100/microsoft/v1.0");
	assert_null(cfg.microsoft.revoke_url);
	assert_string_equal(cfg.microsoft.client_id, "sandbox-microsoft-client");
	assert_int_equal(config_require_provider(&cfg, "zoom", err, sizeof(err)), CX_OK);
	assert_int_equal(config_require_provider(&cfg, "google", err, sizeof(err)), CX_OK);
	assert_int_equal(config_require_provider(&cfg, "microsoft", err, sizeof(err)), CX_OK);
	assert_int_equal(config_require_provider(&cfg, "yahoo", err, sizeof(err)), CX_EINVAL);
	config_release(&cfg);
}

static void test_explicit_values(void **state)
{
	(void)state;
	struct config cfg;
	char err[256] = "";
	env_set("CALENDOX_LISTEN", "[::1]:0");
	env_set("CALENDOX_PUBLIC_URL", "https://cal.example.com/");
	env_set("CALENDOX_HTTP_THREADS", "16");
	env_set("CALENDOX_TRIAL_DAYS", "0");
	env_set("CALENDOX_EGRESS_CONCURRENCY", "4096");
	env_set("CALENDOX_LOG_LEVEL", "debug");
	env_set("CALENDOX_ZOOM_OAUTH_URL", "http://127.0.0.1:5000");
	env_set("CALENDOX_ZOOM_CLIENT_ID", "zid");
	env_set("CALENDOX_ZOOM_CLIENT_SECRET", "zsecret");
	env_set("CALENDOX_GOOGLE_API_URL", "http://127.0.0.1:5001/calendar/v3/");
	env_set("CALENDOX_MICROSOFT_SCOPES", "openid");
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_OK);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 0);
	assert_string_equal(cfg.public_url, "https://cal.example.com");
	assert_true(cfg.secure_cookies);
	assert_int_equal(cfg.http_threads, 16);
	assert_int_equal(cfg.trial_days, 0);
	assert_int_equal(cfg.egress_concurrency, 4096);
	assert_string_equal(cfg.log_level, "debug");
	assert_string_equal(cfg.zoom.auth_url, "http://127.0.0.1:5000/oauth/authorize");
	assert_string_equal(cfg.zoom.revoke_url, "http://127.0.0.1:5000/oauth/revoke");
	assert_string_equal(cfg.google.api_url, "http://127.0.0.1:5001/calendar/v3");
	assert_string_equal(cfg.microsoft.scopes, "openid");
	assert_int_equal(config_require_provider(&cfg, "zoom", err, sizeof(err)), CX_OK);
	config_release(&cfg);
}

static void expect_error(const char *name, const char *value, const char *message)
{
	struct config cfg;
	char err[256] = "";
	env_set(name, value);
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_EINVAL);
	if (strcmp(err, message) != 0)
		fail_msg("%s=%s: got '%s', expected '%s'", name, value, err, message);
	assert_null(cfg.listen_host);
	env_set(name, NULL);
}

static void test_invalid_values(void **state)
{
	(void)state;
	const char *listen = "CALENDOX_LISTEN: expected host:port with a port from 0 to 65535";
	expect_error("CALENDOX_LISTEN", "8080", listen);
	expect_error("CALENDOX_LISTEN", "localhost:", listen);
	expect_error("CALENDOX_LISTEN", ":8080", listen);
	expect_error("CALENDOX_LISTEN", "localhost:65536", listen);
	expect_error("CALENDOX_LISTEN", "localhost:-1", listen);
	expect_error("CALENDOX_LISTEN", "localhost:80x", listen);
	expect_error("CALENDOX_LISTEN", "::1:8080", listen);
	expect_error("CALENDOX_LISTEN", "[::1]8080", listen);
	const char *threads = "CALENDOX_HTTP_THREADS: expected a whole number from 1 to 256";
	expect_error("CALENDOX_HTTP_THREADS", "0", threads);
	expect_error("CALENDOX_HTTP_THREADS", "257", threads);
	expect_error("CALENDOX_HTTP_THREADS", "4x", threads);
	expect_error("CALENDOX_HTTP_THREADS", " 4", threads);
	expect_error("CALENDOX_HTTP_THREADS", "99999999999999999999", threads);
	expect_error("CALENDOX_JOB_WORKERS", "-1",
	             "CALENDOX_JOB_WORKERS: expected a whole number from 1 to 256");
	expect_error("CALENDOX_JOB_LEASE_S", "3",
	             "CALENDOX_JOB_LEASE_S must be 0 or between 5 and 3600");
	expect_error("CALENDOX_JOB_LEASE_S", "3601",
	             "CALENDOX_JOB_LEASE_S: expected a whole number from 0 to 3600");
	expect_error("CALENDOX_TRIAL_DAYS", "1.5",
	             "CALENDOX_TRIAL_DAYS: expected a whole number from 0 to 3650");
	expect_error("CALENDOX_SYNC_POLL_S", "0",
	             "CALENDOX_SYNC_POLL_S: expected a whole number from 1 to 86400");
	const char *egress = "CALENDOX_EGRESS_CONCURRENCY: expected a whole number from 1 to 4096";
	expect_error("CALENDOX_EGRESS_CONCURRENCY", "0", egress);
	expect_error("CALENDOX_EGRESS_CONCURRENCY", "4097", egress);
	expect_error("CALENDOX_PUBLIC_URL", "localhost:8080",
	             "CALENDOX_PUBLIC_URL: expected a URL starting with http:// or https://");
	expect_error("CALENDOX_SANDBOX", "ftp://x",
	             "CALENDOX_SANDBOX: expected a URL starting with http:// or https://");
	expect_error("CALENDOX_LOG_LEVEL", "loud",
	             "CALENDOX_LOG_LEVEL: expected debug, info, warn or error");
	expect_error("CALENDOX_PAYMENTS", "stripe", "CALENDOX_PAYMENTS: expected sandbox or none");
	expect_error("CALENDOX_SECRET_KEY", "c2hvcnQ=",
	             "CALENDOX_SECRET_KEY: expected standard base64 of exactly 32 bytes");
	expect_error("CALENDOX_SECRET_KEY", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",
	             "CALENDOX_SECRET_KEY: expected standard base64 of exactly 32 bytes");
	env_set("CALENDOX_SECRET_KEY", KEY_B64);
}

static void test_config_file(void **state)
{
	(void)state;
	struct config cfg;
	char err[256] = "";
	char *path = tmp_path("calendox.conf");
	write_file(path, "# Calendox settings\n"
	                 "\n"
	                 "CALENDOX_LISTEN = 0.0.0.0:9000\n"
	                 "CALENDOX_HTTP_THREADS=8\n"
	                 "CALENDOX_DATABASE=\"postgresql://db/calendox\"\n"
	                 "OTHER_TOOL_SETTING=ignored\n"
	                 "CALENDOX_JOB_WORKERS=2\n");
	env_set("CALENDOX_HTTP_THREADS", "3"); /* the environment wins */
	assert_int_equal(config_load(&cfg, path, fake_getenv, err, sizeof(err)), CX_OK);
	assert_string_equal(cfg.listen_host, "0.0.0.0");
	assert_int_equal(cfg.listen_port, 9000);
	assert_int_equal(cfg.http_threads, 3);
	assert_int_equal(cfg.job_workers, 2);
	assert_string_equal(cfg.database, "postgresql://db/calendox");
	config_release(&cfg);

	write_file(path, "CALENDOX_LISTEN=127.0.0.1:1\n\n# c\nCALENDOX_LISTN=1\n");
	assert_int_equal(config_load(&cfg, path, fake_getenv, err, sizeof(err)), CX_EINVAL);
	assert_non_null(strstr(err, "line 4"));
	assert_non_null(strstr(err, "CALENDOX_LISTN"));

	write_file(path, "CALENDOX_LISTEN\n");
	assert_int_equal(config_load(&cfg, path, fake_getenv, err, sizeof(err)), CX_EINVAL);
	assert_non_null(strstr(err, "line 1: expected KEY=value"));

	write_file(path, "CALENDOX_TRIAL_DAYS=abc\n");
	assert_int_equal(config_load(&cfg, path, fake_getenv, err, sizeof(err)), CX_EINVAL);
	assert_string_equal(err, "CALENDOX_TRIAL_DAYS: expected a whole number from 0 to 3650");
	unlink(path);

	assert_int_equal(config_load(&cfg, tmp_path("missing.conf"), fake_getenv, err, sizeof(err)),
	                 CX_EIO);
}

static void test_key_file_created_and_reused(void **state)
{
	(void)state;
	struct config cfg;
	char err[256] = "";
	char *path = tmp_path("calendox.key");
	unlink(path);
	env_set("CALENDOX_SECRET_KEY", NULL);
	env_set("CALENDOX_SECRET_KEY_FILE", path);
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_OK);
	uint8_t first[SEC_KEY_BYTES];
	memcpy(first, cfg.secret_key, sizeof(first));
	config_release(&cfg);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_OK);
	assert_memory_equal(cfg.secret_key, first, sizeof(first));
	config_release(&cfg);

	write_file(path, KEY_B64 "\n");
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_OK);
	assert_int_equal(cfg.secret_key[0], 1);
	assert_int_equal(cfg.secret_key[31], 32);
	config_release(&cfg);

	write_file(path, "not a key\n");
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_EINVAL);
	assert_non_null(strstr(err, "CALENDOX_SECRET_KEY_FILE"));
	unlink(path);

	env_set("CALENDOX_SECRET_KEY_FILE", tmp_path("no/such/dir/key"));
	assert_int_equal(config_load(&cfg, NULL, fake_getenv, err, sizeof(err)), CX_EIO);
	assert_non_null(strstr(err, "CALENDOX_SECRET_KEY_FILE"));
}

static int group_teardown(void **state)
{
	(void)state;
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, setup),
	    cmocka_unit_test_setup(test_sandbox_defaults, setup),
	    cmocka_unit_test_setup(test_explicit_values, setup),
	    cmocka_unit_test_setup(test_invalid_values, setup),
	    cmocka_unit_test_setup(test_config_file, setup),
	    cmocka_unit_test_setup(test_key_file_created_and_reused, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

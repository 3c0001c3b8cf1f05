/* config.c: settings from the environment and an optional KEY=value file. Every value is
 * validated here, at start-up, so a mistake stops the process with a message naming the variable
 * instead of surfacing later as a confusing failure. */
#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/banned.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 8192
#define KEY_FILE_MAX 1024

static const char *const known_keys[] = {
    "CALENDOX_LISTEN",
    "CALENDOX_PUBLIC_URL",
    "CALENDOX_DATABASE",
    "CALENDOX_SECRET_KEY",
    "CALENDOX_SECRET_KEY_FILE",
    "CALENDOX_SANDBOX",
    "CALENDOX_WEB_ROOT",
    "CALENDOX_HTTP_THREADS",
    "CALENDOX_JOB_WORKERS",
    "CALENDOX_JOB_LEASE_S",
    "CALENDOX_MAX_CONNECTIONS",
    "CALENDOX_LOG_LEVEL",
    "CALENDOX_PAYMENTS",
    "CALENDOX_TRIAL_DAYS",
    "CALENDOX_PLAN_BASIC_ACCOUNTS",
    "CALENDOX_PLAN_STANDARD_ACCOUNTS",
    "CALENDOX_SYNC_POLL_S",
    "CALENDOX_EGRESS_CONCURRENCY",
    "CALENDOX_ZOOM_CLIENT_ID",
    "CALENDOX_ZOOM_CLIENT_SECRET",
    "CALENDOX_ZOOM_WEBHOOK_SECRET",
    "CALENDOX_ZOOM_SCOPES",
    "CALENDOX_ZOOM_OAUTH_URL",
    "CALENDOX_ZOOM_API_URL",
    "CALENDOX_GOOGLE_CLIENT_ID",
    "CALENDOX_GOOGLE_CLIENT_SECRET",
    "CALENDOX_GOOGLE_SCOPES",
    "CALENDOX_GOOGLE_AUTH_URL",
    "CALENDOX_GOOGLE_TOKEN_URL",
    "CALENDOX_GOOGLE_REVOKE_URL",
    "CALENDOX_GOOGLE_API_URL",
    "CALENDOX_MICROSOFT_CLIENT_ID",
    "CALENDOX_MICROSOFT_CLIENT_SECRET",
    "CALENDOX_MICROSOFT_SCOPES",
    "CALENDOX_MICROSOFT_AUTH_URL",
    "CALENDOX_MICROSOFT_TOKEN_URL",
    "CALENDOX_MICROSOFT_API_URL",
};
#define KNOWN_KEYS (sizeof(known_keys) / sizeof(known_keys[0]))

/* Where values come from while loading: the lookup function first, then the file. */
struct source {
	config_getenv_fn getenv_fn;
	char *file_values[KNOWN_KEYS]; /* owned; NULL when the file does not set the key */
};

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	if (!err || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static int key_index(const char *key)
{
	for (size_t i = 0; i < KNOWN_KEYS; i++) {
		if (strcmp(known_keys[i], key) == 0)
			return (int)i;
	}
	return -1;
}

/* The value for key, or NULL when neither source sets it. An empty value counts as unset, so
 * "CALENDOX_SANDBOX=" switches a setting off. */
static const char *lookup(const struct source *src, const char *key)
{
	const char *v = src->getenv_fn(key);
	if (v && *v)
		return v;
	int i = key_index(key);
	if (i >= 0 && src->file_values[i] && src->file_values[i][0])
		return src->file_values[i];
	return NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* Reads KEY=value lines; '#' starts a comment line. Keys outside the CALENDOX_ namespace are left
 * to other programs sharing the file; unknown CALENDOX_ keys are typos and stop start-up. */
static enum cx_err read_file(struct source *src, const char *path, char *err, size_t err_len)
{
	enum cx_err rc = CX_OK;
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	size_t total = 0;
	int lineno = 0;

	if (!f) {
		set_err(err, err_len, "--config %s: %s", path, strerror(errno));
		return CX_EIO;
	}
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		total += (size_t)got;
		if (total > CONFIG_FILE_MAX || got > CONFIG_LINE_MAX) {
			set_err(err, err_len, "%s line %d: the file or line is too long", path,
			        lineno);
			rc = CX_ETOOBIG;
			goto out;
		}
		if ((size_t)got != strlen(line)) {
			set_err(err, err_len, "%s line %d: contains a NUL byte", path, lineno);
			rc = CX_EINVAL;
			goto out;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			set_err(err, err_len, "%s line %d: expected KEY=value", path, lineno);
			rc = CX_EINVAL;
			goto out;
		}
		*eq = '\0';
		char *key = trim(s);
		char *value = trim(eq + 1);
		size_t vlen = strlen(value);
		if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') &&
		    value[vlen - 1] == value[0]) {
			value[vlen - 1] = '\0';
			value++;
		}
		int i = key_index(key);
		if (i < 0) {
			if (strncmp(key, "CALENDOX_", 9) == 0) {
				set_err(err, err_len, "%s line %d: unknown key %.64s", path, lineno,
				        key);
				rc = CX_EINVAL;
				goto out;
			}
			continue;
		}
		free(src->file_values[i]);
		src->file_values[i] = xstrdup(value);
	}
	if (ferror(f)) {
		set_err(err, err_len, "--config %s: read failed", path);
		rc = CX_EIO;
	}
out:
	free(line);
	fclose(f);
	return rc;
}

/* Strict whole numbers: digits only (an optional sign), fully consumed, within [lo, hi]. */
static enum cx_err get_int(const struct source *src, const char *key, int dflt, int lo, int hi,
                           int *out, char *err, size_t err_len)
{
	const char *v = lookup(src, key);
	if (!v) {
		*out = dflt;
		return CX_OK;
	}
	char *end = NULL;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || isspace((unsigned char)v[0]) || n < lo || n > hi) {
		set_err(err, err_len, "%s: expected a whole number from %d to %d", key, lo, hi);
		return CX_EINVAL;
	}
	*out = (int)n;
	return CX_OK;
}

static char *get_str(const struct source *src, const char *key, const char *dflt)
{
	const char *v = lookup(src, key);
	if (!v)
		v = dflt;
	return v ? xstrdup(v) : NULL;
}

static bool is_http_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static void strip_trailing_slashes(char *s)
{
	size_t len = strlen(s);
	while (len > 0 && s[len - 1] == '/' && !(len >= 2 && s[len - 2] == '/'))
		s[--len] = '\0';
}

/* A URL setting: absolute http(s), stored without a trailing slash. */
static enum cx_err get_url(const struct source *src, const char *key, const char *dflt, char **out,
                           char *err, size_t err_len)
{
	*out = get_str(src, key, dflt);
	if (!*out)
		return CX_OK;
	if (!is_http_url(*out) || strlen(*out) <= 8 || strpbrk(*out, " \t\r\n")) {
		set_err(err, err_len, "%s: expected a URL starting with http:// or https://", key);
		return CX_EINVAL;
	}
	strip_trailing_slashes(*out);
	return CX_OK;
}

static enum cx_err parse_listen(const char *v, struct config *cfg, char *err, size_t err_len)
{
	const char *host = v, *host_end, *port;
	if (v[0] == '[') {
		host = v + 1;
		host_end = strchr(host, ']');
		if (!host_end || host_end[1] != ':')
			goto bad;
		port = host_end + 2;
	} else {
		host_end = strrchr(v, ':');
		if (!host_end || memchr(v, ':', (size_t)(host_end - v)))
			goto bad;
		port = host_end + 1;
	}
	if (host_end == host || strlen(port) == 0 || strlen(port) > 5)
		goto bad;
	for (const char *p = port; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
	}
	long n = strtol(port, NULL, 10);
	if (n > 65535)
		goto bad;
	for (const char *p = host; p < host_end; p++) {
		if (isspace((unsigned char)*p) || *p == '/' || *p == '[' || *p == ']')
			goto bad;
	}
	cfg->listen_host = xstrndup(host, (size_t)(host_end - host));
	cfg->listen_port = (int)n;
	return CX_OK;
bad:
	set_err(err, err_len, "CALENDOX_LISTEN: expected host:port with a port from 0 to 65535");
	return CX_EINVAL;
}

static enum cx_err decode_key(const char *b64, uint8_t key[SEC_KEY_BYTES])
{
	uint8_t *raw = NULL;
	size_t len = 0;
	enum cx_err rc = sec_base64_decode(b64, &raw, &len);
	if (rc != CX_OK)
		return CX_EINVAL;
	if (len == SEC_KEY_BYTES)
		memcpy(key, raw, SEC_KEY_BYTES);
	else
		rc = CX_EINVAL;
	sec_wipe(raw, len);
	free(raw);
	return rc;
}

/* Reads the key file, or creates it with a fresh random key when it does not exist: a first run
 * in development then just works, and the warning says the key must be kept. */
static enum cx_err load_key_file(const char *path, uint8_t key[SEC_KEY_BYTES], char *err,
                                 size_t err_len)
{
	enum cx_err rc = CX_OK;
	char text[KEY_FILE_MAX + 1];
	char *b64 = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			set_err(err, err_len, "CALENDOX_SECRET_KEY_FILE: cannot create %s: %s",
			        path, strerror(errno));
			return CX_EIO;
		}
		sec_random_bytes(key, SEC_KEY_BYTES);
		b64 = sec_base64_encode(key, SEC_KEY_BYTES);
		int len = snprintf(text, sizeof(text), "%s\n", b64);
		ssize_t w = write(fd, text, (size_t)len);
		if (w != (ssize_t)len || fsync(fd) != 0) {
			set_err(err, err_len, "CALENDOX_SECRET_KEY_FILE: cannot write %s", path);
			rc = CX_EIO;
			unlink(path);
			goto out;
		}
		char quoted[512];
		log_warn("created a new secret key file for development; keep it, or tokens "
		         "stored with it cannot be read",
		         "path=%s", log_quote(path, quoted, sizeof(quoted)));
		goto out;
	}
	if (fd < 0) {
		set_err(err, err_len, "CALENDOX_SECRET_KEY_FILE: cannot open %s: %s", path,
		        strerror(errno));
		return CX_EIO;
	}
	ssize_t n = read(fd, text, KEY_FILE_MAX);
	if (n < 0) {
		set_err(err, err_len, "CALENDOX_SECRET_KEY_FILE: cannot read %s: %s", path,
		        strerror(errno));
		rc = CX_EIO;
		goto out;
	}
	text[n] = '\0';
	if (strlen(text) != (size_t)n || decode_key(trim(text), key) != CX_OK) {
		set_err(
		    err, err_len,
		    "CALENDOX_SECRET_KEY_FILE: %s must hold standard base64 of exactly 32 bytes",
		    path);
		rc = CX_EINVAL;
	}
out:
	sec_wipe(text, sizeof(text));
	if (b64) {
		sec_wipe(b64, strlen(b64));
		free(b64);
	}
	close(fd);
	return rc;
}

static enum cx_err load_secret_key(const struct source *src, struct config *cfg, char *err,
                                   size_t err_len)
{
	const char *v = lookup(src, "CALENDOX_SECRET_KEY");
	if (v) {
		char copy[KEY_FILE_MAX + 1];
		snprintf(copy, sizeof(copy), "%s", v);
		enum cx_err rc = decode_key(trim(copy), cfg->secret_key);
		sec_wipe(copy, sizeof(copy));
		if (rc != CX_OK) {
			set_err(
			    err, err_len,
			    "CALENDOX_SECRET_KEY: expected standard base64 of exactly 32 bytes");
			return CX_EINVAL;
		}
		return CX_OK;
	}
	const char *path = lookup(src, "CALENDOX_SECRET_KEY_FILE");
	return load_key_file(path ? path : "calendox.key", cfg->secret_key, err, err_len);
}

/* The per-provider defaults: the real endpoints, or the sandbox's paths below its base. */
struct provider_defaults {
	const char *prefix; /* "CALENDOX_ZOOM_" */
	const char *scopes;
	const char *auth_path; /* appended to the real or sandbox base */
	const char *token_path;
	const char *revoke_path; /* NULL: the provider has no revoke endpoint */
	const char *api_path;
	const char *real_auth, *real_token, *real_revoke, *real_api;
	const char *sandbox_name; /* "zoom": sandbox prefix and client id */
};

static const struct provider_defaults zoom_defaults = {
    .prefix = "CALENDOX_ZOOM_",
    .scopes = "meeting:write:meeting meeting:read:meeting meeting:delete:meeting user:read:user",
    .auth_path = "/zoom/oauth/authorize",
    .token_path = "/zoom/oauth/token",
    .revoke_path = "/zoom/oauth/revoke",
    .api_path = "/zoom/v2",
    .real_api = "https://api.zoom.us/v2",
    .sandbox_name = "zoom",
};

static const struct provider_defaults google_defaults = {
    .prefix = "CALENDOX_GOOGLE_",
    .scopes = "openid email https://www.googleapis.com/auth/calendar.events "
              "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    .auth_path = "/google/o/oauth2/v2/auth",
    .token_path = "/google/token",
    .revoke_path = "/google/revoke",
    .api_path = "/google/calendar/v3",
    .real_auth = "https://accounts.google.com/o/oauth2/v2/auth",
    .real_token = "https://oauth2.googleapis.com/token",
    .real_revoke = "https://oauth2.googleapis.com/revoke",
    .real_api = "https://www.googleapis.com/calendar/v3",
    .sandbox_name = "google",
};

static const struct provider_defaults microsoft_defaults = {
    .prefix = "CALENDOX_MICROSOFT_",
    .scopes = "offline_access openid email User.Read Calendars.ReadWrite",
    .auth_path = "/microsoft/common/oauth2/v2.0/authorize",
    .token_path = "/microsoft/common/oauth2/v2.0/token",
    .revoke_path = NULL,
    .api_path = "/microsoft/v1.0",
    .real_auth = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    .real_token = "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    .real_api = "https://graph.microsoft.com/v1.0",
    .sandbox_name = "microsoft",
};

static char *key_name(const struct provider_defaults *d, const char *suffix, char *out, size_t n)
{
	snprintf(out, n, "%s%s", d->prefix, suffix);
	return out;
}

static enum cx_err load_provider(const struct source *src, const char *sandbox,
                                 const struct provider_defaults *d, struct provider_config *p,
                                 char *err, size_t err_len)
{
	enum cx_err rc = CX_OK;
	char key[64];
	char *auth = NULL, *token = NULL, *revoke = NULL, *api = NULL;
	char *sandbox_client = NULL;
	bool zoom = d == &zoom_defaults;

	if (sandbox) {
		auth = xasprintf("%s%s", sandbox, d->auth_path);
		token = xasprintf("%s%s", sandbox, d->token_path);
		revoke = d->revoke_path ? xasprintf("%s%s", sandbox, d->revoke_path) : NULL;
		api = xasprintf("%s%s", sandbox, d->api_path);
		sandbox_client = xasprintf("sandbox-%s-client", d->sandbox_name);
	} else if (zoom) {
		/* Zoom's three OAuth endpoints hang off one configurable base. */
		char *base = NULL;
		rc =
		    get_url(src, "CALENDOX_ZOOM_OAUTH_URL", "https://zoom.us", &base, err, err_len);
		if (rc != CX_OK) {
			free(base);
			goto out;
		}
		auth = xasprintf("%s/oauth/authorize", base);
		token = xasprintf("%s/oauth/token", base);
		revoke = xasprintf("%s/oauth/revoke", base);
		free(base);
		api = xstrdup(d->real_api);
	} else {
		auth = xstrdup(d->real_auth);
		token = xstrdup(d->real_token);
		revoke = d->real_revoke ? xstrdup(d->real_revoke) : NULL;
		api = xstrdup(d->real_api);
	}
	if (sandbox && zoom && lookup(src, "CALENDOX_ZOOM_OAUTH_URL")) {
		char *base = NULL;
		rc = get_url(src, "CALENDOX_ZOOM_OAUTH_URL", NULL, &base, err, err_len);
		if (rc != CX_OK) {
			free(base);
			goto out;
		}
		free(auth);
		free(token);
		free(revoke);
		auth = xasprintf("%s/oauth/authorize", base);
		token = xasprintf("%s/oauth/token", base);
		revoke = xasprintf("%s/oauth/revoke", base);
		free(base);
	}

	p->client_id = get_str(src, key_name(d, "CLIENT_ID", key, sizeof(key)), sandbox_client);
	p->client_secret = get_str(src, key_name(d, "CLIENT_SECRET", key, sizeof(key)),
	                           sandbox ? "sandbox-secret" : NULL);
	if (zoom)
		p->webhook_secret = get_str(src, "CALENDOX_ZOOM_WEBHOOK_SECRET",
		                            sandbox ? "sandbox-webhook-secret" : NULL);
	p->scopes = get_str(src, key_name(d, "SCOPES", key, sizeof(key)), d->scopes);
	if (!zoom) {
		rc = get_url(src, key_name(d, "AUTH_URL", key, sizeof(key)), auth, &p->auth_url,
		             err, err_len);
		if (rc != CX_OK)
			goto out;
		rc = get_url(src, key_name(d, "TOKEN_URL", key, sizeof(key)), token, &p->token_url,
		             err, err_len);
		if (rc != CX_OK)
			goto out;
		if (d->revoke_path) {
			rc = get_url(src, key_name(d, "REVOKE_URL", key, sizeof(key)), revoke,
			             &p->revoke_url, err, err_len);
			if (rc != CX_OK)
				goto out;
		}
	} else {
		p->auth_url = auth;
		p->token_url = token;
		p->revoke_url = revoke;
		auth = token = revoke = NULL;
	}
	rc = get_url(src, key_name(d, "API_URL", key, sizeof(key)), api, &p->api_url, err, err_len);
out:
	free(auth);
	free(token);
	free(revoke);
	free(api);
	free(sandbox_client);
	return rc;
}

static const char *real_getenv(const char *name)
{
	return getenv(name);
}

enum cx_err config_load(struct config *cfg, const char *file, config_getenv_fn getenv_fn, char *err,
                        size_t err_len)
{
	enum cx_err rc = CX_OK;
	struct source src = {.getenv_fn = getenv_fn ? getenv_fn : real_getenv};
	enum log_level level;

	memset(cfg, 0, sizeof(*cfg));
	if (err && err_len)
		err[0] = '\0';
	if (file) {
		rc = read_file(&src, file, err, err_len);
		if (rc != CX_OK)
			goto out;
	}

	const char *listen = lookup(&src, "CALENDOX_LISTEN");
	rc = parse_listen(listen ? listen : "127.0.0.1:8080", cfg, err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = get_url(&src, "CALENDOX_PUBLIC_URL", "http://localhost:8080", &cfg->public_url, err,
	             err_len);
	if (rc != CX_OK)
		goto out;
	cfg->secure_cookies = strncmp(cfg->public_url, "https://", 8) == 0;
	cfg->database = get_str(&src, "CALENDOX_DATABASE", "sqlite:calendox.db");
	rc = get_url(&src, "CALENDOX_SANDBOX", NULL, &cfg->sandbox, err, err_len);
	if (rc != CX_OK)
		goto out;
	cfg->web_root = get_str(&src, "CALENDOX_WEB_ROOT", "web/dist");
	rc = get_int(&src, "CALENDOX_HTTP_THREADS", 4, 1, 256, &cfg->http_threads, err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = get_int(&src, "CALENDOX_JOB_WORKERS", 4, 1, 256, &cfg->job_workers, err, err_len);
	if (rc == CX_OK)
		rc = get_int(&src, "CALENDOX_JOB_LEASE_S", 0, 0, 3600, &cfg->job_lease_s, err,
			     err_len);
	if (rc == CX_OK && cfg->job_lease_s > 0 && cfg->job_lease_s < 5) {
		set_err(err, err_len, "CALENDOX_JOB_LEASE_S must be 0 or between 5 and 3600");
		rc = CX_EINVAL;
	}
	if (rc != CX_OK)
		goto out;
	rc = get_int(&src, "CALENDOX_MAX_CONNECTIONS", 1024, 1, 65536, &cfg->max_connections, err,
	             err_len);
	if (rc != CX_OK)
		goto out;
	cfg->log_level = get_str(&src, "CALENDOX_LOG_LEVEL", "info");
	if (log_level_parse(cfg->log_level, &level) != 0) {
		set_err(err, err_len, "CALENDOX_LOG_LEVEL: expected debug, info, warn or error");
		rc = CX_EINVAL;
		goto out;
	}
	cfg->payments = get_str(&src, "CALENDOX_PAYMENTS", "sandbox");
	if (strcmp(cfg->payments, "sandbox") != 0 && strcmp(cfg->payments, "none") != 0) {
		set_err(err, err_len, "CALENDOX_PAYMENTS: expected sandbox or none");
		rc = CX_EINVAL;
		goto out;
	}
	rc = get_int(&src, "CALENDOX_TRIAL_DAYS", 14, 0, 3650, &cfg->trial_days, err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = get_int(&src, "CALENDOX_PLAN_BASIC_ACCOUNTS", 2, 1, 1000, &cfg->plan_basic_accounts,
	             err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = get_int(&src, "CALENDOX_PLAN_STANDARD_ACCOUNTS", 5, 1, 1000,
	             &cfg->plan_standard_accounts, err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = get_int(&src, "CALENDOX_SYNC_POLL_S", 60, 1, 86400, &cfg->sync_poll_s, err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = get_int(&src, "CALENDOX_EGRESS_CONCURRENCY", 64, 1, 4096, &cfg->egress_concurrency,
	             err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = load_provider(&src, cfg->sandbox, &zoom_defaults, &cfg->zoom, err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = load_provider(&src, cfg->sandbox, &google_defaults, &cfg->google, err, err_len);
	if (rc != CX_OK)
		goto out;
	rc = load_provider(&src, cfg->sandbox, &microsoft_defaults, &cfg->microsoft, err, err_len);
	if (rc != CX_OK)
		goto out;
	/* Last, so a configuration error does not leave a key file behind. */
	rc = load_secret_key(&src, cfg, err, err_len);
out:
	for (size_t i = 0; i < KNOWN_KEYS; i++) {
		if (src.file_values[i]) {
			sec_wipe(src.file_values[i], strlen(src.file_values[i]));
			free(src.file_values[i]);
		}
	}
	if (rc != CX_OK)
		config_release(cfg);
	return rc;
}

static void provider_release(struct provider_config *p)
{
	if (p->client_secret)
		sec_wipe(p->client_secret, strlen(p->client_secret));
	if (p->webhook_secret)
		sec_wipe(p->webhook_secret, strlen(p->webhook_secret));
	free(p->client_id);
	free(p->client_secret);
	free(p->webhook_secret);
	free(p->scopes);
	free(p->auth_url);
	free(p->token_url);
	free(p->revoke_url);
	free(p->api_url);
	memset(p, 0, sizeof(*p));
}

void config_release(struct config *cfg)
{
	free(cfg->listen_host);
	free(cfg->public_url);
	free(cfg->database);
	free(cfg->sandbox);
	free(cfg->web_root);
	free(cfg->log_level);
	free(cfg->payments);
	provider_release(&cfg->zoom);
	provider_release(&cfg->google);
	provider_release(&cfg->microsoft);
	sec_wipe(cfg->secret_key, sizeof(cfg->secret_key));
	memset(cfg, 0, sizeof(*cfg));
}

enum cx_err config_require_provider(const struct config *cfg, const char *which, char *err,
                                    size_t err_len)
{
	const struct provider_config *p;
	const char *prefix;
	if (strcmp(which, "zoom") == 0) {
		p = &cfg->zoom;
		prefix = "CALENDOX_ZOOM_";
	} else if (strcmp(which, "google") == 0) {
		p = &cfg->google;
		prefix = "CALENDOX_GOOGLE_";
	} else if (strcmp(which, "microsoft") == 0) {
		p = &cfg->microsoft;
		prefix = "CALENDOX_MICROSOFT_";
	} else {
		set_err(err, err_len, "unknown provider '%.32s'", which);
		return CX_EINVAL;
	}
	if (!p->client_id) {
		set_err(err, err_len, "%sCLIENT_ID is not set", prefix);
		return CX_EINVAL;
	}
	if (!p->client_secret) {
		set_err(err, err_len, "%sCLIENT_SECRET is not set", prefix);
		return CX_EINVAL;
	}
	return CX_OK;
}

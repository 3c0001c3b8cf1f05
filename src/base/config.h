/* config.h: Calendox configuration from the environment and an optional --config FILE of
 * KEY=value lines (DESIGN §6). The environment wins over the file. Loaded once at start-up and
 * read-only afterwards, so any thread may read it without a lock. */
#ifndef CX_BASE_CONFIG_H
#define CX_BASE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/crypto.h"
#include "base/err.h"

struct provider_config {
	char *client_id;
	char *client_secret;
	char *webhook_secret; /* Zoom only */
	char *scopes;         /* space-separated */
	char *auth_url;       /* authorize endpoint (full URL) */
	char *token_url;      /* token endpoint (full URL) */
	char *revoke_url;     /* revoke endpoint (full URL), may be NULL */
	char *api_url;        /* API base without a trailing slash */
};

struct config {
	char *listen_host;   /* CALENDOX_LISTEN host part, "127.0.0.1"; "[::1]:8080" gives "::1" */
	int listen_port;     /* CALENDOX_LISTEN port part, 8080 */
	char *public_url;    /* CALENDOX_PUBLIC_URL without trailing slash */
	char *database;      /* CALENDOX_DATABASE, "sqlite:calendox.db" */
	uint8_t secret_key[SEC_KEY_BYTES]; /* CALENDOX_SECRET_KEY or _FILE */
	char *sandbox;       /* CALENDOX_SANDBOX base URL or NULL */
	char *web_root;      /* CALENDOX_WEB_ROOT, "web/dist" */
	int http_threads;    /* CALENDOX_HTTP_THREADS, 4 */
	int job_workers;     /* CALENDOX_JOB_WORKERS, 4 */
	int job_lease_s;     /* CALENDOX_JOB_LEASE_S, 0 = each kind's own: every job's lease (how
	                      * soon another instance takes over the job of one that died), 5-3600;
	                      * provider calls in jobs are kept shorter than it */
	int max_connections; /* CALENDOX_MAX_CONNECTIONS, 1024 */
	char *log_level;     /* CALENDOX_LOG_LEVEL, "info" */
	char *payments;      /* CALENDOX_PAYMENTS: "sandbox" (activate at once) or "none" */
	int trial_days;      /* CALENDOX_TRIAL_DAYS, 14 */
	int plan_basic_accounts;    /* CALENDOX_PLAN_BASIC_ACCOUNTS, 2 */
	int plan_standard_accounts; /* CALENDOX_PLAN_STANDARD_ACCOUNTS, 5 */
	int sync_poll_s;     /* CALENDOX_SYNC_POLL_S, 60: calendars not synced for this long are
	                      * synced again by the periodic poll (1 to 86400) */
	int egress_concurrency; /* CALENDOX_EGRESS_CONCURRENCY, 64: provider transfers in flight at
	                         * once (1 to 4096) */
	bool secure_cookies; /* derived: public_url starts with https:// */
	struct provider_config zoom, google, microsoft;
};

/* A lookup function standing in for getenv (tests pass their own). */
typedef const char *(*config_getenv_fn)(const char *name);

/* Fills cfg from getenv_fn (NULL = getenv) and file (may be NULL). With CALENDOX_SANDBOX set,
 * every provider URL and client id/secret defaults to the sandbox's (DESIGN §7) unless set
 * explicitly. A missing secret key: with CALENDOX_SECRET_KEY_FILE naming a missing file, 32 random
 * bytes are written there (mode 0600) with a warning. On error, err names the variable and what is
 * wrong with it ("CALENDOX_LISTEN: expected host:port"). Caller releases with config_release(). */
enum cx_err config_load(struct config *cfg, const char *file, config_getenv_fn getenv_fn, char *err,
			size_t err_len);
void config_release(struct config *cfg);

/* For features that need a provider: CX_EINVAL with err naming the first missing variable,
 * e.g. "CALENDOX_ZOOM_CLIENT_ID is not set". which: "zoom", "google", "microsoft". */
enum cx_err config_require_provider(const struct config *cfg, const char *which, char *err,
				    size_t err_len);

#endif

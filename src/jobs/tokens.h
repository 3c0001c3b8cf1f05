/* tokens.h (jobs): a usable access token for a Zoom connection (app_connections) or a calendar
 * account (calendar_accounts), refreshed single-flight when it expires (DESIGN §4 "Token refresh",
 * ZOOM.md §4, GOOGLE.md and MICROSOFT.md on refresh).
 *
 * token_get() reads the row on the caller's thread. A token that expires more than
 * TOKEN_REFRESH_MARGIN_S from now (and was not just rejected) is handed to done at once, on the
 * caller's thread, without any request. Otherwise the request goes to the refresher's own thread,
 * which:
 *   1. re-reads the row and takes the refresh lease in the store (a conditional UPDATE of
 *      refresh_lock_until_ms/refresh_lock_owner, only for the token_version it read), so one
 *      refresh runs per connection across threads and instances;
 *   2. if someone else holds the lease, re-reads the row every TOKEN_WAIT_STEP_MS (a timed queue,
 *      never a sleeping thread) until the token_version changed (then it uses the stored token)
 *      or a lease length passed (CX_EBUSY);
 *   3. with the lease, submits the refresh_token grant to the egress thread; the egress completion
 *      only queues the answer back to the refresher thread, which does the store work: the new
 *      access token, refresh token (Zoom and Microsoft rotate it; Google keeps the old one) and
 *      expiry are stored in the statement that releases the lease and bumps token_version;
 *   4. on invalid_grant it re-reads the row: if token_version moved meanwhile another refresher
 *      won and its token is used; otherwise the row becomes needs_reconnect, with an activity entry
 *      ("zoom.needs_reconnect", "google.needs_reconnect", "microsoft.needs_reconnect") telling the
 *      person to disconnect and connect again, in one transaction;
 *   5. retryable failures (429, 5xx, timeouts, unreadable answers) release the lease and leave the
 *      row as it is.
 * Why a thread of its own: the egress thread must not do store I/O, and the job runner has no hook
 * to run a step on a worker for a run that is not finished; one small thread with a timed queue is
 * the simplest place for the re-reads and the writes, and it serves job runs and suspended HTTP
 * handlers alike. Nothing about a refresh lives only in memory except the answer in flight: a
 * crash releases nothing, and the lease expires by itself.
 *
 * A request rejected by the provider with a 401 (Zoom code 124, Google or Graph 401) calls
 * token_get() again with force and the token_version of the token it used: the token is refreshed
 * unless token_version already moved (someone refreshed it), and the caller retries once.
 *
 * Ownership and threads. token_get() may be called from any thread that may use the store (job
 * workers, HTTP pool threads); done runs exactly once, on that thread or on the refresher thread,
 * with an access token that is valid only during the call (copy it; it is a secret: never log it).
 * done must be quick and must not block; it may call token_get() again. The refresher must be
 * stopped before the egress thread and the store it uses. */
#ifndef CX_JOBS_TOKENS_H
#define CX_JOBS_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/err.h"
#include "egress/egress.h"
#include "store/store.h"

#define TOKEN_REFRESH_MARGIN_S 60 /* a token expiring sooner than this is refreshed first */
#define TOKEN_LEASE_MS 30000      /* the refresh lease; longer than the refresh request's timeout */
#define TOKEN_WAIT_STEP_MS 200    /* how often a caller waiting for another refresher re-reads */
#define TOKEN_QUEUE_MAX 4096      /* callers waiting on the refresher thread at most */

enum token_owner {
	TOKEN_ZOOM,     /* app_connections row (app "zoom") */
	TOKEN_CALENDAR, /* calendar_accounts row (provider google or microsoft) */
};

/* err: CX_OK with the access token and its token_version; CX_ENOTFOUND (no such row for the
 * person, or disconnected: no tokens); CX_EAUTH (needs reconnecting: already, or found now);
 * CX_EFORBIDDEN (a suspended calendar account); CX_EBUSY (rate limited, the lease stayed taken,
 * too many waiting, stopping); CX_EUPSTREAM (5xx, timeout, unreadable answer, our client
 * credentials refused); CX_ECRYPTO or CX_EDB. access_token is NULL unless CX_OK. */
typedef void (*token_done_fn)(enum cx_err err, const char *access_token, int64_t token_version,
                              void *arg);

struct token_refresher_options {
	struct store *store;
	const struct config *cfg; /* providers' token URLs and credentials, the secret key */
	struct egress *egress;
	int64_t lease_ms;     /* 0 = TOKEN_LEASE_MS */
	int64_t wait_step_ms; /* 0 = TOKEN_WAIT_STEP_MS */
	long timeout_ms;      /* of the refresh request; 0 = 20,000 (kept below the lease) */
};

struct token_refresher;

/* Starts the refresher thread. Caller stops it with token_refresher_stop(). */
enum cx_err token_refresher_start(const struct token_refresher_options *opts,
                                  struct token_refresher **out);
/* Answers callers still waiting with CX_EBUSY, waits for refreshes in flight to come back and be
 * stored (bounded by the request timeout), joins and frees. */
void token_refresher_stop(struct token_refresher *t);

/* Gets a usable access token for row_id of user_id and calls done (see token_done_fn). force with
 * rejected_version: the provider refused the token of that version; refresh unless the stored
 * token_version differs from it already. */
void token_get(struct token_refresher *t, enum token_owner kind, int64_t row_id, int64_t user_id,
               bool force, int64_t rejected_version, token_done_fn done, void *arg);

/* Refreshes requested from providers by this process (for tests and /metrics). */
uint64_t token_refresher_refreshes(struct token_refresher *t);

#endif

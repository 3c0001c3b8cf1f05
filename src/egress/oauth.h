/* oauth.h: the OAuth 2.0 client side of connecting Zoom, Google and Microsoft (DESIGN §4 "Connect",
 * "Token refresh", "Disconnect"): PKCE, the authorize URL, request builders for the
 * authorization_code grant, the refresh_token grant and revoke, and a defensive parser and
 * classifier of token-endpoint answers.
 *
 * Pure functions with no I/O and no threads of their own: builders return a struct egress_request
 * the caller hands to egress_submit()/egress_call() (after setting done/arg); parsers read a
 * struct egress_response the caller still owns. Everything is thread-safe. Strings in the structs
 * below are owned by the struct; release with the matching _release(). Tokens, codes, verifiers and
 * client secrets are secrets: nothing here logs them, and callers must not either. */
#ifndef CX_EGRESS_OAUTH_H
#define CX_EGRESS_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/err.h"
#include "egress/egress.h"

#define OAUTH_VERIFIER_LEN 64  /* RFC 7636 allows 43..128 characters */
#define OAUTH_CHALLENGE_LEN 43 /* base64url(SHA-256) without padding */
#define OAUTH_DEFAULT_EXPIRES_IN 3600
#define OAUTH_TOKEN_MAX 8192 /* longest token, scope or type string accepted from a provider */

/* How the client authenticates to the token and revoke endpoints. */
enum oauth_client_auth {
	OAUTH_AUTH_BASIC, /* Authorization: Basic base64(id:secret) (Zoom) */
	OAUTH_AUTH_BODY,  /* client_id and client_secret in the form body (Google, Microsoft) */
	OAUTH_AUTH_NONE,  /* neither (Google's revoke endpoint needs only the token) */
};

/* An extra query or form parameter, e.g. {"access_type", "offline"}. Arrays of them end with a
 * {NULL, NULL} entry; a NULL array means none. Both strings are borrowed. */
struct oauth_param {
	const char *name;
	const char *value;
};

struct oauth_pkce {
	char verifier[OAUTH_VERIFIER_LEN + 1];   /* secret: store with the oauth_state row */
	char challenge[OAUTH_CHALLENGE_LEN + 1]; /* sent in the authorize URL */
};

/* A fresh verifier (64 random base64url characters) and its S256 challenge. */
void oauth_pkce_new(struct oauth_pkce *out);
/* The S256 challenge of a verifier: base64url(SHA-256(verifier)) without padding. */
void oauth_pkce_challenge(const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1]);

/* The authorize URL: pc->auth_url + "?response_type=code&client_id=…&redirect_uri=…&state=…
 * &code_challenge=…&code_challenge_method=S256" + "&scope=…" when pc->scopes is set and non-empty +
 * the extras in order (Google: access_type=offline, prompt=consent, include_granted_scopes=true;
 * Microsoft: response_mode=query). An auth_url that already has a query gets '&' instead of '?'.
 * CX_EINVAL when pc->auth_url, pc->client_id or an argument is missing. Caller frees *out with
 * free(). The URL contains no secret (the challenge is a hash), so it may be logged. */
enum cx_err oauth_authorize_url(const struct provider_config *pc, const char *redirect_uri,
                                const char *state, const char *code_challenge,
                                const struct oauth_param *extras, char **out);

/* POST pc->token_url with a form body "grant_type=authorization_code&code=…&redirect_uri=…
 * &code_verifier=…" (code_verifier omitted when NULL) + client credentials per auth + extras, and
 * "Accept: application/json". CX_EINVAL when pc->token_url, a credential auth needs or an argument
 * is missing. Caller owns *out (egress_submit or egress_request_free). */
enum cx_err oauth_code_request(const struct provider_config *pc, enum oauth_client_auth auth,
                               const char *code, const char *redirect_uri,
                               const char *code_verifier, const struct oauth_param *extras,
                               struct egress_request **out);
/* POST pc->token_url, "grant_type=refresh_token&refresh_token=…" + credentials + extras (Microsoft
 * may want scope). Same rules as oauth_code_request. */
enum cx_err oauth_refresh_request(const struct provider_config *pc, enum oauth_client_auth auth,
                                  const char *refresh_token, const struct oauth_param *extras,
                                  struct egress_request **out);
/* POST pc->revoke_url with the form "token=…" + credentials + extras. CX_ENOTFOUND when the
 * provider has no revoke endpoint (pc->revoke_url NULL: Microsoft), CX_EINVAL as above. */
enum cx_err oauth_revoke_request(const struct provider_config *pc, enum oauth_client_auth auth,
                                 const char *token, const struct oauth_param *extras,
                                 struct egress_request **out);

struct oauth_tokens {
	char *access_token;  /* secret */
	char *refresh_token; /* secret; the previous one when the answer had none; may stay NULL */
	int64_t
	    expires_at;   /* Unix seconds: now + expires_in (OAUTH_DEFAULT_EXPIRES_IN if absent) */
	char *scope;      /* granted scopes, space-separated; NULL when the answer had none */
	char *token_type; /* "bearer" or "Bearer"; NULL when absent */
	bool refresh_rotated; /* the answer carried a refresh token (a new one to persist) */
};
void oauth_tokens_release(struct oauth_tokens *t);

/* What went wrong at the token endpoint, for the caller's decision and for logs (no secrets: the
 * provider's error strings are copied, never the request). */
struct oauth_error {
	enum cx_err transport; /* the egress error when no HTTP answer arrived, else CX_OK */
	bool sent;             /* copied from the response: false = certainly never reached it */
	long http_status;      /* 0 without an answer */
	char error[64];        /* OAuth "error" ("invalid_grant"), "" when none */
	char reason[256];      /* "error_description" or Zoom's "reason", "" when none */
	bool invalid_grant; /* a dead code or refresh token (DESIGN §4: re-read before believing) */
	bool invalid_client; /* our client id or secret is wrong: a configuration problem */
	bool retryable;      /* 429, 5xx, transport errors, a 2xx whose body is unreadable */
	bool unparsable;     /* the body was not a JSON object (XML, HTML, truncated) */
	long retry_after_s;  /* from Retry-After in seconds, 0 when absent */
};

/* Classifies a token-endpoint answer without reading tokens:
 *   2xx → CX_OK;
 *   400/401 with error "invalid_grant" → CX_EAUTH, invalid_grant;
 *   400/401 with error "invalid_client" (or 401 with WWW-Authenticate and no body) → CX_EAUTH,
 *     invalid_client;
 *   429 → CX_EBUSY, retryable; 5xx → CX_EUPSTREAM, retryable;
 *   no HTTP answer (resp->err != CX_OK) → CX_EUPSTREAM, retryable, transport set;
 *   anything else, including any unparsable body at any status → CX_EUPSTREAM (an XML or HTML page
 *     never counts as invalid_grant, ZOOM.md §3).
 * err may be NULL. */
enum cx_err oauth_classify(const struct egress_response *resp, struct oauth_error *err);

/* Parses a token answer (code exchange or refresh). Non-2xx answers are classified as above. A 2xx
 * must be a JSON object with a non-empty string access_token; otherwise CX_EUPSTREAM with
 * unparsable and retryable set. previous_refresh_token (may be NULL) is kept when the answer has no
 * refresh_token. Unknown fields are ignored; strings longer than OAUTH_TOKEN_MAX, negative or
 * absurd expires_in are rejected or clamped (expires_in accepted as a number or a numeric string,
 * as Microsoft's v1 endpoints send). On failure out is left zeroed. err may be NULL. */
enum cx_err oauth_parse_tokens(const struct egress_response *resp, int64_t now_s,
                               const char *previous_refresh_token, struct oauth_tokens *out,
                               struct oauth_error *err);

/* The result of a revoke call: 2xx → CX_OK; 400/401 whose error is "invalid_token" or
 * "invalid_grant" → CX_ENOTFOUND (the token was already dead: a disconnect may proceed); others as
 * oauth_classify. err may be NULL. */
enum cx_err oauth_revoke_result(const struct egress_response *resp, struct oauth_error *err);

#endif

/* microsoft.c: the Microsoft identity platform v2 and Graph v1.0 calendar emulator of
 * `calendox sandbox` (DESIGN §7, shared/providers/MICROSOFT.md, checklist ME-nn).
 *
 * State lives in struct sb_microsoft under sb->lock. Handlers build their answer and the change
 * notifications it causes under the lock and send both after releasing it. Deleted events are kept
 * with a deleted flag and a change sequence number so delta rounds can report them as @removed;
 * every other read treats them as gone (404). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/time.h"
#include "egress/egress.h"
#include "google_recur.h"
#include "microsoft_zone.h"
#include "sb.h"
#include "base/banned.h"

#define M_CLIENT_ID "sandbox-microsoft-client"
#define M_CLIENT_SECRET "sandbox-secret"
#define M_GRAPH "https://graph.microsoft.com/"
#define M_EMAIL "alice@contoso.example"
#define M_USER_ID "5f1c2b7e-8d4a-4c39-9b1e-2a6f0c3d4e51"
#define M_TENANT_ID "9188040d-6c67-4c5b-b112-36a304b66dad"
#define M_CALENDAR_ID "AAMkAGNhbGVuZGFyLWFsaWNlLWNvbnRvc28tZGVmYXVsdA"
#define M_ACCESS_TTL_S 3599
#define M_CODE_TTL_S 600
#define M_REFRESH_IDLE_S (90 * 86400)
#define M_SUB_MAX_MIN 4230
#define M_SUB_MIN_MIN 45
#define M_MAX_EVENTS 20000
#define M_MAX_SUBS 1000
#define M_MAX_GRANTS 10000
#define M_MAX_CODES 1000
#define M_MAX_REFRESH 20000
#define M_PAGE_DEFAULT 10
#define M_PAGE_MAX 1000
#define M_MAX_OCCURRENCES 730
#define M_ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define M_HANDSHAKE_TIMEOUT_MS 10000

static const char *const m_emails[] = {M_EMAIL};

static const struct sb_scope_text m_scope_texts[] = {
    {"offline_access", "Maintain access to data you have given it access to"},
    {"User.Read", "Sign you in and read your profile"},
    {"Calendars.ReadWrite", "Have full access to your calendars"},
    {"Calendars.Read", "Read your calendars"},
    {"openid", "Sign you in"},
    {"profile", "View your basic profile"},
    {"email", "View your email address"},
};

struct m_code {
	char *code;
	char *redirect_uri;
	char *scope; /* resolved: full Graph names plus offline_access/openid/… */
	char *challenge;
	char *challenge_method;
	bool used;
	int64_t expires_s;
	struct m_code *next;
};

struct m_grant {
	int id;
	char *scope;
	bool revoked;
	int64_t created_s;
	struct m_grant *next;
};

struct m_refresh {
	char *token;
	struct m_grant *grant;
	int64_t last_used_s;
	bool superseded; /* a newer one was issued (strict mode refuses these) */
	struct m_refresh *next;
};

struct m_access {
	char *token;
	struct m_grant *grant;
	int64_t expires_s;
	struct m_access *next;
};

struct m_event {
	char *id;
	json_t *fields; /* the writable fields as last written */
	int64_t start_s, end_s;
	bool deleted;
	uint64_t create_seq, change_seq;
	int64_t created_ms, modified_ms;
	char *change_key;
	char *ical_uid;
	char *transaction_id;
	char *teams_id; /* "19:meeting_…@thread.v2" when a Teams meeting is attached */
	char *conference_id;
	struct m_event *next;
};

struct m_sub {
	char *id;
	char *resource;
	bool calendar_only; /* me/calendars/{id}/events: the one calendar (there is one) */
	char *change_type;
	char *notification_url;
	char *lifecycle_url;
	char *client_state;
	int64_t expiration_s;
	bool deleted;
	uint64_t notifications;
	struct m_sub *next;
};

struct sb_microsoft {
	struct m_code *codes;
	struct m_grant *grants;
	struct m_refresh *refresh;
	struct m_access *access;
	struct m_event *events;
	struct m_sub *subs;
	size_t n_events, n_subs, n_grants, n_codes, n_refresh;
	int next_grant_id;
	uint64_t seq;
	unsigned delta_gen;
	bool strict_rotation;
	int th_limit, th_window_s, th_count;
	int64_t th_window_start;
	struct {
		uint64_t authorizations, denials, code_exchanges, token_refreshes, revocations;
		uint64_t creates, deduplicated, updates, deletes, outside_edits, reads;
		uint64_t subscriptions, validations_failed, notifications, delta_invalidations;
		uint64_t throttled, teams_meetings;
	} n;
};

struct m_push {
	char *url;
	char *body;
	bool retry;
	struct m_push *next;
};

struct m_reply {
	int status;
	json_t *json;
	const char *content_type;
	const char *text;
	const char *location;
	const char *www_authenticate;
	const char *retry_after;
	const char *cache_control;
	struct m_push *pushes;
};

/* ------------------------------------------------------------------ helpers */

static struct sb_microsoft *mstate(struct sb *sb)
{
	return sb->microsoft;
}

static char *guid(struct sb *sb, struct arena *a)
{
	const char *h = sb_random_string(sb, a, "0123456789abcdef", 32);
	return arena_printf(a, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* Graph's dateTime: "2026-11-24T10:00:00.0000000" (UTC, no offset). */
static char *graph_time(struct arena *a, int64_t unix_s)
{
	char buf[40];
	if (time_format_rfc3339(unix_s, 0, buf, sizeof(buf)) == 0)
		return arena_strdup(a, "1970-01-01T00:00:00.0000000");
	buf[19] = '\0';
	return arena_printf(a, "%s.0000000", buf);
}

/* Graph's DateTimeOffset for timestamps: "2026-11-24T08:00:00.1230000Z". */
static char *graph_stamp(struct arena *a, int64_t unix_ms)
{
	char buf[40];
	int64_t s = unix_ms / 1000;
	if (time_format_rfc3339(s, 0, buf, sizeof(buf)) == 0)
		return arena_strdup(a, "1970-01-01T00:00:00Z");
	buf[19] = '\0';
	return arena_printf(a, "%s.%03d0000Z", buf, (int)(unix_ms % 1000));
}

/* A Graph dateTime with or without an offset; without one it is in the zone given beside it,
 * which the sandbox takes as UTC (it carries no zone database; the zone name is echoed). */
static bool parse_graph_time(const char *s, int64_t *out)
{
	if (!s || strlen(s) > 40)
		return false;
	if (time_parse_rfc3339(s, out, NULL) == CX_OK)
		return true;
	char z[48];
	snprintf(z, sizeof(z), "%sZ", s);
	return time_parse_rfc3339(z, out, NULL) == CX_OK;
}

static bool has_scope(const char *granted, const char *name)
{
	char full[128];
	snprintf(full, sizeof(full), M_GRAPH "%s", name);
	size_t n = strlen(full);
	for (const char *p = granted; p && *p;) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncasecmp(p, full, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* "offline_access User.Read" → "offline_access https://graph.microsoft.com/User.Read". */
static char *resolve_scopes(struct arena *a, const char *requested)
{
	struct buf b;
	buf_init(&b, 8192);
	char *copy = arena_strdup(a, requested);
	char *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		bool oidc = strcmp(t, "offline_access") == 0 || strcmp(t, "openid") == 0 ||
		            strcmp(t, "profile") == 0 || strcmp(t, "email") == 0;
		bool full = strncmp(t, "https://", 8) == 0;
		buf_printf(&b, "%s%s%s", b.len ? " " : "", oidc || full ? "" : M_GRAPH, t);
	}
	char *out = arena_strdup(a, b.data ? b.data : "");
	buf_release(&b);
	return out;
}

/* The granted scope as the token answer shows it: Graph scopes only. */
static char *answer_scope(struct arena *a, const char *scope)
{
	struct buf b;
	buf_init(&b, 8192);
	char *copy = arena_strdup(a, scope);
	char *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (strcmp(t, "offline_access") != 0)
			buf_printf(&b, "%s%s", b.len ? " " : "", t);
	char *out = arena_strdup(a, b.data ? b.data : "");
	buf_release(&b);
	return out;
}

static bool scope_listed(const char *scope, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = scope; p && *p;) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* ------------------------------------------------------------------ replies */

static void reply_json(struct m_reply *r, int status, json_t *body)
{
	json_decref(r->json);
	r->status = status;
	r->json = body;
}

/* The Graph error body (MICROSOFT.md §9). */
static void graph_error(struct sb *sb, struct http_request *req, struct m_reply *r, int status,
                        const char *code, const char *message)
{
	char date[40];
	if (time_format_rfc3339(sb_now_s(sb), 0, date, sizeof(date)))
		date[19] = '\0';
	const char *crid = http_header(req, "client-request-id");
	const char *rid = guid(sb, req->arena);
	reply_json(r, status,
	           json_pack("{s:{s:s,s:s,s:{s:s,s:s,s:s}}}", "error", "code", code, "message",
	                     message, "innerError", "date", date, "request-id", rid,
	                     "client-request-id", crid && strlen(crid) < 100 ? crid : rid));
}

/* The identity platform's token error body (MICROSOFT.md §2). */
static void token_error(struct sb *sb, struct http_request *req, struct m_reply *r, int status,
                        const char *error, int aadsts, const char *text)
{
	char stamp[40];
	time_format_rfc3339(sb_now_s(sb), 0, stamp, sizeof(stamp));
	char *trace = guid(sb, req->arena);
	char *desc = arena_printf(req->arena,
	                          "AADSTS%d: %s Trace ID: %s Correlation ID: %s "
	                          "Timestamp: %s",
	                          aadsts, text, trace, trace, stamp);
	reply_json(
	    r, status,
	    json_pack("{s:s,s:s,s:[i],s:s,s:s,s:s,s:s}", "error", error, "error_description", desc,
	              "error_codes", aadsts, "timestamp", stamp, "trace_id", trace,
	              "correlation_id", guid(sb, req->arena), "error_uri",
	              arena_printf(req->arena, "https://login.microsoftonline.com/error?code=%d",
	                           aadsts)));
	r->cache_control = "no-store";
}

static void finish(struct http_request *req, struct sb *sb, struct m_reply *r)
{
	/* ME-26: an answer that is not 2xx within 3 s counts as failed; the notification is resent
	 * with backoff for up to four hours of sandbox time, then dropped. */
	static const int retries[] = {60, 300, 900, 1800, 3600, 7200};
	static const char *const headers[] = {"Content-Type: application/json; charset=utf-8",
	                                      NULL};
	for (struct m_push *p = r->pushes; p; p = p->next) {
		struct sb_delivery_options opts = {
		    .retry_delays_s = p->retry ? retries : NULL,
		    .n_retries = p->retry ? (int)(sizeof(retries) / sizeof(retries[0])) : 0,
		    .timeout_ms = 3000,
		};
		sb_deliver_with(sb, "POST", p->url, headers, p->body, &opts);
	}
	if (r->www_authenticate)
		http_add_header(req, "WWW-Authenticate", r->www_authenticate);
	if (r->retry_after)
		http_add_header(req, "Retry-After", r->retry_after);
	if (r->cache_control)
		http_add_header(req, "Cache-Control", r->cache_control);
	if (r->location) {
		http_reply_redirect(req, 302, r->location);
	} else if (r->json) {
		json_t *j = r->json;
		r->json = NULL;
		http_reply_json(req, r->status, j);
	} else if (r->text) {
		http_reply(req, r->status, r->content_type, r->text, strlen(r->text));
	} else {
		http_reply_empty(req, r->status ? r->status : 204);
	}
}

static json_t *body_object(struct sb *sb, struct http_request *req, struct m_reply *r)
{
	json_error_t jerr;
	json_t *v = NULL;
	if (req->body && req->body_len)
		v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(v)) {
		json_decref(v);
		graph_error(sb, req, r, 400, "BadRequest",
		            req->body_len ? "Unable to read JSON request payload. Please ensure "
		                            "Content-Type header is set and payload is of valid "
		                            "JSON format."
		                          : "Empty Payload. JSON content expected.");
		return NULL;
	}
	return v;
}

/* ------------------------------------------------------------------ state management */

static void free_event(struct m_event *e)
{
	free(e->id);
	json_decref(e->fields);
	free(e->change_key);
	free(e->ical_uid);
	free(e->transaction_id);
	free(e->teams_id);
	free(e->conference_id);
	free(e);
}

static void free_code(struct m_code *c)
{
	free(c->code);
	free(c->redirect_uri);
	free(c->scope);
	free(c->challenge);
	free(c->challenge_method);
	free(c);
}

static void free_sub(struct m_sub *s)
{
	free(s->id);
	free(s->resource);
	free(s->change_type);
	free(s->notification_url);
	free(s->lifecycle_url);
	free(s->client_state);
	free(s);
}

static void clear_state(struct sb_microsoft *m)
{
	for (struct m_code *c = m->codes, *n; c; c = n) {
		n = c->next;
		free_code(c);
	}
	for (struct m_grant *c = m->grants, *n; c; c = n) {
		n = c->next;
		free(c->scope);
		free(c);
	}
	for (struct m_refresh *c = m->refresh, *n; c; c = n) {
		n = c->next;
		free(c->token);
		free(c);
	}
	for (struct m_access *c = m->access, *n; c; c = n) {
		n = c->next;
		free(c->token);
		free(c);
	}
	for (struct m_event *c = m->events, *n; c; c = n) {
		n = c->next;
		free_event(c);
	}
	for (struct m_sub *c = m->subs, *n; c; c = n) {
		n = c->next;
		free_sub(c);
	}
	memset(m, 0, sizeof(*m));
	m->next_grant_id = 1;
	m->th_limit = 10000;
	m->th_window_s = 600;
}

static void microsoft_init(struct sb *sb)
{
	sb->microsoft = xcalloc(1, sizeof(struct sb_microsoft));
	clear_state(sb->microsoft);
}

static void microsoft_reset(struct sb *sb)
{
	clear_state(sb->microsoft);
}

static void microsoft_free(struct sb *sb)
{
	if (!sb->microsoft)
		return;
	clear_state(sb->microsoft);
	free(sb->microsoft);
	sb->microsoft = NULL;
}

static struct m_event *find_event(struct sb_microsoft *m, const char *id)
{
	for (struct m_event *e = m->events; e && id; e = e->next)
		if (!e->deleted && strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* ------------------------------------------------------------------ authentication */

enum m_need { M_NEED_USER, M_NEED_READ, M_NEED_WRITE };

/* The grant behind the bearer token, or NULL with 401 (ME-10), 403 (ME-11) or 429 (ME-28) in r. */
static struct m_grant *api_auth(struct sb *sb, struct http_request *req, enum m_need need,
                                struct m_reply *r)
{
	struct sb_microsoft *m = mstate(sb);
	const char *tok = sb_bearer(req);
	int64_t now = sb_now_s(sb);
	struct m_access *acc = NULL;
	for (struct m_access *x = m->access; tok && x; x = x->next)
		if (strcmp(x->token, tok) == 0)
			acc = x;
	if (!acc || acc->expires_s <= now || acc->grant->revoked) {
		graph_error(sb, req, r, 401, "InvalidAuthenticationToken",
		            !tok   ? "Access token is empty."
		            : !acc ? "IDX14100: JWT is not well formed, there are no dots (.)."
		            : acc->grant->revoked
		                ? "Access token validation failure. Invalid audience."
		                : "Lifetime validation failed, the token is expired.");
		r->www_authenticate = "Bearer realm=\"\", authorization_uri=\"https://login."
		                      "microsoftonline.com/common/oauth2/authorize\", client_id="
		                      "\"00000003-0000-0000-c000-000000000000\"";
		return NULL;
	}
	const char *s = acc->grant->scope;
	bool ok = need == M_NEED_USER
	              ? has_scope(s, "User.Read") || has_scope(s, "User.ReadWrite") ||
	                    has_scope(s, "User.ReadBasic.All")
	          : need == M_NEED_READ
	              ? has_scope(s, "Calendars.Read") || has_scope(s, "Calendars.ReadWrite")
	              : has_scope(s, "Calendars.ReadWrite");
	if (!ok) {
		graph_error(sb, req, r, 403, "ErrorAccessDenied",
		            "Access is denied. Check credentials and try again.");
		return NULL;
	}
	if (m->th_limit > 0) {
		if (now >= m->th_window_start + m->th_window_s) {
			m->th_window_start = now;
			m->th_count = 0;
		}
		if (++m->th_count > m->th_limit) {
			m->n.throttled++;
			graph_error(sb, req, r, 429, "ApplicationThrottled",
			            "Application is over its MailboxConcurrency limit.");
			int64_t wait = m->th_window_start + m->th_window_s - now;
			r->retry_after = arena_printf(req->arena, "%" PRId64, wait > 0 ? wait : 1);
			return NULL;
		}
	}
	return acc->grant;
}

static bool client_ok(struct http_request *req, bool *known)
{
	const char *id = http_form(req, "client_id");
	const char *secret = http_form(req, "client_secret");
	const char *bu, *bp;
	if (!id && sb_basic_auth(req, &bu, &bp)) {
		id = bu;
		secret = bp;
	}
	*known = id && strcmp(id, M_CLIENT_ID) == 0;
	return *known && secret && strcmp(secret, M_CLIENT_SECRET) == 0;
}

static bool tenant_ok(const char *t)
{
	return t && (strcmp(t, "common") == 0 || strcmp(t, "organizations") == 0 ||
	             strcmp(t, "consumers") == 0 || strcmp(t, M_TENANT_ID) == 0);
}

/* ------------------------------------------------------------------ OAuth */

static const char *authorize_problem(struct http_request *req, bool form)
{
	const char *(*get)(struct http_request *, const char *) = form ? http_form : http_query;
	const char *client = get(req, "client_id");
	const char *redirect = get(req, "redirect_uri");
	if (!tenant_ok(http_param(req, "tenant")))
		return "<!doctype html><title>Sign in to your account</title><p>AADSTS90002: "
		       "Tenant "
		       "not found. Check to make sure you have the correct tenant ID and are "
		       "signing "
		       "into the correct cloud.</p>";
	if (!client || strcmp(client, M_CLIENT_ID) != 0)
		return "<!doctype html><title>Sign in to your account</title><p>AADSTS700016: "
		       "Application with identifier was not found in the directory.</p>";
	if (!redirect || !sb_redirect_uri_ok(redirect, "microsoft"))
		return "<!doctype html><title>Sign in to your account</title><p>AADSTS50011: The "
		       "redirect URI specified in the request does not match the redirect URIs "
		       "configured for the application.</p>";
	return NULL;
}

static void h_authorize(struct http_request *req)
{
	const char *problem = authorize_problem(req, false);
	if (problem) {
		http_reply(req, 400, "text/html; charset=utf-8", problem, strlen(problem));
		return;
	}
	const char *rt = http_query(req, "response_type");
	const char *scope = http_query(req, "scope");
	const char *redirect = http_query(req, "redirect_uri");
	const char *state = http_query(req, "state");
	if (!rt || strcmp(rt, "code") != 0 || !scope || !*scope) {
		const char *kv[] = {"error",
		                    !rt || strcmp(rt, "code") != 0 ? "unsupported_response_type"
		                                                   : "invalid_request",
		                    "error_description",
		                    !scope || !*scope
		                        ? "AADSTS900144: The request body must contain "
		                          "the following parameter: 'scope'."
		                        : "AADSTS700054: response_type is not enabled "
		                          "for the application.",
		                    "state",
		                    state,
		                    NULL};
		http_reply_redirect(req, 302, sb_redirect_with(req->arena, redirect, kv));
		return;
	}
	char *path = arena_printf(req->arena, "/microsoft/%s/oauth2/v2.0/authorize/decision",
	                          http_param(req, "tenant"));
	sb_authorize_page(req, "Microsoft", m_emails, 1, scope, m_scope_texts,
	                  sizeof(m_scope_texts) / sizeof(m_scope_texts[0]), path);
}

static void h_authorize_decision(struct http_request *req)
{
	struct sb *sb = sb_get();
	const char *problem = authorize_problem(req, true);
	if (problem) {
		http_reply(req, 400, "text/html; charset=utf-8", problem, strlen(problem));
		return;
	}
	const char *redirect = http_form(req, "redirect_uri");
	const char *state = http_form(req, "state");
	const char *decision = http_form(req, "decision");
	const char *user = http_form(req, "user");
	const char *scope = http_form(req, "scope");
	const char *method = http_form(req, "code_challenge_method");
	const char *challenge = http_form(req, "code_challenge");
	struct m_reply r = {0};
	sb_lock(sb);
	struct sb_microsoft *m = mstate(sb);
	if (!decision || strcmp(decision, "allow") != 0) {
		m->n.denials++;
		const char *kv[] = {"error",
		                    "access_denied",
		                    "error_description",
		                    "AADSTS65004: User declined to consent to access the app.",
		                    "state",
		                    state,
		                    NULL};
		r.location = sb_redirect_with(req->arena, redirect, kv);
	} else if (!user || strcasecmp(user, M_EMAIL) != 0 || !scope || !*scope) {
		r.status = 400;
		r.content_type = "text/html; charset=utf-8";
		r.text = "<!doctype html><title>Sign in to your account</title><p>AADSTS50034: The "
		         "user account does not exist in the directory.</p>";
	} else if (method && *method && strcmp(method, "S256") != 0 &&
	           strcmp(method, "plain") != 0) {
		const char *kv[] = {"error",
		                    "invalid_request",
		                    "error_description",
		                    "AADSTS501491: Invalid size of Code_Challenge parameter.",
		                    "state",
		                    state,
		                    NULL};
		r.location = sb_redirect_with(req->arena, redirect, kv);
	} else {
		int64_t now = sb_now_s(sb);
		for (struct m_code **pp = &m->codes; *pp;) {
			struct m_code *c = *pp;
			if (c->used || c->expires_s <= now || m->n_codes >= M_MAX_CODES) {
				*pp = c->next;
				free_code(c);
				m->n_codes--;
			} else {
				pp = &c->next;
			}
		}
		struct m_code *c = xcalloc(1, sizeof(*c));
		c->code = xasprintf("0.ASandbox%s", sb_random_string(sb, req->arena, M_ALNUM, 64));
		c->redirect_uri = xstrdup(redirect);
		c->scope = xstrdup(resolve_scopes(req->arena, scope));
		c->challenge = challenge && *challenge ? xstrdup(challenge) : NULL;
		c->challenge_method = method && *method ? xstrdup(method) : NULL;
		c->expires_s = now + M_CODE_TTL_S;
		c->next = m->codes;
		m->codes = c;
		m->n_codes++;
		m->n.authorizations++;
		const char *kv[] = {
		    "code", c->code, "state", state, "session_state", guid(sb, req->arena), NULL};
		r.location = sb_redirect_with(req->arena, redirect, kv);
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void prune_tokens(struct sb_microsoft *m, int64_t now)
{
	for (struct m_access **pp = &m->access; *pp;) {
		struct m_access *x = *pp;
		if (x->expires_s <= now || x->grant->revoked) {
			*pp = x->next;
			free(x->token);
			free(x);
		} else {
			pp = &x->next;
		}
	}
	/* Refresh tokens stay (a dead one still gets its precise invalid_grant answer) until there
	 * are too many; then the oldest go (the list is newest first). */
	size_t kept = 0;
	for (struct m_refresh **pp = &m->refresh; *pp;) {
		struct m_refresh *x = *pp;
		if (kept >= M_MAX_REFRESH - 1) {
			*pp = x->next;
			free(x->token);
			free(x);
			m->n_refresh--;
		} else {
			kept++;
			pp = &x->next;
		}
	}
}

/* Issues an access token and, with offline_access, a new refresh token (ME-05, ME-06). */
static void issue_tokens(struct sb *sb, struct http_request *req, struct m_grant *gr,
                         struct m_reply *r)
{
	struct sb_microsoft *m = mstate(sb);
	int64_t now = sb_now_s(sb);
	prune_tokens(m, now);
	struct m_access *acc = xcalloc(1, sizeof(*acc));
	acc->token = xasprintf("eyJ0eXAiOiJKV1QiLCJub25jZSI6InNhbmRib3gifQ.%s.%s",
	                       sb_random_string(sb, req->arena, M_ALNUM, 48),
	                       sb_random_string(sb, req->arena, M_ALNUM "-_", 43));
	acc->grant = gr;
	acc->expires_s = now + M_ACCESS_TTL_S;
	acc->next = m->access;
	m->access = acc;
	json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:s}", "token_type", "Bearer", "scope",
	                      answer_scope(req->arena, gr->scope), "expires_in", M_ACCESS_TTL_S,
	                      "ext_expires_in", M_ACCESS_TTL_S, "access_token", acc->token);
	if (scope_listed(gr->scope, "offline_access")) {
		for (struct m_refresh *x = m->refresh; x; x = x->next)
			if (x->grant == gr)
				x->superseded = true;
		struct m_refresh *rt = xcalloc(1, sizeof(*rt));
		rt->token =
		    xasprintf("0.AXsandbox%s", sb_random_string(sb, req->arena, M_ALNUM "-_", 120));
		rt->grant = gr;
		rt->last_used_s = now;
		rt->next = m->refresh;
		m->refresh = rt;
		m->n_refresh++;
		json_object_set_new(o, "refresh_token", json_string(rt->token));
	}
	reply_json(r, 200, o);
	r->cache_control = "no-store";
}

static void h_token(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	const char *grant_type = http_form(req, "grant_type");
	bool known;
	sb_lock(sb);
	struct sb_microsoft *m = mstate(sb);
	int64_t now = sb_now_s(sb);
	if (!tenant_ok(http_param(req, "tenant"))) {
		token_error(sb, req, &r, 400, "invalid_request", 90002, "Tenant not found.");
	} else if (!client_ok(req, &known)) {
		if (known)
			token_error(sb, req, &r, 401, "invalid_client", 7000215,
			            "Invalid client secret provided. Ensure the secret being sent "
			            "in the request is the client secret value, not the client "
			            "secret ID.");
		else
			token_error(sb, req, &r, 400, "unauthorized_client", 700016,
			            "Application with identifier was not found in the directory.");
	} else if (!grant_type) {
		token_error(sb, req, &r, 400, "invalid_request", 900144,
		            "The request body must contain the following parameter: "
		            "'grant_type'.");
	} else if (strcmp(grant_type, "authorization_code") == 0) {
		const char *code = http_form(req, "code");
		const char *redirect = http_form(req, "redirect_uri");
		const char *verifier = http_form(req, "code_verifier");
		struct m_code *c = NULL;
		for (struct m_code *x = m->codes; code && x; x = x->next)
			if (strcmp(x->code, code) == 0)
				c = x;
		if (!code) {
			token_error(sb, req, &r, 400, "invalid_request", 900144,
			            "The request body must contain the following parameter: "
			            "'code'.");
		} else if (!c) {
			token_error(sb, req, &r, 400, "invalid_grant", 9002313,
			            "Invalid request. Request is malformed or invalid.");
		} else if (c->used) {
			token_error(sb, req, &r, 400, "invalid_grant", 54005,
			            "OAuth2 Authorization code was already redeemed, please retry "
			            "with a new valid code or use an existing refresh token.");
		} else if (c->expires_s <= now) {
			token_error(sb, req, &r, 400, "invalid_grant", 70008,
			            "The provided authorization code or refresh token has expired "
			            "due to inactivity. Send a new interactive authorization "
			            "request for this user and resource.");
		} else if (!redirect || strcmp(redirect, c->redirect_uri) != 0) {
			token_error(sb, req, &r, 400, "invalid_grant", 50148,
			            "The redirect_uri specified in the token request does not "
			            "match the redirect_uri of the authorization request.");
		} else if (c->challenge && !verifier) {
			token_error(sb, req, &r, 400, "invalid_request", 50148,
			            "The code_verifier must be provided when a code_challenge was "
			            "sent in the authorization request.");
		} else if (c->challenge &&
		           !sb_pkce_ok(c->challenge, c->challenge_method, verifier)) {
			c->used = true;
			token_error(sb, req, &r, 400, "invalid_grant", 501481,
			            "The Code_Verifier does not match the code_challenge supplied "
			            "in the authorization request.");
		} else if (m->n_grants >= M_MAX_GRANTS) {
			token_error(sb, req, &r, 400, "invalid_grant", 9002313,
			            "Invalid request. Request is malformed or invalid.");
		} else {
			c->used = true;
			struct m_grant *gr = xcalloc(1, sizeof(*gr));
			gr->id = m->next_grant_id++;
			gr->scope = xstrdup(c->scope);
			gr->created_s = now;
			gr->next = m->grants;
			m->grants = gr;
			m->n_grants++;
			m->n.code_exchanges++;
			issue_tokens(sb, req, gr, &r);
		}
	} else if (strcmp(grant_type, "refresh_token") == 0) {
		const char *tok = http_form(req, "refresh_token");
		struct m_refresh *rt = NULL;
		for (struct m_refresh *x = m->refresh; tok && x; x = x->next)
			if (strcmp(x->token, tok) == 0)
				rt = x;
		if (!tok) {
			token_error(sb, req, &r, 400, "invalid_request", 900144,
			            "The request body must contain the following parameter: "
			            "'refresh_token'.");
		} else if (!rt || (rt->superseded && m->strict_rotation)) {
			token_error(sb, req, &r, 400, "invalid_grant", 9002313,
			            "Invalid request. Request is malformed or invalid.");
		} else if (rt->grant->revoked) {
			token_error(sb, req, &r, 400, "invalid_grant", 50173,
			            "The provided grant has expired due to it being revoked, a "
			            "fresh auth token is needed. The user might have changed or "
			            "reset their password.");
		} else if (rt->last_used_s + M_REFRESH_IDLE_S <= now) {
			token_error(sb, req, &r, 400, "invalid_grant", 700082,
			            "The refresh token has expired due to inactivity. The token "
			            "was issued on a date and was inactive for 90.00:00:00.");
		} else {
			rt->last_used_s = now;
			m->n.token_refreshes++;
			issue_tokens(sb, req, rt->grant, &r);
		}
	} else {
		token_error(sb, req, &r, 400, "unsupported_grant_type", 70003,
		            "The app requested an unsupported grant type.");
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void revoke_all(struct sb_microsoft *m)
{
	for (struct m_grant *g = m->grants; g; g = g->next)
		if (!g->revoked) {
			g->revoked = true;
			m->n.revocations++;
		}
}

/* ------------------------------------------------------------------ /me and calendars */

static json_t *calendar_json(struct sb *sb, struct arena *a)
{
	return json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:b,s:[s],s:s,s:{s:s,s:s}}", "id",
	    M_CALENDAR_ID, "name", "Calendar", "color", "auto", "hexColor", "", "changeKey",
	    "DwAAABYAAAAiIsqMbYjsT5e/T7KzowPTAAAAAA==", "isDefaultCalendar", 1, "canShare", 1,
	    "canViewPrivateItems", 1, "canEdit", 1, "isRemovable", 0, "isTallyingResponses", 1,
	    "allowedOnlineMeetingProviders", "teamsForBusiness", "defaultOnlineMeetingProvider",
	    "teamsForBusiness", "owner", "name", "Alice Contoso", "address", M_EMAIL);
}

static char *context_url(struct sb *sb, struct arena *a, const char *what)
{
	return arena_printf(a, "%s/microsoft/v1.0/$metadata#%s", sb->base_url, what);
}

static void h_me(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_USER, &r))
		reply_json(&r, 200,
		           json_pack("{s:s,s:[],s:s,s:s,s:s,s:n,s:s,s:n,s:n,s:s,s:s,s:s}",
		                     "@odata.context", context_url(sb, req->arena, "users/$entity"),
		                     "businessPhones", "displayName", "Alice Contoso", "givenName",
		                     "Alice", "surname", "Contoso", "jobTitle", "mail", M_EMAIL,
		                     "mobilePhone", "officeLocation", "preferredLanguage", "en-US",
		                     "userPrincipalName", M_EMAIL, "id", M_USER_ID));
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_calendars(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r))
		reply_json(
		    &r, 200,
		    json_pack("{s:s,s:[o]}", "@odata.context",
		              context_url(sb, req->arena, "users('" M_USER_ID "')/calendars"),
		              "value", calendar_json(sb, req->arena)));
	sb_unlock(sb);
	finish(req, sb, &r);
}

static bool calendar_param_ok(struct sb *sb, struct http_request *req, struct m_reply *r)
{
	const char *id = http_param(req, "calendarId");
	if (!id || strcmp(id, M_CALENDAR_ID) == 0)
		return true;
	graph_error(sb, req, r, 404, "ErrorItemNotFound",
	            "The specified object was not found in the store.");
	return false;
}

static void h_calendar(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r) && calendar_param_ok(sb, req, &r)) {
		json_t *c = calendar_json(sb, req->arena);
		json_object_set_new(
		    c, "@odata.context",
		    json_string(
		        context_url(sb, req->arena, "users('" M_USER_ID "')/calendars/$entity")));
		reply_json(&r, 200, c);
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ events */

static const char *const m_writable[] = {"subject",
                                         "body",
                                         "start",
                                         "end",
                                         "location",
                                         "locations",
                                         "attendees",
                                         "isAllDay",
                                         "isOnlineMeeting",
                                         "onlineMeetingProvider",
                                         "showAs",
                                         "sensitivity",
                                         "importance",
                                         "categories",
                                         "reminderMinutesBeforeStart",
                                         "isReminderOn",
                                         "recurrence",
                                         "allowNewTimeProposals",
                                         "responseRequested",
                                         "hideAttendees",
                                         "isDraft",
                                         "singleValueExtendedProperties",
                                         "multiValueExtendedProperties",
                                         "originalStartTimeZone",
                                         "originalEndTimeZone",
                                         NULL};

/* Properties of event that exist but a client cannot set (accepted and ignored). */
static const char *const m_readonly[] = {"id",
                                         "@odata.type",
                                         "@odata.etag",
                                         "@odata.context",
                                         "createdDateTime",
                                         "lastModifiedDateTime",
                                         "changeKey",
                                         "iCalUId",
                                         "bodyPreview",
                                         "hasAttachments",
                                         "isCancelled",
                                         "isOrganizer",
                                         "onlineMeeting",
                                         "onlineMeetingUrl",
                                         "organizer",
                                         "originalStart",
                                         "responseStatus",
                                         "seriesMasterId",
                                         "type",
                                         "webLink",
                                         "cancelledOccurrences",
                                         "transactionId",
                                         "attachments",
                                         "calendar",
                                         "extensions",
                                         "instances",
                                         "exceptionOccurrences",
                                         NULL};

static bool listed(const char *const *list, const char *key)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

static bool check_dtz(const json_t *v, int64_t *t, const char **why)
{
	if (!json_is_object(v) || !json_is_string(json_object_get(v, "dateTime"))) {
		*why = "DateTime is required.";
		return false;
	}
	const json_t *tz = json_object_get(v, "timeZone");
	if (tz && !json_is_string(tz)) {
		*why = "TimeZone must be a string.";
		return false;
	}
	const char *dt = json_string_value(json_object_get(v, "dateTime"));
	const char *zone = tz ? json_string_value(tz) : "UTC";
	if (!microsoft_zone_iana(zone)) {
		*why = "TimeZoneNotSupportedException";
		return false;
	}
	if (strlen(dt) <= 40 && time_parse_rfc3339(dt, t, NULL) == CX_OK)
		return true;
	int64_t local;
	if (!parse_graph_time(dt, &local) || !microsoft_zone_to_utc(zone, local, t)) {
		*why = "Cannot convert the literal to the expected type 'Edm.DateTimeOffset'.";
		return false;
	}
	return true;
}

/* The event members whose values the answers echo, with their CSDL types: 's' Edm.String or an
 * enum (members, when given, from the CSDL's EnumType), 'b' Edm.Boolean, 'i' Edm.Int32,
 * 'a' a collection, 'o' a complex value. null is accepted (the CSDL leaves them nullable). */
struct m_typed {
	const char *name;
	char type;
	const char *const *members;
};

static const char *const m_show_as[] = {"unknown",          "free", "tentative", "busy", "oof",
                                        "workingElsewhere", NULL};
static const char *const m_sensitivity[] = {"normal", "personal", "private", "confidential", NULL};
static const char *const m_importance[] = {"low", "normal", "high", NULL};
static const char *const m_providers[] = {"unknown", "skypeForBusiness", "skypeForConsumer",
                                          "teamsForBusiness", NULL};
static const char *const m_body_types[] = {"text", "html", NULL};

static const struct m_typed m_typed_members[] = {
    {"subject", 's', NULL},
    {"showAs", 's', m_show_as},
    {"sensitivity", 's', m_sensitivity},
    {"importance", 's', m_importance},
    {"onlineMeetingProvider", 's', m_providers},
    {"originalStartTimeZone", 's', NULL},
    {"originalEndTimeZone", 's', NULL},
    {"isAllDay", 'b', NULL},
    {"isOnlineMeeting", 'b', NULL},
    {"isReminderOn", 'b', NULL},
    {"responseRequested", 'b', NULL},
    {"allowNewTimeProposals", 'b', NULL},
    {"hideAttendees", 'b', NULL},
    {"isDraft", 'b', NULL},
    {"reminderMinutesBeforeStart", 'i', NULL},
    {"categories", 'a', NULL},
    {"attendees", 'a', NULL},
    {"locations", 'a', NULL},
};

/* The CSDL spelling of an enum member named in any case (Graph reads requests' enum values
 * case-insensitively, "HTML" as html, and answers its own spelling), or NULL. */
static const char *enum_member(const char *const *members, const char *value)
{
	for (size_t i = 0; value && members[i]; i++)
		if (strcasecmp(members[i], value) == 0)
			return members[i];
	return NULL;
}

/* Whether v is a value of the typed member t (or null). */
static bool typed_ok(const struct m_typed *t, const json_t *v)
{
	if (json_is_null(v))
		return true;
	switch (t->type) {
	case 'b':
		return json_is_boolean(v);
	case 'i':
		return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		       json_integer_value(v) <= INT32_MAX;
	case 'a':
		return json_is_array(v);
	case 's':
		if (!json_is_string(v))
			return false;
		return !t->members || enum_member(t->members, json_string_value(v));
	default:
		return false;
	}
}

/* Validates merged fields and derives times; 400 in r on failure. */
static bool check_fields(struct sb *sb, struct http_request *req, const json_t *body,
                         const json_t *fields, int64_t *start, int64_t *end, struct m_reply *r)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		if (!listed(m_writable, key) && !listed(m_readonly, key)) {
			graph_error(sb, req, r, 400, "RequestBodyRead",
			            arena_printf(req->arena,
			                         "The property '%.64s' does not exist "
			                         "on type 'microsoft.graph.event'. "
			                         "Make sure to only use property "
			                         "names that are defined by the type "
			                         "or mark the type as open type.",
			                         key));
			return false;
		}
	}
	/* A value of the wrong type is refused, never stored and answered back (the answers
	 * follow the CSDL's types). */
	for (size_t i = 0; i < sizeof(m_typed_members) / sizeof(m_typed_members[0]); i++) {
		const struct m_typed *t = &m_typed_members[i];
		const json_t *val = json_object_get(fields, t->name);
		if (val && !typed_ok(t, val)) {
			graph_error(
			    sb, req, r, 400, "BadRequest",
			    arena_printf(req->arena, "Invalid value for property '%s'.", t->name));
			return false;
		}
	}
	const json_t *cats = json_object_get(fields, "categories");
	for (size_t i = 0; json_is_array(cats) && i < json_array_size(cats); i++) {
		if (!json_is_string(json_array_get(cats, i))) {
			graph_error(sb, req, r, 400, "BadRequest",
			            "Invalid value for property 'categories'.");
			return false;
		}
	}
	const json_t *b = json_object_get(fields, "body");
	const json_t *ctype = json_object_get(b, "contentType");
	if (b && !json_is_null(b) &&
	    (!json_is_object(b) ||
	     (json_object_get(b, "content") && !json_is_string(json_object_get(b, "content"))) ||
	     (ctype &&
	      !(json_is_string(ctype) && enum_member(m_body_types, json_string_value(ctype)))))) {
		graph_error(sb, req, r, 400, "BadRequest", "Invalid value for property 'body'.");
		return false;
	}
	const json_t *rec = json_object_get(fields, "recurrence");
	if (rec && !json_is_null(rec) &&
	    (!json_is_object(rec) || !json_is_object(json_object_get(rec, "pattern")) ||
	     !json_is_object(json_object_get(rec, "range")))) {
		graph_error(sb, req, r, 400, "ErrorInvalidRequest",
		            "Your request can't be completed. The recurrence pattern and range are "
		            "required.");
		return false;
	}
	const json_t *loc = json_object_get(fields, "location");
	if (loc && !json_is_null(loc) && !json_is_object(loc)) {
		graph_error(sb, req, r, 400, "BadRequest",
		            "Invalid value for property 'location'.");
		return false;
	}
	const char *why = NULL;
	if (!check_dtz(json_object_get(fields, "start"), start, &why) ||
	    !check_dtz(json_object_get(fields, "end"), end, &why)) {
		if (why && strcmp(why, "TimeZoneNotSupportedException") == 0) {
			graph_error(
			    sb, req, r, 400, "TimeZoneNotSupportedException",
			    "A valid TimeZone value must be specified. The following TimeZone "
			    "value is not supported.");
			return false;
		}
		graph_error(sb, req, r, 400, "ErrorInvalidRequest",
		            json_object_get(fields, "start") && json_object_get(fields, "end")
		                ? why
		                : "Your request can't be completed. The start and end time "
		                  "are required.");
		return false;
	}
	if (*end < *start) {
		graph_error(sb, req, r, 400, "ErrorInvalidRequest",
		            "Your request can't be completed. The end time must be later than "
		            "the start time.");
		return false;
	}
	if (json_is_true(json_object_get(fields, "isAllDay")) &&
	    (*start % 86400 != 0 || *end % 86400 != 0)) {
		graph_error(sb, req, r, 400, "ErrorInvalidRequest",
		            "Your request can't be completed. If the event is an all-day event, "
		            "the start and end time must be at midnight.");
		return false;
	}
	return true;
}

static void merge_fields(json_t *fields, const json_t *body)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		if (!listed(m_writable, key))
			continue;
		if (json_is_null(v))
			json_object_del(fields, key);
		else
			json_object_set_new(fields, key, json_deep_copy(v));
	}
	/* ME-16: setting location replaces locations. */
	if (json_object_get(body, "location") && !json_object_get(body, "locations"))
		json_object_del(fields, "locations");
}

/* Teams meeting from isOnlineMeeting + teamsForBusiness (MICROSOFT.md §7). */
static void apply_online_meeting(struct sb *sb, struct arena *a, struct m_event *e)
{
	bool online = json_is_true(json_object_get(e->fields, "isOnlineMeeting"));
	const char *prov = json_string_value(json_object_get(e->fields, "onlineMeetingProvider"));
	bool teams = online && (!prov || strcmp(prov, "teamsForBusiness") == 0);
	if (!teams) {
		free(e->teams_id);
		free(e->conference_id);
		e->teams_id = e->conference_id = NULL;
		return;
	}
	if (e->teams_id)
		return;
	e->teams_id = xasprintf("19:meeting_%s@thread.v2", sb_random_string(sb, a, M_ALNUM, 48));
	e->conference_id = xstrdup(sb_random_string(sb, a, "0123456789", 9));
	mstate(sb)->n.teams_meetings++;
}

static char *teams_url(struct sb *sb, struct arena *a, const struct m_event *e)
{
	return arena_printf(a, "%s/microsoft/teams/l/meetup-join/%s/0", sb->base_url,
	                    sb_url_encode(a, e->teams_id));
}

/* A dateTimeTimeZone in the zone of Prefer: outlook.timezone (NULL or unknown: UTC, ME-14). */
static json_t *dtz_json(struct arena *a, int64_t t, const char *zone)
{
	int off = 0;
	if (!zone || !microsoft_zone_offset(zone, t, &off))
		zone = "UTC";
	return json_pack("{s:s,s:s}", "dateTime", graph_time(a, t + off), "timeZone", zone);
}

/* Graph answers a recurrence with every member of its pattern and range, the unset ones at their
 * defaults: the CSDL makes recurrencePattern.month and .dayOfMonth and
 * recurrenceRange.numberOfOccurrences non-nullable, and Graph's own answers carry them as 0 when
 * the pattern or range does not use them. rec is the answer's copy of the stored recurrence. */
static void complete_recurrence(json_t *rec)
{
	static const char *const pattern_zero[] = {"month", "dayOfMonth"};
	json_t *pattern = json_object_get(rec, "pattern");
	json_t *range = json_object_get(rec, "range");

	for (size_t i = 0; i < 2; i++)
		if (json_is_object(pattern) && !json_object_get(pattern, pattern_zero[i]))
			json_object_set_new(pattern, pattern_zero[i], json_integer(0));
	if (json_is_object(range) && !json_object_get(range, "numberOfOccurrences"))
		json_object_set_new(range, "numberOfOccurrences", json_integer(0));
}

/* Answers carry enum members as the CSDL spells them, whatever case the client wrote. */
static void canonical_enums(json_t *o)
{
	for (size_t i = 0; i < sizeof(m_typed_members) / sizeof(m_typed_members[0]); i++) {
		const struct m_typed *t = &m_typed_members[i];
		const char *m =
		    t->members
		        ? enum_member(t->members, json_string_value(json_object_get(o, t->name)))
		        : NULL;
		if (m)
			json_object_set_new(o, t->name, json_string(m));
	}
	json_t *body = json_object_get(o, "body");
	const char *m =
	    enum_member(m_body_types, json_string_value(json_object_get(body, "contentType")));
	if (m)
		json_object_set_new(body, "contentType", json_string(m));
}

static json_t *event_json(struct sb *sb, struct arena *a, const struct m_event *e, const char *zone)
{
	json_t *o = json_deep_copy(e->fields);
	const json_t *s = json_object_get(e->fields, "start");
	const json_t *en = json_object_get(e->fields, "end");
	const char *stz = json_string_value(json_object_get(s, "timeZone"));
	const char *etz = json_string_value(json_object_get(en, "timeZone"));
	json_object_set_new(o, "@odata.etag",
	                    json_string(arena_printf(a, "W/\"%s\"", e->change_key)));
	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "createdDateTime", json_string(graph_stamp(a, e->created_ms)));
	json_object_set_new(o, "lastModifiedDateTime", json_string(graph_stamp(a, e->modified_ms)));
	json_object_set_new(o, "changeKey", json_string(e->change_key));
	if (!json_object_get(o, "categories"))
		json_object_set_new(o, "categories", json_array());
	json_object_set_new(o, "transactionId",
	                    e->transaction_id ? json_string(e->transaction_id) : json_null());
	json_object_set_new(o, "originalStartTimeZone", json_string(stz ? stz : "UTC"));
	json_object_set_new(o, "originalEndTimeZone", json_string(etz ? etz : "UTC"));
	json_object_set_new(o, "iCalUId", json_string(e->ical_uid));
	if (!json_object_get(o, "reminderMinutesBeforeStart"))
		json_object_set_new(o, "reminderMinutesBeforeStart", json_integer(15));
	if (!json_object_get(o, "isReminderOn"))
		json_object_set_new(o, "isReminderOn", json_true());
	json_object_set_new(o, "hasAttachments", json_false());
	if (!json_object_get(o, "subject"))
		json_object_set_new(o, "subject", json_string(""));
	const json_t *body = json_object_get(e->fields, "body");
	const char *content = json_string_value(json_object_get(body, "content"));
	/* bodyPreview: the text without tags, at most 255 characters. */
	char preview[256];
	size_t pn = 0;
	bool tag = false;
	for (const char *p = content; p && *p && pn < sizeof(preview) - 1; p++) {
		if (*p == '<')
			tag = true;
		else if (*p == '>')
			tag = false;
		else if (!tag)
			preview[pn++] = *p;
	}
	preview[pn] = '\0';
	json_object_set_new(o, "bodyPreview", json_string(preview));
	if (!body)
		json_object_set_new(o, "body",
		                    json_pack("{s:s,s:s}", "contentType", "html", "content", ""));
	static const struct {
		const char *key, *value;
	} defaults[] = {{"importance", "normal"}, {"sensitivity", "normal"}, {"showAs", "busy"}};
	for (size_t i = 0; i < 3; i++)
		if (!json_object_get(o, defaults[i].key))
			json_object_set_new(o, defaults[i].key, json_string(defaults[i].value));
	if (!json_object_get(o, "isAllDay"))
		json_object_set_new(o, "isAllDay", json_false());
	json_object_set_new(o, "isCancelled", json_false());
	json_object_set_new(o, "isOrganizer", json_true());
	if (!json_object_get(o, "responseRequested"))
		json_object_set_new(o, "responseRequested", json_true());
	if (!json_object_get(o, "isDraft"))
		json_object_set_new(o, "isDraft", json_false());
	json_object_set_new(o, "seriesMasterId", json_null());
	json_object_set_new(o, "type",
	                    json_string(json_object_get(e->fields, "recurrence")
	                                    ? "seriesMaster"
	                                    : "singleInstance"));
	json_object_set_new(o, "webLink",
	                    json_string(arena_printf(a, "%s/microsoft/owa/?itemid=%s&exvsurl=1",
	                                             sb->base_url, e->id)));
	json_object_set_new(o, "onlineMeetingUrl", json_null());
	json_object_set_new(o, "isOnlineMeeting", json_boolean(e->teams_id != NULL));
	json_object_set_new(o, "onlineMeetingProvider",
	                    json_string(e->teams_id ? "teamsForBusiness" : "unknown"));
	json_object_set_new(o, "onlineMeeting",
	                    e->teams_id
	                        ? json_pack("{s:s,s:s,s:s,s:[]}", "joinUrl", teams_url(sb, a, e),
	                                    "conferenceId", e->conference_id, "tollNumber",
	                                    "+1 555-0100", "phones")
	                        : json_null());
	json_object_set_new(
	    o, "responseStatus",
	    json_pack("{s:s,s:s}", "response", "organizer", "time", "0001-01-01T00:00:00Z"));
	json_object_set_new(o, "start", dtz_json(a, e->start_s, zone));
	json_object_set_new(o, "end", dtz_json(a, e->end_s, zone));
	const json_t *loc = json_object_get(e->fields, "location");
	json_t *l = json_is_object(loc) ? json_deep_copy(loc) : json_object();
	if (!json_object_get(l, "displayName"))
		json_object_set_new(l, "displayName", json_string(""));
	if (!json_object_get(l, "locationType"))
		json_object_set_new(l, "locationType", json_string("default"));
	if (!json_object_get(l, "uniqueIdType"))
		json_object_set_new(l, "uniqueIdType", json_string("unknown"));
	json_object_set_new(l, "address", json_object());
	json_object_set_new(l, "coordinates", json_object());
	if (!json_object_get(o, "locations")) {
		const char *dn = json_string_value(json_object_get(l, "displayName"));
		json_object_set_new(o, "locations", dn && *dn ? json_pack("[O]", l) : json_array());
	}
	json_object_set_new(o, "location", l);
	if (!json_object_get(o, "recurrence"))
		json_object_set_new(o, "recurrence", json_null());
	complete_recurrence(json_object_get(o, "recurrence"));
	canonical_enums(o);
	if (!json_object_get(o, "attendees"))
		json_object_set_new(o, "attendees", json_array());
	json_object_set_new(o, "organizer",
	                    json_pack("{s:{s:s,s:s}}", "emailAddress", "name", "Alice Contoso",
	                              "address", M_EMAIL));
	return o;
}

/* The zone named by Prefer: outlook.timezone="…" (arena string) or NULL. */
static const char *prefer_zone(struct http_request *req)
{
	const char *prefer = http_header(req, "Prefer");
	const char *p = prefer ? strstr(prefer, "outlook.timezone=") : NULL;
	if (!p)
		return NULL;
	p += strlen("outlook.timezone=");
	bool quoted = *p == '"';
	if (quoted)
		p++;
	size_t n = strcspn(p, quoted ? "\"" : ", ");
	return n > 0 && n < 128 ? arena_strndup(req->arena, p, n) : NULL;
}

static json_t *event_entity(struct sb *sb, struct http_request *req, const struct m_event *e)
{
	struct arena *a = req->arena;
	json_t *o = event_json(sb, a, e, prefer_zone(req));
	json_object_set_new(
	    o, "@odata.context",
	    json_string(context_url(sb, a, "users('" M_USER_ID "')/events/$entity")));
	return o;
}

/* ------------------------------------------------------------------ change notifications */

static bool sub_live(const struct m_sub *s, int64_t now)
{
	return !s->deleted && s->expiration_s > now;
}

/* Queues a changeNotificationCollection to every live subscription that wants it (ME-25). */
static void notify(struct sb *sb, struct arena *a, const struct m_event *e, const char *change,
                   struct m_reply *r)
{
	struct sb_microsoft *m = mstate(sb);
	int64_t now = sb_now_s(sb);
	for (struct m_sub *s = m->subs; s; s = s->next) {
		if (!sub_live(s, now) || !strstr(s->change_type, change))
			continue;
		char exp[40];
		time_format_rfc3339(s->expiration_s, 0, exp, sizeof(exp));
		char *res = arena_printf(a, "Users/%s/Events/%s", M_USER_ID, e->id);
		json_t *n = json_pack("{s:[{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}]}",
		                      "value", "id", sb_random_string(sb, a, M_ALNUM, 24),
		                      "subscriptionId", s->id, "subscriptionExpirationDateTime",
		                      exp, "clientState", s->client_state ? s->client_state : "",
		                      "changeType", change, "resource", res, "tenantId",
		                      M_TENANT_ID, "resourceData", "@odata.type",
		                      "#Microsoft.Graph.Event", "@odata.id", res, "@odata.etag",
		                      arena_printf(a, "W/\"%s\"", e->change_key), "id", e->id);
		if (!s->client_state)
			json_object_set_new(json_array_get(json_object_get(n, "value"), 0),
			                    "clientState", json_null());
		char *text = json_dumps(n, JSON_COMPACT);
		json_decref(n);
		struct m_push *p = arena_alloc(a, sizeof(*p));
		p->url = arena_strdup(a, s->notification_url);
		p->body = arena_strdup(a, text);
		p->retry = true;
		free(text);
		p->next = r->pushes;
		r->pushes = p;
		s->notifications++;
		m->n.notifications++;
	}
}

/* ------------------------------------------------------------------ event handlers */

static void touch(struct sb *sb, struct arena *a, struct m_event *e)
{
	struct sb_microsoft *m = mstate(sb);
	int64_t now = sb_now_ms(sb);
	e->change_seq = ++m->seq;
	e->modified_ms = now > e->modified_ms ? now : e->modified_ms + 1;
	free(e->change_key);
	e->change_key =
	    xasprintf("%sAAA%s==", "DwAAABYAAAAiIsqMbYjsT5e", sb_random_string(sb, a, M_ALNUM, 12));
}

static struct m_event *create_event(struct sb *sb, struct http_request *req, const json_t *body,
                                    struct m_reply *r)
{
	struct sb_microsoft *m = mstate(sb);
	const json_t *tx = json_object_get(body, "transactionId");
	if (tx && !json_is_string(tx) && !json_is_null(tx)) {
		graph_error(sb, req, r, 400, "BadRequest",
		            "Invalid value for property "
		            "'transactionId'.");
		return NULL;
	}
	if (json_is_string(tx)) {
		/* ME-15: the same transactionId answers the first event, not a second one. */
		for (struct m_event *e = m->events; e; e = e->next)
			if (!e->deleted && e->transaction_id &&
			    strcmp(e->transaction_id, json_string_value(tx)) == 0) {
				m->n.deduplicated++;
				reply_json(r, 201, event_entity(sb, req, e));
				return e;
			}
	}
	if (m->n_events >= M_MAX_EVENTS) {
		graph_error(sb, req, r, 507, "ErrorQuotaExceeded",
		            "The process failed to get the correct properties.");
		return NULL;
	}
	json_t *fields = json_object();
	merge_fields(fields, body);
	int64_t s, en;
	if (!check_fields(sb, req, body, fields, &s, &en, r)) {
		json_decref(fields);
		return NULL;
	}
	struct m_event *e = xcalloc(1, sizeof(*e));
	e->fields = fields;
	e->start_s = s;
	e->end_s = en;
	e->id = xasprintf("AAMkAGsandbox%sAAA=", sb_random_string(sb, req->arena, M_ALNUM, 40));
	e->ical_uid = xasprintf("040000008200E00074C5B7101A82E008000000%s",
	                        sb_random_string(sb, req->arena, "0123456789ABCDEF", 64));
	e->transaction_id = json_is_string(tx) ? xstrdup(json_string_value(tx)) : NULL;
	e->create_seq = m->seq + 1;
	e->created_ms = sb_now_ms(sb);
	touch(sb, req->arena, e);
	apply_online_meeting(sb, req->arena, e);
	e->next = m->events;
	m->events = e;
	m->n_events++;
	m->n.creates++;
	notify(sb, req->arena, e, "created", r);
	reply_json(r, 201, event_entity(sb, req, e));
	return e;
}

static bool update_event(struct sb *sb, struct http_request *req, struct m_event *e,
                         const json_t *body, struct m_reply *r)
{
	json_t *fields = json_deep_copy(e->fields);
	merge_fields(fields, body);
	int64_t s, en;
	if (!check_fields(sb, req, body, fields, &s, &en, r)) {
		json_decref(fields);
		return false;
	}
	json_decref(e->fields);
	e->fields = fields;
	e->start_s = s;
	e->end_s = en;
	apply_online_meeting(sb, req->arena, e);
	touch(sb, req->arena, e);
	mstate(sb)->n.updates++;
	notify(sb, req->arena, e, "updated", r);
	reply_json(r, 200, event_entity(sb, req, e));
	return true;
}

static void delete_event(struct sb *sb, struct http_request *req, struct m_event *e,
                         struct m_reply *r)
{
	e->deleted = true;
	touch(sb, req->arena, e);
	mstate(sb)->n.deletes++;
	notify(sb, req->arena, e, "deleted", r);
	r->status = 204;
}

static void not_found(struct sb *sb, struct http_request *req, struct m_reply *r)
{
	graph_error(sb, req, r, 404, "ErrorItemNotFound",
	            "The specified object was not found in the store.");
}

static void h_events_create(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_WRITE, &r) && calendar_param_ok(sb, req, &r) &&
	    (body = body_object(sb, req, &r)))
		create_event(sb, req, body, &r);
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_event_get(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r)) {
		struct m_event *e = find_event(mstate(sb), http_param(req, "id"));
		if (e) {
			mstate(sb)->n.reads++;
			reply_json(&r, 200, event_entity(sb, req, e));
		} else {
			not_found(sb, req, &r);
		}
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static bool if_match_ok(struct sb *sb, struct http_request *req, const struct m_event *e,
                        struct m_reply *r)
{
	const char *im = http_header(req, "If-Match");
	if (!im || strcmp(im, "*") == 0 ||
	    strcmp(im, arena_printf(req->arena, "W/\"%s\"", e->change_key)) == 0)
		return true;
	graph_error(sb, req, r, 412, "ErrorIrresolvableConflict",
	            "The send or update operation could not be performed because the change key "
	            "passed in the request does not match the current change key for the item.");
	return false;
}

static void h_event_patch(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_WRITE, &r)) {
		struct m_event *e = find_event(mstate(sb), http_param(req, "id"));
		if (!e)
			not_found(sb, req, &r);
		else if (if_match_ok(sb, req, e, &r) && (body = body_object(sb, req, &r)))
			update_event(sb, req, e, body, &r);
	}
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_event_delete(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_WRITE, &r)) {
		struct m_event *e = find_event(mstate(sb), http_param(req, "id"));
		if (!e)
			not_found(sb, req, &r);
		else if (if_match_ok(sb, req, e, &r))
			delete_event(sb, req, e, &r);
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ listings */

/* The page size: $top, else Prefer: odata.maxpagesize, else 10; at most M_PAGE_MAX. */
static void page_size(struct http_request *req, const char *top, long *out, bool *bad)
{
	*out = M_PAGE_DEFAULT;
	*bad = false;
	const char *prefer = http_header(req, "Prefer");
	const char *mp = prefer ? strstr(prefer, "odata.maxpagesize=") : NULL;
	if (mp) {
		long v = strtol(mp + 18, NULL, 10);
		if (v > 0)
			*out = v;
	}
	if (top) {
		char *end;
		long v = strtol(top, &end, 10);
		if (*end || v < 1) {
			*bad = true;
			return;
		}
		*out = v;
	}
	if (*out > M_PAGE_MAX)
		*out = M_PAGE_MAX;
}

/* One row of a listing: an event, or one occurrence of a series (calendarView expands them). */
struct m_item {
	struct m_event *e;
	int64_t start;
	bool occurrence;
};

static int start_cmp(const void *pa, const void *pb)
{
	const struct m_item *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->e->create_seq < b->e->create_seq ? -1 : a->e->create_seq > b->e->create_seq;
}

static int change_cmp(const void *pa, const void *pb)
{
	const struct m_item *a = pa, *b = pb;
	if (a->e->change_seq != b->e->change_seq)
		return a->e->change_seq < b->e->change_seq ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* A patternedRecurrence the sandbox expands (daily, weekly, absoluteMonthly, absoluteYearly with
 * endDate, numbered or noEnd ranges) as a rule; false for none or any other pattern. */
static bool graph_recurrence(const struct m_event *e, struct google_recur *rr)
{
	const json_t *rec = json_object_get(e->fields, "recurrence");
	const json_t *pat = json_object_get(rec, "pattern"), *range = json_object_get(rec, "range");
	const char *type = json_string_value(json_object_get(pat, "type"));
	const char *rtype = json_string_value(json_object_get(range, "type"));
	if (!type || !rtype)
		return false;
	memset(rr, 0, sizeof(*rr));
	rr->interval = (int)json_integer_value(json_object_get(pat, "interval"));
	if (rr->interval < 1 || rr->interval > 1000)
		rr->interval = 1;
	rr->until_s = INT64_MAX;
	if (strcmp(type, "daily") == 0) {
		rr->freq = 1;
	} else if (strcmp(type, "weekly") == 0) {
		static const char *const days[] = {"monday", "tuesday",  "wednesday", "thursday",
		                                   "friday", "saturday", "sunday"};
		size_t i;
		const json_t *d;
		rr->freq = 2;
		json_array_foreach(json_object_get(pat, "daysOfWeek"), i, d)
		{
			for (int k = 0; k < 7; k++)
				if (json_is_string(d) &&
				    strcasecmp(json_string_value(d), days[k]) == 0)
					rr->byday |= 1u << k;
		}
	} else if (strcmp(type, "absoluteMonthly") == 0) {
		rr->freq = 3;
	} else if (strcmp(type, "absoluteYearly") == 0) {
		rr->freq = 4;
	} else {
		return false;
	}
	if (strcmp(rtype, "numbered") == 0) {
		rr->count = (int)json_integer_value(json_object_get(range, "numberOfOccurrences"));
		if (rr->count < 1)
			return false;
	} else if (strcmp(rtype, "endDate") == 0) {
		int64_t end;
		const char *ed = json_string_value(json_object_get(range, "endDate"));
		if (!ed || time_parse_date(ed, &end) != CX_OK)
			return false;
		rr->until_s = end + 86399;
	} else if (strcmp(rtype, "noEnd") != 0) {
		return false;
	}
	return true;
}

static void push_item(struct m_item **items, size_t *n, size_t *cap, struct m_item it)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*items = xrealloc(*items, *cap * sizeof(**items));
	}
	(*items)[(*n)++] = it;
}

static bool overlaps(int64_t s, int64_t e, int64_t ws, int64_t we)
{
	return (s < we && e > ws) || (s == e && s >= ws && s < we);
}

/* Adds e, or the occurrences of its series, that meet the window [ws, we). */
static void collect(struct m_event *e, int64_t ws, int64_t we, struct m_item **items, size_t *n,
                    size_t *cap)
{
	struct google_recur rr;
	int64_t dur = e->end_s - e->start_s;
	if (graph_recurrence(e, &rr)) {
		int64_t starts[M_MAX_OCCURRENCES];
		const char *zone = json_string_value(
		    json_object_get(json_object_get(e->fields, "start"), "timeZone"));
		size_t k = google_recur_expand(&rr, e->start_s, 0, zone,
		                               json_is_true(json_object_get(e->fields, "isAllDay")),
		                               we, starts, M_MAX_OCCURRENCES);
		for (size_t i = 0; i < k; i++)
			if (overlaps(starts[i], starts[i] + dur, ws, we))
				push_item(items, n, cap, (struct m_item){e, starts[i], true});
		return;
	}
	if (overlaps(e->start_s, e->end_s, ws, we))
		push_item(items, n, cap, (struct m_item){e, e->start_s, false});
}

static char *occurrence_id(struct arena *a, const struct m_item *it)
{
	char stamp[40];
	time_format_rfc3339(it->start, 0, stamp, sizeof(stamp));
	/* "2026-12-01T09:00:00Z" → "20261201T090000Z" */
	char key[20];
	size_t k = 0;
	for (const char *p = stamp; *p && k < sizeof(key) - 1; p++)
		if (*p != '-' && *p != ':')
			key[k++] = *p;
	key[k] = '\0';
	return arena_printf(a, "%s_%s", it->e->id, key);
}

static json_t *item_json(struct sb *sb, struct arena *a, const struct m_item *it, const char *zone)
{
	json_t *o = event_json(sb, a, it->e, zone);
	if (it->occurrence) {
		int64_t dur = it->e->end_s - it->e->start_s;
		json_object_set_new(o, "id", json_string(occurrence_id(a, it)));
		json_object_set_new(o, "seriesMasterId", json_string(it->e->id));
		json_object_set_new(o, "type", json_string("occurrence"));
		json_object_set_new(o, "recurrence", json_null());
		json_object_set_new(o, "start", dtz_json(a, it->start, zone));
		json_object_set_new(o, "end", dtz_json(a, it->start + dur, zone));
	}
	return o;
}

static bool window_params(struct sb *sb, struct http_request *req, int64_t *ws, int64_t *we,
                          const char **raw_s, const char **raw_e, struct m_reply *r)
{
	*raw_s = http_query(req, "startDateTime");
	*raw_e = http_query(req, "endDateTime");
	if (!*raw_s || !*raw_e) {
		graph_error(sb, req, r, 400, "ErrorInvalidParameter",
		            "This request requires a time window specified by the query string "
		            "parameters StartDateTime and EndDateTime.");
		return false;
	}
	if (!parse_graph_time(*raw_s, ws) || !parse_graph_time(*raw_e, we)) {
		graph_error(sb, req, r, 400, "ErrorInvalidParameter",
		            "The value of the parameter 'StartDateTime' or 'EndDateTime' is "
		            "invalid.");
		return false;
	}
	return true;
}

/* GET /me/calendarView, /me/calendars/{id}/calendarView, /me/events (ME-18). */
static void list_events(struct http_request *req, bool view)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	struct m_item *arr = NULL;
	size_t n = 0, cap = 0;
	sb_lock(sb);
	struct sb_microsoft *m = mstate(sb);
	if (!api_auth(sb, req, M_NEED_READ, &r) || !calendar_param_ok(sb, req, &r))
		goto out;
	int64_t ws = INT64_MIN, we = INT64_MAX;
	const char *raw_s = NULL, *raw_e = NULL;
	if (view && !window_params(sb, req, &ws, &we, &raw_s, &raw_e, &r))
		goto out;
	long top, skip = 0;
	bool bad;
	page_size(req, http_query(req, "$top"), &top, &bad);
	const char *sk = http_query(req, "$skip");
	if (bad || (sk && (strtol(sk, NULL, 10) < 0 || strspn(sk, "0123456789") != strlen(sk)))) {
		graph_error(sb, req, &r, 400, "BadRequest", "Invalid $top or $skip value.");
		goto out;
	}
	if (sk)
		skip = strtol(sk, NULL, 10);
	/* calendarView expands series into occurrences; /me/events lists series masters. */
	for (struct m_event *e = m->events; e; e = e->next) {
		if (e->deleted)
			continue;
		if (view)
			collect(e, ws, we, &arr, &n, &cap);
		else
			push_item(&arr, &n, &cap, (struct m_item){e, e->start_s, false});
	}
	if (n > 1)
		qsort(arr, n, sizeof(*arr), start_cmp);
	json_t *value = json_array();
	for (size_t i = (size_t)skip; i < n && i < (size_t)(skip + top); i++)
		json_array_append_new(value, item_json(sb, req->arena, &arr[i], prefer_zone(req)));
	json_t *o =
	    json_pack("{s:s,s:o}", "@odata.context",
	              context_url(sb, req->arena, "users('" M_USER_ID "')/events"), "value", value);
	if ((size_t)(skip + top) < n) {
		struct buf b;
		buf_init(&b, 65536);
		buf_printf(&b, "%s/microsoft/v1.0%s?", sb->base_url,
		           req->path + strlen("/microsoft/v1.0"));
		if (view) {
			buf_puts(&b, "startDateTime=");
			http_url_encode(&b, raw_s);
			buf_puts(&b, "&endDateTime=");
			http_url_encode(&b, raw_e);
			buf_puts(&b, "&");
		}
		buf_printf(&b, "$top=%ld&$skip=%ld", top, skip + top);
		json_object_set_new(o, "@odata.nextLink", json_string(b.data));
		buf_release(&b);
	}
	m->n.reads++;
	reply_json(&r, 200, o);
out:
	sb_unlock(sb);
	free(arr);
	finish(req, sb, &r);
}

static void h_calendar_view(struct http_request *req)
{
	list_events(req, true);
}

static void h_events_list(struct http_request *req)
{
	list_events(req, false);
}

/* A delta cursor (hex of "d:gen:since:snap:offset:ws:we"); since 0 = initial round. */
struct m_cursor {
	unsigned gen;
	uint64_t since, snap;
	long offset;
	int64_t ws, we;
};

static char *encode_cursor(struct arena *a, const struct m_cursor *c)
{
	return sb_hex_encode(
	    a, arena_printf(a, "d:%u:%" PRIu64 ":%" PRIu64 ":%ld:%" PRId64 ":%" PRId64, c->gen,
	                    c->since, c->snap, c->offset, c->ws, c->we));
}

static bool decode_cursor(struct arena *a, const char *tok, struct m_cursor *c)
{
	char *dec = sb_hex_decode(a, tok);
	int used = 0;
	return dec &&
	       sscanf(dec, "d:%u:%" SCNu64 ":%" SCNu64 ":%ld:%" SCNd64 ":%" SCNd64 "%n", &c->gen,
	              &c->since, &c->snap, &c->offset, &c->ws, &c->we, &used) == 6 &&
	       dec[used] == '\0' && c->offset >= 0;
}

/* GET …/calendarView/delta (ME-19 … ME-21). */
static void h_delta(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	struct m_item *arr = NULL;
	size_t n = 0, cap = 0;
	sb_lock(sb);
	struct sb_microsoft *m = mstate(sb);
	if (!api_auth(sb, req, M_NEED_READ, &r) || !calendar_param_ok(sb, req, &r))
		goto out;
	if (http_query(req, "$select")) {
		graph_error(sb, req, &r, 400, "ErrorInvalidUrlQuery",
		            "The following parameters are not supported with change tracking "
		            "over the 'CalendarView' resource: '$orderby, $filter, $select, "
		            "$expand, $search, $top'.");
		goto out;
	}
	const char *skiptoken = http_query(req, "$skiptoken");
	const char *deltatoken = http_query(req, "$deltatoken");
	struct m_cursor cur = {.gen = m->delta_gen, .snap = m->seq};
	if (skiptoken || deltatoken) {
		if (!decode_cursor(req->arena, skiptoken ? skiptoken : deltatoken, &cur) ||
		    cur.gen != m->delta_gen) {
			graph_error(sb, req, &r, 410, "syncStateNotFound",
			            "The sync state generation is not found. Restart the "
			            "synchronization with an initial request.");
			goto out;
		}
		if (deltatoken) {
			cur.since = cur.snap ? cur.snap : UINT64_MAX;
			cur.snap = m->seq;
			cur.offset = 0;
		}
	} else {
		const char *raw_s, *raw_e;
		if (!window_params(sb, req, &cur.ws, &cur.we, &raw_s, &raw_e, &r))
			goto out;
	}
	long top;
	bool bad;
	page_size(req, NULL, &top, &bad);
	bool incremental = cur.since != 0;
	uint64_t since = cur.since == UINT64_MAX ? 0 : cur.since;
	for (struct m_event *e = m->events; e; e = e->next) {
		if (incremental ? (e->change_seq <= since || e->change_seq > cur.snap)
		                : (e->deleted || e->create_seq > cur.snap))
			continue;
		collect(e, cur.ws, cur.we, &arr, &n, &cap);
	}
	if (n > 1)
		qsort(arr, n, sizeof(*arr), incremental ? change_cmp : start_cmp);
	json_t *value = json_array();
	size_t end = (size_t)cur.offset + (size_t)top;
	for (size_t i = (size_t)cur.offset; i < n && i < end; i++) {
		json_t *ev;
		if (arr[i].e->deleted)
			ev = json_pack(
			    "{s:s,s:s,s:{s:s}}", "@odata.type", "#microsoft.graph.event", "id",
			    arr[i].occurrence ? occurrence_id(req->arena, &arr[i]) : arr[i].e->id,
			    "@removed", "reason", "deleted");
		else {
			ev = item_json(sb, req->arena, &arr[i], prefer_zone(req));
			json_object_set_new(ev, "@odata.type",
			                    json_string("#microsoft.graph.event"));
		}
		json_array_append_new(value, ev);
	}
	json_t *o = json_pack("{s:s,s:o}", "@odata.context",
	                      context_url(sb, req->arena, "Collection(event)"), "value", value);
	const char *base_path = req->path;
	struct m_cursor next = cur;
	if (end < n) {
		next.offset = (long)end;
		json_object_set_new(
		    o, "@odata.nextLink",
		    json_string(arena_printf(req->arena, "%s%s?$skiptoken=%s", sb->base_url,
		                             base_path, encode_cursor(req->arena, &next))));
	} else {
		next.since = 0;
		next.offset = 0;
		json_object_set_new(
		    o, "@odata.deltaLink",
		    json_string(arena_printf(req->arena, "%s%s?$deltatoken=%s", sb->base_url,
		                             base_path, encode_cursor(req->arena, &next))));
	}
	m->n.reads++;
	reply_json(&r, 200, o);
out:
	sb_unlock(sb);
	free(arr);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ subscriptions */

static json_t *sub_json(struct sb *sb, struct arena *a, const struct m_sub *s, bool entity)
{
	char exp[40];
	time_format_rfc3339(s->expiration_s, 0, exp, sizeof(exp));
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:o,s:s,s:n,s:o,s:s,s:s,s:b,s:s,s:n,s:n,s:n}", "id", s->id,
	    "resource", s->resource, "applicationId", "6731de76-14a6-49ae-97bc-6eba6914391e",
	    "changeType", s->change_type, "clientState",
	    s->client_state ? json_string(s->client_state) : json_null(), "notificationUrl",
	    s->notification_url, "notificationQueryOptions", "lifecycleNotificationUrl",
	    s->lifecycle_url ? json_string(s->lifecycle_url) : json_null(), "expirationDateTime",
	    exp, "creatorId", M_USER_ID, "includeResourceData", 0, "latestSupportedTlsVersion",
	    "v1_2", "encryptionCertificate", "encryptionCertificateId", "notificationUrlAppId");
	if (entity)
		json_object_set_new(o, "@odata.context",
		                    json_string(context_url(sb, a, "subscriptions/$entity")));
	return o;
}

static bool resource_ok(const char *res, bool *calendar_only)
{
	if (res[0] == '/')
		res++;
	*calendar_only = false;
	if (strcasecmp(res, "me/events") == 0 || strcasecmp(res, "me/calendar/events") == 0 ||
	    strcasecmp(res, "users/" M_USER_ID "/events") == 0 ||
	    strcasecmp(res, "users/" M_EMAIL "/events") == 0)
		return true;
	if (strcasecmp(res, "me/calendars/" M_CALENDAR_ID "/events") == 0) {
		*calendar_only = true;
		return true;
	}
	return false;
}

static bool change_type_ok(const char *ct)
{
	if (!*ct || strlen(ct) > 64)
		return false;
	for (const char *p = ct; *p;) {
		size_t len = strcspn(p, ",");
		if (!((len == 7 && strncmp(p, "created", 7) == 0) ||
		      (len == 7 && strncmp(p, "updated", 7) == 0) ||
		      (len == 7 && strncmp(p, "deleted", 7) == 0)))
			return false;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}

/* Checks expirationDateTime (ME-23): too far → 400, too near → raised to 45 minutes. */
static bool expiration_ok(struct sb *sb, struct http_request *req, const json_t *v, int64_t *out,
                          struct m_reply *r)
{
	int64_t now = sb_now_s(sb), t;
	if (!json_is_string(v) || !parse_graph_time(json_string_value(v), &t)) {
		graph_error(sb, req, r, 400, "InvalidRequest",
		            "Subscription expiration date time is required and must be a valid "
		            "DateTimeOffset.");
		return false;
	}
	if (t <= now) {
		graph_error(sb, req, r, 400, "InvalidRequest",
		            "Subscription expiration can only be in the future.");
		return false;
	}
	if (t > now + (int64_t)M_SUB_MAX_MIN * 60 + 60) {
		graph_error(sb, req, r, 400, "InvalidRequest",
		            "Subscription expiration can only be 4230 minutes in the future.");
		return false;
	}
	if (t < now + (int64_t)M_SUB_MIN_MIN * 60)
		t = now + (int64_t)M_SUB_MIN_MIN * 60;
	*out = t;
	return true;
}

/* The validation handshake (ME-22): POST url?validationToken=…, expect the decoded token back as
 * text/plain with 200 within 10 s. The real Graph holds the subscription request open while it
 * validates, so the handler thread waits here too, without the lock, bounded by the egress
 * timeout. */
static bool validate_url(struct sb *sb, const char *url, const char *token)
{
	struct arena *a = arena_new();
	char *full = arena_printf(a, "%s%cvalidationToken=%s", url, strchr(url, '?') ? '&' : '?',
	                          sb_url_encode(a, token));
	struct egress_request *er = egress_request_new("POST", full);
	egress_request_body(er, "text/plain; charset=utf-8", "", 0);
	er->timeout_ms = M_HANDSHAKE_TIMEOUT_MS;
	er->connect_timeout_ms = 5000;
	er->max_response = 65536;
	struct egress_response *resp = NULL;
	enum cx_err err = egress_call(sb->egress, er, &resp);
	bool ok = false;
	if (err == CX_OK && resp->status == 200) {
		const char *ct = egress_response_header(resp, "content-type");
		ok = ct && strncasecmp(ct, "text/plain", 10) == 0 && strcmp(resp->body, token) == 0;
	}
	if (resp)
		egress_response_free(resp);
	arena_free(a);
	return ok;
}

static void h_subscription_create(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	char *notification_url = NULL, *lifecycle_url = NULL;
	sb_lock(sb);
	if (!api_auth(sb, req, M_NEED_READ, &r) || !(body = body_object(sb, req, &r)))
		goto out_locked;
	const char *ct = json_string_value(json_object_get(body, "changeType"));
	const char *url = json_string_value(json_object_get(body, "notificationUrl"));
	const char *lurl = json_string_value(json_object_get(body, "lifecycleNotificationUrl"));
	const char *res = json_string_value(json_object_get(body, "resource"));
	const json_t *cs = json_object_get(body, "clientState");
	int64_t exp;
	bool cal_only;
	if (!ct || !change_type_ok(ct)) {
		graph_error(sb, req, &r, 400, "InvalidRequest",
		            "Invalid 'changeType' attribute: the value must be a combination of "
		            "created, updated and deleted.");
		goto out_locked;
	}
	if (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    strlen(url) > 2048 ||
	    (lurl && ((strncmp(lurl, "https://", 8) != 0 && strncmp(lurl, "http://", 7) != 0) ||
	              strlen(lurl) > 2048))) {
		graph_error(sb, req, &r, 400, "InvalidRequest",
		            "The notification URL must be an absolute http(s) URL.");
		goto out_locked;
	}
	if (!res || !resource_ok(res, &cal_only)) {
		graph_error(sb, req, &r, 400, "ExtensionError",
		            "Operation: Create; Exception: [Status Code: BadRequest; Reason: The "
		            "resource is not supported.]");
		goto out_locked;
	}
	if (cs && !json_is_null(cs) && (!json_is_string(cs) || json_string_length(cs) > 128)) {
		graph_error(sb, req, &r, 400, "InvalidRequest",
		            "clientState must be a string of at most 128 characters.");
		goto out_locked;
	}
	if (!expiration_ok(sb, req, json_object_get(body, "expirationDateTime"), &exp, &r))
		goto out_locked;
	if (mstate(sb)->n_subs >= M_MAX_SUBS) {
		graph_error(sb, req, &r, 403, "ExtensionError",
		            "The number of subscriptions has reached its limit.");
		goto out_locked;
	}
	char *token = arena_printf(req->arena,
	                           "Validation: Testing client application "
	                           "reachability for subscription Request-Id: %s",
	                           guid(sb, req->arena));
	notification_url = xstrdup(url);
	lifecycle_url = lurl ? xstrdup(lurl) : NULL;
	sb_unlock(sb);

	bool valid = validate_url(sb, notification_url, token) &&
	             (!lifecycle_url || strcmp(lifecycle_url, notification_url) == 0 ||
	              validate_url(sb, lifecycle_url, token));

	sb_lock(sb);
	struct sb_microsoft *m = mstate(sb);
	if (!valid) {
		m->n.validations_failed++;
		graph_error(sb, req, &r, 400, "ValidationError",
		            "Subscription validation request failed. Notification endpoint must "
		            "respond with 200 OK to validation request.");
		goto out_locked;
	}
	struct m_sub *s = xcalloc(1, sizeof(*s));
	s->id = xstrdup(guid(sb, req->arena));
	s->resource = xstrdup(res);
	s->calendar_only = cal_only;
	s->change_type = xstrdup(ct);
	s->notification_url = notification_url;
	s->lifecycle_url = lifecycle_url;
	notification_url = lifecycle_url = NULL;
	s->client_state = json_is_string(cs) ? xstrdup(json_string_value(cs)) : NULL;
	s->expiration_s = exp;
	s->next = m->subs;
	m->subs = s;
	m->n_subs++;
	m->n.subscriptions++;
	reply_json(&r, 201, sub_json(sb, req->arena, s, true));
out_locked:
	sb_unlock(sb);
	free(notification_url);
	free(lifecycle_url);
	json_decref(body);
	finish(req, sb, &r);
}

static struct m_sub *find_sub(struct sb *sb, const char *id)
{
	int64_t now = sb_now_s(sb);
	for (struct m_sub *s = mstate(sb)->subs; s && id; s = s->next)
		if (sub_live(s, now) && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static void sub_not_found(struct sb *sb, struct http_request *req, struct m_reply *r)
{
	graph_error(sb, req, r, 404, "ResourceNotFound", "The object was not found.");
}

static void h_subscriptions_list(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r)) {
		json_t *v = json_array();
		int64_t now = sb_now_s(sb);
		for (struct m_sub *s = mstate(sb)->subs; s; s = s->next)
			if (sub_live(s, now))
				json_array_append_new(v, sub_json(sb, req->arena, s, false));
		reply_json(&r, 200,
		           json_pack("{s:s,s:o}", "@odata.context",
		                     context_url(sb, req->arena, "subscriptions"), "value", v));
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_subscription_get(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r)) {
		struct m_sub *s = find_sub(sb, http_param(req, "id"));
		if (s)
			reply_json(&r, 200, sub_json(sb, req->arena, s, true));
		else
			sub_not_found(sb, req, &r);
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_subscription_patch(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	int64_t exp;
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r)) {
		struct m_sub *s = find_sub(sb, http_param(req, "id"));
		if (!s) {
			sub_not_found(sb, req, &r);
		} else if ((body = body_object(sb, req, &r)) &&
		           expiration_ok(sb, req, json_object_get(body, "expirationDateTime"), &exp,
		                         &r)) {
			s->expiration_s = exp;
			reply_json(&r, 200, sub_json(sb, req->arena, s, true));
		}
	}
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_subscription_delete(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r)) {
		struct m_sub *s = find_sub(sb, http_param(req, "id"));
		if (s) {
			s->deleted = true;
			r.status = 204;
		} else {
			sub_not_found(sb, req, &r);
		}
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_subscription_reauthorize(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_READ, &r)) {
		if (find_sub(sb, http_param(req, "id")))
			r.status = 204;
		else
			sub_not_found(sb, req, &r);
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_revoke_sessions(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	if (api_auth(sb, req, M_NEED_USER, &r)) {
		revoke_all(mstate(sb));
		reply_json(&r, 200,
		           json_pack("{s:s,s:b}", "@odata.context",
		                     context_url(sb, req->arena, "Edm.Boolean"), "value", 1));
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ Teams join page */

static void h_teams(struct http_request *req)
{
	struct sb *sb = sb_get();
	const char *id = http_param(req, "id");
	bool known = false;
	sb_lock(sb);
	for (struct m_event *e = mstate(sb)->events; e && !known; e = e->next)
		known = !e->deleted && e->teams_id && strcmp(e->teams_id, id) == 0;
	sb_unlock(sb);
	const char *html = known
	                       ? "<!doctype html><meta charset=utf-8><title>Microsoft Teams"
	                         "</title><h1>You joined</h1><p>You joined the Microsoft Teams "
	                         "meeting.</p>"
	                       : "<!doctype html><meta charset=utf-8><title>Microsoft Teams</title>"
	                         "<h1>This meeting link is not valid</h1>";
	http_reply(req, known ? 200 : 404, "text/html; charset=utf-8", html, strlen(html));
}

/* ------------------------------------------------------------------ /_sandbox/microsoft */

static json_t *sandbox_body(struct http_request *req, struct m_reply *r)
{
	json_t *error;
	json_t *v = sb_control_body(req, &error);
	if (!v)
		reply_json(r, 400, error);
	return v;
}

static void h_outside_create(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	if ((body = sandbox_body(req, &r)) && create_event(sb, req, body, &r))
		mstate(sb)->n.outside_edits++;
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_outside_patch(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	struct m_event *e = find_event(mstate(sb), http_param(req, "id"));
	if (!e)
		not_found(sb, req, &r);
	else if ((body = sandbox_body(req, &r)) && update_event(sb, req, e, body, &r))
		mstate(sb)->n.outside_edits++;
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_outside_delete(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	sb_lock(sb);
	struct m_event *e = find_event(mstate(sb), http_param(req, "id"));
	if (!e) {
		not_found(sb, req, &r);
	} else {
		delete_event(sb, req, e, &r);
		mstate(sb)->n.outside_edits++;
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_invalidate_delta(struct http_request *req)
{
	struct sb *sb = sb_get();
	sb_lock(sb);
	mstate(sb)->delta_gen++;
	mstate(sb)->n.delta_invalidations++;
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:b}", "invalidated", 1));
}

/* POST /_sandbox/microsoft/revoke: the user's grants are revoked (a password change, ME-08). */
static void h_sandbox_revoke(struct http_request *req)
{
	struct sb *sb = sb_get();
	sb_lock(sb);
	revoke_all(mstate(sb));
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:b}", "revoked", 1));
}

/* POST /_sandbox/microsoft/throttle {"limit":N,"window_s":S}: 0 = off (default 10,000/600 s). */
static void h_throttle(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	if ((body = sandbox_body(req, &r))) {
		long long limit = json_integer_value(json_object_get(body, "limit"));
		long long window = json_is_integer(json_object_get(body, "window_s"))
		                       ? json_integer_value(json_object_get(body, "window_s"))
		                       : 600;
		if (limit < 0 || limit > 10000000 || window < 1 || window > 86400) {
			reply_json(&r, 400,
			           json_pack("{s:{s:s,s:s}}", "error", "code", "invalid_request",
			                     "message", "limit 0..10000000, window_s 1..86400"));
		} else {
			struct sb_microsoft *m = mstate(sb);
			m->th_limit = (int)limit;
			m->th_window_s = (int)window;
			m->th_count = 0;
			m->th_window_start = sb_now_s(sb);
			reply_json(&r, 200,
			           json_pack("{s:I,s:I}", "limit", limit, "window_s", window));
		}
	}
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

/* POST /_sandbox/microsoft/refresh_mode {"strict":true}: superseded refresh tokens stop working. */
static void h_refresh_mode(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	if ((body = sandbox_body(req, &r))) {
		mstate(sb)->strict_rotation = json_is_true(json_object_get(body, "strict"));
		reply_json(&r, 200, json_pack("{s:b}", "strict", mstate(sb)->strict_rotation));
	}
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

/* POST /_sandbox/microsoft/subscriptions/{id}/lifecycle {"event":"missed"} (ME-27). */
static void h_lifecycle(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct m_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	struct m_sub *s = find_sub(sb, http_param(req, "id"));
	const char *ev;
	if (!(body = sandbox_body(req, &r))) {
	} else if (!s || !s->lifecycle_url) {
		reply_json(&r, 404,
		           json_pack("{s:{s:s,s:s}}", "error", "code", "not_found", "message",
		                     "no live subscription with a lifecycle "
		                     "URL"));
	} else if (!(ev = json_string_value(json_object_get(body, "event"))) ||
	           (strcmp(ev, "reauthorizationRequired") != 0 &&
	            strcmp(ev, "subscriptionRemoved") != 0 && strcmp(ev, "missed") != 0)) {
		reply_json(&r, 400,
		           json_pack("{s:{s:s,s:s}}", "error", "code", "invalid_request", "message",
		                     "event: reauthorizationRequired, "
		                     "subscriptionRemoved or missed"));
	} else {
		char exp[40];
		time_format_rfc3339(s->expiration_s, 0, exp, sizeof(exp));
		json_t *n = json_pack("{s:[{s:s,s:s,s:s,s:o,s:s}]}", "value", "subscriptionId",
		                      s->id, "subscriptionExpirationDateTime", exp, "tenantId",
		                      M_TENANT_ID, "clientState",
		                      s->client_state ? json_string(s->client_state) : json_null(),
		                      "lifecycleEvent", ev);
		char *text = json_dumps(n, JSON_COMPACT);
		json_decref(n);
		struct m_push *p = arena_alloc(req->arena, sizeof(*p));
		p->url = arena_strdup(req->arena, s->lifecycle_url);
		p->body = arena_strdup(req->arena, text);
		p->retry = true;
		free(text);
		r.pushes = p;
		if (strcmp(ev, "subscriptionRemoved") == 0)
			s->deleted = true;
		reply_json(&r, 200, json_pack("{s:s}", "sent", ev));
	}
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ state */

static json_t *microsoft_state(struct sb *sb)
{
	struct sb_microsoft *m = mstate(sb);
	struct arena *a = arena_new();
	int64_t now = sb_now_s(sb);
	json_t *grants = json_array();
	for (struct m_grant *g = m->grants; g; g = g->next) {
		json_t *rts = json_array(), *ats = json_array();
		for (struct m_refresh *x = m->refresh; x; x = x->next)
			if (x->grant == g)
				json_array_append_new(rts, json_pack("{s:s%,s:b}", "prefix",
				                                     x->token, (size_t)12,
				                                     "superseded", x->superseded));
		for (struct m_access *x = m->access; x; x = x->next)
			if (x->grant == g && x->expires_s > now)
				json_array_append_new(ats, json_stringn(x->token, 12));
		json_array_append_new(
		    grants, json_pack("{s:i,s:s,s:s,s:s,s:b,s:I,s:o,s:o}", "id", g->id, "account",
		                      M_EMAIL, "client_id", M_CLIENT_ID, "scope", g->scope,
		                      "revoked", g->revoked, "created", (json_int_t)g->created_s,
		                      "refresh_tokens", rts, "access_token_prefixes", ats));
	}
	json_t *events = json_array();
	for (struct m_event *e = m->events; e; e = e->next) {
		json_t *o =
		    e->deleted ? json_pack("{s:s}", "id", e->id) : event_json(sb, a, e, NULL);
		json_object_set_new(o, "status", json_string(e->deleted ? "deleted" : "active"));
		json_object_set_new(o, "calendarId", json_string(M_CALENDAR_ID));
		json_array_append_new(events, o);
	}
	json_t *subs = json_array();
	for (struct m_sub *s = m->subs; s; s = s->next) {
		json_t *o = sub_json(sb, a, s, false);
		json_object_set_new(o, "status",
		                    json_string(s->deleted               ? "deleted"
		                                : s->expiration_s <= now ? "expired"
		                                                         : "active"));
		json_object_set_new(o, "notifications", json_integer((json_int_t)s->notifications));
		json_array_append_new(subs, o);
	}
	json_t *counters = json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "authorizations", (json_int_t)m->n.authorizations, "denials", (json_int_t)m->n.denials,
	    "code_exchanges", (json_int_t)m->n.code_exchanges, "token_refreshes",
	    (json_int_t)m->n.token_refreshes, "revocations", (json_int_t)m->n.revocations,
	    "creates", (json_int_t)m->n.creates, "deduplicated", (json_int_t)m->n.deduplicated,
	    "updates", (json_int_t)m->n.updates, "deletes", (json_int_t)m->n.deletes,
	    "outside_edits", (json_int_t)m->n.outside_edits, "reads", (json_int_t)m->n.reads,
	    "subscriptions", (json_int_t)m->n.subscriptions, "validations_failed",
	    (json_int_t)m->n.validations_failed, "notifications", (json_int_t)m->n.notifications,
	    "delta_invalidations", (json_int_t)m->n.delta_invalidations, "throttled",
	    (json_int_t)m->n.throttled, "teams_meetings", (json_int_t)m->n.teams_meetings);
	json_t *o =
	    json_pack("{s:[{s:s,s:s,s:[s]}],s:o,s:[o],s:o,s:o,s:o,s:b,s:{s:i,s:i}}", "accounts",
	              "email", M_EMAIL, "id", M_USER_ID, "calendars", M_CALENDAR_ID, "grants",
	              grants, "calendars", calendar_json(sb, a), "events", events, "subscriptions",
	              subs, "counters", counters, "strict_rotation", m->strict_rotation, "throttle",
	              "limit", m->th_limit, "window_s", m->th_window_s);
	arena_free(a);
	return o;
}

/* ------------------------------------------------------------------ routes */

#define V1 "/microsoft/v1.0"

static const struct http_route m_routes[] = {
    {"GET", "/microsoft/{tenant}/oauth2/v2.0/authorize", h_authorize},
    {"POST", "/microsoft/{tenant}/oauth2/v2.0/authorize/decision", h_authorize_decision},
    {"POST", "/microsoft/{tenant}/oauth2/v2.0/token", h_token},
    {"GET", V1 "/me", h_me},
    {"POST", V1 "/me/revokeSignInSessions", h_revoke_sessions},
    {"GET", V1 "/me/calendars", h_calendars},
    {"GET", V1 "/me/calendar", h_calendar},
    {"GET", V1 "/me/calendars/{calendarId}", h_calendar},
    {"GET", V1 "/me/calendarView/delta", h_delta},
    {"GET", V1 "/me/calendarView", h_calendar_view},
    {"GET", V1 "/me/calendars/{calendarId}/calendarView/delta", h_delta},
    {"GET", V1 "/me/calendars/{calendarId}/calendarView", h_calendar_view},
    {"GET", V1 "/me/calendar/calendarView", h_calendar_view},
    {"GET", V1 "/me/calendar/calendarView/delta", h_delta},
    {"GET", V1 "/me/calendars/{calendarId}/events", h_events_list},
    {"POST", V1 "/me/calendars/{calendarId}/events", h_events_create},
    {"POST", V1 "/me/calendar/events", h_events_create},
    {"GET", V1 "/me/events", h_events_list},
    {"POST", V1 "/me/events", h_events_create},
    {"GET", V1 "/me/events/{id}", h_event_get},
    {"PATCH", V1 "/me/events/{id}", h_event_patch},
    {"DELETE", V1 "/me/events/{id}", h_event_delete},
    {"GET", V1 "/subscriptions", h_subscriptions_list},
    {"POST", V1 "/subscriptions", h_subscription_create},
    {"GET", V1 "/subscriptions/{id}", h_subscription_get},
    {"PATCH", V1 "/subscriptions/{id}", h_subscription_patch},
    {"DELETE", V1 "/subscriptions/{id}", h_subscription_delete},
    {"POST", V1 "/subscriptions/{id}/reauthorize", h_subscription_reauthorize},
    {"GET", "/microsoft/teams/l/meetup-join/{id}", h_teams},
    {"GET", "/microsoft/teams/l/meetup-join/{id}/{context}", h_teams},
    {"POST", "/_sandbox/microsoft/events", h_outside_create},
    {"POST", "/_sandbox/microsoft/events/{id}/patch", h_outside_patch},
    {"POST", "/_sandbox/microsoft/events/{id}/delete", h_outside_delete},
    {"POST", "/_sandbox/microsoft/invalidate_delta_tokens", h_invalidate_delta},
    {"POST", "/_sandbox/microsoft/revoke", h_sandbox_revoke},
    {"POST", "/_sandbox/microsoft/throttle", h_throttle},
    {"POST", "/_sandbox/microsoft/refresh_mode", h_refresh_mode},
    {"POST", "/_sandbox/microsoft/subscriptions/{id}/lifecycle", h_lifecycle},
};

const struct sb_provider sb_microsoft_provider = {
    .name = "microsoft",
    .routes = m_routes,
    .n_routes = sizeof(m_routes) / sizeof(m_routes[0]),
    .init = microsoft_init,
    .reset = microsoft_reset,
    .state = microsoft_state,
    .free = microsoft_free,
};

/* zoom.c: the Zoom emulator under /zoom (shared/providers/ZOOM.md, checklist ZE-nn): the
 * user-managed OAuth app (authorize with its consent page, token with PKCE and refresh-token
 * rotation, revoke), the Meetings API v2 calls Calendox makes, Zoom's error bodies and rate limits,
 * signed webhooks (endpoint.url_validation, app_deauthorized, meeting.updated, meeting.deleted),
 * the join page, and the /_sandbox/zoom/ control endpoints.
 *
 * Every handler takes sb->lock, works out its answer into a struct answer, releases the lock and
 * only then replies or hands a webhook to sb_deliver_with(). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/time.h"
#include "sb.h"
#include "base/banned.h"

#define CLIENT_ID "sandbox-zoom-client"
#define CLIENT_SECRET "sandbox-secret"
#define WEBHOOK_SECRET "sandbox-webhook-secret"
#define CODE_TTL_MS (300 * 1000)
#define ACCESS_TTL_S 3599
#define DEFAULT_REFRESH_TTL_S (15LL * 365 * 86400)
#define CODES_MAX 1000
#define GRANTS_MAX 10000
#define MEETINGS_MAX 10000
#define ANSWER_HEADERS_MAX 8
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define B64URL ALNUM "-_"
#define DIGITS "0123456789"

#define DEFAULT_SCOPES                                                                             \
	"meeting:write:meeting meeting:read:meeting meeting:update:meeting "                       \
	"meeting:delete:meeting "                                                                  \
	"user:read:user"

enum { CAT_LIGHT, CAT_MEDIUM, N_CATEGORIES };

struct zoom_account {
	const char *email;
	const char *id;
	const char *account_id;
	const char *first_name;
	const char *last_name;
	int type; /* 1 Basic, 2 Licensed */
	const char *timezone;
	int64_t pmi;
	bool restricted;       /* the organization blocks third-party apps */
	bool require_passcode; /* the account generates a passcode when none is given */
};

static const struct zoom_account accounts[] = {
    {"alice@example.com", "KDcuGIm1QgePTO8WbOqwIQ", "lAAAAAbZR0yEyJvKNmwTDA", "Alice", "Example", 2,
     "Europe/Berlin", INT64_C(5236471089), false, true},
    {"bob@example.com", "z8yCDPvqTfmWQz0Bf8V1sA", "pQ7xRkT2S5u1dX9eWvLk3g", "Bob", "Example", 1,
     "America/New_York", INT64_C(3947182650), false, false},
    {"restricted@example.com", "R3stR1ct3dUs3rXqWe9ZtA", "bLoCk3dAcc0untHq2W8mPw", "Riley",
     "Restricted", 2, "UTC", INT64_C(7480219356), true, true},
};
#define N_ACCOUNTS ((int)(sizeof(accounts) / sizeof(accounts[0])))

static const struct sb_scope_text scope_texts[] = {
    {"meeting:write:meeting", "Create meetings when you add a meeting link"},
    {"meeting:read:meeting", "Read meeting details to display the join link"},
    {"meeting:delete:meeting", "Remove the meeting when the event it was attached to is deleted"},
    {"user:read:user", "Read your Zoom user ID to associate meetings with your account"},
    {"meeting:update:meeting", "Update a meeting's time and topic when its event changes"},
    {"meeting:read:list_meetings", "List your upcoming meetings to show when you are busy"},
    {"meeting:write", "View and manage your meetings"},
    {"meeting:read", "View your meetings"},
    {"user:read", "View your user information"},
};
#define N_SCOPE_TEXTS (sizeof(scope_texts) / sizeof(scope_texts[0]))

static const int webhook_retries_s[] = {5 * 60, 20 * 60, 60 * 60};
static const int validation_retries_s[] = {1, 2, 4, 8, 15, 30, 60, 120};

struct zoom_code {
	char *code;
	int account;
	char *redirect_uri;
	char *challenge; /* NULL without PKCE */
	char *method;
	char *scope;
	int64_t expires_ms;
	struct zoom_code *next;
};

/* One issued token pair. A refresh kills the pair's refresh token and issues a new pair; the old
 * access token lives on until it expires. */
struct zoom_grant {
	int account;
	char *access_token;
	char *refresh_token;
	char *scope;
	int64_t access_expires_s;
	int64_t refresh_expires_s;
	bool refresh_used;
	struct zoom_grant *next;
};

struct zoom_meeting {
	int64_t id;
	int account;
	json_t *obj; /* the meeting as the API shows it */
	bool deleted;
	char *zak;
	struct zoom_meeting *next;
};

enum webhook_validation { WEBHOOK_NONE, WEBHOOK_PENDING, WEBHOOK_VALID, WEBHOOK_INVALID };

struct zoom_counters {
	long codes_issued;
	long authorizations_denied;
	long tokens_issued;
	long token_refreshes;
	long tokens_revoked;
	long meetings_created;
	long meetings_updated;
	long meetings_deleted;
	long webhooks_sent;
	long rate_limited;
};

struct sb_zoom {
	struct zoom_code *codes;
	size_t n_codes;
	struct zoom_grant *grants;
	size_t n_grants;
	struct zoom_meeting *meetings; /* newest first */
	size_t n_meetings;
	struct zoom_counters counters;
	/* Settings (POST /_sandbox/zoom/settings). */
	bool restricted_page; /* restricted accounts see Zoom's page instead of a redirect */
	int64_t refresh_ttl_s;
	int daily_limit; /* create+update per host per UTC day */
	int qps[N_CATEGORIES];
	bool rate_headers;
	/* Rate windows per account. */
	int64_t qps_second[N_ACCOUNTS][N_CATEGORIES];
	int qps_count[N_ACCOUNTS][N_CATEGORIES];
	int64_t daily_day[N_ACCOUNTS];
	int daily_count[N_ACCOUNTS];
	enum webhook_validation webhook;
};

/* An answer worked out under the lock and sent after it. */
struct answer {
	int status;
	json_t *json;     /* owned until sent */
	const char *text; /* arena; used when json is NULL */
	const char *content_type;
	const char *location; /* a 302 */
	const char *names[ANSWER_HEADERS_MAX];
	const char *values[ANSWER_HEADERS_MAX];
	size_t n_headers;
	char *webhook; /* an event body to deliver after the reply (owned) */
};

static void answer_header(struct answer *a, const char *name, const char *value)
{
	if (a->n_headers < ANSWER_HEADERS_MAX) {
		a->names[a->n_headers] = name;
		a->values[a->n_headers] = value;
		a->n_headers++;
	}
}

static void answer_json(struct answer *a, int status, json_t *body_take)
{
	json_decref(a->json);
	a->status = status;
	a->json = body_take;
}

static void api_error(struct answer *a, int status, int code, const char *message)
{
	answer_json(a, status, json_pack("{s:i, s:s}", "code", code, "message", message));
}

static void oauth_error(struct answer *a, const char *reason, const char *error)
{
	answer_json(a, 400, json_pack("{s:s, s:s}", "reason", reason, "error", error));
}

static void send_webhook(struct sb *sb, char *body_take);

/* Replies with a (after the lock was released) and sends its webhook. */
static void answer_send(struct http_request *req, struct sb *sb, struct answer *a)
{
	for (size_t i = 0; i < a->n_headers; i++)
		http_add_header(req, a->names[i], a->values[i]);
	if (a->location) {
		http_reply_redirect(req, a->status ? a->status : 302, a->location);
	} else if (a->json) {
		http_reply_json(req, a->status, a->json);
		a->json = NULL;
	} else if (a->text) {
		http_reply(req, a->status, a->content_type ? a->content_type : "text/plain",
		           a->text, strlen(a->text));
	} else {
		http_reply_empty(req, a->status ? a->status : 204);
	}
	if (a->webhook) {
		send_webhook(sb, a->webhook);
		a->webhook = NULL;
	}
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static int account_by_email(const char *email)
{
	for (int i = 0; email && i < N_ACCOUNTS; i++)
		if (strcasecmp(accounts[i].email, email) == 0)
			return i;
	return -1;
}

static char *html_escaped(struct arena *a, const char *s)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			(void)buf_puts(&b, "&amp;");
			break;
		case '<':
			(void)buf_puts(&b, "&lt;");
			break;
		case '>':
			(void)buf_puts(&b, "&gt;");
			break;
		case '"':
			(void)buf_puts(&b, "&quot;");
			break;
		default:
			(void)buf_append(&b, s, 1);
		}
	}
	char *out = arena_strdup(a, b.data ? b.data : "");
	buf_release(&b);
	return out;
}

static void answer_page(struct http_request *req, struct answer *a, int status, const char *title,
                        const char *text)
{
	a->status = status;
	a->content_type = "text/html; charset=utf-8";
	a->text =
	    arena_printf(req->arena,
	                 "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                 "<title>%s</title>\n</head>\n<body>\n<main>\n<h1>%s</h1>\n<p>%s</p>\n"
	                 "</main>\n</body>\n</html>\n",
	                 html_escaped(req->arena, title), html_escaped(req->arena, title),
	                 html_escaped(req->arena, text));
}

static char *format_time(struct arena *a, int64_t unix_s)
{
	char out[40];

	time_format_rfc3339(unix_s, 0, out, sizeof(out));
	return arena_strdup(a, out);
}

/* --- time zones: Zoom takes a local start_time plus an IANA zone; base/time.h has no zone
 * arithmetic, so the offsets come straight from the system's TZif files (RFC 8536). --- */

static int64_t be_int(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* The UTC offset in seconds of zone at the UTC instant t; false when the zone is unknown. */
static bool zone_offset(const char *zone, int64_t t, int *off_s)
{
	const char *dir = getenv("CALENDOX_ZONEINFO");
	unsigned char data[128 * 1024];
	size_t len;
	bool ok = false;

	if (!time_zone_valid(zone))
		return false;
	char *path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f)
		return false;
	len = fread(data, 1, sizeof(data), f);
	fclose(f);
	if (len < 44 || memcmp(data, "TZif", 4) != 0)
		return false;

	const unsigned char *h = data;
	int tsize = 4;
	for (int pass = 0; pass < 2; pass++) {
		size_t isut = (size_t)be_int(h + 20, 4), isstd = (size_t)be_int(h + 24, 4);
		size_t leap = (size_t)be_int(h + 28, 4), timecnt = (size_t)be_int(h + 32, 4);
		size_t typecnt = (size_t)be_int(h + 36, 4), charcnt = (size_t)be_int(h + 40, 4);
		const unsigned char *times = h + 44;
		const unsigned char *idx = times + timecnt * (size_t)tsize;
		const unsigned char *types = idx + timecnt;
		size_t block = timecnt * (size_t)tsize + timecnt + typecnt * 6 + charcnt +
		               leap * (size_t)(tsize + 4) + isstd + isut;
		if (typecnt == 0 || timecnt > 100000 || typecnt > 256 ||
		    (size_t)(times - data) + block > len)
			return ok;
		if (pass == 0 && data[4] >= '2') {
			h = times + block;
			tsize = 8;
			if ((size_t)(h - data) + 44 > len || memcmp(h, "TZif", 4) != 0)
				return false;
			continue;
		}
		size_t type = 0;
		for (size_t i = 0; i < timecnt; i++) {
			if (be_int(times + i * (size_t)tsize, tsize) > t)
				break;
			type = idx[i];
		}
		if (type >= typecnt)
			return false;
		*off_s = (int)be_int(types + type * 6, 4);
		ok = true;
		break;
	}
	return ok;
}

/* "2026-11-24T09:30:00Z" (or with an offset) as UTC, or a local "2026-11-24T09:30:00" in zone. */
static bool parse_start_time(const char *s, const char *zone, int64_t *out)
{
	size_t len = strlen(s);
	int off = 0;

	if (len == 19) {
		char buf[24];
		int64_t local;
		snprintf(buf, sizeof(buf), "%sZ", s);
		if (time_parse_rfc3339(buf, &local, NULL) != CX_OK)
			return false;
		if (!zone_offset(zone, local, &off))
			off = 0;
		int64_t guess = local - off;
		if (zone_offset(zone, guess, &off))
			guess = local - off;
		*out = guess;
		return true;
	}
	return time_parse_rfc3339(s, out, NULL) == CX_OK;
}

/* --- state helpers (caller holds the lock) --- */

static void code_free(struct zoom_code *c)
{
	free(c->code);
	free(c->redirect_uri);
	free(c->challenge);
	free(c->method);
	free(c->scope);
	free(c);
}

static void grant_free(struct zoom_grant *g)
{
	free(g->access_token);
	free(g->refresh_token);
	free(g->scope);
	free(g);
}

static void meeting_free(struct zoom_meeting *m)
{
	json_decref(m->obj);
	free(m->zak);
	free(m);
}

/* Drops codes past their lifetime and grants whose tokens can no longer be used. */
static void prune(struct sb *sb)
{
	struct sb_zoom *z = sb->zoom;
	int64_t now_ms = sb_now_ms(sb), now_s = now_ms / 1000;

	for (struct zoom_code **p = &z->codes; *p;) {
		if ((*p)->expires_ms <= now_ms) {
			struct zoom_code *c = *p;
			*p = c->next;
			code_free(c);
			z->n_codes--;
		} else {
			p = &(*p)->next;
		}
	}
	for (struct zoom_grant **p = &z->grants; *p;) {
		struct zoom_grant *g = *p;
		bool refresh_dead = g->refresh_used || g->refresh_expires_s <= now_s;
		if (refresh_dead && g->access_expires_s <= now_s) {
			*p = g->next;
			grant_free(g);
			z->n_grants--;
		} else {
			p = &g->next;
		}
	}
}

/* Removes every grant of account (re-authorization, revoke, uninstall); returns how many. */
static int drop_grants(struct sb_zoom *z, int account)
{
	int n = 0;

	for (struct zoom_grant **p = &z->grants; *p;) {
		struct zoom_grant *g = *p;
		if (g->account == account) {
			*p = g->next;
			grant_free(g);
			z->n_grants--;
			n++;
		} else {
			p = &g->next;
		}
	}
	return n;
}

static char *new_token(struct sb *sb, struct arena *a)
{
	/* Opaque, though shaped like the JWTs Zoom hands out. */
	return arena_printf(a, "eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIn0.%s.%s",
	                    sb_random_string(sb, a, B64URL, 40),
	                    sb_random_string(sb, a, B64URL, 22));
}

static struct zoom_grant *issue_grant(struct sb *sb, struct arena *a, int account,
                                      const char *scope)
{
	struct sb_zoom *z = sb->zoom;
	struct zoom_grant *g = xcalloc(1, sizeof(*g));
	int64_t now = sb_now_s(sb);

	g->account = account;
	g->access_token = xstrdup(new_token(sb, a));
	g->refresh_token = xstrdup(new_token(sb, a));
	g->scope = xstrdup(scope);
	g->access_expires_s = now + ACCESS_TTL_S;
	g->refresh_expires_s = now + z->refresh_ttl_s;
	g->next = z->grants;
	z->grants = g;
	z->n_grants++;
	return g;
}

static json_t *token_answer(struct sb *sb, const struct zoom_grant *g)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s+}", "access_token", g->access_token,
	                 "token_type", "bearer", "refresh_token", g->refresh_token, "expires_in",
	                 ACCESS_TTL_S, "scope", g->scope, "api_url", sb->base_url, "/zoom");
}

static bool scope_listed(const char *list, const char *scope)
{
	size_t n = strlen(scope);

	for (const char *p = list; p && *p;) {
		p += strspn(p, " ");
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, scope, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The scopes granted for a request: the known ones asked for, or the app's configured set. */
static char *granted_scopes(struct arena *a, const char *requested)
{
	struct buf b;

	if (!requested || !*requested)
		return arena_strdup(a, DEFAULT_SCOPES);
	buf_init(&b, 4096);
	for (size_t i = 0; i < N_SCOPE_TEXTS; i++) {
		if (scope_listed(requested, scope_texts[i].scope) &&
		    buf_printf(&b, "%s%s", b.len ? " " : "", scope_texts[i].scope) != CX_OK)
			break;
	}
	char *out = arena_strdup(a, b.data ? b.data : "");
	buf_release(&b);
	return out;
}

/* --- webhooks --- */

static void zoom_sign(struct egress_request *r, const char *body)
{
	char ts[24], sig[65];
	size_t n = (size_t)snprintf(ts, sizeof(ts), "%" PRId64, time_wall_s());
	char *msg = xasprintf("v0:%s:%s", ts, body);

	(void)n;
	sec_hmac_sha256_hex(WEBHOOK_SECRET, strlen(WEBHOOK_SECRET), msg, strlen(msg), sig);
	free(msg);
	if (r->n_headers + 2 <= EGRESS_MAX_HEADERS) {
		r->headers[r->n_headers++] = xasprintf("x-zm-request-timestamp: %s", ts);
		r->headers[r->n_headers++] = xasprintf("x-zm-signature: v0=%s", sig);
	}
}

static const char *const webhook_headers[] = {
    "Content-Type: application/json",
    "User-Agent: Zoom Marketplace/1.0a",
    "clientid: " CLIENT_ID,
    NULL,
};

/* Hands an event to the delivery thread; without the lock. Nothing is sent without a URL, or to a
 * URL that failed its validation (ZE-29). */
static void send_webhook(struct sb *sb, char *body_take)
{
	struct sb_delivery_options opts = {
	    .retry_delays_s = webhook_retries_s,
	    .n_retries = (int)(sizeof(webhook_retries_s) / sizeof(webhook_retries_s[0])),
	    .timeout_ms = 3000,
	    .sign = zoom_sign,
	};
	char *url = NULL;

	sb_lock(sb);
	if (sb->zoom_webhook_url && sb->zoom && sb->zoom->webhook != WEBHOOK_INVALID) {
		url = xstrdup(sb->zoom_webhook_url);
		sb->zoom->counters.webhooks_sent++;
	}
	sb_unlock(sb);
	if (url)
		sb_deliver_with(sb, "POST", url, webhook_headers, body_take, &opts);
	free(url);
	free(body_take);
}

/* A URL passes when it answers the challenge; a wrong answer fails it at once, while no answer
 * (Calendox not started yet) is retried for a few minutes before the URL counts as unvalidated. */
static enum sb_delivery_verdict validation_verdict(long status, const char *request_body,
                                                   const char *response_body)
{
	json_t *req = json_loads(request_body, 0, NULL);
	json_t *resp = json_loads(response_body, 0, NULL);
	const char *plain = json_get_str(json_object_get(req, "payload"), "plainToken");
	char expect[65];
	enum sb_delivery_verdict verdict = SB_RETRY;

	if (status == 200 && plain) {
		sec_hmac_sha256_hex(WEBHOOK_SECRET, strlen(WEBHOOK_SECRET), plain, strlen(plain),
		                    expect);
		bool ok = json_is_object(resp) && str_eq(json_get_str(resp, "plainToken"), plain) &&
		          str_eq(json_get_str(resp, "encryptedToken"), expect);
		verdict = ok ? SB_DELIVERED : SB_REJECTED;
	}
	json_decref(req);
	json_decref(resp);
	return verdict;
}

static void validation_finished(struct sb *sb, const char *url, bool delivered)
{
	if (sb->zoom && str_eq(sb->zoom_webhook_url, url))
		sb->zoom->webhook = delivered ? WEBHOOK_VALID : WEBHOOK_INVALID;
}

/* Sends endpoint.url_validation to the current URL; without the lock. */
static void validate_webhook_url(struct sb *sb)
{
	struct sb_delivery_options opts = {
	    .timeout_ms = 3000,
	    .sign = zoom_sign,
	    .verdict = validation_verdict,
	    .retry_delays_s = validation_retries_s,
	    .n_retries = (int)(sizeof(validation_retries_s) / sizeof(validation_retries_s[0])),
	    .finished = validation_finished,
	};
	struct arena *a = arena_new();
	char *url = NULL, *body = NULL;

	sb_lock(sb);
	if (sb->zoom_webhook_url && sb->zoom) {
		url = xstrdup(sb->zoom_webhook_url);
		sb->zoom->webhook = WEBHOOK_PENDING;
		json_t *ev = json_pack("{s:s, s:{s:s}, s:I}", "event", "endpoint.url_validation",
		                       "payload", "plainToken", sb_random_string(sb, a, B64URL, 22),
		                       "event_ts", (json_int_t)sb_now_ms(sb));
		body = json_dump_compact(ev);
		json_decref(ev);
	}
	sb_unlock(sb);
	if (url)
		sb_deliver_with(sb, "POST", url, webhook_headers, body, &opts);
	free(url);
	free(body);
	arena_free(a);
}

/* The app_deauthorized event for account (caller holds the lock); caller frees. */
static char *deauthorized_event(struct sb *sb, int account)
{
	const struct zoom_account *acc = &accounts[account];
	int64_t now_ms = sb_now_ms(sb);
	char when[40], sig[65];
	char *msg = xasprintf("%s:%s:%" PRId64, acc->account_id, acc->id, now_ms);

	time_format_rfc3339_ms(now_ms, when, sizeof(when));
	sec_hmac_sha256_hex(WEBHOOK_SECRET, strlen(WEBHOOK_SECRET), msg, strlen(msg), sig);
	free(msg);
	json_t *ev = json_pack("{s:s, s:I, s:{s:s, s:s, s:s, s:s, s:s}}", "event",
	                       "app_deauthorized", "event_ts", (json_int_t)now_ms, "payload",
	                       "account_id", acc->account_id, "user_id", acc->id, "signature", sig,
	                       "deauthorization_time", when, "client_id", CLIENT_ID);
	char *body = json_dump_compact(ev);
	json_decref(ev);
	return body;
}

/* --- OAuth --- */

static const char *param(struct http_request *req, const char *name)
{
	const char *v = http_form(req, name);

	return v ? v : http_query(req, name);
}

static const char *const account_emails[] = {
    "alice@example.com",
    "bob@example.com",
    "restricted@example.com",
};

static void authorize_error_page(struct answer *a, const char *message)
{
	answer_json(a, 400,
	            json_pack("{s:b, s:i, s:s, s:n}", "status", false, "errorCode", 4700,
	                      "errorMessage", message, "result"));
}

/* Builds {redirect_uri}?k=v&state=… (state echoed only when it was sent). */
static const char *redirect_with(struct http_request *req, const char *redirect_uri,
                                 const char *key, const char *value, const char *state)
{
	const char *kv[] = {key, value ? value : "", "state", state, NULL};
	return sb_redirect_with(req->arena, redirect_uri, kv);
}

/* Checks what the authorize GET and the decision POST share; false with a set when refused. */
static bool authorize_request_ok(struct http_request *req, struct answer *a,
                                 const char *(*get)(struct http_request *, const char *))
{
	const char *client_id = get(req, "client_id");
	const char *redirect_uri = get(req, "redirect_uri");
	const char *response_type = get(req, "response_type");
	const char *method = get(req, "code_challenge_method");
	const char *state = get(req, "state");

	if (!str_eq(client_id, CLIENT_ID)) {
		authorize_error_page(a, "Invalid client_id");
		return false;
	}
	if (!sb_redirect_uri_ok(redirect_uri, "zoom")) {
		authorize_error_page(a, "Invalid redirect url");
		return false;
	}
	if (!str_eq(response_type, "code")) {
		a->location =
		    redirect_with(req, redirect_uri, "error", "unsupported_response_type", state);
		return false;
	}
	if (method && *method && !str_eq(method, "S256") && !str_eq(method, "plain")) {
		a->location = redirect_with(req, redirect_uri, "error", "invalid_request", state);
		return false;
	}
	return true;
}

static const char *page_scopes(struct http_request *req)
{
	const char *requested = http_query(req, "scope");

	return requested && *requested ? requested : DEFAULT_SCOPES;
}

static void authorize_get(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;

	if (!authorize_request_ok(req, &a, http_query)) {
		answer_send(req, sb, &a);
		return;
	}
	sb_authorize_page(req, "Zoom", account_emails, N_ACCOUNTS, page_scopes(req), scope_texts,
	                  N_SCOPE_TEXTS, "/zoom/oauth/authorize/decision");
}

static void authorize_decision(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	const char *redirect_uri = http_form(req, "redirect_uri");
	const char *state = http_form(req, "state");
	const char *decision = http_form(req, "decision");
	int account = account_by_email(http_form(req, "user"));

	if (!authorize_request_ok(req, &a, http_form))
		goto send;
	if (!str_eq(decision, "allow")) {
		sb_lock(sb);
		sb->zoom->counters.authorizations_denied++;
		sb_unlock(sb);
		a.location = redirect_with(req, redirect_uri, "error", "access_denied", state);
		goto send;
	}
	if (account < 0) {
		answer_page(req, &a, 400, "Sign in to Zoom", "Choose one of the listed accounts.");
		goto send;
	}

	sb_lock(sb);
	struct sb_zoom *z = sb->zoom;
	prune(sb);
	if (accounts[account].restricted) {
		z->counters.authorizations_denied++;
		if (z->restricted_page)
			answer_page(
			    req, &a, 403, "Authorization failed",
			    "An account admin is required to install this type of app. Your "
			    "organization does not allow this app; ask your Zoom account "
			    "administrator to approve Calendox.");
		else
			a.location =
			    redirect_with(req, redirect_uri, "error", "access_denied", state);
		goto unlock;
	}
	if (z->n_codes >= CODES_MAX) {
		answer_page(req, &a, 503, "Zoom", "Too many pending authorizations; try again.");
		goto unlock;
	}
	struct zoom_code *c = xcalloc(1, sizeof(*c));
	const char *challenge = http_form(req, "code_challenge");
	const char *method = http_form(req, "code_challenge_method");
	c->code = xstrdup(sb_random_string(sb, req->arena, B64URL, 32));
	c->account = account;
	c->redirect_uri = xstrdup(redirect_uri);
	c->challenge = challenge && *challenge ? xstrdup(challenge) : NULL;
	c->method = xstrdup(method && *method ? method : "plain");
	c->scope = xstrdup(granted_scopes(req->arena, http_form(req, "scope")));
	c->expires_ms = sb_now_ms(sb) + CODE_TTL_MS;
	c->next = z->codes;
	z->codes = c;
	z->n_codes++;
	z->counters.codes_issued++;
	a.location = redirect_with(req, redirect_uri, "code", c->code, state);
unlock:
	sb_unlock(sb);
send:
	answer_send(req, sb, &a);
}

/* Client authentication by HTTP Basic or by client_id/client_secret parameters (ZE-06). */
static bool client_ok(struct http_request *req)
{
	const char *id = NULL, *secret = NULL;

	if (!sb_basic_auth(req, &id, &secret)) {
		id = param(req, "client_id");
		secret = param(req, "client_secret");
	}
	return str_eq(id, CLIENT_ID) && secret && sec_str_equal(secret, CLIENT_SECRET);
}

/* Caller holds the lock. */
static void exchange_code(struct http_request *req, struct sb *sb, struct answer *a)
{
	struct sb_zoom *z = sb->zoom;
	const char *code = param(req, "code");
	struct zoom_code *c = NULL;

	for (struct zoom_code **p = &z->codes; code && *p; p = &(*p)->next) {
		if (sec_str_equal((*p)->code, code)) {
			c = *p;
			*p = c->next; /* single use: gone whatever happens next */
			z->n_codes--;
			break;
		}
	}
	if (!c || c->expires_ms <= sb_now_ms(sb)) {
		oauth_error(a, "Invalid authorization code", "invalid_grant");
		goto out;
	}
	if (!str_eq(param(req, "redirect_uri"), c->redirect_uri)) {
		oauth_error(a, "Redirect URI mismatch.", "invalid_grant");
		goto out;
	}
	if (c->challenge && !sb_pkce_ok(c->challenge, c->method, param(req, "code_verifier"))) {
		oauth_error(a, "Invalid code_verifier", "invalid_grant");
		goto out;
	}
	drop_grants(z, c->account); /* ZE-13: the last pair issued is the only valid one */
	if (z->n_grants >= GRANTS_MAX) {
		oauth_error(a, "Too many tokens", "server_error");
		goto out;
	}
	struct zoom_grant *g = issue_grant(sb, req->arena, c->account, c->scope);
	z->counters.tokens_issued++;
	answer_json(a, 200, token_answer(sb, g));
out:
	if (c)
		code_free(c);
}

/* Caller holds the lock. Rotation: the presented refresh token dies with this call (ZE-11). */
static void refresh(struct http_request *req, struct sb *sb, struct answer *a)
{
	struct sb_zoom *z = sb->zoom;
	const char *token = param(req, "refresh_token");
	struct zoom_grant *old = NULL;

	for (struct zoom_grant *g = z->grants; token && g; g = g->next) {
		if (sec_str_equal(g->refresh_token, token)) {
			old = g;
			break;
		}
	}
	if (!old || old->refresh_used || old->refresh_expires_s <= sb_now_s(sb)) {
		oauth_error(a, "Invalid Token!", "invalid_grant");
		return;
	}
	old->refresh_used = true;
	struct zoom_grant *g = issue_grant(sb, req->arena, old->account, old->scope);
	z->counters.token_refreshes++;
	answer_json(a, 200, token_answer(sb, g));
}

static void token_post(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	const char *grant_type = param(req, "grant_type");

	http_add_header(req, "Cache-Control", "no-store");
	if (!client_ok(req)) {
		oauth_error(&a, "Invalid client_id or client_secret", "invalid_client");
		goto send;
	}
	if (!str_eq(grant_type, "authorization_code") && !str_eq(grant_type, "refresh_token")) {
		oauth_error(&a, "Unsupported grant type", "unsupported_grant_type");
		goto send;
	}
	sb_lock(sb);
	prune(sb);
	if (str_eq(grant_type, "authorization_code"))
		exchange_code(req, sb, &a);
	else
		refresh(req, sb, &a);
	sb_unlock(sb);
send:
	answer_send(req, sb, &a);
}

/* Revoking either token uninstalls the app for that user: every token of it dies and Zoom sends
 * app_deauthorized (ZE-15). */
static void revoke_post(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	const char *token = param(req, "token");
	int account = -1;

	if (!client_ok(req)) {
		oauth_error(&a, "Invalid client_id or client_secret", "invalid_client");
		goto send;
	}
	sb_lock(sb);
	struct sb_zoom *z = sb->zoom;
	int64_t now = sb_now_s(sb);
	for (struct zoom_grant *g = z->grants; token && g; g = g->next) {
		if ((sec_str_equal(g->access_token, token) && g->access_expires_s > now) ||
		    (sec_str_equal(g->refresh_token, token) && !g->refresh_used)) {
			account = g->account;
			break;
		}
	}
	if (account < 0) {
		oauth_error(&a, "Invalid Token!", "invalid_grant");
	} else {
		drop_grants(z, account);
		z->counters.tokens_revoked++;
		a.webhook = deauthorized_event(sb, account);
		answer_json(&a, 200, json_pack("{s:s}", "status", "success"));
	}
	sb_unlock(sb);
send:
	answer_send(req, sb, &a);
}

/* --- API access: token, scope and rate limits --- */

static void rate_headers(struct http_request *req, struct sb_zoom *z, struct answer *a, int cat,
                         int remaining)
{
	if (!z->rate_headers)
		return;
	answer_header(a, "X-RateLimit-Category", cat == CAT_MEDIUM ? "Medium" : "Light");
	answer_header(a, "X-RateLimit-Type", "QPS");
	answer_header(a, "X-RateLimit-Limit", arena_printf(req->arena, "%d", z->qps[cat]));
	answer_header(a, "X-RateLimit-Remaining", arena_printf(req->arena, "%d", remaining));
}

/* Caller holds the lock. The checks a real API call passes, in Zoom's order: a live access token
 * (401 code 124), the endpoint's scope (400 code 4711), the per-second limit of its category and,
 * for creates and updates, the per-host daily cap (429). */
static bool api_access(struct http_request *req, struct sb *sb, struct answer *a, const char *scope,
                       int cat, bool daily, int *account)
{
	struct sb_zoom *z = sb->zoom;
	const char *token = sb_bearer(req);
	struct zoom_grant *grant = NULL;
	int64_t now_ms = sb_now_ms(sb), now_s = now_ms / 1000;

	for (struct zoom_grant *g = z->grants; token && g; g = g->next) {
		if (sec_str_equal(g->access_token, token)) {
			grant = g;
			break;
		}
	}
	if (!grant) {
		api_error(a, 401, 124, "Invalid access token.");
		return false;
	}
	if (grant->access_expires_s <= now_s) {
		api_error(a, 401, 124, "Access token is expired.");
		return false;
	}
	if (scope && !scope_listed(grant->scope, scope)) {
		api_error(a, 400, 4711,
		          arena_printf(req->arena,
		                       "Invalid access token, does not contain scopes:[%s].",
		                       scope));
		return false;
	}
	int acc = grant->account;
	if (z->qps_second[acc][cat] != now_s) {
		z->qps_second[acc][cat] = now_s;
		z->qps_count[acc][cat] = 0;
	}
	if (z->qps_count[acc][cat] >= z->qps[cat]) {
		z->counters.rate_limited++;
		api_error(a, 429, 429,
		          "You have reached the maximum per-second rate limit for this API. Try "
		          "again later.");
		rate_headers(req, z, a, cat, 0);
		if (z->rate_headers) {
			answer_header(a, "X-RateLimit-Reset", format_time(req->arena, now_s + 1));
			answer_header(a, "Retry-After", "1");
		}
		return false;
	}
	z->qps_count[acc][cat]++;
	if (daily) {
		int64_t day = now_s >= 0 ? now_s / 86400 : -1;
		if (z->daily_day[acc] != day) {
			z->daily_day[acc] = day;
			z->daily_count[acc] = 0;
		}
		if (z->daily_count[acc] >= z->daily_limit) {
			z->counters.rate_limited++;
			api_error(
			    a, 429, 429,
			    arena_printf(req->arena,
			                 "You have exceeded the daily rate limit (%d) of Meeting "
			                 "Create/Update API requests permitted for this "
			                 "particular user. You may resume these requests at GMT "
			                 "00:00:00.",
			                 z->daily_limit));
			if (z->rate_headers) {
				answer_header(a, "X-RateLimit-Category", "Medium");
				answer_header(a, "X-RateLimit-Type", "Daily-limit");
				answer_header(a, "X-RateLimit-Limit",
				              arena_printf(req->arena, "%d", z->daily_limit));
				answer_header(a, "X-RateLimit-Remaining", "0");
				answer_header(a, "Retry-After",
				              format_time(req->arena, (day + 1) * 86400));
			}
			return false;
		}
		z->daily_count[acc]++;
	}
	rate_headers(req, z, a, cat, z->qps[cat] - z->qps_count[acc][cat]);
	*account = acc;
	return true;
}

/* "me", the user's id or email; -1 otherwise. */
static bool user_param_ok(const char *user_id, int account)
{
	return str_eq(user_id, "me") || str_eq(user_id, accounts[account].id) ||
	       (user_id && strcasecmp(user_id, accounts[account].email) == 0);
}

static json_t *user_json(struct sb *sb, struct arena *arena, int account)
{
	const struct zoom_account *u = &accounts[account];

	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:s++, s:b, "
	                 "s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:[i], s:s, s:s, s:s}",
	                 "id", u->id, "account_id", u->account_id, "account_number",
	                 (json_int_t)(10000000 + account), "email", u->email, "first_name",
	                 u->first_name, "last_name", u->last_name, "display_name", u->first_name,
	                 "type", u->type, "status", "active", "timezone", u->timezone, "pmi",
	                 (json_int_t)u->pmi, "personal_meeting_url", sb->base_url, "/zoom/j/",
	                 arena_printf(arena, "%" PRId64, u->pmi), "use_pmi", false, "verified", 1,
	                 "language", "en-US", "role_name", "Owner", "dept", "", "created_at",
	                 "2024-01-15T09:00:00Z", "user_created_at", "2024-01-15T09:00:00Z",
	                 "last_login_time", "2026-11-01T08:00:00Z", "login_types", 100, "cluster",
	                 "us05", "phone_number", "", "pic_url", "");
}

static void user_get(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	int account;

	sb_lock(sb);
	if (api_access(req, sb, &a, "user:read:user", CAT_LIGHT, false, &account)) {
		const char *uid = http_param(req, "userId");
		if (!user_param_ok(uid, account))
			api_error(&a, 404, 1001,
			          arena_printf(req->arena, "User does not exist: %s.", uid));
		else
			answer_json(&a, 200, user_json(sb, req->arena, account));
	}
	sb_unlock(sb);
	answer_send(req, sb, &a);
}

/* --- meetings --- */

struct field_rule {
	const char *name;
	char kind; /* 's' string, 'i' integer, 'b' boolean, 'o' object, 'a' array */
	size_t max_len;
};

static const struct field_rule meeting_fields[] = {
    {"topic", 's', 200},       {"type", 'i', 0},
    {"start_time", 's', 64},   {"duration", 'i', 0},
    {"timezone", 's', 64},     {"agenda", 's', 2000},
    {"password", 's', 10},     {"default_password", 'b', 0},
    {"pre_schedule", 'b', 0},  {"schedule_for", 's', 256},
    {"template_id", 's', 256}, {"recurrence", 'o', 0},
    {"settings", 'o', 0},      {"tracking_fields", 'a', 0},
};

static const struct field_rule settings_fields[] = {
    {"host_video", 'b', 0},
    {"participant_video", 'b', 0},
    {"join_before_host", 'b', 0},
    {"waiting_room", 'b', 0},
    {"mute_upon_entry", 'b', 0},
    {"meeting_authentication", 'b', 0},
    {"use_pmi", 'b', 0},
    {"watermark", 'b', 0},
    {"email_notification", 'b', 0},
    {"private_meeting", 'b', 0},
    {"focus_mode", 'b', 0},
    {"jbh_time", 'i', 0},
    {"approval_type", 'i', 0},
    {"audio", 's', 32},
    {"auto_recording", 's', 32},
    {"alternative_hosts", 's', 1024},
    {"encryption_type", 's', 32},
};

static bool kind_ok(const json_t *v, const struct field_rule *r)
{
	switch (r->kind) {
	case 's':
		return json_is_string(v) && (!r->max_len || json_string_length(v) <= r->max_len);
	case 'i':
		return json_is_integer(v);
	case 'b':
		return json_is_boolean(v);
	case 'o':
		return json_is_object(v);
	default:
		return json_is_array(v);
	}
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (str_eq(s, *list))
			return true;
	return false;
}

/* The first field Zoom would refuse (name as Zoom reports it), or NULL. Unknown fields are ignored,
 * as Zoom does. start_time is checked against zone. */
static const char *meeting_bad_field(struct arena *a, const json_t *body, const char *zone)
{
	static const char *const audios[] = {"both", "telephony", "voip", "thirdParty", NULL};
	static const char *const recordings[] = {"local", "cloud", "none", NULL};

	for (size_t i = 0; i < sizeof(meeting_fields) / sizeof(meeting_fields[0]); i++) {
		json_t *v = json_object_get(body, meeting_fields[i].name);
		if (v && !json_is_null(v) && !kind_ok(v, &meeting_fields[i]))
			return meeting_fields[i].name;
	}
	json_int_t type = json_integer_value(json_object_get(body, "type"));
	if (json_object_get(body, "type") && type != 1 && type != 2 && type != 3 && type != 8)
		return "type";
	json_t *dur = json_object_get(body, "duration");
	if (json_is_integer(dur) &&
	    (json_integer_value(dur) < 0 || json_integer_value(dur) > 100000))
		return "duration";
	const char *pw = json_get_str(body, "password");
	if (pw && strspn(pw, ALNUM "@-_*") != strlen(pw))
		return "password";
	const char *tz = json_get_str(body, "timezone");
	if (tz && *tz && !time_zone_valid(tz))
		return "timezone";
	const char *start = json_get_str(body, "start_time");
	int64_t t;
	if (start && *start && !parse_start_time(start, tz && *tz ? tz : zone, &t))
		return "start_time";

	json_t *settings = json_object_get(body, "settings");
	for (size_t i = 0;
	     json_is_object(settings) && i < sizeof(settings_fields) / sizeof(settings_fields[0]);
	     i++) {
		json_t *v = json_object_get(settings, settings_fields[i].name);
		if (v && !json_is_null(v) && !kind_ok(v, &settings_fields[i]))
			return arena_printf(a, "settings.%s", settings_fields[i].name);
	}
	json_t *jbh = json_object_get(settings, "jbh_time");
	if (jbh && json_integer_value(jbh) != 0 && json_integer_value(jbh) != 5 &&
	    json_integer_value(jbh) != 10)
		return "settings.jbh_time";
	json_t *approval = json_object_get(settings, "approval_type");
	if (approval && (json_integer_value(approval) < 0 || json_integer_value(approval) > 2))
		return "settings.approval_type";
	const char *audio = json_get_str(settings, "audio");
	if (audio && !one_of(audio, audios))
		return "settings.audio";
	const char *rec = json_get_str(settings, "auto_recording");
	if (rec && !one_of(rec, recordings))
		return "settings.auto_recording";
	return NULL;
}

static void validation_failed(struct answer *a, const char *field)
{
	answer_json(a, 400,
	            json_pack("{s:i, s:s, s:[{s:s, s:s}]}", "code", 300, "message",
	                      "Validation Failed.", "errors", "field", field, "message",
	                      "Invalid field."));
}

/* The request body as a JSON object, or NULL with the Zoom error answered. Caller decrefs. */
static json_t *meeting_body(struct http_request *req, struct answer *a)
{
	json_t *body = NULL;

	if (req->body)
		body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		api_error(a, 400, 300, "Request Body should be a valid JSON object.");
		return NULL;
	}
	return body;
}

static void set_password(struct sb *sb, struct arena *ar, struct zoom_meeting *m, const char *pw)
{
	json_t *o = m->obj;

	if (!pw || !*pw) {
		json_object_del(o, "password");
		json_object_del(o, "encrypted_password");
		json_object_del(o, "h323_password");
		json_object_del(o, "pstn_password");
		json_object_set_new(o, "join_url",
		                    json_sprintf("%s/zoom/j/%" PRId64, sb->base_url, m->id));
		return;
	}
	const char *digits =
	    strspn(pw, DIGITS) == strlen(pw) ? pw : sb_random_string(sb, ar, DIGITS, 6);
	const char *enc = arena_printf(ar, "%s.1", sb_random_string(sb, ar, ALNUM, 32));
	json_object_set_new(o, "password", json_string(pw));
	json_object_set_new(o, "h323_password", json_string(digits));
	json_object_set_new(o, "pstn_password", json_string(digits));
	json_object_set_new(o, "encrypted_password", json_string(enc));
	json_object_set_new(o, "join_url",
	                    json_sprintf("%s/zoom/j/%" PRId64 "?pwd=%s", sb->base_url, m->id, enc));
}

/* Zoom never leaves a meeting open to anyone with the number: without a passcode and without
 * authentication the waiting room is switched on (ZE-20); a waiting room excludes joining before
 * the host. */
static void enforce_security(struct zoom_meeting *m)
{
	json_t *s = json_object_get(m->obj, "settings");
	const char *pw = json_get_str(m->obj, "password");

	if ((!pw || !*pw) && !json_get_bool(s, "meeting_authentication", false))
		json_object_set_new(s, "waiting_room", json_true());
	if (json_get_bool(s, "waiting_room", false))
		json_object_set_new(s, "join_before_host", json_false());
}

/* Applies the fields of a create or update body (already validated). */
static void meeting_apply(struct sb *sb, struct arena *ar, struct zoom_meeting *m,
                          const json_t *body)
{
	json_t *o = m->obj;
	static const char *const copied[] = {
	    "topic",        "type",       "duration",        "agenda",
	    "pre_schedule", "recurrence", "tracking_fields", NULL};

	for (const char *const *k = copied; *k; k++) {
		json_t *v = json_object_get(body, *k);
		if (v && !json_is_null(v))
			json_object_set(o, *k, v);
	}
	const char *tz = json_get_str(body, "timezone");
	if (tz && *tz)
		json_object_set_new(o, "timezone", json_string(tz));
	const char *start = json_get_str(body, "start_time");
	int64_t t;
	if (start && *start && parse_start_time(start, json_get_str(o, "timezone"), &t))
		json_object_set_new(o, "start_time", json_string(format_time(ar, t)));
	json_t *settings = json_object_get(body, "settings");
	json_t *current = json_object_get(o, "settings");
	for (size_t i = 0;
	     json_is_object(settings) && i < sizeof(settings_fields) / sizeof(settings_fields[0]);
	     i++) {
		json_t *v = json_object_get(settings, settings_fields[i].name);
		if (v && !json_is_null(v))
			json_object_set(current, settings_fields[i].name, v);
	}
	json_t *pw = json_object_get(body, "password");
	if (json_is_string(pw))
		set_password(sb, ar, m, json_string_value(pw));
	enforce_security(m);
}

static struct zoom_meeting *meeting_new(struct sb *sb, struct arena *ar, int account)
{
	struct sb_zoom *z = sb->zoom;
	const struct zoom_account *u = &accounts[account];
	struct zoom_meeting *m = xcalloc(1, sizeof(*m));
	int64_t now = sb_now_s(sb);
	bool unique;

	do { /* 11-digit meeting numbers, above 2^32 like Zoom's (ZE-18) */
		m->id = INT64_C(80000000000) + (int64_t)(sb_random(sb) % UINT64_C(19999999999));
		unique = true;
		for (struct zoom_meeting *o = z->meetings; o; o = o->next)
			unique = unique && o->id != m->id;
	} while (!unique);
	m->account = account;
	m->zak = xstrdup(sb_random_string(sb, ar, B64URL, 32));
	m->obj = json_pack(
	    "{s:s, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b, "
	    "s:s, s:o}",
	    "uuid", arena_printf(ar, "%s==", sb_random_string(sb, ar, ALNUM "+/", 22)), "id",
	    (json_int_t)m->id, "host_id", u->id, "host_email", u->email, "assistant_id", "",
	    "topic", "Zoom Meeting", "type", 2, "status", "waiting", "start_time",
	    format_time(ar, now), "duration", 60, "timezone", u->timezone, "agenda", "",
	    "created_at", format_time(ar, now), "start_url",
	    arena_printf(ar, "%s/zoom/s/%" PRId64 "?zak=%s", sb->base_url, m->id, m->zak),
	    "pre_schedule", false, "chat_join_url",
	    arena_printf(ar, "%s/zoom/launch/jc/%" PRId64, sb->base_url, m->id), "settings",
	    json_pack("{s:b, s:b, s:b, s:b, s:i, s:b, s:b, s:b, s:i, s:s, s:s, s:b, s:b, s:s, "
	              "s:s, s:b, s:b, s:b}",
	              "host_video", false, "participant_video", false, "cn_meeting", false,
	              "in_meeting", false, "jbh_time", 0, "join_before_host", false,
	              "mute_upon_entry", false, "watermark", false, "approval_type", 2, "audio",
	              "voip", "auto_recording", "none", "use_pmi", false, "waiting_room", false,
	              "alternative_hosts", "", "encryption_type", "enhanced_encryption",
	              "meeting_authentication", false, "email_notification", true,
	              "private_meeting", false));
	json_object_set_new(m->obj, "join_url",
	                    json_sprintf("%s/zoom/j/%" PRId64, sb->base_url, m->id));
	return m;
}

/* Caller holds the lock: the caller's live meeting {meetingId}, or NULL with 404 code 3001 answered
 * (also for another user's meeting: one account never sees another's). */
static struct zoom_meeting *find_meeting(struct http_request *req, struct sb *sb, struct answer *a,
                                         int account)
{
	const char *raw = http_param(req, "meetingId");
	int64_t id = 0;

	if (raw && *raw && strlen(raw) <= 18 && strspn(raw, DIGITS) == strlen(raw))
		id = strtoll(raw, NULL, 10);
	for (struct zoom_meeting *m = sb->zoom->meetings; id && m; m = m->next)
		if (m->id == id && !m->deleted && (account < 0 || m->account == account))
			return m;
	api_error(
	    a, 404, 3001,
	    arena_printf(req->arena, "Meeting %s is not found or has expired.", raw ? raw : ""));
	return NULL;
}

static void meeting_create(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	json_t *body = NULL;
	int account;

	sb_lock(sb);
	struct sb_zoom *z = sb->zoom;
	if (!api_access(req, sb, &a, "meeting:write:meeting", CAT_MEDIUM, true, &account))
		goto unlock;
	if (!user_param_ok(http_param(req, "userId"), account)) {
		api_error(&a, 404, 1001,
		          arena_printf(req->arena, "User does not exist: %s.",
		                       http_param(req, "userId")));
		goto unlock;
	}
	body = meeting_body(req, &a);
	if (!body)
		goto unlock;
	const char *field = meeting_bad_field(req->arena, body, accounts[account].timezone);
	if (field) {
		validation_failed(&a, field);
		goto unlock;
	}
	if (z->n_meetings >= MEETINGS_MAX) {
		api_error(&a, 400, 3161,
		          "Meeting hosting and scheduling capabilities are not "
		          "allowed for your user account.");
		goto unlock;
	}
	struct zoom_meeting *m = meeting_new(sb, req->arena, account);
	const char *pw = json_get_str(body, "password");
	if ((!pw || !*pw) &&
	    (accounts[account].require_passcode || json_get_bool(body, "default_password", false)))
		set_password(sb, req->arena, m, sb_random_string(sb, req->arena, ALNUM, 6));
	meeting_apply(sb, req->arena, m, body);
	m->next = z->meetings;
	z->meetings = m;
	z->n_meetings++;
	z->counters.meetings_created++;
	answer_json(&a, 201, json_deep_copy(m->obj));
unlock:
	sb_unlock(sb);
	json_decref(body);
	answer_send(req, sb, &a);
}

static json_t *meeting_summary(const json_t *o)
{
	json_t *s = json_object();
	static const char *const keys[] = {"uuid",   "id",         "host_id",  "topic",
	                                   "type",   "start_time", "duration", "timezone",
	                                   "agenda", "created_at", "join_url", NULL};

	for (const char *const *k = keys; *k; k++)
		if (json_object_get(o, *k))
			json_object_set(s, *k, json_object_get(o, *k));
	return s;
}

static void meeting_list(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	int account;

	sb_lock(sb);
	if (!api_access(req, sb, &a, "meeting:read:list_meetings", CAT_MEDIUM, false, &account))
		goto unlock;
	if (!user_param_ok(http_param(req, "userId"), account)) {
		api_error(&a, 404, 1001,
		          arena_printf(req->arena, "User does not exist: %s.",
		                       http_param(req, "userId")));
		goto unlock;
	}
	const char *ps = http_query(req, "page_size");
	long page_size = ps ? strtol(ps, NULL, 10) : 30;
	if (page_size < 1 || page_size > 300)
		page_size = 30;
	json_t *list = json_array();
	size_t total = 0;
	for (struct zoom_meeting *m = sb->zoom->meetings; m; m = m->next) {
		if (m->deleted || m->account != account)
			continue;
		total++;
		if (json_array_size(list) < (size_t)page_size)
			json_array_append_new(list, meeting_summary(m->obj));
	}
	answer_json(&a, 200,
	            json_pack("{s:i, s:I, s:s, s:o}", "page_size", (int)page_size, "total_records",
	                      (json_int_t)total, "next_page_token", "", "meetings", list));
unlock:
	sb_unlock(sb);
	answer_send(req, sb, &a);
}

static void meeting_get(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	int account;

	sb_lock(sb);
	if (api_access(req, sb, &a, "meeting:read:meeting", CAT_LIGHT, false, &account)) {
		struct zoom_meeting *m = find_meeting(req, sb, &a, account);
		if (m)
			answer_json(&a, 200, json_deep_copy(m->obj));
	}
	sb_unlock(sb);
	answer_send(req, sb, &a);
}

static void meeting_patch(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	json_t *body = NULL;
	int account;

	sb_lock(sb);
	if (!api_access(req, sb, &a, "meeting:update:meeting", CAT_LIGHT, true, &account))
		goto unlock;
	struct zoom_meeting *m = find_meeting(req, sb, &a, account);
	if (!m)
		goto unlock;
	body = meeting_body(req, &a);
	if (!body)
		goto unlock;
	const char *field = meeting_bad_field(req->arena, body, json_get_str(m->obj, "timezone"));
	if (field) {
		validation_failed(&a, field);
		goto unlock;
	}
	meeting_apply(sb, req->arena, m, body);
	sb->zoom->counters.meetings_updated++;
	a.status = 204;
unlock:
	sb_unlock(sb);
	json_decref(body);
	answer_send(req, sb, &a);
}

static void meeting_delete(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	int account;

	sb_lock(sb);
	if (api_access(req, sb, &a, "meeting:delete:meeting", CAT_LIGHT, false, &account)) {
		struct zoom_meeting *m = find_meeting(req, sb, &a, account);
		if (m && str_eq(json_get_str(m->obj, "status"), "started")) {
			api_error(&a, 400, 3002,
			          "Sorry, you cannot delete this meeting since it is in progress.");
		} else if (m) {
			m->deleted = true;
			json_object_set_new(m->obj, "status", json_string("deleted"));
			sb->zoom->counters.meetings_deleted++;
			a.status = 204;
		}
	}
	sb_unlock(sb);
	answer_send(req, sb, &a);
}

static void api_unknown(struct http_request *req)
{
	struct answer a = {0};

	api_error(&a, 404, 404, "This API endpoint is not recognized.");
	answer_send(req, req->app, &a);
}

/* --- the pages join and start links open --- */

static struct zoom_meeting *meeting_by_raw_id(struct sb *sb, const char *raw)
{
	int64_t id = 0;

	if (raw && *raw && strlen(raw) <= 18 && strspn(raw, DIGITS) == strlen(raw))
		id = strtoll(raw, NULL, 10);
	for (struct zoom_meeting *m = sb->zoom->meetings; id && m; m = m->next)
		if (m->id == id && !m->deleted)
			return m;
	return NULL;
}

static void join_page(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;
	const char *raw = http_param(req, "meetingId");
	const char *pwd = http_query(req, "pwd");

	sb_lock(sb);
	struct zoom_meeting *m = meeting_by_raw_id(sb, raw);
	if (!m) {
		answer_page(req, &a, 404, "Zoom", "This meeting ID is not valid or has expired.");
		goto unlock;
	}
	const char *pw = json_get_str(m->obj, "password");
	const char *enc = json_get_str(m->obj, "encrypted_password");
	if (pw && (!pwd || !*pwd)) {
		answer_page(req, &a, 403, "Zoom", "This meeting requires a passcode.");
	} else if (pw && !str_eq(pwd, enc) && !str_eq(pwd, pw)) {
		answer_page(req, &a, 403, "Zoom", "The meeting passcode is wrong.");
	} else {
		answer_page(
		    req, &a, 200, "Zoom",
		    arena_printf(req->arena, "You joined the Zoom meeting %" PRId64 ".", m->id));
	}
unlock:
	sb_unlock(sb);
	answer_send(req, sb, &a);
}

static void start_page(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;

	sb_lock(sb);
	struct zoom_meeting *m = meeting_by_raw_id(sb, http_param(req, "meetingId"));
	if (!m || !str_eq(http_query(req, "zak"), m->zak)) {
		answer_page(req, &a, 404, "Zoom", "This start link is not valid or has expired.");
	} else {
		json_object_set_new(m->obj, "status", json_string("started"));
		answer_page(
		    req, &a, 200, "Zoom",
		    arena_printf(req->arena, "You started the Zoom meeting %" PRId64 ".", m->id));
	}
	sb_unlock(sb);
	answer_send(req, sb, &a);
}

/* --- control endpoints under /_sandbox/zoom/ --- */

static void control_error(struct http_request *req, int status, const char *message)
{
	http_reply_error(req, status, "invalid_request", message, NULL);
}

static json_t *settings_json(struct sb *sb)
{
	struct sb_zoom *z = sb->zoom;
	static const char *const validation[] = {"none", "pending", "valid", "invalid"};

	return json_pack("{s:s, s:I, s:i, s:i, s:i, s:b, s:o, s:s}", "restricted_mode",
	                 z->restricted_page ? "page" : "redirect", "refresh_token_ttl_s",
	                 (json_int_t)z->refresh_ttl_s, "daily_limit", z->daily_limit, "qps_light",
	                 z->qps[CAT_LIGHT], "qps_medium", z->qps[CAT_MEDIUM], "rate_headers",
	                 z->rate_headers, "webhook_url",
	                 sb->zoom_webhook_url ? json_string(sb->zoom_webhook_url) : json_null(),
	                 "webhook_validation", validation[z->webhook]);
}

static void settings_post(struct http_request *req)
{
	static const struct json_field fields[] = {
	    {"restricted_mode", JK_STRING, false, 16},
	    {"refresh_token_ttl_s", JK_INT, false, 0},
	    {"daily_limit", JK_INT, false, 0},
	    {"qps_light", JK_INT, false, 0},
	    {"qps_medium", JK_INT, false, 0},
	    {"rate_headers", JK_BOOL, false, 0},
	    {"webhook_url", JK_STRING_OR_NULL, false, 2048},
	    {NULL, 0, false, 0},
	};
	struct sb *sb = req->app;
	json_t *doc = http_body_json(req);
	char err[256];
	bool revalidate = false;

	if (!doc)
		return;
	if (json_check_object(doc, fields, err, sizeof(err)) != CX_OK) {
		control_error(req, 400, err);
		goto out;
	}
	const char *mode = json_get_str(doc, "restricted_mode");
	if (mode && !str_eq(mode, "page") && !str_eq(mode, "redirect")) {
		control_error(req, 400, "field 'restricted_mode' must be \"page\" or \"redirect\"");
		goto out;
	}
	long long ttl = json_get_int(doc, "refresh_token_ttl_s", 1);
	long long daily = json_get_int(doc, "daily_limit", 0);
	long long light = json_get_int(doc, "qps_light", 1);
	long long medium = json_get_int(doc, "qps_medium", 1);
	if (ttl < 1 || ttl > 100LL * 365 * 86400 || daily < 0 || daily > 1000000 || light < 1 ||
	    light > 1000000 || medium < 1 || medium > 1000000) {
		control_error(req, 400, "a limit is out of range");
		goto out;
	}
	json_t *url = json_object_get(doc, "webhook_url");
	if (json_is_string(url) && strncmp(json_string_value(url), "http://", 7) != 0 &&
	    strncmp(json_string_value(url), "https://", 8) != 0) {
		control_error(req, 400, "field 'webhook_url' must be an http(s) URL");
		goto out;
	}

	sb_lock(sb);
	struct sb_zoom *z = sb->zoom;
	if (mode)
		z->restricted_page = str_eq(mode, "page");
	if (json_object_get(doc, "refresh_token_ttl_s"))
		z->refresh_ttl_s = ttl;
	if (json_object_get(doc, "daily_limit"))
		z->daily_limit = (int)daily;
	if (json_object_get(doc, "qps_light"))
		z->qps[CAT_LIGHT] = (int)light;
	if (json_object_get(doc, "qps_medium"))
		z->qps[CAT_MEDIUM] = (int)medium;
	if (json_object_get(doc, "rate_headers"))
		z->rate_headers = json_get_bool(doc, "rate_headers", true);
	if (url) {
		free(sb->zoom_webhook_url);
		sb->zoom_webhook_url = json_is_string(url) ? xstrdup(json_string_value(url)) : NULL;
		z->webhook = WEBHOOK_NONE;
		revalidate = sb->zoom_webhook_url != NULL;
	}
	json_t *state = settings_json(sb);
	sb_unlock(sb);
	if (revalidate)
		validate_webhook_url(sb);
	http_reply_json(req, 200, state);
out:
	json_decref(doc);
}

static void settings_get(struct http_request *req)
{
	struct sb *sb = req->app;

	sb_lock(sb);
	json_t *state = settings_json(sb);
	sb_unlock(sb);
	http_reply_json(req, 200, state);
}

/* The user removes Calendox in Zoom's marketplace (ZE-31). */
static void uninstall_post(struct http_request *req)
{
	struct sb *sb = req->app;
	json_t *doc = http_body_json(req);
	char *event = NULL;

	if (!doc)
		return;
	int account = account_by_email(json_get_str(doc, "email"));
	if (!json_is_object(doc) || json_object_size(doc) != 1 || account < 0) {
		control_error(req, 400, "expected {\"email\":…} naming a seeded Zoom account");
		goto out;
	}
	sb_lock(sb);
	int removed = drop_grants(sb->zoom, account);
	if (removed > 0)
		event = deauthorized_event(sb, account);
	sb_unlock(sb);
	if (!event) {
		control_error(req, 409, "Calendox is not installed for that account");
		goto out;
	}
	send_webhook(sb, event);
	http_reply_json(req, 200,
	                json_pack("{s:b, s:i}", "uninstalled", true, "grants_removed", removed));
out:
	json_decref(doc);
}

static char *meeting_event(struct sb *sb, const char *name, const struct zoom_meeting *m,
                           json_t *object_take, json_t *old_take)
{
	const struct zoom_account *u = &accounts[m->account];
	json_t *payload = json_pack("{s:s, s:s, s:s, s:o}", "account_id", u->account_id, "operator",
	                            u->email, "operator_id", u->id, "object", object_take);

	if (old_take)
		json_object_set_new(payload, "old_object", old_take);
	json_t *ev = json_pack("{s:s, s:I, s:o}", "event", name, "event_ts",
	                       (json_int_t)sb_now_ms(sb), "payload", payload);
	char *body = json_dump_compact(ev);
	json_decref(ev);
	return body;
}

/* The host deletes the meeting in Zoom itself: Calendox hears of it by meeting.deleted (ZE-32). */
static void external_delete(struct http_request *req)
{
	struct answer a = {0};
	struct sb *sb = req->app;

	sb_lock(sb);
	struct zoom_meeting *m = find_meeting(req, sb, &a, -1);
	if (m) {
		m->deleted = true;
		json_object_set_new(m->obj, "status", json_string("deleted"));
		sb->zoom->counters.meetings_deleted++;
		json_t *obj = meeting_summary(m->obj);
		a.webhook = meeting_event(sb, "meeting.deleted", m, obj, NULL);
		answer_json(&a, 200, json_pack("{s:b}", "deleted", true));
	}
	sb_unlock(sb);
	answer_send(req, sb, &a);
}

/* The host edits the meeting in Zoom: meeting.updated carries the new values in object and the
 * previous ones in old_object (ZE-32). */
static void external_update(struct http_request *req)
{
	static const char *const keys[] = {"topic",  "start_time", "duration", "timezone",
	                                   "agenda", "type",       NULL};
	struct answer a = {0};
	struct sb *sb = req->app;
	json_t *doc = http_body_json(req);

	if (!doc)
		return;
	sb_lock(sb);
	struct zoom_meeting *m = find_meeting(req, sb, &a, -1);
	if (!m)
		goto unlock;
	const char *field = meeting_bad_field(req->arena, doc, json_get_str(m->obj, "timezone"));
	if (field) {
		validation_failed(&a, field);
		goto unlock;
	}
	json_t *obj = json_pack("{s:I, s:O, s:O}", "id", (json_int_t)m->id, "uuid",
	                        json_object_get(m->obj, "uuid"), "host_id",
	                        json_object_get(m->obj, "host_id"));
	json_t *old = json_deep_copy(obj);
	for (const char *const *k = keys; *k; k++)
		if (json_object_get(doc, *k) && json_object_get(m->obj, *k))
			json_object_set(old, *k, json_object_get(m->obj, *k));
	meeting_apply(sb, req->arena, m, doc);
	for (const char *const *k = keys; *k; k++)
		if (json_object_get(doc, *k) && json_object_get(m->obj, *k))
			json_object_set(obj, *k, json_object_get(m->obj, *k));
	sb->zoom->counters.meetings_updated++;
	a.webhook = meeting_event(sb, "meeting.updated", m, obj, old);
	answer_json(&a, 200, json_deep_copy(m->obj));
unlock:
	sb_unlock(sb);
	json_decref(doc);
	answer_send(req, sb, &a);
}

/* --- the provider --- */

static void settings_defaults(struct sb_zoom *z)
{
	z->restricted_page = false;
	z->refresh_ttl_s = DEFAULT_REFRESH_TTL_S;
	z->daily_limit = 100;
	z->qps[CAT_LIGHT] = 30;
	z->qps[CAT_MEDIUM] = 20;
	z->rate_headers = true;
}

static void clear_state(struct sb_zoom *z)
{
	while (z->codes) {
		struct zoom_code *c = z->codes;
		z->codes = c->next;
		code_free(c);
	}
	while (z->grants) {
		struct zoom_grant *g = z->grants;
		z->grants = g->next;
		grant_free(g);
	}
	while (z->meetings) {
		struct zoom_meeting *m = z->meetings;
		z->meetings = m->next;
		meeting_free(m);
	}
	z->n_codes = z->n_grants = z->n_meetings = 0;
	memset(&z->counters, 0, sizeof(z->counters));
	memset(z->qps_second, 0, sizeof(z->qps_second));
	memset(z->qps_count, 0, sizeof(z->qps_count));
	memset(z->daily_day, 0, sizeof(z->daily_day));
	memset(z->daily_count, 0, sizeof(z->daily_count));
}

static void zoom_init(struct sb *sb)
{
	struct sb_zoom *z = xcalloc(1, sizeof(*z));

	settings_defaults(z);
	sb_lock(sb);
	sb->zoom = z;
	sb_unlock(sb);
	validate_webhook_url(sb);
}

static void zoom_reset(struct sb *sb)
{
	clear_state(sb->zoom);
	settings_defaults(sb->zoom);
}

static json_t *zoom_state(struct sb *sb)
{
	struct sb_zoom *z = sb->zoom;
	json_t *acc = json_array(), *grants = json_array(), *meetings = json_array();
	char when[40];
	int64_t now = sb_now_s(sb);

	for (int i = 0; i < N_ACCOUNTS; i++)
		json_array_append_new(
		    acc, json_pack("{s:s, s:s, s:s, s:i, s:s, s:b}", "email", accounts[i].email,
		                   "id", accounts[i].id, "account_id", accounts[i].account_id,
		                   "type", accounts[i].type, "timezone", accounts[i].timezone,
		                   "restricted", accounts[i].restricted));
	for (struct zoom_grant *g = z->grants; g; g = g->next) {
		bool access_live = g->access_expires_s > now;
		bool refresh_live = !g->refresh_used && g->refresh_expires_s > now;
		if (!access_live && !refresh_live)
			continue;
		time_format_rfc3339(g->access_expires_s, 0, when, sizeof(when));
		json_array_append_new(grants,
		                      json_pack("{s:s, s:s, s:s, s:s%, s:s%, s:s, s:b, s:b}",
		                                "email", accounts[g->account].email, "user_id",
		                                accounts[g->account].id, "scope", g->scope,
		                                "access_token_prefix", g->access_token, (size_t)8,
		                                "refresh_token_prefix", g->refresh_token, (size_t)8,
		                                "access_expires_at", when, "access_live",
		                                access_live, "refresh_live", refresh_live));
	}
	for (struct zoom_meeting *m = z->meetings; m; m = m->next)
		json_array_append(meetings, m->obj);
	struct zoom_counters *c = &z->counters;
	json_t *counters = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "codes_issued",
	    (json_int_t)c->codes_issued, "authorizations_denied",
	    (json_int_t)c->authorizations_denied, "tokens_issued", (json_int_t)c->tokens_issued,
	    "token_refreshes", (json_int_t)c->token_refreshes, "tokens_revoked",
	    (json_int_t)c->tokens_revoked, "meetings_created", (json_int_t)c->meetings_created,
	    "meetings_updated", (json_int_t)c->meetings_updated, "meetings_deleted",
	    (json_int_t)c->meetings_deleted, "webhooks_sent", (json_int_t)c->webhooks_sent,
	    "rate_limited", (json_int_t)c->rate_limited);
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "accounts", acc, "grants", grants, "meetings",
	                 meetings, "counters", counters, "settings", settings_json(sb));
}

static void zoom_free(struct sb *sb)
{
	if (!sb->zoom)
		return;
	clear_state(sb->zoom);
	free(sb->zoom);
	sb->zoom = NULL;
}

static const struct http_route zoom_routes[] = {
    {"GET", "/zoom/oauth/authorize", authorize_get},
    {"POST", "/zoom/oauth/authorize/decision", authorize_decision},
    {"POST", "/zoom/oauth/token", token_post},
    {"POST", "/zoom/oauth/revoke", revoke_post},
    {"GET", "/zoom/v2/users/{userId}", user_get},
    {"POST", "/zoom/v2/users/{userId}/meetings", meeting_create},
    {"GET", "/zoom/v2/users/{userId}/meetings", meeting_list},
    {"GET", "/zoom/v2/meetings/{meetingId}", meeting_get},
    {"PATCH", "/zoom/v2/meetings/{meetingId}", meeting_patch},
    {"DELETE", "/zoom/v2/meetings/{meetingId}", meeting_delete},
    {"GET", "/zoom/j/{meetingId}", join_page},
    {"GET", "/zoom/s/{meetingId}", start_page},
    {"GET", "/_sandbox/zoom/settings", settings_get},
    {"POST", "/_sandbox/zoom/settings", settings_post},
    {"POST", "/_sandbox/zoom/uninstall", uninstall_post},
    {"POST", "/_sandbox/zoom/meetings/{meetingId}/delete", external_delete},
    {"POST", "/_sandbox/zoom/meetings/{meetingId}/update", external_update},
    /* Anything else under /v2 is answered as Zoom answers an unknown endpoint (ZE-25). */
    {"GET", "/zoom/v2/{a}", api_unknown},
    {"GET", "/zoom/v2/{a}/{b}", api_unknown},
    {"GET", "/zoom/v2/{a}/{b}/{c}", api_unknown},
    {"GET", "/zoom/v2/{a}/{b}/{c}/{d}", api_unknown},
    {"POST", "/zoom/v2/{a}", api_unknown},
    {"POST", "/zoom/v2/{a}/{b}", api_unknown},
    {"POST", "/zoom/v2/{a}/{b}/{c}", api_unknown},
    {"POST", "/zoom/v2/{a}/{b}/{c}/{d}", api_unknown},
};

const struct sb_provider sb_zoom_provider = {
    .name = "zoom",
    .routes = zoom_routes,
    .n_routes = sizeof(zoom_routes) / sizeof(zoom_routes[0]),
    .init = zoom_init,
    .reset = zoom_reset,
    .state = zoom_state,
    .free = zoom_free,
};

/* oauth_page.c: the sign-in and consent page the three emulated authorize endpoints share, and the
 * small OAuth checks they all need (redirect URIs, PKCE, client and bearer credentials). */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "sb.h"
#include "base/banned.h"

#define PAGE_MAX (256 * 1024)
#define QUERY_PARAMS_MAX 64

static void html_escape(struct buf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			(void)buf_puts(out, "&amp;");
			break;
		case '<':
			(void)buf_puts(out, "&lt;");
			break;
		case '>':
			(void)buf_puts(out, "&gt;");
			break;
		case '"':
			(void)buf_puts(out, "&quot;");
			break;
		case '\'':
			(void)buf_puts(out, "&#39;");
			break;
		default:
			(void)buf_append(out, s, 1);
		}
	}
}

static const char *scope_description(const char *scope, const struct sb_scope_text *texts,
                                     size_t n_texts)
{
	for (size_t i = 0; i < n_texts; i++)
		if (strcmp(texts[i].scope, scope) == 0)
			return texts[i].description;
	return NULL;
}

/* The original query parameters become hidden fields so that the decision POST carries everything
 * the authorize GET got (redirect_uri, state, PKCE challenge, scopes…) without server-side state. A
 * parameter named user or decision would clash with the form's own fields and is left out. */
static void hidden_fields(struct buf *out, struct http_request *req)
{
	const char *q = sb_request_query(req);
	size_t n = 0;

	while (*q && n < QUERY_PARAMS_MAX) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		char *name = http_url_decode(req->arena, q, klen, true);
		char *value = eq ? http_url_decode(req->arena, eq + 1, len - klen - 1, true) : "";

		if (name && value && *name && strcmp(name, "user") != 0 &&
		    strcmp(name, "decision") != 0) {
			(void)buf_puts(out, "<input type=\"hidden\" name=\"");
			html_escape(out, name);
			(void)buf_puts(out, "\" value=\"");
			html_escape(out, value);
			(void)buf_puts(out, "\">\n");
			n++;
		}
		q += len;
		if (*q == '&')
			q++;
	}
}

void sb_authorize_page(struct http_request *req, const char *provider_title,
                       const char *const *emails, size_t n_emails, const char *requested_scopes,
                       const struct sb_scope_text *texts, size_t n_texts, const char *decision_path)
{
	struct buf page;

	buf_init(&page, PAGE_MAX);
	(void)buf_puts(&page,
	               "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	               "<title>Sign in to ");
	html_escape(&page, provider_title);
	(void)buf_puts(&page, "</title>\n</head>\n<body>\n<main>\n<h1>Sign in to ");
	html_escape(&page, provider_title);
	(void)buf_puts(&page, "</h1>\n<form method=\"post\" action=\"");
	html_escape(&page, decision_path);
	(void)buf_puts(&page, "\" enctype=\"application/x-www-form-urlencoded\">\n");
	hidden_fields(&page, req);

	(void)buf_puts(&page, "<p><label for=\"user\">Account</label>\n"
	                      "<select id=\"user\" name=\"user\">\n");
	for (size_t i = 0; i < n_emails; i++) {
		(void)buf_puts(&page, "<option value=\"");
		html_escape(&page, emails[i]);
		(void)buf_puts(&page, i == 0 ? "\" selected>" : "\">");
		html_escape(&page, emails[i]);
		(void)buf_puts(&page, "</option>\n");
	}
	(void)buf_puts(&page, "</select></p>\n<h2>Calendox would like to:</h2>\n<ul>\n");

	const char *s = requested_scopes ? requested_scopes : "";
	while (*s) {
		s += strspn(s, " \t\r\n+");
		size_t len = strcspn(s, " \t\r\n+");
		if (len == 0)
			break;
		char *scope = arena_strndup(req->arena, s, len);
		const char *text = scope_description(scope, texts, n_texts);
		(void)buf_puts(&page, "<li><code>");
		html_escape(&page, scope);
		(void)buf_puts(&page, "</code>");
		if (text) {
			(void)buf_puts(&page, ": ");
			html_escape(&page, text);
		}
		(void)buf_puts(&page, "</li>\n");
		s += len;
	}
	(void)buf_puts(
	    &page, "</ul>\n"
	           "<p><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\n"
	           "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p>\n"
	           "</form>\n</main>\n</body>\n</html>\n");
	http_add_header(req, "Cache-Control", "no-store");
	/* The decision form posts here and is answered with a redirect to the app's callback;
	 * browsers apply form-action to that redirect too, so the server's default "form-action
	 * 'self'" would strand the person on this page. The registered redirect URIs are loopback
	 * only (sb_redirect_uri_ok); Chromium refuses "[::1]" as a source, so it is not listed. */
	http_add_header(req, "Content-Security-Policy",
			"default-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
			"form-action 'self' http://127.0.0.1:* http://localhost:*");
	http_reply(req, 200, "text/html; charset=utf-8", page.data ? page.data : "", page.len);
	buf_release(&page);
}

static bool loopback_host(const char *host, size_t len)
{
	static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strlen(hosts[i]) == len && strncasecmp(host, hosts[i], len) == 0)
			return true;
	return false;
}

bool sb_redirect_uri_ok(const char *redirect_uri, const char *provider)
{
	const char *p = redirect_uri;

	if (!p || !provider || strncasecmp(p, "http://", 7) != 0)
		return false;
	p += 7;
	size_t host_len = p[0] == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/?#");
	if (!loopback_host(p, host_len))
		return false;
	p += host_len;
	if (*p == ':') {
		size_t digits = 0;
		long port = 0;
		for (p++; isdigit((unsigned char)*p) && digits < 6; p++, digits++)
			port = port * 10 + (*p - '0');
		if (digits == 0 || port < 1 || port > 65535)
			return false;
	}
	char *want = xasprintf("/oauth/%s/callback", provider);
	bool ok = strcmp(p, want) == 0;
	free(want);
	return ok;
}

bool sb_pkce_ok(const char *challenge, const char *method, const char *verifier)
{
	if (!challenge || !verifier || !*challenge || !*verifier)
		return false;
	if (!method || !*method || strcmp(method, "plain") == 0)
		return sec_str_equal(challenge, verifier);
	if (strcmp(method, "S256") != 0)
		return false;

	uint8_t digest[32];
	sec_sha256(verifier, strlen(verifier), digest);
	char *expect = sec_base64url_encode(digest, sizeof(digest));
	bool ok = sec_str_equal(challenge, expect);
	free(expect);
	return ok;
}

/* "Scheme value" with a case-insensitive scheme; returns the value without surrounding blanks. */
static const char *auth_value(struct http_request *req, const char *scheme)
{
	const char *h = http_header(req, "Authorization");
	size_t n = strlen(scheme);

	if (!h || strncasecmp(h, scheme, n) != 0 || (h[n] != ' ' && h[n] != '\t'))
		return NULL;
	h += n;
	h += strspn(h, " \t");
	size_t len = strlen(h);
	while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	if (len == 0)
		return NULL;
	return arena_strndup(req->arena, h, len);
}

bool sb_basic_auth(struct http_request *req, const char **user, const char **password)
{
	const char *v = auth_value(req, "Basic");
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	bool ok = false;

	if (!v || sec_base64_decode(v, &raw, &raw_len) != CX_OK)
		goto out;
	if (memchr(raw, '\0', raw_len))
		goto out;
	char *colon = memchr(raw, ':', raw_len);
	if (!colon)
		goto out;
	*user = arena_strndup(req->arena, (const char *)raw, (size_t)(colon - (char *)raw));
	*password =
	    arena_strndup(req->arena, colon + 1, raw_len - (size_t)(colon - (char *)raw) - 1);
	ok = true;
out:
	free(raw);
	return ok;
}

const char *sb_bearer(struct http_request *req)
{
	return auth_value(req, "Bearer");
}

/* Tests for egress/oauth (and the base/form encoder it uses): PKCE, the authorize URL, the exact
 * token/refresh/revoke requests for HTTP Basic and in-body client authentication, and the parser
 * and classifier over good, missing, wrong-type, huge, XML and HTML answers. The live round trip
 * against the sandbox is in test_zoom.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/form.h"
#include "egress/oauth.h"
#include "base/banned.h"

static struct provider_config zoom_pc = {
    .client_id = "sandbox-zoom-client",
    .client_secret = "sandbox-secret",
    .scopes = "meeting:write:meeting user:read:user",
    .auth_url = "https://zoom.us/oauth/authorize",
    .token_url = "https://zoom.us/oauth/token",
    .revoke_url = "https://zoom.us/oauth/revoke",
    .api_url = "https://api.zoom.us/v2",
};

static struct provider_config google_pc = {
    .client_id = "gid.apps",
    .client_secret = "g secret&=",
    .scopes = "https://www.googleapis.com/auth/calendar",
    .auth_url = "https://accounts.google.com/o/oauth2/v2/auth",
    .token_url = "https://oauth2.googleapis.com/token",
    .revoke_url = "https://oauth2.googleapis.com/revoke",
};

/* A response as egress would hand it over; strings are borrowed, nothing is freed. */
static struct egress_response resp_of(long status, const char *body)
{
	struct egress_response r;
	memset(&r, 0, sizeof(r));
	r.err = CX_OK;
	r.sent = true;
	r.status = status;
	r.body = (char *)body;
	r.body_len = strlen(body);
	return r;
}

static const char *header_of(const struct egress_request *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->n_headers; i++)
		if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
			return r->headers[i] + n + 2;
	return NULL;
}

static void test_form_encoding(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(form_add(&b, "a b", "x+y&z=é~-._"), CX_OK);
	assert_int_equal(form_add(&b, "skip", NULL), CX_OK);
	assert_int_equal(form_add(&b, "k", ""), CX_OK);
	assert_string_equal(b.data, "a%20b=x%2By%26z%3D%C3%A9~-._&k=");
	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "https://h/p?"), CX_OK);
	assert_int_equal(form_add(&b, "q", "1"), CX_OK);
	assert_int_equal(form_add(&b, "r", "/"), CX_OK);
	assert_string_equal(b.data, "https://h/p?q=1&r=%2F");
	buf_release(&b);
	buf_init(&b, 8);
	assert_int_equal(form_add(&b, "name", "toolongvalue"), CX_ETOOBIG);
	buf_release(&b);
}

static void test_pkce(void **state)
{
	(void)state;
	char challenge[OAUTH_CHALLENGE_LEN + 1];
	/* Checked independently with Python's hashlib and base64.urlsafe_b64encode. */
	oauth_pkce_challenge("calendox-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz_ABCDE",
	                     challenge);
	assert_string_equal(challenge, "mxR6_a1cAdT1p6GvV9BHNYy28oLJo0wFXNxzWSBeybM");

	struct oauth_pkce a, b;
	oauth_pkce_new(&a);
	oauth_pkce_new(&b);
	assert_int_equal(strlen(a.verifier), OAUTH_VERIFIER_LEN);
	assert_int_equal(strspn(a.verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                    "0123456789-_"),
	                 OAUTH_VERIFIER_LEN);
	assert_int_equal(strlen(a.challenge), OAUTH_CHALLENGE_LEN);
	assert_string_not_equal(a.verifier, b.verifier);
	oauth_pkce_challenge(a.verifier, challenge);
	assert_string_equal(challenge, a.challenge);
}

static void test_authorize_url(void **state)
{
	(void)state;
	char *url = NULL;
	assert_int_equal(oauth_authorize_url(&zoom_pc, "http://127.0.0.1:8080/oauth/zoom/callback",
	                                     "st4te", "CHALLENGE", NULL, &url),
	                 CX_OK);
	assert_string_equal(url,
	                    "https://zoom.us/oauth/authorize?response_type=code"
	                    "&client_id=sandbox-zoom-client"
	                    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fzoom%2Fcallback"
	                    "&state=st4te&code_challenge=CHALLENGE&code_challenge_method=S256"
	                    "&scope=meeting%3Awrite%3Ameeting%20user%3Aread%3Auser");
	free(url);

	const struct oauth_param google_extras[] = {{"access_type", "offline"},
	                                            {"prompt", "consent"},
	                                            {"include_granted_scopes", "true"},
	                                            {NULL, NULL}};
	assert_int_equal(
	    oauth_authorize_url(&google_pc, "http://localhost/cb", "s", "c", google_extras, &url),
	    CX_OK);
	assert_non_null(strstr(url, "https://accounts.google.com/o/oauth2/v2/auth?response_type="));
	assert_non_null(strstr(url, "&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcalendar"
	                            "&access_type=offline&prompt=consent"
	                            "&include_granted_scopes=true"));
	free(url);

	/* No scopes configured: no scope parameter; an auth URL with a query keeps it. */
	struct provider_config pc = zoom_pc;
	pc.scopes = "";
	pc.auth_url = "http://127.0.0.1:9/zoom/oauth/authorize?tenant=x";
	const struct oauth_param ms[] = {{"response_mode", "query"}, {NULL, NULL}};
	assert_int_equal(oauth_authorize_url(&pc, "http://localhost/cb", "s", "c", ms, &url),
	                 CX_OK);
	assert_null(strstr(url, "scope="));
	assert_non_null(strstr(url, "/authorize?tenant=x&response_type=code&"));
	assert_non_null(strstr(url, "&code_challenge_method=S256&response_mode=query"));
	free(url);

	pc.client_id = NULL;
	url = (char *)1;
	assert_int_equal(oauth_authorize_url(&pc, "http://localhost/cb", "s", "c", NULL, &url),
	                 CX_EINVAL);
	assert_null(url);
	assert_int_equal(oauth_authorize_url(&zoom_pc, "http://localhost/cb", "", "c", NULL, &url),
	                 CX_EINVAL);
}

static void test_code_request_basic(void **state)
{
	(void)state;
	struct egress_request *r = NULL;
	assert_int_equal(oauth_code_request(&zoom_pc, OAUTH_AUTH_BASIC, "c0de/+",
	                                    "http://127.0.0.1:8080/oauth/zoom/callback", "v-e_r",
	                                    NULL, &r),
	                 CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, "https://zoom.us/oauth/token");
	assert_string_equal(header_of(r, "Authorization"),
	                    "Basic c2FuZGJveC16b29tLWNsaWVudDpzYW5kYm94LXNlY3JldA==");
	assert_string_equal(header_of(r, "Content-Type"), "application/x-www-form-urlencoded");
	assert_string_equal(header_of(r, "Accept"), "application/json");
	assert_string_equal(r->body, "grant_type=authorization_code&code=c0de%2F%2B"
	                             "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fzoom"
	                             "%2Fcallback&code_verifier=v-e_r");
	assert_int_equal(r->body_len, strlen(r->body));
	assert_false(r->refused);
	egress_request_free(r);
}

static void test_code_request_body_auth(void **state)
{
	(void)state;
	struct egress_request *r = NULL;
	assert_int_equal(
	    oauth_code_request(&google_pc, OAUTH_AUTH_BODY, "abc", "http://l/cb", NULL, NULL, &r),
	    CX_OK);
	assert_null(header_of(r, "Authorization"));
	assert_string_equal(r->url, "https://oauth2.googleapis.com/token");
	assert_string_equal(r->body,
	                    "grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F"
	                    "%2Fl%2Fcb&client_id=gid.apps&client_secret=g%20secret%26%3D");
	egress_request_free(r);

	r = (struct egress_request *)1;
	assert_int_equal(
	    oauth_code_request(&google_pc, OAUTH_AUTH_BODY, "", "http://l/cb", NULL, NULL, &r),
	    CX_EINVAL);
	assert_null(r);
	struct provider_config pc = zoom_pc;
	pc.client_secret = NULL;
	assert_int_equal(
	    oauth_code_request(&pc, OAUTH_AUTH_BASIC, "abc", "http://l/cb", NULL, NULL, &r),
	    CX_EINVAL);
	assert_null(r);
}

static void test_refresh_and_revoke_requests(void **state)
{
	(void)state;
	struct egress_request *r = NULL;
	assert_int_equal(oauth_refresh_request(&zoom_pc, OAUTH_AUTH_BASIC, "rt.1", NULL, &r),
	                 CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, "https://zoom.us/oauth/token");
	assert_string_equal(r->body, "grant_type=refresh_token&refresh_token=rt.1");
	assert_non_null(header_of(r, "Authorization"));
	egress_request_free(r);

	const struct oauth_param scope[] = {{"scope", "offline_access Calendars.ReadWrite"},
	                                    {NULL, NULL}};
	assert_int_equal(oauth_refresh_request(&google_pc, OAUTH_AUTH_BODY, "rt", scope, &r),
	                 CX_OK);
	assert_string_equal(r->body, "grant_type=refresh_token&refresh_token=rt&client_id=gid.apps"
	                             "&client_secret=g%20secret%26%3D"
	                             "&scope=offline_access%20Calendars.ReadWrite");
	egress_request_free(r);

	assert_int_equal(oauth_revoke_request(&zoom_pc, OAUTH_AUTH_BASIC, "at", NULL, &r), CX_OK);
	assert_string_equal(r->url, "https://zoom.us/oauth/revoke");
	assert_string_equal(r->body, "token=at");
	assert_string_equal(header_of(r, "Authorization"),
	                    "Basic c2FuZGJveC16b29tLWNsaWVudDpzYW5kYm94LXNlY3JldA==");
	egress_request_free(r);

	assert_int_equal(oauth_revoke_request(&google_pc, OAUTH_AUTH_NONE, "at", NULL, &r), CX_OK);
	assert_string_equal(r->body, "token=at");
	assert_null(header_of(r, "Authorization"));
	egress_request_free(r);

	struct provider_config ms = google_pc;
	ms.revoke_url = NULL;
	assert_int_equal(oauth_revoke_request(&ms, OAUTH_AUTH_BODY, "at", NULL, &r), CX_ENOTFOUND);
	assert_null(r);
	assert_int_equal(oauth_refresh_request(&zoom_pc, OAUTH_AUTH_BASIC, NULL, NULL, &r),
	                 CX_EINVAL);
}

static void test_parse_tokens_good(void **state)
{
	(void)state;
	struct oauth_tokens t;
	struct oauth_error e;
	struct egress_response r = resp_of(
	    200,
	    "{\"access_token\":\"eyJ.a\",\"token_type\":\"bearer\",\"refresh_token\":\"eyJ.r\","
	    "\"expires_in\":3599,\"scope\":\"user:read:user meeting:write:meeting\","
	    "\"api_url\":\"https://api.zoom.us\"}");
	assert_int_equal(oauth_parse_tokens(&r, 1000, "old", &t, &e), CX_OK);
	assert_string_equal(t.access_token, "eyJ.a");
	assert_string_equal(t.refresh_token, "eyJ.r");
	assert_true(t.refresh_rotated);
	assert_int_equal(t.expires_at, 1000 + 3599);
	assert_string_equal(t.scope, "user:read:user meeting:write:meeting");
	assert_string_equal(t.token_type, "bearer");
	oauth_tokens_release(&t);
	assert_null(t.access_token);

	/* No refresh token (Google refresh): keep the old one; no expires_in: one hour. */
	r = resp_of(200, "{\"access_token\":\"a2\",\"token_type\":\"Bearer\"}");
	assert_int_equal(oauth_parse_tokens(&r, 50, "old-rt", &t, NULL), CX_OK);
	assert_string_equal(t.refresh_token, "old-rt");
	assert_false(t.refresh_rotated);
	assert_int_equal(t.expires_at, 50 + OAUTH_DEFAULT_EXPIRES_IN);
	assert_null(t.scope);
	oauth_tokens_release(&t);

	/* expires_in as a string (Microsoft v1), negative, absurd; unknown fields ignored. */
	r = resp_of(200, "{\"access_token\":\"a\",\"expires_in\":\"120\",\"id_token\":{}}");
	assert_int_equal(oauth_parse_tokens(&r, 0, NULL, &t, NULL), CX_OK);
	assert_int_equal(t.expires_at, 120);
	assert_null(t.refresh_token);
	oauth_tokens_release(&t);
	r = resp_of(200, "{\"access_token\":\"a\",\"expires_in\":-5}");
	assert_int_equal(oauth_parse_tokens(&r, 10, NULL, &t, NULL), CX_OK);
	assert_int_equal(t.expires_at, 10);
	oauth_tokens_release(&t);
	r = resp_of(200, "{\"access_token\":\"a\",\"expires_in\":99999999999999}");
	assert_int_equal(oauth_parse_tokens(&r, 0, NULL, &t, NULL), CX_OK);
	assert_int_equal(t.expires_at, 10LL * 365 * 86400);
	oauth_tokens_release(&t);
}

static void test_parse_tokens_bad_2xx(void **state)
{
	(void)state;
	struct oauth_tokens t;
	struct oauth_error e;
	const char *bodies[] = {
	    "",
	    "{}",
	    "{\"access_token\":\"\"}",
	    "{\"access_token\":42}",
	    "{\"access_token\":null,\"refresh_token\":\"r\"}",
	    "[\"access_token\"]",
	    "{\"access_token\":\"a\"",
	    "{\"access_token\":\"a\",\"access_token\":\"b\"}",
	    "<?xml version=\"1.0\"?><result><access_token>a</access_token></result>",
	    "<html><body>Bad Gateway</body></html>",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct egress_response r = resp_of(200, bodies[i]);
		assert_int_equal(oauth_parse_tokens(&r, 0, "old", &t, &e), CX_EUPSTREAM);
		assert_null(t.access_token);
		assert_null(t.refresh_token);
		assert_true(e.unparsable);
		assert_true(e.retryable);
		assert_false(e.invalid_grant);
	}
	/* A huge token is refused rather than stored. */
	size_t n = OAUTH_TOKEN_MAX + 100;
	char *big = xmalloc(n + 64);
	int len = snprintf(big, n + 64, "{\"access_token\":\"");
	memset(big + len, 'A', n);
	snprintf(big + len + n, 64, "\"}");
	struct egress_response r = resp_of(200, big);
	assert_int_equal(oauth_parse_tokens(&r, 0, NULL, &t, &e), CX_EUPSTREAM);
	assert_null(t.access_token);
	free(big);
}

static void test_classify_errors(void **state)
{
	(void)state;
	struct oauth_tokens t;
	struct oauth_error e;
	struct egress_response r =
	    resp_of(400, "{\"reason\":\"Invalid Token!\",\"error\":\"invalid_grant\"}");
	assert_int_equal(oauth_parse_tokens(&r, 0, "old", &t, &e), CX_EAUTH);
	assert_true(e.invalid_grant);
	assert_false(e.invalid_client);
	assert_false(e.retryable);
	assert_int_equal(e.http_status, 400);
	assert_string_equal(e.error, "invalid_grant");
	assert_string_equal(e.reason, "Invalid Token!");
	assert_null(t.access_token);

	r = resp_of(401, "{\"error\":\"invalid_grant\"}");
	assert_int_equal(oauth_classify(&r, &e), CX_EAUTH);
	assert_true(e.invalid_grant);

	r = resp_of(400, "{\"reason\":\"Invalid client_id or client_secret\","
	                 "\"error\":\"invalid_client\"}");
	assert_int_equal(oauth_classify(&r, &e), CX_EAUTH);
	assert_true(e.invalid_client);
	assert_false(e.invalid_grant);

	r = resp_of(400, "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: "
	                 "expired\\n\\u001b[31m\"}");
	assert_int_equal(oauth_classify(&r, &e), CX_EAUTH);
	assert_null(strchr(e.reason, '\n')); /* copied printable only */
	assert_null(strchr(e.reason, 0x1b));

	r = resp_of(400, "{\"error\":\"unsupported_grant_type\"}");
	assert_int_equal(oauth_classify(&r, &e), CX_EUPSTREAM);
	assert_false(e.retryable);
	assert_false(e.invalid_grant);

	/* Unparsable bodies never mean a dead grant, whatever they contain. */
	const char *junk[] = {
	    "<?xml version=\"1.0\"?><error>invalid_grant</error>",
	    "<html><head><title>400 Bad Request</title></head><body>invalid_grant</body></html>",
	    "invalid_grant",
	    "{\"error\":\"invalid_grant\"",
	    "[{\"error\":\"invalid_grant\"}]",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		r = resp_of(400, junk[i]);
		assert_int_equal(oauth_classify(&r, &e), CX_EUPSTREAM);
		assert_false(e.invalid_grant);
		assert_true(e.unparsable);
	}

	struct egress_response rl = resp_of(429, "{\"error\":\"rate\"}");
	char *h = xstrdup("retry-after: 17");
	rl.headers[0] = h;
	rl.n_headers = 1;
	assert_int_equal(oauth_classify(&rl, &e), CX_EBUSY);
	assert_true(e.retryable);
	assert_int_equal(e.retry_after_s, 17);
	free(h);

	r = resp_of(503, "<html>Service Unavailable</html>");
	assert_int_equal(oauth_classify(&r, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_int_equal(e.http_status, 503);

	r = resp_of(0, "");
	r.err = CX_ETIMEOUT;
	r.sent = true;
	assert_int_equal(oauth_classify(&r, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_int_equal(e.transport, CX_ETIMEOUT);
	assert_true(e.sent);
	assert_int_equal(e.http_status, 0);

	struct egress_response bare = resp_of(401, "");
	h = xstrdup("www-authenticate: Basic realm=\"zoom\"");
	bare.headers[0] = h;
	bare.n_headers = 1;
	assert_int_equal(oauth_classify(&bare, &e), CX_EAUTH);
	assert_true(e.invalid_client);
	free(h);
}

static void test_revoke_result(void **state)
{
	(void)state;
	struct oauth_error e;
	struct egress_response r = resp_of(200, "{\"status\":\"success\"}");
	assert_int_equal(oauth_revoke_result(&r, &e), CX_OK);
	r = resp_of(400, "{\"error\":\"invalid_token\",\"error_description\":\"Token expired\"}");
	assert_int_equal(oauth_revoke_result(&r, &e), CX_ENOTFOUND);
	r = resp_of(400, "<html>nope</html>");
	assert_int_equal(oauth_revoke_result(&r, &e), CX_EUPSTREAM);
	r = resp_of(502, "");
	assert_int_equal(oauth_revoke_result(&r, NULL), CX_EUPSTREAM);
	r = resp_of(400, "{\"error\":\"invalid_client\"}");
	assert_int_equal(oauth_revoke_result(&r, &e), CX_EAUTH);
	assert_true(e.invalid_client);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form_encoding),
	    cmocka_unit_test(test_pkce),
	    cmocka_unit_test(test_authorize_url),
	    cmocka_unit_test(test_code_request_basic),
	    cmocka_unit_test(test_code_request_body_auth),
	    cmocka_unit_test(test_refresh_and_revoke_requests),
	    cmocka_unit_test(test_parse_tokens_good),
	    cmocka_unit_test(test_parse_tokens_bad_2xx),
	    cmocka_unit_test(test_classify_errors),
	    cmocka_unit_test(test_revoke_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

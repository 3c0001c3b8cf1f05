/* oauth.c: OAuth 2.0 authorization code + PKCE, refresh and revoke, as pure request builders and
 * answer parsers. The classifier is deliberately conservative about one thing: only a well-formed
 * JSON answer saying "invalid_grant" may mark a grant dead, because that makes a person reconnect,
 * while every other failure (an HTML error page, a proxy's XML, a timeout) is retried. */
#include "egress/oauth.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/form.h"
#include "base/json.h"
#include "base/banned.h"

#define FORM_MAX (64 * 1024)
#define URL_MAX (16 * 1024)
#define EXPIRES_IN_MAX (10LL * 365 * 86400) /* clamp: nobody issues longer-lived access tokens */

static const char VERIFIER_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void oauth_pkce_new(struct oauth_pkce *out)
{
	uint8_t raw[OAUTH_VERIFIER_LEN];
	sec_random_bytes(raw, sizeof(raw));
	/* 64 symbols, so a byte's low six bits pick one without bias. */
	for (size_t i = 0; i < OAUTH_VERIFIER_LEN; i++)
		out->verifier[i] = VERIFIER_CHARS[raw[i] & 63];
	out->verifier[OAUTH_VERIFIER_LEN] = '\0';
	sec_wipe(raw, sizeof(raw));
	oauth_pkce_challenge(out->verifier, out->challenge);
}

void oauth_pkce_challenge(const char *verifier, char out[OAUTH_CHALLENGE_LEN + 1])
{
	uint8_t digest[32];
	sec_sha256(verifier, strlen(verifier), digest);
	char *enc = sec_base64url_encode(digest, sizeof(digest));
	snprintf(out, OAUTH_CHALLENGE_LEN + 1, "%s", enc);
	free(enc);
}

static bool present(const char *s)
{
	return s && *s;
}

static enum cx_err add_extras(struct buf *b, const struct oauth_param *extras)
{
	enum cx_err err = CX_OK;
	for (size_t i = 0; extras && extras[i].name; i++) {
		err = form_add(b, extras[i].name, extras[i].value);
		if (err)
			break;
	}
	return err;
}

enum cx_err oauth_authorize_url(const struct provider_config *pc, const char *redirect_uri,
                                const char *state, const char *code_challenge,
                                const struct oauth_param *extras, char **out)
{
	enum cx_err err = CX_EINVAL;
	struct buf b;
	buf_init(&b, URL_MAX);
	*out = NULL;
	if (!pc || !present(pc->auth_url) || !present(pc->client_id) || !present(redirect_uri) ||
	    !present(state) || !present(code_challenge))
		goto out;
	err = buf_printf(&b, "%s%c", pc->auth_url, strchr(pc->auth_url, '?') ? '&' : '?');
	if (!err)
		err = form_add(&b, "response_type", "code");
	if (!err)
		err = form_add(&b, "client_id", pc->client_id);
	if (!err)
		err = form_add(&b, "redirect_uri", redirect_uri);
	if (!err)
		err = form_add(&b, "state", state);
	if (!err)
		err = form_add(&b, "code_challenge", code_challenge);
	if (!err)
		err = form_add(&b, "code_challenge_method", "S256");
	if (!err && present(pc->scopes))
		err = form_add(&b, "scope", pc->scopes);
	if (!err)
		err = add_extras(&b, extras);
	if (err)
		goto out;
	*out = buf_detach(&b, NULL);
out:
	buf_release(&b);
	return err;
}

/* The common part of the token and revoke calls: a form POST with client authentication. The form
 * holds secrets, so its buffer is wiped before it is freed. */
static enum cx_err form_post(const char *url, const struct provider_config *pc,
                             enum oauth_client_auth auth, struct buf *form,
                             const struct oauth_param *extras, struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	struct egress_request *r = NULL;
	*out = NULL;
	if (auth != OAUTH_AUTH_NONE && (!present(pc->client_id) || !present(pc->client_secret)))
		goto out;
	if (auth == OAUTH_AUTH_BODY) {
		err = form_add(form, "client_id", pc->client_id);
		if (!err)
			err = form_add(form, "client_secret", pc->client_secret);
		if (err)
			goto out;
	}
	err = add_extras(form, extras);
	if (err)
		goto out;
	r = egress_request_new("POST", url);
	if (auth == OAUTH_AUTH_BASIC) {
		char *pair = xasprintf("%s:%s", pc->client_id, pc->client_secret);
		char *b64 = sec_base64_encode(pair, strlen(pair));
		char *value = xasprintf("Basic %s", b64);
		egress_request_header(r, "Authorization", value);
		sec_wipe(pair, strlen(pair));
		sec_wipe(value, strlen(value));
		free(pair);
		free(b64);
		free(value);
	}
	egress_request_header(r, "Accept", "application/json");
	egress_request_body(r, "application/x-www-form-urlencoded", form->data ? form->data : "",
	                    form->len);
	*out = r;
out:
	if (form->data)
		sec_wipe(form->data, form->len);
	buf_release(form);
	return err;
}

enum cx_err oauth_code_request(const struct provider_config *pc, enum oauth_client_auth auth,
                               const char *code, const char *redirect_uri,
                               const char *code_verifier, const struct oauth_param *extras,
                               struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	struct buf form;
	buf_init(&form, FORM_MAX);
	*out = NULL;
	if (!pc || !present(pc->token_url) || !present(code) || !present(redirect_uri))
		goto out;
	err = form_add(&form, "grant_type", "authorization_code");
	if (!err)
		err = form_add(&form, "code", code);
	if (!err)
		err = form_add(&form, "redirect_uri", redirect_uri);
	if (!err && present(code_verifier))
		err = form_add(&form, "code_verifier", code_verifier);
	if (err)
		goto out;
	err = form_post(pc->token_url, pc, auth, &form, extras, out);
	goto out;
out:
	if (form.data)
		sec_wipe(form.data, form.len);
	buf_release(&form);
	return err;
}

enum cx_err oauth_refresh_request(const struct provider_config *pc, enum oauth_client_auth auth,
                                  const char *refresh_token, const struct oauth_param *extras,
                                  struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	struct buf form;
	buf_init(&form, FORM_MAX);
	*out = NULL;
	if (!pc || !present(pc->token_url) || !present(refresh_token))
		goto out;
	err = form_add(&form, "grant_type", "refresh_token");
	if (!err)
		err = form_add(&form, "refresh_token", refresh_token);
	if (err)
		goto out;
	err = form_post(pc->token_url, pc, auth, &form, extras, out);
	goto out;
out:
	if (form.data)
		sec_wipe(form.data, form.len);
	buf_release(&form);
	return err;
}

enum cx_err oauth_revoke_request(const struct provider_config *pc, enum oauth_client_auth auth,
                                 const char *token, const struct oauth_param *extras,
                                 struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	struct buf form;
	buf_init(&form, FORM_MAX);
	*out = NULL;
	if (!pc || !present(token))
		goto out;
	err = CX_ENOTFOUND;
	if (!present(pc->revoke_url))
		goto out;
	err = form_add(&form, "token", token);
	if (err)
		goto out;
	err = form_post(pc->revoke_url, pc, auth, &form, extras, out);
	goto out;
out:
	if (form.data)
		sec_wipe(form.data, form.len);
	buf_release(&form);
	return err;
}

/* ---- answers ---- */

static void free_secret(char *s)
{
	if (s) {
		sec_wipe(s, strlen(s));
		free(s);
	}
}

void oauth_tokens_release(struct oauth_tokens *t)
{
	if (!t)
		return;
	free_secret(t->access_token);
	free_secret(t->refresh_token);
	free(t->scope);
	free(t->token_type);
	memset(t, 0, sizeof(*t));
}

/* Copies a provider string for logs: printable ASCII only, so a hostile answer cannot forge log
 * lines or smuggle terminal escapes. */
static void copy_printable(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

static long retry_after_seconds(const struct egress_response *resp)
{
	const char *v = egress_response_header(resp, "retry-after");
	if (!v)
		return 0;
	while (*v == ' ')
		v++;
	long s = 0;
	for (int i = 0; v[i]; i++) {
		if (v[i] < '0' || v[i] > '9' || i > 8)
			return 0;
		s = s * 10 + (v[i] - '0');
	}
	return s;
}

/* The body as a JSON object, or NULL when it is anything else. Caller json_decref()s. */
static json_t *body_object(const struct egress_response *resp)
{
	json_t *v = NULL;
	if (!resp->body || resp->body_len == 0)
		return NULL;
	if (json_parse_strict(resp->body, resp->body_len, &v, NULL, 0) != CX_OK)
		return NULL;
	if (!json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

enum cx_err oauth_classify(const struct egress_response *resp, struct oauth_error *err)
{
	struct oauth_error local;
	enum cx_err rc = CX_EUPSTREAM;
	json_t *obj = NULL;
	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	err->sent = resp->sent;
	if (resp->err != CX_OK) {
		err->transport = resp->err;
		err->retryable = true;
		goto out;
	}
	err->http_status = resp->status;
	obj = body_object(resp);
	err->unparsable = obj == NULL;
	if (obj) {
		copy_printable(err->error, sizeof(err->error), json_get_str(obj, "error"));
		const char *reason = json_get_str(obj, "error_description");
		if (!reason)
			reason = json_get_str(obj, "reason");
		copy_printable(err->reason, sizeof(err->reason), reason);
	}
	if (resp->status >= 200 && resp->status < 300) {
		rc = CX_OK;
	} else if (resp->status == 429) {
		err->retryable = true;
		err->retry_after_s = retry_after_seconds(resp);
		rc = CX_EBUSY;
	} else if (resp->status >= 500) {
		err->retryable = true;
		err->retry_after_s = retry_after_seconds(resp);
	} else if ((resp->status == 400 || resp->status == 401) && obj &&
	           strcmp(err->error, "invalid_grant") == 0) {
		err->invalid_grant = true;
		rc = CX_EAUTH;
	} else if ((resp->status == 400 || resp->status == 401) && obj &&
	           strcmp(err->error, "invalid_client") == 0) {
		err->invalid_client = true;
		rc = CX_EAUTH;
	} else if (resp->status == 401 && resp->body_len == 0 &&
	           egress_response_header(resp, "www-authenticate")) {
		/* RFC 6749 §5.2: a failed Basic authentication may come as a bare 401 challenge. */
		err->invalid_client = true;
		rc = CX_EAUTH;
	}
out:
	json_decref(obj);
	return rc;
}

/* A string field within OAUTH_TOKEN_MAX, copied; NULL when absent, empty or of another type. */
static char *dup_field(const json_t *obj, const char *key, bool *too_long)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	if (json_string_length(v) > OAUTH_TOKEN_MAX) {
		*too_long = true;
		return NULL;
	}
	return xstrndup(json_string_value(v), json_string_length(v));
}

/* expires_in as a number or a numeric string; dflt when absent or unreadable. */
static long long expires_in_of(const json_t *obj)
{
	const json_t *v = json_object_get(obj, "expires_in");
	long long s = OAUTH_DEFAULT_EXPIRES_IN;
	if (json_is_integer(v)) {
		s = json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d >= 0 && d <= (double)EXPIRES_IN_MAX)
			s = (long long)d;
	} else if (json_is_string(v)) {
		const char *p = json_string_value(v);
		char *end = NULL;
		long long n = strtoll(p, &end, 10);
		if (*p && end && *end == '\0')
			s = n;
	}
	if (s < 0)
		s = 0;
	if (s > EXPIRES_IN_MAX)
		s = EXPIRES_IN_MAX;
	return s;
}

enum cx_err oauth_parse_tokens(const struct egress_response *resp, int64_t now_s,
                               const char *previous_refresh_token, struct oauth_tokens *out,
                               struct oauth_error *err)
{
	struct oauth_error local;
	json_t *obj = NULL;
	bool too_long = false;
	memset(out, 0, sizeof(*out));
	if (!err)
		err = &local;
	enum cx_err rc = oauth_classify(resp, err);
	if (rc)
		goto out;
	rc = CX_EUPSTREAM;
	obj = body_object(resp);
	if (!obj)
		goto bad;
	out->access_token = dup_field(obj, "access_token", &too_long);
	out->refresh_token = dup_field(obj, "refresh_token", &too_long);
	out->scope = dup_field(obj, "scope", &too_long);
	out->token_type = dup_field(obj, "token_type", &too_long);
	if (!out->access_token || too_long)
		goto bad;
	out->refresh_rotated = out->refresh_token != NULL;
	if (!out->refresh_token && present(previous_refresh_token))
		out->refresh_token = xstrdup(previous_refresh_token);
	out->expires_at = now_s + expires_in_of(obj);
	rc = CX_OK;
	goto out;
bad:
	/* A 2xx we cannot read: the provider may have acted (rotated the token), so the caller must
	 * not assume the grant is dead, only that this attempt failed. */
	err->unparsable = true;
	err->retryable = true;
	oauth_tokens_release(out);
out:
	json_decref(obj);
	return rc;
}

enum cx_err oauth_revoke_result(const struct egress_response *resp, struct oauth_error *err)
{
	struct oauth_error local;
	if (!err)
		err = &local;
	enum cx_err rc = oauth_classify(resp, err);
	if (rc == CX_OK || resp->err != CX_OK || err->unparsable)
		goto out;
	if ((resp->status == 400 || resp->status == 401) &&
	    (strcmp(err->error, "invalid_token") == 0 ||
	     strcmp(err->error, "invalid_grant") == 0)) {
		err->invalid_grant = false;
		rc = CX_ENOTFOUND;
	}
out:
	return rc;
}

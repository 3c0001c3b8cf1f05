/* auth.c: sign up, sign in, sign out and GET /api/me. Sessions are random cookies of which the store
 * keeps only the SHA-256; each has its own CSRF token, which GET /api/me hands to the web app. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/time.h"
#include "core/validate.h"
#include "store/accounts.h"

#include "base/banned.h"

#define IP_MAX_FAILURES 50

/* Verified when the address is unknown, so a wrong address and a wrong password take the same
 * time and the answer does not tell which accounts exist. */
static char dummy_hash[SEC_PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	if (sec_password_hash("calendox-dummy-password", dummy_hash) != CX_OK)
		dummy_hash[0] = '\0';
}

enum cx_err api_session_start(struct http_request *req, int64_t user_id)
{
	struct app *app = req->app;
	char token[64], csrf[64], id_hash[65];
	sec_random_token(token, sizeof(token), 32);
	sec_random_token(csrf, sizeof(csrf), 32);
	sec_sha256_hex(token, strlen(token), id_hash);
	int64_t now = time_wall_s();
	enum cx_err err = store_session_create(store_conn(app->store), id_hash, user_id, csrf, now,
					       now + API_SESSION_TTL_S);
	if (err)
		return err;
	http_set_cookie(req, API_SESSION_COOKIE, token, API_SESSION_TTL_S, app->cfg->secure_cookies);
	return CX_OK;
}

enum cx_err api_create_account(struct app *app, const char *email, const char *name,
			       const char *password, int64_t now, int64_t *user_id)
{
	char lower[VALIDATE_EMAIL_MAX + 1];
	if (!validate_email(email, lower, sizeof(lower)) || !validate_password(password) ||
	    !validate_name(name))
		return CX_EINVAL;
	char hash[SEC_PASSWORD_HASH_MAX];
	enum cx_err err = sec_password_hash(password, hash);
	if (err)
		return err;
	struct store_conn *c = store_conn(app->store);
	err = store_begin(c);
	if (err)
		return err;
	err = store_user_create(c, lower, name, hash, now, user_id);
	if (!err) {
		struct store_subscription sub = {
			.trial_ends_at = now + (int64_t)app->cfg->trial_days * 86400,
		};
		snprintf(sub.plan, sizeof(sub.plan), "%s", plan_name(PLAN_TRIAL));
		snprintf(sub.status, sizeof(sub.status), PLAN_STATUS_TRIALING);
		err = store_subscription_set(c, *user_id, &sub, now);
	}
	if (!err)
		err = store_activity_add(c, *user_id, now, "account.created",
					 "Your account was created with a free trial.");
	if (!err)
		err = store_commit(c);
	if (err)
		store_rollback(c);
	return err;
}

void api_auth_signup(struct http_request *req)
{
	static const struct json_field fields[] = {
		{"email", JK_STRING, true, 1024},
		{"password", JK_STRING, true, 4096},
		{"name", JK_STRING, true, 1024},
		{NULL, 0, false, 0},
	};
	struct app *app = req->app;
	json_t *body = api_body(req, fields);
	if (!body)
		return;
	const char *email = json_get_str(body, "email");
	const char *password = json_get_str(body, "password");
	const char *name = json_get_str(body, "name");
	char lower[VALIDATE_EMAIL_MAX + 1];
	if (!validate_email(email, lower, sizeof(lower))) {
		http_reply_error(req, 400, "invalid_request", "That is not a valid email address.",
				 NULL);
		goto out;
	}
	if (!validate_password(password)) {
		http_reply_error(req, 400, "invalid_request",
				 "The password must be 10 to 1024 characters long.", NULL);
		goto out;
	}
	if (!validate_name(name)) {
		http_reply_error(req, 400, "invalid_request",
				 "The name must be 1 to 200 characters without control characters.",
				 NULL);
		goto out;
	}
	int64_t now = time_wall_s(), user_id = 0;
	enum cx_err err = api_create_account(app, lower, name, password, now, &user_id);
	if (err == CX_ECONFLICT) {
		http_reply_error(req, 409, "email_taken",
				 "An account with that email address already exists.",
				 "Sign in instead.");
		goto out;
	}
	if (!err)
		err = api_session_start(req, user_id);
	if (err) {
		api_reply_failure(req, err, "creating the account");
		goto out;
	}
	log_info("account created", "user=%lld", (long long)user_id);
	http_reply_json(req, 201,
			json_pack("{s:o}", "user", api_user_json(user_id, lower, name, now)));
out:
	json_decref(body);
}

/* Refuses with 429 when either the address or the client's IP is locked out. */
static bool login_allowed(struct http_request *req, const char *email_key, const char *ip_key)
{
	struct app *app = req->app;
	struct store_conn *c = store_conn(app->store);
	int64_t now = time_wall_s(), until_email = 0, until_ip = 0;
	enum cx_err err = store_login_locked_until(c, email_key, &until_email);
	if (!err)
		err = store_login_locked_until(c, ip_key, &until_ip);
	if (err) {
		api_reply_failure(req, err, "reading login attempts");
		return false;
	}
	int64_t until = until_email > until_ip ? until_email : until_ip;
	if (until > now) {
		char retry[24];
		snprintf(retry, sizeof(retry), "%lld", (long long)(until - now));
		http_add_header(req, "Retry-After", retry);
		http_reply_error(req, 429, "rate_limited", "Too many failed sign-in attempts.",
				 "Wait a few minutes before trying again.");
		return false;
	}
	return true;
}

void api_auth_login(struct http_request *req)
{
	static const struct json_field fields[] = {
		{"email", JK_STRING, true, 1024},
		{"password", JK_STRING, true, 4096},
		{NULL, 0, false, 0},
	};
	struct app *app = req->app;
	struct store_conn *c = store_conn(app->store);
	struct store_user user = {0};
	json_t *body = api_body(req, fields);
	if (!body)
		return;
	char lower[VALIDATE_EMAIL_MAX + 1];
	const char *email = json_get_str(body, "email");
	const char *password = json_get_str(body, "password");
	if (!validate_email(email, lower, sizeof(lower)))
		snprintf(lower, sizeof(lower), "%.*s", VALIDATE_EMAIL_MAX, email);
	char *email_key = arena_printf(req->arena, "email:%s", lower);
	char *ip_key = arena_printf(req->arena, "ip:%s", http_client_ip(req));
	if (!login_allowed(req, email_key, ip_key))
		goto out;

	enum cx_err err = store_user_by_email(c, lower, &user);
	if (err && err != CX_ENOTFOUND) {
		api_reply_failure(req, err, "reading the account");
		goto out;
	}
	bool ok;
	if (err == CX_ENOTFOUND) {
		pthread_once(&dummy_once, make_dummy_hash);
		sec_password_verify(dummy_hash, password);
		ok = false;
	} else {
		ok = sec_password_verify(user.password_hash, password);
	}
	int64_t now = time_wall_s();
	if (!ok) {
		err = store_login_failure(c, email_key, now, API_LOGIN_MAX_FAILURES,
					  API_LOGIN_WINDOW_S, API_LOGIN_LOCK_S);
		if (!err)
			err = store_login_failure(c, ip_key, now, IP_MAX_FAILURES,
						  API_LOGIN_WINDOW_S, API_LOGIN_LOCK_S);
		if (err) {
			api_reply_failure(req, err, "recording a failed sign-in");
			goto out;
		}
		log_info("sign-in failed", NULL);
		http_reply_error(req, 401, "invalid_credentials",
				 "The email address or password is not right.", NULL);
		goto out;
	}
	err = store_login_reset(c, email_key);
	if (!err)
		err = api_session_start(req, user.id);
	if (err) {
		api_reply_failure(req, err, "starting the session");
		goto out;
	}
	log_info("signed in", "user=%lld", (long long)user.id);
	http_reply_json(req, 200,
			json_pack("{s:o}", "user",
				  api_user_json(user.id, user.email, user.name, user.created_at)));
out:
	store_user_release(&user);
	json_decref(body);
}

void api_auth_logout(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user user;
	if (!api_authenticate(req, true, &user))
		return;
	const char *cookie = http_cookie(req, API_SESSION_COOKIE);
	char id_hash[65];
	sec_sha256_hex(cookie, strlen(cookie), id_hash);
	enum cx_err err = store_session_delete(store_conn(app->store), id_hash);
	if (err) {
		api_reply_failure(req, err, "ending the session");
		return;
	}
	http_set_cookie(req, API_SESSION_COOKIE, "", -1, app->cfg->secure_cookies);
	http_reply_empty(req, 204);
}

void api_me(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	struct store_user user = {0};
	if (!api_authenticate(req, false, &auth))
		return;
	enum cx_err err = store_user_by_id(store_conn(app->store), auth.id, &user);
	if (err) {
		api_reply_failure(req, err, "reading the account");
		return;
	}
	http_reply_json(req, 200,
			json_pack("{s:o, s:o, s:s}", "user",
				  api_user_json(user.id, user.email, user.name, user.created_at),
				  "plan", api_plan_json(app, user.id, time_wall_s()), "csrf_token",
				  auth.csrf_token));
	store_user_release(&user);
}

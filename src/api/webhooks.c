/* webhooks.c: POST /webhooks/zoom (DESIGN §4 "Uninstalled in Zoom"). The signature and timestamp
 * are checked before anything is read; endpoint.url_validation is answered; app_deauthorized
 * disconnects every connection of that Zoom user, forgetting tokens and profile data. A delivery is
 * recorded by the hash of its body, so a repeated delivery changes nothing. Everything is a short
 * store transaction: the answer leaves well within Zoom's 3 seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "providers/zoom.h"
#include "store/accounts.h"
#include "store/connections.h"

#include "base/banned.h"

#define MAX_OWNERS 64

static enum cx_err deauthorize(struct app *app, const struct zoom_deauthorization *d,
			       const char *delivery, int *disconnected)
{
	struct store_conn *c = store_conn(app->store);
	int64_t now = time_wall_s();
	int64_t owners[MAX_OWNERS];
	int n = 0;
	*disconnected = 0;
	enum cx_err e = store_begin(c);
	if (e)
		return e;
	struct store_val p[] = {SV_TEXT("zoom"), SV_TEXT(delivery), SV_INT(now)};
	int64_t fresh = 0;
	e = store_exec(c,
		       "INSERT INTO webhook_receipts (source, delivery_id, received_at) "
		       "VALUES ($1, $2, $3) ON CONFLICT (source, delivery_id) DO NOTHING",
		       p, 3, &fresh);
	if (!e && fresh == 0)
		goto out; /* seen before: harmless */
	if (!e)
		e = store_connection_users_by_external(c, "zoom", d->user_id, owners, MAX_OWNERS, &n);
	for (int i = 0; !e && i < n; i++) {
		bool changed = false;
		e = store_connection_disconnect(c, owners[i], "zoom", now, &changed);
		if (!e && changed) {
			(*disconnected)++;
			e = store_activity_add(
				c, owners[i], now, "zoom.deauthorized",
				"Calendox was removed from your Zoom account. Existing events keep "
				"their links; connect Zoom again in Settings → App to add new ones.");
		}
	}
out:
	if (!e)
		e = store_commit(c);
	if (e)
		store_rollback(c);
	return e;
}

void api_webhook_zoom(struct http_request *req)
{
	struct app *app = req->app;
	const char *secret = app->cfg->zoom.webhook_secret;
	const char *body = req->body ? req->body : "";
	if (!secret || !*secret) {
		http_reply_error(req, 503, "not_configured", "Zoom webhooks are not configured.",
				 NULL);
		return;
	}
	if (zoom_webhook_verify(secret, http_header(req, "x-zm-request-timestamp"), body,
				req->body_len, http_header(req, "x-zm-signature"),
				time_wall_s()) != CX_OK) {
		log_warn("zoom webhook refused", "reason=signature_or_timestamp");
		http_reply_error(req, 401, "bad_signature",
				 "The signature or timestamp of this delivery is not valid.", NULL);
		return;
	}
	json_t *j = json_loadb(body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *event = j ? json_get_str(j, "event") : NULL;
	if (!event) {
		json_decref(j);
		http_reply_error(req, 400, "invalid_request", "The delivery is not a Zoom event.",
				 NULL);
		return;
	}
	if (strcmp(event, "endpoint.url_validation") == 0) {
		char *plain = NULL, *answer = NULL;
		enum cx_err e = zoom_webhook_plain_token(body, req->body_len, &plain);
		if (!e)
			e = zoom_webhook_url_validation_response(secret, plain, &answer);
		free(plain);
		if (e)
			http_reply_error(req, 400, "invalid_request",
					 "The validation request has no usable plainToken.", NULL);
		else
			http_reply(req, 200, "application/json; charset=utf-8", answer,
				   strlen(answer));
		free(answer);
		json_decref(j);
		return;
	}
	if (strcmp(event, "app_deauthorized") != 0) {
		/* Other events are not subscribed to; acknowledging them stops Zoom's retries. */
		json_decref(j);
		http_reply_json(req, 200, json_object());
		return;
	}
	json_decref(j);
	struct zoom_deauthorization d = {0};
	if (zoom_parse_deauthorization(body, req->body_len, &d) != CX_OK) {
		http_reply_error(req, 400, "invalid_request",
				 "The deauthorization does not name a Zoom user.", NULL);
		return;
	}
	char delivery[65];
	sec_sha256_hex(body, req->body_len, delivery);
	int disconnected = 0;
	enum cx_err e = deauthorize(app, &d, delivery, &disconnected);
	zoom_deauthorization_release(&d);
	if (e) {
		/* Zoom retries a failed delivery, so a 5xx here is not lost. */
		api_reply_failure(req, e, "recording a Zoom deauthorization");
		return;
	}
	log_info("zoom deauthorization", "connections=%d", disconnected);
	http_reply_json(req, 200, json_object());
}

/* fuzz_zoom_parse: arbitrary bytes as a Zoom or token-endpoint answer body, fed to every parser and
 * classifier of providers/zoom and egress/oauth at the statuses they meet in practice, and as a
 * webhook body; checks the invariants the callers rely on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "egress/oauth.h"
#include "providers/zoom.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long STATUSES[] = {200, 201, 204, 400, 401, 404, 429, 500, 503};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = xmalloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';
	char *h1 = xstrdup("x-ratelimit-type: Daily-limit");
	char *h2 = xstrdup("retry-after: 2026-05-31T00:00:00Z");

	for (size_t i = 0; i < sizeof(STATUSES) / sizeof(STATUSES[0]); i++) {
		struct egress_response r;
		memset(&r, 0, sizeof(r));
		r.sent = true;
		r.status = STATUSES[i];
		r.body = body;
		r.body_len = size;
		if (r.status == 429) {
			r.headers[0] = h1;
			r.headers[1] = h2;
			r.n_headers = 2;
		}

		struct zoom_meeting m;
		struct zoom_user u;
		struct zoom_error ze;
		enum cx_err err = zoom_parse_meeting(&r, 1780000000, &m, &ze);
		if (err == CX_OK && (m.id <= 0 || ze.kind != ZOOM_ERR_NONE))
			abort();
		if (err != CX_OK && (m.id != 0 || m.join_url))
			abort();
		zoom_meeting_release(&m);
		err = zoom_parse_user(&r, 1780000000, &u, &ze);
		if (err == CX_OK && !u.id)
			abort();
		zoom_user_release(&u);
		bool gone = false;
		(void)zoom_delete_result(&r, 1780000000, &gone, &ze);
		if (ze.retry_after_s < 0 || memchr(ze.message, '\0', sizeof(ze.message)) == NULL)
			abort();

		struct oauth_tokens t;
		struct oauth_error oe;
		err = oauth_parse_tokens(&r, 1780000000, "previous", &t, &oe);
		if (err == CX_OK &&
		    (!t.access_token || !t.refresh_token || t.expires_at < 1780000000))
			abort();
		/* An unreadable body never marks a grant dead. */
		if (oe.unparsable && oe.invalid_grant)
			abort();
		oauth_tokens_release(&t);
		(void)oauth_revoke_result(&r, &oe);
	}

	struct zoom_deauthorization d;
	if (zoom_parse_deauthorization(body, size, &d) == CX_OK && (!d.user_id || !d.account_id))
		abort();
	zoom_deauthorization_release(&d);
	char *plain = NULL;
	if (zoom_webhook_plain_token(body, size, &plain) == CX_OK) {
		char *answer = NULL;
		if (zoom_webhook_url_validation_response("secret", plain, &answer) != CX_OK)
			abort();
		free(answer);
	}
	free(plain);
	(void)zoom_webhook_verify("secret", "1780000000", body, size, "v0=00", 1780000000);

	free(h1);
	free(h2);
	free(body);
	return 0;
}

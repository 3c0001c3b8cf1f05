/* activity.c: GET /api/activity, the person's own record of what Calendox did for them. */
#include "api/api.h"
#include "store/accounts.h"

#include "base/banned.h"

#define ACTIVITY_LIMIT 200

static void add_entry(const struct store_activity *a, void *arg)
{
	json_array_append_new(arg, json_pack("{s:o, s:s, s:s}", "at", api_time_json(a->at), "kind",
					     a->kind, "detail", a->detail));
}

void api_activity_list(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	if (!api_authenticate(req, false, &auth))
		return;
	json_t *entries = json_array();
	enum cx_err err = store_activity_list(store_conn(app->store), auth.id, ACTIVITY_LIMIT,
					      add_entry, entries);
	if (err) {
		json_decref(entries);
		api_reply_failure(req, err, "reading activity");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:o}", "entries", entries));
}

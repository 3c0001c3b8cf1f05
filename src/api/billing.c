/* billing.c: the plan in force, the plans on offer and subscribing (DESIGN §4 "Plans"). In the
 * sandbox payments mode (the only one so far) a subscription activates at once for 30 days, and
 * calendar accounts suspended on Free become active again. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "base/json.h"
#include "base/log.h"
#include "base/time.h"
#include "store/accounts.h"
#include "store/calendars.h"

#include "base/banned.h"

#define PERIOD_S (30 * 86400)

static json_t *limit_json(int accounts)
{
	return accounts == PLAN_UNLIMITED ? json_null() : json_integer(accounts);
}

void api_billing_get(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	if (!api_authenticate(req, false, &auth))
		return;
	json_t *plan = api_plan_json(app, auth.id, time_wall_s());
	json_t *plans = json_array();
	static const enum plan offered[] = {PLAN_BASIC, PLAN_STANDARD, PLAN_PREMIUM};
	for (size_t i = 0; i < sizeof(offered) / sizeof(offered[0]); i++) {
		json_array_append_new(
			plans, json_pack("{s:s, s:o}", "name", plan_name(offered[i]),
					 "calendar_accounts",
					 limit_json(plan_calendar_accounts(offered[i], &app->limits))));
	}
	json_t *out = json_pack("{s:O, s:O, s:O, s:o}", "plan", json_object_get(plan, "name"),
				"status", json_object_get(plan, "status"), "trial_ends_at",
				json_object_get(plan, "trial_ends_at"), "plans", plans);
	json_decref(plan);
	http_reply_json(req, 200, out);
}

enum cx_err api_set_plan(struct app *app, int64_t user_id, enum plan plan, int64_t now)
{
	struct store_conn *c = store_conn(app->store);
	struct store_subscription sub;
	enum cx_err err = store_begin(c);
	if (err)
		return err;
	err = store_user_lock(c, user_id); /* one plan change or connect at a time (oauth.c) */
	if (!err)
		err = store_subscription_get(c, user_id, &sub);
	if (err == CX_ENOTFOUND) {
		memset(&sub, 0, sizeof(sub));
		err = CX_OK;
	}
	if (err)
		goto out;
	snprintf(sub.plan, sizeof(sub.plan), "%s", plan_name(plan));
	if (plan == PLAN_TRIAL) {
		snprintf(sub.status, sizeof(sub.status), PLAN_STATUS_TRIALING);
		sub.trial_ends_at = now + (int64_t)app->cfg->trial_days * 86400;
		sub.current_period_end = 0;
	} else {
		snprintf(sub.status, sizeof(sub.status), PLAN_STATUS_ACTIVE);
		sub.current_period_end = plan_is_paid(plan) ? now + PERIOD_S : 0;
	}
	err = store_subscription_set(c, user_id, &sub, now);
	/* The accounts fit the new plan: Free allows none, a smaller plan fewer (the newest rest
	 * suspended), a larger one takes suspended ones back, all without a new authorization.
	 * PLAN_UNLIMITED is negative, which the store reads as "any number". */
	int limit = plan_can_connect_calendars(plan) ? plan_calendar_accounts(plan, &app->limits) : 0;
	int64_t down = 0, up = 0;
	if (!err)
		err = store_calendar_accounts_fit(c, user_id, limit, now, &down, &up);
	if (!err && up > 0)
		err = store_activity_add(c, user_id, now, "calendars.reactivated",
					 "Your calendar accounts are active again.");
	if (!err && down > 0) {
		char detail[200];
		if (limit == 0)
			snprintf(detail, sizeof(detail), "Your calendar accounts are suspended: the "
							 "Free plan has no calendars.");
		else
			snprintf(detail, sizeof(detail),
				 "%lld calendar account%s suspended: the %s plan allows %d. "
				 "Subscribe to a larger plan under Settings → Billing to use them "
				 "again.",
				 (long long)down, down == 1 ? " is" : "s are", plan_name(plan), limit);
		err = store_activity_add(c, user_id, now, "calendars.suspended", detail);
	}
	if (!err) {
		char detail[128];
		snprintf(detail, sizeof(detail), "Your plan is now %s.", plan_name(plan));
		err = store_activity_add(c, user_id, now, "plan.changed", detail);
	}
	if (!err)
		err = store_commit(c);
out:
	if (err)
		store_rollback(c);
	return err;
}

void api_billing_subscribe(struct http_request *req)
{
	static const struct json_field fields[] = {
		{"plan", JK_STRING, true, 32},
		{NULL, 0, false, 0},
	};
	struct app *app = req->app;
	struct api_user auth;
	if (!api_authenticate(req, true, &auth))
		return;
	json_t *body = api_body(req, fields);
	if (!body)
		return;
	enum plan plan;
	if (plan_parse(json_get_str(body, "plan"), &plan) != CX_OK || !plan_is_paid(plan)) {
		http_reply_error(req, 400, "invalid_request",
				 "The plan must be one of basic, standard or premium.", NULL);
		goto out;
	}
	if (strcmp(app->cfg->payments, "sandbox") != 0) {
		http_reply_error(req, 409, "payments_unavailable",
				 "Subscriptions cannot be bought on this Calendox yet.",
				 "Ask your administrator to change your plan.");
		goto out;
	}
	int64_t now = time_wall_s();
	enum cx_err err = api_set_plan(app, auth.id, plan, now);
	if (err) {
		api_reply_failure(req, err, "changing the plan");
		goto out;
	}
	log_info("plan changed", "user=%lld plan=%s", (long long)auth.id, plan_name(plan));
	json_t *p = api_plan_json(app, auth.id, now);
	http_reply_json(req, 200,
			json_pack("{s:O, s:O}", "plan", json_object_get(p, "name"), "status",
				  json_object_get(p, "status")));
	json_decref(p);
out:
	json_decref(body);
}

/* routes.c: the API's route table (DESIGN §5). */
#include "api/api.h"

#include "base/banned.h"

static const struct http_route routes[] = {
	{"POST", "/api/auth/signup", api_auth_signup},
	{"POST", "/api/auth/login", api_auth_login},
	{"POST", "/api/auth/logout", api_auth_logout},
	{"GET", "/api/me", api_me},
	{"GET", "/api/billing", api_billing_get},
	{"POST", "/api/billing/subscribe", api_billing_subscribe},
	{"GET", "/api/activity", api_activity_list},
	{"GET", "/api/apps", api_apps_list},
	{"DELETE", "/api/apps/zoom", api_apps_zoom_delete},
	{"GET", "/api/meeting-providers", api_meeting_providers},
	{"GET", "/oauth/zoom/start", api_oauth_zoom_start},
	{"GET", "/oauth/zoom/callback", api_oauth_zoom_callback},
	{"GET", "/oauth/google/start", api_oauth_google_start},
	{"GET", "/oauth/google/callback", api_oauth_google_callback},
	{"GET", "/oauth/microsoft/start", api_oauth_microsoft_start},
	{"GET", "/oauth/microsoft/callback", api_oauth_microsoft_callback},
	{"GET", "/api/calendars", api_calendars_list},
	{"PATCH", "/api/calendars/{id}", api_calendar_patch},
	{"DELETE", "/api/calendar-accounts/{id}", api_calendar_account_delete},
	{"GET", "/api/events", api_events_list},
	{"GET", "/api/events/{id}", api_event_get},
	{"POST", "/api/events", api_event_create},
	{"PATCH", "/api/events/{id}", api_event_patch},
	{"DELETE", "/api/events/{id}", api_event_delete},
	{"POST", "/webhooks/zoom", api_webhook_zoom},
	{"POST", "/webhooks/google", api_webhook_google},
	{"POST", "/webhooks/microsoft", api_webhook_microsoft},
	{"GET", "/healthz", api_healthz},
	{"GET", "/readyz", api_readyz},
	{"GET", "/metrics", api_metrics},
};

const struct http_route *api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* calendar_fixture.h: the fixture the calendar store tests share (test_events_store.c,
 * test_meetings_store.c, test_push_store.c): a real SQLite file in a temporary directory, migrated,
 * with two people, Ada (a Google account with a primary and a "Work" calendar) and Bob (one
 * primary calendar, of CALENDAR_FIXTURE_BOB_PROVIDER, "google" unless the test defines it before
 * including), and helpers to store a provider event and count what a range lists. Included by
 * one test program each: everything here is static, the helpers a test may not use inline. */
#ifndef CX_TESTS_CALENDAR_FIXTURE_H
#define CX_TESTS_CALENDAR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/events.h"

#ifndef CALENDAR_FIXTURE_BOB_PROVIDER
#define CALENDAR_FIXTURE_BOB_PROVIDER "google"
#endif

struct fixture {
	char dir[64];
	struct store *st;
	struct store_conn *c;
	int64_t ada, bob;
	int64_t ada_account, bob_account;
	int64_t ada_primary, ada_work, bob_primary;
};

static const struct store_calendar ada_cals[] = {
    {.external_id = "ada@example.com",
     .name = "ada@example.com",
     .primary = true,
     .writable = true},
    {.external_id = "work@group", .name = "Work", .writable = true},
};
static const struct store_calendar bob_cals[] = {
    {.external_id = "bob@example.com",
     .name = "bob@example.com",
     .primary = true,
     .writable = true},
};

static int64_t connect_account(struct store_conn *c, int64_t user, const char *provider,
                               const char *external_id, const struct store_calendar *cals, size_t n)
{
	int64_t id = 0;
	if (store_calendar_account_reserve(c, user, provider, external_id, 10, &id, NULL) !=
	        CX_OK ||
	    store_calendar_account_connect(c, id, user, external_id, "sealed-box", 3600, "",
	                                   CALENDAR_ACCOUNT_ACTIVE, 10) != CX_OK ||
	    store_calendars_merge(c, user, id, cals, n) != CX_OK)
		return 0;
	return id;
}

static int64_t calendar_id(struct fixture *f, int64_t user, const char *external_id)
{
	struct store_calendar *cals = NULL;
	size_t n = 0;
	int64_t id = 0;
	if (store_calendars_list(f->c, user, &cals, &n) != CX_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cals[i].external_id, external_id) == 0)
			id = cals[i].id;
	store_calendars_free(cals, n);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-calendar-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char *url = xasprintf("sqlite:%s/t.db", f->dir);
	int rc = store_open(url, &f->st) != CX_OK || store_migrate(f->st) != CX_OK;
	free(url);
	if (rc)
		return -1;
	f->c = store_conn(f->st);
	if (store_user_create(f->c, "ada@example.com", "Ada", "h", 1, &f->ada) != CX_OK ||
	    store_user_create(f->c, "bob@example.com", "Bob", "h", 1, &f->bob) != CX_OK)
		return -1;
	f->ada_account = connect_account(f->c, f->ada, "google", "ada@example.com", ada_cals, 2);
	f->bob_account = connect_account(f->c, f->bob, CALENDAR_FIXTURE_BOB_PROVIDER,
	                                 "bob@example.com", bob_cals, 1);
	f->ada_primary = calendar_id(f, f->ada, "ada@example.com");
	f->ada_work = calendar_id(f, f->ada, "work@group");
	f->bob_primary = calendar_id(f, f->bob, "bob@example.com");
	if (!f->ada_account || !f->bob_account || !f->ada_primary || !f->ada_work ||
	    !f->bob_primary)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_thread_done(f->st);
	store_close(f->st);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

static inline int64_t put(struct fixture *f, int64_t cal, int64_t user, const char *ext, const char *title,
                   int64_t start, int64_t end, const char *series, int64_t generation)
{
	struct store_event e = {
	    .external_id = (char *)ext,
	    .title = (char *)title,
	    .start_utc = start,
	    .end_utc = end,
	    .time_zone = "Europe/Berlin",
	    .location = "Room 1",
	    .join_url = "https://meet.google.com/abc-defg-hij",
	    .recurring_series_id = (char *)series,
	};
	snprintf(e.status, sizeof(e.status), "%s", EVENT_STATUS_CONFIRMED);
	int64_t id = 0;
	assert_int_equal(store_event_upsert(f->c, cal, user, &e, generation, 100, &id), CX_OK);
	assert_true(id > 0);
	return id;
}

static inline size_t count_listed(struct fixture *f, int64_t user, int64_t start, int64_t end)
{
	struct store_event *list = NULL;
	size_t n = 0;
	assert_int_equal(store_events_list(f->c, user, start, end, &list, &n), CX_OK);
	store_events_free(list, n);
	return n;
}

#endif

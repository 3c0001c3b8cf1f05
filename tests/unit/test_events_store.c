/* Events and sync cursors in the store (store/events.c), on a real SQLite file: the upsert by
 * calendar and provider id, deletion of events and of a series' occurrences, the sweep after a full
 * round, the range listing (selected calendars of active accounts, the owner's only), reading one
 * event, the cursor and generation of a calendar, and which calendars are due for a sync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/events.h"

#include "calendar_fixture.h"

static void upsert_updates_the_same_row(void **state)
{
	struct fixture *f = *state;
	int64_t a = put(f, f->ada_primary, f->ada, "ev1", "Standup", 1000, 2000, NULL, 0);
	int64_t b = put(f, f->ada_primary, f->ada, "ev1", "Standup moved", 3000, 4000, NULL, 0);
	assert_int_equal(a, b);
	/* The same provider id in another calendar is another event. */
	int64_t c = put(f, f->ada_work, f->ada, "ev1", "Work copy", 1000, 2000, NULL, 0);
	assert_int_not_equal(a, c);

	struct store_event ev;
	assert_int_equal(store_event_get(f->c, f->ada, a, &ev), CX_OK);
	assert_string_equal(ev.title, "Standup moved");
	assert_int_equal(ev.start_utc, 3000);
	assert_int_equal(ev.end_utc, 4000);
	assert_int_equal(ev.calendar_id, f->ada_primary);
	assert_string_equal(ev.provider, "google");
	assert_string_equal(ev.external_id, "ev1");
	assert_string_equal(ev.time_zone, "Europe/Berlin");
	assert_string_equal(ev.location, "Room 1");
	assert_string_equal(ev.join_url, "https://meet.google.com/abc-defg-hij");
	assert_string_equal(ev.status, "confirmed");
	assert_null(ev.description);
	assert_false(ev.deleted);
	assert_int_equal(ev.updated_at, 100);
	store_event_release(&ev);
	assert_int_equal(count_listed(f, f->ada, 0, 10000), 2);

	struct store_event bad = {.title = "no id"};
	assert_int_equal(store_event_upsert(f->c, f->ada_primary, f->ada, &bad, 0, 1, NULL),
	                 CX_EINVAL);
}

static void list_is_the_owners_selected_active_range(void **state)
{
	struct fixture *f = *state;
	int64_t early = put(f, f->ada_primary, f->ada, "early", "Early", 100, 200, NULL, 0);
	int64_t mid = put(f, f->ada_primary, f->ada, "mid", "Mid", 1500, 2500, NULL, 0);
	put(f, f->ada_work, f->ada, "work", "Work", 1200, 1300, NULL, 0);
	int64_t bobs = put(f, f->bob_primary, f->bob, "bob", "Bob's", 1500, 2500, NULL, 0);

	struct store_event *list = NULL;
	size_t n = 0;
	/* [1000, 2000): overlapping ones only, earliest first; "early" ends before. */
	assert_int_equal(store_events_list(f->c, f->ada, 1000, 2000, &list, &n), CX_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].external_id, "work");
	assert_int_equal(list[1].id, mid);
	store_events_free(list, n);
	/* The end is exclusive on both sides. */
	assert_int_equal(count_listed(f, f->ada, 200, 1200), 0);
	assert_int_equal(count_listed(f, f->ada, 199, 1201), 2);

	/* Another person's events are never listed nor read. */
	assert_int_equal(count_listed(f, f->bob, 0, 5000), 1);
	struct store_event ev;
	assert_int_equal(store_event_get(f->c, f->ada, bobs, &ev), CX_ENOTFOUND);
	assert_int_equal(store_event_get(f->c, f->bob, early, &ev), CX_ENOTFOUND);

	/* An unselected calendar drops out of the list. */
	assert_int_equal(store_calendar_set_selected(f->c, f->ada, f->ada_work, false), CX_OK);
	assert_int_equal(count_listed(f, f->ada, 1000, 2000), 1);
	/* A suspended account too. */
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->ada, true, 50, NULL), CX_OK);
	assert_int_equal(count_listed(f, f->ada, 0, 5000), 0);
	assert_int_equal(count_listed(f, f->bob, 0, 5000), 1);
}

static void deleted_events_and_series_disappear(void **state)
{
	struct fixture *f = *state;
	int64_t single = put(f, f->ada_primary, f->ada, "single", "One", 1000, 2000, NULL, 0);
	put(f, f->ada_primary, f->ada, "series_20260101", "Weekly", 3000, 3600, "series", 0);
	put(f, f->ada_primary, f->ada, "series_20260108", "Weekly", 4000, 4600, "series", 0);
	put(f, f->ada_work, f->ada, "single", "Same id elsewhere", 1000, 2000, NULL, 0);
	assert_int_equal(count_listed(f, f->ada, 0, 10000), 4);

	int64_t changes = 0;
	assert_int_equal(store_event_mark_deleted(f->c, f->ada_primary, "single", 5, &changes),
	                 CX_OK);
	assert_int_equal(changes, 1);
	struct store_event ev;
	assert_int_equal(store_event_get(f->c, f->ada, single, &ev), CX_ENOTFOUND);
	/* The series id removes its occurrences. */
	assert_int_equal(store_event_mark_deleted(f->c, f->ada_primary, "series", 5, &changes),
	                 CX_OK);
	assert_int_equal(changes, 2);
	assert_int_equal(count_listed(f, f->ada, 0, 10000), 1);
	/* Deleting what is not there is no error. */
	assert_int_equal(store_event_mark_deleted(f->c, f->ada_primary, "nothing", 5, &changes),
	                 CX_OK);
	assert_int_equal(changes, 0);
	/* An upsert brings a deleted event back. */
	int64_t again = put(f, f->ada_primary, f->ada, "single", "One again", 1000, 2000, NULL, 0);
	assert_int_equal(again, single);
	assert_int_equal(store_event_get(f->c, f->ada, single, &ev), CX_OK);
	assert_string_equal(ev.title, "One again");
	store_event_release(&ev);
}

static void sweep_removes_what_a_full_round_did_not_see(void **state)
{
	struct fixture *f = *state;
	put(f, f->ada_primary, f->ada, "old_round", "Gone at Google", 1000, 1100, NULL, 0);
	put(f, f->ada_primary, f->ada, "this_round", "Still there", 1000, 1100, NULL, 1);
	put(f, f->ada_primary, f->ada, "outside", "Before the window", 10, 20, NULL, 0);
	put(f, f->ada_work, f->ada, "other_cal", "Other calendar", 1000, 1100, NULL, 0);
	int64_t changes = 0;
	assert_int_equal(store_events_sweep(f->c, f->ada_primary, 1, 500, 5000, 7, &changes),
	                 CX_OK);
	assert_int_equal(changes, 1);
	struct store_event *list = NULL;
	size_t n = 0;
	assert_int_equal(store_events_list(f->c, f->ada, 0, 5000, &list, &n), CX_OK);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(list[i].external_id, "old_round");
	store_events_free(list, n);
}

static void cursor_generation_and_due_calendars(void **state)
{
	struct fixture *f = *state;
	struct store_sync_target t;
	assert_int_equal(store_sync_target_get(f->c, f->ada_work, &t), CX_OK);
	assert_int_equal(t.calendar_id, f->ada_work);
	assert_int_equal(t.account_id, f->ada_account);
	assert_int_equal(t.user_id, f->ada);
	assert_string_equal(t.provider, "google");
	assert_string_equal(t.account_status, "active");
	assert_true(t.selected);
	assert_string_equal(t.calendar_external_id, "work@group");
	assert_string_equal(t.tokens, "sealed-box");
	assert_null(t.sync_token);
	assert_int_equal(t.synced_at, 0);
	assert_int_equal(t.generation, 0);
	store_sync_target_release(&t);
	assert_int_equal(store_sync_target_get(f->c, 999999, &t), CX_ENOTFOUND);

	/* Never synced: all three calendars are due; by account only that account's. */
	struct store_sync_due *due = NULL;
	size_t n = 0;
	assert_int_equal(store_calendars_sync_due(f->c, 0, 1000, 10, &due, &n), CX_OK);
	assert_int_equal(n, 3);
	free(due);
	assert_int_equal(store_calendars_sync_due(f->c, f->ada_account, 0, 10, &due, &n), CX_OK);
	assert_int_equal(n, 2);
	free(due);
	assert_int_equal(store_calendars_sync_due(f->c, 0, 1000, 1, &due, &n), CX_OK);
	assert_int_equal(n, 1);
	free(due);

	assert_int_equal(store_calendar_sync_finish(f->c, f->ada_work, "cursor-1", 2000), CX_OK);
	assert_int_equal(store_sync_target_get(f->c, f->ada_work, &t), CX_OK);
	assert_string_equal(t.sync_token, "cursor-1");
	assert_int_equal(t.synced_at, 2000);
	assert_int_equal(t.generation, 1);
	store_sync_target_release(&t);
	/* Synced at 2000: due when the poll looks for syncs at or before 2000, not before 1999. */
	assert_int_equal(store_calendars_sync_due(f->c, 0, 1999, 10, &due, &n), CX_OK);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(due[i].calendar_id, f->ada_work);
	free(due);
	assert_int_equal(store_calendars_sync_due(f->c, 0, 2000, 10, &due, &n), CX_OK);
	assert_int_equal(n, 3);
	assert_int_equal(due[2].calendar_id, f->ada_work); /* oldest sync first */
	assert_int_equal(due[2].generation, 1);
	free(due);

	assert_int_equal(store_calendar_sync_reset(f->c, f->ada_work), CX_OK);
	assert_int_equal(store_calendar_sync_abandon(f->c, f->ada_work), CX_OK);
	assert_int_equal(store_sync_target_get(f->c, f->ada_work, &t), CX_OK);
	assert_null(t.sync_token);
	assert_int_equal(t.synced_at, 2000);
	assert_int_equal(t.generation, 2);
	store_sync_target_release(&t);
	assert_int_equal(store_calendar_sync_finish(f->c, 999999, NULL, 1), CX_ENOTFOUND);

	/* Unselected calendars and suspended accounts are never due. */
	assert_int_equal(store_calendar_set_selected(f->c, f->ada, f->ada_primary, false), CX_OK);
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->bob, true, 50, NULL), CX_OK);
	assert_int_equal(store_calendars_sync_due(f->c, 0, 5000, 10, &due, &n), CX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].calendar_id, f->ada_work);
	free(due);
}

static void removing_the_account_removes_its_events(void **state)
{
	struct fixture *f = *state;
	put(f, f->ada_primary, f->ada, "ev", "Event", 1000, 2000, NULL, 0);
	put(f, f->bob_primary, f->bob, "ev", "Event", 1000, 2000, NULL, 0);
	assert_int_equal(store_calendar_account_delete(f->c, f->ada, f->ada_account), CX_OK);
	int64_t left = 0;
	assert_int_equal(store_query_int(f->c, "SELECT COUNT(*) FROM events", NULL, 0, &left),
	                 CX_OK);
	assert_int_equal(left, 1);
	assert_int_equal(count_listed(f, f->bob, 0, 5000), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(upsert_updates_the_same_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(list_is_the_owners_selected_active_range, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(deleted_events_and_series_disappear, setup, teardown),
	    cmocka_unit_test_setup_teardown(sweep_removes_what_a_full_round_did_not_see, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(cursor_generation_and_due_calendars, setup, teardown),
	    cmocka_unit_test_setup_teardown(removing_the_account_removes_its_events, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Events Calendox writes and their meetings in the store (store/meetings.c), on a real SQLite
 * file: creating an event with a meeting once per Idempotency-Key, a change bumping the version
 * and a write finishing only when nothing newer came in, the provider's id replacing a placeholder
 * (and a row sync made meanwhile), sync leaving a pending write alone, a failed create leaving
 * nothing behind, the meeting's life (created, removed while being created, deleted), the events
 * whose meetings need the write job after sync, and the owner-only reads. */
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
#include "store/meetings.h"

#include "calendar_fixture.h"

static int64_t create(struct fixture *f, int64_t user, int64_t cal, const char *ext,
                      const char *key, const char *meeting)
{
	struct store_event e = {
	    .external_id = (char *)ext,
	    .title = "Planning",
	    .start_utc = 1000,
	    .end_utc = 4600,
	    .time_zone = "Europe/Berlin",
	    .description = "Agenda",
	};
	struct store_event_new n = {
	    .user_id = user,
	    .calendar_id = cal,
	    .event = &e,
	    .write_seed = "seed-1",
	    .idempotency_key = key,
	    .request_hash = "hash-1",
	    .meeting_provider = meeting,
	    .connection_id = meeting ? 7 : 0,
	};
	int64_t id = 0;
	enum cx_err err = store_event_create(f->c, &n, 100, &id);
	return err ? -(int64_t)err : id;
}

static void target(struct fixture *f, int64_t id, struct store_write_target *t)
{
	assert_int_equal(store_write_target_get(f->c, id, t), CX_OK);
}

static void creates_once_per_idempotency_key(void **state)
{
	struct fixture *f = *state;
	int64_t id = create(f, f->ada, f->ada_primary, "gid-1", "key-1", "zoom");
	assert_true(id > 0);
	assert_int_equal(create(f, f->ada, f->ada_primary, "gid-2", "key-1", NULL), -CX_ECONFLICT);
	/* The key is the person's own. */
	assert_true(create(f, f->bob, f->bob_primary, "gid-3", "key-1", NULL) > 0);
	int64_t found = 0;
	char *hash = NULL;
	assert_int_equal(store_event_by_idempotency(f->c, f->ada, "key-1", &found, &hash), CX_OK);
	assert_int_equal(found, id);
	assert_string_equal(hash, "hash-1");
	free(hash);
	assert_int_equal(store_event_by_idempotency(f->c, f->ada, "key-2", &found, &hash),
	                 CX_ENOTFOUND);

	struct store_write_target t;
	target(f, id, &t);
	assert_string_equal(t.write_state, WRITE_PENDING);
	assert_int_equal(t.local_version, 1);
	assert_int_equal(t.written_version, 0);
	assert_false(t.at_provider);
	assert_string_equal(t.write_seed, "seed-1");
	assert_string_equal(t.calendar_external_id, "ada@example.com");
	assert_true(t.has_meeting);
	assert_string_equal(t.meeting.provider, "zoom");
	assert_string_equal(t.meeting.status, MEETING_PENDING);
	assert_int_equal(t.meeting.connection_id, 7);
	assert_null(t.meeting.external_id);
	store_write_target_release(&t);

	/* Shown to its owner with the pending meeting; never to anyone else. */
	struct store_event ev;
	assert_int_equal(store_event_get(f->c, f->ada, id, &ev), CX_OK);
	assert_non_null(ev.meeting);
	assert_string_equal(ev.meeting->status, MEETING_PENDING);
	store_event_release(&ev);
	assert_int_equal(store_event_get(f->c, f->bob, id, &ev), CX_ENOTFOUND);
}

static void a_write_ends_only_when_nothing_newer_came(void **state)
{
	struct fixture *f = *state;
	int64_t id = create(f, f->ada, f->ada_primary, "calendox-pending-x", NULL, NULL);
	/* Sync stored the new event under its provider id before the answer named it. */
	put(f, f->ada_primary, f->ada, "graph-id", "Planning", 1000, 4600, NULL, 1);
	struct store_event_readback back = {.description = "Agenda", .location = "Room"};
	assert_int_equal(store_event_written(f->c, id, 1, "graph-id", "etag-1", &back, 200), CX_OK);
	struct store_write_target t;
	target(f, id, &t);
	assert_true(t.at_provider);
	assert_int_equal(t.written_version, 1);
	assert_string_equal(t.write_state, WRITE_NONE);
	assert_string_equal(t.ev.external_id, "graph-id");
	assert_string_equal(t.ev.location, "Room");
	int64_t generation = t.write_generation;
	store_write_target_release(&t);
	assert_int_equal(count_listed(f, f->ada, 0, 10000), 1); /* one row, not two */

	/* A change comes in while the job still works on version 1: the job does not end. */
	struct store_event_change ch = {.title = "Planning (moved)", .set_time = true,
	                                .start_utc = 2000, .end_utc = 5600};
	int64_t gen2 = 0;
	assert_int_equal(store_event_change(f->c, f->ada, id, &ch, 300, &gen2), CX_OK);
	assert_int_equal(gen2, generation);
	bool finished = true;
	assert_int_equal(store_event_write_finish(f->c, id, 1, &finished), CX_OK);
	assert_false(finished);
	target(f, id, &t);
	assert_int_equal(t.local_version, 2);
	assert_string_equal(t.write_state, WRITE_PENDING);
	assert_string_equal(t.ev.title, "Planning (moved)");
	assert_int_equal(t.ev.start_utc, 2000);
	store_write_target_release(&t);

	/* Sync leaves the person's pending version alone. */
	struct store_event old = {.external_id = "graph-id", .title = "Old title", .start_utc = 1000,
	                          .end_utc = 4600};
	int64_t row = -1;
	assert_int_equal(store_event_upsert(f->c, f->ada_primary, f->ada, &old, 2, 350, &row), CX_OK);
	assert_int_equal(row, 0);
	target(f, id, &t);
	assert_string_equal(t.ev.title, "Planning (moved)");
	store_write_target_release(&t);

	assert_int_equal(store_event_written(f->c, id, 2, "graph-id", "etag-2", NULL, 400), CX_OK);
	assert_int_equal(store_event_write_finish(f->c, id, 2, &finished), CX_OK);
	assert_true(finished);
	target(f, id, &t);
	assert_int_equal(t.write_generation, generation + 1);
	assert_string_equal(t.write_state, WRITE_NONE);
	store_write_target_release(&t);

	/* Another person cannot change it. */
	assert_int_equal(store_event_change(f->c, f->bob, id, &ch, 500, &gen2), CX_ENOTFOUND);
	assert_int_equal(store_event_request_delete(f->c, f->bob, id, 500, &gen2), CX_ENOTFOUND);
	/* Deleting hides it at once; the provider's copy goes later. */
	assert_int_equal(store_event_request_delete(f->c, f->ada, id, 500, &gen2), CX_OK);
	assert_int_equal(count_listed(f, f->ada, 0, 10000), 0);
	struct store_event ev;
	assert_int_equal(store_event_get(f->c, f->ada, id, &ev), CX_ENOTFOUND);
	assert_int_equal(store_event_delete_done(f->c, id, 600), CX_OK);
	target(f, id, &t);
	assert_true(t.ev.deleted);
	store_write_target_release(&t);
}

static void a_failed_create_leaves_nothing_behind(void **state)
{
	struct fixture *f = *state;
	int64_t id = create(f, f->ada, f->ada_primary, "gid-f", NULL, "zoom");
	assert_int_equal(store_event_write_failed(f->c, id, "Google Calendar answered 403", 100),
	                 CX_OK);
	assert_int_equal(count_listed(f, f->ada, 0, 10000), 0);
	/* Its failure can still be read by its owner (the UI shows why). */
	struct store_event ev;
	assert_int_equal(store_event_get(f->c, f->ada, id, &ev), CX_OK);
	assert_string_equal(ev.write_state, WRITE_FAILED);
	assert_string_equal(ev.write_error, "Google Calendar answered 403");
	store_event_release(&ev);
}

static void a_meeting_lives_and_goes(void **state)
{
	struct fixture *f = *state;
	int64_t id = create(f, f->ada, f->ada_primary, "gid-m", NULL, "zoom");
	assert_int_equal(store_meeting_add(f->c, f->ada, id, "zoom", 7, 100), CX_ECONFLICT);
	assert_int_equal(store_meeting_create_started(f->c, id, 100), CX_OK);
	assert_int_equal(store_meeting_create_failed(f->c, id, 5000, true, "zoom_daily_limit",
	                                             "Zoom's daily limit", NULL, 100),
	                 CX_OK);
	struct store_write_target t;
	target(f, id, &t);
	assert_true(t.meeting.create_inflight); /* the answer was lost: it may exist */
	assert_int_equal(t.meeting.attempts, 1);
	assert_int_equal(t.meeting.retry_at_ms, 5000);
	assert_string_equal(t.meeting.error_code, "zoom_daily_limit");
	store_write_target_release(&t);

	/* Removed while it was being created: once Zoom names it, it is to be deleted. */
	assert_int_equal(store_meeting_set_status(f->c, id, MEETING_DELETED, NULL, NULL, NULL, 110),
	                 CX_OK);
	assert_int_equal(store_meeting_set_zoom(f->c, id, "91234567890", "https://zoom.us/j/1",
	                                        "pw", "Planning", 1000, 4600, "UTC", 120),
	                 CX_OK);
	target(f, id, &t);
	assert_string_equal(t.meeting.status, MEETING_DELETING);
	assert_string_equal(t.meeting.external_id, "91234567890");
	assert_false(t.meeting.create_inflight);
	assert_null(t.meeting.error_code);
	store_write_target_release(&t);
	struct store_meeting m;
	assert_int_equal(store_meeting_get(f->c, f->ada, id, &m), CX_OK);
	store_meeting_release(&m);
	assert_int_equal(store_meeting_get(f->c, f->bob, id, &m), CX_ENOTFOUND);
	/* Once gone, a new meeting may be added. */
	assert_int_equal(store_meeting_set_status(f->c, id, MEETING_DELETED, NULL, NULL, NULL, 130),
	                 CX_OK);
	assert_int_equal(store_meeting_add(f->c, f->ada, id, "google_meet", 0, 140), CX_OK);
	assert_int_equal(store_meeting_get(f->c, f->ada, id, &m), CX_OK);
	assert_string_equal(m.provider, "google_meet");
	store_meeting_release(&m);
}

static void sync_points_at_meetings_that_need_work(void **state)
{
	struct fixture *f = *state;
	int64_t gone = create(f, f->ada, f->ada_primary, "gid-gone", NULL, "zoom");
	int64_t moved = create(f, f->ada, f->ada_primary, "gid-moved", NULL, "zoom");
	int64_t still = create(f, f->ada, f->ada_primary, "gid-still", NULL, "zoom");
	int64_t ids[] = {gone, moved, still};
	for (size_t i = 0; i < 3; i++) {
		bool finished = false;
		assert_int_equal(store_event_written(f->c, ids[i], 1, i == 0 ? "gid-gone"
		                                                      : i == 1 ? "gid-moved"
		                                                               : "gid-still",
		                                     NULL, NULL, 100),
		                 CX_OK);
		assert_int_equal(store_event_write_finish(f->c, ids[i], 1, &finished), CX_OK);
		assert_int_equal(store_meeting_set_zoom(f->c, ids[i], "9000000000", "https://zoom.us/j/9",
		                                        NULL, "Planning", 1000, 4600, NULL, 100),
		                 CX_OK);
		assert_int_equal(store_meeting_set_status(f->c, ids[i], MEETING_READY, NULL, NULL,
		                                          NULL, 100),
		                 CX_OK);
	}
	int64_t *found = NULL;
	size_t n = 9;
	assert_int_equal(store_meetings_attention(f->c, f->ada_primary, 10, &found, &n), CX_OK);
	assert_int_equal(n, 0);
	free(found);
	/* Deleted in Google, and moved in Google (both reported by sync). */
	assert_int_equal(store_event_mark_deleted(f->c, f->ada_primary, "gid-gone", 200, NULL),
	                 CX_OK);
	put(f, f->ada_primary, f->ada, "gid-moved", "Planning", 3000, 6600, NULL, 3);
	put(f, f->ada_primary, f->ada, "gid-still", "Planning", 1000, 4600, NULL, 3);
	assert_int_equal(store_meetings_attention(f->c, f->ada_primary, 10, &found, &n), CX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(found[0], gone);
	assert_int_equal(found[1], moved);
	free(found);
	assert_int_equal(store_meetings_attention(f->c, f->ada_work, 10, &found, &n), CX_OK);
	assert_int_equal(n, 0);
	free(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(creates_once_per_idempotency_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_write_ends_only_when_nothing_newer_came, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(a_failed_create_leaves_nothing_behind, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_meeting_lives_and_goes, setup, teardown),
	    cmocka_unit_test_setup_teardown(sync_points_at_meetings_that_need_work, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* events.c: calendar events and sync cursors (store/events.h), in portable SQL (store.h). */
#include "store/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/meetings.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
void store_event_release(struct store_event *e)
{
	free(e->external_id);
	free(e->title);
	free(e->time_zone);
	free(e->description);
	free(e->location);
	free(e->etag);
	free(e->join_url);
	free(e->recurring_series_id);
	free(e->write_error);
	if (e->meeting) {
		store_meeting_release(e->meeting);
		free(e->meeting);
	}
	memset(e, 0, sizeof(*e));
}

void store_events_free(struct store_event *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_event_release(&list[i]);
	free(list);
}

void store_sync_target_release(struct store_sync_target *t)
{
	free(t->calendar_external_id);
	free(t->tokens);
	free(t->sync_token);
	memset(t, 0, sizeof(*t));
}

void store_event_read(struct store_rows *rows, struct store_event *e)
{
	memset(e, 0, sizeof(*e));
	e->id = store_col_int(rows, 0);
	e->calendar_id = store_col_int(rows, 1);
	e->user_id = store_col_int(rows, 2);
	snprintf(e->provider, sizeof(e->provider), "%s", store_col_text(rows, 3));
	e->external_id = store_col_text_dup(rows, 4);
	e->title = store_col_text_dup(rows, 5);
	e->start_utc = store_col_int(rows, 6);
	e->end_utc = store_col_int(rows, 7);
	e->time_zone = store_col_text_dup(rows, 8);
	e->all_day = store_col_int(rows, 9) != 0;
	e->description = store_col_text_dup(rows, 10);
	e->location = store_col_text_dup(rows, 11);
	e->etag = store_col_text_dup(rows, 12);
	e->join_url = store_col_text_dup(rows, 13);
	e->recurring_series_id = store_col_text_dup(rows, 14);
	snprintf(e->status, sizeof(e->status), "%s", store_col_text(rows, 15));
	e->deleted = store_col_int(rows, 16) != 0;
	e->updated_at = store_col_int(rows, 17);
	snprintf(e->write_state, sizeof(e->write_state), "%s",
	         store_col_text(rows, 18) ? store_col_text(rows, 18) : WRITE_NONE);
	e->write_error = store_col_text_dup(rows, 19);
	if (!store_col_null(rows, 20)) {
		struct store_meeting *m = xcalloc(1, sizeof(*m));
		m->id = store_col_int(rows, 20);
		m->event_id = e->id;
		m->user_id = e->user_id;
		snprintf(m->provider, sizeof(m->provider), "%s", store_col_text(rows, 21));
		snprintf(m->status, sizeof(m->status), "%s", store_col_text(rows, 22));
		m->external_id = store_col_text_dup(rows, 23);
		m->join_url = store_col_text_dup(rows, 24);
		m->passcode = store_col_text_dup(rows, 25);
		m->error_code = store_col_text_dup(rows, 26);
		m->error_message = store_col_text_dup(rows, 27);
		m->error_hint = store_col_text_dup(rows, 28);
		m->connection_id = store_col_int(rows, 29);
		e->meeting = m;
	}
}

enum cx_err store_sync_target_get(struct store_conn *c, int64_t calendar_id,
                                  struct store_sync_target *out)
{
	struct store_val p[] = {SV_INT(calendar_id)};
	struct store_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = store_query(
	    c,
	    "SELECT calendars.id, calendars.account_id, calendar_accounts.user_id, "
	    "calendar_accounts.provider, calendar_accounts.status, calendars.selected, "
	    "calendars.external_id, calendar_accounts.tokens, calendars.sync_token, "
	    "calendars.synced_at, calendars.sync_generation FROM calendars JOIN calendar_accounts "
	    "ON calendar_accounts.id = calendars.account_id WHERE calendars.id = $1",
	    p, N(p), &rows);
	if (err)
		return err;
	if (!store_rows_next(rows)) {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
		goto out;
	}
	out->calendar_id = store_col_int(rows, 0);
	out->account_id = store_col_int(rows, 1);
	out->user_id = store_col_int(rows, 2);
	snprintf(out->provider, sizeof(out->provider), "%s", store_col_text(rows, 3));
	snprintf(out->account_status, sizeof(out->account_status), "%s", store_col_text(rows, 4));
	out->selected = store_col_int(rows, 5) != 0;
	out->calendar_external_id = store_col_text_dup(rows, 6);
	out->tokens = store_col_text_dup(rows, 7);
	out->sync_token = store_col_text_dup(rows, 8);
	out->synced_at = store_col_int(rows, 9);
	out->generation = store_col_int(rows, 10);
out:
	store_rows_free(rows);
	return err;
}

enum cx_err store_event_upsert(struct store_conn *c, int64_t calendar_id, int64_t user_id,
                               const struct store_event *e, int64_t generation, int64_t now,
                               int64_t *id)
{
	if (!e->external_id || !*e->external_id)
		return CX_EINVAL;
	struct store_val p[] = {
	    SV_INT(calendar_id),
	    SV_INT(user_id),
	    SV_TEXT(e->external_id),
	    SV_TEXT(e->title),
	    SV_INT(e->start_utc),
	    SV_INT(e->end_utc),
	    SV_TEXT(e->time_zone),
	    SV_INT(e->all_day ? 1 : 0),
	    SV_TEXT(e->description),
	    SV_TEXT(e->location),
	    SV_TEXT(e->etag),
	    SV_TEXT(e->join_url),
	    SV_TEXT(e->recurring_series_id),
	    SV_TEXT(e->status[0] ? e->status : "confirmed"),
	    SV_INT(now),
	    SV_INT(generation),
	};
	int64_t row = 0;
	enum cx_err err = store_query_int(
	    c,
	    "INSERT INTO events (calendar_id, user_id, external_id, title, start_utc, end_utc, "
	    "time_zone, all_day, description, location, etag, join_url, recurring_series_id, "
	    "status, deleted, updated_at, seen_generation) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	    "$8, $9, $10, $11, $12, $13, $14, 0, $15, $16) ON CONFLICT (calendar_id, external_id) "
	    "DO UPDATE SET title = excluded.title, start_utc = excluded.start_utc, end_utc = "
	    "excluded.end_utc, time_zone = excluded.time_zone, all_day = excluded.all_day, "
	    "description = excluded.description, location = excluded.location, etag = "
	    "excluded.etag, join_url = excluded.join_url, recurring_series_id = "
	    "excluded.recurring_series_id, status = excluded.status, deleted = 0, updated_at = "
	    "excluded.updated_at, seen_generation = excluded.seen_generation WHERE "
	    "events.write_state <> 'pending' RETURNING id",
	    p, N(p), &row);
	if (err == CX_ENOTFOUND) /* a write of Calendox's is pending: its version stays */
		err = CX_OK;
	if (!err && id)
		*id = row;
	return err;
}

enum cx_err store_event_mark_deleted(struct store_conn *c, int64_t calendar_id,
                                     const char *external_id, int64_t now, int64_t *changes)
{
	struct store_val p[] = {SV_INT(calendar_id), SV_TEXT(external_id), SV_INT(now)};
	if (!external_id)
		return CX_EINVAL;
	return store_exec(c,
	                  "UPDATE events SET deleted = 1, status = 'cancelled', updated_at = $3 "
	                  "WHERE calendar_id = $1 AND deleted = 0 AND (external_id = $2 OR "
	                  "recurring_series_id = $2)",
	                  p, N(p), changes);
}

enum cx_err store_events_sweep(struct store_conn *c, int64_t calendar_id, int64_t generation,
                               int64_t window_start, int64_t window_end, int64_t now,
                               int64_t *changes)
{
	struct store_val p[] = {SV_INT(calendar_id), SV_INT(generation), SV_INT(window_start),
	                        SV_INT(window_end), SV_INT(now)};
	return store_exec(c,
	                  "UPDATE events SET deleted = 1, status = 'cancelled', updated_at = $5 "
	                  "WHERE calendar_id = $1 AND deleted = 0 AND at_provider = 1 AND "
	                  "write_state <> 'pending' AND seen_generation < $2 AND "
	                  "start_utc >= $3 AND start_utc < $4",
	                  p, N(p), changes);
}

enum cx_err store_events_list(struct store_conn *c, int64_t user_id, int64_t start, int64_t end,
                              struct store_event **out, size_t *n)
{
	struct store_val p[] = {SV_INT(user_id), SV_INT(start), SV_INT(end),
	                        SV_INT(EVENTS_LIST_MAX)};
	struct store_rows *rows = NULL;
	struct store_event *list = NULL;
	size_t count = 0, cap = 0;
	*out = NULL;
	*n = 0;
	enum cx_err err =
	    store_query(c,
	                "SELECT " STORE_EVENT_COLUMNS STORE_EVENT_FROM
	                "WHERE events.user_id = $1 AND calendar_accounts.user_id = $1 "
	                "AND events.deleted = 0 AND events.delete_requested = 0 AND "
	                "calendars.selected = 1 AND "
	                "calendar_accounts.status = 'active' AND events.start_utc < $3 "
	                "AND events.end_utc > $2 ORDER BY events.start_utc, events.id "
	                "LIMIT $4",
	                p, N(p), &rows);
	if (err)
		return err;
	while (store_rows_next(rows)) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		store_event_read(rows, &list[count++]);
	}
	err = store_rows_error(rows);
	store_rows_free(rows);
	if (err) {
		store_events_free(list, count);
		return err;
	}
	*out = list;
	*n = count;
	return CX_OK;
}

enum cx_err store_event_get(struct store_conn *c, int64_t user_id, int64_t id,
                            struct store_event *out)
{
	struct store_val p[] = {SV_INT(user_id), SV_INT(id)};
	struct store_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err =
	    store_query(c,
	                "SELECT " STORE_EVENT_COLUMNS STORE_EVENT_FROM
	                "WHERE events.user_id = $1 AND calendar_accounts.user_id = $1 "
	                "AND events.id = $2 AND events.delete_requested = 0 AND "
	                "(events.deleted = 0 OR events.write_state = 'failed')",
	                p, N(p), &rows);
	if (err)
		return err;
	if (store_rows_next(rows))
		store_event_read(rows, out);
	else
		err = store_rows_error(rows) ? store_rows_error(rows) : CX_ENOTFOUND;
	store_rows_free(rows);
	return err;
}

enum cx_err store_calendar_sync_finish(struct store_conn *c, int64_t calendar_id,
                                       const char *sync_token, int64_t now)
{
	struct store_val p[] = {SV_INT(calendar_id), SV_TEXT(sync_token), SV_INT(now)};
	int64_t changes = 0;
	enum cx_err err = store_exec(c,
	                             "UPDATE calendars SET sync_token = $2, synced_at = $3, "
	                             "sync_generation = sync_generation + 1 WHERE id = $1",
	                             p, N(p), &changes);
	if (!err && changes == 0)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_calendar_sync_reset(struct store_conn *c, int64_t calendar_id)
{
	struct store_val p[] = {SV_INT(calendar_id)};
	return store_exec(c, "UPDATE calendars SET sync_token = NULL WHERE id = $1", p, N(p), NULL);
}

enum cx_err store_calendar_sync_abandon(struct store_conn *c, int64_t calendar_id)
{
	struct store_val p[] = {SV_INT(calendar_id)};
	return store_exec(
	    c, "UPDATE calendars SET sync_generation = sync_generation + 1 WHERE id = $1", p, N(p),
	    NULL);
}

enum cx_err store_calendar_sync_request(struct store_conn *c, int64_t calendar_id)
{
	struct store_val p[] = {SV_INT(calendar_id)};
	return store_exec(c, "UPDATE calendars SET sync_requested = 1 WHERE id = $1", p, N(p), NULL);
}

enum cx_err store_calendar_sync_take_request(struct store_conn *c, int64_t calendar_id,
                                             bool *requested, int64_t *generation)
{
	struct store_val p[] = {SV_INT(calendar_id)};
	enum cx_err err = store_query_int(c,
	                                  "UPDATE calendars SET sync_requested = 0 WHERE id = $1 "
	                                  "AND sync_requested = 1 RETURNING sync_generation",
	                                  p, N(p), generation);
	*requested = err == CX_OK;
	return err == CX_ENOTFOUND ? CX_OK : err;
}

enum cx_err store_calendars_sync_due(struct store_conn *c, int64_t account_id,
                                     int64_t synced_before, size_t max, struct store_sync_due **out,
                                     size_t *n)
{
	struct store_val p[] = {SV_INT(account_id), SV_INT(synced_before), SV_INT(max)};
	struct store_rows *rows = NULL;
	struct store_sync_due *list = NULL;
	size_t count = 0;
	*out = NULL;
	*n = 0;
	enum cx_err err = store_query(
	    c,
	    "SELECT calendars.id, calendars.sync_generation FROM calendars JOIN "
	    "calendar_accounts ON calendar_accounts.id = calendars.account_id WHERE "
	    "calendars.selected = 1 AND calendar_accounts.status = 'active' AND (($1 > 0 AND "
	    "calendars.account_id = $1) OR ($1 <= 0 AND (calendars.synced_at IS NULL OR "
	    "calendars.synced_at <= $2))) ORDER BY COALESCE(calendars.synced_at, 0), calendars.id "
	    "LIMIT $3",
	    p, N(p), &rows);
	if (err)
		return err;
	list = xcalloc(max ? max : 1, sizeof(*list));
	while (count < max && store_rows_next(rows)) {
		list[count].calendar_id = store_col_int(rows, 0);
		list[count].generation = store_col_int(rows, 1);
		count++;
	}
	err = store_rows_error(rows);
	store_rows_free(rows);
	if (err) {
		free(list);
		return err;
	}
	*out = list;
	*n = count;
	return CX_OK;
}

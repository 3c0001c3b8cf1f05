/* meetings.c: events Calendox writes and their meetings (store/meetings.h), in portable SQL. */
#include "store/meetings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MEETING_COLUMNS                                                                            \
	"meetings.id, meetings.event_id, meetings.user_id, meetings.provider, meetings.status, "   \
	"meetings.external_id, meetings.join_url, meetings.passcode, meetings.connection_id, "     \
	"meetings.create_inflight, meetings.attempts, meetings.retry_at_ms, meetings.topic, "      \
	"meetings.start_utc, meetings.end_utc, meetings.time_zone, meetings.error_code, "          \
	"meetings.error_message, meetings.error_hint"

void store_meeting_release(struct store_meeting *m)
{
	free(m->external_id);
	free(m->join_url);
	free(m->passcode);
	free(m->topic);
	free(m->time_zone);
	free(m->error_code);
	free(m->error_message);
	free(m->error_hint);
	memset(m, 0, sizeof(*m));
}

void store_write_target_release(struct store_write_target *t)
{
	store_event_release(&t->ev);
	free(t->calendar_external_id);
	free(t->write_seed);
	store_meeting_release(&t->meeting);
	memset(t, 0, sizeof(*t));
}

/* Reads MEETING_COLUMNS starting at column first. */
static void read_meeting(struct store_rows *rows, int first, struct store_meeting *m)
{
	memset(m, 0, sizeof(*m));
	m->id = store_col_int(rows, first);
	m->event_id = store_col_int(rows, first + 1);
	m->user_id = store_col_int(rows, first + 2);
	snprintf(m->provider, sizeof(m->provider), "%s", store_col_text(rows, first + 3));
	snprintf(m->status, sizeof(m->status), "%s", store_col_text(rows, first + 4));
	m->external_id = store_col_text_dup(rows, first + 5);
	m->join_url = store_col_text_dup(rows, first + 6);
	m->passcode = store_col_text_dup(rows, first + 7);
	m->connection_id = store_col_int(rows, first + 8);
	m->create_inflight = store_col_int(rows, first + 9) != 0;
	m->attempts = (int)store_col_int(rows, first + 10);
	m->retry_at_ms = store_col_int(rows, first + 11);
	m->topic = store_col_text_dup(rows, first + 12);
	m->start_utc = store_col_int(rows, first + 13);
	m->end_utc = store_col_int(rows, first + 14);
	m->time_zone = store_col_text_dup(rows, first + 15);
	m->error_code = store_col_text_dup(rows, first + 16);
	m->error_message = store_col_text_dup(rows, first + 17);
	m->error_hint = store_col_text_dup(rows, first + 18);
}

enum cx_err store_write_calendar_get(struct store_conn *c, int64_t user_id, int64_t calendar_id,
                                     struct store_write_calendar *out)
{
	struct store_val p[] = {SV_INT(user_id), SV_INT(calendar_id)};
	struct store_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err =
	    store_query(c,
	                "SELECT calendar_accounts.provider, calendar_accounts.status, "
	                "calendars.writable FROM calendars JOIN calendar_accounts ON "
	                "calendar_accounts.id = calendars.account_id WHERE "
	                "calendar_accounts.user_id = $1 AND calendars.id = $2",
	                p, N(p), &rows);
	if (err)
		return err;
	if (store_rows_next(rows)) {
		snprintf(out->provider, sizeof(out->provider), "%s", store_col_text(rows, 0));
		snprintf(out->account_status, sizeof(out->account_status), "%s",
		         store_col_text(rows, 1));
		out->writable = store_col_int(rows, 2) != 0;
	} else {
		err = store_rows_error(rows) ? store_rows_error(rows) : CX_ENOTFOUND;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_write_target_get(struct store_conn *c, int64_t event_id,
                                   struct store_write_target *out)
{
	struct store_val p[] = {SV_INT(event_id)};
	struct store_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = store_query(
	    c,
	    "SELECT " STORE_EVENT_COLUMNS ", calendars.account_id, calendar_accounts.status, "
	    "calendars.external_id, events.write_seed, events.local_version, "
	    "events.written_version, events.write_generation, events.at_provider, "
	    "events.delete_requested, " MEETING_COLUMNS STORE_EVENT_FROM "WHERE events.id = $1",
	    p, N(p), &rows);
	if (err)
		return err;
	if (!store_rows_next(rows)) {
		err = store_rows_error(rows) ? store_rows_error(rows) : CX_ENOTFOUND;
		goto out;
	}
	const int w = STORE_EVENT_NCOLS;
	store_event_read(rows, &out->ev);
	snprintf(out->write_state, sizeof(out->write_state), "%s", out->ev.write_state);
	out->account_id = store_col_int(rows, w);
	snprintf(out->account_status, sizeof(out->account_status), "%s",
	         store_col_text(rows, w + 1));
	out->calendar_external_id = store_col_text_dup(rows, w + 2);
	out->write_seed = store_col_text_dup(rows, w + 3);
	out->local_version = store_col_int(rows, w + 4);
	out->written_version = store_col_int(rows, w + 5);
	out->write_generation = store_col_int(rows, w + 6);
	out->at_provider = store_col_int(rows, w + 7) != 0;
	out->delete_requested = store_col_int(rows, w + 8) != 0;
	out->has_meeting = !store_col_null(rows, w + 9);
	if (out->has_meeting)
		read_meeting(rows, w + 9, &out->meeting);
out:
	store_rows_free(rows);
	if (err)
		store_write_target_release(out);
	return err;
}

enum cx_err store_meeting_get(struct store_conn *c, int64_t user_id, int64_t event_id,
                              struct store_meeting *out)
{
	struct store_val p[] = {SV_INT(user_id), SV_INT(event_id)};
	struct store_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = store_query(c,
	                              "SELECT " MEETING_COLUMNS " FROM meetings WHERE user_id = $1 "
	                              "AND event_id = $2 AND status <> 'deleted'",
	                              p, N(p), &rows);
	if (err)
		return err;
	if (store_rows_next(rows))
		read_meeting(rows, 0, out);
	else
		err = store_rows_error(rows) ? store_rows_error(rows) : CX_ENOTFOUND;
	store_rows_free(rows);
	return err;
}

static enum cx_err insert_meeting(struct store_conn *c, int64_t user_id, int64_t event_id,
                                  const char *provider, int64_t connection_id, int64_t now)
{
	struct store_val p[] = {SV_INT(event_id), SV_INT(user_id), SV_TEXT(provider),
	                        connection_id > 0 ? SV_INT(connection_id) : SV_NULL, SV_INT(now)};
	return store_exec(
	    c,
	    "INSERT INTO meetings (event_id, user_id, provider, status, connection_id, "
	    "created_at, updated_at) VALUES ($1, $2, $3, 'pending', $4, $5, $5)",
	    p, N(p), NULL);
}

enum cx_err store_event_create(struct store_conn *c, const struct store_event_new *n, int64_t now,
                               int64_t *id)
{
	const struct store_event *e = n->event;
	if (!e->external_id || !*e->external_id || !n->write_seed)
		return CX_EINVAL;
	struct store_val p[] = {
	    SV_INT(n->calendar_id),
	    SV_INT(n->user_id),
	    SV_TEXT(e->external_id),
	    SV_TEXT(e->title),
	    SV_INT(e->start_utc),
	    SV_INT(e->end_utc),
	    SV_TEXT(e->time_zone),
	    SV_INT(e->all_day),
	    SV_TEXT(e->description),
	    SV_TEXT(e->location),
	    SV_INT(now),
	    SV_TEXT(n->write_seed),
	    SV_TEXT(n->idempotency_key),
	    SV_TEXT(n->request_hash),
	};
	enum cx_err err = store_query_int(
	    c,
	    "INSERT INTO events (calendar_id, user_id, external_id, title, start_utc, end_utc, "
	    "time_zone, all_day, description, location, status, deleted, updated_at, "
	    "seen_generation, write_seed, write_state, local_version, written_version, "
	    "write_generation, at_provider, delete_requested, idempotency_key, request_hash) "
	    "VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'confirmed', 0, $11, 0, $12, 'pending', 1, "
	    "0, "
	    "0, 0, 0, $13, $14) RETURNING id",
	    p, N(p), id);
	if (err)
		return err;
	if (n->meeting_provider)
		err =
		    insert_meeting(c, n->user_id, *id, n->meeting_provider, n->connection_id, now);
	return err;
}

enum cx_err store_event_by_idempotency(struct store_conn *c, int64_t user_id, const char *key,
                                       int64_t *id, char **request_hash)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(key)};
	struct store_rows *rows = NULL;
	*request_hash = NULL;
	enum cx_err err = store_query(c,
	                              "SELECT id, request_hash FROM events WHERE user_id = $1 AND "
	                              "idempotency_key = $2",
	                              p, N(p), &rows);
	if (err)
		return err;
	if (store_rows_next(rows)) {
		*id = store_col_int(rows, 0);
		*request_hash = store_col_text_dup(rows, 1);
	} else {
		err = store_rows_error(rows) ? store_rows_error(rows) : CX_ENOTFOUND;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_event_change(struct store_conn *c, int64_t user_id, int64_t event_id,
                               const struct store_event_change *ch, int64_t now,
                               int64_t *generation)
{
	struct store_val p[] = {
	    SV_INT(user_id),          SV_INT(event_id),      SV_TEXT(ch->title),
	    SV_TEXT(ch->description), SV_TEXT(ch->location), SV_INT(ch->set_time),
	    SV_INT(ch->start_utc),    SV_INT(ch->end_utc),   SV_INT(ch->all_day),
	    SV_TEXT(ch->time_zone),   SV_INT(now),
	};
	return store_query_int(
	    c,
	    "UPDATE events SET title = COALESCE($3, title), description = COALESCE($4, "
	    "description), location = COALESCE($5, location), start_utc = CASE WHEN $6 = 1 THEN $7 "
	    "ELSE start_utc END, end_utc = CASE WHEN $6 = 1 THEN $8 ELSE end_utc END, all_day = "
	    "CASE WHEN $6 = 1 THEN $9 ELSE all_day END, time_zone = CASE WHEN $6 = 1 THEN "
	    "COALESCE($10, time_zone) ELSE time_zone END, local_version = local_version + 1, "
	    "write_state = 'pending', write_error = NULL, updated_at = $11 WHERE user_id = $1 AND "
	    "id = $2 AND deleted = 0 AND delete_requested = 0 RETURNING write_generation",
	    p, N(p), generation);
}

enum cx_err store_event_request_delete(struct store_conn *c, int64_t user_id, int64_t event_id,
                                       int64_t now, int64_t *generation)
{
	struct store_val p[] = {SV_INT(user_id), SV_INT(event_id), SV_INT(now)};
	return store_query_int(c,
	                       "UPDATE events SET delete_requested = 1, write_state = 'pending', "
	                       "local_version = local_version + 1, updated_at = $3 WHERE user_id = "
	                       "$1 AND id = $2 AND deleted = 0 AND delete_requested = 0 RETURNING "
	                       "write_generation",
	                       p, N(p), generation);
}

enum cx_err store_meeting_add(struct store_conn *c, int64_t user_id, int64_t event_id,
                              const char *provider, int64_t connection_id, int64_t now)
{
	struct store_val p[] = {SV_INT(event_id)};
	int64_t live = 0;
	enum cx_err err = store_query_int(c,
	                                  "SELECT COUNT(*) FROM meetings WHERE event_id = $1 AND "
	                                  "status <> 'deleted'",
	                                  p, N(p), &live);
	if (err)
		return err;
	if (live > 0)
		return CX_ECONFLICT;
	err = store_exec(c, "DELETE FROM meetings WHERE event_id = $1", p, N(p), NULL);
	if (!err)
		err = insert_meeting(c, user_id, event_id, provider, connection_id, now);
	return err;
}

enum cx_err store_meeting_remove(struct store_conn *c, int64_t event_id)
{
	struct store_val p[] = {SV_INT(event_id)};
	return store_exec(c, "DELETE FROM meetings WHERE event_id = $1", p, N(p), NULL);
}

enum cx_err store_meeting_set_status(struct store_conn *c, int64_t event_id, const char *status,
                                     const char *error_code, const char *error_message,
                                     const char *error_hint, int64_t now)
{
	struct store_val p[] = {SV_INT(event_id),       SV_TEXT(status),     SV_TEXT(error_code),
	                        SV_TEXT(error_message), SV_TEXT(error_hint), SV_INT(now)};
	return store_exec(c,
	                  "UPDATE meetings SET status = $2, error_code = $3, error_message = $4, "
	                  "error_hint = $5, updated_at = $6 WHERE event_id = $1",
	                  p, N(p), NULL);
}

enum cx_err store_meeting_create_started(struct store_conn *c, int64_t event_id, int64_t now)
{
	struct store_val p[] = {SV_INT(event_id), SV_INT(now)};
	return store_exec(
	    c,
	    "UPDATE meetings SET create_inflight = 1, updated_at = $2 WHERE event_id = "
	    "$1",
	    p, N(p), NULL);
}

enum cx_err store_meeting_create_failed(struct store_conn *c, int64_t event_id, int64_t retry_at_ms,
                                        bool maybe_created, const char *error_code,
                                        const char *error_message, const char *error_hint,
                                        int64_t now)
{
	struct store_val p[] = {SV_INT(event_id),       SV_INT(retry_at_ms), SV_TEXT(error_code),
	                        SV_TEXT(error_message), SV_TEXT(error_hint), SV_INT(now),
	                        SV_INT(maybe_created)};
	return store_exec(c,
	                  "UPDATE meetings SET create_inflight = $7, attempts = attempts + 1, "
	                  "retry_at_ms = $2, error_code = $3, error_message = $4, error_hint = $5, "
	                  "updated_at = $6 WHERE event_id = $1",
	                  p, N(p), NULL);
}

enum cx_err store_meeting_set_zoom(struct store_conn *c, int64_t event_id, const char *meeting_id,
                                   const char *join_url, const char *passcode, const char *topic,
                                   int64_t start_utc, int64_t end_utc, const char *time_zone,
                                   int64_t now)
{
	struct store_val p[] = {SV_INT(event_id),  SV_TEXT(meeting_id), SV_TEXT(join_url),
	                        SV_TEXT(passcode), SV_TEXT(topic),      SV_INT(start_utc),
	                        SV_INT(end_utc),   SV_TEXT(time_zone),  SV_INT(now)};
	return store_exec(
	    c,
	    "UPDATE meetings SET external_id = $2, join_url = $3, passcode = $4, "
	    "status = CASE WHEN status = 'deleted' THEN 'deleting' ELSE status END, "
	    "topic = $5, start_utc = $6, end_utc = $7, time_zone = $8, "
	    "create_inflight = 0, retry_at_ms = 0, error_code = NULL, error_message = "
	    "NULL, error_hint = NULL, updated_at = $9 WHERE event_id = $1",
	    p, N(p), NULL);
}

enum cx_err store_meeting_set_link(struct store_conn *c, int64_t event_id, const char *join_url,
                                   const char *status, int64_t now)
{
	struct store_val p[] = {SV_INT(event_id), SV_TEXT(join_url), SV_TEXT(status), SV_INT(now)};
	return store_exec(c,
	                  "UPDATE meetings SET join_url = $2, status = $3, error_code = NULL, "
	                  "error_message = NULL, error_hint = NULL, updated_at = $4 WHERE event_id "
	                  "= $1",
	                  p, N(p), NULL);
}

enum cx_err store_event_written(struct store_conn *c, int64_t event_id, int64_t version,
                                const char *external_id, const char *etag,
                                const struct store_event_readback *written, int64_t now)
{
	struct store_val p[] = {
	    SV_INT(event_id),
	    SV_INT(version),
	    SV_TEXT(external_id),
	    SV_TEXT(etag),
	    SV_INT(written != NULL),
	    SV_TEXT(written ? written->description : NULL),
	    SV_TEXT(written ? written->location : NULL),
	    SV_TEXT(written ? written->join_url : NULL),
	    SV_INT(now),
	};
	/* A sync round may have stored the new event under its provider id before the answer
	 * naming it arrived here: that row is the same event, and goes. */
	enum cx_err err = store_exec(c,
	                             "DELETE FROM events WHERE calendar_id = (SELECT calendar_id "
	                             "FROM events WHERE id = $1) AND external_id = $3 AND id <> $1",
	                             p, N(p), NULL);
	if (err)
		return err;
	int64_t changes = 0;
	err = store_exec(
	    c,
	    "UPDATE events SET external_id = $3, etag = COALESCE($4, etag), "
	    "description = CASE WHEN $5 = 1 THEN $6 ELSE description END, location = "
	    "CASE WHEN $5 = 1 THEN $7 ELSE location END, join_url = CASE WHEN $5 = 1 "
	    "THEN $8 ELSE join_url END, at_provider = 1, written_version = $2, "
	    "write_state = CASE WHEN local_version = $2 THEN 'none' ELSE write_state END, "
	    "write_error = NULL, updated_at = $9 WHERE id = $1",
	    p, N(p), &changes);
	if (!err && changes == 0)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_event_delete_done(struct store_conn *c, int64_t event_id, int64_t now)
{
	struct store_val p[] = {SV_INT(event_id), SV_INT(now)};
	return store_exec(c,
	                  "UPDATE events SET deleted = 1, status = 'cancelled', write_state = "
	                  "'none', written_version = local_version, updated_at = $2 WHERE id = $1",
	                  p, N(p), NULL);
}

enum cx_err store_event_write_failed(struct store_conn *c, int64_t event_id, const char *reason,
                                     int64_t now)
{
	struct store_val p[] = {SV_INT(event_id), SV_TEXT(reason), SV_INT(now)};
	return store_exec(
	    c,
	    "UPDATE events SET write_state = 'failed', write_error = $2, "
	    "written_version = local_version, deleted = CASE WHEN at_provider = 0 OR "
	    "delete_requested = 1 THEN 1 ELSE deleted END, updated_at = $3 WHERE id = "
	    "$1",
	    p, N(p), NULL);
}

enum cx_err store_event_write_finish(struct store_conn *c, int64_t event_id, int64_t version,
                                     bool *finished)
{
	struct store_val p[] = {SV_INT(event_id), SV_INT(version)};
	int64_t changes = 0;
	enum cx_err err = store_exec(c,
	                             "UPDATE events SET write_generation = write_generation + 1 "
	                             "WHERE id = $1 AND local_version = $2",
	                             p, N(p), &changes);
	*finished = !err && changes > 0;
	return err;
}

enum cx_err store_meetings_attention(struct store_conn *c, int64_t calendar_id, size_t max,
                                     int64_t **event_ids, size_t *n)
{
	struct store_val p[] = {SV_INT(calendar_id), SV_INT(max)};
	struct store_rows *rows = NULL;
	int64_t *list = xcalloc(max ? max : 1, sizeof(*list));
	size_t count = 0;
	*event_ids = NULL;
	*n = 0;
	enum cx_err err = store_query(
	    c,
	    "SELECT events.id FROM meetings JOIN events ON events.id = meetings.event_id WHERE "
	    "events.calendar_id = $1 AND events.write_state <> 'pending' AND ((events.deleted = 1 "
	    "AND meetings.status IN ('pending', 'ready')) OR (events.deleted = 0 AND "
	    "meetings.provider = 'zoom' AND meetings.status = 'ready' AND (events.start_utc <> "
	    "meetings.start_utc OR events.end_utc <> meetings.end_utc OR COALESCE(events.title, "
	    "'') "
	    "<> COALESCE(meetings.topic, '')))) ORDER BY events.id LIMIT $2",
	    p, N(p), &rows);
	if (err) {
		free(list);
		return err;
	}
	while (count < max && store_rows_next(rows))
		list[count++] = store_col_int(rows, 0);
	err = store_rows_error(rows);
	store_rows_free(rows);
	if (err) {
		free(list);
		return err;
	}
	*event_ids = list;
	*n = count;
	return CX_OK;
}

enum cx_err store_event_write_generation(struct store_conn *c, int64_t event_id,
                                         int64_t *generation)
{
	struct store_val p[] = {SV_INT(event_id)};
	return store_query_int(c, "SELECT write_generation FROM events WHERE id = $1", p, N(p),
	                       generation);
}

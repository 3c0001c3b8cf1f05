-- 0005_events: the events of a person's calendars as the providers report them (DESIGN §3), and
-- each calendar's sync cursor. user_id repeats the calendar's owner so every read can be keyed by
-- the person without a join (tenant isolation). An event the provider cancelled or removed stays
-- as a row with deleted = 1 until a full resync drops it from the window. status: 'confirmed',
-- 'tentative' or 'cancelled'. Times are Unix seconds; end_utc is exclusive.
-- calendars.sync_token holds Google's nextSyncToken or Graph's deltaLink, written only with the
-- last page of a round; sync_generation counts finished rounds, so a sync job's idempotency key
-- ("calendar.sync:<calendar>:<generation>") lets one round at a time run per calendar.
-- events.seen_generation is the round that last reported the event: after a full round, events of
-- the window it did not report are gone at the provider.

CREATE TABLE events (
	id %%AUTOID%%,
	calendar_id BIGINT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL,
	external_id TEXT NOT NULL,
	title TEXT,
	start_utc BIGINT,
	end_utc BIGINT,
	time_zone TEXT,
	all_day INTEGER NOT NULL DEFAULT 0,
	description TEXT,
	location TEXT,
	etag TEXT,
	join_url TEXT,
	recurring_series_id TEXT,
	status TEXT NOT NULL DEFAULT 'confirmed',
	deleted INTEGER NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL DEFAULT 0,
	seen_generation BIGINT NOT NULL DEFAULT 0,
	UNIQUE (calendar_id, external_id)
);

CREATE INDEX events_user_start ON events (user_id, start_utc);

ALTER TABLE calendars ADD COLUMN sync_token TEXT;

ALTER TABLE calendars ADD COLUMN synced_at BIGINT;

ALTER TABLE calendars ADD COLUMN sync_generation INTEGER NOT NULL DEFAULT 0;

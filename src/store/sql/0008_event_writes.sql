-- 0008_event_writes: events Calendox writes to Google or Outlook, and their meetings (DESIGN §3, §4).
--
-- events.write_seed: a random id per event written by Calendox; the Google event id and the Graph
-- transactionId are derived from it, so a retried insert finds the first one instead of making a
-- second event. local_version counts the person's changes, written_version the last one the
-- provider has; an event.write job runs while they differ. write_generation names that job (its
-- idempotency key), so one write job at a time runs per event. write_state: 'none' (nothing to
-- write), 'pending', 'failed' (write_error says why). delete_requested: deleted in Calendox, the
-- provider's copy not yet. idempotency_key and request_hash: a repeated POST /api/events with the
-- same Idempotency-Key returns the first event.
--
-- meetings: the meeting of an event that Calendox created or asked for (Zoom, or the provider's
-- own Meet or Teams conference). status: pending, ready, failed, deleting, deleted. For Zoom,
-- external_id is the meeting id, connection_id the app connection that created it, and
-- create_inflight = 1 while a create request may have reached Zoom without its answer being
-- stored (seen again on a retry: the one case where Zoom may hold a duplicate). topic, start_utc,
-- end_utc and time_zone are what the meeting was last set to. attempts counts failed creates;
-- retry_at_ms delays the next one (rate limits).

ALTER TABLE events ADD COLUMN write_seed TEXT;

ALTER TABLE events ADD COLUMN write_state TEXT NOT NULL DEFAULT 'none';

ALTER TABLE events ADD COLUMN write_error TEXT;

ALTER TABLE events ADD COLUMN local_version BIGINT NOT NULL DEFAULT 0;

ALTER TABLE events ADD COLUMN written_version BIGINT NOT NULL DEFAULT 0;

ALTER TABLE events ADD COLUMN write_generation BIGINT NOT NULL DEFAULT 0;

ALTER TABLE events ADD COLUMN at_provider INTEGER NOT NULL DEFAULT 1;

ALTER TABLE events ADD COLUMN delete_requested INTEGER NOT NULL DEFAULT 0;

ALTER TABLE events ADD COLUMN idempotency_key TEXT;

ALTER TABLE events ADD COLUMN request_hash TEXT;

CREATE UNIQUE INDEX events_idempotency ON events (user_id, idempotency_key);

CREATE TABLE meetings (
	id %%AUTOID%%,
	event_id BIGINT NOT NULL UNIQUE REFERENCES events(id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL,
	provider TEXT NOT NULL,
	status TEXT NOT NULL,
	external_id TEXT,
	join_url TEXT,
	passcode TEXT,
	connection_id BIGINT,
	create_inflight INTEGER NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	retry_at_ms BIGINT NOT NULL DEFAULT 0,
	topic TEXT,
	start_utc BIGINT,
	end_utc BIGINT,
	time_zone TEXT,
	error_code TEXT,
	error_message TEXT,
	error_hint TEXT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE INDEX meetings_status ON meetings (status);

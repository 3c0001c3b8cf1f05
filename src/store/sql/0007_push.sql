-- 0007_push: push registrations (DESIGN §4 "Delete": Google push channels and Graph
-- change-notification subscriptions), one row per channel or subscription of a calendar. A row
-- starts 'pending' when a watch job is about to ask the provider (its secret must be known before
-- the first message arrives) and becomes 'active' with the provider's answer. slot numbers a
-- calendar's registrations: the unique (calendar_id, slot) lets only one of two racing watch jobs
-- go ahead, and a Google renewal is the next slot, after which the older ones are stopped.
-- channel_id is Google's channel id (ours) or Graph's subscription id (a random placeholder while
-- pending); resource_id is Google's resourceId. secret_hash is the SHA-256 (hex) of the channel
-- token / clientState: the secret itself is never stored. job_id is the watch job that wrote a
-- pending row. Rows go with their calendar (cascade): whoever removes a calendar or its account
-- first queues calendar.unwatch jobs carrying what a stop needs. Times are Unix seconds.
CREATE TABLE push_registrations (
	id %%AUTOID%%,
	calendar_id BIGINT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
	account_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	provider TEXT NOT NULL,
	slot BIGINT NOT NULL,
	channel_id TEXT NOT NULL,
	resource_id TEXT,
	secret_hash TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending',
	job_id BIGINT NOT NULL DEFAULT 0,
	expires_at BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	UNIQUE (calendar_id, slot),
	UNIQUE (provider, channel_id)
);

CREATE INDEX push_registrations_account ON push_registrations (account_id);

-- 0003_calendars: a person's Google and Microsoft calendar accounts and their calendars, DESIGN §3.
-- tokens holds the sealed JSON {"access_token","refresh_token"} (kind "calendar_account", the row
-- id as associated data). status: 'active', 'suspended' (the plan allows no calendars),
-- 'needs_reconnect'. external_id is the provider's stable id for the account (Google: the primary
-- calendar's id; Microsoft: the user id), so connecting the same account again updates this row.

CREATE TABLE calendar_accounts (
	id %%AUTOID%%,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	provider TEXT NOT NULL,
	external_id TEXT NOT NULL,
	external_email TEXT,
	tokens TEXT,
	token_expires_at BIGINT NOT NULL DEFAULT 0,
	token_version INTEGER NOT NULL DEFAULT 0,
	scopes TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	sync_cursor TEXT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	last_error TEXT,
	UNIQUE (user_id, provider, external_id)
);

CREATE TABLE calendars (
	id %%AUTOID%%,
	account_id BIGINT NOT NULL REFERENCES calendar_accounts(id) ON DELETE CASCADE,
	external_id TEXT NOT NULL,
	name TEXT NOT NULL,
	is_primary INTEGER NOT NULL DEFAULT 0,
	writable INTEGER NOT NULL DEFAULT 0,
	color TEXT,
	selected INTEGER NOT NULL DEFAULT 1,
	UNIQUE (account_id, external_id)
);

-- 0001_foundation: people, their access, and the durable job queue.
-- Portable SQL: %%AUTOID%% becomes the backend's auto-increment primary key; times are Unix seconds
-- unless the column name ends in _ms.

CREATE TABLE users (
	id %%AUTOID%%,
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE subscriptions (
	user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	plan TEXT NOT NULL,
	status TEXT NOT NULL,
	trial_ends_at BIGINT,
	current_period_end BIGINT,
	updated_at BIGINT NOT NULL
);

CREATE TABLE sessions (
	id_hash TEXT PRIMARY KEY,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_attempts (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	window_start BIGINT NOT NULL,
	locked_until BIGINT NOT NULL
);

CREATE TABLE oauth_states (
	state_hash TEXT PRIMARY KEY,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	session_hash TEXT NOT NULL,
	provider TEXT NOT NULL,
	code_verifier TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE activity (
	id %%AUTOID%%,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	at BIGINT NOT NULL,
	kind TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE INDEX activity_user_at ON activity(user_id, at);

CREATE TABLE webhook_receipts (
	source TEXT NOT NULL,
	delivery_id TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (source, delivery_id)
);

CREATE TABLE idempotency_keys (
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status INTEGER NOT NULL,
	body TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, key)
);

-- state: 'queued', 'running', 'done', 'failed'.
CREATE TABLE jobs (
	id %%AUTOID%%,
	kind TEXT NOT NULL,
	payload TEXT NOT NULL,
	idempotency_key TEXT UNIQUE,
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	run_at_ms BIGINT NOT NULL,
	lease_owner TEXT,
	lease_until_ms BIGINT NOT NULL DEFAULT 0,
	last_error TEXT,
	result TEXT,
	created_at_ms BIGINT NOT NULL,
	updated_at_ms BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at_ms);

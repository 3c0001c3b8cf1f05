-- 0002_app_connections: a person's connection to a meeting app (Zoom), DESIGN §3.
-- tokens holds the sealed JSON {"access_token","refresh_token"} (XChaCha20-Poly1305 under the
-- instance key, the row id as associated data); it is NULL once disconnected.
-- token_version grows with every token change, so a refresher that lost a race can tell.

CREATE TABLE app_connections (
	id %%AUTOID%%,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	app TEXT NOT NULL,
	status TEXT NOT NULL,
	external_user_id TEXT,
	external_account_id TEXT,
	external_email TEXT,
	tokens TEXT,
	token_expires_at BIGINT NOT NULL DEFAULT 0,
	token_version INTEGER NOT NULL DEFAULT 0,
	scopes TEXT NOT NULL DEFAULT '',
	connected_at BIGINT,
	updated_at BIGINT NOT NULL,
	last_error TEXT,
	UNIQUE (user_id, app)
);
CREATE INDEX app_connections_external ON app_connections(app, external_user_id);

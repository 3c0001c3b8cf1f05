-- 0004_token_refresh: the single-flight refresh lease of a connection's tokens, DESIGN §4
-- "Token refresh". A refresher takes the lease with a conditional UPDATE (free or expired, and
-- the token_version it read), and releases it in the same statement that stores the new tokens
-- and bumps token_version, so a second caller waits and re-reads instead of refreshing again.
-- refresh_lock_until_ms is Unix milliseconds (0 = free), refresh_lock_owner names the holder.

ALTER TABLE app_connections ADD COLUMN refresh_lock_until_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE app_connections ADD COLUMN refresh_lock_owner TEXT;
ALTER TABLE calendar_accounts ADD COLUMN refresh_lock_until_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE calendar_accounts ADD COLUMN refresh_lock_owner TEXT;

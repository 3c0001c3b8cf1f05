-- 0006_sync_requests: a sync asked for while a round of the calendar was already queued or running.
-- That round may have read past the change, so the round's end starts one more.
ALTER TABLE calendars ADD COLUMN sync_requested INTEGER NOT NULL DEFAULT 0;

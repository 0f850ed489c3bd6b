-- Album photos are recorded as photo requests too, so an album a restart interrupted is answered after it:
-- the album's requests stay until the album's one answer is sent.
ALTER TABLE photo_requests ADD COLUMN media_group_id TEXT;

-- Album photos are recorded as photo requests too, so an album a restart interrupted is answered after it:
-- the album's requests stay until the album's one answer is sent.
ALTER TABLE photo_requests ADD COLUMN media_group_id TEXT;
-- A photo is recorded as it arrives (before it waits for its chat's turn) and again by its handler: one row.
DELETE FROM photo_requests WHERE id NOT IN (SELECT min(id) FROM photo_requests GROUP BY chat_id, message_id);
CREATE UNIQUE INDEX photo_requests_message ON photo_requests(chat_id, message_id);

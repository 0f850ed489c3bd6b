-- A photo the bot acknowledged (Telegram counts the update as delivered) but has not answered yet: recorded
-- before the download and prediction, deleted once answered, so a restart in between answers it after.
CREATE TABLE photo_requests (
    id             INTEGER PRIMARY KEY,
    chat_id        INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
    message_id     INTEGER NOT NULL,
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    kind           TEXT NOT NULL,  -- 'photo' or 'document'
    suffix         TEXT NOT NULL,
    requested_at   TEXT NOT NULL
);
CREATE INDEX photo_requests_chat ON photo_requests(chat_id);

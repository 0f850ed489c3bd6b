-- A /best that was asked for but not answered survives a restart and is answered after it.
CREATE TABLE best_requests (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX best_requests_open ON best_requests(finished_at, chat_id);

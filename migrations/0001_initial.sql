-- Accounts and their posts (the cache of what a source returned), chats, drafts and predictions.
CREATE TABLE accounts (
    handle      TEXT PRIMARY KEY,
    followers   INTEGER NOT NULL,
    following   INTEGER NOT NULL,
    posts_count INTEGER NOT NULL,
    is_private  INTEGER NOT NULL DEFAULT 0,
    fetched_at  TEXT NOT NULL
);

-- Photos are stored once, named by the sha256 of their bytes.
CREATE TABLE images (
    sha256     TEXT PRIMARY KEY,
    path       TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE posts (
    id             INTEGER PRIMARY KEY,
    handle         TEXT NOT NULL REFERENCES accounts(handle) ON DELETE CASCADE,
    shortcode      TEXT NOT NULL,
    taken_at       TEXT NOT NULL,
    likes          INTEGER NOT NULL,
    comments       INTEGER,
    hashtags       TEXT NOT NULL DEFAULT '[]',
    mentions       INTEGER NOT NULL DEFAULT 0,
    caption_length INTEGER NOT NULL DEFAULT 0,
    is_multi_image INTEGER NOT NULL DEFAULT 0,
    is_video       INTEGER NOT NULL DEFAULT 0,
    has_location   INTEGER NOT NULL DEFAULT 0,
    image_sha256   TEXT REFERENCES images(sha256),
    UNIQUE (handle, shortcode)
);
CREATE INDEX posts_by_account_time ON posts(handle, taken_at);

CREATE TABLE chats (
    chat_id    INTEGER PRIMARY KEY,
    handle     TEXT,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE drafts (
    id             INTEGER PRIMARY KEY,
    chat_id        INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
    file_unique_id TEXT NOT NULL,
    image_sha256   TEXT NOT NULL REFERENCES images(sha256),
    media_group_id TEXT,
    features       TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    UNIQUE (chat_id, file_unique_id)
);

CREATE TABLE predictions (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
    draft_id        INTEGER REFERENCES drafts(id) ON DELETE SET NULL,
    handle          TEXT NOT NULL,
    predicted_likes REAL NOT NULL,
    low             REAL NOT NULL,
    high            REAL NOT NULL,
    appeal          REAL,
    model_version   TEXT NOT NULL,
    message_id      INTEGER,
    created_at      TEXT NOT NULL,
    actual_likes    INTEGER,
    actual_at       TEXT
);
CREATE INDEX predictions_by_chat ON predictions(chat_id, created_at);

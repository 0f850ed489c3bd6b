-- The IANA time zone a chat set with /timezone ("Europe/Berlin"), for saying posting times in local time.
-- NULL: the chat set none (times in UTC, or a zone guessed from the Telegram language at answer time).
ALTER TABLE chats ADD COLUMN timezone TEXT;

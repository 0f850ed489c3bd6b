-- Nothing reads drafts.features, chats.settings or the hashtag_cooccurrence view (the hashtag engine
-- queries post_hashtags directly). DROP COLUMN keeps every row and every other value.
DROP VIEW IF EXISTS hashtag_cooccurrence;
ALTER TABLE drafts DROP COLUMN features;
ALTER TABLE chats DROP COLUMN settings;

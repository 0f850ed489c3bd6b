-- One counter that every write to the accounts, their posts and the posts' hashtags moves on, so a cache of
-- what they hold (the hashtag engine's in-memory tag graph, `Tags.fingerprint`) knows in one lookup whether
-- anything changed: re-saved likes and followers included, which reused rowids and unchanged tags hide.
CREATE TABLE store_changes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    changes INTEGER NOT NULL
);
INSERT INTO store_changes (id, changes) VALUES (1, 0);
CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER posts_inserted AFTER INSERT ON posts BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER posts_updated AFTER UPDATE ON posts BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER posts_deleted AFTER DELETE ON posts BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER post_hashtags_inserted AFTER INSERT ON post_hashtags BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER post_hashtags_updated AFTER UPDATE ON post_hashtags BEGIN UPDATE store_changes SET changes = changes + 1; END;
CREATE TRIGGER post_hashtags_deleted AFTER DELETE ON post_hashtags BEGIN UPDATE store_changes SET changes = changes + 1; END;

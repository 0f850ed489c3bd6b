-- Hashtags one row per (post, tag), so that the co-occurrence graph follows the posts as they are
-- imported, refreshed or deleted, with nothing to keep in step by hand.
CREATE TABLE post_hashtags (
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_hashtags_by_tag ON post_hashtags(tag, post_id);

INSERT INTO post_hashtags (post_id, tag)
SELECT DISTINCT posts.id, lower(json_each.value)
FROM posts, json_each(posts.hashtags)
WHERE json_each.value IS NOT NULL AND json_each.value <> '';

CREATE VIEW hashtag_cooccurrence AS
SELECT a.tag AS tag, b.tag AS other_tag, count(*) AS posts
FROM post_hashtags AS a
JOIN post_hashtags AS b ON a.post_id = b.post_id AND a.tag <> b.tag
GROUP BY a.tag, b.tag;

-- Image embeddings are costly; keep them per image and model version.
CREATE TABLE image_embeddings (
    image_sha256  TEXT NOT NULL REFERENCES images(sha256) ON DELETE CASCADE,
    model_version TEXT NOT NULL,
    vector        BLOB NOT NULL,
    PRIMARY KEY (image_sha256, model_version)
);

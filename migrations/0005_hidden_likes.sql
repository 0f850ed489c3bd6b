-- A post whose owner hides its like count is kept (its hashtags and time still count) with likes_hidden = 1;
-- its likes column then holds no count and is never read as one. A carousel's number of slides.
ALTER TABLE posts ADD COLUMN likes_hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN slides INTEGER NOT NULL DEFAULT 1;

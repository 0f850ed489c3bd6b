"""Hashtag statistics over the stored posts: how often tags are used, with what, and how their posts did."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from store.database import Database


@dataclass(frozen=True)
class TagPost:
    """A post carrying a hashtag, with what the hashtag engine needs to score it."""

    post_id: int
    handle: str
    likes: int
    comments: int
    followers: int
    image_sha256: str | None
    account_mean_rate: float  # the owning account's mean (likes+comments)/followers over its stored posts


class Tags:
    """Read-only queries over `post_hashtags` (kept in step with the posts by `Accounts.save`)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def post_counts(self, tags: Iterable[str]) -> dict[str, int]:
        """How many stored posts carry each of `tags` (tags no post carries are left out)."""
        tag_list = sorted({t.lower() for t in tags})
        if not tag_list:
            return {}
        rows = self.database.rows(
            "SELECT tag, count(*) AS n FROM post_hashtags WHERE tag IN (SELECT value FROM json_each(?)) GROUP BY tag",
            [json.dumps(tag_list)],
        )
        return {r["tag"]: r["n"] for r in rows}

    def post_tags(self) -> list[tuple[int, str, str]]:
        """Every (post id, its account's handle, tag) row: the whole co-occurrence graph, for an in-memory index."""
        rows = self.database.rows(
            "SELECT h.post_id, p.handle, h.tag FROM post_hashtags h JOIN posts p ON p.id = h.post_id ORDER BY h.post_id"
        )
        return [(r["post_id"], r["handle"], r["tag"]) for r in rows]

    def all_evidence(self) -> list[tuple[str, TagPost]]:
        """`evidence` of every tag with no limit per tag, as (tag, post) rows, each tag's newest post first."""
        rows = self.database.rows(
            """WITH rates AS (
                   SELECT p.handle, avg((p.likes + coalesce(p.comments, 0)) * 1.0 / max(a.followers, 1)) AS mean_rate
                   FROM posts p JOIN accounts a ON a.handle = p.handle
                   WHERE NOT p.likes_hidden GROUP BY p.handle)
               SELECT h.tag, p.id, p.handle, p.likes, coalesce(p.comments, 0) AS comments, a.followers,
                      p.image_sha256, rates.mean_rate
               FROM post_hashtags h
               JOIN posts p ON p.id = h.post_id AND NOT p.likes_hidden
               JOIN accounts a ON a.handle = p.handle
               JOIN rates ON rates.handle = p.handle
               ORDER BY h.tag, p.taken_at DESC, p.id DESC"""
        )
        return [
            (
                r["tag"],
                TagPost(
                    r["id"], r["handle"], r["likes"], r["comments"], r["followers"], r["image_sha256"], r["mean_rate"]
                ),
            )
            for r in rows
        ]

    def account_post_counts(self) -> dict[str, int]:
        """How many posts each account has in the store (with tags or without)."""
        return {
            r["handle"]: r["n"] for r in self.database.rows("SELECT handle, count(*) AS n FROM posts GROUP BY handle")
        }

    def fingerprint(self) -> int:
        """Moves on with every write to the accounts, their posts or the posts' tags (migration 0009's
        triggers), in one lookup: for caches of what they hold."""
        return int(self.database.rows("SELECT changes FROM store_changes")[0]["changes"])

    def evidence(self, tags: Iterable[str], per_tag: int = 50) -> dict[str, list[TagPost]]:
        """For each tag, its `per_tag` most recent posts with their accounts' mean rates, in one query.

        Posts are chosen by recency, not by how well they did: ranking by outcome would make every
        popular tag look like it out-performs.
        """
        tag_list = sorted({t.lower() for t in tags if t})
        if not tag_list:
            return {}
        rows = self.database.rows(
            """WITH wanted(tag) AS (SELECT value FROM json_each(:tags)),
               tagged AS (
                   SELECT h.tag, p.id, p.handle, p.likes, coalesce(p.comments, 0) AS comments, a.followers,
                          p.image_sha256,
                          row_number() OVER (PARTITION BY h.tag ORDER BY p.taken_at DESC, p.id DESC) AS rank
                   FROM wanted w
                   JOIN post_hashtags h ON h.tag = w.tag
                   JOIN posts p ON p.id = h.post_id AND NOT p.likes_hidden
                   JOIN accounts a ON a.handle = p.handle),
               chosen AS (SELECT * FROM tagged WHERE rank <= :per_tag),
               rates AS (
                   SELECT p.handle, avg((p.likes + coalesce(p.comments, 0)) * 1.0 / max(a.followers, 1)) AS mean_rate
                   FROM posts p JOIN accounts a ON a.handle = p.handle
                   WHERE p.handle IN (SELECT handle FROM chosen) AND NOT p.likes_hidden
                   GROUP BY p.handle)
               SELECT chosen.*, rates.mean_rate FROM chosen JOIN rates ON rates.handle = chosen.handle
               ORDER BY chosen.tag, chosen.rank""",
            {"tags": json.dumps(tag_list), "per_tag": per_tag},
        )
        evidence: dict[str, list[TagPost]] = {tag: [] for tag in tag_list}
        for r in rows:
            evidence[r["tag"]].append(
                TagPost(
                    r["id"],
                    r["handle"],
                    r["likes"],
                    r["comments"],
                    r["followers"],
                    r["image_sha256"],
                    float(r["mean_rate"] or 0.0),
                )
            )
        return evidence

    def cooccurring_with_partner(
        self, tags: Iterable[str], limit: int = 50, min_shared: int = 1
    ) -> list[tuple[str, int, str, int]]:
        """Tags that share `min_shared`+ posts with any of `tags`, each with its strongest partner.

        Rows are (tag, posts shared with any of `tags`, the partner it shares most posts with, how many).
        """
        tag_list = sorted({t.lower() for t in tags if t})
        if not tag_list:
            return []
        rows = self.database.rows(
            """WITH own(tag) AS (SELECT value FROM json_each(:tags)),
               pairs AS (
                   SELECT b.tag AS tag, a.tag AS partner, a.post_id
                   FROM own JOIN post_hashtags a ON a.tag = own.tag
                   JOIN post_hashtags b ON b.post_id = a.post_id
                   WHERE b.tag NOT IN (SELECT tag FROM own)),
               totals AS (
                   SELECT tag, count(DISTINCT post_id) AS shared FROM pairs
                   GROUP BY tag HAVING count(DISTINCT post_id) >= :min_shared
                   ORDER BY shared DESC, tag LIMIT :limit),
               partners AS (
                   SELECT tag, partner, count(*) AS shared,
                          row_number() OVER (PARTITION BY tag ORDER BY count(*) DESC, partner) AS rank
                   FROM pairs WHERE tag IN (SELECT tag FROM totals) GROUP BY tag, partner)
               SELECT totals.tag, totals.shared, partners.partner, partners.shared AS partner_shared
               FROM totals JOIN partners ON partners.tag = totals.tag AND partners.rank = 1
               ORDER BY totals.shared DESC, totals.tag""",
            {"tags": json.dumps(tag_list), "limit": limit, "min_shared": min_shared},
        )
        return [(r["tag"], r["shared"], r["partner"], r["partner_shared"]) for r in rows]

    def shared_post_counts(self, tags: Iterable[str], partners: Iterable[str]) -> dict[tuple[str, str], int]:
        """Posts carrying both tags, for every (tag, partner) pair that shares at least one post."""
        tag_list = sorted({t.lower() for t in tags if t})
        partner_list = sorted({t.lower() for t in partners if t})
        if not tag_list or not partner_list:
            return {}
        rows = self.database.rows(
            """WITH wanted(tag) AS (SELECT value FROM json_each(:tags)),
               partners(tag) AS (SELECT value FROM json_each(:partners))
               SELECT a.tag AS tag, b.tag AS partner, count(*) AS shared
               FROM wanted JOIN post_hashtags a ON a.tag = wanted.tag
               JOIN post_hashtags b ON b.post_id = a.post_id
               JOIN partners ON partners.tag = b.tag
               WHERE a.tag <> b.tag
               GROUP BY a.tag, b.tag""",
            {"tags": json.dumps(tag_list), "partners": json.dumps(partner_list)},
        )
        return {(r["tag"], r["partner"]): r["shared"] for r in rows}

"""The SQLite store: migrations, the account cache, drafts, predictions and forgetting a chat."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from core.records import Account, Post
from store import Store, build_migrations, sql_statements

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)

# One representative row per table, in foreign-key order; a stage inserts those its schema has.
SAMPLE_ROWS: list[tuple[str, dict]] = [
    (
        "accounts",
        {
            "handle": "old_acct",
            "followers": 100,
            "following": 5,
            "posts_count": 3,
            "is_private": 0,
            "fetched_at": "2026-01-01T00:00:00+00:00",
        },
    ),
    ("images", {"sha256": "ab" * 32, "path": "/tmp/none.jpg", "bytes": 10, "created_at": "2026-01-01T00:00:00+00:00"}),
    (
        "posts",
        {
            "id": 1,
            "handle": "old_acct",
            "shortcode": "p1",
            "taken_at": "2026-01-01T00:00:00+00:00",
            "likes": 42,
            "comments": 2,
            "hashtags": '["Beach", "sun"]',
            "image_sha256": "ab" * 32,
        },
    ),
    (
        "chats",
        {
            "chat_id": 7,
            "handle": "old_acct",
            "settings": "{}",
            "created_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-01T00:00:00+00:00",
        },
    ),
    (
        "drafts",
        {
            "id": 1,
            "chat_id": 7,
            "file_unique_id": "f1",
            "image_sha256": "ab" * 32,
            "features": "{}",
            "created_at": "2026-01-01T00:00:00+00:00",
        },
    ),
    (
        "predictions",
        {
            "id": 1,
            "chat_id": 7,
            "draft_id": 1,
            "handle": "old_acct",
            "predicted_likes": 40.0,
            "low": 30.0,
            "high": 50.0,
            "model_version": "v0",
            "created_at": "2026-01-01T00:00:00+00:00",
        },
    ),
    ("image_embeddings", {"image_sha256": "ab" * 32, "model_version": "m", "vector": b"\x00" * 8}),
    ("best_requests", {"id": 1, "chat_id": 7, "requested_at": "2026-01-01T00:00:00+00:00"}),
]


def make_post(code: str, days_ago: float, likes: int, tags=(), image: Path | None = None) -> Post:
    return Post(
        code,
        T0 - timedelta(days=days_ago),
        likes,
        comments=None if likes is None else likes // 10,
        hashtags=tuple(tags),
        image_path=image,
    )


def test_sql_statements_keeps_semicolons_inside_strings():
    assert sql_statements("CREATE TABLE a (x TEXT DEFAULT ';');\n-- note\nINSERT INTO a VALUES ('b;c');\n") == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "-- note\nINSERT INTO a VALUES ('b;c');",
    ]


def test_migrations_are_applied_once_and_recorded(tmp_path):
    path = tmp_path / "db.sqlite3"
    Store.open(path).close()
    Store.open(path).close()
    db = sqlite_utils.Database(path)
    applied = [m.name for m in build_migrations().applied(db)]
    assert applied == sorted(applied) and len(applied) == len(set(applied)) >= 3


def test_upgrading_from_every_earlier_migration_loses_no_row(tmp_path):
    names = [m.name for m in build_migrations().pending(sqlite_utils.Database(memory=True))]
    for stop in names[1:]:
        path = tmp_path / f"at_{stop}.sqlite3"
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA foreign_keys = ON")
        build_migrations().apply(db, stop_before=stop)
        indexed_hashtags = db["post_hashtags"].exists()
        inserted = {}
        for table, row in SAMPLE_ROWS:
            if db[table].exists():
                columns = db[table].columns_dict
                kept = {k: v for k, v in row.items() if k in columns}
                db[table].insert(kept)
                inserted[table] = kept
        db.conn.close()

        store = Store.open(path, tmp_path / "images")
        for table, row in inserted.items():
            rows = list(store.db[table].rows)
            assert len(rows) == 1, (stop, table)
            assert {k: rows[0][k] for k in row} == row, (stop, table)
        # Hashtags of posts stored before the hashtag tables existed are indexed by the upgrade.
        if not indexed_hashtags:
            assert store.tag_post_counts(["beach", "sun"]) == {"beach": 1, "sun": 1}
        assert store.integrity_check() == "ok"
        store.close()


def test_account_round_trip_keeps_posts_newest_first(store, tmp_path):
    image = tmp_path / "p.jpg"
    image.write_bytes(b"\xff\xd8fake")
    account = Account("demo", 1000, 50, 3, posts=(make_post("a", 3, 10, ["Sun"]), make_post("b", 1, 30, image=image)))
    store.save_account(account, fetched_at=T0)
    cached = store.get_account("demo")
    assert cached is not None and cached.fetched_at == T0
    assert [p.shortcode for p in cached.account.posts] == ["b", "a"]
    assert cached.account.posts[1].hashtags == ("Sun",)
    stored_image = cached.account.posts[0].image_path
    assert stored_image is not None and stored_image.read_bytes() == image.read_bytes()
    assert store.get_account("nobody") is None


def test_saving_an_account_again_updates_in_place(store):
    store.save_account(Account("demo", 1000, 50, 3, posts=(make_post("a", 1, 10, ["x"]),)), fetched_at=T0)
    store.save_account(Account("demo", 1200, 50, 4, posts=(make_post("a", 1, 15, ["y"]),)), fetched_at=T0)
    cached = store.get_account("demo")
    assert cached.account.followers == 1200
    assert [(p.likes, p.hashtags) for p in cached.account.posts] == [(15, ("y",))]
    assert store.tag_post_counts(["x", "y"]) == {"y": 1}


def test_a_failing_account_write_leaves_nothing_half_written(store):
    unwritable = replace(make_post("b", 2, 5), taken_at="not a time")  # fails after the first post is written
    bad = Account("demo", 1000, 50, 2, posts=(make_post("a", 1, 10), unwritable))
    with pytest.raises(Exception):
        store.save_account(bad)
    assert store.get_account("demo") is None
    assert store.recent_posts("demo") == []


def test_a_hidden_like_count_and_the_slides_of_a_carousel_come_back_as_they_went_in(store):
    hidden = replace(make_post("h", 1, None, ["beach"]), slides=3, is_multi_image=True)
    store.save_account(Account("demo", 1000, 50, 2, posts=(hidden, make_post("s", 2, 40, ["beach"]))))
    back = {p.shortcode: p for p in store.recent_posts("demo")}
    assert (back["h"].likes, back["h"].slides, back["s"].likes, back["s"].slides) == (None, 3, 40, 1)
    assert [p.likes for p in store.tag_evidence(["beach"])["beach"]] == [40]  # no count, no engagement evidence


def test_cooccurring_tags_follow_the_posts(store):
    posts = (
        make_post("a", 1, 10, ["beach", "sea"]),
        make_post("b", 2, 10, ["beach", "sea", "sun"]),
        make_post("c", 3, 10, ["city"]),
    )
    store.save_account(Account("demo", 100, 1, 3, posts=posts))
    assert [(tag, shared) for tag, shared, _, _ in store.cooccurring_with_partner(["beach"])] == [
        ("sea", 2),
        ("sun", 1),
    ]
    assert [p.handle for p in store.tag_evidence(["beach"])["beach"]] == ["demo", "demo"]


def test_images_are_stored_once_by_content(store):
    first = store.save_image(b"same bytes")
    second = store.save_image(b"same bytes")
    assert first == second
    assert len(list(store.images_dir.rglob("*.jpg"))) == 1


def test_drafts_are_kept_per_chat_and_deduplicated(store):
    store.save_draft(1, "u1", b"photo one")
    store.save_draft(1, "u1", b"photo one")
    store.save_draft(1, "u2", b"photo two", media_group_id="album")
    store.save_draft(2, "u3", b"photo three")
    assert [d.file_unique_id for d in store.drafts(1)] == ["u1", "u2"]
    assert store.drafts(1)[1].media_group_id == "album"
    assert store.count_drafts(2) == 1
    assert store.clear_drafts(1) == 2
    assert store.drafts(1) == [] and store.count_drafts(2) == 1


def test_predictions_record_actual_likes(store):
    draft = store.save_draft(5, "u1", b"photo")
    prediction = store.save_prediction(5, "demo", 120.0, 80.0, 160.0, "likes:abc", draft_id=draft.id, appeal=55.0)
    store.set_prediction_message(5, prediction.id, message_id=99)
    assert store.prediction_for_message(5, 99).id == prediction.id
    assert store.prediction_for_message(6, 99) is None
    updated = store.record_actual(5, prediction.id, 140)
    assert updated.actual_likes == 140
    assert store.last_prediction(5).actual_likes == 140


def test_unfinished_best_requests_survive_reopening(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store.open(path)
    request = store.open_best_request(3)
    assert store.open_best_request(3) == request
    store.close()
    reopened = Store.open(path)
    assert reopened.unfinished_best_requests() == [(request, 3)]
    reopened.finish_best_request(request)
    assert reopened.unfinished_best_requests() == []
    reopened.close()


def test_forget_chat_leaves_no_row_of_that_chat(store):
    store.set_chat_handle(1, "demo")
    draft = store.save_draft(1, "u1", b"only mine")
    store.save_draft(2, "u2", b"theirs")
    store.save_prediction(1, "demo", 1.0, 1.0, 1.0, "v", draft_id=draft.id)
    store.open_best_request(1)
    image = draft.image_path
    store.forget_chat(1)
    assert all(count == 0 for count in store.rows_for_chat(1).values())
    assert set(store.rows_for_chat(1)) >= {"chats", "drafts", "predictions", "best_requests"}
    assert not image.exists()
    assert store.count_drafts(2) == 1

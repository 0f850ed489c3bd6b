"""The SQLite store: migrations, the account cache, drafts, predictions and forgetting a chat."""

import os
import sqlite3
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
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

# Unused columns migration 0004 drops; every other value of their rows must survive the upgrade.
DROPPED_COLUMNS = {("drafts", "features"), ("chats", "settings")}


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
    assert "0004_drop_unused" in names  # the upgrade that drops columns is among those tested
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
            kept = {k: v for k, v in row.items() if (table, k) not in DROPPED_COLUMNS}
            assert {k: rows[0][k] for k in kept} == kept, (stop, table)
            assert not DROPPED_COLUMNS & {(table, k) for k in rows[0]}, (stop, table)
        assert "hashtag_cooccurrence" not in store.db.view_names()
        # Hashtags of posts stored before the hashtag tables existed are indexed by the upgrade.
        if not indexed_hashtags:
            assert store.tags.post_counts(["beach", "sun"]) == {"beach": 1, "sun": 1}
        assert store.integrity_check() == "ok"
        store.close()


def test_account_round_trip_keeps_posts_newest_first(store, tmp_path):
    image = tmp_path / "p.jpg"
    image.write_bytes(b"\xff\xd8fake")
    account = Account("demo", 1000, 50, 3, posts=(make_post("a", 3, 10, ["Sun"]), make_post("b", 1, 30, image=image)))
    store.accounts.save(account, fetched_at=T0)
    cached = store.accounts.get("demo")
    assert cached is not None and cached.fetched_at == T0
    assert [p.shortcode for p in cached.account.posts] == ["b", "a"]
    assert cached.account.posts[1].hashtags == ("Sun",)
    stored_image = cached.account.posts[0].image_path
    assert stored_image is not None and stored_image.read_bytes() == image.read_bytes()
    assert store.accounts.get("nobody") is None


def test_saving_an_account_again_updates_in_place(store):
    store.accounts.save(Account("demo", 1000, 50, 3, posts=(make_post("a", 1, 10, ["x"]),)), fetched_at=T0)
    store.accounts.save(Account("demo", 1200, 50, 4, posts=(make_post("a", 1, 15, ["y"]),)), fetched_at=T0)
    cached = store.accounts.get("demo")
    assert cached.account.followers == 1200
    assert [(p.likes, p.hashtags) for p in cached.account.posts] == [(15, ("y",))]
    assert store.tags.post_counts(["x", "y"]) == {"y": 1}


def test_a_failing_account_write_leaves_nothing_half_written(store):
    unwritable = replace(make_post("b", 2, 5), taken_at="not a time")  # fails after the first post is written
    bad = Account("demo", 1000, 50, 2, posts=(make_post("a", 1, 10), unwritable))
    with pytest.raises(Exception):
        store.accounts.save(bad)
    assert store.accounts.get("demo") is None
    assert store.accounts.recent_posts("demo") == []


def test_a_hidden_like_count_and_the_slides_of_a_carousel_come_back_as_they_went_in(store):
    hidden = replace(make_post("h", 1, None, ["beach"]), slides=3, is_multi_image=True)
    store.accounts.save(Account("demo", 1000, 50, 2, posts=(hidden, make_post("s", 2, 40, ["beach"]))))
    back = {p.shortcode: p for p in store.accounts.recent_posts("demo")}
    assert (back["h"].likes, back["h"].slides, back["s"].likes, back["s"].slides) == (None, 3, 40, 1)
    assert [p.likes for p in store.tags.evidence(["beach"])["beach"]] == [40]  # no count, no engagement evidence


def test_cooccurring_tags_follow_the_posts(store):
    posts = (
        make_post("a", 1, 10, ["beach", "sea"]),
        make_post("b", 2, 10, ["beach", "sea", "sun"]),
        make_post("c", 3, 10, ["city"]),
    )
    store.accounts.save(Account("demo", 100, 1, 3, posts=posts))
    assert [(tag, shared) for tag, shared, _, _ in store.tags.cooccurring_with_partner(["beach"])] == [
        ("sea", 2),
        ("sun", 1),
    ]
    assert [p.handle for p in store.tags.evidence(["beach"])["beach"]] == ["demo", "demo"]


def test_images_are_stored_once_by_content(store):
    first = store.images.save(b"same bytes")
    second = store.images.save(b"same bytes")
    assert first == second
    assert len(list(store.images_dir.rglob("*.jpg"))) == 1


def test_drafts_are_kept_per_chat_and_deduplicated(store):
    store.drafts.save(1, "u1", b"photo one")
    store.drafts.save(1, "u1", b"photo one")
    store.drafts.save(1, "u2", b"photo two", media_group_id="album")
    store.drafts.save(2, "u3", b"photo three")
    assert [d.file_unique_id for d in store.drafts.of_chat(1)] == ["u1", "u2"]
    assert store.drafts.of_chat(1)[1].media_group_id == "album"
    assert store.drafts.count(2) == 1
    assert store.drafts.clear(1) == 2
    assert store.drafts.of_chat(1) == [] and store.drafts.count(2) == 1


def test_predictions_record_actual_likes(store):
    draft = store.drafts.save(5, "u1", b"photo")
    prediction = store.predictions.save(5, "demo", 120.0, 80.0, 160.0, "likes:abc", draft_id=draft.id, appeal=55.0)
    store.predictions.set_message(5, prediction.id, message_id=99)
    assert store.predictions.for_message(5, 99).id == prediction.id
    assert store.predictions.for_message(6, 99) is None
    updated = store.predictions.record_actual(5, prediction.id, 140)
    assert updated.actual_likes == 140
    assert store.predictions.last(5).actual_likes == 140


def test_unfinished_best_requests_survive_reopening(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store.open(path)
    request = store.best_requests.open(3)
    assert store.best_requests.open(3) == request
    store.close()
    reopened = Store.open(path)
    assert reopened.best_requests.unfinished() == [(request, 3)]
    reopened.best_requests.finish(request)
    assert reopened.best_requests.unfinished() == []
    reopened.close()


def test_forget_chat_leaves_no_row_of_that_chat(store):
    store.chats.set_handle(1, "demo")
    draft = store.drafts.save(1, "u1", b"only mine")
    store.drafts.save(2, "u2", b"theirs")
    store.predictions.save(1, "demo", 1.0, 1.0, 1.0, "v", draft_id=draft.id)
    store.best_requests.open(1)
    image = draft.image_path
    store.chats.forget(1)
    assert all(count == 0 for count in store.chats.row_counts(1).values())
    assert set(store.chats.row_counts(1)) >= {"chats", "drafts", "predictions", "best_requests"}
    assert not image.exists()
    assert store.drafts.count(2) == 1


def test_many_embeddings_come_back_in_one_query_and_in_chunks_past_the_variable_limit(store):
    shas = [store.images.save(f"photo {i}".encode()) for i in range(30)]
    for i, sha in enumerate(shas):
        store.images.save_embedding(sha, "model-1", np.full(4, i, dtype=np.float32))
    store.images.save_embedding(shas[0], "model-2", np.zeros(4, dtype=np.float32))
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        vectors = store.images.embeddings([*shas, "0" * 64], "model-1")
    finally:
        store.db.conn.set_trace_callback(None)
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
    assert sorted(vectors) == sorted(shas) and [vectors[sha][0] for sha in shas] == list(range(30))
    store.db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 8)  # as on a SQLite built with a low limit
    assert sorted(store.images.embeddings(shas, "model-1")) == sorted(shas)
    assert sorted(store.images.paths(shas)) == sorted(shas)


def test_a_photo_whose_file_went_missing_is_written_again_when_sent_again(store):
    draft = store.drafts.save(1, "u1", b"photo bytes")
    draft.image_path.unlink()
    again = store.drafts.save(2, "u2", b"photo bytes")
    assert again.image_path.read_bytes() == b"photo bytes"


def test_forget_removes_the_chats_photo_files_but_keeps_those_others_use(store, tmp_path):
    mine = store.drafts.save(1, "u1", b"only mine").image_path
    shared = store.drafts.save(1, "u2", b"both chats").image_path
    store.drafts.save(2, "u3", b"both chats")
    post_photo = tmp_path / "post.jpg"
    post_photo.write_bytes(b"also a stored post")
    store.accounts.save(Account("demo", 100, 1, 1, posts=(make_post("p", 1, 5, image=post_photo),)))
    posted = store.drafts.save(1, "u4", b"also a stored post").image_path
    store.chats.forget(1)
    on_disk = {p for p in store.images_dir.rglob("*") if p.is_file()}
    assert not mine.exists() and on_disk == {shared, posted}
    store.chats.forget(2)
    assert {p for p in store.images_dir.rglob("*") if p.is_file()} == {posted}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_database_and_photos_are_owner_only_whatever_the_umask(tmp_path):
    data = tmp_path / "data"
    previous = os.umask(0)  # modes must not depend on the umask the bot was started with
    try:
        store = Store.open(data / "db.sqlite3", data / "photos" / "images")
        draft = store.drafts.save(1, "u1", b"a private photo")
        post_photo = tmp_path / "post.jpg"
        post_photo.write_bytes(b"a post photo")
        store.accounts.save(Account("demo", 100, 1, 1, posts=(make_post("p", 1, 5, image=post_photo),)))
    finally:
        os.umask(previous)
    try:
        folders = [data, data / "photos", store.images_dir, draft.image_path.parent]
        assert {folder: mode(folder) for folder in folders} == {folder: 0o700 for folder in folders}
        files = [data / "db.sqlite3", data / "db.sqlite3-wal", data / "db.sqlite3-shm"]
        files += [p for p in store.images_dir.rglob("*") if p.is_file()]
        assert len(files) == 5
        assert {file: mode(file) for file in files} == {file: 0o600 for file in files}
    finally:
        store.close()


def test_an_existing_database_and_images_folder_readable_by_others_are_made_owner_only(tmp_path):
    path = tmp_path / "db.sqlite3"
    Store.open(path, tmp_path / "images").close()
    path.chmod(0o644)
    (tmp_path / "images").chmod(0o755)
    Store.open(path, tmp_path / "images").close()
    assert mode(path) == 0o600 and mode(tmp_path / "images") == 0o700

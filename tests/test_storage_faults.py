"""A read-only or full data folder: the store raises StorageError, logs one line for the operator, and
leaves nothing half-written; the bot answers with a plain sentence and keeps running.

Tests run as root in CI, where a chmod'ed folder still takes writes, so each fault is one the OS or SQLite
really raises for root too: a file where the images folder should be (ENOTDIR), a directory where a photo
should be removed (EISDIR), SQLite's own read-only switch (`query_only`) and page cap (`max_page_count`).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bot.texts import explain
from core.paths import DEMO_DIR
from core.settings import Settings
from store import StorageError, Store
from tests.botapi import LocalBotApi, running_bot
from tests.test_bot import CHAT, SAMPLES, bot_settings, say, set_demo_handle

SENTENCE = "I can't store photos right now — please try again later."


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def stored_image_paths(store: Store) -> set[Path]:
    return {Path(r["path"]) for r in store.db["images"].rows}


def store_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("store") and r.levelno >= logging.ERROR]


def break_images_folder(store: Store) -> None:
    """Put a regular file where the images folder is: creating anything inside it fails, root or not."""
    shutil.rmtree(store.images_dir)
    store.images_dir.write_bytes(b"not a folder")


def test_the_storage_sentence_is_plain():
    assert explain(StorageError("saving a draft photo", Path("/data/images"), "Read-only file system")) == SENTENCE


def test_a_draft_into_an_unusable_images_folder_raises_storage_error_and_keeps_no_row(store, caplog):
    store.drafts.save(1, "u0", b"kept before")
    break_images_folder(store)
    with caplog.at_level(logging.ERROR), pytest.raises(StorageError) as raised:
        store.drafts.save(1, "u1", b"refused photo")
    assert raised.value.path == store.images_dir
    assert [d.file_unique_id for d in store.drafts.of_chat(1)] == ["u0"]
    [line] = store_errors(caplog)
    assert "saving a draft photo failed" in line.getMessage() and str(store.images_dir) in line.getMessage()
    assert line.exc_info is None  # one line, no traceback


def test_a_read_only_database_refuses_a_draft_and_leaves_no_photo_file(store, caplog):
    store.db.execute("PRAGMA query_only = ON")  # SQLite answers every write "attempt to write a readonly database"
    with caplog.at_level(logging.ERROR), pytest.raises(StorageError) as raised:
        store.drafts.save(1, "u1", b"photo", media_group_id="album")
    assert raised.value.path == store.database.path and "readonly" in raised.value.reason
    assert len(store_errors(caplog)) == 1
    store.db.execute("PRAGMA query_only = OFF")
    assert files_under(store.images_dir) == set()  # neither the photo nor its temporary .part file
    assert store.drafts.count(1) == 0 and stored_image_paths(store) == set()


def test_a_full_database_refuses_drafts_and_every_file_on_disk_still_has_its_row(store, caplog):
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's "database or disk is full" soon
    saved = 0
    with caplog.at_level(logging.ERROR), pytest.raises(StorageError) as raised:
        for i in range(10_000):
            store.drafts.save(1, f"u{i}", f"photo {i} ".encode() * 200)
            saved += 1
    assert "full" in raised.value.reason and saved > 0
    assert len(store_errors(caplog)) == 1
    assert store.drafts.count(1) == saved
    assert files_under(store.images_dir) == stored_image_paths(store)  # no .part, no photo without its row
    assert store.integrity_check() == "ok"


def test_forget_on_a_read_only_database_keeps_every_row_and_photo(store):
    draft = store.drafts.save(1, "u1", b"mine")
    store.predictions.save(1, "demo", 1.0, 1.0, 1.0, "v", draft_id=draft.id)
    store.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StorageError):
        store.chats.forget(1)
    store.db.execute("PRAGMA query_only = OFF")
    assert store.chats.row_counts(1)["drafts"] == 1 and store.chats.row_counts(1)["predictions"] == 1
    assert draft.image_path.is_file()


def test_forget_that_cannot_remove_a_photo_keeps_the_rows_and_asking_again_finishes(store, caplog):
    draft = store.drafts.save(1, "u1", b"mine")
    draft.image_path.unlink()
    draft.image_path.mkdir()  # unlink() of a directory fails with EISDIR, even for root
    (draft.image_path / "inside").write_bytes(b"x")
    with caplog.at_level(logging.ERROR), pytest.raises(StorageError) as raised:
        store.chats.forget(1)
    assert raised.value.path == draft.image_path
    assert len(store_errors(caplog)) == 1
    assert store.chats.row_counts(1)["drafts"] == 1
    shutil.rmtree(draft.image_path)
    store.chats.forget(1)
    assert set(store.chats.row_counts(1).values()) == {0}


async def test_the_bot_answers_photos_albums_and_forget_plainly_when_it_cannot_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with LocalBotApi() as server:
        settings: Settings = bot_settings(server, tmp_path)
        async with running_bot(settings):
            await set_demo_handle(server)
            server.send_photo(CHAT, SAMPLES[0].read_bytes())
            [advice] = await server.next_messages(CHAT)
            assert "this photo should get about" in advice.plain_text
            store = Store.open(settings.db_path, settings.images_dir)
            [kept] = store.drafts.of_chat(CHAT)
            store.close()

            shutil.move(settings.images_dir, tmp_path / "images-aside")
            settings.images_dir.write_bytes(b"not a folder")
            with caplog.at_level(logging.ERROR):
                server.send_photo(CHAT, SAMPLES[1].read_bytes())
                [refused] = await server.next_messages(CHAT)
                assert refused.plain_text == SENTENCE
                album = [(DEMO_DIR / "images" / f"brunch_club_0{i}.jpg").read_bytes() for i in range(2)]
                server.send_album(CHAT, album)
                [album_answer] = await server.next_messages(CHAT)
                assert f"2 not kept: {SENTENCE}" in album_answer.plain_text
            assert store_errors(caplog) and all(r.exc_info is None for r in store_errors(caplog))
            assert str(settings.images_dir) not in refused.plain_text + album_answer.plain_text

            settings.images_dir.unlink()
            shutil.move(tmp_path / "images-aside", settings.images_dir)
            kept.image_path.unlink()
            kept.image_path.mkdir()  # a photo /forget cannot remove
            (kept.image_path / "inside").write_bytes(b"x")
            [forget_refused] = await say(server, "/forget")
            assert forget_refused.plain_text == SENTENCE
            [usage] = await say(server, "/help")  # still running
            assert "/best" in usage.plain_text

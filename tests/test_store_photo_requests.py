"""Photo requests (migrations 0006 and 0008): one row per message however often it is recorded, album photos
carry their album, and an album's requests are finished together."""

from __future__ import annotations

from core.records import PhotoToAnswer
from store import Store


def test_recording_the_same_message_again_gives_the_same_request(store: Store) -> None:
    first = store.photo_requests.open(PhotoToAnswer(11, 5, "file-a", "unique-a", "photo", ".jpg"))
    again = store.photo_requests.open(PhotoToAnswer(11, 5, "file-a", "unique-a", "photo", ".jpg"))
    other_chat = store.photo_requests.open(PhotoToAnswer(12, 5, "file-b", "unique-b", "photo", ".jpg"))
    assert first == again != other_chat
    assert [(r.chat_id, r.message_id) for r in store.photo_requests.unfinished()] == [(11, 5), (12, 5)]


def test_album_photos_keep_their_album_and_are_finished_together(store: Store) -> None:
    ids = [
        store.photo_requests.open(PhotoToAnswer(11, m, f"file-{m}", f"unique-{m}", "photo", ".jpg", "album-7"))
        for m in (1, 2, 3)
    ]
    single = store.photo_requests.open(PhotoToAnswer(11, 4, "file-4", "unique-4", "document", ".png"))
    assert [r.media_group_id for r in store.photo_requests.unfinished()] == ["album-7"] * 3 + [None]
    store.photo_requests.finish(*ids)
    assert [r.id for r in store.photo_requests.unfinished()] == [single]

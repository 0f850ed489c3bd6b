"""The service layer with the real store, account source (demo data), image models and predictor."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from app.errors import NoHandle, NoPrediction, TooManyDrafts, UnknownDraft
from app.service import Service
from app.services import open_services
from core.paths import DEMO_DATA, DEMO_DIR, DEMO_HANDLE, DEMO_SAMPLES
from core.settings import Settings, SourceSetting
from inference.photo import PhotoError
from scraping.datasets import read_accounts_jsonl
from tests.botapi import warm_database

CHAT = 11
OTHER_CHAT = 22
SAMPLES = sorted(DEMO_SAMPLES.glob("*.jpg"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(
        db_path=tmp_path / "db.sqlite3", data_dir=tmp_path / "data", source=SourceSetting("demo"), max_drafts=4
    )
    warm_database(settings)
    return settings


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Service]:
    opened = await open_services(settings)
    try:
        yield opened
    finally:
        await opened.aclose()


async def add_samples(service: Service, chat: int, paths: list[Path]) -> list[Any]:
    return [await service.add_photo(chat, p.name, p.read_bytes()) for p in paths]


async def test_set_handle_reports_followers_and_the_median_of_the_last_20_posts(service: Service) -> None:
    demo = next(a for a in read_accounts_jsonl(DEMO_DATA) if a.handle == DEMO_HANDLE)
    expected = median(p.likes for p in demo.posts_newest_first()[:20])
    summary = await service.set_handle(CHAT, "@Demo_Creator")
    assert (summary.handle, summary.followers, summary.n_posts) == (DEMO_HANDLE, demo.followers, 20)
    assert summary.median_likes == expected
    assert await service.handle(CHAT) == DEMO_HANDLE


async def test_an_unreadable_photo_is_refused_and_not_kept(service: Service) -> None:
    with pytest.raises(PhotoError):
        await service.add_photo(CHAT, "bad", b"this is not a picture")
    assert await service.count_drafts(CHAT) == 0


async def test_drafts_stop_at_the_limit_and_the_same_photo_is_one_draft(service: Service) -> None:
    await add_samples(service, CHAT, SAMPLES)
    await service.add_photo(CHAT, SAMPLES[0].name, SAMPLES[0].read_bytes())
    with pytest.raises(TooManyDrafts):
        await service.add_photo(CHAT, "one more", (DEMO_DIR / "images" / "trail_mix_00.jpg").read_bytes())
    assert await service.count_drafts(CHAT) == 4


async def test_advice_needs_a_handle_then_gives_likes_a_range_and_hashtags(service: Service) -> None:
    [draft] = await add_samples(service, CHAT, SAMPLES[:1])
    with pytest.raises(NoHandle):
        await service.advise_draft(CHAT, draft.id)
    await service.set_handle(CHAT, DEMO_HANDLE)
    advice = await service.advise_draft(CHAT, draft.id)
    p = advice.prediction
    assert 0 < p.low <= p.likes <= p.high
    assert advice.hashtags.suggestions
    assert await service.unanswered_drafts(CHAT) == []  # the advice was saved as this draft's prediction


async def test_ranking_is_by_predicted_likes_with_progress_and_the_winner_saved(service: Service) -> None:
    await service.set_handle(CHAT, DEMO_HANDLE)
    await add_samples(service, CHAT, SAMPLES)
    progress: list[tuple[int, int]] = []

    async def report(done: int, total: int) -> None:
        progress.append((done, total))

    ranking = await service.rank_drafts(CHAT, report)
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [r.rank for r in ranking.drafts] == [1, 2, 3, 4]
    likes = [r.prediction.likes for r in ranking.drafts]
    assert likes == sorted(likes, reverse=True)
    last = service.store.predictions.last(CHAT)
    assert last is not None and last.id == ranking.prediction_id and last.draft_id == ranking.winner.draft.id


async def test_one_chat_cannot_reach_anothers_draft(service: Service) -> None:
    await service.set_handle(CHAT, DEMO_HANDLE)
    await service.set_handle(OTHER_CHAT, DEMO_HANDLE)
    [draft] = await add_samples(service, CHAT, SAMPLES[:1])
    handle, advice = await service.draft_hashtags(CHAT, draft.id)
    assert handle == DEMO_HANDLE and advice.suggestions
    with pytest.raises(UnknownDraft):
        await service.draft_hashtags(OTHER_CHAT, draft.id)


async def test_actual_likes_attach_to_the_replied_or_the_last_prediction(service: Service) -> None:
    with pytest.raises(NoPrediction):
        await service.record_actual(CHAT, "100")
    await service.set_handle(CHAT, DEMO_HANDLE)
    first, second = await add_samples(service, CHAT, SAMPLES[:2])
    advice_first = await service.advise_draft(CHAT, first.id)
    await service.set_prediction_message(CHAT, advice_first.prediction_id, 500)
    await service.advise_draft(CHAT, second.id)

    by_reply = await service.record_actual(CHAT, "250", reply_to_message_id=500)
    assert by_reply.prediction.id == advice_first.prediction_id and by_reply.actual == 250
    last = await service.record_actual(CHAT, "1.5k")
    assert last.prediction.draft_id == second.id and last.actual == 1500
    with pytest.raises(NoPrediction):
        await service.record_actual(CHAT, "10", reply_to_message_id=999)

    stats = await service.chat_stats(CHAT)
    assert stats.checked == 2
    expected = median(abs(p.predicted_likes - p.actual_likes) / p.actual_likes for p in stats.predictions)
    assert stats.median_abs_error == pytest.approx(expected)


async def test_forget_removes_this_chat_only(service: Service) -> None:
    for chat in (CHAT, OTHER_CHAT):
        await service.set_handle(chat, DEMO_HANDLE)
        [draft] = await add_samples(service, chat, SAMPLES[:1])
        await service.advise_draft(chat, draft.id)
    counts = await service.forget(CHAT)
    assert counts["drafts"] == 1 and counts["predictions"] == 1
    assert set(service.store.chats.row_counts(CHAT).values()) == {0}
    assert service.store.drafts.count(OTHER_CHAT) == 1


class ThreadRecorder:
    """Delegates to the real object and notes which thread each call ran on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.threads: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.threads.append(threading.current_thread().name)
            return attribute(*args, **kwargs)

        return call


async def test_image_and_model_work_runs_off_the_event_loop(settings: Settings) -> None:
    opened = await open_services(settings.replaced())
    try:
        analyzer, predictor = ThreadRecorder(opened.analyzer), ThreadRecorder(opened.predictor)
        opened.analyzer, opened.predictor = analyzer, predictor  # type: ignore[assignment]
        await opened.set_handle(CHAT, DEMO_HANDLE)
        [draft] = await add_samples(opened, CHAT, SAMPLES[:1])
        await opened.advise_draft(CHAT, draft.id)
    finally:
        await opened.aclose()
    loop_thread = threading.current_thread().name
    assert analyzer.threads and predictor.threads
    assert all(
        name != loop_thread and name.startswith("likepredict-cpu") for name in analyzer.threads + predictor.threads
    )


async def test_indexing_embeds_every_stored_photo_once_for_the_hashtag_engine(tmp_path: Path) -> None:
    demo = next(a for a in read_accounts_jsonl(DEMO_DATA) if a.handle == DEMO_HANDLE)
    small = replace(demo, posts=demo.posts[:5])
    data_file = tmp_path / "small.jsonl"
    from scraping.datasets import write_accounts_jsonl

    write_accounts_jsonl([small], data_file)
    settings = Settings(
        db_path=tmp_path / "db.sqlite3", data_dir=tmp_path / "data", source=SourceSetting("dataset", data_file)
    )
    opened = await open_services(settings)
    try:
        await opened.set_handle(CHAT, DEMO_HANDLE)
        shas = {sha for _, sha, _ in opened.store.accounts.posts_with_images()}
        assert len(shas) == 5
        assert await opened.index_stored_photos() == 5
        version = opened.hashtags.vector_version
        assert all(opened.store.images.embedding(sha, version) is not None for sha in shas)
    finally:
        await opened.aclose()  # also waits for the indexing set_handle started in the background

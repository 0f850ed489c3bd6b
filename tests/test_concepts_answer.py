"""The photo answer's time zone (issue #12 item 4): /timezone, the chat's stored zone, the language guess."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.errors import BadTimezone
from app.results import CarouselAdvice, PostingTime, RankedDraft
from app.service import Service, largest_album
from app.services import open_services
from app.timezones import ChatZone, chat_zone, parse_zone
from bot import texts
from core.paths import DEMO_HANDLE, DEMO_SAMPLES
from core.records import Draft
from core.settings import Settings, SourceSetting
from inference.predictor import LikesPrediction
from store import Store
from tests.botapi import LocalBotApi, running_bot, warm_database
from tests.test_bot import CHAT, DRAFT_IMAGES, OTHER_CHAT, bot_settings, say, set_demo_handle

SAMPLES = sorted(DEMO_SAMPLES.glob("*.jpg"))
BERLIN = ChatZone("Europe/Berlin")
GUESSED = ChatZone("Europe/Berlin", guessed_from="de")


def test_a_zone_name_is_read_whatever_its_case_and_anything_else_is_refused():
    assert parse_zone("europe/berlin") == "Europe/Berlin"
    assert parse_zone(" America/New York ") == "America/New_York"
    assert parse_zone("UTC") == "UTC"
    with pytest.raises(BadTimezone):
        parse_zone("Mars/Olympus_Mons")


def test_the_chats_own_zone_wins_and_only_one_zone_languages_are_guessed():
    assert chat_zone("Asia/Tokyo", "de") == ChatZone("Asia/Tokyo")
    assert chat_zone(None, "de") == ChatZone("Europe/Berlin", guessed_from="de")
    assert chat_zone(None, "pt-br") is None  # Portuguese: Brazil and Portugal, hours apart
    assert chat_zone(None, "en") is None and chat_zone(None, "es") is None and chat_zone(None, None) is None


def test_a_chat_keeps_its_zone_until_cleared_or_forgotten(store: Store):
    assert store.chats.timezone(CHAT) is None
    store.chats.set_handle(CHAT, "demo_creator")
    store.chats.set_timezone(CHAT, "Europe/Berlin")
    assert store.chats.timezone(CHAT) == "Europe/Berlin" and store.chats.handle(CHAT) == "demo_creator"
    assert store.chats.timezone(OTHER_CHAT) is None
    store.chats.set_timezone(CHAT, None)
    assert store.chats.timezone(CHAT) is None and store.chats.handle(CHAT) == "demo_creator"
    store.chats.set_timezone(CHAT, "Asia/Tokyo")
    store.chats.forget(CHAT)
    assert store.chats.timezone(CHAT) is None


async def test_timezone_sets_shows_and_clears_the_chats_zone_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    async with LocalBotApi() as server, running_bot(bot_settings(server, tmp_path)):
        [usage] = await say(server, "/timezone")
        assert "UTC" in usage.plain_text and "/timezone Europe/Berlin" in usage.plain_text
        assert "guessed" not in usage.plain_text  # the stand-in's user writes in English: no guess
        [done] = await say(server, "/timezone europe/berlin")
        assert "Europe/Berlin" in done.plain_text
        [shown] = await say(server, "/timezone")
        assert "UTC and Europe/Berlin" in shown.plain_text
        [other] = await say(server, "/timezone", chat=OTHER_CHAT)
        assert "UTC and" not in other.plain_text
        [refused] = await say(server, "/timezone Mars/Olympus_Mons")
        assert "isn't a time zone" in refused.plain_text
        [cleared] = await say(server, "/timezone off")
        assert "UTC only" in cleared.plain_text


# ---- the answer's sentences ---------------------------------------------------------------------------


def prediction(likes: float) -> LikesPrediction:
    return LikesPrediction(likes, likes * 0.7, likes * 1.4, 60.0, 300.0, True, "", "likes:test")


def draft(draft_id: int) -> Draft:
    return Draft(draft_id, CHAT, f"photo{draft_id}", Path(f"{draft_id}.jpg"), datetime(2026, 12, 1, tzinfo=UTC), "a1")


def test_an_effect_reads_as_better_or_worse_with_its_interval():
    assert texts.effect_sentence("people", 0.15, 0.04, 0.25) == (
        "Photos with people do about 15 % better for accounts like yours (90 % range +4 % to +25 %)."
    )
    assert texts.effect_sentence("text", -0.08, -0.14, -0.02).startswith("Photos with text do about 8 % worse")


def test_the_best_time_is_said_in_utc_and_in_the_chats_zone_with_its_worth():
    at = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # a Thursday; Berlin is an hour ahead in winter
    lines = texts.plain("\n".join(texts.posting_time_lines(PostingTime(at, 0.06, -0.01, 0.12, "model", BERLIN))))
    assert "Thu 03 Dec 17:00 UTC = Thu 03 Dec 18:00 Europe/Berlin" in lines
    assert "+6 % likes against your usual time (90 % range −1 % to +12 %)" in lines
    assert "/timezone" not in lines
    guessed = texts.plain("\n".join(texts.posting_time_lines(PostingTime(at, 0.0, 0.0, 0.0, "model", GUESSED))))
    assert "guessed from your Telegram language" in guessed


def test_without_a_zone_the_time_is_utc_and_the_answer_says_how_to_set_one():
    at = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    lines = texts.plain("\n".join(texts.posting_time_lines(PostingTime(at, 0.0, -0.03, 0.04, "habit", None))))
    assert "17:00 UTC." in lines and "usually post" in lines and "/timezone Europe/Berlin" in lines


def test_the_carousel_line_says_which_to_post():
    best_single = RankedDraft(2, draft(7), prediction(400))
    ranks = {5: 1, 7: 2}
    wins = "\n".join(texts.carousel_lines(CarouselAdvice(3, draft(5), prediction(460), best_single), ranks))
    loses = "\n".join(texts.carousel_lines(CarouselAdvice(3, draft(5), prediction(360), best_single), ranks))
    same = "\n".join(texts.carousel_lines(CarouselAdvice(3, draft(5), prediction(404), best_single), ranks))
    assert "carousel of 3 (#1 first): about 460 likes" in wins and "Post them as a carousel: about 15% more" in wins
    assert "Post #2 alone" in loses and "10% fewer" in loses
    assert "About the same" in same


@asynccontextmanager
async def demo_service(tmp_path: Path) -> AsyncIterator[Service]:
    """The real service over the demo data, with the chat's account set to the demo account."""
    settings = Settings(db_path=tmp_path / "db.sqlite3", data_dir=tmp_path / "data", source=SourceSetting("demo"))
    warm_database(settings)
    service = await open_services(settings)
    try:
        await service.set_handle(CHAT, DEMO_HANDLE)
        yield service
    finally:
        await service.aclose()


# ---- albums as one carousel post --------------------------------------------------------------------


def test_the_largest_album_of_two_or_more_is_the_carousel():
    single = Draft(1, CHAT, "a", Path("a.jpg"), datetime(2026, 12, 1, tzinfo=UTC))
    drafts = [single, draft(2), draft(3), replace(draft(4), media_group_id="b2")]
    assert largest_album(drafts) == [1, 2]
    assert largest_album([single, replace(draft(4), media_group_id="b2")]) is None
    assert largest_album([single]) is None


async def test_best_on_an_album_also_predicts_it_as_one_carousel(tmp_path: Path) -> None:
    async with demo_service(tmp_path) as service:
        await service.add_photo(CHAT, "alone", SAMPLES[0].read_bytes())
        assert (await service.rank_drafts(CHAT)).carousel is None
        for path in SAMPLES[1:]:
            await service.add_photo(CHAT, path.name, path.read_bytes(), media_group_id="album-1")
        ranking = await service.rank_drafts(CHAT)
    carousel = ranking.carousel
    assert carousel is not None and carousel.slides == len(SAMPLES) - 1
    album = [r for r in ranking.drafts if r.draft.media_group_id == "album-1"]
    assert carousel.best_single == album[0] and carousel.cover.media_group_id == "album-1"
    assert carousel.carousel.likes > 0 and carousel.carousel.likes != carousel.best_single.prediction.likes


async def test_the_best_answer_to_an_album_says_carousel_or_single(tmp_path: Path) -> None:
    async with LocalBotApi() as server, running_bot(bot_settings(server, tmp_path)):
        await set_demo_handle(server)
        server.send_album(CHAT, [p.read_bytes() for p in DRAFT_IMAGES[:2]])
        [saved] = await server.next_messages(CHAT)
        assert "2 drafts saved" in saved.plain_text
        _, picture = await say(server, "/best", n=2)
    assert "As one carousel of 2" in picture.plain_text and "the best single photo (#" in picture.plain_text
    assert len(picture.plain_text) <= 1024  # a photo's caption


async def test_a_photo_answer_names_the_best_time_and_only_reliable_supported_effects(tmp_path: Path) -> None:
    async with demo_service(tmp_path) as service:
        await service.set_timezone(CHAT, "Asia/Tokyo")
        draft = await service.add_photo(CHAT, "p", SAMPLES[0].read_bytes())
        started = datetime.now(UTC)
        advice = await service.advise_draft(CHAT, draft.id)
        named = service.analyzer.concepts.named
    when = advice.when
    assert when is not None and when.zone == ChatZone("Asia/Tokyo")
    assert started < when.at <= started + timedelta(days=7) and when.at.minute == 0
    assert all(f.supported and f.concept in named for f in advice.effects)
    text = texts.plain(texts.photo_advice(advice))
    assert "Best time to post in the next 7 days" in text and "Asia/Tokyo" in text
    for effect in advice.effects:
        assert texts.effect_sentence(effect.concept, effect.change, effect.low, effect.high) in text


def test_the_answer_says_what_the_photo_shows_and_how_far_that_moves_the_prediction():
    p = LikesPrediction(110.0, 80.0, 150.0, 60.0, 100.0, True, "", "v", nothing_shown_likes=100.0)
    assert texts.photo_content_lines(("people", "sky"), p) == [
        "I see: people, the sky. That moves the prediction +10 % against a photo showing none of it."
    ]
    assert texts.photo_content_lines(("sky",), replace(p, likes=100.2)) == [
        "I see: the sky. That barely moves the prediction."
    ]
    assert texts.photo_content_lines((), p) == []  # nothing reliable seen: nothing to say

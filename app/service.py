"""The service layer: one coroutine per thing a user asks for, composing store, accounts, photo analysis,
the likes predictor and the hashtag engine. Used by the bot's handlers, the offline demo and the CLI.

Everything slow is kept off the event loop: store verbs through `asyncio.to_thread`, decoding and ONNX
work in a small thread pool of its own (onnxruntime releases the GIL, so threads are enough).

Longer than the other modules (~430 lines) on purpose: it is the one list of use cases, one short method
each, so a newcomer reads what the bot can do in one file; the work itself lives in the layers below.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from app.errors import BadLikes, NoDrafts, NoHandle, NoPrediction, TooManyDrafts, UnknownDraft
from app.results import (
    AccountChosen,
    AccountSummary,
    ActualResult,
    AlbumStatus,
    BestRequest,
    CarouselAdvice,
    ChatStats,
    PhotoAdvice,
    PhotoReceived,
    PostingTime,
    RankedDraft,
    Ranking,
)
from app.timezones import ChatZone, chat_zone, parse_zone
from core.account_stats import account_stats
from core.concepts import CONCEPTS
from core.records import Account, Draft, PhotoToAnswer, Prediction
from core.settings import Settings
from inference.analyzer import PhotoAnalysis, PhotoAnalyzer
from inference.best_time import best_time
from inference.hashtags import HashtagAdvice, HashtagEngine
from inference.predictor import LikesPrediction, Predictor
from scraping.service import AccountService
from store import PhotoRequest, Store

log = logging.getLogger(__name__)
T = TypeVar("T")
ANALYSIS_CACHE_SIZE = 256
LIKES_PATTERN = re.compile(r"^\s*(\d[\d,. ]*)\s*([kKmM]?)\s*$")


def largest_album(drafts: list[Draft]) -> list[int] | None:
    """Positions of the drafts of the largest album (ties: the latest), None without an album of two or more."""
    albums: dict[str, list[int]] = {}
    for i, draft in enumerate(drafts):
        if draft.media_group_id is not None:
            albums.setdefault(draft.media_group_id, []).append(i)
    if not albums:
        return None
    album = max(albums.values(), key=lambda rows: (len(rows), max(drafts[i].id for i in rows)))
    return album if len(album) >= 2 else None


def parse_likes(text: str) -> int:
    """'420', '1,240', '1.2k', '3M' -> a whole number of likes; BadLikes otherwise."""
    match = LIKES_PATTERN.match(text or "")
    if not match:
        raise BadLikes(text or "")
    digits, suffix = match.group(1).replace(" ", ""), match.group(2).lower()
    if suffix:
        try:
            value = float(digits.replace(",", "."))
        except ValueError:
            raise BadLikes(text) from None
        value *= 1000 if suffix == "k" else 1_000_000
    else:
        if not re.fullmatch(r"\d{1,3}(,\d{3})*|\d+", digits):
            raise BadLikes(text)
        value = float(digits.replace(",", ""))
    if value > 1e10:
        raise BadLikes(text)
    return int(round(value))


ProgressCallback = Callable[[int, int], Awaitable[None]]


class Service:
    """The bot's brain, one per process: made by `app.services.open_services(settings)`; close with `aclose()`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        accounts: AccountService,
        analyzer: PhotoAnalyzer,
        predictor: Predictor,
        hashtags: HashtagEngine,
        cpu_workers: int = 2,
    ) -> None:
        self.settings = settings
        self.store = store
        self.accounts = accounts
        self.analyzer = analyzer
        self.predictor = predictor
        self.hashtags = hashtags
        self._cpu = ThreadPoolExecutor(max_workers=cpu_workers, thread_name_prefix="likepredict-cpu")
        self._analyses: OrderedDict[str, PhotoAnalysis] = OrderedDict()
        self._indexing: asyncio.Task[int] | None = None
        self._closing = False

    async def aclose(self) -> None:
        self._closing = True
        if self._indexing is not None:
            await asyncio.gather(self._indexing, return_exceptions=True)
        await self.accounts.aclose()
        self._cpu.shutdown(wait=True, cancel_futures=True)
        await asyncio.to_thread(self.store.close)

    async def _on_cpu(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._cpu, partial(function, *args, **kwargs))

    # ---- stored photos for the hashtag engine ----------------------------------------------------

    async def index_stored_photos(self) -> int:
        """Embed every stored post photo not embedded yet; returns how many are embedded.

        Hashtag answers compare the user's photo with stored posts' photos; without this, each answer
        embeds only a few more, and the first answers after an import compare with a sample. Runs off the
        event loop and stops between batches when the service closes.
        """
        return await asyncio.to_thread(self.hashtags.index_stored_images, lambda: self._closing)

    def index_in_background(self) -> None:
        """Start `index_stored_photos` unless it is already running (after start-up and each fetch)."""
        if self._closing or (self._indexing is not None and not self._indexing.done()):
            return
        self._indexing = asyncio.get_running_loop().create_task(self._index_quietly())

    async def _index_quietly(self) -> int:
        try:
            return await self.index_stored_photos()
        except Exception:  # a background nicety: a failure must not surface as a user's error
            log.exception("indexing stored photos failed")
            return 0

    # ---- the use cases the bot's handlers call, one per update ---------------------------------------

    async def use_account(self, chat_id: int, text: str, language: str | None = None) -> AccountChosen:
        """Make `text` this chat's account, and advise on the single photos it sent before naming one."""
        summary = await self.set_handle(chat_id, text)
        waiting = await self.unanswered_drafts(chat_id)
        advice = [await self.advise_draft(chat_id, d.id, language) for d in waiting if d.media_group_id is None]
        return AccountChosen(summary, advice, sum(1 for d in waiting if d.media_group_id is not None))

    async def receive_photo(
        self,
        chat_id: int,
        file_unique_id: str,
        data: bytes,
        media_group_id: str | None = None,
        suffix: str = ".jpg",
        language: str | None = None,
    ) -> PhotoReceived:
        """Keep the photo as a draft; advise on it at once unless it is part of an album or the chat has no
        account yet (then it waits for one)."""
        draft = await self.add_photo(chat_id, file_unique_id, data, media_group_id, suffix)
        if media_group_id is not None:
            return PhotoReceived(draft, None)
        if await self.handle(chat_id) is None:
            return PhotoReceived(draft, None, len(await self.unanswered_drafts(chat_id)))
        return PhotoReceived(draft, await self.advise_draft(chat_id, draft.id, language))

    async def album_status(self, chat_id: int) -> AlbumStatus:
        return AlbumStatus(await self.count_drafts(chat_id), await self.handle(chat_id) is not None)

    async def open_best(self, chat_id: int, resumed_request: int | None = None) -> BestRequest:
        """Check /best can be answered and keep the request open until `finish_best_request`; a resumed request
        that can no longer be answered (drafts cleared meanwhile) is finished here."""
        try:
            drafts = await self.count_drafts(chat_id)
            if drafts == 0:
                raise NoDrafts()
            if await self.handle(chat_id) is None:
                raise NoHandle(drafts_waiting=drafts)
        except (NoDrafts, NoHandle):
            if resumed_request is not None:
                await self.finish_best_request(resumed_request)
            raise
        if resumed_request is not None:
            return BestRequest(resumed_request, drafts)
        return BestRequest(await self.open_best_request(chat_id), drafts)

    # ---- accounts -----------------------------------------------------------------------------

    async def handle(self, chat_id: int) -> str | None:
        return await asyncio.to_thread(self.store.chats.handle, chat_id)

    async def set_handle(self, chat_id: int, text: str) -> AccountSummary:
        """Look the account up (validating the text) and make it this chat's account."""
        cached = await self.accounts.get_account(text)
        await asyncio.to_thread(self.store.chats.set_handle, chat_id, cached.handle)
        self.index_in_background()  # a first fetch brings new photos
        a = cached.account
        stats = account_stats(a.posts, a.followers, a.following, a.posts_count)
        return AccountSummary(
            a.handle, a.followers, stats.likes_median, stats.n_posts, cached.fetched_at, cached, stats.hidden_likes
        )

    async def set_timezone(self, chat_id: int, text: str) -> ChatZone | None:
        """Set the chat's time zone from an IANA name ("Europe/Berlin"; BadTimezone otherwise); "off" clears it."""
        zone = None if text.strip().lower() in ("off", "none", "clear") else parse_zone(text)
        await asyncio.to_thread(self.store.chats.set_timezone, chat_id, zone)
        return None if zone is None else ChatZone(zone)

    async def chat_zone(self, chat_id: int, language_code: str | None = None) -> ChatZone | None:
        """The zone posting times are said in: the chat's own, else one guessed from its Telegram language."""
        return chat_zone(await asyncio.to_thread(self.store.chats.timezone, chat_id), language_code)

    async def _account(self, chat_id: int) -> Account:
        handle = await self.handle(chat_id)
        if handle is None:
            raise NoHandle()
        return (await self.accounts.get_account(handle)).account

    # ---- photos and drafts ---------------------------------------------------------------------

    async def add_photo(
        self, chat_id: int, file_unique_id: str, data: bytes, media_group_id: str | None = None, suffix: str = ".jpg"
    ) -> Draft:
        """Check the photo can be read (PhotoError says why not) and keep it as a draft of this chat."""
        drafts = await asyncio.to_thread(self.store.drafts.of_chat, chat_id)
        if len(drafts) >= self.settings.max_drafts and all(d.file_unique_id != file_unique_id for d in drafts):
            raise TooManyDrafts(self.settings.max_drafts)  # the same photo again is the same draft: no limit
        [analysis] = await self._on_cpu(self.analyzer.analyse, [data])
        draft = await asyncio.to_thread(self.store.drafts.save, chat_id, file_unique_id, data, media_group_id, suffix)
        self._remember(analysis)
        return draft

    async def count_drafts(self, chat_id: int) -> int:
        return await asyncio.to_thread(self.store.drafts.count, chat_id)

    async def unanswered_drafts(self, chat_id: int) -> list[Draft]:
        """Drafts with no prediction yet, oldest first (photos sent before the chat had an account)."""
        drafts = await asyncio.to_thread(self.store.drafts.of_chat, chat_id)
        answered = {p.draft_id for p in await asyncio.to_thread(self.store.predictions.of_chat, chat_id)}
        return [d for d in drafts if d.id not in answered]

    async def advise_draft(self, chat_id: int, draft_id: int, language: str | None = None) -> PhotoAdvice:
        """Predicted likes, hashtags and the best time to post for one draft; the prediction is saved for /actual.
        `language`: the sender's Telegram language, for guessing a zone when the chat set none."""
        account = await self._account(chat_id)
        draft = await self._draft(chat_id, draft_id)
        [analysis] = await self._analyses_for([draft])
        [prediction] = await self._on_cpu(self.predictor.predict, account, [analysis])
        advice = await self._on_cpu(
            self.hashtags.suggest, account, analysis, self.settings.hashtag_count, prediction, analysis.concepts
        )
        saved = await self._save_prediction(chat_id, account.handle, draft.id, prediction)
        when = await self._posting_time(account, await self.chat_zone(chat_id, language))
        named = self.analyzer.concepts.named
        effects = tuple(f for f in prediction.photo_effects if f.supported and f.concept in named)
        seen = tuple(c for c in CONCEPTS if c in analysis.concepts and c in named)
        return PhotoAdvice(account.handle, draft.id, prediction, advice, saved.id, when, effects, seen)

    async def _posting_time(self, account: Account, zone: ChatZone | None) -> PostingTime | None:
        best = await self._on_cpu(best_time, account, datetime.now(UTC), self.predictor)
        return None if best is None else PostingTime(best.at, best.change, best.low, best.high, best.basis, zone)

    async def rank_drafts(
        self, chat_id: int, on_progress: ProgressCallback | None = None, language: str | None = None
    ) -> Ranking:
        """Every draft of this chat scored and ranked by predicted likes (then photo appeal), best first."""
        account = await self._account(chat_id)
        drafts = await asyncio.to_thread(self.store.drafts.of_chat, chat_id)
        if not drafts:
            raise NoDrafts()
        analyses = []
        for done, draft in enumerate(drafts, start=1):
            analyses += await self._analyses_for([draft])
            if on_progress is not None:
                await on_progress(done, len(drafts))
        predictions = await self._on_cpu(self.predictor.predict, account, analyses)
        order = sorted(
            range(len(drafts)), key=lambda i: (-predictions[i].likes, -(predictions[i].appeal or 0.0), drafts[i].id)
        )
        ranked = [RankedDraft(rank, drafts[i], predictions[i]) for rank, i in enumerate(order, start=1)]
        winner = order[0]
        advice = await self._on_cpu(
            self.hashtags.suggest,
            account,
            analyses[winner],
            self.settings.hashtag_count,
            predictions[winner],
            analyses[winner].concepts,
        )
        saved = await self._save_prediction(chat_id, account.handle, drafts[winner].id, predictions[winner])
        carousel = await self._as_carousel(account, drafts, analyses, ranked)
        when = await self._posting_time(account, await self.chat_zone(chat_id, language))
        return Ranking(account.handle, ranked, advice, saved.id, carousel, when)

    async def _as_carousel(
        self, account: Account, drafts: list[Draft], analyses: list[PhotoAnalysis], ranked: list[RankedDraft]
    ) -> CarouselAdvice | None:
        """The chat's album (its largest, of two photos or more) predicted as one carousel post, each photo tried
        as the cover, against the album's best photo posted alone."""
        album = largest_album(drafts)
        if album is None:
            return None
        photos = [analyses[i] for i in album]
        as_covers = await self._on_cpu(self.predictor.predict, account, photos, is_multi_image=True, slides=len(photos))
        cover = max(range(len(album)), key=lambda k: (as_covers[k].likes, -drafts[album[k]].id))
        ids = {drafts[i].id for i in album}
        best_single = next(r for r in ranked if r.draft.id in ids)
        return CarouselAdvice(len(album), drafts[album[cover]], as_covers[cover], best_single)

    async def draft_hashtags(self, chat_id: int, draft_id: int) -> tuple[str, HashtagAdvice]:
        """The full hashtag list for one of this chat's drafts (UnknownDraft for any other chat's)."""
        account = await self._account(chat_id)
        draft = await self._draft(chat_id, draft_id)
        [analysis] = await self._analyses_for([draft])
        [prediction] = await self._on_cpu(self.predictor.predict, account, [analysis])
        advice = await self._on_cpu(
            self.hashtags.suggest, account, analysis, self.settings.hashtag_count, prediction, analysis.concepts
        )
        return account.handle, advice

    async def predict_photos(
        self, handle_text: str, photos: list[Path], hashtags: list[str], caption_length: int = 0
    ) -> tuple[Account, list[LikesPrediction]]:
        """Predicted likes for photos of any account, in the order given (the CLI's `predict`)."""
        analyses = await self._on_cpu(self.analyzer.analyse, photos)
        account = (await self.accounts.get_account(handle_text)).account
        predictions = await self._on_cpu(
            self.predictor.predict, account, analyses, hashtags=hashtags, caption_length=caption_length
        )
        return account, predictions

    async def hashtags_for_photo(
        self, handle_text: str, photo: bytes | Path, count: int
    ) -> tuple[Account, HashtagAdvice]:
        """Hashtags for a photo and any account (the CLI's question; no chat involved)."""
        [analysis] = await self._on_cpu(self.analyzer.analyse, [photo])
        account = (await self.accounts.get_account(handle_text)).account
        [prediction] = await self._on_cpu(self.predictor.predict, account, [analysis])
        advice = await self._on_cpu(self.hashtags.suggest, account, analysis, count, prediction, analysis.concepts)
        return account, advice

    async def set_prediction_message(self, chat_id: int, prediction_id: int, message_id: int) -> None:
        await asyncio.to_thread(self.store.predictions.set_message, chat_id, prediction_id, message_id)

    async def clear(self, chat_id: int) -> int:
        return await asyncio.to_thread(self.store.drafts.clear, chat_id)

    async def forget(self, chat_id: int) -> dict[str, int]:
        """Delete every row of this chat; returns how many rows each table held."""
        counts = await asyncio.to_thread(self.store.chats.row_counts, chat_id)
        await asyncio.to_thread(self.store.chats.forget, chat_id)
        return counts

    # ---- /best requests across restarts ----------------------------------------------------------

    async def open_best_request(self, chat_id: int) -> int:
        return await asyncio.to_thread(self.store.best_requests.open, chat_id)

    async def finish_best_request(self, request_id: int) -> None:
        await asyncio.to_thread(self.store.best_requests.finish, request_id)

    async def unfinished_best_requests(self) -> list[tuple[int, int]]:
        return await asyncio.to_thread(self.store.best_requests.unfinished)

    async def open_photo_request(self, photo: PhotoToAnswer) -> int:
        """Record a photo (an album's too) before working on it, so a restart before the answer still answers it."""
        return await asyncio.to_thread(self.store.photo_requests.open, photo)

    async def finish_photo_request(self, request_id: int) -> None:
        await asyncio.to_thread(self.store.photo_requests.finish, request_id)

    async def finish_photo_requests(self, request_ids: tuple[int, ...]) -> None:
        """An album's photo requests, once the album is answered."""
        if request_ids:
            await asyncio.to_thread(self.store.photo_requests.finish, *request_ids)

    async def unfinished_photo_requests(self) -> list[PhotoRequest]:
        return await asyncio.to_thread(self.store.photo_requests.unfinished)

    # ---- actual likes and stats ------------------------------------------------------------------

    async def record_actual(self, chat_id: int, text: str, reply_to_message_id: int | None = None) -> ActualResult:
        actual = parse_likes(text)
        if reply_to_message_id is not None:
            prediction = await asyncio.to_thread(self.store.predictions.for_message, chat_id, reply_to_message_id)
        else:
            prediction = await asyncio.to_thread(self.store.predictions.last, chat_id)
        if prediction is None:
            raise NoPrediction(replied=reply_to_message_id is not None)
        updated = await asyncio.to_thread(self.store.predictions.record_actual, chat_id, prediction.id, actual)
        assert updated is not None  # the row was just read for this chat
        return ActualResult(updated, actual)

    async def chat_stats(self, chat_id: int) -> ChatStats:
        account = await self._account(chat_id)
        stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
        predictions = await asyncio.to_thread(self.store.predictions.of_chat, chat_id, account.handle)
        return ChatStats(account.handle, account, stats, predictions)

    # ---- internals -------------------------------------------------------------------------------

    async def _draft(self, chat_id: int, draft_id: int) -> Draft:
        draft = await asyncio.to_thread(self.store.drafts.get, chat_id, draft_id)
        if draft is None:
            raise UnknownDraft(draft_id)
        return draft

    async def _analyses_for(self, drafts: list[Draft]) -> list[PhotoAnalysis]:
        found = {
            d.image_path.stem: self._analyses[d.image_path.stem] for d in drafts if d.image_path.stem in self._analyses
        }
        missing = [d for d in drafts if d.image_path.stem not in found]
        if missing:
            for draft, analysis in zip(
                missing, await self._on_cpu(self.analyzer.analyse, [d.image_path for d in missing])
            ):
                self._remember(analysis)
                found[draft.image_path.stem] = analysis
        return [found[d.image_path.stem] for d in drafts]

    def _remember(self, analysis: PhotoAnalysis) -> None:
        self._analyses[analysis.sha256] = analysis
        self._analyses.move_to_end(analysis.sha256)
        while len(self._analyses) > ANALYSIS_CACHE_SIZE:
            self._analyses.popitem(last=False)

    async def _save_prediction(self, chat_id: int, handle: str, draft_id: int, p: LikesPrediction) -> Prediction:
        return await asyncio.to_thread(
            self.store.predictions.save, chat_id, handle, p.likes, p.low, p.high, p.model_version, draft_id, p.appeal
        )

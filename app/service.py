"""The service layer: one coroutine per thing a user asks for, composing store, accounts, photo analysis,
the likes predictor and the hashtag engine. Used by the bot's handlers, the offline demo and the CLI.

Everything slow is kept off the event loop: store verbs through `asyncio.to_thread`, decoding and ONNX
work in a small thread pool of its own (onnxruntime releases the GIL, so threads are enough).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

from core.account_stats import AccountStats, account_stats
from core.errors import LikepredictError
from core.records import Account, CachedAccount, Draft, Prediction
from core.settings import Settings
from inference.analyzer import PhotoAnalysis, PhotoAnalyzer
from inference.hashtags import HashtagAdvice, HashtagEngine
from inference.predictor import LikesPrediction, Predictor
from scraping.service import AccountService
from store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
ANALYSIS_CACHE_SIZE = 256
LIKES_PATTERN = re.compile(r"^\s*(\d[\d,. ]*)\s*([kKmM]?)\s*$")


class NoHandle(LikepredictError):
    def __init__(self) -> None:
        super().__init__("Tell me your Instagram account first: send /handle yourname.")


class TooManyDrafts(LikepredictError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"You have {limit} drafts, the most I keep. Send /best to rank them or /clear to start over.")
        self.limit = limit


class NoDrafts(LikepredictError):
    def __init__(self) -> None:
        super().__init__("No drafts yet. Send me a few photos (an album works), then /best.")


class UnknownDraft(LikepredictError):
    def __init__(self) -> None:
        super().__init__("That draft is gone (cleared or forgotten). Send /best again.")


class NoPrediction(LikepredictError):
    def __init__(self, replied: bool) -> None:
        super().__init__(
            "That message isn't one of my predictions. Reply to a prediction, or send /actual N for the last one."
            if replied
            else "There is no prediction to attach that to yet: send me a photo first."
        )


class BadLikes(LikepredictError):
    def __init__(self, text: str) -> None:
        shown = text if len(text) <= 30 else text[:27] + "..."
        super().__init__(f"{shown!r} isn't a number of likes. Send it like /actual 420 (or /actual 1.2k).")


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


@dataclass(frozen=True)
class AccountSummary:
    handle: str
    followers: int
    median_likes: float
    n_posts: int
    fetched_at: datetime
    cached: CachedAccount  # where the figures came from: fetched just now, the cache, or stale (and why)
    hidden_likes: int = 0  # recent posts that hide their like count, left out of `median_likes`


@dataclass(frozen=True)
class PhotoAdvice:
    handle: str
    draft_id: int
    prediction: LikesPrediction
    hashtags: HashtagAdvice
    prediction_id: int


@dataclass(frozen=True)
class RankedDraft:
    rank: int
    draft: Draft
    prediction: LikesPrediction


@dataclass(frozen=True)
class Ranking:
    handle: str
    drafts: list[RankedDraft]  # best first
    winner_hashtags: HashtagAdvice
    prediction_id: int  # the saved prediction for the winner

    @property
    def winner(self) -> RankedDraft:
        return self.drafts[0]


@dataclass(frozen=True)
class ActualResult:
    prediction: Prediction
    actual: int

    @property
    def error(self) -> float:
        """Relative miss: (predicted - actual) / actual; positive when the bot was too hopeful."""
        return (self.prediction.predicted_likes - self.actual) / max(self.actual, 1)


@dataclass(frozen=True)
class ChatStats:
    handle: str
    account: Account
    stats: AccountStats
    predictions: list[Prediction]

    @property
    def _checked(self) -> list[tuple[Prediction, int]]:
        """Each prediction that has its real likes, with them."""
        return [(p, p.actual_likes) for p in self.predictions if p.actual_likes is not None]

    @property
    def checked(self) -> int:
        return len(self._checked)

    @property
    def median_abs_error(self) -> float:
        errors = [abs(p.predicted_likes - actual) / max(actual, 1) for p, actual in self._checked]
        return float(median(errors)) if errors else 0.0

    @property
    def inside_range(self) -> int:
        return sum(1 for p, actual in self._checked if p.low <= actual <= p.high)


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

    # ---- accounts -----------------------------------------------------------------------------

    async def handle(self, chat_id: int) -> str | None:
        return (await asyncio.to_thread(self.store.chat, chat_id)).handle

    async def set_handle(self, chat_id: int, text: str) -> AccountSummary:
        """Look the account up (validating the text) and make it this chat's account."""
        cached = await self.accounts.get_account(text)
        await asyncio.to_thread(self.store.set_chat_handle, chat_id, cached.handle)
        self.index_in_background()  # a first fetch brings new photos
        a = cached.account
        stats = account_stats(a.posts, a.followers, a.following, a.posts_count)
        return AccountSummary(
            a.handle, a.followers, stats.likes_median, stats.n_posts, cached.fetched_at, cached, stats.hidden_likes
        )

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
        drafts = await asyncio.to_thread(self.store.drafts, chat_id)
        if len(drafts) >= self.settings.max_drafts and all(d.file_unique_id != file_unique_id for d in drafts):
            raise TooManyDrafts(self.settings.max_drafts)  # the same photo again is the same draft: no limit
        [analysis] = await self._on_cpu(self.analyzer.analyse, [data])
        draft = await asyncio.to_thread(self.store.save_draft, chat_id, file_unique_id, data, media_group_id, suffix)
        self._remember(analysis)
        return draft

    async def count_drafts(self, chat_id: int) -> int:
        return await asyncio.to_thread(self.store.count_drafts, chat_id)

    async def unanswered_drafts(self, chat_id: int) -> list[Draft]:
        """Drafts with no prediction yet, oldest first (photos sent before the chat had an account)."""
        drafts = await asyncio.to_thread(self.store.drafts, chat_id)
        answered = {p.draft_id for p in await asyncio.to_thread(self.store.predictions, chat_id)}
        return [d for d in drafts if d.id not in answered]

    async def advise_draft(self, chat_id: int, draft_id: int) -> PhotoAdvice:
        """Predicted likes and hashtags for one draft; the prediction is saved for /actual."""
        account = await self._account(chat_id)
        draft = await self._draft(chat_id, draft_id)
        [analysis] = await self._analyses_for([draft])
        [prediction] = await self._on_cpu(self.predictor.predict, account, [analysis])
        advice = await self._on_cpu(self.hashtags.suggest, account, analysis, self.settings.hashtag_count, prediction)
        saved = await self._save_prediction(chat_id, account.handle, draft.id, prediction)
        return PhotoAdvice(account.handle, draft.id, prediction, advice, saved.id)

    async def rank_drafts(self, chat_id: int, on_progress: ProgressCallback | None = None) -> Ranking:
        """Every draft of this chat scored and ranked by predicted likes (then photo appeal), best first."""
        account = await self._account(chat_id)
        drafts = await asyncio.to_thread(self.store.drafts, chat_id)
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
            self.hashtags.suggest, account, analyses[winner], self.settings.hashtag_count, predictions[winner]
        )
        saved = await self._save_prediction(chat_id, account.handle, drafts[winner].id, predictions[winner])
        return Ranking(account.handle, ranked, advice, saved.id)

    async def draft_hashtags(self, chat_id: int, draft_id: int) -> tuple[str, HashtagAdvice]:
        """The full hashtag list for one of this chat's drafts (UnknownDraft for any other chat's)."""
        account = await self._account(chat_id)
        draft = await self._draft(chat_id, draft_id)
        [analysis] = await self._analyses_for([draft])
        [prediction] = await self._on_cpu(self.predictor.predict, account, [analysis])
        advice = await self._on_cpu(self.hashtags.suggest, account, analysis, self.settings.hashtag_count, prediction)
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
        advice = await self._on_cpu(self.hashtags.suggest, account, analysis, count, prediction)
        return account, advice

    async def set_prediction_message(self, chat_id: int, prediction_id: int, message_id: int) -> None:
        await asyncio.to_thread(self.store.set_prediction_message, chat_id, prediction_id, message_id)

    async def clear(self, chat_id: int) -> int:
        return await asyncio.to_thread(self.store.clear_drafts, chat_id)

    async def forget(self, chat_id: int) -> dict[str, int]:
        """Delete every row of this chat; returns how many rows each table held."""
        counts = await asyncio.to_thread(self.store.rows_for_chat, chat_id)
        await asyncio.to_thread(self.store.forget_chat, chat_id)
        return counts

    # ---- /best requests across restarts ----------------------------------------------------------

    async def open_best_request(self, chat_id: int) -> int:
        return await asyncio.to_thread(self.store.open_best_request, chat_id)

    async def finish_best_request(self, request_id: int) -> None:
        await asyncio.to_thread(self.store.finish_best_request, request_id)

    async def unfinished_best_requests(self) -> list[tuple[int, int]]:
        return await asyncio.to_thread(self.store.unfinished_best_requests)

    # ---- actual likes and stats ------------------------------------------------------------------

    async def record_actual(self, chat_id: int, text: str, reply_to_message_id: int | None = None) -> ActualResult:
        actual = parse_likes(text)
        if reply_to_message_id is not None:
            prediction = await asyncio.to_thread(self.store.prediction_for_message, chat_id, reply_to_message_id)
        else:
            prediction = await asyncio.to_thread(self.store.last_prediction, chat_id)
        if prediction is None:
            raise NoPrediction(replied=reply_to_message_id is not None)
        updated = await asyncio.to_thread(self.store.record_actual, chat_id, prediction.id, actual)
        assert updated is not None  # the row was just read for this chat
        return ActualResult(updated, actual)

    async def chat_stats(self, chat_id: int) -> ChatStats:
        account = await self._account(chat_id)
        stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
        predictions = await asyncio.to_thread(self.store.predictions, chat_id, account.handle)
        return ChatStats(account.handle, account, stats, predictions)

    # ---- internals -------------------------------------------------------------------------------

    async def _draft(self, chat_id: int, draft_id: int) -> Draft:
        draft = await asyncio.to_thread(self.store.draft, chat_id, draft_id)
        if draft is None:
            raise UnknownDraft()
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
            self.store.save_prediction, chat_id, handle, p.likes, p.low, p.high, p.model_version, draft_id, p.appeal
        )

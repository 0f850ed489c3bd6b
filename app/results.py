"""What the use cases return: plain records the bot's texts (and the CLI) turn into words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from app.timezones import ChatZone
from core.account_stats import AccountStats
from core.records import Account, CachedAccount, Draft, Prediction
from inference.hashtags import HashtagAdvice
from inference.predictor import ConceptEffect, LikesPrediction


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
class PostingTime:
    """The best time to post in the next 7 days, and the zone to say it in besides UTC."""

    at: datetime  # UTC, on the hour
    change: float  # expected change in likes against the account's usual time (+0.05 = 5 % more)
    low: float  # 90 % interval of that change
    high: float
    basis: str  # "model" (the learned time effect) or "habit" (the account's own pattern only)
    zone: ChatZone | None = None


@dataclass(frozen=True)
class PhotoAdvice:
    handle: str
    draft_id: int
    prediction: LikesPrediction
    hashtags: HashtagAdvice
    prediction_id: int
    when: PostingTime | None = None
    # The photo's supported concept effects whose detection is reliable enough to name (inference.concepts).
    effects: tuple[ConceptEffect, ...] = ()
    seen: tuple[str, ...] = ()  # the concepts detected in the photo whose detectors are reliable enough to name


@dataclass(frozen=True)
class RankedDraft:
    rank: int
    draft: Draft
    prediction: LikesPrediction


@dataclass(frozen=True)
class CarouselAdvice:
    """An album predicted as one carousel post (best cover first), against its best photo posted alone."""

    slides: int
    cover: Draft
    carousel: LikesPrediction
    best_single: RankedDraft

    @property
    def change(self) -> float:
        """The carousel's expected likes against the best single photo's (+0.1 = the carousel 10 % more)."""
        return self.carousel.likes / max(self.best_single.prediction.likes, 1e-9) - 1.0


@dataclass(frozen=True)
class Ranking:
    handle: str
    drafts: list[RankedDraft]  # best first
    winner_hashtags: HashtagAdvice
    prediction_id: int  # the saved prediction for the winner
    carousel: CarouselAdvice | None = None  # when the drafts include an album
    when: PostingTime | None = None

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
    def likes_history(self) -> list[int]:
        """Likes of the posts the stats were taken from, oldest first (what /stats charts)."""
        shown = [p.likes for p in self.account.posts_newest_first() if p.likes is not None]  # hidden: no bar
        return list(reversed(shown[: self.stats.n_posts]))

    @property
    def _checked(self) -> list[tuple[Prediction, int]]:
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


@dataclass(frozen=True)
class PhotoReceived:
    """A photo kept as a draft, with its advice when the chat has an account and it is not part of an album."""

    draft: Draft
    advice: PhotoAdvice | None
    waiting_for_handle: int = 0  # drafts kept until the chat names its account


@dataclass(frozen=True)
class AccountChosen:
    summary: AccountSummary
    advice: list[PhotoAdvice] = field(default_factory=list)  # for single photos sent before the account
    album_drafts_waiting: int = 0  # album photos sent before the account: ranked by /best, not one by one


@dataclass(frozen=True)
class AlbumStatus:
    total_drafts: int
    has_handle: bool


@dataclass(frozen=True)
class BestRequest:
    """A /best the store keeps open until it is answered, so a restart answers it after."""

    request_id: int
    drafts: int

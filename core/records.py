"""Plain records passed between the data sources, the store and the models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.errors import LikepredictError


@dataclass(frozen=True)
class Post:
    """One Instagram post as far as likepredict cares about it."""

    shortcode: str
    taken_at: datetime  # always timezone-aware UTC
    likes: int | None  # None where the owner hides the count: kept for hashtags and timing, not for likes figures
    comments: int | None = None  # None where the source does not know
    hashtags: tuple[str, ...] = ()
    mentions: int = 0
    caption_length: int = 0
    is_multi_image: bool = False
    is_video: bool = False
    has_location: bool = False
    image_path: Path | None = None  # absolute path of a local copy of the photo, if any
    slides: int = 1  # photos and videos in a carousel; its first slide is the photo in `image_path`
    time_known: bool = True  # False where the source gives the day only (influencers-2017): no hour to learn from
    width: int | None = None
    height: int | None = None
    # Instagram's own automatic image description ("1 person", "outdoor", ...); None where there was none.
    image_concepts: tuple[str, ...] | None = None
    video_views: int | None = None

    def __post_init__(self) -> None:
        # Instagram reports a hidden count as -1; no source may pass a negative count on as a real one.
        if self.likes is not None and self.likes < 0:
            object.__setattr__(self, "likes", None)


@dataclass(frozen=True)
class Account:
    """An Instagram account with its most recent posts, newest first."""

    handle: str
    followers: int
    following: int
    posts_count: int
    posts: tuple[Post, ...] = ()
    is_private: bool = False
    fetched_at: datetime | None = None
    is_verified: bool = False
    is_business: bool = False

    def posts_newest_first(self) -> list[Post]:
        return sorted(self.posts, key=lambda p: p.taken_at, reverse=True)


@dataclass(frozen=True)
class CachedAccount:
    """An account read back from the store, with how fresh it is."""

    account: Account
    fetched_at: datetime
    from_cache: bool = True
    stale: bool = False  # served after a failed refresh
    stale_reason: LikepredictError | None = None  # why the refresh failed, when stale

    @property
    def handle(self) -> str:
        return self.account.handle


@dataclass(frozen=True)
class PhotoToAnswer:
    """A photo a chat sent that the bot has acknowledged: enough to fetch it and answer it again later."""

    chat_id: int
    message_id: int
    file_id: str
    file_unique_id: str
    kind: str  # "photo" (compressed by Telegram) or "document" (an image sent as a file)
    suffix: str
    media_group_id: str | None = None  # an album's photo: answered with its album


@dataclass
class Draft:
    """A photo a chat sent, kept until /best or /clear."""

    id: int
    chat_id: int
    file_unique_id: str
    image_path: Path
    created_at: datetime
    media_group_id: str | None = None


@dataclass
class Prediction:
    """What the bot predicted for one draft, and what really happened."""

    id: int
    chat_id: int
    draft_id: int | None
    handle: str
    predicted_likes: float
    low: float
    high: float
    appeal: float | None
    model_version: str
    created_at: datetime
    actual_likes: int | None = None
    message_id: int | None = None

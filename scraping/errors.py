"""Typed failures of the account sources. Each carries data; the sentence a user reads is in bot/texts.py.

`str(error)` is a short message for logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from core.errors import LikepredictError

# Which source failed, for the sentence ("Instagram", "the instaloader folder", "the data file").
SourceKind = Literal["instagram", "instaloader", "dataset"]
# Why a text is not a username: the sentence for each is in bot/texts.py.
HandleProblem = Literal["empty", "too_long", "characters", "dots", "not_instagram", "no_username", "not_profile"]
# What Instagram gave instead of posts.
NoPostsReason = Literal["login_wall", "checkpoint", "refused", "counts_only"]


class SourceError(LikepredictError):
    """Base of every failure of an account or hashtag source."""


class InvalidHandle(SourceError, ValueError):
    """Text that cannot be an Instagram username (checked before any request)."""

    def __init__(self, text: str, problem: HandleProblem = "characters") -> None:
        super().__init__(f"invalid username {text[:40]!r}: {problem}")
        self.text = text
        self.problem: HandleProblem = problem


class InvalidTag(SourceError, ValueError):
    """Text that cannot be a hashtag."""

    def __init__(self, text: str) -> None:
        super().__init__(f"invalid hashtag {text[:40]!r}")
        self.text = text


class AccountNotFound(SourceError, LookupError):
    def __init__(self, handle: str) -> None:
        super().__init__(f"no account @{handle}")
        self.handle = handle


class PrivateAccount(SourceError):
    def __init__(self, handle: str) -> None:
        super().__init__(f"@{handle} is private")
        self.handle = handle


class RateLimited(SourceError):
    """The source asked us to slow down; `retry_after` is seconds to wait from when this was raised."""

    def __init__(self, retry_after: float | None = None, source: SourceKind = "instagram", endpoint: str = "") -> None:
        shown = "unknown" if retry_after is None else f"{retry_after:.0f} s"
        super().__init__(f"{source} {endpoint} rate limited; retry after {shown}".replace("  ", " "))
        self.retry_after = retry_after
        self.source: SourceKind = source
        self.endpoint = endpoint


class SourceUnavailable(SourceError):
    """No answer (network, time-out, 5xx)."""

    def __init__(self, detail: str = "", source: SourceKind = "instagram") -> None:
        super().__init__(f"{source} unavailable: {detail or 'no answer'}")
        self.detail = detail
        self.source: SourceKind = source


class MalformedResponse(SourceError):
    """The source answered, but not in a shape we understand (a changed page, a truncated answer)."""

    def __init__(self, detail: str, source: SourceKind = "instagram") -> None:
        super().__init__(f"{source} answer not understood: {detail}")
        self.detail = detail
        self.source: SourceKind = source


class NoPostsVisible(SourceError):
    """Instagram answered, but without the account's posts: a login wall, a checkpoint, a refusal, counts only.

    Such an answer is never stored as a fresh copy. `followers` is set when the answer showed the counts;
    `status` is the HTTP status of a refusal; `with_session` says whether a session cookie was sent;
    `retry_at` is when asking again is worth it (set by the service that remembers the answer).
    """

    def __init__(
        self,
        handle: str,
        reason: NoPostsReason,
        status: int | None = None,
        followers: int | None = None,
        with_session: bool = False,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(f"no posts of @{handle} visible: {reason}" + (f" (HTTP {status})" if status else ""))
        self.handle = handle
        self.reason: NoPostsReason = reason
        self.status = status
        self.followers = followers
        self.with_session = with_session
        self.retry_at = retry_at

    def until(self, retry_at: datetime) -> NoPostsVisible:
        """The same answer, remembered until `retry_at`."""
        return NoPostsVisible(self.handle, self.reason, self.status, self.followers, self.with_session, retry_at)


class DatasetError(LikepredictError, ValueError):
    """A data file or folder cannot be read; the message names it and says what is wrong with it."""

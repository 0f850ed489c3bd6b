"""Typed failures of the account sources; each message can be shown to a Telegram user as it is."""

from __future__ import annotations

from core.errors import LikepredictError


class SourceError(LikepredictError):
    """Base of every failure of an account or hashtag source."""


class InvalidHandle(SourceError, ValueError):
    """Text that cannot be an Instagram username (checked before any request)."""

    def __init__(self, text: str, why: str = "") -> None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        reason = f" ({why})" if why else ""
        super().__init__(
            f"{shown!r} is not an Instagram username{reason}. "
            "Usernames have 1-30 letters, digits, dots and underscores, like @my.account_1."
        )
        self.text = text


class InvalidTag(SourceError, ValueError):
    """Text that cannot be a hashtag."""

    def __init__(self, text: str) -> None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        super().__init__(f"{shown!r} is not a hashtag: use letters, digits and underscores, like #sunset.")
        self.text = text


class AccountNotFound(SourceError, LookupError):
    def __init__(self, handle: str) -> None:
        super().__init__(f"I can't find an Instagram account called @{handle}. Check the spelling?")
        self.handle = handle


class PrivateAccount(SourceError):
    def __init__(self, handle: str) -> None:
        super().__init__(
            f"@{handle} is private, so I can't see its posts. Make it public for a moment, or use a public account."
        )
        self.handle = handle


class RateLimited(SourceError):
    """The source asked us to slow down; `retry_after` is seconds to wait, when it said."""

    def __init__(self, retry_after: float | None = None, source: str = "Instagram") -> None:
        if retry_after is None:
            when = "in a few minutes"
        elif retry_after < 90:
            when = f"in about {max(1, round(retry_after))} seconds"
        elif retry_after < 5400:
            when = f"in about {round(retry_after / 60)} minutes"
        else:
            when = f"in about {round(retry_after / 3600)} hours"
        super().__init__(f"{source} is asking me to slow down. Please try again {when}.")
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    def __init__(self, detail: str = "", source: str = "Instagram") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"I can't reach {source} right now{suffix}. Please try again later.")
        self.detail = detail


class MalformedResponse(SourceError):
    """The source answered, but not in a shape we understand (a changed page, a truncated answer)."""

    def __init__(self, detail: str, source: str = "Instagram") -> None:
        super().__init__(f"{source} sent an answer I don't understand ({detail}). Please try again later.")
        self.detail = detail

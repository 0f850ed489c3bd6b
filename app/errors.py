"""What a user can get wrong in a use case: each error carries its data; bot/texts.py says it in words."""

from __future__ import annotations

from core.errors import LikepredictError


class NoHandle(LikepredictError):
    """The chat has no Instagram account yet (`drafts_waiting`: photos kept until it names one)."""

    def __init__(self, drafts_waiting: int = 0) -> None:
        super().__init__(f"the chat has no handle ({drafts_waiting} drafts waiting)")
        self.drafts_waiting = drafts_waiting


class TooManyDrafts(LikepredictError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the chat already keeps {limit} drafts")
        self.limit = limit


class NoDrafts(LikepredictError):
    def __init__(self) -> None:
        super().__init__("the chat has no drafts")


class UnknownDraft(LikepredictError):
    """The draft is not this chat's (cleared, forgotten, or another chat's)."""

    def __init__(self, draft_id: int) -> None:
        super().__init__(f"draft {draft_id} is not this chat's")
        self.draft_id = draft_id


class NoPrediction(LikepredictError):
    def __init__(self, replied: bool) -> None:
        super().__init__("the replied message is not a prediction" if replied else "the chat has no prediction")
        self.replied = replied


class BadLikes(LikepredictError):
    def __init__(self, text: str) -> None:
        super().__init__(f"not a number of likes ({len(text)} characters)")
        self.text = text


class BadTimezone(LikepredictError):
    """/timezone was given something that is not an IANA time zone name ("Europe/Berlin")."""

    def __init__(self, text: str) -> None:
        super().__init__(f"not a time zone ({len(text)} characters)")
        self.text = text

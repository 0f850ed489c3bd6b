"""What the bot itself refuses before any use case runs (each carries its data; bot/texts.py words it)."""

from __future__ import annotations

from enum import StrEnum

from core.errors import LikepredictError


class PhotoRateLimited(LikepredictError):
    def __init__(self, limit: int, wait_seconds: float) -> None:
        super().__init__(f"over {limit} photos a minute; next in {wait_seconds:.0f} s")
        self.limit = limit
        self.wait_seconds = wait_seconds


class FileTooLarge(LikepredictError):
    """A file over the bot's byte cap; `size` is None when it was cut off while streaming, size unknown."""

    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(f"file of {size if size is not None else 'more than ' + str(limit)} bytes, limit {limit}")
        self.size = size
        self.limit = limit


class FileProblem(StrEnum):
    UNAVAILABLE = "unavailable"  # an unknown file_id, no file_path, or the download answered 404
    TOO_BIG_FOR_BOTS = "too_big_for_bots"  # getFile's "File is too big": over what the Bot API serves bots
    TIMED_OUT = "timed_out"  # getFile or the download did not finish in time


class TelegramFileError(LikepredictError):
    """Telegram did not hand over a file the user sent; `detail` is what it said, for the log."""

    def __init__(self, problem: FileProblem, detail: str) -> None:
        super().__init__(f"Telegram file {problem}: {detail}")
        self.problem = problem
        self.detail = detail


class AnswerTimedOut(LikepredictError):
    """A photo's answer was not done within the bound (`seconds`). `while_sending`: the answer was on its way to
    Telegram when time ran out, so it may have arrived after all."""

    def __init__(self, seconds: float, while_sending: bool = False) -> None:
        super().__init__(f"photo answer not done in {seconds:.0f} s{' (while sending it)' if while_sending else ''}")
        self.seconds = seconds
        self.while_sending = while_sending

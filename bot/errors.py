"""What the bot itself refuses before any use case runs (each carries its data; bot/texts.py words it)."""

from __future__ import annotations

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

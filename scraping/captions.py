"""Hashtags and mentions in a caption, the same way for every source."""

from __future__ import annotations

import re

HASHTAG_PATTERN = re.compile(r"#(\w+)", re.UNICODE)
MENTION_PATTERN = re.compile(r"@([\w.]+)", re.UNICODE)


def hashtags_in(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in HASHTAG_PATTERN.findall(text or ""):
        seen.setdefault(tag.lower(), None)
    return tuple(seen)


def mentions_in(text: str) -> int:
    return len(MENTION_PATTERN.findall(text or ""))

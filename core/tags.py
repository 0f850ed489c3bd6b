"""One spelling of a hashtag everywhere: '#Beach ' and 'beach' are the same tag, as Instagram treats them."""

from __future__ import annotations

from collections.abc import Iterable


def normalize_tag(text: str) -> str:
    """'#Beach ' -> 'beach'; '' for nothing. Lenient: for data; user input goes through `scraping.handles.parse_tag`."""
    return (text or "").strip().lstrip("#").strip().lower()


def tag_set(hashtags: Iterable[str]) -> set[str]:
    """The distinct tags of a post's list in one spelling, without empty ones."""
    return {tag for tag in map(normalize_tag, hashtags) if tag}

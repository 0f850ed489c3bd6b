"""One spelling of a hashtag everywhere: '#Beach ' and 'beach' are the same tag, as Instagram treats them."""

from __future__ import annotations


def normalize_tag(text: str) -> str:
    """'#Beach ' -> 'beach'; '' for nothing. Lenient: for data; user input goes through `scraping.handles.parse_tag`."""
    return (text or "").strip().lstrip("#").strip().lower()

"""Instagram usernames and hashtags: validated and normalised before any request is made."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from scraping.errors import InvalidHandle, InvalidTag

HANDLE_PATTERN = re.compile(r"[a-z0-9._]{1,30}")
TAG_PATTERN = re.compile(r"\w{1,100}", re.UNICODE)
INSTAGRAM_HOSTS = {"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"}
# First path segments of instagram.com that are pages, not profiles.
RESERVED_PATHS = {"p", "reel", "reels", "explore", "stories", "accounts", "direct", "tv", "about", "legal"}


def normalize_handle(text: str) -> str:
    """'@Name', 'name', 'instagram.com/name' or 'https://www.instagram.com/name/?hl=en' -> 'name'."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidHandle(raw, "it is empty")
    candidate = raw
    if "/" in raw or raw.lower().startswith(("http:", "https:")):
        candidate = _handle_from_url(raw)
    candidate = candidate.removeprefix("@").lower()
    if len(candidate) > 30:
        raise InvalidHandle(raw, "longer than 30 characters")
    if not HANDLE_PATTERN.fullmatch(candidate):
        raise InvalidHandle(raw)
    if candidate.startswith(".") or candidate.endswith(".") or ".." in candidate:
        raise InvalidHandle(raw, "a dot cannot start or end it, or come twice in a row")
    return candidate


def _handle_from_url(raw: str) -> str:
    url = raw if "://" in raw else "https://" + raw
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if host not in INSTAGRAM_HOSTS:
        raise InvalidHandle(raw, "not an instagram.com link")
    segments = [s for s in parsed.path.split("/") if s]
    if not segments:
        raise InvalidHandle(raw, "the link has no username")
    if segments[0].lower() in RESERVED_PATHS:
        raise InvalidHandle(raw, "that link is a post or a page, not a profile")
    return segments[0]


def normalize_tag(text: str) -> str:
    """'#Sunset' or 'sunset' -> 'sunset'."""
    tag = (text or "").strip().removeprefix("#").lower()
    if not TAG_PATTERN.fullmatch(tag):
        raise InvalidTag(text or "")
    return tag

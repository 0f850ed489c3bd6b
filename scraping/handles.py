"""Instagram usernames and hashtags: validated and normalised before any request is made."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from core.tags import normalize_tag
from scraping.errors import InvalidHandle, InvalidTag

HANDLE_PATTERN = re.compile(r"[a-z0-9._]{1,30}")
TAG_PATTERN = re.compile(r"\w{1,100}", re.UNICODE)
INSTAGRAM_HOSTS = {"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"}
# First path segments of instagram.com that are pages, not profiles.
RESERVED_PATHS = {"p", "reel", "reels", "explore", "stories", "accounts", "direct", "tv", "about", "legal"}
# Prefixes before the username in app links (`instagram.com/_u/name`, what profile pages link to).
APP_LINK_PREFIXES = {"_u", "_n"}


def normalize_handle(text: str) -> str:
    """'@Name', 'name', 'instagram.com/name', 'instagram.com/_u/name', '.../name/reels/?igsh=...' -> 'name'."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidHandle(raw, "empty")
    candidate = raw
    if "/" in raw or raw.lower().startswith(("http:", "https:")):
        candidate = _handle_from_url(raw)
    candidate = candidate.removeprefix("@").lower()
    if len(candidate) > 30:
        raise InvalidHandle(raw, "too_long")
    if not HANDLE_PATTERN.fullmatch(candidate):
        raise InvalidHandle(raw, "characters")
    if candidate.startswith(".") or candidate.endswith(".") or ".." in candidate:
        raise InvalidHandle(raw, "dots")
    return candidate


def _handle_from_url(raw: str) -> str:
    url = raw if "://" in raw else "https://" + raw
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if host not in INSTAGRAM_HOSTS:
        raise InvalidHandle(raw, "not_instagram")
    segments = [s for s in parsed.path.split("/") if s]
    if segments and segments[0].lower() in APP_LINK_PREFIXES:
        segments = segments[1:]
    if not segments:
        raise InvalidHandle(raw, "no_username")
    if segments[0].lower() in RESERVED_PATHS:
        raise InvalidHandle(raw, "not_profile")
    return segments[0]


def parse_tag(text: str) -> str:
    """A hashtag a user typed: '#Sunset' or 'sunset' -> 'sunset'; InvalidTag when it cannot be one."""
    tag = normalize_tag(text)
    if not TAG_PATTERN.fullmatch(tag):
        raise InvalidTag(text or "")
    return tag

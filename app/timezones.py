"""The chat's time zone, for saying posting times in local time: set with /timezone, or guessed.

Telegram tells a bot the user's app language (`language_code`), never their place. For a few languages
nearly everyone who speaks them lives in one time zone, and only those are guessed; the answer then says
it is a guess from the language. Every other language (English, Spanish, Portuguese, Russian, French,
Arabic, ...: spread over many zones) gives no local time until the chat sets one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from app.errors import BadTimezone

# Languages whose speakers live overwhelmingly in one zone (or in zones that keep the same clock).
LANGUAGE_ZONES: dict[str, str] = {
    "de": "Europe/Berlin",
    "it": "Europe/Rome",
    "pl": "Europe/Warsaw",
    "nl": "Europe/Amsterdam",
    "cs": "Europe/Prague",
    "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest",
    "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia",
    "el": "Europe/Athens",
    "uk": "Europe/Kyiv",
    "tr": "Europe/Istanbul",
    "sv": "Europe/Stockholm",
    "da": "Europe/Copenhagen",
    "nb": "Europe/Oslo",
    "fi": "Europe/Helsinki",
    "he": "Asia/Jerusalem",
    "fa": "Asia/Tehran",
    "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul",
    "th": "Asia/Bangkok",
    "vi": "Asia/Ho_Chi_Minh",
}


@dataclass(frozen=True)
class ChatZone:
    name: str  # IANA name, e.g. "Europe/Berlin"
    guessed_from: str | None = None  # the Telegram language code it was guessed from; None: set with /timezone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.name)


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str) -> str:
    """'Europe/Berlin', 'europe/berlin', 'UTC' -> the IANA name; BadTimezone otherwise."""
    name = _zone_names().get(text.strip().replace(" ", "_").lower())
    if name is None:
        raise BadTimezone(text)
    return name


def chat_zone(stored: str | None, language_code: str | None) -> ChatZone | None:
    """The zone the chat set, else one guessed from the Telegram language, else None (UTC only)."""
    if stored:
        return ChatZone(stored)
    language = (language_code or "").split("-")[0].lower()
    guessed = LANGUAGE_ZONES.get(language)
    return ChatZone(guessed, language) if guessed else None

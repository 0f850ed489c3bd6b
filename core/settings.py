"""One typed settings object, read from the environment and an optional `.env` file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import LikepredictError

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_BASE_URL = "https://api.telegram.org/file/bot"
SOURCE_KINDS = ("instagram", "demo", "instaloader", "dataset")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(LikepredictError, ValueError):
    """A setting is missing or malformed; the message names it and says what is expected."""


@dataclass(frozen=True)
class SourceSetting:
    """Where account data comes from: `kind` and, for file sources, a `path`."""

    kind: str
    path: Path | None = None

    def __str__(self) -> str:
        return self.kind if self.path is None else f"{self.kind}:{self.path}"


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build it with `Settings.from_env()`."""

    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    telegram_file_base_url: str = DEFAULT_FILE_BASE_URL
    db_path: Path = Path("data/likepredict.sqlite3")
    data_dir: Path = Path("data")
    source: SourceSetting = SourceSetting("demo")
    cache_hours: float = 24.0
    log_level: str = "INFO"
    instagram_session_id: str | None = field(default=None, repr=False)
    requests_per_minute: float = 20.0
    request_timeout_seconds: float = 15.0
    banned_tags: tuple[str, ...] = ()
    excluded_tags: tuple[str, ...] = ()
    hashtag_count: int = 10
    photos_per_minute: int = 10
    max_drafts: int = 10
    max_image_pixels: int = 40_000_000
    max_file_bytes: int = 20 * 1024 * 1024
    album_wait_seconds: float = 1.0

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
        """Read settings; values in the process environment win over those in `.env`."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update(read_env_file(env_file))
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            raw = values.get(name)
            return raw.strip() if raw is not None and raw.strip() != "" else None

        data_dir = Path(get("LIKEPREDICT_DATA_DIR") or "data")
        return cls(
            telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_api_base_url=_url(get("TELEGRAM_API_BASE_URL"), DEFAULT_API_BASE_URL, "TELEGRAM_API_BASE_URL"),
            telegram_file_base_url=_url(get("TELEGRAM_FILE_BASE_URL"), DEFAULT_FILE_BASE_URL, "TELEGRAM_FILE_BASE_URL"),
            db_path=Path(get("LIKEPREDICT_DB") or data_dir / "likepredict.sqlite3"),
            data_dir=data_dir,
            source=parse_source(get("LIKEPREDICT_SOURCE") or "demo"),
            cache_hours=_number(get("LIKEPREDICT_CACHE_HOURS"), 24.0, "LIKEPREDICT_CACHE_HOURS", minimum=0),
            log_level=_log_level(get("LIKEPREDICT_LOG_LEVEL")),
            instagram_session_id=get("LIKEPREDICT_INSTAGRAM_SESSIONID"),
            requests_per_minute=_number(
                get("LIKEPREDICT_REQUESTS_PER_MINUTE"), 20.0, "LIKEPREDICT_REQUESTS_PER_MINUTE", minimum=0.1
            ),
            request_timeout_seconds=_number(
                get("LIKEPREDICT_REQUEST_TIMEOUT"), 15.0, "LIKEPREDICT_REQUEST_TIMEOUT", minimum=0.1
            ),
            banned_tags=_tag_list(get("LIKEPREDICT_BANNED_TAGS")),
            excluded_tags=_tag_list(get("LIKEPREDICT_EXCLUDED_TAGS")),
            hashtag_count=int(_number(get("LIKEPREDICT_HASHTAG_COUNT"), 10, "LIKEPREDICT_HASHTAG_COUNT", 1, 30)),
            photos_per_minute=int(
                _number(get("LIKEPREDICT_PHOTOS_PER_MINUTE"), 10, "LIKEPREDICT_PHOTOS_PER_MINUTE", 1)
            ),
            max_drafts=int(_number(get("LIKEPREDICT_MAX_DRAFTS"), 10, "LIKEPREDICT_MAX_DRAFTS", 1, 50)),
            album_wait_seconds=_number(
                get("LIKEPREDICT_ALBUM_WAIT_SECONDS"), 1.0, "LIKEPREDICT_ALBUM_WAIT_SECONDS", 0.1, 30
            ),
            max_image_pixels=int(
                _number(get("LIKEPREDICT_MAX_IMAGE_PIXELS"), 40_000_000, "LIKEPREDICT_MAX_IMAGE_PIXELS", 10_000)
            ),
        )


def read_env_file(path: Path) -> dict[str, str]:
    """Parse `NAME=value` lines; `#` comments and surrounding quotes are allowed."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise SettingsError(f"{path}:{number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def parse_source(raw: str) -> SourceSetting:
    """`instagram`, `demo`, `instaloader:PATH` or `dataset:PATH`."""
    kind, _, path = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in SOURCE_KINDS:
        raise SettingsError(
            f"LIKEPREDICT_SOURCE={raw!r} is not one of: instagram, demo, instaloader:PATH, dataset:PATH"
        )
    if kind in ("instaloader", "dataset"):
        if not path.strip():
            raise SettingsError(f"LIKEPREDICT_SOURCE={raw!r} needs a path, as in {kind}:/path/to/data")
        return SourceSetting(kind, Path(path.strip()))
    if path:
        raise SettingsError(f"LIKEPREDICT_SOURCE={raw!r}: the {kind} source takes no path")
    return SourceSetting(kind)


def _url(raw: str | None, default: str, name: str) -> str:
    if raw is None:
        return default
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={raw!r} must be an http:// or https:// URL")
    return raw


def _number(
    raw: str | None, default: float, name: str, minimum: float | None = None, maximum: float | None = None
) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} must be a number") from None
    if value != value or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise SettingsError(f"{name}={raw!r} must be {bounds}")
    return value


def _log_level(raw: str | None) -> str:
    level = (raw or "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"LIKEPREDICT_LOG_LEVEL={raw!r} must be one of {', '.join(LOG_LEVELS)}")
    return level


def _tag_list(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    return tuple(t.strip().lstrip("#").lower() for t in raw.replace(";", ",").split(",") if t.strip().lstrip("#"))

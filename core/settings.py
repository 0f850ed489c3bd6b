"""One typed settings object (pydantic-settings), read from the environment and an optional `.env` file.

Each value has its one default and its bounds here, on the field; the variable names are the README's. A bad
value stops the program with one line naming the variable (`SettingsError`), never a traceback.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from dotenv.parser import parse_stream
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import LikepredictError
from core.tags import normalize_tag

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_BASE_URL = "https://api.telegram.org/file/bot"
DEFAULT_INSTAGRAM_URL = "https://www.instagram.com"
SOURCE_KINDS = ("instagram", "demo", "instaloader", "dataset")
# Defaults that code below the settings also needs (decoders, engines) are read from here, never repeated.
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000
DEFAULT_HASHTAG_COUNT = 10
# Telegram's rule for a webhook's secret token: 1-256 of these characters.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(LikepredictError, ValueError):
    """A setting is missing or malformed; the message names it and says what is expected."""


@dataclass(frozen=True)
class SourceSetting:
    """Where account data comes from: `kind` and, for file sources, a `path`."""

    kind: str
    path: Path | None = None

    def __str__(self) -> str:
        return self.kind if self.path is None else f"{self.kind}:{self.path}"


def _env(name: str) -> Any:
    """The variable a field is read from; the field's own name is accepted too (for code and tests)."""
    return AliasChoices(name)


class Settings(BaseSettings):
    """Everything configurable. `Settings.from_env()` reads the environment and `.env`."""

    model_config = SettingsConfigDict(
        frozen=True, populate_by_name=True, env_ignore_empty=True, extra="ignore", env_file=None
    )

    telegram_bot_token: SecretStr | None = Field(None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    telegram_api_base_url: str = Field(DEFAULT_API_BASE_URL, validation_alias=_env("TELEGRAM_API_BASE_URL"))
    telegram_file_base_url: str = Field(DEFAULT_FILE_BASE_URL, validation_alias=_env("TELEGRAM_FILE_BASE_URL"))
    data_dir: Path = Field(Path("data"), validation_alias=_env("LIKEPREDICT_DATA_DIR"))
    # Unset: `data_dir / likepredict.sqlite3` (see `_default_db_path`).
    db_path: Path = Field(Path("data/likepredict.sqlite3"), validation_alias=_env("LIKEPREDICT_DB"))
    source: Annotated[SourceSetting, NoDecode] = Field(
        SourceSetting("demo"), validation_alias=_env("LIKEPREDICT_SOURCE")
    )
    cache_hours: float = Field(24.0, ge=0, validation_alias=_env("LIKEPREDICT_CACHE_HOURS"))
    log_level: LogLevel = Field("INFO", validation_alias=_env("LIKEPREDICT_LOG_LEVEL"))
    instagram_session_id: SecretStr | None = Field(None, validation_alias=_env("LIKEPREDICT_INSTAGRAM_SESSIONID"))
    # The base of every request the instagram source makes (API and pages): a mirror, a proxy, a test server.
    instagram_url: str = Field(DEFAULT_INSTAGRAM_URL, validation_alias=_env("LIKEPREDICT_INSTAGRAM_URL"))
    requests_per_minute: float = Field(20.0, ge=0.1, validation_alias=_env("LIKEPREDICT_REQUESTS_PER_MINUTE"))
    request_timeout_seconds: float = Field(15.0, ge=0.1, validation_alias=_env("LIKEPREDICT_REQUEST_TIMEOUT"))
    banned_tags: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias=_env("LIKEPREDICT_BANNED_TAGS"))
    excluded_tags: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias=_env("LIKEPREDICT_EXCLUDED_TAGS"))
    hashtag_count: int = Field(DEFAULT_HASHTAG_COUNT, ge=1, le=30, validation_alias=_env("LIKEPREDICT_HASHTAG_COUNT"))
    photos_per_minute: int = Field(10, ge=1, validation_alias=_env("LIKEPREDICT_PHOTOS_PER_MINUTE"))
    max_drafts: int = Field(10, ge=1, le=50, validation_alias=_env("LIKEPREDICT_MAX_DRAFTS"))
    max_image_pixels: int = Field(
        DEFAULT_MAX_IMAGE_PIXELS, ge=10_000, validation_alias=_env("LIKEPREDICT_MAX_IMAGE_PIXELS")
    )
    # Telegram's Bot API serves bots files up to 20 MB.
    max_file_bytes: int = 20 * 1024 * 1024
    # The whole answer to one photo (download, analysis, prediction, sending); past it the user is told so.
    photo_answer_seconds: float = Field(15.0, ge=0.1, le=300, validation_alias=_env("LIKEPREDICT_PHOTO_ANSWER_SECONDS"))
    album_wait_seconds: float = Field(1.0, ge=0.1, le=30, validation_alias=_env("LIKEPREDICT_ALBUM_WAIT_SECONDS"))
    # Webhook mode when set (Telegram only calls https:// URLs); long polling otherwise.
    webhook_url: str | None = Field(None, validation_alias=_env("LIKEPREDICT_WEBHOOK_URL"))
    # Where the bot's own HTTP server (webhook, /healthz, /metrics) listens; port 0 picks a free one (tests).
    webhook_listen: str = Field("127.0.0.1", validation_alias=_env("LIKEPREDICT_WEBHOOK_LISTEN"))
    webhook_port: int = Field(8443, ge=0, le=65535, validation_alias=_env("LIKEPREDICT_WEBHOOK_PORT"))
    # Unset: a fresh random one each start (set_webhook hands it to Telegram again).
    webhook_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        validation_alias=_env("LIKEPREDICT_WEBHOOK_SECRET"),
    )
    # When polling: serve /healthz and /metrics on this port (unset: no HTTP server).
    metrics_port: int | None = Field(None, ge=0, le=65535, validation_alias=_env("LIKEPREDICT_METRICS_PORT"))

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def token(self) -> str | None:
        """The bot token as text, for the one place that hands it to Telegram."""
        return None if self.telegram_bot_token is None else self.telegram_bot_token.get_secret_value()

    def replaced(self, **changes: Any) -> Settings:
        """A copy with `changes` (by field name), validated like any settings."""
        return type(self).model_validate({**self.model_dump(), **changes})

    @classmethod
    def from_env(cls, env_file: Path | None = Path(".env")) -> Settings:
        """Read settings; values in the process environment win over those in `env_file`."""
        if env_file is not None and env_file.is_file():
            _check_env_file(env_file)
        try:
            return cls(_env_file=env_file if env_file is not None and env_file.is_file() else None)  # type: ignore[call-arg]
        except ValidationError as error:
            raise SettingsError(_one_line(error)) from None

    @field_validator("telegram_api_base_url", "telegram_file_base_url", "instagram_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram calls webhooks over HTTPS only)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr) -> SecretStr:
        if not WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters: letters, digits, _ and -")
        return value

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: object) -> object:
        return parse_source(value) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("banned_tags", "excluded_tags", mode="before")
    @classmethod
    def _tags(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return tuple(tag for tag in map(normalize_tag, value.replace(";", ",").split(",")) if tag)

    @model_validator(mode="before")
    @classmethod
    def _default_db_path(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("db_path") or data.get("LIKEPREDICT_DB"):
            return data
        data_dir = data.get("data_dir") or data.get("LIKEPREDICT_DATA_DIR") or "data"
        return {**data, "db_path": Path(data_dir) / "likepredict.sqlite3"}


def parse_source(raw: str) -> SourceSetting:
    """`instagram`, `demo`, `instaloader:PATH` or `dataset:PATH`."""
    kind, _, path = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in SOURCE_KINDS:
        raise ValueError("is not one of: instagram, demo, instaloader:PATH, dataset:PATH")
    if kind in ("instaloader", "dataset"):
        if not path.strip():
            raise ValueError(f"needs a path, as in {kind}:/path/to/data")
        return SourceSetting(kind, Path(path.strip()))
    if path:
        raise ValueError(f"the {kind} source takes no path")
    return SourceSetting(kind)


def _check_env_file(path: Path) -> None:
    """python-dotenv skips a line it cannot parse; a settings file with one is a mistake worth a stop."""
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                raise SettingsError(f"{path}:{binding.original.line}: expected NAME=value")


def _variable(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    return alias.choices[0] if isinstance(alias, AliasChoices) else field_name  # type: ignore[return-value]


def _one_line(error: ValidationError) -> str:
    """`LIKEPREDICT_CACHE_HOURS='-1' must be at least 0`: the first problem, naming the variable."""
    problem = error.errors()[0]
    field_name = str(problem["loc"][0]) if problem["loc"] else ""
    name = _variable(field_name) if field_name in Settings.model_fields else field_name
    reason = _reason(problem)
    fields = {_variable(f): f for f in Settings.model_fields} | {f: f for f in Settings.model_fields}
    secret = field_name in fields and "SecretStr" in str(Settings.model_fields[fields[field_name]].annotation)
    return f"{name}={'<hidden>' if secret else repr(problem.get('input'))} {reason}"


def _reason(problem: Any) -> str:
    context = problem.get("ctx") or {}
    kind = problem["type"]
    if kind in ("float_parsing", "int_parsing", "float_type", "int_type", "int_from_float"):
        return "must be a number" if kind.startswith("float") else "must be a whole number"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {context.get('ge', context.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {context.get('le', context.get('lt'))}"
    if kind == "literal_error":
        return f"must be one of {context.get('expected', '')}"
    if kind == "value_error":
        return str(context.get("error", problem["msg"]))
    return str(problem["msg"]).lower()

"""Settings are read from the environment and `.env`; bad values give one clear message."""

import os
from pathlib import Path

import pytest

from core.settings import DEFAULT_API_BASE_URL, Settings, SettingsError, SourceSetting


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("LIKEPREDICT_", "TELEGRAM_")):
            monkeypatch.delenv(name)


@pytest.fixture
def settings_from(monkeypatch):
    def read(env: dict[str, str], env_file: Path | None = None) -> Settings:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return Settings.from_env(env_file=env_file)

    return read


def test_defaults_need_no_environment(settings_from):
    settings = settings_from({})
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_base_url == DEFAULT_API_BASE_URL
    assert settings.db_path == Path("data/likepredict.sqlite3")
    assert settings.source == SourceSetting("demo")
    assert settings.cache_hours == 24.0
    assert settings.log_level == "INFO"


def test_every_documented_variable_is_read(settings_from):
    settings = settings_from(
        {
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "TELEGRAM_FILE_BASE_URL": "http://127.0.0.1:8081/file/bot",
            "LIKEPREDICT_DB": "/tmp/x.sqlite3",
            "LIKEPREDICT_SOURCE": "instaloader:/srv/insta",
            "LIKEPREDICT_CACHE_HOURS": "2.5",
            "LIKEPREDICT_LOG_LEVEL": "debug",
            "LIKEPREDICT_ALBUM_WAIT_SECONDS": "2.5",
        }
    )
    assert settings.token == "123:abc"
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.telegram_file_base_url == "http://127.0.0.1:8081/file/bot"
    assert settings.db_path == Path("/tmp/x.sqlite3")
    assert settings.source == SourceSetting("instaloader", Path("/srv/insta"))
    assert settings.cache_hours == 2.5
    assert settings.log_level == "DEBUG"
    assert settings.album_wait_seconds == 2.5


def test_token_never_appears_in_repr(settings_from):
    assert "123:secret" not in repr(settings_from({"TELEGRAM_BOT_TOKEN": "123:secret"}))


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("LIKEPREDICT_CACHE_HOURS", "soon", "must be a number"),
        ("LIKEPREDICT_CACHE_HOURS", "-1", "at least 0"),
        ("LIKEPREDICT_SOURCE", "facebook", "is not one of"),
        ("LIKEPREDICT_SOURCE", "dataset:", "needs a path"),
        ("LIKEPREDICT_LOG_LEVEL", "LOUD", "must be one of"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "http:// or https://"),
    ],
)
def test_malformed_values_name_the_variable(name, value, message, settings_from):
    with pytest.raises(SettingsError) as error:
        settings_from({name: value})
    assert name in str(error.value) and message in str(error.value)
    assert "\n" not in str(error.value)


def test_env_file_is_read_and_environment_wins(tmp_path, settings_from):
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nexport LIKEPREDICT_CACHE_HOURS="6"\nLIKEPREDICT_LOG_LEVEL=WARNING\n')
    settings = settings_from({"LIKEPREDICT_LOG_LEVEL": "ERROR"}, env_file)
    assert settings.cache_hours == 6.0
    assert settings.log_level == "ERROR"


def test_malformed_env_file_line_is_reported(tmp_path, settings_from):
    env_file = tmp_path / ".env"
    env_file.write_text("just words\n")
    with pytest.raises(SettingsError, match=r"\.env:1"):
        settings_from({}, env_file)


def test_a_replaced_copy_is_validated_like_any_settings():
    settings = Settings(hashtag_count=5).replaced(telegram_bot_token="123:abc", data_dir=Path("elsewhere"))
    assert settings.token == "123:abc" and settings.hashtag_count == 5 and settings.data_dir == Path("elsewhere")
    with pytest.raises(ValueError):
        settings.replaced(hashtag_count=99)

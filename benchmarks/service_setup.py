"""A real `Service` (store, models, demo account) in a temporary folder, for the benchmarks that need one."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.service import Service
from app.services import build_services
from core.paths import DEMO_HANDLE
from core.records import Account
from core.settings import Settings, SourceSetting


def benchmark_settings(folder: Path, **overrides: object) -> Settings:
    settings = Settings(
        db_path=folder / "likepredict.sqlite3",
        data_dir=folder / "data",
        source=SourceSetting("demo"),
        photos_per_minute=10_000,
    )
    return settings.replaced(**overrides)


def index_stored_photos(settings: Settings) -> None:
    """Embed the stored demo photos once, as a bot that has run a while has them: the hashtag engine
    otherwise embeds a few per request, and the first requests would measure that instead."""
    service = build_services(settings)
    try:
        service.hashtags.index_stored_images()
    finally:
        asyncio.run(service.aclose())


@contextmanager
def demo_service(folder: Path | None = None) -> Iterator[tuple[Service, Account]]:
    """An open `Service` on the demo source and the demo account, closed afterwards.

    The service's coroutines must run on one loop; callers here use the synchronous parts
    (analyzer, predictor, hashtags) or `asyncio.run` one coroutine at a time.
    """
    with tempfile.TemporaryDirectory(prefix="likepredict-bench-") as tmp:
        settings = benchmark_settings(folder or Path(tmp))
        index_stored_photos(settings)
        service = build_services(settings)
        try:
            account = asyncio.run(service.accounts.get_account(DEMO_HANDLE)).account
            yield service, account
        finally:
            asyncio.run(service.aclose())

"""The one place that wires the services: `build_services(settings)` for the bot, the demo and every CLI command."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.service import Service
from core.paths import DEMO_DATA, MODELS_DIR
from core.settings import Settings
from inference.analyzer import PhotoAnalyzer
from inference.hashtags import HashtagEngine
from inference.predictor import Predictor
from scraping.datasets import read_accounts_jsonl
from scraping.service import AccountService
from store import Store


def build_services(settings: Settings, models_dir: Path = MODELS_DIR) -> Service:
    """Open the store and load every model once (ONNX sessions take a moment: async callers use `open_services`)."""
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        if settings.source.kind == "demo":
            import_demo_neighbourhood(store)  # the hashtag engine learns from the neighbours' posts
        analyzer = PhotoAnalyzer(models_dir, max_pixels=settings.max_image_pixels)
        predictor = Predictor(models_dir, analyse_paths=analyzer.analyse)
        hashtags = HashtagEngine.from_settings(settings, store, similarity=analyzer.similarity, analyzer=analyzer)
        accounts = AccountService.from_settings(settings, store)
    except BaseException:
        store.close()
        raise
    return Service(settings, store, accounts, analyzer, predictor, hashtags)


async def open_services(settings: Settings, models_dir: Path = MODELS_DIR) -> Service:
    """`build_services` off the event loop."""
    return await asyncio.to_thread(build_services, settings, models_dir)


def import_demo_neighbourhood(store: Store) -> None:
    """Put the bundled demo accounts in the store, so the engine has neighbourhoods to work with."""
    known = set(store.accounts.handles())
    for account in read_accounts_jsonl(DEMO_DATA):
        if account.handle not in known:
            store.accounts.save(account)

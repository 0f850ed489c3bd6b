"""Core subcommands: `run`, `demo` and `import`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.app import run_bot
from core.progress import progress
from core.settings import Settings
from likepredict.demo import run_demo
from scraping.datasets import DatasetError, read_any
from store import Store


def register(commands: argparse._SubParsersAction, evaluate: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run the bot if TELEGRAM_BOT_TOKEN is set, else the offline demo")
    run.set_defaults(func=run_command)

    demo = commands.add_parser("demo", help="show offline what the bot answers for the bundled sample photos")
    demo.set_defaults(func=demo_command)

    load = commands.add_parser("import", help="load an instaloader folder or a data file into the store")
    load.add_argument(
        "path", type=Path, help="instaloader folder, likepredict .jsonl or an influencers file (2017 or 2019)"
    )
    load.set_defaults(func=import_command)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if settings.token:
        run_bot(settings)
        return 0
    print(
        "TELEGRAM_BOT_TOKEN is not set, so here is the offline demo instead.\n"
        "To run the bot: get a token from @BotFather, then `TELEGRAM_BOT_TOKEN=... make run`"
        " (or put TELEGRAM_BOT_TOKEN=... in a .env file).\n"
    )
    return demo_command(args, settings)


def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    run_demo(settings, sys.stdout)
    return 0


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.path
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    accounts = list(read_any(path))  # read everything first: a bad line stops the import before any write
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        posts = 0
        for account in progress(accounts, "importing", total=len(accounts)):
            store.accounts.save(account)
            posts += len(account.posts)
    finally:
        store.close()
    print(f"imported {len(accounts)} accounts and {posts} posts into {settings.db_path}")
    return 0

"""The `likepredict` command: one subcommand per job, registered by the module that owns the job."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Callable, Sequence

from likepredict.errors import LikepredictError
from likepredict.settings import Settings

# Each module has `register(commands, evaluate)`: it adds its subcommands, and its `evaluate` targets,
# each with `func(args, settings) -> int` set as a default.
COMMAND_MODULES = [
    "likepredict.commands",
    "scraping.cli",
    "inference.hashtag_cli",
    "models.cli",
]

Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="likepredict",
        description="Predict Instagram likes before posting, rank drafts and suggest hashtags.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    evaluate_parser = commands.add_parser("evaluate", help="measure the committed models on a data set")
    evaluate = evaluate_parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands, evaluate)
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    # httpx logs request URLs, and Telegram's URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        command: Command = args.func
        return command(args, settings)
    except LikepredictError as error:
        print(f"likepredict: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The `likepredict` command: one subcommand per job, registered by the module that owns the job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.texts import explain
from core.errors import LikepredictError
from core.logs import configure_logging
from core.settings import Settings
from likepredict import commands, fetch, hashtags, train

# Each module has `register(commands, evaluate)`: it adds its subcommands, and its `evaluate` targets,
# each with `func(args, settings) -> int` set as a default.
COMMAND_MODULES = [commands, fetch, hashtags, train]

Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="likepredict",
        description="Predict Instagram likes before posting, rank drafts and suggest hashtags.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    evaluate_parser = subcommands.add_parser("evaluate", help="measure the committed models on a data set")
    evaluate = evaluate_parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for module in COMMAND_MODULES:
        module.register(subcommands, evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        command: Command = args.func
        return command(args, settings)
    except LikepredictError as error:
        print(f"likepredict: {explain(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

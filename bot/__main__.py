"""`python -m bot`: run the Telegram bot with long polling (settings from the environment and `.env`)."""

from __future__ import annotations

import sys

from bot import texts
from bot.app import run_bot
from core.errors import LikepredictError
from core.logs import configure_logging
from core.settings import Settings


def main() -> int:
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        if not settings.token:
            print(
                "TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather, then "
                "`TELEGRAM_BOT_TOKEN=... python -m bot`; `likepredict demo` runs offline.",
                file=sys.stderr,
            )
            return 2
        run_bot(settings)
    except LikepredictError as error:
        print(f"bot: {texts.explain(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

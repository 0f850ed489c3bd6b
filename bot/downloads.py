"""Fetching a file a user sent from Telegram: getFile, then a download capped in bytes and bounded in time.

Every way Telegram can fail to hand the file over ends in one typed error (`TelegramFileError`,
`FileTooLarge`), which `bot.texts` words for the user and the error handler logs as one line.
"""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.errors import FileProblem, FileTooLarge, TelegramFileError
from bot.telegram_http import TelegramRequest

# The Telegram part of a photo answer (getFile and the download, retries included); the prediction and the
# answer itself take the rest of the ~15 s a user waits at most.
FILE_DEADLINE_SECONDS = 10.0


async def fetch_file(bot: Bot, file_id: str, limit: int, deadline: float = FILE_DEADLINE_SECONDS) -> bytes:
    """The bytes of `file_id`, at most `limit` of them, within `deadline` seconds."""
    request = bot.request
    if not isinstance(request, TelegramRequest):
        raise TypeError("the bot must be built with bot.telegram_http.TelegramRequest")
    try:
        async with asyncio.timeout(deadline):
            telegram_file = await bot.get_file(file_id)
            if telegram_file.file_size is not None and telegram_file.file_size > limit:
                raise FileTooLarge(telegram_file.file_size, limit)
            if not telegram_file.file_path:
                raise TelegramFileError(FileProblem.UNAVAILABLE, "getFile gave no file_path")
            return await request.download(telegram_file.file_path, limit)
    except TimeoutError:
        raise TelegramFileError(FileProblem.TIMED_OUT, f"no file after {deadline:.0f} s") from None
    except (
        BadRequest
    ) as error:  # "File is too big", "Invalid file_id", "wrong file_id or the file is temporarily unavailable"
        problem = FileProblem.TOO_BIG_FOR_BOTS if "too big" in error.message.lower() else FileProblem.UNAVAILABLE
        raise TelegramFileError(problem, f"getFile: {error.message}") from None
    except TimedOut as error:
        raise TelegramFileError(FileProblem.TIMED_OUT, str(error)) from None
    except NetworkError as error:
        raise TelegramFileError(FileProblem.UNAVAILABLE, str(error)) from None

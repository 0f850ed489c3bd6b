"""Which messages are for this bot: everything in a private chat; in a group only what is addressed to it.

A bot that is a group's admin sees every message there. It answers a command addressed to it (`/cmd` or
`/cmd@thisbot`; PTB's CommandHandler already skips `/cmd@otherbot`), a reply to one of its messages, and a
photo whose caption names it or starts with one of its commands; never the group's chatter or stickers.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable

from telegram import Message
from telegram.ext import filters

ALBUMS_REMEMBERED = 1000


class _RepliesToThisBot(filters.MessageFilter):
    __slots__ = ()

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.id == message.get_bot().id


class _NamesThisBot(filters.MessageFilter):
    """The text or caption mentions @thisbot (also as `/cmd@thisbot`), or starts with one of its `commands`;
    or the message belongs to an album whose captioned photo did (Telegram puts the caption on one photo)."""

    __slots__ = ("_albums", "_commands")

    def __init__(self, commands: Iterable[str]) -> None:
        super().__init__(name="NamesThisBot")
        self._commands = {name.lower() for name in commands}
        self._albums: OrderedDict[tuple[int, str], None] = OrderedDict()  # the latest addressed albums

    def filter(self, message: Message) -> bool:
        album = (message.chat_id, message.media_group_id) if message.media_group_id else None
        if album is not None and album in self._albums:
            return True
        if not self._names_this_bot(message):
            return False
        if album is not None:
            self._albums[album] = None
            while len(self._albums) > ALBUMS_REMEMBERED:
                self._albums.popitem(last=False)
        return True

    def _names_this_bot(self, message: Message) -> bool:
        words = message.text or message.caption or ""
        username = message.get_bot().username
        if re.search(rf"@{re.escape(username)}\b", words, re.IGNORECASE):
            return True
        first = re.match(r"/([A-Za-z0-9_]+)(@\S+)?", words)
        return first is not None and first.group(2) is None and first.group(1).lower() in self._commands


def to_this_bot(commands: Iterable[str]) -> filters.BaseFilter:
    """Messages the bot should answer: private ones, and in groups those addressed to it."""
    return filters.ChatType.PRIVATE | _RepliesToThisBot(name="RepliesToThisBot") | _NamesThisBot(commands)

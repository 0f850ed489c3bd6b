"""Handlers: read the update, call one service coroutine, send what `texts` and `pictures` make of it.

Errors a user can cause (`LikepredictError`) are not caught here: the one error handler, `on_error`,
shows `texts.explain(error)`. Photos and albums are in `bot.photos`.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, NetworkError, TelegramError

from bot import pictures, texts
from bot.context import BotContext
from bot.errors import AnswerTimedOut, TelegramFileError
from bot.jobs import ChatJob, ResumeBest, chat_of
from bot.photos import send_advice
from core.errors import LikepredictError

log = logging.getLogger(__name__)

HASHTAGS_CALLBACK = re.compile(r"^tags:(\d{1,12})$")
LOOKS_LIKE_HANDLE = re.compile(r"^\s*(@\S+|(https?://)?(www\.)?instagram\.com/\S+)\s*$", re.IGNORECASE)


def _message(update: Update) -> Message:
    assert update.effective_message is not None  # every message handler below is for chat messages
    return update.effective_message


# ---- /start, /help, /handle ------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    message = _message(update)
    await message.reply_text(texts.welcome(await context.service.handle(message.chat_id)))


async def help_command(update: Update, context: BotContext) -> None:
    await _message(update).reply_text(texts.help_text())


async def handle_command(update: Update, context: BotContext) -> None:
    text = " ".join(context.args or [])
    if not text:
        message = _message(update)
        await message.reply_text(texts.handle_usage(await context.service.handle(message.chat_id)))
        return
    await _use_account(update, context, text)


async def _use_account(update: Update, context: BotContext, text: str) -> None:
    message = _message(update)
    await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    chosen = await context.service.use_account(message.chat_id, text, _language(update))
    await message.reply_text(texts.account_summary(chosen.summary))
    for advice in chosen.advice:
        await send_advice(context, message.chat_id, advice)
    if chosen.album_drafts_waiting:
        await context.bot.send_message(message.chat_id, texts.drafts_waiting(chosen.album_drafts_waiting))


# ---- /best and its button --------------------------------------------------------------------------


async def best(update: Update, context: BotContext) -> None:
    await _answer_best(context, _message(update).chat_id, language=_language(update))


async def resume_best(job: ResumeBest, context: BotContext) -> None:
    """A /best that a restart interrupted (put on the update queue at start-up)."""
    log.info("answering /best request %s interrupted by a restart", job.request_id)
    await context.bot.send_message(job.chat_id, texts.best_resumed())
    await _answer_best(context, job.chat_id, job.request_id)


async def _answer_best(
    context: BotContext, chat_id: int, resumed_request: int | None = None, language: str | None = None
) -> None:
    """Rank the chat's drafts and send the picture. The request is kept open until answered, so a
    restart in the middle answers it after."""
    service, bot = context.service, context.bot
    request = await service.open_best(chat_id, resumed_request)
    try:
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
        progress = (
            await bot.send_message(chat_id, texts.best_progress(0, request.drafts)) if request.drafts > 1 else None
        )

        async def report(done: int, total: int) -> None:
            if progress is not None:
                await progress.edit_text(texts.best_progress(done, total))

        ranking = await service.rank_drafts(chat_id, report, language)
        labels = [texts.ranking_label(r.rank, r.prediction.likes) for r in ranking.drafts]
        picture = await asyncio.to_thread(
            pictures.ranking_picture, [r.draft.image_path for r in ranking.drafts], labels
        )
        button = InlineKeyboardButton(texts.all_hashtags_button(), callback_data=f"tags:{ranking.winner.draft.id}")
        sent = await bot.send_photo(
            chat_id, picture, caption=texts.ranking_caption(ranking), reply_markup=InlineKeyboardMarkup([[button]])
        )
        await service.set_prediction_message(chat_id, ranking.prediction_id, sent.message_id)
    finally:
        # Cancelled means shutting down: the request stays open and is answered after the restart.
        task = asyncio.current_task()
        if task is None or not task.cancelling():
            await service.finish_best_request(request.request_id)


async def hashtags_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None  # registered for callback queries
    # PTB hands a query with neither `data` nor `game_short_name` (both optional) to this pattern's handler too.
    match = HASHTAGS_CALLBACK.match(query.data) if query.data is not None else None
    if match is None or update.effective_chat is None:
        await query.answer(texts.DRAFT_GONE)
        return
    chat_id = update.effective_chat.id
    try:
        handle, advice = await context.service.draft_hashtags(chat_id, int(match.group(1)))
    except LikepredictError as error:
        await query.answer(texts.alert(error), show_alert=True)
        return
    await query.answer(texts.HASHTAGS_SENT)
    await context.bot.send_message(chat_id, texts.all_hashtags(handle, advice))


async def unknown_button(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(texts.DRAFT_GONE)


# ---- /timezone --------------------------------------------------------------------------------------


def _language(update: Update) -> str | None:
    return update.effective_user.language_code if update.effective_user else None


async def timezone(update: Update, context: BotContext) -> None:
    message = _message(update)
    text = " ".join(context.args or [])
    if not text:
        current = await context.service.chat_zone(message.chat_id, _language(update))
        await message.reply_text(texts.timezone_usage(current))
        return
    await message.reply_text(texts.timezone_set(await context.service.set_timezone(message.chat_id, text)))


# ---- /actual, /stats, /clear, /forget --------------------------------------------------------------


async def actual(update: Update, context: BotContext) -> None:
    message = _message(update)
    text = " ".join(context.args or [])
    if not text:
        await message.reply_text(texts.actual_usage())
        return
    replied = message.reply_to_message.message_id if message.reply_to_message else None
    result = await context.service.record_actual(message.chat_id, text, replied)
    await message.reply_text(texts.actual_recorded(result))


async def stats(update: Update, context: BotContext) -> None:
    message = _message(update)
    await context.bot.send_chat_action(message.chat_id, ChatAction.UPLOAD_PHOTO)
    chat_stats = await context.service.chat_stats(message.chat_id)
    chart = await asyncio.to_thread(pictures.likes_chart, chat_stats.likes_history, texts.stats_chart_title(chat_stats))
    await message.reply_photo(chart, caption=texts.stats_caption(chat_stats))


async def clear(update: Update, context: BotContext) -> None:
    message = _message(update)
    await message.reply_text(texts.cleared(await context.service.clear(message.chat_id)))


async def forget(update: Update, context: BotContext) -> None:
    message = _message(update)
    context.albums.forget_chat(message.chat_id)
    context.photo_limit.reset(message.chat_id)
    await message.reply_text(texts.forgotten(await context.service.forget(message.chat_id)))


# ---- everything else ---------------------------------------------------------------------------


async def text(update: Update, context: BotContext) -> None:
    message = _message(update)
    if message.text and LOOKS_LIKE_HANDLE.match(message.text):
        await _use_account(update, context, message.text.strip())
        return
    await message.reply_text(texts.TEXT)


async def unknown_command(update: Update, context: BotContext) -> None:
    message = _message(update)
    command = (message.text or "").split()[0] if message.text else "that"
    await message.reply_text(texts.unknown_command(command.split("@")[0]))


async def video(update: Update, context: BotContext) -> None:
    await _message(update).reply_text(texts.VIDEO)


async def animation(update: Update, context: BotContext) -> None:
    await _message(update).reply_text(texts.ANIMATION)


async def sticker(update: Update, context: BotContext) -> None:
    await _message(update).reply_text(texts.STICKER)


async def voice(update: Update, context: BotContext) -> None:
    await _message(update).reply_text(texts.VOICE)


async def other(update: Update, context: BotContext) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.OTHER_MESSAGE)


# ---- the one error handler -------------------------------------------------------------------------


async def on_error(update: object, context: BotContext) -> None:
    """A user's mistake gets its plain sentence; anything else is logged and the user told it went wrong."""
    error = context.error
    if update is None and isinstance(error, NetworkError):
        # Polling (PTB's error_callback sends its errors here): a 502 or a dropped connection is routine, and
        # PTB tries again on its own. One line, no traceback; nobody to answer.
        log.warning("polling Telegram failed, PTB retries: %s", error)
        return
    if isinstance(error, (TelegramFileError, AnswerTimedOut)):  # not the user's doing nor a bug: one line
        log.warning("%s: %s", _describe(update), error)
        answer = texts.e(texts.explain(error))
    elif isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # An answer whose connection dropped after it was written, or that Telegram did not confirm in time:
        # it may have arrived, so it is not sent again (bot/telegram_http.py); the user is told instead.
        log.warning("%s: sending the answer failed, not retried: %s", _describe(update), error)
        answer = texts.ANSWER_MAY_BE_LOST
    elif isinstance(error, LikepredictError):
        log.info("refused %s: %s", _describe(update), error)
        answer = texts.e(texts.explain(error))
    else:
        log.error("handling %s failed", _describe(update), exc_info=error)
        answer = texts.WORKING_ON_IT
    chat_id = chat_of(update)
    try:
        if isinstance(update, Update) and update.callback_query is not None:
            # Always answered, also a button under an inline message (no chat to write to): else it spins on.
            await update.callback_query.answer(texts.cut(texts.plain(answer), 200))
        if chat_id is not None:
            await context.bot.send_message(chat_id, answer)
    except TelegramError as send_error:
        log.warning("could not tell chat %s about an error: %s", chat_id, send_error)


def _describe(update: object) -> str:
    # The update id and kind, not its content: no message text or file ids in the log.
    if isinstance(update, Update):
        kind = next((k for k in ("callback_query", "message", "edited_message") if getattr(update, k)), "update")
        return f"update {update.update_id} ({kind})"
    if isinstance(update, ChatJob):
        return f"{type(update).__name__} for chat {update.chat_id}"
    return "polling"

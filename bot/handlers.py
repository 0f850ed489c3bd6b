"""Handlers: read the update, call one service coroutine, send what `texts` and `pictures` make of it.

Errors a user can cause (`LikepredictError`) are not caught here: the one error handler, `on_error`,
shows `texts.explain(error)`. Only album photos catch them, to report them once for the whole album.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import (
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, NetworkError, TelegramError

from app.results import PhotoAdvice
from bot import pictures, texts
from bot.context import BotContext
from bot.downloads import fetch_file
from bot.errors import FileTooLarge, PhotoRateLimited, TelegramFileError
from bot.jobs import AlbumComplete, AnswerPhoto, ChatJob, ResumeBest, chat_of
from bot.media import image_suffix, is_image_document, pick_photo_size
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
        await _send_advice(context, message.chat_id, advice)
    if chosen.album_drafts_waiting:
        await context.bot.send_message(message.chat_id, texts.drafts_waiting(chosen.album_drafts_waiting))


# ---- photos ------------------------------------------------------------------------------------


async def photo(update: Update, context: BotContext) -> None:
    message = _message(update)
    await _receive_image(message, context, pick_photo_size(message.photo), "photo", ".jpg")


async def document(update: Update, context: BotContext) -> None:
    message = _message(update)
    assert message.document is not None
    doc = message.document
    if not is_image_document(doc.mime_type, doc.file_name):
        await message.reply_text(texts.not_an_image(doc.mime_type))
        return
    await _receive_image(message, context, doc, "document", image_suffix(doc.mime_type))


async def _receive_image(
    message: Message, context: BotContext, file: PhotoSize | Document, kind: str, suffix: str
) -> None:
    """Limits first, then the download, then the draft; an album photo is answered with its album."""
    chat_id, album = message.chat_id, message.media_group_id
    _check_limits(context, chat_id, file.file_size)
    if album is None:
        # Recorded before the work: Telegram already counts the update as delivered, so a restart from here
        # on must still answer it (resume_photo).
        request_id = await context.service.open_photo_request(
            chat_id, message.message_id, file.file_id, file.file_unique_id, kind, suffix
        )
        await _answer_photo(
            AnswerPhoto(
                chat_id,
                request_id,
                message.message_id,
                file.file_id,
                file.file_unique_id,
                suffix,
                language=message.from_user.language_code if message.from_user else None,
            ),
            context,
        )
        return
    try:
        data = await fetch_file(context.bot, file.file_id, context.settings.max_file_bytes)
        await context.service.receive_photo(chat_id, file.file_unique_id, data, album, suffix)
    except LikepredictError as error:
        context.albums.add(chat_id, album, refused=error)
        return
    context.albums.add(chat_id, album)


def _check_limits(context: BotContext, chat_id: int, declared_size: int | None) -> None:
    wait = context.photo_limit.try_acquire(chat_id)
    if wait is not None:
        raise PhotoRateLimited(context.settings.photos_per_minute, wait)
    limit = context.settings.max_file_bytes
    if declared_size is not None and declared_size > limit:
        raise FileTooLarge(declared_size, limit)


async def resume_photo(job: AnswerPhoto, context: BotContext) -> None:
    """A photo whose answer a restart interrupted (put on the update queue at start-up)."""
    log.info("answering photo request %s interrupted by a restart", job.request_id)
    await _answer_photo(job, context)


async def _answer_photo(job: AnswerPhoto, context: BotContext) -> None:
    """Download, keep and advise on one photo; its request is finished however that ends, unless cancelled
    (shutting down: it is answered after the restart)."""
    try:
        await context.bot.send_chat_action(job.chat_id, ChatAction.TYPING)
        data = await fetch_file(context.bot, job.file_id, context.settings.max_file_bytes)
        received = await context.service.receive_photo(
            job.chat_id, job.file_unique_id, data, None, job.suffix, language=job.language
        )
        if received.advice is None:
            await context.bot.send_message(
                job.chat_id, texts.photo_kept_ask_handle(received.waiting_for_handle), reply_parameters=_reply(job)
            )
        else:
            await _send_advice(context, job.chat_id, received.advice, reply_to=job.message_id)
    finally:
        task = asyncio.current_task()
        if task is None or not task.cancelling():
            await context.service.finish_photo_request(job.request_id)


def _reply(job: AnswerPhoto) -> ReplyParameters | None:
    # Quoted when resumed, where the answer comes late; the original may be gone by then.
    return ReplyParameters(job.message_id, allow_sending_without_reply=True) if job.resumed else None


async def _send_advice(context: BotContext, chat_id: int, advice: PhotoAdvice, reply_to: int | None = None) -> None:
    text = texts.photo_advice(advice)
    quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
    sent = await context.bot.send_message(chat_id, text, reply_parameters=quote)
    await context.service.set_prediction_message(chat_id, advice.prediction_id, sent.message_id)


async def album_complete(job: AlbumComplete, context: BotContext) -> None:
    """The album collector's job: the last photo of an album has arrived."""
    status = await context.service.album_status(job.chat_id)
    reasons = [texts.explain(error) for error in job.refused]
    await context.bot.send_message(
        job.chat_id, texts.album_saved(job.saved, status.total_drafts, reasons, status.has_handle)
    )


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
    assert query is not None and query.data is not None
    match = HASHTAGS_CALLBACK.match(query.data)
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
    if isinstance(error, TelegramFileError):  # Telegram's side, not the user's nor a bug: one line, no traceback
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

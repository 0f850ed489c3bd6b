"""Handlers: read the update, call one service coroutine, send what `texts` and `pictures` make of it.

Errors a user can cause (`LikepredictError`) are not caught here: the one error handler, `on_error`,
shows their message. Only album photos catch them, to report them once for the whole album.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import ContextTypes

from bot import pictures, texts
from bot.albums import PendingAlbum
from bot.context import BotState, bot_state
from bot.flood import NETWORK_RETRY_DELAYS
from bot.media import image_suffix, is_image_document, pick_photo_size
from core.errors import LikepredictError

log = logging.getLogger(__name__)

HASHTAGS_CALLBACK = re.compile(r"^tags:(\d{1,12})$")
LOOKS_LIKE_HANDLE = re.compile(r"^\s*(@\S+|(https?://)?(www\.)?instagram\.com/\S+)\s*$", re.IGNORECASE)


def _chat_id(update: Update) -> int:
    assert update.effective_chat is not None  # every handler below is for chat messages
    return update.effective_chat.id


async def _reply(update: Update, text: str) -> Message:
    assert update.effective_message is not None
    return await update.effective_message.reply_text(text)


# ---- /start, /help, /handle ------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    handle = await bot_state(context).service.handle(_chat_id(update))
    await _reply(update, texts.welcome(handle))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(update, texts.help_text())


async def handle_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = " ".join(context.args or [])
    if not text:
        current = await bot_state(context).service.handle(_chat_id(update))
        await _reply(update, texts.handle_usage(current))
        return
    await _set_account(update, context, text)


async def _set_account(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    state, chat_id = bot_state(context), _chat_id(update)
    await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    summary = await state.service.set_handle(chat_id, text)
    await _reply(update, texts.account_summary(summary))
    waiting = await state.service.unanswered_drafts(chat_id)
    for draft in [d for d in waiting if d.media_group_id is None]:
        await _send_advice(context.bot, state, chat_id, draft.id)
    in_albums = [d for d in waiting if d.media_group_id is not None]
    if in_albums:
        await context.bot.send_message(chat_id, texts.drafts_waiting(len(in_albums)))


# ---- photos ------------------------------------------------------------------------------------


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.photo
    size = pick_photo_size(message.photo)
    await _receive_image(update, context, size.file_id, size.file_unique_id, size.file_size, ".jpg")


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    doc = message.document
    if not is_image_document(doc.mime_type, doc.file_name):
        await _reply(update, texts.not_an_image(doc.mime_type))
        return
    await _receive_image(update, context, doc.file_id, doc.file_unique_id, doc.file_size, image_suffix(doc.mime_type))


async def _receive_image(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    file_id: str,
    file_unique_id: str,
    file_size: int | None,
    suffix: str,
) -> None:
    """Limits first, then the download, then the draft; an album photo is answered with its album."""
    state, chat_id = bot_state(context), _chat_id(update)
    album = update.effective_message.media_group_id if update.effective_message else None
    try:
        wait = state.photo_limit.try_acquire(chat_id)
        if wait is not None:
            raise LikepredictError(texts.slow_down(state.settings.photos_per_minute, wait))
        limit = state.settings.max_file_bytes
        if file_size is not None and file_size > limit:
            raise LikepredictError(texts.file_too_large(file_size, limit))
        if album is None:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        data = await _download(context.bot, file_id, limit)
        draft = await state.service.add_photo(chat_id, file_unique_id, data, album, suffix)
    except LikepredictError as error:
        if album is None:
            raise
        state.albums.add(chat_id, album, saved=False, refused_reason=texts.explain(error))
        return
    if album is not None:
        state.albums.add(chat_id, album, saved=True)
        return
    if await state.service.handle(chat_id) is None:
        waiting = len(await state.service.unanswered_drafts(chat_id))
        await _reply(update, texts.photo_kept_ask_handle(waiting))
        return
    await _send_advice(context.bot, state, chat_id, draft.id, reply_to=update.effective_message)


async def _download(bot: Bot, file_id: str, limit: int) -> bytes:
    telegram_file = await bot.get_file(file_id)
    if telegram_file.file_size is not None and telegram_file.file_size > limit:
        raise LikepredictError(texts.file_too_large(telegram_file.file_size, limit))
    # File downloads bypass the rate limiter's retries; a GET is safe to repeat, even after a time-out.
    for pause in (*NETWORK_RETRY_DELAYS, None):
        try:
            return bytes(await telegram_file.download_as_bytearray())
        except NetworkError as error:
            if isinstance(error, BadRequest) or pause is None:
                raise
            log.warning("downloading a file failed (%s); retrying in %.1f s", error, pause)
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


async def _send_advice(bot: Bot, state: BotState, chat_id: int, draft_id: int, reply_to: Message | None = None) -> None:
    advice = await state.service.advise_draft(chat_id, draft_id)
    text = texts.photo_advice(advice)
    sent = await (reply_to.reply_text(text, do_quote=True) if reply_to is not None else bot.send_message(chat_id, text))
    await state.service.set_prediction_message(chat_id, advice.prediction_id, sent.message_id)


async def album_done(bot: Bot, state: BotState, album: PendingAlbum) -> None:
    """Called by the album collector once the last photo of an album has arrived."""
    async with state.ordering.chat_lock(album.chat_id):
        total = await state.service.count_drafts(album.chat_id)
        has_handle = await state.service.handle(album.chat_id) is not None
        await bot.send_message(album.chat_id, texts.album_saved(album.saved, total, album.refused, has_handle))


# ---- /best and its button --------------------------------------------------------------------------


async def best(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_best(context.bot, bot_state(context), _chat_id(update))


async def run_best(bot: Bot, state: BotState, chat_id: int, request_id: int | None = None) -> None:
    """Rank the chat's drafts and send the picture. The request is kept open until answered, so a
    restart in the middle answers it after (`resume_best`)."""
    service = state.service
    drafts = await service.count_drafts(chat_id)
    if drafts == 0:
        raise LikepredictError(texts.NO_DRAFTS)
    if await service.handle(chat_id) is None:
        raise LikepredictError(texts.photo_kept_ask_handle(drafts))
    request_id = request_id if request_id is not None else await service.open_best_request(chat_id)
    try:
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
        progress = await bot.send_message(chat_id, texts.best_progress(0, drafts)) if drafts > 1 else None

        async def report(done: int, total: int) -> None:
            if progress is not None:
                await progress.edit_text(texts.best_progress(done, total))

        ranking = await service.rank_drafts(chat_id, report)
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
        if not asyncio.current_task().cancelling():  # type: ignore[union-attr]
            await service.finish_best_request(request_id)


async def resume_best(bot: Bot, state: BotState, request_id: int, chat_id: int) -> None:
    """Answer a /best that a restart interrupted."""
    async with state.ordering.chat_lock(chat_id):
        try:
            await bot.send_message(chat_id, texts.best_resumed())
            await run_best(bot, state, chat_id, request_id)
        except LikepredictError as error:
            await state.service.finish_best_request(request_id)
            await bot.send_message(chat_id, texts.e(texts.explain(error)))
        except Exception:
            log.exception("resuming /best request %s failed", request_id)
            await state.service.finish_best_request(request_id)


async def hashtags_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    match = HASHTAGS_CALLBACK.match(query.data)
    if match is None:
        await query.answer(texts.DRAFT_GONE)
        return
    state, chat_id = bot_state(context), _chat_id(update)
    try:
        handle, advice = await state.service.draft_hashtags(chat_id, int(match.group(1)))
    except LikepredictError as error:
        await query.answer(texts.explain(error)[:200], show_alert=True)
        return
    await query.answer(texts.HASHTAGS_SENT)
    await context.bot.send_message(chat_id, texts.all_hashtags(handle, advice))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(texts.DRAFT_GONE)


# ---- /actual, /stats, /clear, /forget --------------------------------------------------------------


async def actual(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = " ".join(context.args or [])
    if not text:
        await _reply(update, texts.actual_usage())
        return
    message = update.effective_message
    replied = message.reply_to_message.message_id if message and message.reply_to_message else None
    result = await bot_state(context).service.record_actual(_chat_id(update), text, replied)
    await _reply(update, texts.actual_recorded(result))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = _chat_id(update)
    await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    chat_stats = await bot_state(context).service.chat_stats(chat_id)
    shown = [p.likes for p in chat_stats.account.posts_newest_first() if p.likes is not None]
    history = list(reversed(shown[: chat_stats.stats.n_posts]))
    title = f"@{chat_stats.handle}: likes of the last {len(history)} posts"
    chart = await asyncio.to_thread(pictures.likes_chart, history, title)
    assert update.effective_message is not None
    await update.effective_message.reply_photo(chart, caption=texts.stats_caption(chat_stats))


async def clear(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    count = await bot_state(context).service.clear(_chat_id(update))
    await _reply(update, texts.cleared(count))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state, chat_id = bot_state(context), _chat_id(update)
    state.albums.forget_chat(chat_id)
    state.photo_limit.reset(chat_id)
    counts = await state.service.forget(chat_id)
    await _reply(update, texts.forgotten(counts))


# ---- everything else ---------------------------------------------------------------------------


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text and LOOKS_LIKE_HANDLE.match(message.text):
        await _set_account(update, context, message.text.strip())
        return
    await _reply(update, texts.TEXT)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    command = (message.text or "").split()[0] if message and message.text else "that"
    await _reply(update, texts.unknown_command(command.split("@")[0]))


async def video(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(update, texts.VIDEO)


async def animation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(update, texts.ANIMATION)


async def sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(update, texts.STICKER)


async def voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(update, texts.VOICE)


async def other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_chat is not None:
        await _reply(update, texts.OTHER_MESSAGE)


# ---- the one error handler -------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user's mistake gets its plain message; anything else is logged and the user told it went wrong."""
    error = context.error
    if isinstance(error, LikepredictError):
        log.info("refused %s: %s", _describe(update), error)
        answer = texts.e(texts.explain(error))
    else:
        log.error("handling %s failed", _describe(update), exc_info=error)
        answer = texts.WORKING_ON_IT
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, answer)
    except TelegramError as send_error:
        log.warning("could not tell chat %s about an error: %s", update.effective_chat.id, send_error)


def _describe(update: object) -> str:
    # The update id and kind, not its content: no message text or file ids in the log.
    if isinstance(update, Update):
        kind = next((k for k in ("callback_query", "message", "edited_message") if getattr(update, k)), "update")
        return f"update {update.update_id} ({kind})"
    return "a job"

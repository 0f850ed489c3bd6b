"""Photos and images sent as files: one photo is answered at once (within `photo_answer_seconds`), an album's
photos are kept as drafts and the album answered once (`album_complete`).

Every photo is recorded in the store as it arrives (`record_arrival`), since Telegram already counts its update
as delivered: a restart (even kill -9) before the answer answers it after (`resume_photo`).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Document, Message, PhotoSize, ReplyParameters, Update
from telegram.constants import ChatAction
from telegram.ext.filters import BaseFilter

from app.results import PhotoAdvice
from bot import texts
from bot.context import BotApplication, BotContext, state_of
from bot.downloads import fetch_file
from bot.errors import AnswerTimedOut, FileTooLarge, PhotoRateLimited
from bot.jobs import AlbumComplete, AnswerPhoto
from bot.media import image_suffix, is_image_document, pick_photo_size
from core.errors import LikepredictError
from core.records import PhotoToAnswer

log = logging.getLogger(__name__)


def _image_of(message: Message) -> tuple[PhotoSize | Document, str, str] | None:
    """The file to answer in a message (its size for a photo), its kind and suffix; None if it has no image."""
    if message.photo:
        return pick_photo_size(message.photo), "photo", ".jpg"
    doc = message.document
    if doc is not None and message.animation is None and is_image_document(doc.mime_type, doc.file_name):
        return doc, "document", image_suffix(doc.mime_type)
    return None


def _to_answer(message: Message, file: PhotoSize | Document, kind: str, suffix: str) -> PhotoToAnswer:
    return PhotoToAnswer(
        message.chat_id, message.message_id, file.file_id, file.file_unique_id, kind, suffix, message.media_group_id
    )


async def record_arrival(application: BotApplication, for_us: BaseFilter, update: object) -> None:
    """Record a photo for us as its update arrives, before it waits for its chat's turn: an album's later photos
    (or a chat's next photo) wait behind the one being answered, and a kill -9 then would lose them, Telegram
    having counted them delivered. The handler takes the request over (or opens it, if this could not)."""
    if not isinstance(update, Update) or update.message is None or not for_us.check_update(update):
        return
    message = update.message
    image = _image_of(message)
    if image is None:
        return
    state = state_of(application.bot_data)
    try:
        request_id = await state.service.open_photo_request(_to_answer(message, *image))
        state.arrived_photos[(message.chat_id, message.message_id)] = request_id
    except LikepredictError as error:  # a storage fault: the handler meets it again and says so
        log.warning("could not record a photo of chat %s on arrival: %s", message.chat_id, error)


async def photo(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None  # registered for messages with a photo
    await _receive_image(message, context)


async def document(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None  # registered for messages with a document
    doc = message.document
    if not is_image_document(doc.mime_type, doc.file_name):
        await message.reply_text(texts.not_an_image(doc.mime_type))
        return
    await _receive_image(message, context)


async def _receive_image(message: Message, context: BotContext) -> None:
    """The request recorded on arrival (else now), the limits, then the work; an album photo is answered with
    its album."""
    image = _image_of(message)
    assert image is not None  # the handlers above are for images
    file, suffix = image[0], image[2]
    chat_id, album = message.chat_id, message.media_group_id
    request_id = context.state.arrived_photos.pop((chat_id, message.message_id), None)
    if request_id is None:
        request_id = await context.service.open_photo_request(_to_answer(message, *image))
    try:
        _check_limits(context, chat_id, file.file_size)
    except LikepredictError:
        await context.service.finish_photo_request(request_id)  # refused now: nothing to answer after a restart
        raise
    language = message.from_user.language_code if message.from_user else None
    job = AnswerPhoto(
        chat_id, request_id, message.message_id, file.file_id, file.file_unique_id, suffix, False, language, album
    )
    await (_keep_album_photo(job, context) if album is not None else _answer_photo(job, context))


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
    await (_keep_album_photo(job, context) if job.media_group_id is not None else _answer_photo(job, context))


async def _answer_photo(job: AnswerPhoto, context: BotContext) -> None:
    """Download, keep and advise on one photo, all within `photo_answer_seconds` (else `AnswerTimedOut`).

    Its request is finished however that ends, a time-out included (the user is told to send it again), unless
    cancelled (shutting down: it is answered after the restart). Past the bound nothing more is sent once the
    answer is out; a bound reached while sending it says the answer may have arrived.
    """
    seconds = context.settings.photo_answer_seconds
    sending = False
    try:
        async with asyncio.timeout(seconds):
            await context.bot.send_chat_action(job.chat_id, ChatAction.TYPING)
            data = await fetch_file(context.bot, job.file_id, context.settings.max_file_bytes)
            received = await context.service.receive_photo(
                job.chat_id, job.file_unique_id, data, None, job.suffix, language=job.language
            )
            advice = received.advice
            if advice is None:
                text, quote = texts.photo_kept_ask_handle(received.waiting_for_handle), _resumed_quote(job)
            else:
                text, quote = (
                    texts.photo_advice(advice),
                    ReplyParameters(job.message_id, allow_sending_without_reply=True),
                )
            sending = True
            sent = await context.bot.send_message(job.chat_id, text, reply_parameters=quote)
        if advice is not None:  # after the bound: the answer is out, linking it for /actual must not be cut short
            await context.service.set_prediction_message(job.chat_id, advice.prediction_id, sent.message_id)
    except TimeoutError:
        raise AnswerTimedOut(seconds, while_sending=sending) from None
    finally:
        task = asyncio.current_task()
        if task is None or not task.cancelling():
            await context.service.finish_photo_request(job.request_id)


def _resumed_quote(job: AnswerPhoto) -> ReplyParameters | None:
    # Quoted when resumed, where the answer comes late; the original may be gone by then.
    return ReplyParameters(job.message_id, allow_sending_without_reply=True) if job.resumed else None


async def send_advice(context: BotContext, chat_id: int, advice: PhotoAdvice, reply_to: int | None = None) -> None:
    text = texts.photo_advice(advice)
    quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
    sent = await context.bot.send_message(chat_id, text, reply_parameters=quote)
    await context.service.set_prediction_message(chat_id, advice.prediction_id, sent.message_id)


async def _keep_album_photo(job: AnswerPhoto, context: BotContext) -> None:
    """Download and keep one album photo as a draft; the album collector answers the album once.

    Its request stays open until the album's answer is sent (`album_complete`), so a restart before that
    answer takes the photo again and answers the album then. A user's error is reported with the album; a
    bug finishes the request (it would fail again at every start)."""
    assert job.media_group_id is not None
    try:
        data = await fetch_file(context.bot, job.file_id, context.settings.max_file_bytes)
        await context.service.receive_photo(job.chat_id, job.file_unique_id, data, job.media_group_id, job.suffix)
    except LikepredictError as error:
        context.albums.add(job.chat_id, job.media_group_id, job.request_id, refused=error)
        return
    except Exception:
        await context.service.finish_photo_request(job.request_id)
        raise
    context.albums.add(job.chat_id, job.media_group_id, job.request_id)


async def album_complete(job: AlbumComplete, context: BotContext) -> None:
    """The album collector's job: the last photo of an album has arrived."""
    status = await context.service.album_status(job.chat_id)
    reasons = [texts.explain(error) for error in job.refused]
    await context.bot.send_message(
        job.chat_id, texts.album_saved(job.saved, status.total_drafts, reasons, status.has_handle)
    )
    # After the answer: a crash before this line answers the album again after the restart (never not at all).
    await context.service.finish_photo_requests(job.request_ids)

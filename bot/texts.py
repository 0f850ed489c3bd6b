"""Every sentence the bot says, in one place; Telegram HTML (the bot's default parse mode).

Functions take plain records and return text, so wording can change without touching logic, and the
offline demo prints exactly what the bot would send (through `plain`).

Long (~680 lines) on purpose: every sentence a user can read is here, so wording is changed, reviewed and
translated in one file; each function is a few lines of text and none holds logic.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import singledispatch
from typing import TYPE_CHECKING

from app.errors import BadLikes, BadTimezone, NoDrafts, NoHandle, NoPrediction, TooManyDrafts, UnknownDraft
from bot.errors import AnswerTimedOut, FileProblem, FileTooLarge, PhotoRateLimited, TelegramFileError
from core.errors import LikepredictError
from core.records import CachedAccount
from inference.photo import PhotoError, PhotoProblem
from scraping.errors import (
    AccountNotFound,
    InvalidHandle,
    InvalidTag,
    MalformedResponse,
    NoPostsVisible,
    PrivateAccount,
    RateLimited,
    SourceUnavailable,
)
from store import StorageError

if TYPE_CHECKING:
    from app.results import AccountSummary, ActualResult, CarouselAdvice, ChatStats, PhotoAdvice, PostingTime, Ranking
    from app.timezones import ChatZone
    from inference.hashtags import HashtagAdvice
    from inference.predictor import LikesPrediction

# (command, what it does) in menu order; set with set_my_commands and listed by /help.
COMMANDS: list[tuple[str, str]] = [
    ("handle", "set your Instagram account: /handle name"),
    ("best", "rank your drafts and pick the one to post"),
    ("stats", "your recent likes as a chart, and how close I have been"),
    ("actual", "tell me the real likes: /actual 420"),
    ("timezone", "your time zone for posting times: /timezone Europe/Berlin"),
    ("clear", "delete your drafts"),
    ("forget", "delete everything I keep for this chat"),
    ("help", "what I can do"),
]

SHOWN_TAGS_IN_ANSWER = 5
ECHO_LIMIT = 40  # characters of what the user sent (a command, a file type) that an answer repeats


@singledispatch
def explain(error: LikepredictError) -> str:
    """The plain sentence a user reads for an error they caused.

    Each error type carries data and registers its sentence here (`@explain.register`), so the words live in
    this module; a type with no registered sentence falls back to its message.
    """
    return str(error)


def plain(text: str) -> str:
    """The text as a Telegram client shows it: markup removed, entities unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def e(value: object) -> str:
    return html.escape(str(value), quote=False)


def likes(value: float) -> str:
    """420, 1,240, 12.5k, 1.2M: a likes count as people say it."""
    value = max(0.0, float(value))
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.1f}k"
    return f"{value:,.0f}"


def date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")


# ---- /start, /help ------------------------------------------------------------------------------


def welcome(handle: str | None) -> str:
    lines = [
        "<b>Hi! I predict how many likes a photo will get on Instagram, before you post it.</b>",
        "",
        "1. Tell me your account: /handle yourname",
        "2. Send a photo: I answer with the likes to expect and hashtags to use.",
        "3. Several drafts? Send them (an album works), then /best picks the one to post.",
    ]
    if handle:
        lines += ["", f"Your account here is @{e(handle)}."]
    return "\n".join(lines)


def help_text() -> str:
    commands = "\n".join(f"/{name} – {e(what)}" for name, what in COMMANDS)
    return (
        "Send me a photo (as a photo or as an image file) and I predict its likes and suggest hashtags.\n"
        "Send several and /best ranks them.\n\n" + commands
    )


# ---- /handle --------------------------------------------------------------------------------------


def handle_usage(current: str | None) -> str:
    now = f"Your account here is @{e(current)}.\n" if current else ""
    return now + "Send /handle followed by your Instagram username, like <code>/handle demo_creator</code>."


def account_summary(summary: AccountSummary) -> str:
    lines = [f"Got it: <b>@{e(summary.handle)}</b>", f"Followers: {summary.followers:,}"]
    hidden = summary.hidden_likes
    if summary.n_posts:
        lines.append(f"Median likes of the last {summary.n_posts} posts: {likes(summary.median_likes)}")
        if hidden:
            lines.append(f"({hidden} more recent post{'s hide' if hidden > 1 else ' hides'} their likes: left out.)")
    elif hidden:
        lines.append(
            f"All {hidden} recent posts hide their like counts, so I can't learn your usual likes from them and "
            "my predictions will be rough. Hashtags and timing still use them."
        )
    else:
        lines.append("No posts to learn from yet, so my predictions will be rough.")
    lines.append(f"Figures from {date(summary.fetched_at)}. {e(freshness(summary.cached))}")
    return "\n".join(lines)


def drafts_waiting(count: int) -> str:
    return f"You have {count} drafts waiting: send /best to rank them."


# ---- photos ---------------------------------------------------------------------------------------


def photo_advice(advice: PhotoAdvice) -> str:
    p = advice.prediction
    lines = [
        f"📸 For @{e(advice.handle)} this photo should get about <b>{likes(p.likes)} likes</b>.",
        f"Likely range: {likes(p.low)}–{likes(p.high)}. Your usual post: {likes(p.baseline_median)}.",
    ]
    if p.appeal is not None:
        lines.append(f"Photo appeal: {p.appeal:.0f}/100.")
    if p.note:
        lines.append(f"<i>{e(p.note)}</i>")
    lines += photo_content_lines(advice.seen, p)
    lines += [effect_sentence(f.concept, f.change, f.low, f.high) for f in advice.effects]
    if advice.when is not None:
        lines += posting_time_lines(advice.when)
    lines += ["", *hashtag_lines(advice.hashtags, SHOWN_TAGS_IN_ANSWER)]
    lines += ["", "Posted it? Reply to this message with /actual and the real likes."]
    return "\n".join(lines)


# How a concept reads in "photos with people do about 15 % better".
CONCEPT_PHOTOS: dict[str, str] = {
    "people": "photos with people",
    "group": "photos of a group",
    "selfie": "selfies",
    "closeup": "close-ups",
    "text": "photos with text",
    "food": "food photos",
    "dog": "photos with a dog",
    "cat": "photos with a cat",
    "car": "photos with a car",
    "water": "photos of the sea or water",
    "mountain": "mountain photos",
    "sky": "photos with sky",
    "nature": "nature photos",
    "outdoor": "outdoor photos",
    "indoor": "indoor photos",
    "night": "night photos",
}


# How a concept reads in "I see: people, the sky."
CONCEPT_SEEN: dict[str, str] = {
    "people": "people",
    "group": "a group",
    "selfie": "a selfie",
    "closeup": "a close-up",
    "text": "text",
    "food": "food",
    "dog": "a dog",
    "cat": "a cat",
    "car": "a car",
    "water": "the sea or water",
    "mountain": "mountains",
    "sky": "the sky",
    "nature": "nature",
    "outdoor": "outdoors",
    "indoor": "indoors",
    "night": "night",
}


def photo_content_lines(seen: Sequence[str], p: LikesPrediction) -> list[str]:
    """What the detectors saw, and how far it moves this prediction from a photo showing none of it."""
    if not seen:
        return []
    line = f"I see: {', '.join(CONCEPT_SEEN.get(c, c) for c in seen)}."
    if p.nothing_shown_likes > 0:
        moved = p.likes / p.nothing_shown_likes - 1
        line += (
            " That barely moves the prediction."
            if abs(moved) < 0.005
            else f" That moves the prediction {percent(moved)} against a photo showing none of it."
        )
    return [line]


def percent(change: float) -> str:
    """+0.15 -> '+15 %', -0.034 -> '−3 %'."""
    value = round(change * 100)
    return f"+{value} %" if value > 0 else f"−{-value} %" if value < 0 else "±0 %"


def effect_sentence(concept: str, change: float, low: float, high: float) -> str:
    """'Photos with people do about 15 % better for accounts like yours (90 % range +4 % to +25 %).'"""
    what = CONCEPT_PHOTOS.get(concept, f"photos with {concept}")
    how = f"about {abs(round(change * 100))} % {'better' if change > 0 else 'worse'}"
    return f"{what.capitalize()} do {how} for accounts like yours (90 % range {percent(low)} to {percent(high)})."


def local_time(moment: datetime, zone: ChatZone) -> str:
    return moment.astimezone(zone.zone).strftime("%a %d %b %H:%M")


def posting_time_lines(when: PostingTime) -> list[str]:
    """The best time to post, in UTC and (when the chat has a zone) local time, with what it is worth."""
    utc = when.at.astimezone(UTC).strftime("%a %d %b %H:%M UTC")
    local = f" = {local_time(when.at, when.zone)} {zone_name(when.zone)}" if when.zone else ""
    lines = [f"⏰ Best time to post in the next 7 days: <b>{utc}</b>{local}."]
    interval = f"90 % range {percent(when.low)} to {percent(when.high)}"
    if when.basis == "model":
        lines.append(f"Expected: {percent(when.change)} likes against your usual time ({interval}).")
    else:
        lines.append(f"That is when you usually post; I can't show that another hour does better for you ({interval}).")
    if when.zone is None:
        lines.append(f"For your local time, send {TIMEZONE_EXAMPLE}.")
    return lines


def carousel_lines(carousel: CarouselAdvice, ranks: dict[int, int]) -> list[str]:
    """The album as one carousel post against its best photo alone, and which to post."""
    cover, single = ranks.get(carousel.cover.id), carousel.best_single
    lines = [
        f"🎠 As one carousel of {carousel.slides} (#{cover} first): about {likes(carousel.carousel.likes)} likes; "
        f"the best single photo (#{single.rank}): about {likes(single.prediction.likes)}."
    ]
    if abs(carousel.change) < 0.02:
        lines.append("About the same either way: post whichever you prefer.")
    elif carousel.change > 0:
        lines.append(f"Post them as a carousel: about {carousel.change:.0%} more likes than #{single.rank} alone.")
    else:
        lines.append(
            f"Post #{single.rank} alone: as a carousel they should get about {-carousel.change:.0%} fewer likes."
        )
    return lines


def hashtag_lines(advice: HashtagAdvice, limit: int | None = None) -> list[str]:
    suggestions = advice.suggestions[:limit] if limit else advice.suggestions
    if not suggestions:
        return [f"No hashtag suggestions yet. {e(advice.note)}".strip()]
    tags = " ".join(f"#{e(s.tag)}" for s in suggestions)
    lines = [f"Hashtags to use: {tags}"]
    lines.append(
        f"With them, expect about {likes(advice.expected_engagement)} likes + comments "
        f"({advice.expected_rate:.1%} of followers; you usually get {advice.account_rate:.1%})."
    )
    return lines


def all_hashtags(handle: str, advice: HashtagAdvice) -> str:
    if not advice.suggestions:
        return f"No hashtag suggestions for @{e(handle)} yet. {e(advice.note)}".strip()
    lines = [f"<b>All hashtags for your #1 draft</b> (@{e(handle)}):", ""]
    for s in advice.suggestions:
        lines.append(f"#{e(s.tag)} – {s.lift:+.0%} – {e(s.reason)}")
    lines += ["", "Copy: " + " ".join(f"#{e(s.tag)}" for s in advice.suggestions)]
    if advice.note:
        lines.append(f"<i>{e(advice.note)}</i>")
    return "\n".join(lines)


def photo_kept_ask_handle(count: int) -> str:
    kept = "I kept your photo as a draft" if count == 1 else f"I kept your {count} photos as drafts"
    return f"{kept}. Which Instagram account is it for? Send /handle yourname and I'll answer."


def album_saved(saved: int, total_drafts: int, refused: Sequence[str], has_handle: bool) -> str:
    lines = []
    if saved:
        noun = "draft" if saved == 1 else "drafts"
        lines.append(f"{saved} {noun} saved ({total_drafts} in all).")
    for reason in dict.fromkeys(refused):
        count = list(refused).count(reason)
        lines.append(f"{count} not kept: {e(reason)}")
    if saved:
        lines.append("Send /best to rank them." if has_handle else "Send /handle yourname, then /best to rank them.")
    return "\n".join(lines)


def draft_saved(total_drafts: int) -> str:
    return f"Saved as a draft ({total_drafts} in all). Send more, then /best to rank them."


def slow_down(limit: int, wait_seconds: float) -> str:
    return f"That's a lot of photos: I take {limit} a minute. Try again in {max(1, round(wait_seconds))} seconds."


def file_too_large(size: int | None, limit: int) -> str:
    if size is None:
        return f"That file is over {limit // 1_048_576} MB; I take photos up to {limit // 1_048_576} MB."
    return f"That file is {size / 1_048_576:.1f} MB; I take photos up to {limit // 1_048_576} MB."


def not_an_image(mime_type: str | None) -> str:
    kind = f" ({e(cut(mime_type, ECHO_LIMIT))})" if mime_type else ""
    return f"That file{kind} isn't a photo. Send a JPEG or PNG, as a photo or as a file."


VIDEO = "I judge photos, not videos. Send a still photo (a frame from the video works)."
ANIMATION = "That's an animation; I judge still photos. Send a photo."
STICKER = "Nice sticker! I only judge photos though: send one, or /help."
VOICE = "I can't listen to audio. Send a photo, or /help to see what I do."
OTHER_MESSAGE = "I work with photos: send me one, or /help to see what I do."
TEXT = "I work with photos: send me one. To set your account: /handle yourname. More: /help."
WORKING_ON_IT = "Something went wrong on my side. Please try again in a moment."
ANSWER_MAY_BE_LOST = (
    "My connection to Telegram dropped while I was answering. If you don't see my answer above, please send it again."
)


def unknown_command(command: str) -> str:
    return f"I don't know {e(cut(command, ECHO_LIMIT))}. Here is what I do: /help"


# ---- /best ----------------------------------------------------------------------------------------


def best_progress(done: int, total: int) -> str:
    if done >= total:
        return f"Scored all {total} drafts. ✅"
    return f"Scoring your drafts… {done} of {total} done."


def best_resumed() -> str:
    return "I restarted while ranking your drafts; here is the answer you asked for."


def ranking_caption(ranking: Ranking) -> str:
    winner = ranking.drafts[0]
    lines = [
        f"<b>Post #1</b>: about {likes(winner.prediction.likes)} likes for @{e(ranking.handle)} "
        f"(range {likes(winner.prediction.low)}–{likes(winner.prediction.high)})."
    ]
    for ranked in ranking.drafts[1:4]:
        lines.append(f"#{ranked.rank}: about {likes(ranked.prediction.likes)} likes")
    if len(ranking.drafts) > 4:
        lines.append(f"… and {len(ranking.drafts) - 4} more.")
    if ranking.winner_hashtags.suggestions:
        tags = " ".join(f"#{e(s.tag)}" for s in ranking.winner_hashtags.suggestions[:SHOWN_TAGS_IN_ANSWER])
        lines.append(f"Hashtags for #1: {tags}")
    if ranking.carousel is not None:
        lines += carousel_lines(ranking.carousel, {r.draft.id: r.rank for r in ranking.drafts})
    if ranking.when is not None:
        lines += posting_time_lines(ranking.when)
    return "\n".join(lines)


def all_hashtags_button() -> str:
    return "All hashtags for #1"


def ranking_label(rank: int, predicted_likes: float) -> str:
    return f"#{rank}  ~{likes(predicted_likes)} likes"


DRAFT_GONE = "That draft is gone (cleared or forgotten). Send /best again."
HASHTAGS_SENT = "Here you go."


# ---- /timezone ------------------------------------------------------------------------------------

TIMEZONE_EXAMPLE = "<code>/timezone Europe/Berlin</code>"


def zone_name(zone: ChatZone) -> str:
    return f"{e(zone.name)} (guessed from your Telegram language)" if zone.guessed_from else e(zone.name)


def timezone_usage(current: ChatZone | None) -> str:
    now = f"I say posting times in UTC and {zone_name(current)}.\n" if current else "I say posting times in UTC.\n"
    return now + f"Send /timezone with your zone, like {TIMEZONE_EXAMPLE}, or <code>/timezone off</code>."


def timezone_set(zone: ChatZone | None) -> str:
    if zone is None:
        return "Done: I say posting times in UTC only."
    return f"Done: I say posting times in UTC and in {e(zone.name)} time."


@explain.register
def _(error: BadTimezone) -> str:
    shown = error.text if len(error.text) <= 40 else error.text[:37] + "..."
    return f"{shown!r} isn't a time zone I know. Use a name like Europe/Berlin, America/New_York or Asia/Tokyo."


# ---- /actual, /stats, /clear, /forget -------------------------------------------------------------


def actual_usage() -> str:
    return (
        "Send /actual with the real likes, like <code>/actual 420</code>; reply to one of my predictions "
        "to say which, or I use the last one."
    )


def actual_recorded(result: ActualResult) -> str:
    p = result.prediction
    inside = "inside" if p.low <= result.actual <= p.high else "outside"
    return (
        f"Noted: {likes(result.actual)} real likes against {likes(p.predicted_likes)} predicted "
        f"({result.error:+.0%}; {inside} the range {likes(p.low)}–{likes(p.high)}). Thanks, /stats shows my record."
    )


def stats_caption(stats: ChatStats) -> str:
    s = stats.stats
    lines = [f"<b>@{e(stats.handle)}</b>: {s.followers:,} followers"]
    if s.n_posts:
        lines.append(
            f"Last {s.n_posts} posts: median {likes(s.likes_median)} likes, "
            f"range {likes(s.likes_min)}–{likes(s.likes_max)}."
        )
    else:
        lines.append("No posts to chart yet.")
    if stats.checked:
        lines.append(
            f"My record here: {stats.checked} predictions checked, median miss {stats.median_abs_error:.0%}, "
            f"{stats.inside_range} of {stats.checked} inside the range."
        )
    else:
        lines.append("No predictions checked yet: after posting, reply /actual N to my prediction.")
    return "\n".join(lines)


def stats_chart_title(stats: ChatStats) -> str:
    return f"@{stats.handle}: likes of the last {len(stats.likes_history)} posts"


def cleared(count: int) -> str:
    return "No drafts to delete." if count == 0 else f"Deleted {count} draft{'s' if count != 1 else ''}."


def forgotten(counts: dict[str, int]) -> str:
    parts = [f"{counts.get('drafts', 0)} drafts", f"{counts.get('predictions', 0)} predictions"]
    return f"Done: I deleted everything I kept for this chat ({', '.join(parts)}, and your account handle)."


def alert(error: LikepredictError) -> str:
    """An error as a button's pop-up shows it (plain text, at most 200 characters)."""
    return cut(explain(error), 200)


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- bot and use-case errors ----------------------------------------------------------------------


@explain.register
def _(error: NoHandle) -> str:
    if error.drafts_waiting:
        return photo_kept_ask_handle(error.drafts_waiting)
    return "Tell me your Instagram account first: send /handle yourname."


@explain.register
def _(error: TooManyDrafts) -> str:
    return f"You have {error.limit} drafts, the most I keep. Send /best to rank them or /clear to start over."


@explain.register
def _(error: NoDrafts) -> str:
    return "No drafts yet. Send me a few photos (an album works), then /best."


@explain.register
def _(error: UnknownDraft) -> str:
    return DRAFT_GONE


@explain.register
def _(error: NoPrediction) -> str:
    if error.replied:
        return "That message isn't one of my predictions. Reply to a prediction, or send /actual N for the last one."
    return "There is no prediction to attach that to yet: send me a photo first."


@explain.register
def _(error: BadLikes) -> str:
    shown = error.text if len(error.text) <= 30 else error.text[:27] + "..."
    return f"{shown!r} isn't a number of likes. Send it like /actual 420 (or /actual 1.2k)."


@explain.register
def _(error: PhotoRateLimited) -> str:
    return slow_down(error.limit, error.wait_seconds)


@explain.register
def _(error: FileTooLarge) -> str:
    return file_too_large(error.size, error.limit)


_FILE_PROBLEMS: dict[FileProblem, str] = {
    FileProblem.UNAVAILABLE: "Telegram couldn't give me that file — please send it again.",
    FileProblem.TOO_BIG_FOR_BOTS: (
        "Telegram won't hand me that file: bots can only download files up to 20 MB. "
        "Send it as a photo (Telegram makes it smaller) or send a smaller file."
    ),
    FileProblem.TIMED_OUT: "Telegram took too long to give me that file — please send it again.",
}


@explain.register
def _(error: TelegramFileError) -> str:
    return _FILE_PROBLEMS[error.problem]


@explain.register
def _(error: AnswerTimedOut) -> str:
    if error.while_sending:
        return "Telegram was slow to take my answer. If you don't see it above, please send the photo again."
    return f"That photo took me too long (over {error.seconds:.0f} s) — please send it again in a moment."


# ---- photo errors ----

_PHOTO_PROBLEMS: dict[PhotoProblem, str] = {
    PhotoProblem.UNREADABLE: "I could not read that file.",
    PhotoProblem.EMPTY: "That file is empty.",
    PhotoProblem.BOMB: "That image is far too large to open.",
    PhotoProblem.NOT_AN_IMAGE: "That file is not a photo I can read. Send a JPEG or PNG photo.",
    PhotoProblem.ANIMATED: "That is an animation or a video; send a single still photo.",
    PhotoProblem.DAMAGED: "That photo file is damaged or incomplete; send it again.",
    PhotoProblem.TOO_MANY_SCANS: (
        "That JPEG is built in far too many passes to open quickly. Save it again as an ordinary JPEG and send that."
    ),
}


@explain.register
def _(error: PhotoError) -> str:
    if error.problem is PhotoProblem.TOO_MANY_BYTES:
        return f"That file is too large ({error.size / 2**20:.0f} MB); send a photo under {error.limit // 2**20} MB."
    if error.problem is PhotoProblem.TOO_MANY_PIXELS:
        return (f"That image is too large ({error.width}x{error.height} pixels); "
                f"send one under {error.limit // 1_000_000} megapixels.")  # fmt: skip
    if error.problem is PhotoProblem.TOO_SMALL:
        return f"That image is too small ({error.width}x{error.height} pixels) to judge."
    return _PHOTO_PROBLEMS[error.problem]


# ---- scraping errors ----

SOURCE_NAMES = {"instagram": "Instagram", "instaloader": "the instaloader folder", "dataset": "the data file"}
HANDLE_PROBLEMS = {
    "empty": "it is empty",
    "too_long": "longer than 30 characters",
    "characters": "",
    "dots": "a dot cannot start or end it, or come twice in a row",
    "not_instagram": "not an instagram.com link",
    "no_username": "the link has no username",
    "not_profile": "that link is a post or a page, not a profile",
}
NO_POSTS_BECAUSE = {
    "login_wall": "it asks for a login",
    "checkpoint": "it wants a security check (checkpoint) first",
    "refused": "it refused the request",
    "counts_only": "its answer had no posts in it",
}
SESSION_SETTING = "LIKEPREDICT_INSTAGRAM_SESSIONID"


def instaloader_command(handle: str) -> str:
    """The download a user can make themselves when the live site shows no posts."""
    return (
        f"instaloader --no-videos --no-pictures --no-profile-pic --count 24 {handle}, then: likepredict import {handle}"
    )


def age(moment: datetime, now: datetime | None = None) -> str:
    """'5 minutes', '3 hours', '2 days': how old a copy is."""
    seconds = max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 90:
        return "a minute" if seconds >= 45 else "a few seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} hours"
    return f"{round(seconds / 86400)} days"


def wait_time(seconds: float | None) -> str:
    if seconds is None:
        return "in a few minutes"
    if seconds < 90:
        return f"in about {max(1, round(seconds))} seconds"
    if seconds < 5400:
        return f"in about {round(seconds / 60)} minutes"
    return f"in about {round(seconds / 3600)} hours"


def freshness(cached: CachedAccount, now: datetime | None = None) -> str:
    """One line saying where an account's figures came from."""
    copy_age = age(cached.fetched_at, now)
    if cached.stale:
        why = f" ({_not_refreshed(cached.stale_reason)})" if cached.stale_reason is not None else ""
        return f"Could not refresh just now{why}; using figures from {copy_age} ago."
    if cached.from_cache:
        return f"From the cache ({copy_age} old)."
    return "Fetched just now."


def _not_refreshed(error: LikepredictError) -> str:
    if isinstance(error, NoPostsVisible):
        return f"Instagram showed no posts: {NO_POSTS_BECAUSE[error.reason]}"
    if isinstance(error, RateLimited):
        return f"{SOURCE_NAMES[error.source]} asks me to slow down"
    if isinstance(error, SourceUnavailable | MalformedResponse):
        return f"{SOURCE_NAMES[error.source]} did not answer properly"
    return "the source failed"


@explain.register
def _(error: InvalidHandle) -> str:
    shown = error.text if len(error.text) <= 40 else error.text[:37] + "..."
    why = HANDLE_PROBLEMS[error.problem]
    return (
        f"{shown!r} is not an Instagram username{f' ({why})' if why else ''}. "
        "Usernames have 1-30 letters, digits, dots and underscores, like @my.account_1."
    )


@explain.register
def _(error: InvalidTag) -> str:
    shown = error.text if len(error.text) <= 40 else error.text[:37] + "..."
    return f"{shown!r} is not a hashtag: use letters, digits and underscores, like #sunset."


@explain.register
def _(error: AccountNotFound) -> str:
    return f"I can't find an Instagram account called @{error.handle}. Check the spelling?"


@explain.register
def _(error: PrivateAccount) -> str:
    return (
        f"@{error.handle} is private, so I can't see its posts. Make it public for a moment, or use a public account."
    )


@explain.register
def _(error: RateLimited) -> str:
    return f"{SOURCE_NAMES[error.source]} is asking me to slow down. Please try again {wait_time(error.retry_after)}."


@explain.register
def _(error: SourceUnavailable) -> str:
    detail = f" ({error.detail})" if error.detail else ""
    return f"I can't reach {SOURCE_NAMES[error.source]} right now{detail}. Please try again later."


@explain.register
def _(error: MalformedResponse) -> str:
    if error.source == "instagram":
        return f"Instagram sent an answer I don't understand ({error.detail}). Please try again later."
    return f"I can't read {SOURCE_NAMES[error.source]}: {error.detail}."


@explain.register
def _(error: NoPostsVisible) -> str:
    shown = f"only @{error.handle}'s counts ({error.followers:,} followers)" if error.followers is not None else None
    first = (
        f"Instagram showed me {shown}, not its posts: {NO_POSTS_BECAUSE[error.reason]}"
        if shown
        else f"Instagram did not show me @{error.handle}'s posts: {NO_POSTS_BECAUSE[error.reason]}"
    )
    if error.status:
        first += f" (HTTP {error.status})"
    when = f"after {error.retry_at.astimezone(UTC):%H:%M} UTC" if error.retry_at else "later"
    session = (
        f"renew the session cookie in {SESSION_SETTING} (it may have expired)"
        if error.with_session
        else f"ask the bot's operator to set {SESSION_SETTING}"
    )
    return (
        f"{first}. Try again {when}, {session}, or import an instaloader download: {instaloader_command(error.handle)}."
    )


# ---- store errors ---------------------------------------------------------------------------------


@explain.register
def _(error: StorageError) -> str:
    return "I can't store photos right now — please try again later."

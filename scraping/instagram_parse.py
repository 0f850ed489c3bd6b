"""Pure parsers for Instagram's JSON: the legacy user node (web_profile_info), v1 media items (feed, tags).

Fields that matter are looked up by path; a missing one is a `MalformedResponse` naming that path, never a
KeyError. A like count the owner hides (-1, `like_and_view_counts_disabled`, `hide_like_and_view_counts`,
no count at all) becomes `likes=None`: the post is kept for its hashtags and time, never given a made-up
count. One unreadable post is left out; an answer where none can be read is malformed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.records import Account, Post
from scraping.base import FetchedAccount, TagTopPost
from scraping.captions import hashtags_in, mentions_in
from scraping.errors import AccountNotFound, MalformedResponse

HIDDEN_FLAGS = ("like_and_view_counts_disabled", "hide_like_and_view_counts")


def parse_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedResponse(f"the {what} is not complete JSON") from None


def dig(data: Any, path: str, what: str) -> Any:
    """`data` followed along a dotted path (`data.user.edge_follow.count`); MalformedResponse if it breaks."""
    current = data
    for key in path.split("."):
        if isinstance(current, dict) and key in current:
            current = current[key]
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            raise MalformedResponse(f"the {what} has no {path}")
    return current


def optional(data: Any, path: str, default: Any = None) -> Any:
    try:
        return dig(data, path, "")
    except MalformedResponse:
        return default


def whole_number(value: Any, path: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise MalformedResponse(f"the {what} has no number at {path}")
    return int(value)


def count_or_none(value: Any) -> int | None:
    """A count Instagram shows, or None when it hides it (-1), leaves it out or sends something else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def first_count(item: dict[str, Any], *paths: str) -> int | None:
    """The count at the first of `paths` that is there (comments come as either of two edges)."""
    for path in paths:
        value = optional(item, path)
        if value is not None:
            return count_or_none(value)
    return None


def likes_of(item: dict[str, Any], *paths: str) -> int | None:
    """The item's like count, or None where its owner hides it (the count then is -1 or a placeholder)."""
    if any(item.get(flag) is True for flag in HIDDEN_FLAGS):
        return None
    return first_count(item, *paths)


def caption_post(
    shortcode: str,
    taken_at: datetime,
    likes: int | None,
    comments: int | None,
    caption: str,
    slides: int,
    is_video: bool,
    has_location: bool,
) -> Post:
    return Post(
        shortcode=shortcode,
        taken_at=taken_at,
        likes=likes,
        comments=comments,
        hashtags=hashtags_in(caption),
        mentions=mentions_in(caption),
        caption_length=len(caption),
        is_multi_image=slides > 1,
        is_video=is_video,
        has_location=has_location,
        slides=slides,
    )


def _timestamp(value: Any, path: str, what: str) -> datetime:
    seconds = whole_number(value, path, what)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedResponse(f"the {what} has no time at {path}") from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass
class ParsedPosts:
    """Posts read from one answer, newest first, with their photos' URLs and how many could not be read."""

    posts: list[Post] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    unreadable: int = 0

    def add(self, post: Post, url: str | None) -> None:
        if any(p.shortcode == post.shortcode for p in self.posts):
            return
        self.posts.append(post)
        if url:
            self.urls[post.shortcode] = url

    def newest(self, n: int) -> ParsedPosts:
        kept = sorted(self.posts, key=lambda p: p.taken_at, reverse=True)[:n]
        return ParsedPosts(kept, {p.shortcode: self.urls[p.shortcode] for p in kept if p.shortcode in self.urls})


# ---- the legacy user node (web_profile_info, older profile pages) ------------------------------------


def parse_graph_post(node: Any, what: str = "post") -> tuple[Post, str | None]:
    """A `edge_owner_to_timeline_media.edges[].node` as a Post, with its photo's URL."""
    if not isinstance(node, dict):
        raise MalformedResponse(f"the {what} is not an object")
    shortcode = dig(node, "shortcode", what)
    if not isinstance(shortcode, str) or not shortcode:
        raise MalformedResponse(f"the {what} has an empty shortcode")
    children = optional(node, "edge_sidecar_to_children.edges")
    slides = len(children) if isinstance(children, list) and children else 1
    if node.get("__typename") in ("GraphSidecar", "XDTGraphSidecar") and slides == 1:
        slides = 2  # a carousel whose children were left out has at least two
    post = caption_post(
        shortcode=shortcode,
        taken_at=_timestamp(dig(node, "taken_at_timestamp", what), "taken_at_timestamp", what),
        likes=likes_of(node, "edge_liked_by.count", "edge_media_preview_like.count"),
        comments=first_count(node, "edge_media_to_comment.count", "edge_media_to_parent_comment.count"),
        caption=_text(optional(node, "edge_media_to_caption.edges.0.node.text", "")),
        slides=slides,
        is_video=node.get("is_video") is True,
        has_location=isinstance(node.get("location"), dict),
    )
    url = node.get("display_url") or node.get("thumbnail_src")
    return post, url if isinstance(url, str) and url else None


def graph_posts(edges: Any, what: str) -> ParsedPosts:
    parsed = ParsedPosts()
    for index, edge in enumerate(edges if isinstance(edges, list) else []):
        try:
            post, url = parse_graph_post(optional(edge, "node"), f"{what} post {index + 1}")
        except MalformedResponse:
            parsed.unreadable += 1
            continue
        parsed.add(post, url)
    return parsed


@dataclass(frozen=True)
class ProfileAnswer:
    """What a profile answer said: the account (posts newest first), its photos, and how to page on."""

    fetched: FetchedAccount
    user_id: str | None
    more: bool  # the profile has more posts than the answer carried
    unreadable: int = 0


def account_of(user: dict[str, Any], handle: str, posts: ParsedPosts, what: str) -> Account:
    """Counts from a user node in the legacy shape (`edge_followed_by`) or the v1 one (`follower_count`)."""
    followers = _first_count(user, ("edge_followed_by.count", "follower_count"), what)
    following = _first_count(user, ("edge_follow.count", "following_count"), what)
    posts_count = _first_count(user, ("edge_owner_to_timeline_media.count", "media_count", "all_media_count"), what)
    username = user.get("username") if isinstance(user.get("username"), str) else handle
    is_private = user.get("is_private") is True
    return Account(str(username).lower(), followers, following, posts_count, tuple(posts.posts), is_private)


def _first_count(user: dict[str, Any], paths: tuple[str, ...], what: str) -> int:
    for path in paths:
        value = optional(user, path)
        if value is not None:
            return whole_number(value, path, what)
    raise MalformedResponse(f"the {what} has no {paths[0]}")


def parse_profile_json(data: Any, handle: str, n_posts: int) -> ProfileAnswer:
    """The web_profile_info answer -> the account with up to `n_posts` posts, its user id, whether more exist."""
    what = "profile answer"
    body = dig(data, "data", what)
    if not isinstance(body, dict) or "user" not in body:
        raise MalformedResponse(f"the {what} has no data.user")
    user = body["user"]
    if user is None:
        raise AccountNotFound(handle)
    if not isinstance(user, dict):
        raise MalformedResponse(f"the {what} has no data.user")
    media = optional(user, "edge_owner_to_timeline_media", {})
    parsed = graph_posts(optional(media, "edges", []), what)
    if parsed.unreadable and not parsed.posts:
        raise MalformedResponse(f"none of the {what}'s {parsed.unreadable} posts could be read")
    kept = parsed.newest(n_posts)
    account = account_of(user, handle, kept, what)
    user_id = user.get("id") or user.get("pk")
    return ProfileAnswer(
        FetchedAccount(account, kept.urls),
        str(user_id) if user_id else None,
        optional(media, "page_info.has_next_page") is True,
        parsed.unreadable,
    )


# ---- v1 media items (user feed, hashtag sections, the web app's timeline connection) ------------------


def parse_v1_media(media: Any, what: str = "media item") -> tuple[Post, str | None, str | None]:
    """A v1 media item -> (Post, photo URL, owner username)."""
    if not isinstance(media, dict):
        raise MalformedResponse(f"the {what} is not an object")
    shortcode = dig(media, "code", what)
    if not isinstance(shortcode, str) or not shortcode:
        raise MalformedResponse(f"the {what} has an empty code")
    carousel = media.get("carousel_media")
    slides = media.get("carousel_media_count")
    if not isinstance(slides, int) or isinstance(slides, bool) or slides < 1:
        slides = (
            len(carousel) if isinstance(carousel, list) and carousel else (2 if media.get("media_type") == 8 else 1)
        )
    post = caption_post(
        shortcode=shortcode,
        taken_at=_timestamp(dig(media, "taken_at", what), "taken_at", what),
        likes=likes_of(media, "like_count"),
        comments=count_or_none(media.get("comment_count")),
        caption=_text(optional(media, "caption.text", "")),
        slides=slides,
        is_video=media.get("media_type") == 2,
        has_location=isinstance(media.get("location"), dict),
    )
    url = optional(media, "image_versions2.candidates.0.url") or optional(
        media, "carousel_media.0.image_versions2.candidates.0.url"
    )
    owner = optional(media, "user.username") or optional(media, "owner.username")
    return post, url if isinstance(url, str) else None, owner.lower() if isinstance(owner, str) else None


def v1_posts(items: Any, what: str, owner: str | None = None) -> ParsedPosts:
    """Media items as posts; with `owner`, only that account's."""
    parsed = ParsedPosts()
    for index, item in enumerate(items if isinstance(items, list) else []):
        try:
            post, url, by = parse_v1_media(item, f"{what} item {index + 1}")
        except MalformedResponse:
            parsed.unreadable += 1
            continue
        if owner is None or by is None or by == owner:
            parsed.add(post, url)
    return parsed


def parse_feed_items(data: Any, what: str = "feed answer") -> tuple[ParsedPosts, str | None]:
    """A `feed/user/{id}/` page -> (its posts, next_max_id or None)."""
    items = dig(data, "items", what)
    if not isinstance(items, list):
        raise MalformedResponse(f"the {what} has items that are not a list")
    parsed = v1_posts(items, what)
    if parsed.unreadable and not parsed.posts:
        raise MalformedResponse(f"none of the {what}'s {parsed.unreadable} items could be read")
    next_id = data.get("next_max_id") if data.get("more_available") is True else None
    return parsed, str(next_id) if next_id else None


def parse_tag_top_posts(data: Any, tag: str, n: int) -> list[TagTopPost]:
    """The tags/web_info answer -> its top posts (the `top` grid; `recent` only if there is no top).

    A tile that hides its likes keeps `likes=None` (its placeholder count is not a count).
    """
    what = "hashtag answer"
    body = dig(data, "data", what)
    if not isinstance(body, dict):
        raise MalformedResponse(f"the {what} has no data")
    found: list[TagTopPost] = []
    seen: set[str] = set()
    for tab in ("top", "recent"):
        sections = optional(body, f"{tab}.sections", []) or []
        for section in sections if isinstance(sections, list) else []:
            for entry in optional(section, "layout_content.medias", []) or []:
                media = entry.get("media") if isinstance(entry, dict) else None
                if not isinstance(media, dict):
                    continue
                try:
                    post, url, owner = parse_v1_media(media, f"{what} post")
                except MalformedResponse:
                    continue  # one odd tile (an ad, a half-sent reel) must not lose the others
                if post.shortcode not in seen:
                    seen.add(post.shortcode)
                    found.append(TagTopPost(tag=tag, post=post, owner=owner, image_url=url))
        if found:
            break
    if not found and not any(isinstance(optional(body, f"{tab}.sections"), list) for tab in ("top", "recent")):
        raise MalformedResponse(f"the {what} has no top or recent sections")
    return found[:n]

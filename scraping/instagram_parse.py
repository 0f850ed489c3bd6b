"""Pure parsers for Instagram's web answers: profile JSON, v1 media items, tag pages and profile HTML.

Every field that matters is looked up by path; a missing one is a `MalformedResponse` naming that path,
never a KeyError. Fields that are nice to have (comments, caption, location) default quietly.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from bs4 import BeautifulSoup

from core.records import Account, Post
from scraping.base import FetchedAccount, TagTopPost
from scraping.datasets import MENTION_PATTERN, hashtags_in
from scraping.errors import AccountNotFound, MalformedResponse

COUNT_PATTERN = r"([\d][\d,.]*\s*[KkMmBb]?)"
META_COUNTS = re.compile(
    COUNT_PATTERN + r"\s+Followers?\s*,\s*" + COUNT_PATTERN + r"\s+Following\s*,\s*" + COUNT_PATTERN + r"\s+Posts?",
    re.IGNORECASE,
)
SUFFIX_FACTORS = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


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


def whole_number(value: Any, path: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise MalformedResponse(f"the {what} has no number at {path}")
    return int(value)


def optional(data: Any, path: str, default: Any = None) -> Any:
    try:
        return dig(data, path, "")
    except MalformedResponse:
        return default


def parse_count(text: str) -> int:
    """'1,234' -> 1234, '12.5K' -> 12500, '1.2M' -> 1200000."""
    cleaned = text.strip().replace(" ", "")
    factor = SUFFIX_FACTORS.get(cleaned[-1:].lower(), 1)
    number = cleaned[:-1] if factor > 1 else cleaned
    number = number.replace(",", "")
    try:
        value = float(number) if factor > 1 else float(number.replace(".", "") if number.count(".") > 1 else number)
    except ValueError:
        raise MalformedResponse(f"{text!r} is not a count") from None
    return int(round(value * factor))


def _caption_post(
    shortcode: str,
    taken_at: datetime,
    likes: int,
    comments: int | None,
    caption: str,
    is_multi_image: bool,
    is_video: bool,
    has_location: bool,
) -> Post:
    return Post(
        shortcode=shortcode,
        taken_at=taken_at,
        likes=likes,
        comments=comments,
        hashtags=hashtags_in(caption),
        mentions=len(MENTION_PATTERN.findall(caption)),
        caption_length=len(caption),
        is_multi_image=is_multi_image,
        is_video=is_video,
        has_location=has_location,
    )


def _timestamp(value: Any, path: str, what: str) -> datetime:
    seconds = whole_number(value, path, what)
    return datetime.fromtimestamp(seconds, tz=UTC)


# ---- the web app's GraphQL-shaped profile JSON ---------------------------------------------------


def parse_graph_post(node: Any, what: str = "post") -> tuple[Post, str | None]:
    """A `edge_owner_to_timeline_media.edges[].node` as a Post, with its photo's URL."""
    shortcode = dig(node, "shortcode", what)
    if not isinstance(shortcode, str) or not shortcode:
        raise MalformedResponse(f"the {what} has an empty shortcode")
    likes_value = optional(node, "edge_liked_by.count")
    if likes_value is None:
        likes_value = dig(node, "edge_media_preview_like.count", what)
    comments = optional(node, "edge_media_to_comment.count")
    caption = optional(node, "edge_media_to_caption.edges.0.node.text", "") or ""
    post = _caption_post(
        shortcode=shortcode,
        taken_at=_timestamp(dig(node, "taken_at_timestamp", what), "taken_at_timestamp", what),
        likes=whole_number(likes_value, "edge_liked_by.count", what),
        comments=comments if isinstance(comments, int) and comments >= 0 else None,
        caption=str(caption),
        is_multi_image=node.get("__typename") == "GraphSidecar",
        is_video=bool(node.get("is_video", False)),
        has_location=bool(node.get("location")),
    )
    url = node.get("display_url") or node.get("thumbnail_src")
    return post, url if isinstance(url, str) and url else None


def parse_profile_json(data: Any, handle: str, n_posts: int) -> tuple[FetchedAccount, str | None, bool]:
    """The web_profile_info answer -> (account with up to `n_posts` posts, user id, more posts exist)."""
    what = "profile answer"
    body = dig(data, "data", what)
    if not isinstance(body, dict) or "user" not in body:
        raise MalformedResponse(f"the {what} has no data.user")
    user = body["user"]
    if user is None:
        raise AccountNotFound(handle)
    if not isinstance(user, dict):
        raise MalformedResponse(f"the {what} has no data.user")
    prefix = "data.user."
    followers = whole_number(dig(user, "edge_followed_by.count", what), prefix + "edge_followed_by.count", what)
    following = whole_number(dig(user, "edge_follow.count", what), prefix + "edge_follow.count", what)
    media = dig(user, "edge_owner_to_timeline_media", what)
    posts_count = whole_number(dig(media, "count", what), prefix + "edge_owner_to_timeline_media.count", what)
    is_private = bool(user.get("is_private", False))
    posts: list[Post] = []
    urls: dict[str, str] = {}
    edges = media.get("edges") or [] if isinstance(media, dict) else []
    if not isinstance(edges, list):
        raise MalformedResponse(f"the {what} has posts that are not a list")
    for index, edge in enumerate(edges):
        post, url = parse_graph_post(optional(edge, "node"), f"{what} post {index + 1}")
        posts.append(post)
        if url:
            urls[post.shortcode] = url
    posts.sort(key=lambda p: p.taken_at, reverse=True)
    posts = posts[:n_posts]
    username = user.get("username") if isinstance(user.get("username"), str) else handle
    account = Account(username.lower(), followers, following, posts_count, tuple(posts), is_private)
    user_id = user.get("id")
    more = bool(optional(media, "page_info.has_next_page", False))
    return (
        FetchedAccount(account, {p.shortcode: urls[p.shortcode] for p in posts if p.shortcode in urls}),
        str(user_id) if user_id else None,
        more,
    )


# ---- the private-API-shaped media items (user feed, tag pages) -------------------------------------


def parse_v1_media(media: Any, what: str = "media item") -> tuple[Post, str | None, str | None]:
    """A v1 media item -> (Post, photo URL, owner username)."""
    shortcode = dig(media, "code", what)
    if not isinstance(shortcode, str) or not shortcode:
        raise MalformedResponse(f"the {what} has an empty code")
    comments = media.get("comment_count")
    media_type = media.get("media_type")
    caption = optional(media, "caption.text", "") or ""
    post = _caption_post(
        shortcode=shortcode,
        taken_at=_timestamp(dig(media, "taken_at", what), "taken_at", what),
        # Some accounts hide like counts: the item then has no like_count, which makes it useless here.
        likes=whole_number(dig(media, "like_count", what), "like_count", what),
        comments=comments if isinstance(comments, int) and comments >= 0 else None,
        caption=str(caption),
        is_multi_image=media_type == 8,
        is_video=media_type == 2,
        has_location=bool(media.get("location")),
    )
    url = optional(media, "image_versions2.candidates.0.url") or optional(
        media, "carousel_media.0.image_versions2.candidates.0.url"
    )
    owner = optional(media, "user.username")
    return post, url if isinstance(url, str) else None, owner.lower() if isinstance(owner, str) else None


def parse_feed_items(data: Any, what: str = "feed answer") -> tuple[list[tuple[Post, str | None]], str | None]:
    """A user feed page -> ([(post, url)], next_max_id or None)."""
    items = dig(data, "items", what)
    if not isinstance(items, list):
        raise MalformedResponse(f"the {what} has items that are not a list")
    parsed = []
    for index, item in enumerate(items):
        post, url, _ = parse_v1_media(item, f"{what} item {index + 1}")
        parsed.append((post, url))
    next_id = data.get("next_max_id") if data.get("more_available") else None
    return parsed, str(next_id) if next_id else None


def parse_tag_top_posts(data: Any, tag: str, n: int) -> list[TagTopPost]:
    """The tags/web_info answer -> its top posts (the `top` grid; `recent` only if there is no top)."""
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
                    continue  # one odd tile (a reel without likes, an ad) must not lose the others
                if post.shortcode not in seen:
                    seen.add(post.shortcode)
                    found.append(TagTopPost(tag=tag, post=post, owner=owner, image_url=url))
        if found:
            break
    if not found and not any(isinstance(optional(body, f"{tab}.sections"), list) for tab in ("top", "recent")):
        raise MalformedResponse(f"the {what} has no top or recent sections")
    return found[:n]


# ---- the profile page HTML (fallback: counts only) ------------------------------------------------


def parse_profile_html(html: str, handle: str) -> Account:
    """Counts from the page's `og:description` ("1,234 Followers, 56 Following, 78 Posts - ...")."""
    soup = BeautifulSoup(html, "html.parser")
    descriptions = [
        tag.get("content") or ""
        for tag in soup.find_all("meta")
        if tag.get("property") == "og:description" or tag.get("name") == "description"
    ]
    for text in descriptions:
        match = META_COUNTS.search(str(text))
        if match:
            followers, following, posts = (parse_count(g) for g in match.groups())
            is_private = '"is_private":true' in html.replace(" ", "")
            return Account(handle, followers, following, posts, (), is_private)
    raise MalformedResponse("the profile page has no follower counts")

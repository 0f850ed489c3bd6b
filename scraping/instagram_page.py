"""The profile page (`{base}/{handle}/`) as a fallback: the JSON it embeds first, its meta description last.

Instagram renders a public profile page with the results of the web app's queries embedded in
`<script type="application/json">` tags (instaloader reads profiles this way): the user (`xig_user_by_username`
or the legacy node) and often its first posts (`polaris_ordered_timeline_connection`,
`xdt_api__v1__feed__user_timeline_graphql_connection`, or `edge_owner_to_timeline_media`). Older pages put
the legacy node in `window._sharedData`. The meta description ("1,2 M Follower, 56 Gefolgt, 78 Beiträge -
...") gives the three counts in any language, in that order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup

from core.records import Account
from scraping.errors import MalformedResponse
from scraping.instagram_parse import ParsedPosts, account_of, graph_posts, optional, v1_posts

SHARED_DATA = re.compile(r"window\._sharedData\s*=\s*(\{.*?\});\s*</script>", re.DOTALL)
TIMELINE_KEYS = ("polaris_ordered_timeline_connection", "xdt_api__v1__feed__user_timeline_graphql_connection")
# A count as pages write it: "1,234", "1.234", "1 234", "12.5K", "1,2 M", "30.3m", "1,2 mil", "3,4 млн", "12万".
COUNT = re.compile(
    r"(\d(?:[\d.,\s\u00a0\u202f]*\d)?)\s*(mln|mio|mrd|mil|млн|млрд|тыс|bn|[kmb万億])?(?![a-zà-ÿа-я])",
    re.IGNORECASE,
)
SUFFIXES = {
    "k": 1_000,
    "тыс": 1_000,
    "mil": 1_000,
    "m": 1_000_000,
    "mln": 1_000_000,
    "mio": 1_000_000,
    "млн": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "mrd": 1_000_000_000,
    "млрд": 1_000_000_000,
    "万": 10_000,
    "億": 100_000_000,
}


def parse_count(text: str) -> int:
    """'1,234' -> 1234, '1.234' -> 1234, '12.5K' -> 12500, '1,2 M' -> 1200000, '30.3m' -> 30300000."""
    match = COUNT.fullmatch(text.strip())
    if match is None:
        raise MalformedResponse(f"{text!r} is not a count")
    digits, suffix = match.group(1), (match.group(2) or "").lower()
    return round(_number(digits, decimal_allowed=bool(suffix)) * SUFFIXES.get(suffix, 1))


def _number(digits: str, decimal_allowed: bool) -> float:
    compact = re.sub(r"[\s\u00a0\u202f]", "", digits)
    groups = re.split(r"[.,]", compact)
    if len(groups) == 1:
        return float(compact)
    # Separators followed by three digits group thousands; a last one followed by fewer (or any, before a
    # suffix like M) is the decimal mark, whichever of '.' and ',' the language uses.
    if decimal_allowed or len(groups[-1]) != 3:
        return float("".join(groups[:-1]) + "." + groups[-1])
    return float("".join(groups))


def counts_in_description(text: str) -> tuple[int, int, int] | None:
    """(followers, following, posts) from a meta description in any language, or None."""
    head = re.split(r"\s[-–—]\s", text, maxsplit=1)[0]
    found = [m.group(0) for m in COUNT.finditer(head)]
    if len(found) < 3:
        return None
    try:
        followers, following, posts = (parse_count(value) for value in found[:3])
    except MalformedResponse:
        return None
    return followers, following, posts


def embedded_json(html: str) -> Iterator[Any]:
    """Every JSON document the page embeds, in page order."""
    soup = BeautifulSoup(html, "html.parser")
    for script in soup.find_all("script"):
        text = script.string or ""
        if script.get("type") == "application/json":
            try:
                yield json.loads(text)
            except json.JSONDecodeError:
                continue
    for match in SHARED_DATA.finditer(html):
        try:
            yield json.loads(match.group(1))
        except json.JSONDecodeError:
            continue


def _dicts(data: Any) -> Iterator[dict[str, Any]]:
    stack = [data]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            stack.extend(reversed(current))


def _is_user(node: dict[str, Any], handle: str) -> bool:
    username = node.get("username")
    return (
        isinstance(username, str)
        and username.lower() == handle
        and any(key in node for key in ("edge_followed_by", "follower_count"))
    )


@dataclass(frozen=True)
class PageAnswer:
    account: Account  # posts newest first; none when the page showed only counts
    urls: dict[str, str]
    user_id: str | None
    from_embedded_json: bool


def parse_profile_page(html: str, handle: str, n_posts: int) -> PageAnswer:
    """The account as the page shows it: embedded JSON when there is some, else the meta description's counts."""
    user: dict[str, Any] = {}
    posts = ParsedPosts()
    for document in embedded_json(html):
        for node in _dicts(document):
            if _is_user(node, handle):
                user.update({k: v for k, v in node.items() if v is not None})
            for key in TIMELINE_KEYS:
                connection = node.get(key)
                if isinstance(connection, dict):
                    edges = [optional(edge, "node") for edge in connection.get("edges") or []]
                    _merge(posts, v1_posts(edges, "profile page", owner=handle))
    if user:
        _merge(posts, graph_posts(optional(user, "edge_owner_to_timeline_media.edges", []), "profile page"))
        kept = posts.newest(n_posts)
        account = account_of(user, handle, kept, "profile page")
        user_id = user.get("pk") or user.get("id")
        return PageAnswer(account, kept.urls, str(user_id) if user_id else None, True)
    return PageAnswer(_account_from_meta(html, handle), {}, None, False)


def _merge(into: ParsedPosts, more: ParsedPosts) -> None:
    for post in more.posts:
        into.add(post, more.urls.get(post.shortcode))
    into.unreadable += more.unreadable


def _account_from_meta(html: str, handle: str) -> Account:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all("meta"):
        if tag.get("property") == "og:description" or tag.get("name") == "description":
            counts = counts_in_description(str(tag.get("content") or ""))
            if counts is not None:
                followers, following, posts = counts
                is_private = '"is_private":true' in html.replace(" ", "")
                return Account(handle, followers, following, posts, (), is_private)
    raise MalformedResponse("the profile page has no follower counts")

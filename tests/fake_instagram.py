"""A local stand-in for instagram.com on 127.0.0.1: real sockets, pages in the shape of the real ones, and faults.

Tests script faults per route (`fake.fail("profile", Fault(status=500))`), then read what the server saw
(`fake.count("profile")`). Nothing here reaches the internet.
"""

from __future__ import annotations

import asyncio
import io
import json
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from PIL import Image

from scraping.http import HttpClient, RateLimiter, RetryPolicy
from scraping.instagram import InstagramWebSource

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class Fault:
    """One scripted answer: a status (with headers and body), a truncated body, or no answer until released."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    hang: bool = False
    truncate: bool = False  # a well-formed HTTP answer whose JSON stops halfway


@dataclass
class SeenRequest:
    route: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    cookies: dict[str, str]
    peer_port: int | None


def jpeg_bytes(colour: tuple[int, int, int], size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


LOGIN_WALL = b'{"message": "Please wait a few minutes before you try again.", "require_login": true, "status": "fail"}'
CHECKPOINT = (
    b'{"message": "checkpoint_required", "checkpoint_url": "/challenge/123/abc/", "lock": false, "status": "fail"}'
)
USERAGENT_MISMATCH = b'{"message": "useragent mismatch", "status": "fail"}'


def graph_node(
    shortcode: str,
    days_ago: float,
    likes: int,
    comments: int | None = 3,
    caption: str = "",
    image: str | None = None,
    typename: str = "GraphImage",
    is_video: bool = False,
    like_key: str = "edge_liked_by",
    location: bool = False,
    slides: int = 0,
) -> dict[str, Any]:
    """A post as `edge_owner_to_timeline_media.edges[].node` of web_profile_info (likes -1: hidden)."""
    node: dict[str, Any] = {
        "__typename": typename,
        "id": str(zlib.crc32(shortcode.encode())),
        "shortcode": shortcode,
        "taken_at_timestamp": int((BASE_TIME - timedelta(days=days_ago)).timestamp()),
        like_key: {"count": likes},
        "edge_media_to_caption": {"edges": [{"node": {"text": caption}}] if caption else []},
        "is_video": is_video,
        "location": {"id": "1", "name": "Somewhere"} if location else None,
    }
    if slides:
        node["edge_sidecar_to_children"] = {
            "edges": [{"node": {"__typename": "GraphImage", "display_url": f"x{i}"}} for i in range(slides)]
        }
    if comments is not None:
        node["edge_media_to_comment"] = {"count": comments}
    if image is not None:
        node["display_url"] = image
    return node


def profile_json(
    username: str,
    followers: int,
    following: int,
    posts_count: int,
    nodes: list[dict[str, Any]],
    is_private: bool = False,
    user_id: str = "4242",
    has_next_page: bool = False,
) -> dict[str, Any]:
    """The web_profile_info answer, trimmed to the fields that matter, in the same nesting."""
    return {
        "data": {
            "user": {
                "id": user_id,
                "username": username,
                "full_name": username.title(),
                "is_private": is_private,
                "edge_followed_by": {"count": followers},
                "edge_follow": {"count": following},
                "edge_owner_to_timeline_media": {
                    "count": posts_count,
                    "page_info": {"has_next_page": has_next_page, "end_cursor": "QVFC" if has_next_page else None},
                    "edges": [] if is_private else [{"node": n} for n in nodes],
                },
            }
        },
        "status": "ok",
    }


def v1_media(
    code: str,
    days_ago: float,
    likes: int,
    owner: str,
    caption: str = "",
    comments: int = 2,
    image: str | None = None,
    media_type: int = 1,
    hidden: bool = False,
) -> dict[str, Any]:
    """A media item as the feed and tag endpoints send it; `hidden` as Instagram sends a hidden count."""
    media: dict[str, Any] = {
        "pk": str(zlib.crc32(code.encode())),
        "code": code,
        "taken_at": int((BASE_TIME - timedelta(days=days_ago)).timestamp()),
        "media_type": media_type,
        "like_count": likes,
        "comment_count": comments,
        "caption": {"text": caption} if caption else None,
        "user": {"username": owner, "pk": "1"},
        "like_and_view_counts_disabled": hidden,
    }
    if image is not None:
        media["image_versions2"] = {"candidates": [{"url": image, "width": 1080, "height": 1080}]}
    return media


def tag_json(top: list[dict[str, Any]], recent: list[dict[str, Any]] = ()) -> dict[str, Any]:
    def sections(medias: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [medias[i : i + 3] for i in range(0, len(medias), 3)]
        return [
            {"layout_type": "media_grid", "layout_content": {"medias": [{"media": m} for m in row]}} for row in rows
        ]

    return {
        "data": {
            "name": "tag",
            "media_count": 1000,
            "top": {"sections": sections(list(top))},
            "recent": {"sections": sections(list(recent))},
        },
        "status": "ok",
    }


def profile_html(followers: str | None, following: str = "56", posts: str = "78", username: str = "someone") -> str:
    """The profile page head; `followers=None` leaves out the meta tag, as a changed page would."""
    meta = (
        f'<meta property="og:description" content="{followers} Followers, {following} Following, {posts} Posts'
        f' - See Instagram photos and videos from {username.title()} (@{username})" />'
        if followers is not None
        else '<meta property="og:title" content="Instagram" />'
    )
    return f"<!DOCTYPE html><html><head><title>@{username}</title>{meta}</head><body><div id=root></div></body></html>"


def profile_page_with_json(user: dict[str, Any], items: list[dict[str, Any]], description: str = "") -> str:
    """A profile page as Instagram renders it logged out: the web app's query results embedded as JSON.

    `user` is the `xig_user_by_username` node (v1 field names); `items` its first posts as v1 media items.
    Each result sits where instaloader's `get_page_data` finds it: `...__bbox.result.data` in a
    `<script type="application/json">`, inside the ScheduledServerJS / RelayPrefetchedStreamCache wrapping.
    """

    def script(data: dict[str, Any]) -> str:
        result = {"__bbox": {"complete": True, "result": {"data": data, "extensions": {}}}}
        prefetched = ["RelayPrefetchedStreamCache", "next", [], ["adp_PolarisProfilePageContentQuery", result]]
        document = {"require": [["ScheduledServerJS", "handle", None, [{"__bbox": {"require": [prefetched]}}]]]}
        return f'<script type="application/json" data-sjs>{json.dumps(document)}</script>'

    timeline = {"edges": [{"node": item} for item in items], "page_info": {"has_next_page": False}}
    posts = {"username": user["username"], "polaris_ordered_timeline_connection": timeline}
    scripts = script({"xig_user_by_username": user}) + script({"xig_user_by_username": posts})
    meta = f'<meta property="og:description" content="{description}" />' if description else ""
    return f"<!DOCTYPE html><html><head>{meta}</head><body>{scripts}</body></html>"


class FakeInstagram:
    """The routes the web source uses, served from dicts the test fills in."""

    def __init__(self) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, str] = {}
        self.feeds: dict[str, list[dict[str, Any]]] = {}  # user id -> feed pages
        self.tags: dict[str, dict[str, Any]] = {}
        self.images: dict[str, bytes] = {}
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.requests: list[SeenRequest] = []
        self.held: dict[str, asyncio.Event] = {}
        self.arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.release_all = asyncio.Event()
        self.base_url = ""

    def image_url(self, name: str) -> str:
        return f"{self.base_url}/images/{name}.jpg"

    def fail(self, route: str, *faults: Fault) -> None:
        self.faults[route].extend(faults)

    def hold(self, route: str) -> None:
        """Answer nothing on `route` until `release(route)`."""
        self.held[route] = asyncio.Event()

    def release(self, route: str) -> None:
        self.held.pop(route).set()

    def count(self, route: str) -> int:
        return sum(1 for r in self.requests if r.route == route)

    def seen(self, route: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.route == route]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/users/web_profile_info/", self._route("profile", self._profile))
        app.router.add_get("/api/v1/feed/user/{user_id}/", self._route("feed", self._feed))
        app.router.add_get("/api/v1/tags/web_info/", self._route("tag", self._tag))
        app.router.add_get("/images/{name}.jpg", self._route("image", self._image))
        app.router.add_get("/accounts/login/", self._route("login", self._login))
        app.router.add_get("/challenge/{rest:.*}", self._route("challenge", self._login))
        app.router.add_get("/{handle}/", self._route("page", self._page))
        return app

    def _route(self, route: str, answer: Any) -> Any:
        async def handler(request: web.Request) -> web.StreamResponse:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.requests.append(
                SeenRequest(
                    route,
                    request.path,
                    dict(request.query),
                    CIMultiDict(request.headers),
                    dict(request.cookies),
                    peer[1] if peer else None,
                )
            )
            self.arrived[route].set()
            if route in self.held:
                await self.held[route].wait()
            if self.faults[route]:
                return await self._fault(self.faults[route].pop(0), request, answer)
            return await answer(request)

        return handler

    async def _fault(self, fault: Fault, request: web.Request, answer: Any) -> web.StreamResponse:
        if fault.hang:
            await self.release_all.wait()
            return web.Response(status=504)
        if fault.truncate:
            full = await answer(request)
            body = full.body
            return web.Response(status=200, body=body[: len(body) // 2], content_type="application/json")
        return web.Response(
            status=fault.status, headers=fault.headers, body=fault.body or b"{}", content_type="application/json"
        )

    async def _profile(self, request: web.Request) -> web.Response:
        username = request.query.get("username", "")
        if username not in self.profiles:
            return web.json_response({"message": "User not found", "status": "fail"}, status=404)
        return web.json_response(self.profiles[username])

    async def _feed(self, request: web.Request) -> web.Response:
        pages = self.feeds.get(request.match_info["user_id"])
        if not pages:
            return web.json_response({"message": "no feed"}, status=404)
        index = int(request.query.get("max_id", "0"))
        more = index + 1 < len(pages)
        return web.json_response(
            {
                "items": pages[index],
                "more_available": more,
                "next_max_id": str(index + 1) if more else None,
                "status": "ok",
            }
        )

    async def _tag(self, request: web.Request) -> web.Response:
        tag = request.query.get("tag_name", "")
        if tag not in self.tags:
            return web.json_response({"message": "not found"}, status=404)
        return web.json_response(self.tags[tag])

    async def _image(self, request: web.Request) -> web.Response:
        data = self.images.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    async def _login(self, request: web.Request) -> web.Response:
        return web.Response(text="<html><head><title>Login</title></head></html>", content_type="text/html")

    async def _page(self, request: web.Request) -> web.Response:
        handle = request.match_info["handle"]
        if handle not in self.pages:
            return web.Response(status=404, text="Page not found", content_type="text/html")
        return web.Response(text=self.pages[handle], content_type="text/html")


@asynccontextmanager
async def running_fake_instagram() -> AsyncIterator[FakeInstagram]:
    fake = FakeInstagram()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        fake.release_all.set()
        for event in fake.held.values():
            event.set()
        await runner.cleanup()


class RecordedSleep:
    """Stands in for asyncio.sleep: remembers each delay asked for and yields without waiting it out.

    Given a FakeClock, it moves that clock on by the delay, as a real sleep would.
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.delays: list[float] = []
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.clock is not None:
            self.clock.now += seconds
        await asyncio.sleep(0)


class FakeClock:
    """A monotonic clock that moves only when told to, or when a RecordedSleep sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def make_client(
    sleep: RecordedSleep,
    timeout: float = 10.0,
    attempts: int = 3,
    max_wait: float = 15.0,
    requests_per_minute: float = 600.0,
    clock: FakeClock | None = None,
) -> HttpClient:
    clock = clock or FakeClock()
    return HttpClient(
        timeout_seconds=timeout,
        requests_per_minute=requests_per_minute,
        retry=RetryPolicy(attempts=attempts, base_delay=0.5, max_delay=8.0, max_wait=max_wait),
        sleep=sleep,
        rand=lambda: 0.5,
        clock=clock,
        # Its own recorder, so back-off delays and the per-host pace can be told apart.
        limiter=RateLimiter(requests_per_minute, clock=clock, sleep=RecordedSleep()),
        media_limiter=RateLimiter(requests_per_minute, clock=clock, sleep=RecordedSleep()),
    )


def web_source(fake: FakeInstagram, client: HttpClient, session_id: str | None = None) -> InstagramWebSource:
    return InstagramWebSource(client, base_url=fake.base_url, session_id=session_id)

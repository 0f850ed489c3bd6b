"""Instagram's public web endpoints: the profile JSON the web app calls, the profile page as a fallback."""

from __future__ import annotations

import logging

from core.records import Account, Post
from scraping.base import RECENT_POSTS, TAG_TOP_POSTS, FetchedAccount, TagTopPost
from scraping.errors import AccountNotFound, MalformedResponse, SourceUnavailable
from scraping.http import HttpClient, HttpResponse
from scraping.instagram_parse import (
    parse_feed_items,
    parse_json,
    parse_profile_html,
    parse_profile_json,
    parse_tag_top_posts,
)

log = logging.getLogger(__name__)

API_BASE_URL = "https://i.instagram.com"
WEB_BASE_URL = "https://www.instagram.com"
WEB_APP_ID = "936619743392459"  # the id instagram.com's own web app sends as x-ig-app-id
MAX_IMAGE_BYTES = 15 * 1024 * 1024
MAX_FEED_PAGES = 3


class LoginWall(SourceUnavailable):
    """Instagram answered with its login page instead of data."""

    def __init__(self) -> None:
        super().__init__("it asks for a login; an operator can set LIKEPREDICT_INSTAGRAM_SESSIONID")


class InstagramWebSource:
    """Profiles, recent posts and tag top posts from instagram.com. Base URLs are parameters (tests use 127.0.0.1)."""

    name = "instagram"
    live = True

    def __init__(
        self,
        http: HttpClient,
        api_base_url: str = API_BASE_URL,
        web_base_url: str = WEB_BASE_URL,
        session_id: str | None = None,
    ) -> None:
        self.http = http
        self.api_base_url = api_base_url.rstrip("/")
        self.web_base_url = web_base_url.rstrip("/")
        self.session_id = session_id

    def _api_headers(self) -> dict[str, str]:
        return {
            "x-ig-app-id": WEB_APP_ID,
            "Accept": "application/json",
            "X-Requested-With": "XMLHttpRequest",
            "Referer": self.web_base_url + "/",
        }

    def _cookies(self) -> dict[str, str] | None:
        return {"sessionid": self.session_id} if self.session_id else None

    async def _api_get(self, path: str, params: dict[str, str]) -> HttpResponse:
        response = await self.http.get(
            self.api_base_url + path, params=params, headers=self._api_headers(), cookies=self._cookies()
        )
        if "/accounts/login" in response.url or response.status in (401, 403):
            raise LoginWall()
        return response

    # ---- accounts -----------------------------------------------------------------------------

    async def fetch_account(self, handle: str, n_posts: int = RECENT_POSTS) -> FetchedAccount:
        try:
            response = await self._api_get("/api/v1/users/web_profile_info/", {"username": handle})
            if response.status == 404:
                raise AccountNotFound(handle)
            if response.status != 200:
                raise MalformedResponse(f"the profile answer had status {response.status}")
            fetched, user_id, more = parse_profile_json(parse_json(response.body, "profile answer"), handle, n_posts)
        except (MalformedResponse, LoginWall) as error:
            log.info("profile JSON for @%s unusable (%s); reading the profile page instead", handle, error)
            return FetchedAccount(await self._fetch_profile_page(handle, error))
        if (
            more
            and len(fetched.account.posts) < n_posts
            and self.session_id
            and user_id
            and not fetched.account.is_private
        ):
            fetched = await self._with_feed_posts(fetched, user_id, n_posts)
        return fetched

    async def _fetch_profile_page(self, handle: str, json_error: Exception) -> Account:
        response = await self.http.get(f"{self.web_base_url}/{handle}/", cookies=self._cookies())
        if response.status == 404:
            raise AccountNotFound(handle)
        if "/accounts/login" in response.url or response.status != 200:
            raise json_error
        try:
            return parse_profile_html(response.text, handle)
        except MalformedResponse:
            raise json_error from None

    async def _with_feed_posts(self, fetched: FetchedAccount, user_id: str, n_posts: int) -> FetchedAccount:
        """The profile answer has 12 posts at most; a logged-in feed request gives the rest."""
        posts: list[Post] = []
        urls: dict[str, str] = {}
        max_id: str | None = None
        try:
            for _ in range(MAX_FEED_PAGES):
                params = {"count": str(n_posts)} | ({"max_id": max_id} if max_id else {})
                response = await self._api_get(f"/api/v1/feed/user/{user_id}/", params)
                if response.status != 200:
                    raise MalformedResponse(f"the feed answer had status {response.status}")
                page, max_id = parse_feed_items(parse_json(response.body, "feed answer"))
                for post, url in page:
                    posts.append(post)
                    if url:
                        urls[post.shortcode] = url
                if len(posts) >= n_posts or max_id is None:
                    break
        except (MalformedResponse, LoginWall) as error:
            log.info("feed of user %s unusable (%s); keeping the profile's posts", user_id, error)
            return fetched
        if len(posts) <= len(fetched.account.posts):
            return fetched
        newest = tuple(sorted(posts, key=lambda p: p.taken_at, reverse=True)[:n_posts])
        a = fetched.account
        account = Account(a.handle, a.followers, a.following, a.posts_count, newest, a.is_private)
        return FetchedAccount(account, {p.shortcode: urls[p.shortcode] for p in newest if p.shortcode in urls})

    async def fetch_recent_posts(self, handle: str, n: int = RECENT_POSTS) -> list[Post]:
        return list((await self.fetch_account(handle, n)).account.posts)

    # ---- hashtags and photos ------------------------------------------------------------------

    async def fetch_tag_top_posts(self, tag: str, n: int = TAG_TOP_POSTS) -> list[TagTopPost]:
        response = await self._api_get("/api/v1/tags/web_info/", {"tag_name": tag})
        if response.status == 404:
            return []
        if response.status != 200:
            raise MalformedResponse(f"the hashtag answer had status {response.status}")
        return parse_tag_top_posts(parse_json(response.body, "hashtag answer"), tag, n)

    async def download_image(self, url: str) -> bytes:
        response = await self.http.get(url, max_bytes=MAX_IMAGE_BYTES, media=True)
        content_type = response.headers.get("Content-Type", "")
        if response.status != 200 or not content_type.startswith("image/"):
            raise MalformedResponse(f"the photo answer had status {response.status} and type {content_type or 'none'}")
        return response.body

    async def aclose(self) -> None:
        await self.http.aclose()

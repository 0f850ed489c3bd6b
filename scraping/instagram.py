"""Instagram's web endpoints as the maintained clients (instaloader 4.16, instagrapi) call them today.

Every request goes to one base URL (`LIKEPREDICT_INSTAGRAM_URL`, default https://www.instagram.com):

* the profile: `GET {base}/api/v1/users/web_profile_info/?username=NAME` with the web app's id
  (`X-IG-App-ID: 936619743392459`) and the headers a desktop Chrome sends with it; the answer is the legacy
  user node with its first 12 posts in `edge_owner_to_timeline_media`;
* more posts, with a session cookie: `GET {base}/api/v1/feed/user/{id}/?count=12&max_id=...` (v1 items);
* the fallback: the profile page `{base}/NAME/`, read for the JSON it embeds, then its meta description;
* hashtags: `GET {base}/api/v1/tags/web_info/?tag_name=TAG` (sections of v1 items).

An answer without posts where the account has some (a login wall, a checkpoint, a refusal, counts only)
raises `NoPostsVisible`, so it is never taken for the account's real state.
"""

from __future__ import annotations

import logging

from core.records import Account, Post
from scraping.base import RECENT_POSTS, TAG_TOP_POSTS, FetchedAccount, TagTopPost
from scraping.errors import (
    AccountNotFound,
    MalformedResponse,
    NoPostsReason,
    NoPostsVisible,
    RateLimited,
    SourceUnavailable,
)
from scraping.http import BROWSER_USER_AGENT, CHROME_VERSION, HttpClient, HttpResponse
from scraping.instagram_page import PageAnswer, parse_profile_page
from scraping.instagram_parse import (
    ParsedPosts,
    ProfileAnswer,
    parse_feed_items,
    parse_json,
    parse_profile_json,
    parse_tag_top_posts,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.instagram.com"
WEB_APP_ID = "936619743392459"  # the id instagram.com's own web app sends as X-IG-App-ID
# What that browser says about itself alongside the user agent; a mismatch is what Instagram refuses.
BROWSER_HEADERS = {
    "Accept-Language": "en-US,en;q=0.9",
    "sec-ch-ua": f'"Chromium";v="{CHROME_VERSION}", "Google Chrome";v="{CHROME_VERSION}", "Not_A Brand";v="99"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Windows"',
}
MAX_IMAGE_BYTES = 15 * 1024 * 1024
MAX_FEED_PAGES = 3
FEED_PAGE_SIZE = 12
CHECKPOINT_MESSAGES = {"checkpoint_required", "challenge_required", "feedback_required"}


class Refused(Exception):
    """An answer that is not data: why, and the HTTP status. Internal: becomes NoPostsVisible or a fallback."""

    def __init__(self, reason: NoPostsReason, status: int | None) -> None:
        super().__init__(f"{reason} ({status})")
        self.reason: NoPostsReason = reason
        self.status = status


def refusal(response: HttpResponse) -> Refused | None:
    """A login wall, a checkpoint or a refusal in an answer, whatever its status; None for data."""
    if "/accounts/login" in response.url:
        return Refused("login_wall", response.status)
    if "/challenge" in response.url:
        return Refused("checkpoint", response.status)
    message = ""
    if response.body[:1] == b"{":
        try:
            body = parse_json(response.body, "answer")
        except MalformedResponse:
            body = None
        if isinstance(body, dict):
            message = str(body.get("message") or "")
            if message in CHECKPOINT_MESSAGES or body.get("checkpoint_url"):
                return Refused("checkpoint", response.status)
            if body.get("require_login") is True or message == "login_required":
                return Refused("login_wall", response.status)
    if response.status == 401:
        return Refused("login_wall", 401)
    if response.status in (400, 403):
        return Refused("refused", response.status)
    return None


class InstagramWebSource:
    """Profiles, recent posts and tag top posts from instagram.com (or whatever `base_url` names)."""

    name = "instagram"
    live = True

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_BASE_URL, session_id: str | None = None) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.session_id = session_id

    def _api_headers(self, referer: str) -> dict[str, str]:
        return {
            **BROWSER_HEADERS,
            "User-Agent": BROWSER_USER_AGENT,
            "Accept": "*/*",
            "X-IG-App-ID": WEB_APP_ID,
            "X-ASBD-ID": "129477",
            "X-IG-WWW-Claim": "0",
            "X-Requested-With": "XMLHttpRequest",
            "Referer": referer,
            "Sec-Fetch-Dest": "empty",
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Site": "same-origin",
        }

    def _page_headers(self) -> dict[str, str]:
        return {
            **BROWSER_HEADERS,
            "User-Agent": BROWSER_USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Sec-Fetch-Dest": "document",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Site": "none",
        }

    def _cookies(self) -> dict[str, str] | None:
        return {"sessionid": self.session_id} if self.session_id else None

    async def _api_get(
        self, path: str, params: dict[str, str], endpoint: str, referer: str, until: float | None = None
    ) -> HttpResponse:
        return await self.http.get(
            self.base_url + path,
            params=params,
            headers=self._api_headers(referer),
            cookies=self._cookies(),
            endpoint=endpoint,
            wait_until=until,
        )

    # ---- accounts -----------------------------------------------------------------------------

    async def fetch_account(self, handle: str, n_posts: int = RECENT_POSTS) -> FetchedAccount:
        referer = f"{self.base_url}/{handle}/"
        until = self.http.clock() + self.http.retry.max_wait  # one wait limit for all of this answer's requests
        why: Refused | MalformedResponse
        try:
            answer = await self._profile_answer(handle, n_posts, referer, until)
        except (Refused, MalformedResponse) as error:
            log.info("profile API for @%s gave no data (%s); reading the profile page", handle, error)
            why = error
        else:
            account = answer.fetched.account
            if account.posts or account.is_private or account.posts_count == 0:
                if answer.more and len(account.posts) < n_posts and self.session_id and answer.user_id:
                    return await self._with_feed_posts(answer.fetched, answer.user_id, n_posts, referer, until)
                return answer.fetched
            why = Refused("counts_only", 200)
        page = await self._page_or_none(handle, n_posts, until)
        if page is not None and (page.account.posts or page.account.is_private or page.account.posts_count == 0):
            return FetchedAccount(page.account, page.urls)
        if isinstance(why, MalformedResponse) and page is None:
            raise why
        reason = why.reason if isinstance(why, Refused) else "counts_only"
        status = why.status if isinstance(why, Refused) and why.status != 200 else None
        followers = page.account.followers if page is not None else None
        raise NoPostsVisible(handle, reason, status, followers, with_session=self.session_id is not None)

    async def _profile_answer(self, handle: str, n_posts: int, referer: str, until: float) -> ProfileAnswer:
        response = await self._api_get(
            "/api/v1/users/web_profile_info/", {"username": handle}, "web_profile_info", referer, until
        )
        if response.status == 404:
            raise AccountNotFound(handle)
        refused = refusal(response)
        if refused is not None:
            raise refused
        if response.status != 200:
            raise MalformedResponse(f"the profile answer had status {response.status}")
        return parse_profile_json(parse_json(response.body, "profile answer"), handle, n_posts)

    async def _page_or_none(self, handle: str, n_posts: int, until: float) -> PageAnswer | None:
        """The profile page's account, or None when the page is refused or says nothing readable."""
        response = await self.http.get(
            f"{self.base_url}/{handle}/",
            headers=self._page_headers(),
            cookies=self._cookies(),
            endpoint="page",
            wait_until=until,
        )
        if response.status == 404:
            raise AccountNotFound(handle)
        if response.status != 200 or refusal(response) is not None:
            return None
        try:
            return parse_profile_page(response.text, handle, n_posts)
        except MalformedResponse as error:
            log.info("profile page of @%s unreadable: %s", handle, error)
            return None

    async def _with_feed_posts(
        self, fetched: FetchedAccount, user_id: str, n_posts: int, referer: str, until: float
    ) -> FetchedAccount:
        """The profile answer has 12 posts at most; a logged-in feed request gives the rest (if it can, in time)."""
        collected = ParsedPosts()
        max_id: str | None = None
        try:
            for _ in range(MAX_FEED_PAGES):
                params = {"count": str(FEED_PAGE_SIZE)} | ({"max_id": max_id} if max_id else {})
                response = await self._api_get(f"/api/v1/feed/user/{user_id}/", params, "feed_user", referer, until)
                refused = refusal(response)
                if refused is not None:
                    raise refused
                if response.status != 200:
                    raise MalformedResponse(f"the feed answer had status {response.status}")
                page, max_id = parse_feed_items(parse_json(response.body, "feed answer"))
                for post in page.posts:
                    collected.add(post, page.urls.get(post.shortcode))
                if len(collected.posts) >= n_posts or max_id is None:
                    break
        except (MalformedResponse, Refused, RateLimited, SourceUnavailable) as error:
            log.info("feed of user %s unusable (%s); keeping the profile's posts", user_id, error)
            if not collected.posts:
                return fetched
        for post in fetched.account.posts:
            collected.add(post, fetched.image_urls.get(post.shortcode))
        newest = collected.newest(n_posts)
        a = fetched.account
        return FetchedAccount(
            Account(a.handle, a.followers, a.following, a.posts_count, tuple(newest.posts)), newest.urls
        )

    async def fetch_recent_posts(self, handle: str, n: int = RECENT_POSTS) -> list[Post]:
        return list((await self.fetch_account(handle, n)).account.posts)

    # ---- hashtags and photos ------------------------------------------------------------------

    async def fetch_tag_top_posts(self, tag: str, n: int = TAG_TOP_POSTS) -> list[TagTopPost]:
        response = await self._api_get(
            "/api/v1/tags/web_info/", {"tag_name": tag}, "tags_web_info", f"{self.base_url}/explore/tags/{tag}/"
        )
        if response.status == 404:
            return []
        refused = refusal(response)
        if refused is not None:
            raise SourceUnavailable(f"the hashtag answer was refused: {refused}")
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

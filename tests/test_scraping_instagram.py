"""The Instagram web source against a local server serving answers in the shape of the real ones.

The shapes follow what instaloader 4.16 and instagrapi read: the legacy user node of web_profile_info,
v1 media items of the user feed and hashtag sections, and the JSON a logged-out profile page embeds.
Long (~430 lines): one short test per answer Instagram can give (walls, limits, hidden likes, languages).
"""

import json

import pytest

from bot.texts import explain
from scraping.errors import AccountNotFound, MalformedResponse, NoPostsVisible, RateLimited
from scraping.instagram import WEB_APP_ID
from scraping.instagram_page import counts_in_description, parse_count
from tests.fake_instagram import (
    CHECKPOINT,
    LOGIN_WALL,
    USERAGENT_MISMATCH,
    FakeClock,
    Fault,
    RecordedSleep,
    graph_node,
    jpeg_bytes,
    make_client,
    profile_html,
    profile_json,
    profile_page_with_json,
    running_fake_instagram,
    tag_json,
    v1_media,
    web_source,
)


@pytest.fixture
async def fake():
    async with running_fake_instagram() as server:
        server.images["p0"] = jpeg_bytes((200, 40, 40))
        server.profiles["sunny.day"] = profile_json(
            "sunny.day",
            followers=12_345,
            following=321,
            posts_count=87,
            nodes=[
                graph_node("p1", days_ago=3, likes=150, comments=4, caption="Dawn #Sunrise #beach with @pal"),
                graph_node(
                    "p0",
                    days_ago=1,
                    likes=210,
                    comments=None,
                    caption="hello",
                    image=server.image_url("p0"),
                    location=True,
                ),
                graph_node("p2", days_ago=5, likes=90, like_key="edge_media_preview_like", typename="GraphSidecar"),
                graph_node("p3", days_ago=8, likes=40, typename="GraphVideo", is_video=True),
            ],
        )
        yield server


@pytest.fixture
async def source(fake):
    web = web_source(fake, make_client(RecordedSleep()))
    yield web
    await web.aclose()


async def test_profile_json_gives_counts_and_posts_newest_first(fake, source):
    fetched = await source.fetch_account("sunny.day")
    account = fetched.account
    assert (account.handle, account.followers, account.following, account.posts_count) == ("sunny.day", 12_345, 321, 87)
    assert [p.shortcode for p in account.posts] == ["p0", "p1", "p2", "p3"]
    p0, p1, p2, p3 = account.posts
    assert (p1.likes, p1.comments, p1.hashtags, p1.mentions) == (150, 4, ("sunrise", "beach"), 1)
    assert p1.caption_length == len("Dawn #Sunrise #beach with @pal")
    assert p0.comments is None and p0.has_location
    assert p2.likes == 90 and p2.is_multi_image
    assert p3.is_video and not p3.is_multi_image
    assert fetched.image_urls == {"p0": fake.image_url("p0")}
    assert fake.count("profile") == 1 and fake.count("page") == 0


async def test_the_request_goes_to_the_base_url_with_the_web_app_headers(fake, source):
    await source.fetch_account("sunny.day")
    request = fake.seen("profile")[0]
    assert request.path == "/api/v1/users/web_profile_info/"
    assert request.query == {"username": "sunny.day"}
    headers = request.headers
    assert headers["X-IG-App-ID"] == WEB_APP_ID == "936619743392459"
    agent = headers["User-Agent"]
    assert agent.startswith("Mozilla/5.0 (Windows NT 10.0; Win64; x64)") and "Chrome/142." in agent
    assert '"Google Chrome";v="142"' in headers["sec-ch-ua"] and headers["sec-ch-ua-platform"] == '"Windows"'
    assert headers["X-Requested-With"] == "XMLHttpRequest" and headers["X-IG-WWW-Claim"] == "0"
    assert headers["Referer"] == f"{fake.base_url}/sunny.day/" and headers["Sec-Fetch-Site"] == "same-origin"
    assert request.cookies == {}


async def test_a_session_cookie_is_sent_when_configured(fake):
    web = web_source(fake, make_client(RecordedSleep()), session_id="abc123")
    try:
        await web.fetch_account("sunny.day")
    finally:
        await web.aclose()
    assert fake.seen("profile")[0].cookies == {"sessionid": "abc123"}


async def test_n_posts_keeps_only_the_newest(source):
    posts = await source.fetch_recent_posts("sunny.day", n=2)
    assert [p.shortcode for p in posts] == ["p0", "p1"]


async def test_an_unknown_account_is_account_not_found(fake, source):
    with pytest.raises(AccountNotFound, match="@nobody_here"):
        await source.fetch_account("nobody_here")
    assert fake.count("profile") == 1  # a 404 is an answer, not a fault: no retry


async def test_a_null_user_is_account_not_found(fake, source):
    fake.profiles["gone"] = {"data": {"user": None}, "status": "ok"}
    with pytest.raises(AccountNotFound):
        await source.fetch_account("gone")


async def test_a_private_account_comes_back_marked_private_without_posts(fake, source):
    fake.profiles["shy"] = profile_json("shy", 800, 90, 33, nodes=[graph_node("x", 1, 5)], is_private=True)
    account = (await source.fetch_account("shy")).account
    assert account.is_private and account.posts == () and account.followers == 800


async def test_truncated_json_and_a_page_with_counts_only_is_no_posts_visible(fake, source):
    fake.fail("profile", Fault(truncate=True))
    fake.pages["sunny.day"] = profile_html("1.2M", "1,234", "12.5K", username="sunny.day")
    with pytest.raises(NoPostsVisible) as caught:
        await source.fetch_account("sunny.day")
    assert (caught.value.reason, caught.value.followers) == ("counts_only", 1_200_000)
    assert fake.count("profile") == 1 and fake.count("page") == 1


async def test_truncated_json_and_a_page_without_the_meta_tag_is_malformed(fake, source):
    fake.fail("profile", Fault(truncate=True))
    fake.pages["sunny.day"] = profile_html(None, username="sunny.day")
    with pytest.raises(MalformedResponse, match="not complete JSON"):
        await source.fetch_account("sunny.day")


async def test_a_missing_count_is_a_clear_error_naming_it(fake, source):
    broken = profile_json("odd", 10, 10, 10, nodes=[graph_node("a", 1, 5)])
    del broken["data"]["user"]["edge_followed_by"]
    fake.profiles["odd"] = broken
    fake.pages["odd"] = profile_html(None, username="odd")
    with pytest.raises(MalformedResponse, match="edge_followed_by.count"):
        await source.fetch_account("odd")
    assert fake.count("page") == 1  # the page was tried first, and had nothing


async def test_one_unreadable_post_is_left_out_and_the_others_kept(fake, source):
    broken = graph_node("broken", 1, 5)
    del broken["taken_at_timestamp"]
    fake.profiles["odd"] = profile_json("odd", 10, 10, 10, nodes=[broken, graph_node("fine", 2, 7)])
    account = (await source.fetch_account("odd")).account
    assert [p.shortcode for p in account.posts] == ["fine"]


@pytest.mark.parametrize(
    "hide",
    [
        pytest.param(lambda node: node.update(edge_liked_by={"count": -1}), id="-1 when logged in"),
        pytest.param(lambda node: node.pop("edge_liked_by"), id="no count at all"),
        pytest.param(lambda node: node.update(like_and_view_counts_disabled=True), id="like_and_view_counts_disabled"),
        pytest.param(lambda node: node.update(hide_like_and_view_counts=True), id="hide_like_and_view_counts"),
    ],
)
async def test_a_post_hiding_its_likes_is_kept_without_a_count_and_the_others_keep_theirs(fake, source, hide):
    nodes = [graph_node("shown", 1, 120, caption="#sunset"), graph_node("hidden", 2, 3, caption="#beach @pal")]
    hide(nodes[1])
    fake.profiles["coy"] = profile_json("coy", 900, 10, 2, nodes=nodes)
    account = (await source.fetch_account("coy")).account
    shown, hidden = account.posts
    assert (shown.shortcode, shown.likes) == ("shown", 120)
    assert (hidden.shortcode, hidden.likes, hidden.hashtags, hidden.mentions) == ("hidden", None, ("beach",), 1)
    assert fake.count("page") == 0  # one hidden count no longer throws the whole answer away


async def test_carousels_keep_their_number_of_slides(fake, source):
    fake.profiles["album"] = profile_json(
        "album", 10, 10, 2, nodes=[graph_node("c", 1, 5, typename="GraphSidecar", slides=4), graph_node("p", 2, 5)]
    )
    carousel, photo = (await source.fetch_account("album")).account.posts
    assert (carousel.slides, carousel.is_multi_image) == (4, True)
    assert (photo.slides, photo.is_multi_image) == (1, False)


LOGIN_WALLS = {
    "401 require_login": [Fault(status=401, body=LOGIN_WALL)],
    "200 require_login": [Fault(status=200, body=LOGIN_WALL)],
    "redirect to the login page": [Fault(status=302, headers={"Location": "/accounts/login/"})],
}


@pytest.mark.parametrize("faults", LOGIN_WALLS.values(), ids=LOGIN_WALLS.keys())
async def test_a_login_wall_with_counts_on_the_page_says_so_and_gives_the_counts(fake, source, faults):
    fake.fail("profile", *faults)
    fake.pages["sunny.day"] = profile_html("2,000", "10", "5", username="sunny.day")
    with pytest.raises(NoPostsVisible) as caught:
        await source.fetch_account("sunny.day")
    error = caught.value
    assert (error.reason, error.followers, error.with_session) == ("login_wall", 2000, False)
    text = explain(error)
    assert "only @sunny.day's counts (2,000 followers), not its posts: it asks for a login" in text
    assert "LIKEPREDICT_INSTAGRAM_SESSIONID" in text
    assert "instaloader --no-videos --no-pictures --no-profile-pic --count 24 sunny.day" in text
    assert "likepredict import sunny.day" in text


async def test_a_login_wall_everywhere_is_no_posts_visible_without_counts(fake, source):
    fake.fail("profile", Fault(status=401, body=LOGIN_WALL))
    fake.fail("page", Fault(status=302, headers={"Location": "/accounts/login/"}))
    with pytest.raises(NoPostsVisible) as caught:
        await source.fetch_account("sunny.day")
    assert (caught.value.reason, caught.value.followers) == ("login_wall", None)
    assert "did not show me @sunny.day's posts: it asks for a login" in explain(caught.value)


@pytest.mark.parametrize(
    "fault",
    [Fault(status=400, body=CHECKPOINT), Fault(status=200, body=CHECKPOINT)],
    ids=["400 checkpoint_required", "200 checkpoint_required"],
)
async def test_a_checkpoint_with_a_session_says_the_session_needs_renewing(fake, fault):
    fake.fail("profile", fault)
    fake.pages["sunny.day"] = profile_html("2,000", "10", "5", username="sunny.day")
    web = web_source(fake, make_client(RecordedSleep()), session_id="expired")
    try:
        with pytest.raises(NoPostsVisible) as caught:
            await web.fetch_account("sunny.day")
    finally:
        await web.aclose()
    assert (caught.value.reason, caught.value.with_session) == ("checkpoint", True)
    assert "security check" in explain(caught.value) and "renew the session cookie" in explain(caught.value)


async def test_a_refusal_names_its_status(fake, source):
    fake.fail("profile", Fault(status=400, body=USERAGENT_MISMATCH))
    fake.pages["sunny.day"] = profile_html(None, username="sunny.day")
    with pytest.raises(NoPostsVisible) as caught:
        await source.fetch_account("sunny.day")
    assert (caught.value.reason, caught.value.status) == ("refused", 400)
    assert "it refused the request (HTTP 400)" in explain(caught.value)


async def test_an_answer_with_counts_but_no_posts_reads_the_page_json_for_them(fake, source):
    fake.profiles["sunny.day"]["data"]["user"]["edge_owner_to_timeline_media"]["edges"] = []
    user = {"pk": "99", "username": "sunny.day", "follower_count": 12_345, "following_count": 321, "media_count": 87}
    items = [
        v1_media("j1", 1, 40, "sunny.day", caption="#city", image=fake.image_url("j1")),
        v1_media("j2", 2, 3, "sunny.day", hidden=True),
    ]
    fake.pages["sunny.day"] = profile_page_with_json(user, items)
    fetched = await source.fetch_account("sunny.day")
    account = fetched.account
    assert (account.followers, account.following, account.posts_count) == (12_345, 321, 87)
    assert [(p.shortcode, p.likes) for p in account.posts] == [("j1", 40), ("j2", None)]
    assert fetched.image_urls == {"j1": fake.image_url("j1")}


async def test_a_login_wall_falls_back_to_the_posts_the_page_embeds(fake, source):
    fake.fail("profile", Fault(status=401, body=LOGIN_WALL))
    user = {"pk": "99", "username": "sunny.day", "follower_count": 50, "following_count": 5, "all_media_count": 1}
    fake.pages["sunny.day"] = profile_page_with_json(user, [v1_media("only", 1, 9, "sunny.day")])
    account = (await source.fetch_account("sunny.day")).account
    assert (account.followers, account.posts_count, [p.likes for p in account.posts]) == (50, 1, [9])


async def test_an_account_without_any_posts_is_an_answer_not_a_failure(fake, source):
    fake.profiles["new"] = profile_json("new", 3, 4, 0, nodes=[])
    account = (await source.fetch_account("new")).account
    assert (account.followers, account.posts) == (3, ())
    assert fake.count("page") == 0


async def test_with_a_session_the_feed_completes_the_last_twenty_posts(fake):
    nodes = [graph_node(f"g{i:02d}", days_ago=i, likes=100 + i) for i in range(12)]
    fake.profiles["busy"] = profile_json("busy", 5000, 10, 300, nodes, user_id="777", has_next_page=True)
    fake.feeds["777"] = [
        [v1_media(f"g{i:02d}", i, 100 + i, "busy", image=fake.image_url(f"g{i:02d}")) for i in range(0, 12)],
        [v1_media(f"g{i:02d}", i, 100 + i, "busy", media_type=8, hidden=i == 13) for i in range(12, 24)],
    ]
    web = web_source(fake, make_client(RecordedSleep()), session_id="s")
    try:
        account = (await web.fetch_account("busy", n_posts=20)).account
    finally:
        await web.aclose()
    assert [p.shortcode for p in account.posts] == [f"g{i:02d}" for i in range(20)]
    assert account.posts[19].is_multi_image
    assert account.posts[13].likes is None and account.posts[14].likes == 114  # hidden on a feed page too
    assert fake.count("feed") == 2
    assert fake.seen("feed")[0].path == "/api/v1/feed/user/777/"
    assert fake.seen("feed")[0].query == {"count": "12"}
    assert fake.seen("feed")[1].query == {"count": "12", "max_id": "1"}
    assert fake.seen("feed")[0].cookies == {"sessionid": "s"}


async def test_without_a_session_the_profile_posts_are_all_there_is(fake, source):
    nodes = [graph_node(f"g{i:02d}", days_ago=i, likes=100) for i in range(12)]
    fake.profiles["busy"] = profile_json("busy", 5000, 10, 300, nodes, user_id="777", has_next_page=True)
    account = (await source.fetch_account("busy", n_posts=20)).account
    assert len(account.posts) == 12
    assert fake.count("feed") == 0


async def test_tag_top_posts_come_from_the_top_grid_with_their_owners(fake, source):
    no_count = v1_media("nocount", 1, 0, "x")
    del no_count["like_count"]
    broken = v1_media("broken", 1, 0, "y")
    del broken["taken_at"]  # an odd tile: left out, the others kept
    fake.tags["sunset"] = tag_json(
        top=[
            v1_media("t1", 1, 900, "Alice", caption="#sunset", image=fake.image_url("t1")),
            no_count,
            broken,
            v1_media("t2", 2, 500, "bob", media_type=8),
            v1_media("t3", 2, 3, "dan", hidden=True),  # a placeholder count of 3 that is not a count
        ],
        recent=[v1_media("r1", 0.1, 3, "carol")],
    )
    top = await source.fetch_tag_top_posts("sunset", n=9)
    assert [(t.post.shortcode, t.owner, t.post.likes) for t in top] == [
        ("t1", "alice", 900),
        ("nocount", "x", None),
        ("t2", "bob", 500),
        ("t3", "dan", None),
    ]
    assert top[0].image_url == fake.image_url("t1") and top[0].tag == "sunset"
    assert fake.seen("tag")[0].query == {"tag_name": "sunset"}


async def test_an_unknown_tag_has_no_top_posts(source):
    assert await source.fetch_tag_top_posts("nothing_here") == []


async def test_a_tag_answer_without_sections_is_malformed(fake, source):
    fake.tags["odd"] = {"data": {"name": "odd"}, "status": "ok"}
    with pytest.raises(MalformedResponse, match="sections"):
        await source.fetch_tag_top_posts("odd")


async def test_photos_download_as_bytes_and_non_images_are_refused(fake, source):
    assert await source.download_image(fake.image_url("p0")) == fake.images["p0"]
    with pytest.raises(MalformedResponse):
        await source.download_image(fake.image_url("absent"))


@pytest.mark.parametrize(
    "text, value",
    [
        ("1,234", 1234),
        ("78", 78),
        ("12.5K", 12_500),
        ("1.2M", 1_200_000),
        ("30.3m", 30_300_000),
        ("1,2 M", 1_200_000),
        ("1,2\u00a0M", 1_200_000),
        ("3B", 3_000_000_000),
        ("1 234", 1234),
        ("1.234", 1234),
        ("1\u202f234\u202f567", 1_234_567),
        ("9.9k", 9_900),
        ("1,2 mil", 1_200),
        ("3,4 млн", 3_400_000),
        ("12万", 120_000),
    ],
)
def test_counts_in_the_meta_description_are_read_as_numbers(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize(
    "description, counts",
    [
        ("1,234 Followers, 56 Following, 78 Posts - See Instagram photos and videos from A (@a)", (1234, 56, 78)),
        ("1,2 M Follower, 56 Gefolgt, 1.234 Beiträge - Sieh dir Fotos und Videos von A (@a) an", (1_200_000, 56, 1234)),
        ("30.3m followers, 1,001 following, 2,345 posts - see photos from B (@b)", (30_300_000, 1001, 2345)),
        ("1,2 M abonnés, 56 abonnements, 78 publications - Voir les photos de C (@c2024)", (1_200_000, 56, 78)),
        ("3,4 млн подписчиков, 12 подписок, 900 публикаций - Посмотрите фото D (@d)", (3_400_000, 12, 900)),
        ("フォロワー12万人、フォロー中56人、投稿78件 - E (@e)", (120_000, 56, 78)),
        ("See Instagram photos and videos from F (@f)", None),
    ],
)
def test_the_meta_description_is_read_in_any_language(description, counts):
    assert counts_in_description(description) == counts


async def test_an_older_page_with_the_legacy_node_in_shared_data_gives_its_posts(fake, source):
    fake.fail("profile", Fault(status=401, body=LOGIN_WALL))
    legacy = profile_json("sunny.day", 700, 70, 2, nodes=[graph_node("old1", 1, 33), graph_node("old2", 2, -1)])
    shared = {"entry_data": {"ProfilePage": [{"graphql": {"user": legacy["data"]["user"]}}]}}
    fake.pages["sunny.day"] = f"<html><body><script>window._sharedData = {json.dumps(shared)};</script></body></html>"
    account = (await source.fetch_account("sunny.day")).account
    assert (account.followers, [(p.shortcode, p.likes) for p in account.posts]) == (700, [("old1", 33), ("old2", None)])


async def test_the_requests_of_one_answer_share_one_wait_limit(fake):
    clock = FakeClock()
    sleep = RecordedSleep(clock)
    web = web_source(fake, make_client(sleep, clock=clock, max_wait=15))
    fake.fail("profile", Fault(status=429, headers={"Retry-After": "10"}), Fault(status=401, body=LOGIN_WALL))
    fake.fail("page", Fault(status=429, headers={"Retry-After": "10"}))
    try:
        with pytest.raises(RateLimited) as caught:
            await web.fetch_account("sunny.day")
    finally:
        await web.aclose()
    assert sum(sleep.delays) == pytest.approx(10)  # the page's 10 s more would have made 20: refused instead
    assert caught.value.retry_after == pytest.approx(10) and fake.count("page") == 1


async def test_a_rate_limited_feed_page_keeps_the_profiles_posts(fake):
    nodes = [graph_node(f"g{i:02d}", days_ago=i, likes=100 + i) for i in range(12)]
    fake.profiles["busy"] = profile_json("busy", 5000, 10, 300, nodes, user_id="777", has_next_page=True)
    fake.feeds["777"] = [[v1_media(f"g{i:02d}", i, 100 + i, "busy") for i in range(12, 24)]]
    fake.fail("feed", Fault(status=429))
    web = web_source(fake, make_client(RecordedSleep()), session_id="s")
    try:
        account = (await web.fetch_account("busy", n_posts=20)).account
    finally:
        await web.aclose()
    assert [p.shortcode for p in account.posts] == [f"g{i:02d}" for i in range(12)]

"""The Instagram web source against a local server serving answers in the shape of the real ones."""

import pytest

from scraping.errors import AccountNotFound, MalformedResponse, SourceUnavailable
from scraping.instagram import WEB_APP_ID
from scraping.instagram_parse import parse_count
from tests.fake_instagram import (
    Fault,
    RecordedSleep,
    graph_node,
    jpeg_bytes,
    make_client,
    profile_html,
    profile_json,
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


async def test_the_request_carries_the_web_app_headers(fake, source):
    await source.fetch_account("sunny.day")
    request = fake.seen("profile")[0]
    assert request.query == {"username": "sunny.day"}
    assert request.headers["x-ig-app-id"] == WEB_APP_ID
    assert request.headers["User-Agent"].startswith("Mozilla/5.0")
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


async def test_truncated_json_falls_back_to_the_profile_page(fake, source):
    fake.fail("profile", Fault(truncate=True))
    fake.pages["sunny.day"] = profile_html("1.2M", "1,234", "12.5K", username="sunny.day")
    account = (await source.fetch_account("sunny.day")).account
    assert (account.followers, account.following, account.posts_count) == (1_200_000, 1_234, 12_500)
    assert account.posts == ()
    assert fake.count("profile") == 1 and fake.count("page") == 1


async def test_truncated_json_and_a_page_without_the_meta_tag_is_malformed(fake, source):
    fake.fail("profile", Fault(truncate=True))
    fake.pages["sunny.day"] = profile_html(None, username="sunny.day")
    with pytest.raises(MalformedResponse, match="not complete JSON"):
        await source.fetch_account("sunny.day")


async def test_a_missing_field_is_a_clear_error_naming_it(fake, source):
    broken = profile_json("odd", 10, 10, 10, nodes=[])
    del broken["data"]["user"]["edge_followed_by"]
    fake.profiles["odd"] = broken
    fake.pages["odd"] = profile_html(None, username="odd")
    with pytest.raises(MalformedResponse, match="edge_followed_by.count"):
        await source.fetch_account("odd")
    assert fake.count("page") == 1  # the page was tried first, and had nothing


async def test_a_post_without_a_like_count_is_malformed_not_a_key_error(fake, source):
    node = graph_node("nolikes", 1, 5)
    del node["edge_liked_by"]
    fake.profiles["odd"] = profile_json("odd", 10, 10, 10, nodes=[node])
    fake.pages["odd"] = profile_html(None, username="odd")
    with pytest.raises(MalformedResponse, match="edge_media_preview_like.count"):
        await source.fetch_account("odd")


async def test_a_login_redirect_falls_back_to_the_profile_page(fake, source):
    fake.fail("profile", Fault(status=302, headers={"Location": "/accounts/login/"}))
    fake.pages["sunny.day"] = profile_html("2,000", "10", "5", username="sunny.day")
    account = (await source.fetch_account("sunny.day")).account
    assert account.followers == 2000
    assert fake.count("login") == 1


async def test_login_wall_everywhere_is_reported_as_unavailable(fake, source):
    fake.fail("profile", Fault(status=403))
    fake.fail("page", Fault(status=302, headers={"Location": "/accounts/login/"}))
    with pytest.raises(SourceUnavailable, match="LIKEPREDICT_INSTAGRAM_SESSIONID"):
        await source.fetch_account("sunny.day")


async def test_with_a_session_the_feed_completes_the_last_twenty_posts(fake):
    nodes = [graph_node(f"g{i:02d}", days_ago=i, likes=100 + i) for i in range(12)]
    fake.profiles["busy"] = profile_json("busy", 5000, 10, 300, nodes, user_id="777", has_next_page=True)
    fake.feeds["777"] = [
        [v1_media(f"g{i:02d}", i, 100 + i, "busy", image=fake.image_url(f"g{i:02d}")) for i in range(0, 15)],
        [v1_media(f"g{i:02d}", i, 100 + i, "busy", media_type=8) for i in range(15, 30)],
    ]
    web = web_source(fake, make_client(RecordedSleep()), session_id="s")
    try:
        account = (await web.fetch_account("busy", n_posts=20)).account
    finally:
        await web.aclose()
    assert [p.shortcode for p in account.posts] == [f"g{i:02d}" for i in range(20)]
    assert account.posts[19].is_multi_image
    assert fake.count("feed") == 2
    assert fake.seen("feed")[1].query["max_id"] == "1"


async def test_without_a_session_the_profile_posts_are_all_there_is(fake, source):
    nodes = [graph_node(f"g{i:02d}", days_ago=i, likes=100) for i in range(12)]
    fake.profiles["busy"] = profile_json("busy", 5000, 10, 300, nodes, user_id="777", has_next_page=True)
    account = (await source.fetch_account("busy", n_posts=20)).account
    assert len(account.posts) == 12
    assert fake.count("feed") == 0


async def test_tag_top_posts_come_from_the_top_grid_with_their_owners(fake, source):
    bad = v1_media("hidden", 1, 0, "x")
    del bad["like_count"]  # an owner who hides likes: skipped, the others kept
    fake.tags["sunset"] = tag_json(
        top=[
            v1_media("t1", 1, 900, "Alice", caption="#sunset", image=fake.image_url("t1")),
            bad,
            v1_media("t2", 2, 500, "bob", media_type=8),
        ],
        recent=[v1_media("r1", 0.1, 3, "carol")],
    )
    top = await source.fetch_tag_top_posts("sunset", n=9)
    assert [(t.post.shortcode, t.owner, t.post.likes) for t in top] == [("t1", "alice", 900), ("t2", "bob", 500)]
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
        ("3B", 3_000_000_000),
        ("1 234", 1234),
        ("9.9k", 9_900),
    ],
)
def test_counts_in_the_meta_description_are_read_as_numbers(text, value):
    assert parse_count(text) == value

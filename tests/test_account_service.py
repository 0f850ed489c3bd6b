"""AccountService: the SQLite cache in front of a source, with single-flight and stale-on-failure.

Runs the real web source against the local fake Instagram and a real SQLite file.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.results import AccountSummary
from bot.texts import account_summary, explain, freshness, plain
from core.settings import Settings, SettingsError
from scraping.errors import (
    AccountNotFound,
    InvalidHandle,
    MalformedResponse,
    NoPostsVisible,
    PrivateAccount,
    RateLimited,
    SourceUnavailable,
)
from scraping.service import AccountService
from store import Store
from tests.fake_instagram import (
    LOGIN_WALL,
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


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def sunny_profile(fake, likes_offset: int = 0) -> dict:
    nodes = [
        graph_node(
            f"s{i}",
            days_ago=i * 2,
            likes=100 + 10 * i + likes_offset,
            comments=i,
            caption=f"day {i} #sunset #beach" if i % 2 else "#city",
            image=fake.image_url(f"s{i}"),
        )
        for i in range(6)
    ]
    return profile_json("sunny.day", followers=4000, following=200, posts_count=60, nodes=nodes)


@pytest.fixture
async def fake():
    async with running_fake_instagram() as server:
        for i in range(6):
            # s4 and s5 share one photo: it must be stored once.
            server.images[f"s{i}"] = jpeg_bytes((40 * min(i, 4), 100, 200))
        server.profiles["sunny.day"] = sunny_profile(server)
        yield server


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def service(fake, store, clock):
    accounts = AccountService(web_source(fake, make_client(RecordedSleep())), store, cache_hours=24, clock=clock)
    yield accounts
    await accounts.aclose()


async def test_a_first_request_fetches_and_stores_the_account_with_its_photos(fake, store, service):
    cached = await service.get_account("@Sunny.Day")
    assert not cached.from_cache and not cached.stale
    assert cached.account.followers == 4000 and len(cached.account.posts) == 6
    assert all(p.image_path is not None and p.image_path.is_file() for p in cached.account.posts)
    assert fake.count("profile") == 1 and fake.count("image") == 6
    stored = store.accounts.get("sunny.day")
    assert stored is not None and stored.account.posts == cached.account.posts


async def test_a_photo_shared_by_two_posts_is_stored_once_by_content_hash(store, service):
    cached = await service.get_account("sunny.day")
    paths = {p.shortcode: p.image_path for p in cached.account.posts}
    assert paths["s4"] == paths["s5"]
    assert store.db.execute("SELECT count(*) FROM images").fetchone()[0] == 5


async def test_within_the_cache_lifetime_a_repeat_makes_zero_requests(fake, service, clock):
    first = await service.get_account("sunny.day")
    before = len(fake.requests)
    clock.advance(hours=23)
    again = await service.get_account("sunny.day")
    assert len(fake.requests) == before
    assert again.from_cache and not again.stale
    assert again.account == first.account
    assert "From the cache (23 hours old)" in freshness(again, clock())


async def test_after_the_cache_lifetime_one_refresh_and_no_photo_downloaded_twice(fake, service, clock):
    await service.get_account("sunny.day")
    fake.profiles["sunny.day"] = sunny_profile(fake, likes_offset=7)
    clock.advance(hours=25)
    refreshed = await service.get_account("sunny.day")
    assert not refreshed.from_cache
    assert refreshed.fetched_at == clock()
    assert refreshed.account.posts[0].likes == 107
    assert fake.count("profile") == 2
    assert fake.count("image") == 6  # the photos were already stored


async def test_refresh_true_skips_a_fresh_cache(fake, service):
    await service.get_account("sunny.day")
    await service.get_account("sunny.day", refresh=True)
    assert fake.count("profile") == 2


async def test_a_failed_refresh_serves_the_stale_copy_with_its_age(fake, service, clock):
    first = await service.get_account("sunny.day")
    clock.advance(hours=30)
    fake.fail("profile", *[Fault(status=503)] * 3)
    stale = await service.get_account("sunny.day")
    assert stale.stale and stale.from_cache
    assert stale.account == first.account
    assert clock() - stale.fetched_at == timedelta(hours=30)
    assert "30 hours ago" in freshness(stale, clock())
    assert fake.count("profile") == 1 + 3  # the first fetch, then the refresh's three attempts


async def test_a_rate_limited_refresh_also_serves_the_stale_copy(fake, service, clock):
    await service.get_account("sunny.day")
    clock.advance(days=2)
    fake.fail("profile", Fault(status=429, headers={"Retry-After": "7200"}))
    assert (await service.get_account("sunny.day")).stale


async def test_a_failure_without_a_cached_copy_is_raised_and_nothing_is_written(fake, store, service):
    fake.fail("profile", *[Fault(status=500)] * 3)
    with pytest.raises(SourceUnavailable):
        await service.get_account("sunny.day")
    assert store.accounts.get("sunny.day") is None
    assert store.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 0


async def test_a_malformed_answer_leaves_no_half_written_account(fake, store, service):
    profile = sunny_profile(fake)
    for edge in profile["data"]["user"]["edge_owner_to_timeline_media"]["edges"]:
        del edge["node"]["taken_at_timestamp"]
    fake.profiles["sunny.day"] = profile
    fake.pages["sunny.day"] = profile_html(None, username="sunny.day")  # and the fallback page changed too
    with pytest.raises(MalformedResponse):
        await service.get_account("sunny.day")
    assert store.accounts.handles() == []
    assert store.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 0


async def test_a_rate_limit_without_a_cached_copy_says_when_to_retry(fake, service):
    fake.fail("profile", Fault(status=429, headers={"Retry-After": "600"}))
    with pytest.raises(RateLimited) as caught:
        await service.get_account("sunny.day")
    assert caught.value.retry_after == pytest.approx(600)


async def test_an_account_that_disappeared_is_not_served_stale(fake, service, clock):
    await service.get_account("sunny.day")
    clock.advance(days=2)
    del fake.profiles["sunny.day"]
    with pytest.raises(AccountNotFound):
        await service.get_account("sunny.day")


async def test_a_photo_that_fails_to_download_leaves_the_post_without_one(fake, service):
    del fake.images["s1"]
    cached = await service.get_account("sunny.day")
    by_code = {p.shortcode: p for p in cached.account.posts}
    assert by_code["s1"].image_path is None
    assert by_code["s0"].image_path is not None


async def test_two_simultaneous_requests_make_one_fetch(fake, service):
    fake.hold("profile")
    first = asyncio.create_task(service.get_account("sunny.day"))
    await fake.arrived["profile"].wait()
    second = asyncio.create_task(service.get_account("sunny.day"))
    await asyncio.sleep(0)  # let it join the fetch under way
    fake.release("profile")
    a, b = await asyncio.gather(first, second)
    assert fake.count("profile") == 1
    assert a.account == b.account and not a.from_cache and not b.from_cache


async def test_many_simultaneous_requests_make_one_fetch(fake, service):
    results = await asyncio.gather(*(service.get_account("sunny.day") for _ in range(8)))
    assert fake.count("profile") == 1
    assert len({r.account for r in results}) == 1


async def test_a_cancelled_caller_does_not_cancel_the_fetch_others_wait_for(fake, service):
    fake.hold("profile")
    impatient = asyncio.create_task(service.get_account("sunny.day"))
    await fake.arrived["profile"].wait()
    patient = asyncio.create_task(service.get_account("sunny.day"))
    await asyncio.sleep(0)
    impatient.cancel()
    fake.release("profile")
    assert (await patient).account.followers == 4000
    assert fake.count("profile") == 1


async def test_a_private_account_is_refused_and_the_answer_is_cached(fake, service):
    fake.profiles["shy"] = profile_json("shy", 800, 90, 33, nodes=[], is_private=True)
    for _ in range(2):
        with pytest.raises(PrivateAccount, match="@shy is private"):
            await service.get_account("shy")
    assert fake.count("profile") == 1


async def test_an_invalid_handle_makes_no_request(fake, service):
    with pytest.raises(InvalidHandle):
        await service.get_account("not a handle!")
    assert fake.requests == []


async def test_tag_top_posts_come_with_their_owners_usual_engagement(fake, service):
    fake.tags["sunset"] = tag_json(
        top=[
            v1_media("t1", 1, 900, "sunny.day", caption="#sunset"),
            v1_media("t2", 1, 50, "ghost"),
            v1_media("t3", 2, 400, "sunny.day"),
        ]
    )
    top = await service.fetch_tag_top_posts("#Sunset", n=3)
    assert [t.top.post.shortcode for t in top] == ["t1", "t2", "t3"]
    owner_stats = service.stats(await service.get_account("sunny.day"))
    assert top[0].owner_followers == 4000
    assert top[0].owner_engagement_rate == pytest.approx(owner_stats.engagement_rate)
    assert top[1].owner_engagement_rate is None  # @ghost is not found: skipped, not fatal
    assert fake.count("profile") == 2  # each owner once
    assert fake.count("image") == 0  # owners' photos are not needed for their engagement
    await service.fetch_tag_top_posts("sunset", n=3)
    assert fake.count("profile") == 2  # sunny.day now from the cache; ghost's "not found" remembered a while


async def test_stats_come_from_the_one_shared_account_stats_function(service):
    cached = await service.get_account("sunny.day")
    stats = service.stats(cached)
    likes = sorted(p.likes for p in cached.account.posts)
    assert stats.n_posts == 6 and stats.likes_min == likes[0] and stats.likes_max == likes[-1]
    assert stats.engagement_rate == pytest.approx(sum(p.likes + p.comments for p in cached.account.posts) / 6 / 4000)
    assert dict(stats.hashtags) == {"sunset": 3, "beach": 3, "city": 3}


async def test_from_settings_with_the_demo_source_serves_demo_creator_offline(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = Store.open(settings.db_path, settings.images_dir)
    service = AccountService.from_settings(settings, store)
    try:
        cached = await service.get_account("demo_creator")
        assert cached.account.followers == 5200 and len(cached.account.posts) == 20
        assert (await service.get_account("demo_creator")).from_cache
    finally:
        await service.aclose()
        store.close()


def test_from_settings_picks_the_source_the_settings_name(tmp_path):
    from scraping.dataset_source import DatasetSource
    from scraping.instagram import InstagramWebSource
    from scraping.instaloader_source import InstaloaderSource
    from scraping.service import source_from_settings

    def source_for(value: str):
        return source_from_settings(Settings(source=value))

    assert isinstance(source_for("demo"), DatasetSource)
    assert isinstance(source_for(f"dataset:{tmp_path}/x.jsonl"), DatasetSource)
    assert isinstance(source_for(f"instaloader:{tmp_path}"), InstaloaderSource)
    mirror = source_from_settings(Settings(source="instagram", instagram_url="http://127.0.0.1:9/"))
    assert isinstance(mirror, InstagramWebSource) and mirror.base_url == "http://127.0.0.1:9"
    web = source_for("instagram")
    assert isinstance(web, InstagramWebSource) and web.http.limiter.interval == pytest.approx(3.0)


# ---- honest degradation: an answer without posts is never a fresh copy -------------------------------


async def test_a_login_wall_without_a_copy_says_what_instagram_gave_and_stores_nothing(fake, store, service, clock):
    fake.fail("profile", Fault(status=401, body=LOGIN_WALL))
    fake.pages["sunny.day"] = profile_html("4,000", username="sunny.day")
    with pytest.raises(NoPostsVisible) as caught:
        await service.get_account("sunny.day")
    assert caught.value.followers == 4000 and caught.value.retry_at == clock() + timedelta(minutes=10)
    assert "Try again after 12:10 UTC" in explain(caught.value)
    assert store.accounts.get("sunny.day") is None
    assert store.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 0


async def test_a_login_wall_is_remembered_for_a_few_minutes_then_asked_again(fake, service, clock):
    fake.fail("profile", *[Fault(status=401, body=LOGIN_WALL)] * 2)
    fake.pages["sunny.day"] = profile_html("4,000", username="sunny.day")
    for minutes in (0, 4, 7):
        clock.advance(minutes=minutes)
        with pytest.raises(NoPostsVisible):
            await service.get_account("sunny.day")
    assert fake.count("profile") == 2  # at 0 and 11 minutes; not at 4
    clock.advance(minutes=11)
    assert (await service.get_account("sunny.day")).account.followers == 4000  # the wall is gone
    assert fake.count("profile") == 3


async def test_a_login_wall_on_refresh_serves_the_good_copy_saying_its_age_and_why(fake, store, service, clock):
    first = await service.get_account("sunny.day")
    clock.advance(days=3)
    fake.fail("profile", Fault(status=401, body=LOGIN_WALL))
    fake.pages["sunny.day"] = profile_html("9,999", username="sunny.day")
    stale = await service.get_account("sunny.day")
    assert stale.stale and stale.account == first.account and isinstance(stale.stale_reason, NoPostsVisible)
    assert freshness(stale, clock()) == (
        "Could not refresh just now (Instagram showed no posts: it asks for a login); using figures from 3 days ago."
    )
    stored = store.accounts.get("sunny.day")
    assert stored is not None and stored.fetched_at == first.fetched_at and stored.account.followers == 4000


async def test_a_429_without_retry_after_says_minutes_and_the_next_ask_makes_no_request(fake, service, clock):
    fake.fail("profile", Fault(status=429))
    with pytest.raises(RateLimited) as caught:
        await service.get_account("sunny.day")
    assert caught.value.retry_after >= 660
    clock.advance(minutes=5)
    with pytest.raises(RateLimited) as again:
        await service.get_account("sunny.day")
    assert again.value.retry_after == pytest.approx(caught.value.retry_after - 300)
    assert "try again in about 6 minutes" in explain(again.value)
    assert fake.count("profile") == 1


# ---- hidden likes --------------------------------------------------------------------------------


async def test_posts_hiding_their_likes_are_stored_as_hidden_and_left_out_of_the_likes_figures(fake, store, service):
    profile = sunny_profile(fake)
    profile["data"]["user"]["edge_owner_to_timeline_media"]["edges"][0]["node"]["edge_liked_by"]["count"] = -1
    fake.profiles["sunny.day"] = profile
    cached = await service.get_account("sunny.day")
    assert [p.likes for p in cached.account.posts] == [None, 110, 120, 130, 140, 150]
    assert [p.likes for p in store.accounts.recent_posts("sunny.day")] == [None, 110, 120, 130, 140, 150]
    stats = service.stats(cached)
    assert (stats.n_posts, stats.hidden_likes, stats.likes_min, stats.likes_median) == (5, 1, 110, 130)
    assert dict(stats.hashtags)["city"] == 3  # its hashtags still count


async def test_an_account_whose_posts_all_hide_their_likes_gives_stats_without_a_crash(fake, service):
    profile = sunny_profile(fake)
    for edge in profile["data"]["user"]["edge_owner_to_timeline_media"]["edges"]:
        edge["node"]["edge_liked_by"]["count"] = -1
    fake.profiles["sunny.day"] = profile
    stats = service.stats(await service.get_account("sunny.day"))
    assert (stats.n_posts, stats.hidden_likes, stats.likes_median, stats.recent_trend) == (0, 6, 0.0, 0.0)
    assert stats.posting_interval_days == pytest.approx(2.0)


async def test_a_handle_whose_recent_posts_all_hide_their_likes_gets_a_plain_answer(fake, service):
    profile = sunny_profile(fake)
    for edge in profile["data"]["user"]["edge_owner_to_timeline_media"]["edges"]:
        edge["node"]["like_and_view_counts_disabled"] = True
    fake.profiles["sunny.day"] = profile
    cached = await service.get_account("sunny.day")
    stats = service.stats(cached)
    summary = AccountSummary(
        "sunny.day", 4000, stats.likes_median, stats.n_posts, cached.fetched_at, cached, stats.hidden_likes
    )
    text = plain(account_summary(summary))
    assert "All 6 recent posts hide their like counts, so I can't learn your usual likes from them" in text
    assert "Median likes" not in text and "Fetched just now." in text


def test_the_instagram_url_setting_must_be_a_url(monkeypatch):
    monkeypatch.setenv("LIKEPREDICT_INSTAGRAM_URL", "www.instagram.com")
    with pytest.raises(SettingsError, match="LIKEPREDICT_INSTAGRAM_URL"):
        Settings.from_env(env_file=None)

"""The HTTP client's manners, against a real server on 127.0.0.1: retries, back-off, Retry-After, time-outs."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.texts import explain
from scraping.errors import RateLimited, SourceUnavailable
from scraping.http import HttpClient, RateLimiter, RetryPolicy, retry_after_seconds
from tests.fake_instagram import FakeClock, Fault, RecordedSleep, make_client, running_fake_instagram


@pytest.fixture
async def fake():
    async with running_fake_instagram() as server:
        server.images["one"] = b"\xff\xd8 not really a jpeg"
        yield server


async def get_image(fake, client):
    try:
        return await client.get(fake.image_url("one"))
    finally:
        await client.aclose()


async def test_a_500_then_success_is_retried_once_after_a_backoff(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(status=500))
    response = await get_image(fake, make_client(sleep))
    assert response.status == 200
    assert fake.count("image") == 2
    assert sleep.delays == [pytest.approx(0.5 * 0.75)]  # base 0.5 with the jitter at its middle


async def test_persistent_5xx_gives_up_after_the_attempts_with_growing_backoff(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(status=502), Fault(status=503), Fault(status=500), Fault(status=500))
    with pytest.raises(SourceUnavailable, match="answered 500"):
        await get_image(fake, make_client(sleep, attempts=3))
    assert fake.count("image") == 3
    assert sleep.delays == [pytest.approx(0.375), pytest.approx(0.75)]


async def test_a_429_with_a_short_retry_after_waits_that_long_then_retries(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(status=429, headers={"Retry-After": "7"}))
    response = await get_image(fake, make_client(sleep))
    assert response.status == 200
    assert fake.count("image") == 2
    assert sleep.delays == [pytest.approx(7.0)]


async def test_a_429_with_a_retry_after_longer_than_the_wait_limit_raises_rate_limited_at_once(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        await get_image(fake, make_client(sleep, max_wait=15))
    assert caught.value.retry_after == pytest.approx(3600)
    assert "try again in about 60 minutes" in explain(caught.value)
    assert fake.count("image") == 1
    assert sleep.delays == []  # nothing slept through


async def test_a_429_without_retry_after_pauses_the_endpoint_for_minutes_not_seconds(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(status=429))
    client = make_client(sleep, attempts=3)
    with pytest.raises(RateLimited) as caught:
        await get_image(fake, client)
    assert caught.value.retry_after >= 660  # instaloader's 11-minute window, not a retry within seconds
    assert "try again in about 11 minutes" in explain(caught.value)
    assert fake.count("image") == 1 and sleep.delays == []


async def test_while_an_endpoint_is_paused_no_request_reaches_it_and_others_still_work(fake):
    clock = FakeClock()
    client = make_client(RecordedSleep(clock), clock=clock)
    fake.images["two"] = b"\xff\xd8 another"
    fake.fail("image", Fault(status=429))
    try:
        with pytest.raises(RateLimited):
            await client.get(fake.image_url("one"), endpoint="one")
        clock.now += 300
        with pytest.raises(RateLimited) as caught:
            await client.get(fake.image_url("one"), endpoint="one")
        assert caught.value.retry_after == pytest.approx(666 - 300)
        assert (await client.get(fake.image_url("two"), endpoint="two")).status == 200  # its own budget
        clock.now += 400
        assert (await client.get(fake.image_url("one"), endpoint="one")).status == 200
    finally:
        await client.aclose()
    assert fake.count("image") == 3


async def test_an_endpoint_gets_75_requests_per_11_minutes_then_the_caller_hears_when(fake):
    clock = FakeClock()
    client = make_client(RecordedSleep(clock), clock=clock)
    try:
        for _ in range(75):
            await client.get(fake.image_url("one"), endpoint="profile")
            clock.now += 1
        with pytest.raises(RateLimited) as caught:
            await client.get(fake.image_url("one"), endpoint="profile")
    finally:
        await client.aclose()
    assert caught.value.retry_after == pytest.approx(660 - 75)
    assert fake.count("image") == 75


async def test_backoff_never_makes_a_caller_wait_more_than_the_limit(fake):
    sleep = RecordedSleep()
    fake.fail("image", *[Fault(status=503)] * 5)
    client = HttpClient(
        retry=RetryPolicy(attempts=5, base_delay=8.0, max_delay=60.0, max_wait=15.0),
        sleep=sleep,
        rand=lambda: 1.0,
        limiter=RateLimiter(600, sleep=RecordedSleep()),
    )
    with pytest.raises(SourceUnavailable):
        await get_image(fake, client)
    assert sum(sleep.delays) <= 15.0


async def test_an_answer_slower_than_the_timeout_is_retried_then_reported_unavailable(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(hang=True), Fault(hang=True))
    with pytest.raises(SourceUnavailable, match="too long"):
        await get_image(fake, make_client(sleep, timeout=0.5, attempts=2))
    assert fake.count("image") == 2


async def test_a_timeout_then_success_returns_the_answer(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(hang=True))
    response = await get_image(fake, make_client(sleep, timeout=0.5, attempts=2))
    assert response.status == 200 and response.body.startswith(b"\xff\xd8")


async def test_a_404_is_returned_to_the_caller_without_retrying(fake):
    sleep = RecordedSleep()
    client = make_client(sleep)
    try:
        response = await client.get(fake.image_url("missing"))
    finally:
        await client.aclose()
    assert response.status == 404
    assert fake.count("image") == 1


async def test_sequential_requests_share_one_session_and_connection(fake):
    client = make_client(RecordedSleep())
    try:
        for _ in range(3):
            await client.get(fake.image_url("one"))
    finally:
        await client.aclose()
    assert len({r.peer_port for r in fake.seen("image")}) == 1
    assert "Mozilla/5.0" in fake.seen("image")[0].headers["User-Agent"]


async def test_an_oversized_answer_is_refused(fake):
    fake.images["big"] = b"x" * 200_000
    client = make_client(RecordedSleep())
    try:
        with pytest.raises(SourceUnavailable, match="larger than"):
            await client.get(fake.image_url("big"), max_bytes=100_000)
    finally:
        await client.aclose()


async def test_the_rate_limiter_spaces_requests_to_one_host_but_not_across_hosts():
    sleep = RecordedSleep()
    now = [100.0]
    limiter = RateLimiter(per_minute=30, clock=lambda: now[0], sleep=sleep)
    waits = [await limiter.wait("a.example") for _ in range(3)]
    other = await limiter.wait("b.example")
    assert waits == [0.0, 2.0, 4.0]
    assert other == 0.0
    now[0] += 10.0  # after a quiet spell, no waiting
    assert await limiter.wait("a.example") == 0.0


async def test_a_pace_longer_than_the_wait_limit_is_refused_not_slept():
    sleep = RecordedSleep()
    limiter = RateLimiter(per_minute=1, clock=lambda: 50.0, sleep=sleep)
    await limiter.wait("a.example", max_wait=15)
    with pytest.raises(RateLimited) as caught:
        await limiter.wait("a.example", max_wait=15)
    assert caught.value.retry_after == pytest.approx(60.0) and sleep.delays == []


def test_backoff_doubles_within_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    assert policy.backoff(0, lambda: 0.0) == 0.5 and policy.backoff(0, lambda: 1.0) == 1.0
    assert policy.backoff(2, lambda: 1.0) == 4.0
    assert policy.backoff(10, lambda: 1.0) == 5.0


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    later = now + timedelta(minutes=2)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(later.strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == pytest.approx(120.0)
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_photo_downloads_have_their_own_rate_budget(fake):
    sleep = RecordedSleep()
    client = HttpClient(requests_per_minute=4, media_requests_per_minute=60_000, sleep=sleep)
    try:
        for _ in range(3):
            await client.get(fake.image_url("one"), media=True)
        assert all(delay < 0.01 for delay in sleep.delays)
        await client.get(fake.image_url("one"))
        await client.get(fake.image_url("one"))
    finally:
        await client.aclose()
    assert max(sleep.delays) == pytest.approx(15.0, abs=1.0)  # four a minute for the pages

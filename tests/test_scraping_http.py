"""The HTTP client's manners, against a real server on 127.0.0.1: retries, back-off, Retry-After, time-outs."""

from datetime import UTC, datetime, timedelta

import pytest

from scraping.errors import RateLimited, SourceUnavailable
from scraping.http import HttpClient, RateLimiter, RetryPolicy, retry_after_seconds
from tests.fake_instagram import Fault, RecordedSleep, make_client, running_fake_instagram


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
    client = make_client(RecordedSleep())
    fake.fail("image", Fault(status=429, headers={"Retry-After": "7"}))
    response = await get_image(fake, client)
    assert response.status == 200
    assert fake.count("image") == 2
    assert max(client.limiter.sleep.delays) == pytest.approx(7.0, abs=0.5)


async def test_a_429_with_a_long_retry_after_raises_rate_limited_with_when_to_retry(fake):
    sleep = RecordedSleep()
    fake.fail("image", Fault(status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        await get_image(fake, make_client(sleep, max_retry_after=60))
    assert caught.value.retry_after == pytest.approx(3600)
    assert "about 60 minutes" in str(caught.value)
    assert fake.count("image") == 1
    assert sleep.delays == []  # nothing slept through


async def test_repeated_429_without_retry_after_ends_as_rate_limited(fake):
    sleep = RecordedSleep()
    fake.fail("image", *[Fault(status=429)] * 3)
    with pytest.raises(RateLimited) as caught:
        await get_image(fake, make_client(sleep, attempts=3))
    assert caught.value.retry_after is None
    assert fake.count("image") == 3


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


async def test_a_push_back_holds_the_next_request_to_that_host():
    sleep = RecordedSleep()
    limiter = RateLimiter(per_minute=600, clock=lambda: 50.0, sleep=sleep)
    limiter.push_back("a.example", 30.0)
    assert await limiter.wait("a.example") == pytest.approx(30.0)


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
    client = HttpClient(requests_per_minute=1, media_requests_per_minute=60_000, sleep=sleep)
    try:
        for _ in range(3):
            await client.get(fake.image_url("one"), media=True)
        assert all(delay < 0.01 for delay in sleep.delays)
        await client.get(fake.image_url("one"))
        await client.get(fake.image_url("one"))
    finally:
        await client.aclose()
    assert max(sleep.delays) == pytest.approx(60.0, abs=1.0)  # one a minute for the pages

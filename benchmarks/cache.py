"""The account cache: a handle asked for again within the cache lifetime costs no HTTP request, and
reading it from the store takes well under a millisecond.

    python -m benchmarks.cache [--posts 20] [--repeats 2000]

The source is the real Instagram web source pointed at the local fake Instagram of the scraping tests
(real sockets on 127.0.0.1); the requests counted are those that server received.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS_DIR, format_table, report, summary_ms
from scraping.http import HttpClient
from scraping.service import AccountService
from store import Store
from tests.fake_instagram import graph_node, jpeg_bytes, profile_json, running_fake_instagram, web_source

NAME = "cache"
HANDLE = "cached.creator"


async def _measure(posts: int, repeats: int, folder: Path) -> dict[str, Any]:
    async with running_fake_instagram() as fake:
        nodes = []
        for i in range(posts):
            fake.images[f"p{i}"] = jpeg_bytes((i * 7 % 256, 90, 160), size=64)
            nodes.append(
                graph_node(
                    f"p{i}", days_ago=i, likes=300 + i, caption=f"#tag{i % 5} #daily", image=fake.image_url(f"p{i}")
                )
            )
        fake.profiles[HANDLE] = profile_json(HANDLE, 12_000, 300, 400, nodes)
        store = Store.open(folder / "cache.sqlite3", folder / "images")
        accounts = AccountService(
            web_source(fake, HttpClient(requests_per_minute=6000, media_requests_per_minute=6000)),
            store,
            cache_hours=24,
        )
        try:
            started = time.perf_counter()
            first = await accounts.get_account(HANDLE)
            first_fetch = time.perf_counter() - started
            requests_first = len(fake.requests)
            through_service, through_store = [], []
            for _ in range(repeats):
                started = time.perf_counter()
                cached = await accounts.get_account(HANDLE)
                through_service.append(time.perf_counter() - started)
                started = time.perf_counter()
                store.accounts.get(HANDLE, accounts.n_posts)
                through_store.append(time.perf_counter() - started)
            requests_cached = len(fake.requests) - requests_first
        finally:
            await accounts.aclose()
            store.close()
    assert cached.from_cache and len(first.account.posts) == posts
    return {
        "posts": posts,
        "repeats": repeats,
        "first_fetch_ms": first_fetch * 1000,
        "http_requests_first": requests_first,
        "http_requests_cached": requests_cached,
        "store_get_account": summary_ms(through_store),
        "service_get_account_cached": summary_ms(through_service),
        "goal": "a cached handle costs 0 HTTP requests and < 1 ms in the store",
    }


def measure(posts: int = 20, repeats: int = 2000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="likepredict-bench-") as tmp:
        return asyncio.run(_measure(posts, repeats, Path(tmp)))


def table(result: dict[str, Any]) -> str:
    store, service = result["store_get_account"], result["service_get_account_cached"]
    rows = [
        ["first request (fetch + photos)", result["http_requests_first"], result["first_fetch_ms"], ""],
        [f"cached handle, x{result['repeats']}", result["http_requests_cached"], "", ""],
        ["  store.accounts.get", "", store["median_ms"], store["p95_ms"]],
        ["  AccountService.get_account (incl. thread hop)", "", service["median_ms"], service["p95_ms"]],
    ]
    return format_table(["what", "HTTP requests", "median ms", "p95 ms"], rows)


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cache", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args(argv)
    result = measure(args.posts, args.repeats)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())

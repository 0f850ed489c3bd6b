"""Tiny synthetic accounts for the likes tests, with planted effects the models should find."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from core.records import Account, Post

FETCHED_AT = datetime(2017, 5, 1, 12, tzinfo=UTC)
BOOST_TAG = "goldenhour"  # planted: posts carrying it get 1.6x likes, in every account
BOOST = 1.6
MULTI_IMAGE_BOOST = 1.3


def synthetic_account(index: int, rng: np.random.Generator, n_posts: int = 17, followers: int | None = None) -> Account:
    followers = followers or int(10 ** rng.uniform(3, 6))
    rate = 10 ** rng.uniform(-2, -1)
    posts = []
    day = FETCHED_AT - timedelta(days=2)
    for number in range(n_posts):
        tags = tuple(t for t in ("daily", BOOST_TAG, f"own{index}") if rng.random() < 0.5)
        multi = bool(rng.random() < 0.3)
        mean = followers * rate * (BOOST if BOOST_TAG in tags else 1.0) * (MULTI_IMAGE_BOOST if multi else 1.0)
        likes = int(mean * math.exp(rng.normal(0, 0.1)))
        posts.append(
            Post(
                shortcode=f"a{index}-{number}",
                taken_at=day,
                likes=likes,
                hashtags=tags,
                mentions=int(rng.integers(0, 3)),
                caption_length=int(rng.integers(0, 200)),
                is_multi_image=multi,
            )
        )
        day -= timedelta(days=float(rng.integers(1, 5)))
    return Account(
        handle=f"acct{index}",
        followers=followers,
        following=int(rng.integers(10, 1000)),
        posts_count=n_posts + int(rng.integers(0, 500)),
        posts=tuple(posts),
        fetched_at=FETCHED_AT,
    )


def synthetic_accounts(n: int, seed: int = 0) -> list[Account]:
    rng = np.random.default_rng(seed)
    return [synthetic_account(i, rng) for i in range(n)]


def write_influencers(accounts: list[Account], path: Path) -> Path:
    """Write accounts in the influencers-2017 format (dates only)."""
    with path.open("w", encoding="utf-8") as out:
        for account in accounts:
            out.write(
                json.dumps(
                    {
                        "account": account.handle,
                        "followers": account.followers,
                        "following": account.following,
                        "posts_total": account.posts_count,
                        "crawled": account.fetched_at.date().isoformat(),
                        "posts": [
                            {
                                "date": p.taken_at.date().isoformat(),
                                "likes": p.likes,
                                "hashtags": list(p.hashtags),
                                "mentions": p.mentions,
                                "caption_chars": p.caption_length,
                                "multiple_images": p.is_multi_image,
                                "is_video": False,
                                "has_location": False,
                            }
                            for p in account.posts
                        ],
                    }
                )
                + "\n"
            )
    return path

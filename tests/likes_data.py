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
    return _account(index, followers, posts, FETCHED_AT, rng)


def _account(index: int, followers: int, posts: list[Post], fetched_at: datetime, rng: np.random.Generator) -> Account:
    return Account(
        handle=f"acct{index}",  # the 2017- and 2019-style accounts share pseudonyms: one handle, both years
        followers=followers,
        following=int(rng.integers(10, 1000)),
        posts_count=len(posts) + int(rng.integers(0, 500)),
        posts=tuple(posts),
        fetched_at=fetched_at,
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


FETCHED_2019 = datetime(2019, 4, 10, tzinfo=UTC)
PEOPLE_BOOST = 1.4  # planted in the 2019-style accounts: photos Instagram describes with people
EVENING_BOOST = 1.25  # planted: posts at 18:00-21:59 UTC


def synthetic_account_2019(index: int, rng: np.random.Generator, n_posts: int = 12) -> Account:
    """An account like influencers-2019's: exact times, comments, post types and Instagram's image concepts."""
    followers = int(10 ** rng.uniform(3, 6))
    rate = 10 ** rng.uniform(-2, -1)
    posts = []
    at = FETCHED_2019 - timedelta(days=2)
    for number in range(n_posts):
        at = at.replace(hour=int(rng.integers(8, 23)), minute=int(rng.integers(0, 60)))
        people = bool(rng.random() < 0.5)
        concepts = ("1 person", "outdoor") if people else ("food",)
        kind = str(rng.choice(["image", "image", "carousel", "video"]))
        mean = followers * rate * (PEOPLE_BOOST if people else 1.0) * (EVENING_BOOST if 18 <= at.hour < 22 else 1.0)
        likes = int(mean * math.exp(rng.normal(0, 0.1)))
        posts.append(
            Post(
                shortcode=f"b{index}-{number}",
                taken_at=at,
                likes=likes,
                comments=int(likes * 0.02),
                hashtags=("daily",) if rng.random() < 0.5 else (),
                is_multi_image=kind == "carousel",
                is_video=kind == "video",
                width=1080,
                height=1350 if rng.random() < 0.5 else 1080,
                image_concepts=None if rng.random() < 0.1 else concepts,
            )
        )
        at -= timedelta(days=float(rng.integers(1, 4)))
    return _account(index, followers, posts, FETCHED_2019, rng)


def synthetic_accounts_2019(n: int, seed: int = 0) -> list[Account]:
    rng = np.random.default_rng(seed)
    return [synthetic_account_2019(i, rng) for i in range(n)]


def write_influencers_2019(accounts: list[Account], path: Path) -> Path:
    """Write accounts in the influencers-2019 format (exact times, types, concepts)."""
    with path.open("w", encoding="utf-8") as out:
        for account in accounts:
            record = {
                "account": account.handle,
                "followers": account.followers,
                "following": account.following,
                "posts_total": account.posts_count,
                "crawled": account.fetched_at.date().isoformat(),
                "posts": [
                    {
                        "taken_at": p.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "likes": p.likes,
                        "comments": p.comments,
                        "type": "video" if p.is_video else "carousel" if p.is_multi_image else "image",
                        "hashtags": list(p.hashtags),
                        "mentions": p.mentions,
                        "caption_chars": p.caption_length,
                        "has_location": False,
                        "width": p.width,
                        "height": p.height,
                        "image_concepts": None if p.image_concepts is None else list(p.image_concepts),
                    }
                    for p in account.posts
                ],
            }
            out.write(json.dumps(record) + "\n")
    return path

"""The offline demo: what the bot would answer for the bundled demo account and sample photos."""

from __future__ import annotations

from typing import TextIO

from inference.account_stats import account_stats
from likepredict.datasets import read_accounts_jsonl
from likepredict.paths import DEMO_DATA, DEMO_HANDLE, DEMO_SAMPLES
from likepredict.settings import Settings


def run_demo(settings: Settings, out: TextIO) -> None:
    accounts = {a.handle: a for a in read_accounts_jsonl(DEMO_DATA)}
    account = accounts[DEMO_HANDLE]
    stats = account_stats(account.posts, account.followers, account.following, account.posts_count)
    out.write(f"Demo account @{account.handle} (synthetic data)\n")
    out.write(f"  followers {account.followers:,}, following {account.following:,}, posts {account.posts_count:,}\n")
    out.write(
        f"  last {stats.n_posts} posts: median {stats.likes_median:,.0f} likes, mean {stats.likes_mean:,.0f},"
        f" range {stats.likes_min:,.0f}-{stats.likes_max:,.0f}, engagement rate {stats.engagement_rate:.1%}\n"
    )
    top_tags = ", ".join(f"#{tag} ({count})" for tag, count in stats.hashtags[:8])
    out.write(f"  hashtags used: {top_tags}\n\n")
    for photo in sorted(DEMO_SAMPLES.glob("*.jpg")):
        out.write(f"Photo {photo.name}\n")

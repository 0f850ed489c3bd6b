"""`likepredict fetch HANDLE` and `likepredict fetch-tag TAG`: what the source says, through the cache."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from app.services import open_services
from bot.texts import freshness
from core.account_stats import AccountStats
from core.records import CachedAccount
from core.settings import Settings
from core.tags import normalize_tag
from scraping.service import TagTopPostWithOwner, utcnow


def register(commands: argparse._SubParsersAction, evaluate: argparse._SubParsersAction) -> None:
    fetch = commands.add_parser("fetch", help="show an account's stats (from the cache when it is fresh)")
    fetch.add_argument("handle", help="Instagram username, @name or profile link")
    fetch.add_argument("--refresh", action="store_true", help="ask the source even if the cache is fresh")
    fetch.set_defaults(func=fetch_command)

    tag = commands.add_parser("fetch-tag", help="show a hashtag's top posts and how their owners usually do")
    tag.add_argument("tag", help="hashtag, with or without #")
    tag.add_argument("-n", type=int, default=9, help="how many top posts (default 9)")
    tag.set_defaults(func=fetch_tag_command)


def fetch_command(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> str:
        service = await open_services(settings)
        try:
            cached = await service.accounts.get_account(args.handle, refresh=args.refresh)
            return format_account(cached, service.accounts.stats(cached), settings.source.kind, utcnow())
        finally:
            await service.aclose()

    print(asyncio.run(run()))
    return 0


def fetch_tag_command(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> str:
        service = await open_services(settings)
        try:
            top = await service.accounts.fetch_tag_top_posts(args.tag, args.n)
            return format_tag_posts(normalize_tag(args.tag), top)
        finally:
            await service.aclose()

    print(asyncio.run(run()))
    return 0


def format_account(cached: CachedAccount, stats: AccountStats, source: str, now: datetime) -> str:
    a = cached.account
    lines = [
        f"@{a.handle}  ({source} source; {freshness(cached, now)})",
        f"followers {a.followers:,}   following {a.following:,}   posts {a.posts_count:,}",
    ]
    if stats.hidden_likes:
        lines.append(f"{stats.hidden_likes} of the recent posts hide their likes (left out of the likes figures)")
    if not stats.has_history:
        lines.append("no posts with likes to learn from")
        return "\n".join(lines)
    low, high = stats.likes_mode_bucket
    lines += [
        f"previous {stats.n_posts} posts: likes mean {stats.likes_mean:,.1f}, median {stats.likes_median:,.0f}, "
        f"min {stats.likes_min:,.0f}, max {stats.likes_max:,.0f}, std {stats.likes_std:,.1f}",
        f"most posts get {low:,.0f}-{high:,.0f} likes; recent trend {stats.recent_trend:+.2f} (log, newest 5 vs all)",
        "comments mean "
        + ("unknown" if stats.comments_mean is None else f"{stats.comments_mean:,.1f}")
        + f"; engagement rate {stats.engagement_rate:.2%} of followers",
        "posting interval "
        + ("unknown" if stats.posting_interval_days is None else f"{stats.posting_interval_days:.1f} days (median)"),
        "photos stored: " + f"{sum(1 for p in a.posts if p.image_path is not None)}/{len(a.posts)}",
    ]
    if stats.hashtags:
        lines.append("hashtags: " + ", ".join(f"#{tag} x{count}" for tag, count in stats.hashtags[:15]))
    return "\n".join(lines)


def format_tag_posts(tag: str, top: list[TagTopPostWithOwner]) -> str:
    if not top:
        return f"#{tag}: no top posts found"
    lines = [f"#{tag}: {len(top)} top posts"]
    for item in top:
        post = item.top.post
        owner = f"@{item.top.owner}" if item.top.owner else "unknown owner"
        usual = (
            f"owner's usual engagement {item.owner_engagement_rate:.2%}"
            if item.owner_engagement_rate is not None
            else "owner's usual engagement unknown"
        )
        shown = "likes hidden" if post.likes is None else f"{post.likes:,} likes"
        lines.append(f"  {post.shortcode}  {owner}  {shown}  {usual}")
    return "\n".join(lines)

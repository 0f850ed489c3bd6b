"""`likepredict hashtags PHOTO --handle H` and `likepredict evaluate hashtags --influencers PATH`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.services import open_services
from core.paths import MODELS_DIR
from core.records import Account
from core.settings import Settings
from inference.hashtag_eval import evaluate_hashtags, format_report
from inference.hashtag_ranker import HashtagRanker
from inference.hashtag_scoring import PRIOR_POSTS
from inference.hashtags import MAX_COUNT, HashtagAdvice
from scraping.datasets import read_any

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction, evaluate: argparse._SubParsersAction) -> None:
    suggest = commands.add_parser("hashtags", help="suggest hashtags for a photo, with reasons and expected engagement")
    suggest.add_argument("photo", type=Path, help="the photo you mean to post")
    suggest.add_argument("--handle", required=True, help="your Instagram account, e.g. demo_creator")
    suggest.add_argument(
        "--count",
        type=int,
        default=None,
        help=f"how many tags (default LIKEPREDICT_HASHTAG_COUNT, at most {MAX_COUNT})",
    )
    suggest.add_argument(
        "--all-images",
        action="store_true",
        help="first embed every stored photo not yet embedded (slow once, cached after), so the "
        "photo is compared with all of them",
    )
    suggest.add_argument("--json", action="store_true", help="print one JSON object")
    suggest.set_defaults(func=hashtags_command)

    measure = evaluate.add_parser("hashtags", help="recall@N and engagement lift of the hashtag engine on real data")
    measure.add_argument("--influencers", type=Path, required=True, help="influencers-2017.jsonl or data like it")
    measure.add_argument("--count", type=int, default=10, help="suggestions per held-out post (default 10)")
    measure.add_argument(
        "--half",
        choices=("a", "b"),
        default=None,
        help="measure only the accounts of one half (split by a hash of the handle): choose "
        "on half a, report on half b",
    )
    measure.add_argument(
        "--prior-posts",
        type=float,
        default=PRIOR_POSTS,
        help=f"weight of a tag's prior in its fit, in posts (default {PRIOR_POSTS:g})",
    )
    measure.add_argument(
        "--models-dir",
        type=Path,
        default=MODELS_DIR,
        help="where the learned ranker is looked for (its card entry; without one the engine ranks by fit x lift)",
    )
    measure.add_argument("--no-ranker", action="store_true", help="measure the engine without the learned ranker")
    measure.add_argument("--json", action="store_true", help="print one JSON object")
    measure.add_argument(
        "--output",
        type=Path,
        default=None,
        help="also write the metrics, with the command that made them, to this JSON file",
    )
    measure.set_defaults(func=evaluate_command)


# ---- likepredict hashtags -------------------------------------------------------------------------


def hashtags_command(args: argparse.Namespace, settings: Settings) -> int:
    count = min(max(args.count if args.count is not None else settings.hashtag_count, 1), MAX_COUNT)

    async def run() -> tuple[Account, HashtagAdvice]:
        service = await open_services(settings)
        try:
            if args.all_images:
                print("embedding the stored photos not yet embedded (once; cached after)...", file=sys.stderr)
                await service.index_stored_photos()
            return await service.hashtags_for_photo(args.handle, args.photo, count)
        finally:
            await service.aclose()

    account, advice = asyncio.run(run())
    if args.json:
        print(
            json.dumps({"handle": account.handle, "photo": str(args.photo), **advice_json(advice)}, ensure_ascii=False)
        )
    else:
        print(format_advice(account, args.photo, advice))
    return 0


def advice_json(advice: HashtagAdvice) -> dict[str, Any]:
    return {
        "suggestions": [asdict(s) for s in advice.suggestions],
        "expected_engagement": advice.expected_engagement,
        "expected_rate": advice.expected_rate,
        "account_rate": advice.account_rate,
        "note": advice.note,
    }


def format_advice(account: Account, photo: Path, advice: HashtagAdvice) -> str:
    lines = [f"Hashtags for @{account.handle}, photo {photo.name} ({advice.tags_considered} tags considered)"]
    if not advice.suggestions:
        lines.append("  no hashtags to suggest yet: neither your posts nor the store have any")
    width = max((len(s.tag) for s in advice.suggestions), default=0) + 1
    for rank, suggestion in enumerate(advice.suggestions, start=1):
        lines.append(f"{rank:3d}. {'#' + suggestion.tag:<{width}}  {suggestion.lift:+6.1%}  {suggestion.reason}")
    lines.append("")
    if advice.account_rate > 0:
        lines.append(
            f"Expected engagement: {advice.expected_engagement:,.0f} likes+comments per post "
            f"(rate {advice.expected_rate:.2%}; your usual {advice.account_rate:.2%})"
        )
    lines.append(advice.note)
    if advice.suggestions:
        lines += ["", " ".join(f"#{s.tag}" for s in advice.suggestions)]
    return "\n".join(lines)


# ---- likepredict evaluate hashtags ----------------------------------------------------------------


def evaluate_command(args: argparse.Namespace, settings: Settings) -> int:
    accounts = list(read_any(args.influencers))
    use_ranker = not args.no_ranker and HashtagRanker.available(args.models_dir)
    metrics = evaluate_hashtags(
        accounts,
        n=min(max(args.count, 1), MAX_COUNT),
        half=args.half,
        prior_posts=max(args.prior_posts, 0.0),
        ranker=HashtagRanker(args.models_dir) if use_ranker else None,
    )
    metrics = {"data": str(args.influencers), **metrics}
    if args.output is not None:
        command = [
            "likepredict",
            "evaluate",
            "hashtags",
            "--influencers",
            str(args.influencers),
            "--count",
            str(args.count),
            *(["--half", args.half] if args.half else []),
            *(["--prior-posts", f"{args.prior_posts:g}"] if args.prior_posts != PRIOR_POSTS else []),
            *(["--no-ranker"] if args.no_ranker else []),
        ]
        record = {
            "command": " ".join(command),
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **metrics,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(metrics, sort_keys=False) if args.json else format_report(metrics))
    return 0

"""`likepredict hashtags PHOTO --handle H` and `likepredict evaluate hashtags --influencers PATH`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.services import open_services
from core.paths import MODELS_DIR
from core.records import Account
from core.settings import Settings
from inference.hashtag_candidates import CANDIDATE_SOURCES
from inference.hashtag_eval import evaluate_hashtags
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


def format_report(metrics: dict[str, Any]) -> str:
    """The metrics as a small table: each ranking of the engine beside the baseline."""
    n = metrics["n"]

    def show(value: Any, pct: bool = False) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if pct:
            return f"{value * 100:+.1f}%" if isinstance(value, float) else str(value)
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    def interval(bounds: Any) -> str:
        return "n/a" if bounds is None else f"{show(bounds[0], True)} to {show(bounds[1], True)}"

    # each column: (recall key prefix, gap key prefix): a ranking is judged by the score it sorts by
    columns = {
        **({"learned ranker": ("learned_ranking", "engine")} if metrics.get("ranker") else {}),
        "fit x (1+lift)": ("expected_ranking", "expected_value"),
        "lift alone": ("lift_ranking", "engine"),
        "baseline (most used tags)": ("baseline", "baseline"),
    }

    def row(label: str, cell: Any) -> tuple[str, ...]:
        return (label, *(cell(recall_key, gap_key) for recall_key, gap_key in columns.values()))

    rows = [
        ("metric", *columns),
        row(f"recall@{n}", lambda r, g: show(metrics[f"{r}_recall_at_{n}"])),
        row(f"hit rate@{n}", lambda r, g: show(metrics[f"{r}_hit_rate_at_{n}"])),
        row(f"NDCG@{n}", lambda r, g: show(metrics[f"{r}_ndcg_at_{n}"])),
        row("likes vs usual, high-score half", lambda r, g: show(metrics[f"{g}_lift_high_half"], True)),
        row("likes vs usual, low-score half", lambda r, g: show(metrics[f"{g}_lift_low_half"], True)),
        row("gap (high - low)", lambda r, g: show(metrics[f"{g}_lift_gap"], True)),
        row("gap, 90% bootstrap interval", lambda r, g: interval(metrics[f"{g}_lift_gap_ci90"])),
        row(
            "posts in halves (high/low)",
            lambda r, g: f"{metrics[f'{g}_high_half_posts']}/{metrics[f'{g}_low_half_posts']}",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    half = metrics.get("half")
    scope = f"accounts of half {half!r} (by a hash of the handle): " if half else ""
    lines = [
        f"{metrics['accounts']} accounts, {metrics['posts_in_store']} posts in the store; {scope}"
        f"{metrics['held_out_posts']} newest posts held out, {metrics['held_out_posts_with_tags']} of them with tags",
        "",
    ]
    for index, cells in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines += [
        "",
        "Posts are split by the score each column ranks by; the expected engagement rests on the tags' lift "
        "(the 'lift alone' column's split) under every ranking, so the learned ranker, which only orders the "
        "tags, shows the lift's split.",
        f"A perfect ordering of the candidates would reach recall@{n} {show(metrics[f'oracle_candidates_recall_at_{n}'])}, "
        f"of the account's own tags alone {show(metrics[f'oracle_own_tags_recall_at_{n}'])}.",
        *(
            [
                f"Wider ceilings: every tag anything about the account points to "
                f"({show(metrics['widest_candidates_per_post'])} a post) "
                f"{show(metrics[f'oracle_widest_recall_at_{n}'])}, every stored tag "
                f"{show(metrics[f'oracle_vocabulary_recall_at_{n}'])}; "
                f"{show(metrics['hidden_tags_in_no_stored_post'])} of the post's tags are on no stored post."
            ]
            if metrics.get(f"oracle_widest_recall_at_{n}") is not None
            else []
        ),
        *(
            [
                f"The candidates ({show(metrics['candidates_per_post'])} a post) hold "
                f"{show(metrics['candidate_recall'])} of the post's tags: "
                + ", ".join(
                    f"{source.replace('_', ' ')} {show(metrics[f'candidate_recall_{source}'])}"
                    for source in CANDIDATE_SOURCES
                )
                + " (besides own tags, only tags new to the account)."
            ]
            if metrics.get("candidate_recall") is not None
            else []
        ),
        *(
            ["WARNING: the ranker is measured on the accounts it was trained on; measure the other half."]
            if metrics.get("ranker_measured_on_its_training_accounts")
            else []
        ),
        f"engine default ranking: {metrics['ranking']}; prior weight {show(metrics['prior_posts'])} posts; "
        f"shrinkage k used {show(metrics['shrinkage_k_used'])}, estimated from the data "
        f"{show(metrics['shrinkage_k_estimated'])}",
    ]
    return "\n".join(lines)

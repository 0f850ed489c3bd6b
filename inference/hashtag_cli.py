"""`likepredict hashtags PHOTO --handle H` and `likepredict evaluate hashtags --influencers PATH`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from inference.onnx_model import ModelMismatchError
from inference.hashtags import MAX_COUNT, PRIOR_POSTS, HashtagAdvice, HashtagEngine
from likepredict.datasets import read_accounts_jsonl, read_any
from likepredict.paths import DEMO_DATA, MODELS_DIR
from likepredict.records import Account
from likepredict.settings import Settings
from likepredict.store import Store

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction, evaluate: argparse._SubParsersAction) -> None:
    suggest = commands.add_parser("hashtags", help="suggest hashtags for a photo, with reasons and expected engagement")
    suggest.add_argument("photo", type=Path, help="the photo you mean to post")
    suggest.add_argument("--handle", required=True, help="your Instagram account, e.g. demo_creator")
    suggest.add_argument("--count", type=int, default=None,
                         help=f"how many tags (default LIKEPREDICT_HASHTAG_COUNT, at most {MAX_COUNT})")
    suggest.add_argument("--all-images", action="store_true",
                         help="first embed every stored photo not yet embedded (slow once, cached after), so the "
                              "photo is compared with all of them")
    suggest.add_argument("--json", action="store_true", help="print one JSON object")
    suggest.set_defaults(func=hashtags_command)

    measure = evaluate.add_parser("hashtags", help="recall@N and engagement lift of the hashtag engine on real data")
    measure.add_argument("--influencers", type=Path, required=True, help="influencers-2017.jsonl or data like it")
    measure.add_argument("--count", type=int, default=10, help="suggestions per held-out post (default 10)")
    measure.add_argument("--half", choices=("a", "b"), default=None,
                         help="measure only the accounts of one half (split by a hash of the handle): choose "
                              "on half a, report on half b")
    measure.add_argument("--prior-posts", type=float, default=PRIOR_POSTS,
                         help=f"weight of a tag's prior in its fit, in posts (default {PRIOR_POSTS:g})")
    measure.add_argument("--json", action="store_true", help="print one JSON object")
    measure.add_argument("--output", type=Path, default=None,
                         help="also write the metrics, with the command that made them, to this JSON file")
    measure.set_defaults(func=evaluate_command)


# ---- likepredict hashtags -------------------------------------------------------------------------


def hashtags_command(args: argparse.Namespace, settings: Settings) -> int:
    count = min(max(args.count if args.count is not None else settings.hashtag_count, 1), MAX_COUNT)
    analyzer, analysis, photo_note = analyse_photo(args.photo, settings)
    store = Store.open(settings.db_path, settings.images_dir)
    try:
        if settings.source.kind == "demo":
            import_demo_neighbourhood(store)
        account = asyncio.run(fetch_account(settings, store, args.handle))
        prediction = predict_likes(account, analysis)
        engine = HashtagEngine.from_settings(settings, store, similarity=getattr(analyzer, "similarity", None),
                                             analyzer=analyzer)
        if args.all_images and analyzer is not None:
            print("embedding the stored photos not yet embedded (once; cached after)...", file=sys.stderr)
            engine.index_stored_images()
        advice = engine.suggest(account, analysis, count, prediction)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"handle": account.handle, "photo": str(args.photo), **advice_json(advice),
                          "photo_note": photo_note}, ensure_ascii=False))
    else:
        print(format_advice(account, args.photo, advice, photo_note))
    return 0


def analyse_photo(path: Path, settings: Settings) -> tuple[Any | None, Any | None, str]:
    """(analyzer, analysis, note). The photo is always decoded, so a bad file is refused the same way;
    without trained image models the tags are scored with every stored post counting equally."""
    from inference.photo import decode_photo

    decode_photo(path, max_pixels=settings.max_image_pixels)
    try:
        from inference.photo import PhotoAnalyzer  # type: ignore[attr-defined]

        analyzer = PhotoAnalyzer(MODELS_DIR, max_pixels=settings.max_image_pixels)
        [analysis] = analyzer.analyse([path])
    except (ImportError, ModelMismatchError) as error:
        log.debug("photo not analysed: %s", error)
        return None, None, "image models not available, so stored posts were not weighted by similarity"
    return analyzer, analysis, ""


def import_demo_neighbourhood(store: Store) -> None:
    """Put the bundled demo accounts in the store, so the engine has neighbourhoods to work with."""
    known = set(store.account_handles())
    for account in read_accounts_jsonl(DEMO_DATA):
        if account.handle not in known:
            store.save_account(account)


async def fetch_account(settings: Settings, store: Store, handle: str) -> Account:
    from scraping.service import AccountService

    service = AccountService.from_settings(settings, store)
    try:
        return (await service.get_account(handle)).account
    finally:
        await service.aclose()


def predict_likes(account: Account, analysis: Any | None) -> Any | None:
    """The likes model's prediction to set beside the engagement estimate; None without trained models."""
    if analysis is None:
        return None
    try:
        from inference.predictor import Predictor  # type: ignore[import-not-found]

        return Predictor(MODELS_DIR).predict(account, [analysis])[0]
    except (ImportError, ModelMismatchError) as error:
        log.debug("no likes prediction: %s", error)
        return None


def advice_json(advice: HashtagAdvice) -> dict[str, Any]:
    return {
        "suggestions": [asdict(s) for s in advice.suggestions],
        "expected_engagement": advice.expected_engagement,
        "expected_rate": advice.expected_rate,
        "account_rate": advice.account_rate,
        "note": advice.note,
    }


def format_advice(account: Account, photo: Path, advice: HashtagAdvice, photo_note: str = "") -> str:
    lines = [f"Hashtags for @{account.handle}, photo {photo.name} ({advice.tags_considered} tags considered)"]
    if not advice.suggestions:
        lines.append("  no hashtags to suggest yet: neither your posts nor the store have any")
    width = max((len(s.tag) for s in advice.suggestions), default=0) + 1
    for rank, suggestion in enumerate(advice.suggestions, start=1):
        lines.append(f"{rank:3d}. {'#' + suggestion.tag:<{width}}  {suggestion.lift:+6.1%}  {suggestion.reason}")
    lines.append("")
    if advice.account_rate > 0:
        lines.append(f"Expected engagement: {advice.expected_engagement:,.0f} likes+comments per post "
                     f"(rate {advice.expected_rate:.2%}; your usual {advice.account_rate:.2%})")
    lines.append(advice.note)
    if photo_note:
        lines.append(f"({photo_note})")
    if advice.suggestions:
        lines += ["", " ".join(f"#{s.tag}" for s in advice.suggestions)]
    return "\n".join(lines)


# ---- likepredict evaluate hashtags ----------------------------------------------------------------


def evaluate_command(args: argparse.Namespace, settings: Settings) -> int:
    from inference.hashtag_eval import evaluate_hashtags, format_report

    accounts = list(read_any(args.influencers))
    metrics = evaluate_hashtags(accounts, n=min(max(args.count, 1), MAX_COUNT), half=args.half,
                                prior_posts=max(args.prior_posts, 0.0))
    metrics = {"data": str(args.influencers), **metrics}
    if args.output is not None:
        command = ["likepredict", "evaluate", "hashtags", "--influencers", str(args.influencers),
                   "--count", str(args.count), *(["--half", args.half] if args.half else []),
                   *(["--prior-posts", f"{args.prior_posts:g}"] if args.prior_posts != PRIOR_POSTS else [])]
        record = {"command": " ".join(command), "taken_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  **metrics}
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(metrics, sort_keys=False) if args.json else format_report(metrics))
    return 0

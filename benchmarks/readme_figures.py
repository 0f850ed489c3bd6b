"""Rewrite README.md's figures section (between the markers) from `benchmarks/results/*.json` and
`models/card.json`, so no figure in the README is typed by hand.

    python -m benchmarks.readme_figures
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS_DIR
from core.paths import HASHTAG_RESULTS_DIR, MODELS_DIR

START = "<!-- figures:start -->"
END = "<!-- figures:end -->"
HEADING = "## Measured figures"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _benchmarks() -> dict[str, Any]:
    from benchmarks.__main__ import BENCHMARKS  # late: it imports every benchmark

    return BENCHMARKS


def previous_sections(readme_text: str) -> dict[str, str]:
    """The benchmark sections (`### name` to the next heading) of the figures section already in the README."""
    if START not in readme_text or END not in readme_text:
        return {}
    body = readme_text.split(START, 1)[1].split(END, 1)[0]
    sections = {}
    for chunk in body.split("\n### ")[1:]:
        name = chunk.split("\n", 1)[0].strip()
        sections[name] = "### " + chunk.strip()
    return sections


def figures_section(
    results_dir: Path = RESULTS_DIR, card_path: Path = MODELS_DIR / "card.json", previous: dict[str, str] | None = None
) -> str:
    """The Markdown between the markers: each benchmark's table with its command, when and where taken.

    A benchmark with no result in `results_dir` keeps its `previous` section (written by an earlier run of this
    command), so re-running one benchmark does not erase the others' figures."""
    previous = previous or {}
    parts = [
        "Each benchmark is one command and prints its table (`python -m benchmarks` runs them all); this "
        "section is written by `python -m benchmarks.readme_figures` from their latest results. "
        "The robustness tests (`tests/test_fuzz_bot.py`, `test_crash_safety.py`, `test_source_faults.py`, "
        "`test_telegram_faults.py`, `test_isolation.py`) run in `make test`."
    ]
    for name, module in _benchmarks().items():
        path = results_dir / f"{name}.json"
        if not path.is_file():
            parts.append(previous.get(name, f"### {name}\n\nNot measured yet: `python -m benchmarks.{name}`."))
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        where = result.get("machine", {})
        parts.append(
            f"### {name}\n\n`python -m benchmarks.{name}` — taken {result.get('taken_at', '?')} on "
            f"{where.get('cpus', '?')} CPUs (load average {where.get('load_average_1m_at_start', '?')} "
            f"at start); goal: {result.get('goal', 'none stated')}.\n\n{module.table(result)}"
        )
    if card_path.is_file():
        card = json.loads(card_path.read_text(encoding="utf-8"))
        parts.append(accuracy_section(card))
        models = ", ".join(
            f"`{name}` ({_size(entry.get('bytes', 0))})" for name, entry in sorted(card.get("models", {}).items())
        )
        parts.append(
            f"Models measured (`models/card.json`, updated {card.get('updated', '?')}): {models}. "
            "Their accuracy is in `models/MODEL_CARD.md`."
        )
    return "\n\n".join(parts)


def _row(label: str, values: list[Any]) -> str:
    return "| " + " | ".join([label, *(_cell(v) for v in values)]) + " |"


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


# Saved by `likepredict evaluate hashtags --half b --output ...`: held-out half b of each year, then every account.
HASHTAG_RESULTS = ("half-b", "2019-half-b", "all")


def accuracy_section(card: dict[str, Any], hashtag_dir: Path = HASHTAG_RESULTS_DIR) -> str:
    """Held-out accuracy as the pipeline wrote it to the card, and the hashtag evaluation's saved results."""
    models = card.get("models", {})
    parts = ["### accuracy (held-out data)"]
    if models.get("likes", {}).get("metrics"):
        parts.append(_likes_section(models["likes"], card.get("reports", {}).get("likes_cv", {})))
    appeal = models.get("appeal", {}).get("metrics", {})
    if appeal:
        parts.append(
            "Appeal model, `likepredict train --photos DIR` (held-out CLIVE photos):\n\n"
            "| model | Spearman | pairwise accuracy |\n| --- | --- | --- |\n"
            + "\n".join(
                [
                    _row(
                        f"shipped (one {models['appeal'].get('input_size', '?')} px pass: embedding, stage statistics"
                        + "".join(f", {group}" for group in models["appeal"].get("hand_groups", []))
                        + ")",
                        [appeal.get("held_out_spearman"), appeal.get("held_out_pairwise_accuracy")],
                    ),
                    _row(
                        "earlier: 6 views + hand features",
                        [appeal.get("baseline_six_view_spearman"), appeal.get("baseline_six_view_pairwise_accuracy")],
                    ),
                    _row(
                        "one 224 px view + hand features",
                        [
                            appeal.get("baseline_single_view_spearman"),
                            appeal.get("baseline_single_view_pairwise_accuracy"),
                        ],
                    ),
                    _row(
                        "hand features alone",
                        [appeal.get("baseline_hand_spearman"), appeal.get("baseline_hand_pairwise_accuracy")],
                    ),
                    _row(
                        "sharpness alone",
                        [appeal.get("baseline_sharpness_spearman"), appeal.get("baseline_sharpness_pairwise_accuracy")],
                    ),
                ]
            )
        )
    for name in HASHTAG_RESULTS:
        path = hashtag_dir / f"{name}.json"
        if path.is_file():
            parts.append(_hashtag_table(json.loads(path.read_text(encoding="utf-8"))))
    return "\n\n".join(parts)


def _likes_section(likes: dict[str, Any], cv: dict[str, Any]) -> str:
    """Per held-out year, the transfer, the ceiling, and the concept and time effects, as the likes step wrote them."""
    rows = [
        _row(
            f"{name} ({year.get('accounts')} accounts)",
            [
                year.get("model_mdape"),
                year.get("baseline_mdape"),
                _with_interval(year, "mdape_vs_baseline"),
                year.get("model_coverage_80"),
            ],
        )
        for name, year in sorted(likes["metrics"].items())
        if isinstance(year, dict)
    ]
    rows += [
        _row(
            f"trained on {t.get('trained_on')}, measured on {t.get('evaluated_on')} (transfer)",
            [t.get("model_mdape"), t.get("baseline_mdape"), t.get("mdape_vs_baseline"), None],
        )
        for t in likes.get("transfer", [])
    ]
    effects = sorted(likes.get("concept_effects", {}).items(), key=lambda item: -abs(item[1].get("change", 0.0)))
    said = [
        f"{name} {effect['change']:+.0%} [{effect['low']:+.0%}, {effect['high']:+.0%}]"
        + ("" if effect.get("supported") else " (not supported by the held-out accounts)")
        for name, effect in effects
    ]
    time = likes.get("time_effect", {})
    time_line = (
        f"Posts at times the model rates above the account's usual, on held-out 2019 accounts: "
        f"{time.get('change', 0.0):+.1%} likes [90 % interval {time.get('low', 0.0):+.1%}, {time.get('high', 0.0):+.1%}]"
        f" ({'supported' if time.get('supported') else 'not supported'}; {time.get('posts', '?')} posts)."
        + (
            f" Likes moved {time['rating_slope']:.2f}x the model's rating of the hour [90 % interval "
            f"{time['rating_slope_low']:.2f}, {time['rating_slope_high']:.2f}], on ratings up to "
            f"{time['rating_p95']:+.1%}; an answer's expected change for the best hour is its rating, capped there, "
            "times that."
            if "rating_slope" in time and "rating_p95" in time
            else ""
        )
        if time
        else ""
    )
    return (
        "Likes model, `likepredict train` on both influencers files (held-out accounts split by handle; "
        "written to the card by the pipeline):\n\n"
        "| held-out | model MdAPE | account median MdAPE | ratio [90 % interval, resampling accounts] "
        "| 80 % range coverage |\n"
        "| --- | --- | --- | --- | --- |\n"
        + "\n".join(rows)
        + "\n\n"
        + _ceiling_table(cv)
        + "Within-account concept effects on likes (2019 posts, 90 % interval): "
        + "; ".join(said)
        + ".\n\n"
        + time_line
    )


def _with_interval(figures: dict[str, Any], key: str) -> str:
    value, low, high = figures.get(key), figures.get(f"{key}_p05"), figures.get(f"{key}_p95")
    if value is None or low is None or high is None:
        return _cell(value)
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def _ceiling_table(cv: dict[str, Any]) -> str:
    """The shipped model's CV figure beside what a model told the account's later posts too reaches."""
    ceiling = cv.get("ceiling", {})
    sources = sorted(s for s in ceiling if isinstance(cv.get(s), dict))
    if not sources:
        return ""

    def shipped(source: str) -> float | None:
        figures = cv[source]
        return round(figures["mdape"] / figures["baseline_mdape"], 3) if figures.get("baseline_mdape") else None

    lines = [
        ("the shipped model", [shipped(s) for s in sources]),
        (
            "the median of the account's other posts, earlier and later, as the prediction",
            [ceiling[s].get("other_posts_median_vs_baseline") for s in sources],
        ),
        (
            "the model told that median (the ceiling)",
            [ceiling[s].get("model_with_other_posts_median_vs_baseline") for s in sources],
        ),
    ]
    return (
        "How far a prediction before posting could go (`reports.likes_cv.ceiling` in the card; "
        f"{cv.get('folds', '?')}-fold grouped CV on the training accounts, `models/training/likes_ceiling.py`): the "
        "same model told the median likes of the account's other posts, the later ones too, which no prediction "
        "before posting can know.\n\n"
        f"| CV on training accounts, MdAPE / the account median's | {' | '.join(sources)} |\n"
        f"| --- |{' --- |' * len(sources)}\n" + "\n".join(_row(label, values) for label, values in lines) + "\n\n"
    )


def _hashtag_table(result: dict[str, Any]) -> str:
    def row(label: str, prefix: str) -> str:
        keys = (f"{prefix}_recall_at_10", f"{prefix}_hit_rate_at_10", f"{prefix}_ndcg_at_10")
        return _row(label, [result.get(key) for key in keys])

    rows = [
        row("engine (learned ranker when trained, else fit × value)", "engine"),
        row("fit × value", "expected_ranking"),
        row("lift alone (the score the expected engagement uses)", "lift_ranking"),
        row("baseline: account's most used tags", "baseline"),
        _row("ceiling: a perfect ordering of every candidate", [result.get("oracle_candidates_recall_at_10")]),
        _row(
            "ceiling: of every tag the account points to (own, co-occurring with them, alike accounts')",
            [result.get("oracle_widest_recall_at_10")],
        ),
        _row(
            "ceiling: of every stored tag",
            [result.get("oracle_vocabulary_recall_at_10")],
        ),
    ]
    gap, interval = result.get("engine_lift_gap"), result.get("engine_lift_gap_ci90")
    trained_here = (
        " (the ranker's own training accounts)" if result.get("ranker_measured_on_its_training_accounts") else ""
    )
    return (
        f"Hashtags, `{result.get('command', '?')}`{trained_here}: {result.get('held_out_posts_with_tags', '?')} "
        f"hidden posts with tags; engine vs baseline recall@10 {_cell(result.get('engine_recall_at_10_vs_baseline'))}×; "
        f"likes gap of high- vs low-lift tags {_cell(gap)} (90 % interval {_cell(interval)}); "
        f"{_cell(result.get('hidden_tags_in_no_stored_post'))} of the hidden tags are on no stored post:\n\n"
        "| ranking | recall@10 | hit rate@10 | NDCG@10 |\n| --- | --- | --- | --- |\n" + "\n".join(rows)
    )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.1f} kB"


def rewrite(readme_text: str, section: str) -> str:
    """`readme_text` with the text between the markers replaced (the markers and a heading added at the end
    if missing)."""
    block = f"{START}\n{section}\n{END}"
    if START in readme_text and END in readme_text:
        before, rest = readme_text.split(START, 1)
        _, after = rest.split(END, 1)
        return before + block + after
    return readme_text.rstrip("\n") + f"\n\n{HEADING}\n\n{block}\n"


def main(readme: Path = PROJECT_ROOT / "README.md", results_dir: Path = RESULTS_DIR) -> int:
    text = readme.read_text(encoding="utf-8")
    updated = rewrite(text, figures_section(results_dir, previous=previous_sections(text)))
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    print(f"{readme}: figures section {'rewritten' if updated != text else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

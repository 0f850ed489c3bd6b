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
from likepredict.paths import MODELS_DIR, PROJECT_ROOT

START = "<!-- figures:start -->"
END = "<!-- figures:end -->"
HEADING = "## Speed and robustness figures"


def _benchmarks() -> dict[str, Any]:
    from benchmarks.__main__ import BENCHMARKS  # late: it imports every benchmark

    return BENCHMARKS


def figures_section(results_dir: Path = RESULTS_DIR, card_path: Path = MODELS_DIR / "card.json") -> str:
    """The Markdown between the markers: each benchmark's table with its command, when and where taken."""
    parts = ["Each benchmark is one command and prints its table (`python -m benchmarks` runs them all); this "
             "section is written by `python -m benchmarks.readme_figures` from their latest results. "
             "The robustness tests (`tests/test_fuzz_bot.py`, `test_crash_safety.py`, `test_source_faults.py`, "
             "`test_telegram_faults.py`, `test_isolation.py`) run in `make test`."]
    for name, module in _benchmarks().items():
        path = results_dir / f"{name}.json"
        if not path.is_file():
            parts.append(f"### {name}\n\nNot measured yet: `python -m benchmarks.{name}`.")
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        where = result.get("machine", {})
        parts.append(f"### {name}\n\n`python -m benchmarks.{name}` — taken {result.get('taken_at', '?')} on "
                     f"{where.get('cpus', '?')} CPUs (load average {where.get('load_average_1m_at_start', '?')} "
                     f"at start); goal: {result.get('goal', 'none stated')}.\n\n{module.table(result)}")
    if card_path.is_file():
        card = json.loads(card_path.read_text(encoding="utf-8"))
        models = ", ".join(f"`{name}` ({_size(entry.get('bytes', 0))})" for name, entry in sorted(card.get("models", {}).items()))
        parts.append(f"Models measured (`models/card.json`, updated {card.get('updated', '?')}): {models}. "
                     "Their accuracy is in `models/MODEL_CARD.md`.")
    return "\n\n".join(parts)


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
    updated = rewrite(text, figures_section(results_dir))
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    print(f"{readme}: figures section {'rewritten' if updated != text else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

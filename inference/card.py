"""The model card: `models/card.json` (read by the runtime) and `models/MODEL_CARD.md` (read by people).

Only the training pipeline writes the card. Each model has an entry:

    {"file": "likes.onnx", "sha256": "...", "feature_schema": {"version": "likes-v1", "names": [...]},
     "inputs": {...}, "metrics": {...}, "data": {...}, "notes": "..."}

`update_card` merges new entries into the existing card, so a step re-run alone (say, the encoder
export) keeps the other models' entries.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.paths import MODELS_DIR

CARD_JSON = MODELS_DIR / "card.json"
CARD_MD = MODELS_DIR / "MODEL_CARD.md"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_card(path: Path = CARD_JSON) -> dict[str, Any]:
    if not path.is_file():
        return {"card_version": 1, "models": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def model_entry(
    file: Path,
    feature_names: list[str],
    schema_version: str,
    metrics: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    notes: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A card entry for one exported `.onnx` file, with its sha256 taken now."""
    return {
        "file": file.name,
        "sha256": sha256_of(file),
        "bytes": file.stat().st_size,
        "feature_schema": {"version": schema_version, "names": list(feature_names)},
        "metrics": metrics or {},
        "data": data or {},
        "notes": notes,
        **extra,
    }


def update_card(
    entries: dict[str, dict[str, Any]], models_dir: Path = MODELS_DIR, sections: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge `entries` (and free-form report `sections`) into the card and rewrite both card files."""
    card_path = models_dir / "card.json"
    card = load_card(card_path)
    card.setdefault("models", {}).update(entries)
    card.setdefault("reports", {}).update(sections or {})
    card["updated"] = datetime.now(UTC).strftime("%Y-%m-%d")
    text = json.dumps(card, indent=2, sort_keys=True) + "\n"
    card_path.write_text(text, encoding="utf-8")
    # Rendered from the sorted JSON, so MODEL_CARD.md does not depend on which steps ran in this process.
    (models_dir / "MODEL_CARD.md").write_text(render_markdown(json.loads(text)), encoding="utf-8")
    return card


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format(v)}" for k, v in value.items())
    return str(value)


def render_markdown(card: dict[str, Any]) -> str:
    lines = [
        "# Model card",
        "",
        "Written by the training pipeline (`likepredict train`, `python -m models.export_encoder`); do not edit",
        "by hand. Every figure below was measured on held-out data by the pipeline.",
        "",
    ]
    for name, entry in sorted(card.get("models", {}).items()):
        lines += [
            f"## {name}",
            "",
            f"- file: `{entry['file']}` ({entry.get('bytes', 0):,} bytes)",
            f"- sha256: `{entry['sha256']}`",
            f"- feature schema: `{entry['feature_schema']['version']}`, {len(entry['feature_schema']['names'])} inputs",
        ]
        if entry.get("data"):
            lines.append(f"- data: {_format(entry['data'])}")
        if entry.get("notes"):
            lines.append(f"- notes: {entry['notes']}")
        metrics = entry.get("metrics") or {}
        if metrics:
            lines += ["", "| metric | value |", "| --- | --- |"]
            lines += [f"| {k} | {_format(v)} |" for k, v in metrics.items()]
        lines.append("")
    for name, section in sorted(card.get("reports", {}).items()):
        lines += [f"## Report: {name}", ""]
        if isinstance(section, dict):
            lines += ["| key | value |", "| --- | --- |"]
            lines += [f"| {k} | {_format(v)} |" for k, v in section.items()]
        else:
            lines.append(str(section))
        lines.append("")
    return "\n".join(lines)

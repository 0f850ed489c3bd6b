"""One ONNX model with its card entry: loaded once, checked, run.

The runtime refuses a file whose sha256 differs from the card, and a caller whose feature names
differ from the card's schema: a silent mismatch between training and serving is worse than a crash.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Read by onnxruntime as it initializes: no telemetry uploader, no events, no persistent device id for the whole
# process. `disable_telemetry_events()` alone comes too late (a proxy canary still saw connections to
# mobile.events.data.microsoft.com, issue #15): the bot talks to Telegram and the configured Instagram URL only.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import onnxruntime as ort

from inference.card import CARD_JSON, MODELS_DIR, load_card, sha256_of


class ModelMismatchError(RuntimeError):
    """A model file or feature schema does not match the model card."""


def session_options(threads: int = 1) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning threads burn a core while idle; a bot waits far more than it computes.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


class OnnxModel:
    """An `onnxruntime.InferenceSession` for the card entry `name` (`run` is thread-safe)."""

    def __init__(
        self, name: str, models_dir: Path = MODELS_DIR, threads: int = 1, card: dict[str, Any] | None = None
    ) -> None:
        card = card if card is not None else load_card(models_dir / CARD_JSON.name)
        entry = card.get("models", {}).get(name)
        if entry is None:
            raise ModelMismatchError(f"model {name!r} is not in {models_dir / 'card.json'}; run `likepredict train`")
        path = models_dir / entry["file"]
        if not path.is_file():
            raise ModelMismatchError(f"model file {path} is missing; run `likepredict train`")
        actual = sha256_of(path)
        if actual != entry["sha256"]:
            raise ModelMismatchError(
                f"{path} has sha256 {actual[:12]}…, the card says {entry['sha256'][:12]}…; re-run `likepredict train`"
            )
        self.name = name
        self.entry = entry
        self.feature_names: list[str] = list(entry["feature_schema"]["names"])
        self.schema_version: str = entry["feature_schema"]["version"]
        # onnxruntime may report usage to Microsoft; the bot talks to Telegram and Instagram only.
        ort.disable_telemetry_events()
        self.session = ort.InferenceSession(
            str(path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    @property
    def version(self) -> str:
        return f"{self.name}:{self.entry['sha256'][:12]}"

    def check_schema(self, feature_names: Sequence[str], schema_version: str | None = None) -> None:
        if list(feature_names) != self.feature_names or (schema_version and schema_version != self.schema_version):
            raise ModelMismatchError(
                f"model {self.name!r} was trained on feature schema {self.schema_version} "
                f"({len(self.feature_names)} inputs); the caller sends {schema_version} ({len(feature_names)})"
            )

    def run(self, inputs: np.ndarray, output: int = 0) -> np.ndarray:
        """Run on a float32 batch (rows = samples); returns output number `output`."""
        return self.session.run(None, {self.input_name: np.ascontiguousarray(inputs, dtype=np.float32)})[output]

    def run_all(self, inputs: np.ndarray) -> list[np.ndarray]:
        """Every output of one run on a float32 batch, in the graph's order."""
        return list(self.session.run(None, {self.input_name: np.ascontiguousarray(inputs, dtype=np.float32)}))

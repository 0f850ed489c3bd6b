"""Training steps run side by side, each in its own process on its own copy of the models folder.

Most of the pipeline's time is single-threaded (scikit-learn's exact GBRs, the encoder at one thread, Python
loops), so two steps at once use both cores. A step runs in a fresh `python -m models.training.pipeline STEP`
on a private copy of the models folder, made when it starts (so it sees what the steps it depends on wrote);
when it ends, the files it wrote are copied back and the card entries it changed are merged into the card with
`update_card`. Steps write disjoint card keys, and the card is sorted JSON rendered to Markdown from itself, so
the result is byte for byte what running them one after another gives.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from inference.card import load_card, sha256_of, update_card

CARD_FILES = ("card.json", "MODEL_CARD.md")  # merged through update_card, never copied
POLL_SECONDS = 0.2
Log = Callable[[str], None]


class StepFailedError(RuntimeError):
    """A step's worker process exited with an error; `output` is the end of what it printed."""

    def __init__(self, step: str, returncode: int, output: str) -> None:
        super().__init__(f"training step {step!r} failed (exit code {returncode}):\n{output}")
        self.step, self.returncode, self.output = step, returncode, output


@dataclass
class Worker:
    step: str
    process: subprocess.Popen[bytes]
    folder: Path
    output: IO[bytes]
    card: dict[str, Any]  # the card the step started from
    staged: dict[str, str]  # sha256 of each file it started from: only the files it changed are copied back


def artefact_names(folder: Path) -> list[str]:
    """The files of a models folder a step may read or write (not code, not the card)."""
    return [
        path.name
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix not in (".py", ".pyc") and path.name not in CARD_FILES
    ]


def stage(models_dir: Path, step: str) -> Path:
    """A private copy of the models folder for one step."""
    folder = Path(tempfile.mkdtemp(prefix=f"likepredict-{step}-"))
    for name in (*artefact_names(models_dir), *CARD_FILES):
        if (models_dir / name).is_file():
            shutil.copy2(models_dir / name, folder / name)
    return folder


def merge(worker: Worker, models_dir: Path) -> None:
    """Copy back the files the step wrote and merge the card entries it changed.

    Changed compared with its own starting copy, not with the models folder: another step may have rewritten
    a file since, and this step's stale copy of it must not undo that."""
    for name in artefact_names(worker.folder):
        if worker.staged.get(name) != sha256_of(worker.folder / name):
            shutil.copy2(worker.folder / name, models_dir / name)
    after = load_card(worker.folder / "card.json")
    changed = {
        part: {k: v for k, v in after.get(part, {}).items() if worker.card.get(part, {}).get(k) != v}
        for part in ("models", "reports")
    }
    if changed["models"] or changed["reports"]:
        update_card(changed["models"], models_dir, changed["reports"])


def run_in_workers(
    steps: Sequence[str],
    depends_on: Mapping[str, Sequence[str]],
    command: Callable[[str, Path], list[str]],
    models_dir: Path,
    jobs: int,
    log: Log,
) -> None:
    """Run `steps` (in this order of preference) `jobs` at a time, each once the steps it depends on are done.

    `command(step, folder)` is the worker's command line; its printed lines are passed to `log` when it ends."""
    pending = list(steps)
    running: list[Worker] = []
    done: set[str] = set()
    try:
        while pending or running:
            for step in [s for s in pending if all(d in done or d not in steps for d in depends_on.get(s, ()))]:
                if len(running) >= jobs:
                    break
                pending.remove(step)
                running.append(start(step, command, models_dir))
            time.sleep(POLL_SECONDS)
            for worker in [w for w in running if w.process.poll() is not None]:
                running.remove(worker)
                finish(worker, models_dir, log)
                done.add(worker.step)
    finally:
        for worker in running:  # only after a failure: the others' results would be dropped anyway
            worker.process.kill()
            worker.process.wait()
            cleanup(worker)


def start(step: str, command: Callable[[str, Path], list[str]], models_dir: Path) -> Worker:
    folder = stage(models_dir, step)
    staged = {name: sha256_of(folder / name) for name in artefact_names(folder)}
    output = tempfile.TemporaryFile()  # noqa: SIM115 (open while the worker runs; closed in cleanup)
    process = subprocess.Popen(command(step, folder), stdout=output, stderr=subprocess.STDOUT)
    return Worker(step, process, folder, output, load_card(folder / "card.json"), staged)


def finish(worker: Worker, models_dir: Path, log: Log) -> None:
    worker.output.seek(0)
    lines = worker.output.read().decode("utf-8", errors="replace").splitlines()
    try:
        if worker.process.returncode != 0:
            raise StepFailedError(worker.step, worker.process.returncode, "\n".join(lines[-40:]))
        for line in lines:
            if not line.startswith("training finished"):
                log(line)
        merge(worker, models_dir)
    finally:
        cleanup(worker)


def cleanup(worker: Worker) -> None:
    worker.output.close()
    shutil.rmtree(worker.folder, ignore_errors=True)

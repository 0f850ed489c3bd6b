"""What every benchmark shares: summaries of timings, the printed table, the JSON result, test photos,
and a ticker that measures how long the event loop was blocked."""

from __future__ import annotations

import asyncio
import io
import json
import os
import platform
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p95 and max of durations given in seconds, in milliseconds."""
    return {
        "n": len(seconds),
        "median_ms": percentile(seconds, 50) * 1000,
        "p95_ms": percentile(seconds, 95) * 1000,
        "max_ms": (max(seconds) * 1000) if seconds else float("nan"),
    }


def machine() -> dict[str, Any]:
    """Where the numbers were taken: they mean little without it."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m_at_start": round(load[0], 2),
    }


def write_result(name: str, result: dict[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    """`results_dir/<name>.json` with the result, when and where it was taken, and the command."""
    results_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **result,
    }
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=float) + "\n", encoding="utf-8")
    return path


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (it reads as well in a terminal as in the README)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def synthetic_photo(width: int, height: int, seed: int = 0, quality: int = 90) -> bytes:
    """A photo-like JPEG (smooth gradients, shapes, sensor-like noise) so its size and decode cost are realistic."""
    rng = np.random.default_rng(seed)
    small_w, small_h = max(8, width // 8), max(8, height // 8)
    y, x = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    base = np.stack(
        [
            128 + 100 * np.sin(x / small_w * rng.uniform(2, 6) + rng.uniform(0, 6)),
            128 + 100 * np.cos(y / small_h * rng.uniform(2, 6) + rng.uniform(0, 6)),
            128 + 60 * np.sin((x + y) / (small_w + small_h) * rng.uniform(4, 9)),
        ],
        axis=-1,
    )
    for _ in range(12):  # a few blobs, like objects in a scene
        cx, cy, r = rng.uniform(0, small_w), rng.uniform(0, small_h), rng.uniform(3, small_w / 4)
        mask = ((x - cx) ** 2 + (y - cy) ** 2) < r * r
        base[mask] = rng.uniform(0, 255, size=3)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 6, size=(height, width, 3)).astype(np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@dataclass
class LoopStallMonitor:
    """Ticks every `interval` seconds on the running loop; a late tick means the loop was blocked that long.

    Use as `async with LoopStallMonitor() as monitor: ...`, then read `monitor.longest_stall`.
    """

    interval: float = 0.005
    stalls: list[float] = field(default_factory=list)  # lateness of every tick, seconds
    _task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.stalls.append(max(0.0, time.perf_counter() - before - self.interval))

    async def __aenter__(self) -> LoopStallMonitor:
        self._task = asyncio.get_running_loop().create_task(self._tick(), name="loop stall monitor")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    @property
    def longest_stall(self) -> float:
        return max(self.stalls, default=0.0)


def busy_time(
    intervals: Sequence[tuple[float, float]], start: float = float("-inf"), end: float = float("inf")
) -> float:
    """Length of the union of (start, end) intervals, clipped to [start, end]: time when at least one ran."""
    total, covered_until = 0.0, start
    for begin, finish in sorted(intervals):
        begin, finish = max(begin, covered_until), min(finish, end)
        if finish > begin:
            total += finish - begin
            covered_until = finish
    return total


class CallTimer:
    """Records (start, end) of every call to chosen methods of live objects, from any thread.

    `timer.wrap(service.analyzer, "analyse")` replaces the bound method on that one instance; callers that
    look the method up on the object (as the service does) are timed, nothing else changes.
    """

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[float, float]]] = {}
        self._threads: list[tuple[int, float, float]] = []  # (thread, start, end) of every call

    def wrap(self, target: object, method: str, label: str | None = None) -> None:
        original = getattr(target, method)
        calls = self.calls.setdefault(label or method, [])

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                finished = time.perf_counter()
                calls.append((started, finished))  # list.append is atomic under the GIL
                self._threads.append((threading.get_ident(), started, finished))

        setattr(target, method, timed)

    def intervals(self) -> list[tuple[float, float]]:
        return [interval for calls in self.calls.values() for interval in calls]

    def busy_per_thread(self, start: float, end: float) -> float:
        """Summed over threads, the time each spent inside a timed call (a call inside another counts once)."""
        threads = {thread for thread, _, _ in self._threads}
        return sum(busy_time([(s, e) for t, s, e in self._threads if t == thread], start, end) for thread in threads)

    def total(self, label: str) -> float:
        return sum(end - start for start, end in self.calls.get(label, []))


def report(name: str, result: dict[str, Any], table: str, results_dir: Path = RESULTS_DIR) -> int:
    """Print the table and where the JSON went; the exit status of a benchmark command."""
    print(table)
    print(f"written {write_result(name, result, results_dir)}")
    return 0

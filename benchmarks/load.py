"""The bot under load: through the local Bot API server of the bot's end-to-end tests, `--chats` chats
(default 200) each send a photo at the same moment.

    python -m benchmarks.load [--chats 200] [--singles 5]

Reported: answered / sent; time from update to reply (p50, p95, max); bot overhead; the longest stall
of the event loop (a ticker task records how late each 5 ms tick comes). The bot, the Bot API server and
the ticker share one event loop, so a stall caused by the test server counts against the bot too.

Bot overhead, three ways (inference = time inside the photo analyser, the likes predictor (`predict`, and
`rate_times` for the best time to post; runs before 2026-12-02T16:00 did not count the latter) and the hashtag
engine, measured by wrapping those methods of the running bot's service):
- single: one photo at a time, (update-to-reply - its inference) / update-to-reply, median;
- burst, busy: (burst wall time - time when any inference was running) / burst wall time;
- burst, capacity: 1 - inference time summed over the inference threads (nested calls counted once)
  / (inference threads x burst wall time).
Goal: overhead <= 20 %, no stall > 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

from benchmarks.common import (
    RESULTS_DIR,
    CallTimer,
    LoopStallMonitor,
    busy_time,
    format_table,
    percentile,
    report,
    summary_ms,
    synthetic_photo,
)
from benchmarks.service_setup import benchmark_settings, index_stored_photos
from bot.context import state_of
from core.paths import DEMO_HANDLE
from core.settings import Settings
from tests.botapi import BotMessage, LocalBotApi, running_bot, telegram_photo_sizes

NAME = "load"
FIRST_CHAT = 500_000
ANSWER_MARK = "should get about"  # a prediction, not a refusal


class TimedBotApi(LocalBotApi):
    """The local Bot API server, noting when each message from the bot arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived_at: dict[int, float] = {}  # message id -> perf_counter when the bot sent it
        self.first_replies: dict[int, BotMessage] = {}  # chat id -> its first message since `mark()`

    def mark(self) -> None:
        """From now on, note each chat's first reply (kept in a dict: the waits check it after every call)."""
        self.first_replies = {}

    def _record(self, params: dict[str, Any], method: str, text: str, photo: bytes | None = None) -> dict[str, Any]:
        result = super()._record(params, method, text, photo)
        message = self.sent[-1]
        self.arrived_at[message.message_id] = time.perf_counter()
        self.first_replies.setdefault(message.chat_id, message)
        return result


def load_settings(server: LocalBotApi, folder: Path) -> Settings:
    return benchmark_settings(
        folder,
        telegram_bot_token=server.token,
        telegram_api_base_url=server.base_url,
        telegram_file_base_url=server.file_base_url,
        log_level="WARNING",
    )


def _instrument(application: Any) -> tuple[CallTimer, int]:
    service = state_of(application.bot_data).service
    timer = CallTimer()
    timer.wrap(service.analyzer, "analyse")
    timer.wrap(service.predictor, "predict")
    timer.wrap(service.predictor, "rate_times")  # the best time to post: the likes model run at candidate times
    timer.wrap(service.hashtags, "suggest")
    workers = getattr(getattr(service, "_cpu", None), "_max_workers", 2)
    return timer, workers


def _inference_between(timer: CallTimer, start: float, end: float) -> float:
    return busy_time([i for i in timer.intervals() if i[0] >= start], start, end)


async def _one_photo(server: TimedBotApi, chat: int, sizes: list, timer: CallTimer) -> tuple[float, float]:
    """(update-to-reply, inference) for one photo sent while the bot is otherwise idle."""
    server.mark()
    started = time.perf_counter()
    server.send_photo(chat, b"", sizes=sizes)
    await server.wait_until(lambda: chat in server.first_replies, timeout=120)
    reply = server.first_replies[chat]
    done = server.arrived_at[reply.message_id]
    return done - started, _inference_between(timer, started, done)


async def _measure(chats: int, singles: int, side: int, folder: Path | None) -> dict[str, Any]:
    chat_ids = [FIRST_CHAT + i for i in range(chats)]
    single_chat = FIRST_CHAT - 1
    photos = [telegram_photo_sizes(synthetic_photo(side, side, seed=i)) for i in range(chats + singles + 1)]
    with tempfile.TemporaryDirectory(prefix="likepredict-bench-") as tmp:
        async with TimedBotApi() as server:
            settings = load_settings(server, folder or Path(tmp))
            await asyncio.to_thread(index_stored_photos, settings)
            async with running_bot(settings) as application:
                timer, workers = _instrument(application)
                for chat in [single_chat, *chat_ids]:
                    server.send_text(chat, f"/handle {DEMO_HANDLE}")
                await server.wait_until(
                    lambda: all(server.messages_to(c) for c in [single_chat, *chat_ids]), timeout=600
                )
                await _one_photo(server, single_chat, photos[-1], timer)  # warms the caches
                single = [await _one_photo(server, single_chat, photos[chats + i], timer) for i in range(singles)]

                server.mark()
                started = time.perf_counter()
                for chat, sizes in zip(chat_ids, photos):  # before the ticker starts: queueing is the test's work
                    server.send_photo(chat, b"", sizes=sizes)
                async with LoopStallMonitor() as monitor:
                    await server.wait_until(
                        lambda: all(c in server.first_replies for c in chat_ids),
                        timeout=1800,
                        describe=lambda: f"replies to all {chats} chats",
                    )
                    finished = time.perf_counter()
    replies = [server.first_replies.get(c) for c in chat_ids]
    latencies = [server.arrived_at[r.message_id] - started for r in replies if r is not None]
    answered = sum(1 for r in replies if r is not None and ANSWER_MARK in r.plain_text)
    wall = finished - started
    burst_intervals = [i for i in timer.intervals() if i[0] >= started]
    return {
        "chats": chats,
        "photo_side": side,
        "answered": answered,
        "inference_threads": workers,
        "update_to_reply": summary_ms(latencies),
        "burst_wall_ms": wall * 1000,
        "burst_photos_per_second": answered / wall,  # what the machine carries, the models being the limit
        "overhead_single_median": median((lat - inf) / lat for lat, inf in single) if single else float("nan"),
        "single_update_to_reply": summary_ms([lat for lat, _ in single]),
        "overhead_burst_busy": (wall - busy_time(burst_intervals, started, finished)) / wall,
        "overhead_burst_capacity": 1 - timer.busy_per_thread(started, finished) / (workers * wall),
        "longest_stall_ms": monitor.longest_stall * 1000,
        "stall_p99_ms": percentile(monitor.stalls, 99) * 1000,
        "stalls_over_50ms": sum(1 for s in monitor.stalls if s > 0.050),
        "goal": "overhead <= 20 %, no stall > 50 ms",
    }


def measure(chats: int = 200, singles: int = 5, side: int = 1080, folder: Path | None = None) -> dict[str, Any]:
    """`folder` holds the bot's store (a temporary one by default; tests pass one already warmed)."""
    return asyncio.run(_measure(chats, singles, side, folder))


def table(result: dict[str, Any]) -> str:
    lat = result["update_to_reply"]
    rows = [
        ["answered", f"{result['answered']} / {result['chats']}"],
        [
            "update to reply p50 / p95 / max (ms)",
            f"{lat['median_ms']:,.0f} / {lat['p95_ms']:,.0f} / {lat['max_ms']:,.0f}",
        ],
        ["burst wall time (ms)", f"{result['burst_wall_ms']:,.0f}"],
        ["photos answered a second in the burst", f"{result.get('burst_photos_per_second', float('nan')):.1f}"],
        ["a photo sent alone: update to reply p50 (ms)", f"{result['single_update_to_reply']['median_ms']:,.0f}"],
        ["bot overhead, single photo (median)", f"{result['overhead_single_median']:.1%}"],
        ["bot overhead, burst (wall not covered by inference)", f"{result['overhead_burst_busy']:.1%}"],
        ["bot overhead, burst (capacity not spent on inference)", f"{result['overhead_burst_capacity']:.1%}"],
        ["longest event-loop stall (ms)", f"{result['longest_stall_ms']:.1f}"],
        ["event-loop stalls > 50 ms", str(result["stalls_over_50ms"])],
    ]
    return format_table(["measure", "value"], rows)


def main(argv: Sequence[str] | None = None, results_dir: Path = RESULTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--singles", type=int, default=5, help="photos sent one at a time before the burst")
    args = parser.parse_args(argv)
    result = measure(args.chats, args.singles)
    return report(NAME, result, table(result), results_dir)


if __name__ == "__main__":
    raise SystemExit(main())

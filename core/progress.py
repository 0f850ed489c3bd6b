"""A minimal progress bar on stderr (no dependency needed for one line of output)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], label: str, total: int | None = None, stream: TextIO | None = None) -> Iterator[T]:
    """Yield `items`, redrawing `label [#####     ] n/total` as they pass; a plain count without a total."""
    # Looked up per call, not bound at import: sys.stderr may have been swapped (pytest's capsys) since.
    stream = stream if stream is not None else sys.stderr
    done = 0
    width = 30
    for item in items:
        yield item
        done += 1
        if total:
            filled = int(width * done / total)
            stream.write(f"\r{label} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}")
        else:
            stream.write(f"\r{label} {done}")
        stream.flush()
    stream.write("\n")
    stream.flush()

"""`python -m benchmarks`: every benchmark in turn, each printing its table and writing its JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks import best, cache, embeddings, load, photo_cost, training

BENCHMARKS = {
    "photo_cost": photo_cost,
    "best": best,
    "load": load,
    "cache": cache,
    "embeddings": embeddings,
    "training": training,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"only these ({', '.join(BENCHMARKS)}); default: all")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    failed = 0
    for name in args.names or list(BENCHMARKS):
        print(f"\n## {name}\n", flush=True)
        failed += 1 if BENCHMARKS[name].main([]) else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

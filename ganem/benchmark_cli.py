"""What the benchmark scripts (benchmarks/*.py) share: their common options, ``--set``-style
parameter lists and the CSV they write. Kept apart from ``ganem.step_timing``, which times the
suite's own steps for cost estimates."""
from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from ganem.config import parse_value


def assignments(items: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` (command-line ``--set`` style) as a dict of parsed values."""
    return {key: parse_value(raw) for key, _, raw in (item.partition("=") for item in items)}


def write_rows(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    """A benchmark's CSV: one header, one line per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path}")


def benchmark_arguments(description: str, **defaults: Any):
    """The options every benchmark script shares: --device, --repeats, --threads, --out."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=defaults.get("repeats", 3), help="timed repeats (median reported)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--out", type=Path, required=True, help="CSV to write")
    return ap

"""Error per EM iteration of GAN-EM runs (from their iterations.jsonl), as a table and a figure.

    python benchmarks/ganem_curves.py results/dev/ganem_mnist5k_seed0 results/dev/ganem_mnist5k_seed1 \
        --out results/dev/ganem_mnist5k_curves.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "iterations.jsonl").read_text().splitlines() if line.strip()]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--every", type=int, default=5)
    args = ap.parse_args(argv)
    curves = {r.name: load(r) for r in args.runs}
    n = max(len(c) for c in curves.values())
    print("| iteration | " + " | ".join(curves) + " |")
    print("|---" * (len(curves) + 1) + "|")
    for i in range(n):
        if (i + 1) % args.every and i not in (0, n - 1):
            continue
        cells = [f"{c[i]['monitor_error']:.1f}" if i < len(c) else "" for c in curves.values()]
        print(f"| {i + 1} | " + " | ".join(cells) + " |")
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for name, c in curves.items():
            ax.plot([r["iteration"] for r in c], [r["monitor_error"] for r in c], label=name)
        ax.set_xlabel("EM iteration")
        ax.set_ylabel("clustering error % (Hungarian)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.out, dpi=100)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

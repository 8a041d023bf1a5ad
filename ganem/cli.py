"""``python -m ganem <command>``: the small CLI that every Snakemake rule calls.

Rules hold no logic; each command below is one stage (fetch data, run one cell, aggregate a table).
User errors (config, data, arguments) print one clear message and exit with status 2, without a
traceback and before any expensive work.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ganem.methods import METHODS


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="fit one method on one dataset for one K and seed, score it, record it")
    p.add_argument("--method", required=True, choices=sorted(METHODS))
    p.add_argument("--dataset", required=True, help="mnist, mnist5k, fashion_mnist, svhn, celeba-<Attribute>, toy-<shape>")
    p.add_argument("--k", type=int, required=True, help="number of clusters K")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", type=Path, required=True, help="run folder (predictions.npy, metrics.json, ...)")
    p.add_argument("--config", type=Path, default=None, help="YAML config (default config/config.yaml)")
    p.add_argument("--data-dir", default=None, help="folder with the dataset files (overrides data_dir)")
    p.add_argument("--n-samples", type=int, default=None, help="class-balanced subset of N images (seeded)")
    p.add_argument("--n-labels", type=int, default=0, help="labelled images for semi-supervised runs (0 = unsupervised)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set methods.gmm.n_init=3 (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_fetch(sub) -> None:
    p = sub.add_parser("fetch", help="download (if allowed) and verify a dataset, write its manifest")
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--download", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--out", type=Path, required=True, help="manifest JSON to write")


def _add_table1(sub) -> None:
    p = sub.add_parser("table1", help="aggregate run metrics into results/table1.csv and .md")
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--metrics", type=Path, nargs="*", default=[], help="metrics.json files of the runs")
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--md", type=Path, required=True)


def _cmd_run(args) -> int:
    from ganem.run import RunSpec, execute

    spec = RunSpec(method=args.method, dataset=args.dataset, k=args.k, seed=args.seed, out=args.out,
                   config_path=args.config, data_dir=args.data_dir, n_samples=args.n_samples,
                   n_labels=args.n_labels, overrides=tuple(args.overrides), progress=not args.no_progress)
    record = execute(spec)
    print(f"{args.method} {args.dataset} K={args.k} seed={args.seed}: error {record['error']:.2f}% "
          f"({record['scoring_rule']}), NMI {record['nmi']:.3f}, ARI {record['ari']:.3f}, "
          f"{record['seconds']:.1f}s -> {args.out / 'metrics.json'}")
    return 0


def _cmd_fetch(args) -> int:
    from ganem import data
    from ganem.io import atomic_write_json

    manifest = data.fetch(args.dataset, args.data_dir, download=args.download)
    atomic_write_json(args.out, manifest)
    print(f"{args.dataset}: {len(manifest['files'])} file(s) verified -> {args.out}")
    return 0


def _cmd_table1(args) -> int:
    from ganem.config import load_config
    from ganem.tables import write_table1

    write_table1(load_config(args.config), args.metrics, args.csv, args.md)
    print(f"wrote {args.csv} and {args.md}")
    return 0


COMMANDS = {"run": _cmd_run, "fetch": _cmd_fetch, "table1": _cmd_table1}


def main(argv: list[str] | None = None) -> int:
    from ganem.data import DataError
    from ganem.methods import ConfigError
    from ganem.training import NonFiniteLoss

    parser = argparse.ArgumentParser(prog="python -m ganem", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_run, _add_fetch, _add_table1):
        add(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except NonFiniteLoss as err:
        print(f"error: training diverged: {err}", file=sys.stderr)
        return 3

"""``python -m ganem <command>``: the small CLI that every Snakemake rule calls.

Rules hold no logic; each command below is one stage (fetch data, run one cell, aggregate a table).
User errors (config, data, arguments) print one clear message and exit with status 2, without a
traceback and before any expensive work.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ganem.methods import METHODS


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="fit one method on one dataset for one K and seed, score it, record it")
    p.add_argument("--method", required=True,
                   help=f"a registered method ({', '.join(sorted(METHODS))}) or a variant defined under the config's methods")
    p.add_argument("--dataset", required=True, help="mnist, mnist5k, fashion_mnist, svhn, celeba-<Attribute>, toy-<shape>")
    p.add_argument("--k", type=int, required=True, help="number of clusters K")
    p.add_argument("--seed", type=int, nargs="+", required=True,
                   help="the run's seed; several seeds train together in one process (seeds_per_job), "
                        "each into its own run folder: then --out must contain {seed}")
    p.add_argument("--out", required=True,
                   help="run folder (predictions.npy, metrics.json, ...); {seed} is replaced by the seed")
    p.add_argument("--config", type=Path, default=None, help="YAML config (default config/config.yaml)")
    p.add_argument("--data-dir", default=None, help="folder with the dataset files (overrides data_dir)")
    p.add_argument("--n-samples", type=int, default=None, help="class-balanced subset of N images (seeded)")
    p.add_argument("--n-labels", default="0",
                   help="class-balanced labelled images of a semi-supervised run (0 = unsupervised), or "
                        "'all': every fitted image with its own label (Fig. 4a's supervised reference)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set methods.gmm.n_init=3 (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--continue-from", type=Path, default=None, metavar="RUN_DIR",
                   help="a finished shorter run of the same cell and seed (checkpoints: keep) whose final "
                        "checkpoint this run continues from; a budget sweep's longer budgets use it")


def _add_plan(sub) -> None:
    p = sub.add_parser("plan", help="runs, steps and estimated hours per table and for `all`, before anything runs")
    p.add_argument("--config", type=Path, default=None, help="YAML config (default config/config.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (repeatable)")
    p.add_argument("--device", default="auto", help="device to time the steps on now: auto, cpu, cuda")
    p.add_argument("--timings", type=Path, default=None,
                   help="a timing file (JSON from --save-timings) to use instead of timing the steps now")
    p.add_argument("--save-timings", action="store_true",
                   help="store the timings measured now as timings/<device>.json (read for SLURM runtimes)")
    p.add_argument("--repeats", type=int, default=1,
                   help="timed steps per step kind after one warm-up step (median is used; default 1: on a CPU "
                        "core a 64x64 E-step takes tens of seconds)")
    p.add_argument("--no-ganmm", action="store_true", help="do not time GANMM (its runs are then untimed)")


def _add_evidence(sub) -> None:
    p = sub.add_parser("evidence", help="run a config's targets, then copy their tables and figures (and a "
                                        "provenance.json) into evidence/<config stem>/, the folder the docs cite")
    p.add_argument("--configfile", type=Path, required=True, help="the config, e.g. config/cpu.yaml")
    p.add_argument("targets", nargs="*", help="Snakemake targets (default: all)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--dest", type=Path, default=None, help="folder to fill (default evidence/<config stem>/)")


def _cmd_evidence(args) -> int:
    import subprocess

    from ganem.evidence import build

    try:
        dest = build(args.configfile, args.targets, args.cores, args.dest)
    except subprocess.CalledProcessError as err:
        print(f"error: snakemake stopped (exit {err.returncode}); nothing was copied", file=sys.stderr)
        return 1
    print(f"wrote {dest}/ (its provenance.json names the config, commit and versions)")
    return 0


def _add_fetch(sub) -> None:
    p = sub.add_parser("fetch", help="download (if allowed) and verify a dataset, write its manifest")
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--download", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--out", type=Path, required=True, help="manifest JSON to write")


SOURCE_HELP = ("the config file(s) the table is built from, as the reader should re-run them (e.g. "
               "config/quick.yaml); the DAG passes its --configfile. Default: --config")


def _add_table(sub, name: str, what: str) -> None:
    p = sub.add_parser(name, help=f"aggregate run metrics into {what}")
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--source", default=None, help=SOURCE_HELP)
    p.add_argument("--metrics", type=Path, nargs="*", default=[], help="metrics.json files of the runs")
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--md", type=Path, required=True)


def _cmd_run(args) -> int:
    from ganem.config import parse_n_labels
    from ganem.config_error import ConfigError
    from ganem.run import RunSpec, execute, execute_pack

    if len(args.seed) != len(set(args.seed)):
        raise ConfigError(f"--seed {' '.join(map(str, args.seed))}: a seed is given twice")
    if len(args.seed) > 1 and "{seed}" not in args.out:
        raise ConfigError(f"--out {args.out}: several seeds need one folder each; put {{seed}} in --out "
                          "(e.g. results/runs/ganem/mnist/unsup/K10/seed{seed})")
    if len(args.seed) > 1 and args.continue_from is not None:
        raise ConfigError("--continue-from continues one run: give one --seed")
    specs = [RunSpec(method=args.method, dataset=args.dataset, k=args.k, seed=seed,
                     out=Path(args.out.replace("{seed}", str(seed))), config_path=args.config,
                     data_dir=args.data_dir, n_samples=args.n_samples, n_labels=parse_n_labels(args.n_labels),
                     overrides=tuple(args.overrides), progress=not args.no_progress,
                     continue_from=args.continue_from) for seed in args.seed]
    records = [execute(specs[0])] if len(specs) == 1 else execute_pack(specs)
    for spec, record in zip(specs, records):
        print(f"{args.method} {args.dataset} K={args.k} seed={spec.seed}: error {record['error']:.2f}% "
              f"({record['scoring_rule']}), NMI {record['nmi']:.3f}, ARI {record['ari']:.3f}, "
              f"{record['seconds'] or float('nan'):.1f}s -> {spec.out / 'metrics.json'}")
    return 0


def _cmd_plan(args) -> int:
    import json

    import torch

    from ganem import cost, plan, step_timing
    from ganem.config import load_config
    from ganem.io import atomic_write_json
    from ganem.methods import ConfigError
    from ganem.provenance import resolve_device

    config = load_config(args.config, args.overrides)
    groups = plan.targets(config)
    if args.repeats < 1:
        raise ConfigError(f"--repeats {args.repeats}: give at least 1")
    if args.timings is not None:
        if not args.timings.is_file():
            raise ConfigError(f"--timings {args.timings}: no such file; write one with --save-timings")
        now = json.loads(args.timings.read_text())
    else:
        try:
            device = resolve_device(args.device)
        except (RuntimeError, ValueError) as err:
            raise ConfigError(f"--device {args.device}: {err}") from err
        ganem_params, ganmm_params = plan.params_per_family(config, groups["all"])
        families = sorted(set(ganem_params) | set(ganmm_params))
        print(f"timing the suite's steps on {device} ({torch.get_num_threads()} thread(s)) for "
              f"{', '.join(families) or 'no neural runs'} (seconds per family on a GPU; on a CPU core up to "
              "minutes for the 64x64 nets)", file=sys.stderr)
        now = step_timing.measure(tuple(families), device, ganem_params=ganem_params, ganmm_params=ganmm_params,
                                  ganmm=not args.no_ganmm, repeats=args.repeats, steps=1, warmup=1,
                                  progress=lambda msg: print(f"  {msg}", file=sys.stderr))
        if args.save_timings:
            path = cost.timing_path(now["device"])
            atomic_write_json(path, now)
            print(f"wrote {path}", file=sys.stderr)
    gpu = now if now["device"] == "cuda" else cost.stored_timings("cuda")
    mismatch = cost.device_mismatch(gpu) if gpu is not None and gpu is not now else None
    if mismatch:
        print(f"warning: {mismatch}", file=sys.stderr)
    print(plan.format_plan(config, groups, now, gpu))
    return 0


def _cmd_fetch(args) -> int:
    from ganem import data
    from ganem.io import atomic_write_json

    manifest = data.fetch(args.dataset, args.data_dir, download=args.download)
    atomic_write_json(args.out, manifest)
    print(f"{args.dataset}: {len(manifest['files'])} file(s) verified -> {args.out}")
    return 0


def _cmd_table(args) -> int:
    """table1 / table2 / table3: the config and the runs' metrics.json in, a CSV and a Markdown out."""
    from ganem import tables
    from ganem.config import load_config

    write = getattr(tables, f"write_{args.command}")
    write(load_config(args.config), args.metrics, args.csv, args.md, source=args.source or str(args.config))
    print(f"wrote {args.csv} and {args.md}")
    return 0


def _add_tables(sub) -> None:
    _add_table(sub, "table1", "results/table1.csv and .md")
    _add_table(sub, "table2", "results/table2.csv and .md (CelebA averages over the attributes)")
    _add_table(sub, "table3", "results/table3.csv and .md (CelebA, one row per printed attribute row)")
    p = sub.add_parser("toy2d", help="per-seed and mean/std errors of the 2-D toy runs")
    p.add_argument("--metrics", type=Path, nargs="*", default=[], help="metrics.json files of the toy-* runs")
    p.add_argument("--csv", type=Path, required=True, help="per-seed rows (results/toy2d.csv)")
    p.add_argument("--summary-csv", type=Path, required=True, help="mean/std per dataset x method")
    p.add_argument("--md", type=Path, required=True)
    p.add_argument("--source", default="", help=SOURCE_HELP.removesuffix(". Default: --config"))
    _add_table(sub, "ablation", "results/ablation.csv and .md (one row per variant of the ablation section)")
    _add_table(sub, "budget", "results/budget.csv and .md (one row per run of the budget_sweep section)")
    p = sub.add_parser("runs", help="one row per run (method, dataset, setting, K, seed, error, ..., commit, device)")
    p.add_argument("--metrics", type=Path, nargs="*", default=[], help="metrics.json files of the runs")
    p.add_argument("--csv", type=Path, required=True)
    p = sub.add_parser("summary", help="every paper cell of Tables 1-3: paper vs measured and a verdict")
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--source", default=None, help=SOURCE_HELP)
    p.add_argument("--table1", type=Path, default=None, help="required unless --only leaves Table 1 out")
    p.add_argument("--table2", type=Path, default=None, help="omit when the config runs no CelebA")
    p.add_argument("--table3", type=Path, default=None, help="omit when the config runs no CelebA")
    p.add_argument("--only", choices=["table1", "table2", "table3"], default=None,
                   help="the cells of one table only (results/summary_<table>.md: its verdicts without the "
                        "other tables' runs)")
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--md", type=Path, required=True)


def _add_figure(sub) -> None:
    p = sub.add_parser("figure", aliases=["figures"], help="draw one figure (PNG and PDF) from finished runs")
    kinds = p.add_subparsers(dest="kind", required=True)

    def outputs(q) -> None:
        q.add_argument("--png", type=Path, required=True)
        q.add_argument("--pdf", type=Path, required=True)

    q = kinds.add_parser("samples", help="Figs. 2, 3: a run's samples.png, one labelled row per class")
    q.add_argument("--run", type=Path, required=True, help="run folder or its metrics.json")
    q.add_argument("--title", default="")
    outputs(q)
    q = kinds.add_parser("tsne", help="Fig. 4: t-SNE (openTSNE) of the E-net features of several runs")
    q.add_argument("--panel", nargs=2, action="append", required=True, metavar=("LABEL", "RUN"),
                   help="panel title and run folder (or metrics.json); repeat per panel, in order")
    q.add_argument("--max-points", type=int, default=5000, help="images embedded per panel (seeded subset)")
    q.add_argument("--seed", type=int, default=0)
    outputs(q)
    q = kinds.add_parser("iterations", help="error per iteration (monitor_error), mean and band over seeds")
    q.add_argument("--metrics", type=Path, nargs="+", required=True)
    outputs(q)
    q = kinds.add_parser("spread", help="final error of every seed per method and column (strip + box)")
    q.add_argument("--metrics", type=Path, nargs="+", required=True)
    q.add_argument("--table1", type=Path, default=None, help="results/table1.csv: paper values beside")
    outputs(q)
    q = kinds.add_parser("toy2d", help="2-D mixtures: true classes, each method's clusters, GAN-EM samples")
    q.add_argument("--metrics", type=Path, nargs="+", required=True)
    outputs(q)
    q = kinds.add_parser("ablation", help="the ablation's variants per EM iteration (error, cluster share, D, G)")
    q.add_argument("--config", type=Path, required=True)
    q.add_argument("--metrics", type=Path, nargs="+", required=True)
    outputs(q)
    q = kinds.add_parser("budget", help="the budget sweep: error against training steps and CPU seconds")
    q.add_argument("--config", type=Path, required=True)
    q.add_argument("--metrics", type=Path, nargs="+", required=True)
    outputs(q)
    q = kinds.add_parser("celeba", help="Table 3 per attribute: paper vs measured")
    q.add_argument("--table3", type=Path, required=True)
    outputs(q)


def _cmd_toy2d(args) -> int:
    from ganem.tables import write_toy2d

    write_toy2d(args.metrics, args.csv, args.summary_csv, args.md, source=args.source)
    print(f"wrote {args.csv}, {args.summary_csv} and {args.md}")
    return 0


def _cmd_runs(args) -> int:
    from ganem.tables import write_runs

    table = write_runs(args.metrics, args.csv)
    print(f"wrote {args.csv} ({len(table)} runs)")
    return 0


def _cmd_summary(args) -> int:
    from ganem.config import ConfigError, load_config
    from ganem.summary import TABLES, write_summary

    tables = TABLES if args.only is None else (f"Table {args.only[-1]}",)
    if "Table 1" in tables and args.table1 is None:
        raise ConfigError("summary: --table1 is missing (or choose another table with --only)")
    frame = write_summary(load_config(args.config), args.table1, args.table2, args.table3, args.csv, args.md,
                          source=args.source or str(args.config), tables=tables)
    counts = ", ".join(f"{v}: {n}" for v, n in frame["verdict"].value_counts().items())
    print(f"wrote {args.csv} and {args.md} ({counts})")
    return 0


def _cmd_figure(args) -> int:
    from ganem import figures

    if args.kind == "samples":
        figures.samples_figure(args.run, args.png, args.pdf, title=args.title)
    elif args.kind == "tsne":
        figures.tsne_figure([(label, run) for label, run in args.panel], args.png, args.pdf,
                            max_points=args.max_points, seed=args.seed)
    elif args.kind == "iterations":
        figures.iterations_figure(args.metrics, args.png, args.pdf)
    elif args.kind == "spread":
        figures.spread_figure(args.metrics, args.png, args.pdf, table1_csv=args.table1)
    elif args.kind == "toy2d":
        figures.toy2d_figure(args.metrics, args.png, args.pdf)
    elif args.kind == "celeba":
        figures.celeba_figure(args.table3, args.png, args.pdf)
    elif args.kind == "ablation":
        from ganem.config import load_config

        figures.ablation_figure(load_config(args.config), args.metrics, args.png, args.pdf)
    elif args.kind == "budget":
        from ganem.config import load_config

        figures.budget_figure(load_config(args.config), args.metrics, args.png, args.pdf)
    print(f"wrote {args.png} and {args.pdf}")
    return 0


def _cmd_ablation(args) -> int:
    from ganem.tables.ablation import write_ablation
    from ganem.config import load_config

    table = write_ablation(load_config(args.config), args.metrics, args.csv, args.md,
                           args.source or str(args.config))
    print(f"wrote {args.csv} and {args.md} ({len(table)} variants)")
    return 0


def _cmd_budget(args) -> int:
    from ganem.config import load_config
    from ganem.tables.sweep import write_sweep

    table = write_sweep(load_config(args.config), args.metrics, args.csv, args.md, args.source or str(args.config))
    print(f"wrote {args.csv} and {args.md} ({len(table)} runs)")
    return 0


COMMANDS = {"run": _cmd_run, "plan": _cmd_plan, "ablation": _cmd_ablation, "budget": _cmd_budget, "fetch": _cmd_fetch, "table1": _cmd_table, "table2": _cmd_table,
            "table3": _cmd_table, "toy2d": _cmd_toy2d, "runs": _cmd_runs, "summary": _cmd_summary,
            "figure": _cmd_figure, "figures": _cmd_figure, "evidence": _cmd_evidence}


def main(argv: list[str] | None = None) -> int:
    from ganem.data import DataError
    from ganem.config_error import ConfigError
    from ganem.trainer_support import NonFiniteLoss

    parser = argparse.ArgumentParser(prog="python -m ganem", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_run, _add_plan, _add_fetch, _add_tables, _add_figure, _add_evidence):
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

"""``python -m ganem evidence``: rebuild one config's committed evidence folder, evidence/<config stem>/.

Why a folder apart: the DAG writes results/ and figures/, and Snakemake takes an existing output as
up to date. A committed table at a DAG path would answer a request under another config (a fresh
clone's `snakemake results/table1.csv` would return the CPU table instead of planning the paper's
runs) and every run would overwrite it. So results/ and figures/ hold only the last run's outputs
(git-ignored) and the numbers the docs cite live in evidence/<stem>/, copied there by this command
from the outputs of the config's targets, with a provenance.json saying what built them.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from ganem.config_error import ConfigError

EVIDENCE_DIRS = ("results", "figures")  # top-level tables and figures; run folders stay out
EVIDENCE_SUFFIXES = (".csv", ".md", ".png", ".pdf")
PROVENANCE = "provenance.json"


def evidence_files(summary_text: str) -> list[str]:
    """The tables and figures among the outputs that `snakemake --summary` lists (its first column),
    in its order: files directly under results/ or figures/, never run folders or data."""
    files = []
    for line in summary_text.splitlines()[1:]:  # the first line is the column header
        path = Path(line.split("\t", 1)[0])
        if len(path.parts) == 2 and path.parts[0] in EVIDENCE_DIRS and path.suffix in EVIDENCE_SUFFIXES:
            files.append(path.as_posix())
    return files


def provenance(configfile: Path, targets: list[str], files: list[str], command: list[str]) -> dict:
    """What built an evidence folder: config (path and sha256), targets, command, commit, date, versions."""
    from ganem.provenance import git_state, library_versions

    return {"config": configfile.as_posix(), "config_sha256": hashlib.sha256(configfile.read_bytes()).hexdigest(),
            "targets": targets, "built_by": " ".join(command), **git_state(),
            "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "platform": platform.platform(), "libraries": library_versions(), "files": files}


def collect(files: list[str], dest: Path, record: dict) -> None:
    """Replace dest's files with `files` (copied, timestamps kept) and write provenance.json beside them."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.is_file():
            old.unlink()
    for name in files:
        shutil.copy2(name, dest / Path(name).name)
    (dest / PROVENANCE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def build(configfile: Path, targets: list[str], cores: int, dest: Path | None = None) -> Path:
    """Run the config's targets through the DAG, then copy their tables and figures into dest
    (default evidence/<config stem>/). Run from the repository root."""
    if not Path("Snakefile").is_file():
        raise ConfigError("no Snakefile here: run `python -m ganem evidence` from the repository root")
    if not configfile.is_file():
        raise ConfigError(f"--configfile {configfile}: no such file (e.g. config/cpu.yaml)")
    targets = targets or ["all"]
    smk = [sys.executable, "-m", "snakemake", *targets, "--configfile", str(configfile)]
    command = [*smk, "--cores", str(cores)]
    subprocess.run(command, check=True)
    summary = subprocess.run([*smk, "--summary"], check=True, capture_output=True, text=True).stdout
    files = evidence_files(summary)
    dest = dest or Path("evidence") / configfile.stem
    collect(files, dest, provenance(configfile, targets, files, ["snakemake", *command[3:]]))
    return dest

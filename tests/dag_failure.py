"""What a test says when a Snakemake build fails: the end of Snakemake's stderr, the end of every job
log it names as failed, and the free disk space, so that a failure on CI shows its cause (a job's
traceback, a full disk) without a rerun on the CI machine."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

FAILED_LOGS = re.compile(r"log: (.+?) \(check log file")


def explain(result: subprocess.CompletedProcess, workdir: Path, chars: int = 3000) -> str:
    parts = [result.stderr[-chars:]]
    names = (name for line in FAILED_LOGS.findall(result.stderr) for name in line.split(", "))
    for name in dict.fromkeys(names):
        path = Path(workdir) / name
        parts.append(f"--- end of {name}:\n" + (path.read_text(errors="replace")[-chars:] if path.is_file()
                                                else "(no such file)"))
    usage = shutil.disk_usage(workdir)
    parts.append(f"--- disk under {workdir}: {usage.free / 2**30:.2f} GiB free of {usage.total / 2**30:.1f} GiB")
    return "\n".join(parts)

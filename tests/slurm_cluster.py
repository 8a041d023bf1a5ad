"""A throw-away one-node SLURM cluster on localhost, for testing profiles/slurm against a real SLURM.

    python tests/slurm_cluster.py -- snakemake results/table1.csv --profile profiles/slurm ...

starts munged, slurmctld and slurmd with a configuration written at run time to a temporary folder,
runs the command with SLURM_CONF pointing at it (so sbatch, squeue, scontrol and scancel talk to this
cluster), then stops every daemon it started and deletes the folder. Nothing under /etc is read or
written (munged gets its own key and socket), and no daemon outlives the script. tests/test_slurm.py
uses the same ``cluster()`` context manager.

Needs the Debian/Ubuntu packages slurm-wlm and munge (`make slurm` installs them) and root, because
slurmd launches jobs as their submitting user.

No accounting database: there is no slurmdbd, so `sacct` has nothing to read. Job states come from
slurmctld (`squeue`/`scontrol`, which keep a finished job for MinJobAge seconds), and every finished
job is also written by SLURM to a job-completion log (jobcomp/filetxt), the cluster's own permanent
record of what ran, with which limits and how it ended.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
PARTITION = "debug"
MIN_JOB_AGE = 3600  # seconds slurmctld keeps a finished job: longer than any test run (a loaded
# 2-core machine took 13 min for the first invocation), so squeue and scontrol still show it


def missing_programs() -> list[str]:
    """The SLURM/munge programs this machine lacks (empty when a cluster can start)."""
    return [p for p in (*DAEMONS, "sbatch", "squeue", "scontrol", "scancel", "srun")
            if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]


def _program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment under which SLURM's client commands talk to this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.root / "slurm.conf"),
                "PATH": f"{self.root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}

    @property
    def jobcomp_log(self) -> Path:
        return self.root / "jobcomp.log"

    def run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, **kwargs)

    def completed_jobs(self) -> list[dict[str, str]]:
        """SLURM's job-completion records (jobcomp/filetxt): one dict of KEY=value fields per job."""
        if not self.jobcomp_log.exists():
            return []
        return [dict(field.split("=", 1) for field in line.split() if "=" in field)
                for line in self.jobcomp_log.read_text().splitlines() if line.strip()]

    def job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` of one job as a dict (slurmctld keeps it MIN_JOB_AGE s after the end)."""
        out = self.run("scontrol", "-o", "show", "job", job_id).stdout
        return dict(field.split("=", 1) for field in out.split() if "=" in field)


def _write_config(root: Path, cpus: int, memory_mb: int) -> None:
    host = socket.gethostname().split(".")[0]
    (root / "state").mkdir()
    (root / "spool").mkdir()
    (root / "slurm.conf").write_text(f"""\
# Written by tests/slurm_cluster.py at run time; deleted when the cluster stops.
ClusterName=ganemtest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root / 'munge.socket'}
StateSaveLocation={root / 'state'}
SlurmdSpoolDir={root / 'spool'}
SlurmctldPidFile={root / 'slurmctld.pid'}
SlurmdPidFile={root / 'slurmd.pid'}
SlurmctldLogFile={root / 'slurmctld.log'}
SlurmdLogFile={root / 'slurmd.log'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root / 'jobcomp.log'}
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# the node as declared here, whatever slurmd measures (memory is not enforced without cgroups)
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge={MIN_JOB_AGE}
KillWait=5
InactiveLimit=0
MessageTimeout=10
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")


def _write_srun_wrapper(root: Path) -> None:
    """Inside a job, snakemake's slurm-jobstep plugin drops every SLURM_* variable (SLURM_CONF too)
    before its `srun`; on a real cluster srun then reads /etc/slurm/slurm.conf. This cluster keeps
    /etc untouched, so jobs find an `srun` first on PATH that points at the temporary config."""
    (root / "bin").mkdir()
    wrapper = root / "bin" / "srun"
    wrapper.write_text(f"#!/bin/sh\nSLURM_CONF={root / 'slurm.conf'} exec {shutil.which('srun')} \"$@\"\n")
    wrapper.chmod(0o755)


def _wait_for(check, what: str, root: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(root.glob("*.log")))
    raise RuntimeError(f"the test SLURM cluster did not come up: {what}\n{logs}")


def _stop(pid_file: Path) -> None:
    """SIGTERM the daemon in pid_file, then SIGKILL it if it is still there after 10 s."""
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().split()[0])
    except (ValueError, IndexError):
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@contextlib.contextmanager
def cluster(cpus: int | None = None, memory_mb: int = 64000):
    """Start munged + slurmctld + slurmd on localhost; stop them and delete their folder on exit."""
    missing = missing_programs()
    if missing:
        raise RuntimeError(f"SLURM is not installed (missing {', '.join(missing)}); run `make slurm`")
    root = Path(tempfile.mkdtemp(prefix="ganem-slurm-"))
    os.chmod(root, 0o755)  # slurmd and the job steps read the config from here
    cpus = cpus or os.cpu_count() or 1
    _write_config(root, cpus, memory_mb)
    _write_srun_wrapper(root)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    c = Cluster(root)
    try:
        subprocess.run([_program("munged"), "--force", f"--socket={root / 'munge.socket'}",
                        f"--key-file={key}", f"--pid-file={root / 'munged.pid'}",
                        f"--log-file={root / 'munged.log'}", f"--seed-file={root / 'munged.seed'}"],
                       check=True, capture_output=True)
        subprocess.run([_program("slurmctld"), "-c", "-i"], env=c.env, check=True, capture_output=True)
        subprocess.run([_program("slurmd")], env=c.env, check=True, capture_output=True)
        _wait_for(lambda: "idle" in c.run("sinfo", "-h", "-o", "%t").stdout, "node not idle", root)
        yield c
    finally:
        # jobs still running belong to this cluster: cancel them before their daemons go
        if (root / "slurmctld.pid").exists():
            subprocess.run(["scancel", "--full", "--partition", PARTITION], env=c.env, capture_output=True)
        for daemon in ("slurmd", "slurmctld", "munged"):
            _stop(root / f"{daemon}.pid")
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--" or len(argv) < 2:
        print("usage: python tests/slurm_cluster.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        with cluster() as c:
            print(f"one-node SLURM cluster up (SLURM_CONF={c.root / 'slurm.conf'})", file=sys.stderr)
            return subprocess.run(argv[1:], env=c.env).returncode
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

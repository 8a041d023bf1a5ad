"""Pin one job to one GPU of a multi-GPU machine, at most ``--jobs-per-gpu`` jobs per device.

    python -m ganem.gpu_pin --jobs-per-gpu 1 --lock-dir .snakemake/gpu-locks --gpus 1 -- python -m ganem run ...

Every training job of the workflow starts through this command. With ``--jobs-per-gpu 0`` (a cluster
executor, which sets CUDA_VISIBLE_DEVICES itself; no visible GPU; device cpu) or ``--gpus 0`` (a job
that declares no GPU) it simply runs the command.

Snakemake's local executor caps how many GPU jobs run at once (``--resources gpu=N``) but does not
say which device each one gets, so without this every job would train on ``cuda:0``. Each visible
device has ``jobs_per_gpu`` slot files in the lock folder; a job takes the first free slot with an
exclusive ``flock`` (devices filled evenly: the first slot of every device before any second slot),
sets ``CUDA_VISIBLE_DEVICES`` to that one device (which the job then sees as ``cuda``) and replaces
itself with the command. The command inherits the lock, so the slot is free again the moment the
job ends, however it ends (a kill included); a crashed job never leaves a stale lock behind.

Visible devices are those in ``CUDA_VISIBLE_DEVICES`` when it is set (so a user can hand the
workflow GPUs 2,3 only), otherwise every device torch sees.

``local_slots`` decides, when the workflow starts, what the plain ``snakemake --cores 8 all`` needs
on the machine it runs on: Snakemake's ``gpu`` resource (visible GPUs x ``jobs_per_gpu``, unless the
user gave ``--resources gpu=N``) and whether jobs are pinned at all. ``GANEM_VISIBLE_GPUS=N`` stands
in for the detected device count when the workflow starts (the tests' seam: a dry run on a machine
with no GPU plans as on 1 or 4).
"""
from __future__ import annotations

import argparse
import fcntl
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


JOBS_PER_GPU_DEFAULT = 1  # the schema's default for jobs_per_gpu (ganem/schemas/config.schema.yaml)


class NoGPU(RuntimeError):
    """No device to pin to; the message names the fix."""


@dataclass(frozen=True)
class Slots:
    """What a local Snakemake run does with GPUs: ``jobs_per_gpu`` for gpu_pin (0: no pinning) and
    the default of the global ``gpu`` resource (None: leave it as the user set it, or unset)."""

    jobs_per_gpu: int
    gpu: int | None
    why: str


def local_slots(config: dict[str, Any], environ: dict[str, str], count_devices: Callable[[], int],
                user_gpu: int | None) -> Slots:
    """GPU slots of a run on this machine's local executor (a cluster executor places its own jobs:
    the Snakefile does not call this there). ``user_gpu`` is ``--resources gpu=N`` when given; it
    wins, and jobs are still pinned so that N jobs spread over the devices."""
    jobs_per_gpu = int(config.get("jobs_per_gpu", JOBS_PER_GPU_DEFAULT))
    if jobs_per_gpu < 1 or int(config.get("gpus_per_job", 0)) < 1 or config.get("device") == "cpu":
        return Slots(0, None, "no job declares a GPU (gpus_per_job 0, jobs_per_gpu 0 or device cpu): "
                              "nothing pinned")
    if "GANEM_VISIBLE_GPUS" in environ:
        text = environ["GANEM_VISIBLE_GPUS"]
        if not text.isdigit():
            raise ValueError(f"GANEM_VISIBLE_GPUS={text!r} is not a GPU count; set it to a whole number "
                             "such as 0, 1 or 4, or unset it to detect the GPUs")
        n_visible = int(text)
    else:
        try:
            n_visible = len(visible_devices(environ, count_devices))
        except NoGPU:
            n_visible = 0
    if n_visible == 0:
        return Slots(0, None, "no GPU visible: jobs are not pinned, and a job with device: cuda stops "
                              "with its own error")
    if user_gpu is not None:
        return Slots(jobs_per_gpu, None, f"gpu={user_gpu} from --resources; {n_visible} visible GPU(s), "
                                         f"at most {jobs_per_gpu} job(s) each")
    return Slots(jobs_per_gpu, n_visible * jobs_per_gpu,
                 f"gpu={n_visible * jobs_per_gpu}: {n_visible} visible GPU(s) x jobs_per_gpu "
                 f"{jobs_per_gpu} (--resources gpu=N overrides)")


def visible_devices(environ: dict[str, str], count_devices: Callable[[], int]) -> list[str]:
    """Device ids a job may be pinned to: CUDA_VISIBLE_DEVICES's entries, else 0..count-1."""
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        devices = [d.strip() for d in listed.split(",") if d.strip()]
    else:
        devices = [str(i) for i in range(count_devices())]
    if not devices:
        raise NoGPU("no GPU is visible, but jobs_per_gpu asks to pin jobs to GPUs; run on a GPU "
                    "machine or leave jobs_per_gpu at 0 (and gpus_per_job at 0 for CPU runs)")
    return devices


def slot_order(devices: list[str], jobs_per_gpu: int) -> list[tuple[str, int]]:
    """(device, slot) in the order jobs take them: one job on every device before a second on any."""
    return [(device, slot) for slot in range(jobs_per_gpu) for device in devices]


def try_acquire(devices: list[str], jobs_per_gpu: int, lock_dir: Path) -> tuple[str, int] | None:
    """(device, open locked fd) of the first free slot, or None when every slot is taken."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    for device, slot in slot_order(devices, jobs_per_gpu):
        fd = os.open(lock_dir / f"gpu{device}.slot{slot}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return device, fd
    return None


def acquire(devices: list[str], jobs_per_gpu: int, lock_dir: Path, poll_s: float = 1.0,
            timeout_s: float | None = None) -> tuple[str, int] | None:
    """Wait for a free slot (None after timeout_s). With Snakemake's ``--resources gpu=`` cap set to
    devices x jobs_per_gpu a slot is always free; the wait only covers a cap set higher."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    waited = False
    while True:
        got = try_acquire(devices, jobs_per_gpu, lock_dir)
        if got is not None or (deadline is not None and time.monotonic() >= deadline):
            return got
        if not waited:
            print(f"gpu_pin: all {len(devices)} x {jobs_per_gpu} GPU slots busy, waiting", file=sys.stderr)
            waited = True
        time.sleep(poll_s)


def torch_device_count() -> int:
    import torch

    return torch.cuda.device_count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganem.gpu_pin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs-per-gpu", type=int, required=True,
                        help="at most this many jobs per device; 0: do not pin")
    parser.add_argument("--lock-dir", type=Path, required=True, help="folder of the slot lock files")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs the job declares; 0: do not pin")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("needs a command after --")
    if args.jobs_per_gpu < 1 or args.gpus < 1:
        os.execvp(command[0], command)
    try:
        devices = visible_devices(dict(os.environ), torch_device_count)
    except NoGPU as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    device, fd = acquire(devices, args.jobs_per_gpu, args.lock_dir)
    print(f"gpu_pin: CUDA_VISIBLE_DEVICES={device} (one of {len(devices)} devices, "
          f"at most {args.jobs_per_gpu} job(s) each)", file=sys.stderr, flush=True)
    os.set_inheritable(fd, True)  # the lock lives as long as the command
    os.execvpe(command[0], command, {**os.environ, "CUDA_VISIBLE_DEVICES": device})
    return 0  # not reached: execvpe replaces this process


if __name__ == "__main__":
    sys.exit(main())

"""A GANMM run killed with SIGKILL (once in pretraining, once in the main loop) and started again
ends with exactly the predictions and log of an uninterrupted run."""
from __future__ import annotations

import textwrap

import numpy as np
import torch

from child_process import kill_when, records, start

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    import torch
    from baselines.ganmm.method import GANMM, Params
    from ganem.methods import RunContext, make_params

    def main(run_dir, out):
        torch.set_num_threads(1)
        g = torch.Generator().manual_seed(0)
        x = torch.rand(120, 1, 28, 28, generator=g)
        x[:60, :, :14] *= 0.1
        y = np.r_[np.zeros(60, int), np.ones(60, int)]
        params = make_params(Params, dict(iterations=24, pretrain_iterations=6, dim=4, batch_size=10,
                                          critic_iters=2, log_every=2, checkpoint_every=3,
                                          num_chose_schedule=[[0, 5], [10, 8]]), "methods.ganmm")
        ctx = RunContext(k=2, seed=7, run_dir=Path(run_dir), device=torch.device("cpu"), progress=False,
                         monitor_labels=y)
        m = GANMM(params, ctx)
        m.fit(x)
        a = m.assign(x)
        np.savez(out, labels=a.labels, proba=a.proba)

    if __name__ == "__main__":
        main(sys.argv[1], sys.argv[2])
""")

ITERATIONS = 24






def _strip(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in ("seconds", "seconds_per_iteration")}


def test_resume_after_sigkill_is_exact(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)

    # uninterrupted reference, in this process (one thread, like the child)
    namespace: dict = {}
    exec(compile(CHILD, str(script), "exec"), namespace)
    before = torch.get_num_threads()
    try:
        namespace["main"](tmp_path / "ref", tmp_path / "ref.npz")
    finally:
        torch.set_num_threads(before)

    run_dir = tmp_path / "killed"
    ckpt = run_dir / "checkpoint.pt"
    # 1st kill: during pretraining (its first checkpoint is at pretraining iteration 3 of 6)
    p = start(script, run_dir, tmp_path / "killed.npz")
    kill_when(p, ckpt.exists, timeout=60)
    assert not (tmp_path / "killed.npz").exists()
    # 2nd kill: in the main loop, after a log record past the last checkpoint (log to be truncated)
    p = start(script, run_dir, tmp_path / "killed.npz")
    kill_when(p, lambda: any(r["iteration"] >= 12 and r["iteration"] % 3 for r in records(run_dir)), timeout=60)
    assert not (tmp_path / "killed.npz").exists()
    assert max(r["iteration"] for r in records(run_dir)) < ITERATIONS
    # restart to the end
    p = start(script, run_dir, tmp_path / "killed.npz")
    out, _ = p.communicate(timeout=240)
    assert p.returncode == 0, out.decode()
    assert "resuming" in out.decode()

    a, b = np.load(tmp_path / "ref.npz"), np.load(tmp_path / "killed.npz")
    np.testing.assert_array_equal(a["labels"], b["labels"])
    np.testing.assert_array_equal(a["proba"], b["proba"])
    ra, rb = records(tmp_path / "ref"), records(run_dir)
    assert [r["iteration"] for r in rb] == [0] + list(range(2, ITERATIONS + 1, 2))
    assert [_strip(r) for r in ra] == [_strip(r) for r in rb]

"""A GAN-EM run killed with SIGKILL after its first EM iteration's checkpoint, then started again,
ends with exactly the predictions, soft assignments and log of an uninterrupted run, on the CPU and
(``pytest -m device --device cuda``) on a GPU, where deterministic algorithms and the cuBLAS
workspace that ganem sets on import make the MLP's kernels repeatable."""
from __future__ import annotations

import textwrap

import numpy as np
import torch

from child_process import kill_when, records, start
ITERATIONS = 6

CHILD = textwrap.dedent(f"""
    import sys
    from pathlib import Path
    import numpy as np
    import torch
    from ganem.methods import RunContext, make_params
    from ganem.model.method import GANEM
    from ganem.model.params import Params

    def main(run_dir, out, device="cpu"):
        torch.set_num_threads(1)
        g = torch.Generator().manual_seed(0)
        x = torch.randn(200, 2, generator=g)   # MLP nets (the conv/BatchNorm path is resumed in-process
        x[:100, 0] += 4.0                       # in test_ganem_em.py)
        y = np.r_[np.zeros(100, int), np.ones(100, int)]
        params = make_params(Params, dict(em_iterations={ITERATIONS}, mstep_batches=20, q_steps=60, batch_size=32,
                                          e_batch_size=64, mlp_hidden=32, noise="normal", estep_labels="phi"),
                             "methods.ganem")
        ctx = RunContext(k=2, seed=11, run_dir=Path(run_dir), device=torch.device(device), progress=False,
                         monitor_labels=y)
        m = GANEM(params, ctx)
        m.fit(x)
        a = m.assign(x)
        np.savez(out, labels=a.labels, proba=a.proba)

    if __name__ == "__main__":
        main(*sys.argv[1:])
""")






def test_resume_after_sigkill_is_exact(tmp_path, device):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    namespace: dict = {}
    exec(compile(CHILD, str(script), "exec"), namespace)
    before = torch.get_num_threads()
    try:  # uninterrupted reference, in this process (one thread, like the child)
        namespace["main"](tmp_path / "ref", tmp_path / "ref.npz", str(device))
    finally:
        torch.set_num_threads(before)

    run_dir = tmp_path / "killed"
    ckpt = run_dir / "checkpoint.pt"
    p = start(script, run_dir, tmp_path / "killed.npz", str(device))
    kill_when(p, ckpt.exists, timeout=120)
    assert not (tmp_path / "killed.npz").exists()
    done = torch.load(ckpt, weights_only=False)["iteration"]
    assert 1 <= done < ITERATIONS  # killed mid-run

    p = start(script, run_dir, tmp_path / "killed.npz", str(device))
    out, _ = p.communicate(timeout=240)
    assert p.returncode == 0, out.decode()
    assert f"resuming {run_dir} after EM iteration {done}" in out.decode()

    a, b = np.load(tmp_path / "ref.npz"), np.load(tmp_path / "killed.npz")
    np.testing.assert_array_equal(a["labels"], b["labels"])
    np.testing.assert_array_equal(a["proba"], b["proba"])
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    ra, rb = records(tmp_path / "ref"), records(run_dir)
    assert [r["iteration"] for r in rb] == list(range(1, ITERATIONS + 1))
    assert [strip(r) for r in ra] == [strip(r) for r in rb]

"""GPU-path defects found without a GPU (issue 19, part C): each test stands in for the GPU with
monkeypatched ``torch.cuda`` functions, the ``meta`` device or a subprocess environment."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from ganem import trainer_support


def _fake_cuda(monkeypatch, visible: int, calls: list):
    """torch.cuda as a machine with ``visible`` GPUs shows it: one RNG state per device; restoring
    more states than devices fails as torch's set_rng_state_all does (invalid device ordinal)."""
    state = lambda i: torch.full((16,), i, dtype=torch.uint8)  # noqa: E731
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device="cuda": state(0))
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [state(i) for i in range(visible)])

    def set_all(states):
        if len(states) > visible:
            raise RuntimeError("CUDA error: invalid device ordinal")
        calls.extend(states)

    monkeypatch.setattr(torch.cuda, "set_rng_state_all", set_all)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, device="cuda": calls.append(s))


def test_checkpoint_from_4_gpus_resumes_pinned_to_1(monkeypatch):
    """Point 4: the checkpoint holds the current device's CUDA RNG state only, and restores it
    on a machine that sees one GPU."""
    saved_calls: list = []
    _fake_cuda(monkeypatch, visible=4, calls=saved_calls)
    state = trainer_support.rng_state()
    assert isinstance(state["cuda"], torch.Tensor)  # one state, not one per visible GPU
    restored: list = []
    _fake_cuda(monkeypatch, visible=1, calls=restored)
    trainer_support.set_rng_state(state)
    assert len(restored) == 1 and torch.equal(restored[0], state["cuda"])


def test_old_all_gpu_checkpoint_restores_its_first_state(monkeypatch):
    restored: list = []
    _fake_cuda(monkeypatch, visible=1, calls=restored)
    state = trainer_support.rng_state()
    state["cuda"] = [torch.full((16,), i, dtype=torch.uint8) for i in range(4)]
    trainer_support.set_rng_state(state)
    assert len(restored) == 1 and int(restored[0][0]) == 0


def _env_after_import(**env) -> str:
    base = {k: v for k, v in os.environ.items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    code = "import os, ganem; print(os.environ.get('CUBLAS_WORKSPACE_CONFIG'))"
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_cublas_workspace_is_set_before_any_cuda_work():
    """Point 9: importing ganem (what every entry point does first) fixes cuBLAS's workspace, which
    deterministic cuBLAS needs; a user's own setting wins."""
    assert _env_after_import() == ":4096:8"
    assert _env_after_import(CUBLAS_WORKSPACE_CONFIG=":16:8") == ":16:8"


def test_step_timings_run_under_trainings_deterministic_algorithms(monkeypatch):
    """Point 1: the timed GAN-EM and GANMM steps run with deterministic algorithms on, as training
    does (seed_everything), whatever the process had set before."""
    from baselines.ganmm.train import GANMMTrainer
    from ganem import step_timing
    from ganem.model.em import GANEMTrainer

    seen: dict[str, list[bool]] = {"mstep": [], "estep": [], "ganmm": []}

    def spy(cls, name, key):
        real = getattr(cls, name)

        def wrapped(self, *args, **kwargs):
            seen[key].append(torch.are_deterministic_algorithms_enabled())
            return real(self, *args, **kwargs)
        monkeypatch.setattr(cls, name, wrapped)

    spy(GANEMTrainer, "mstep_step", "mstep")
    spy(GANEMTrainer, "estep_step", "estep")
    spy(GANMMTrainer, "main_iteration", "ganmm")
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    try:
        from ganem.model.method import Params
        from baselines.ganmm.method import Params as GANMMParams

        step_timing.time_ganem("mnist", torch.device("cpu"), Params(batch_size=8, e_batch_size=8, assign_batch_size=16),
                               steps=1, repeats=1, warmup=0)
        torch.use_deterministic_algorithms(False)
        step_timing.time_ganmm("mnist", torch.device("cpu"), GANMMParams(batch_size=4, critic_iters=1,
                                                                             num_chose_schedule=((0, 2),)), repeats=1,
                               n=16, warmup=0)
    finally:
        torch.use_deterministic_algorithms(before, warn_only=True)
    assert seen["mstep"] and all(seen["mstep"]) and all(seen["estep"])
    assert seen["ganmm"] and all(seen["ganmm"])


def test_reset_optimizers_checkpoint_has_no_optimiser_states_and_resumes_exactly(tmp_path):
    """Point 6: under reset_optimizers (re-created every EM iteration) the checkpoint leaves the
    optimiser states out, and a resume is still bit-identical."""
    import numpy as np

    from test_ganem_em import fit, records

    g = torch.Generator().manual_seed(1)
    x = torch.rand(40, 1, 28, 28, generator=g)
    small = dict(em_iterations=3, mstep_batches=2, q_steps=2, batch_size=8, e_batch_size=8, monitor_fakes=10,
                 reset_optimizers=True, optimizer="adam", noise_dim=4)
    _, ref = fit(tmp_path, x, name="ref", k=3, **small)
    fit(tmp_path, x, name="res", k=3, **{**small, "em_iterations": 1})
    state = torch.load(tmp_path / "res" / "checkpoint.pt", weights_only=False)
    assert not any(key.startswith("opt") for key in state)
    _, res = fit(tmp_path, x, name="res", k=3, **small)
    np.testing.assert_array_equal(ref.proba, res.proba)
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert [strip(r) for r in records(tmp_path / "ref")] == [strip(r) for r in records(tmp_path / "res")]


@pytest.mark.parametrize("where", ["methods.ganem.compile", "datasets.mnist5k.methods.ganem.compile"])
def test_reduce_overhead_with_packed_seeds_is_refused_by_the_config_check(where):
    """Point 8: compile: reduce-overhead with seeds_per_job > 1 is one clear config error (before
    any work), and each alone is accepted."""
    from test_config import tiny

    from ganem.config import ConfigError, apply_overrides, validate

    validate(apply_overrides(tiny(), ["seeds_per_job=2"]))
    validate(apply_overrides(tiny(), [f"{where}=reduce-overhead"]))
    with pytest.raises(ConfigError, match=r"compile: reduce-overhead .* seeds_per_job=2 .* set seeds_per_job: 1"):
        validate(apply_overrides(tiny(), ["seeds_per_job=2", f"{where}=reduce-overhead"]))


def _no_writes_under(monkeypatch, folder):
    """Tests run as root, where chmod 555 stops nothing: make every write-mode open under
    ``folder`` (from the fetch module) fail as a read-only folder would."""
    import builtins
    from pathlib import Path

    from ganem.data import fetching

    def guarded(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and Path(file).resolve().is_relative_to(Path(folder).resolve()):
            raise PermissionError(13, "Read-only file system", str(file))
        return builtins.open(file, mode, *args, **kwargs)

    monkeypatch.setattr(fetching, "open", guarded, raising=False)


def test_fetch_from_a_read_only_data_folder(tmp_path, write_idx_dataset, monkeypatch):
    """Point 10: the fetch lock lives outside data_dir, so verifying a read-only shared folder works."""
    from ganem import data
    from ganem.data import fetching

    write_idx_dataset(tmp_path / "shared")
    _no_writes_under(monkeypatch, tmp_path / "shared")
    assert len(data.fetch("mnist", tmp_path / "shared", download=False)["files"]) == 4
    assert not fetching.lock_path(tmp_path / "shared", "mnist").resolve().is_relative_to(tmp_path / "shared")


@pytest.fixture
def flaky_mnist(monkeypatch, write_idx_dataset):
    """mnist.download replaced by a downloader that writes a truncated file and times out on its
    first ``fail`` calls, then writes the real files; it records the socket timeout in force."""
    import socket

    from ganem.data import fetching, mnist

    monkeypatch.setattr(fetching, "RETRY_WAIT_S", 0.0, raising=False)
    calls: list = []

    def install(fail: int):
        def download(ds, target):
            calls.append(socket.getdefaulttimeout())
            raw = target / "MNIST/raw"
            raw.mkdir(parents=True, exist_ok=True)
            if len(calls) <= fail:
                (raw / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b truncated")
                raise socket.timeout("timed out")
            write_idx_dataset(raw, gz=False)

        monkeypatch.setattr(mnist, "download", download)
        return calls

    return install


def test_download_retries_twice_with_a_timeout_and_moves_whole_files_in(tmp_path, flaky_mnist):
    """Point 11: two stalled attempts are retried; the third one's files are moved in."""
    from ganem import data

    calls = flaky_mnist(fail=2)
    m = data.fetch("mnist", tmp_path, download=True)
    assert m["downloaded"] and len(m["files"]) == 4
    assert calls == [60] * 3  # fetching.SOCKET_TIMEOUT_S
    assert not list(tmp_path.glob(".download-*")) and not list(tmp_path.rglob("*.gz"))  # no partial file


def test_failed_download_keeps_no_partial_file_and_names_files_and_fix(tmp_path, flaky_mnist):
    from ganem import data

    calls = flaky_mnist(fail=10)
    with pytest.raises(data.DataError) as err:
        data.fetch("mnist", tmp_path, download=True)
    msg = str(err.value)
    assert len(calls) == 3
    assert "failed 3 times" in msg and "timed out" in msg and "train-images-idx3-ubyte" in msg
    assert "put the four IDX files" in msg and str(tmp_path) in msg
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # the truncated file never reached data_dir


@pytest.mark.filterwarnings("ignore:for .*copying from a non-meta parameter")
def test_ganmm_noise_generator_state_moves_between_devices(tmp_path, monkeypatch):
    """Point 5: GANMM's noise generator stays on the CPU when training on another device (`meta`
    stands in for a GPU), so a CPU checkpoint's generator state restores there and the reverse;
    the noise itself is on the training device."""
    from test_ganmm import TINY, tiny_data

    from baselines.ganmm.method import Params
    from baselines.ganmm.train import GANMMTrainer
    from ganem.methods import RunContext, make_params

    monkeypatch.setattr(GANMMTrainer, "_fingerprint", lambda self, x: {})  # its checksum reads values back
    params = make_params(Params, {**TINY, "output_activation": "sigmoid"}, "methods.ganmm")

    def trainer(device: str) -> GANMMTrainer:
        t = GANMMTrainer(params, RunContext(k=2, seed=0, run_dir=tmp_path / device, device=torch.device(device),
                                            progress=False))
        t.setup(tiny_data(n=20)[0])
        return t

    cpu, meta = trainer("cpu"), trainer("meta")
    cpu._noise(5)
    meta.noise_gen.set_state(cpu.noise_gen.get_state())  # _restore of a CPU run's checkpoint
    assert meta._noise(3).device.type == "meta"
    cpu.noise_gen.set_state(meta.noise_gen.get_state())  # and the reverse
    assert torch.equal(cpu.noise_gen.get_state(), meta.noise_gen.get_state())


@pytest.fixture
def host_reads(monkeypatch):
    """Counts reads of floating-point tensor values into Python (float(), .item(), .tolist()): on
    a GPU each one waits for the device (integer index bookkeeping on the CPU is not counted)."""
    count = {"n": 0}
    for name in ("__float__", "item", "tolist"):
        real = getattr(torch.Tensor, name)

        def counted(self, *args, _real=real, **kwargs):
            if self.is_floating_point():
                count["n"] += 1
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, counted)
    return count


def test_ganmm_iterations_read_no_loss_back(tmp_path, host_reads):
    """Point 7: GANMM's pretraining and main-loop iterations keep their 2K+1 losses on the device;
    they are read back once per window (FINITE_CHECK_EVERY iterations, a log or a checkpoint)."""
    from test_ganmm import TINY, tiny_data

    from baselines.ganmm.method import Params
    from baselines.ganmm.train import GANMMTrainer
    from ganem.methods import RunContext, make_params

    params = make_params(Params, {**TINY, "output_activation": "sigmoid"}, "methods.ganmm")
    trainer = GANMMTrainer(params, RunContext(k=2, seed=0, run_dir=tmp_path, device=torch.device("cpu"),
                                              progress=False))
    x = trainer.setup(tiny_data(n=40)[0])
    host_reads["n"] = 0
    for it in range(3):
        trainer.pretrain_iteration(x, it)
    for t in range(3):
        trainer.main_iteration(x, t)
    assert host_reads["n"] == 0
    trainer._flush()
    assert host_reads["n"] == 1 and trainer.window["n"] == 6 and trainer.window["loss_g"][0] != 0


def test_ganem_labelled_steps_read_no_loss_back_per_step(tmp_path, host_reads, monkeypatch):
    """Point 7: GAN-EM's labelled E-net steps (Sec. 5.3) read back the labelled error once per pass
    over the labels and their losses once at the end, not two floats per step."""
    from ganem.methods import RunContext
    from ganem.model.em import GANEMTrainer
    from ganem.model.method import Params

    params = Params(em_iterations=1, mstep_batches=1, q_steps=1, batch_size=8, e_batch_size=8, mlp_hidden=8,
                    semi_batch_size=4, semi_epsilon=0.0, semi_max_steps=30, monitor_fakes=8, noise="normal")
    trainer = GANEMTrainer(params, RunContext(k=2, seed=0, run_dir=tmp_path, device=torch.device("cpu"),
                                              progress=False))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g)
    trainer._build(x)
    trainer._make_optimizers(0)
    passes = []
    real_error = trainer._labelled_error
    monkeypatch.setattr(trainer, "_labelled_error", lambda *a: passes.append(1) or real_error(*a))
    host_reads["n"] = 0
    info = trainer._train_labelled(x[:20], torch.randint(0, 2, (20,), generator=g), g, 1)
    assert info["semi_steps"] >= 10 and info["semi_loss"] is not None
    # one read per labelled-error pass (5 steps each) and one for the mean loss; before: 2 per step more
    assert host_reads["n"] <= len(passes) + 1 < info["semi_steps"]


def test_a_gpu_timing_of_another_model_warns(tmp_path, monkeypatch, capsys):
    """Point 2: a stored GPU timing carries its device name (``cuda:NVIDIA H200``); pricing runs
    on a machine whose GPU is another model warns, naming both and the fix; the same model does not."""
    import json

    from ganem import cost

    monkeypatch.setattr(cost, "TIMINGS_DIR", tmp_path)
    caches = [cost._stored, getattr(cost, "_warn_mismatch", cost._stored)]
    for cache in caches:
        cache.cache_clear()
    table = {"device": "cuda", "device_name": "NVIDIA H200", "families": {}}
    (tmp_path / "cuda.json").write_text(json.dumps(table))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    from test_cost import PAPER  # device cuda (gpus_per_job)

    try:
        with pytest.warns(UserWarning, match=r"measured on cuda:NVIDIA H200, but this machine's GPU is cuda:Tesla T4"
                                             r".*--save-timings"):
            assert cost.estimate_run_seconds(PAPER, "ganem", "mnist", 0, 10) is None  # no mnist row
        assert cost.device_key(table) == "cuda:NVIDIA H200"
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
        assert cost.device_mismatch(table) is None
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a login node: cannot tell
        assert cost.device_mismatch(table) is None
    finally:
        for cache in caches:
            cache.cache_clear()

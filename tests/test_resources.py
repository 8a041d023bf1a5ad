"""ganem/job_resources.py: what a training job declares (threads, mem_mb, runtime from its cost, gpu)."""
import pytest

from ganem import job_resources as resources
from ganem.job_resources import gpu_pin_command, runtime_minutes, training_resources

CONFIG = {"threads_per_job": 2, "gpus_per_job": 1}


@pytest.fixture
def estimate(monkeypatch):
    """Set the cost estimate (seconds, or None) every run gets; record the calls."""
    calls = []

    def set_to(seconds):
        def fake(config, method, dataset, n_labels, k):
            calls.append((method, dataset, n_labels, k))
            return seconds

        monkeypatch.setattr(resources, "estimate_run_seconds", fake)
        monkeypatch.setattr(resources, "gpu_seconds_from_cpu", lambda *a: None,  # nor a CPU timing to scale
                            raising=False)
        return calls

    return set_to


def test_runtime_is_twice_the_estimate_plus_startup_in_whole_minutes(estimate):
    calls = estimate(3600.0)  # one hour of training steps
    assert runtime_minutes(CONFIG, "ganem", "mnist", 100, 10) == 2 * 60 + 10
    assert calls == [("ganem", "mnist", 100, 10)]
    estimate(61.0)  # 122 s -> 3 minutes (rounded up), + 10
    assert runtime_minutes(CONFIG, "ganmm", "mnist", 0, 10) == 13


def test_runtime_follows_the_cost_not_one_guess(estimate):
    estimate(5 * 3600.0)
    celeba = runtime_minutes(CONFIG, "ganem", "celeba-Eyeglasses", 0, 2)
    estimate(600.0)
    mnist = runtime_minutes(CONFIG, "ganem", "mnist", 0, 10)
    assert (celeba, mnist) == (610, 30)


def test_unknown_cost_falls_back_to_the_documented_defaults(estimate):
    estimate(None)
    assert runtime_minutes(CONFIG, "ganem", "mnist", 0, 10) == resources.FALLBACK_CAP_MIN == 8 * 60
    assert runtime_minutes(CONFIG, "kmeans", "mnist", 0, 10) == 2 * 60


def test_no_gpu_timing_prices_a_gpu_run_from_the_cpu_timing_capped(estimate, monkeypatch, tmp_path):
    """Issue 19 C.3: without timings/cuda.json a GPU job asks for (CPU estimate / GPU_SPEEDUP_FLOOR)
    x 2 + 10 min, at most FALLBACK_CAP_MIN, not a 24 h guess that short partitions refuse."""
    import json

    from ganem import cost

    estimate(None)  # no timing of the planned device (cuda)
    monkeypatch.setattr(resources, "gpu_seconds_from_cpu", cost.gpu_seconds_from_cpu)  # the real one
    row = {"mstep_ms": 10.0, "mstep_batch": 64, "estep_ms": 20.0, "estep_batch": 64, "assign_ms_per_image": 0.0}
    monkeypatch.setattr(cost, "TIMINGS_DIR", tmp_path)
    cost._stored.cache_clear()
    (tmp_path / "cpu.json").write_text(json.dumps({"device": "cpu", "families": {"mnist": row}}))
    config = {**CONFIG, "device": "cuda", "datasets": {"mnist": {"n_samples": 640}},
              "methods": {"small": {"method": "ganem", "batch_size": 64, "e_batch_size": 64, "em_iterations": 3,
                                    "p_epochs": 1, "q_steps": 100}}}
    try:
        cpu_s = 3 * (10 * 10.0 + 100 * 20.0) / 1000  # 3 EM iterations of 10 M-step + 100 E-step steps
        gpu_s = cost.gpu_seconds_from_cpu(config, "small", "mnist", 0, 10)
        assert gpu_s == pytest.approx(cpu_s / cost.GPU_SPEEDUP_FLOOR)
        assert runtime_minutes(config, "small", "mnist", 0, 10) == 1 + 10  # 2 x 1.26 s -> 1 min, + 10
        config["methods"]["small"]["em_iterations"] = 10**6  # far past the cap
        assert runtime_minutes(config, "small", "mnist", 0, 10) == resources.FALLBACK_CAP_MIN
        assert runtime_minutes(config, "small", "mnist", 0, 10, attempt=2) == 2 * resources.FALLBACK_CAP_MIN
    finally:
        cost._stored.cache_clear()


def test_each_retry_doubles_the_runtime(estimate):
    estimate(None)
    assert [runtime_minutes(CONFIG, "gmm", "mnist", 0, 10, attempt) for attempt in (1, 2, 3)] == [120, 240, 480]


def test_training_resources_of_neural_and_classical_runs(estimate):
    estimate(None)
    assert training_resources(CONFIG, "ganem", "mnist", 0, 10) == {
        "threads": 2, "mem_mb": 8000, "runtime": resources.FALLBACK_CAP_MIN, "gpu": 1}
    # K-means never declares a GPU, whatever gpus_per_job says
    assert training_resources(CONFIG, "kmeans", "mnist", 0, 10) == {
        "threads": 2, "mem_mb": 4000, "runtime": 120, "gpu": 0}
    assert training_resources({}, "ganmm", "mnist", 0, 10)["gpu"] == 0  # gpus_per_job defaults to 0


def test_gpu_pin_command_carries_jobs_per_gpu():
    assert gpu_pin_command(0, "py") == "py -m ganem.gpu_pin --jobs-per-gpu 0 --lock-dir .snakemake/gpu-locks"
    assert "--jobs-per-gpu 2 " in gpu_pin_command(2, "py")


def test_variants_of_a_neural_method_are_neural(estimate):
    estimate(None)
    config = {**CONFIG, "methods": {"ganem_paper": {"method": "ganem"}, "gmm_full": {"method": "gmm"}}}
    assert training_resources(config, "ganem_paper", "mnist", 0, 10)["gpu"] == 1
    assert training_resources(config, "gmm_full", "mnist", 0, 10) == {
        "threads": 2, "mem_mb": 4000, "runtime": 120, "gpu": 0}

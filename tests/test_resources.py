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
    assert runtime_minutes(CONFIG, "ganem", "mnist", 0, 10) == 24 * 60
    assert runtime_minutes(CONFIG, "kmeans", "mnist", 0, 10) == 2 * 60


def test_each_retry_doubles_the_runtime(estimate):
    estimate(None)
    assert [runtime_minutes(CONFIG, "gmm", "mnist", 0, 10, attempt) for attempt in (1, 2, 3)] == [120, 240, 480]


def test_training_resources_of_neural_and_classical_runs(estimate):
    estimate(None)
    assert training_resources(CONFIG, "ganem", "mnist", 0, 10) == {
        "threads": 2, "mem_mb": 8000, "runtime": 1440, "gpu": 1}
    # K-means never declares a GPU, whatever gpus_per_job says
    assert training_resources(CONFIG, "kmeans", "mnist", 0, 10) == {
        "threads": 2, "mem_mb": 4000, "runtime": 120, "gpu": 0}
    assert training_resources({}, "ganmm", "mnist", 0, 10)["gpu"] == 0  # gpus_per_job defaults to 0


def test_gpu_pin_command_carries_jobs_per_gpu():
    assert gpu_pin_command({}, "py") == "py -m ganem.gpu_pin --jobs-per-gpu 0 --lock-dir .snakemake/gpu-locks"
    assert "--jobs-per-gpu 2 " in gpu_pin_command({"jobs_per_gpu": 2}, "py")


def test_variants_of_a_neural_method_are_neural(estimate):
    estimate(None)
    config = {**CONFIG, "methods": {"ganem_paper": {"method": "ganem"}, "gmm_full": {"method": "gmm"}}}
    assert training_resources(config, "ganem_paper", "mnist", 0, 10)["gpu"] == 1
    assert training_resources(config, "gmm_full", "mnist", 0, 10) == {
        "threads": 2, "mem_mb": 4000, "runtime": 120, "gpu": 0}

"""One readable line per iteration in the job's log (ganem.trainer_support.iteration_line), for both methods."""
import json
import logging

from ganem.trainer_support import IterationLog, iteration_line


def test_gan_em_record_line():
    record = {"iteration": 3, "seconds": 12.437, "d_loss": 1.30214, "g_loss": 0.71129, "e_loss": 0.05,
              "phi": [0.5, 0.5], "cluster_sizes": [51, 49], "changed": 0.02, "fake_accuracy": 0.9,
              "lr_factor": 1.0, "monitor_error": 12.5}
    assert iteration_line(record) == ("iteration 3 | 12.4 s | d_loss 1.3021 g_loss 0.7113 e_loss 0.0500 | "
                                      "sizes [51, 49] | changed 0.0200 | error 12.50%")


def test_ganmm_record_line_with_phase_and_missing_values():
    record = {"iteration": 0, "phase": "pretrain", "seconds": 3.0, "seconds_per_iteration": 1.5,
              "loss_d": -0.25, "loss_g": 0.125, "loss_c": None, "cluster_sizes": [60, 60], "changed": None,
              "num_chose": None}
    assert iteration_line(record) == ("iteration 0 (pretrain) | 3.0 s elapsed, 1.50 s/iteration | "
                                      "loss_d -0.2500 loss_g 0.1250 | sizes [60, 60]")


def test_append_writes_the_json_record_and_logs_the_line(tmp_path, caplog):
    log = IterationLog(tmp_path / "iterations.jsonl")
    with caplog.at_level(logging.INFO, logger="ganem.iteration"):
        log.append({"iteration": 1, "seconds": 2.0, "cluster_sizes": [3, 1]})
    assert json.loads((tmp_path / "iterations.jsonl").read_text()) == {"iteration": 1, "seconds": 2.0,
                                                                       "cluster_sizes": [3, 1]}
    assert caplog.messages == ["iteration 1 | 2.0 s | sizes [3, 1]"]


def test_both_training_loops_log_one_line_per_record(tmp_path, caplog):
    from test_ganem_em import blobs, fit
    from test_ganmm import fit_tiny

    with caplog.at_level(logging.INFO, logger="ganem.iteration"):
        x, y = blobs()
        fit(tmp_path, x, y)
        fit_tiny(tmp_path / "ganmm")
    lines = [m for m in caplog.messages if m.startswith("iteration ")]
    em = [json.loads(s) for s in (tmp_path / "run" / "iterations.jsonl").read_text().splitlines()]
    mm = [json.loads(s) for s in (tmp_path / "ganmm" / "iterations.jsonl").read_text().splitlines()]
    assert lines == [iteration_line(r) for r in em + mm]
    assert "d_loss" in lines[0] and "error" in lines[0] and "(pretrain)" in lines[len(em)]

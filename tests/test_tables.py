"""Tables 2 and 3, the toy and runs tables, and the reproduction summary.

Paper-value transcription checks first (Table 2's averages are the means of the printed Table 3
rows; the 40 printed rows map one-to-one onto 39 attributes plus Male twice), then aggregation on
synthetic run folders with hand-worked numbers, then the verdict rule, then the Snakemake targets
(dry runs only).
"""
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from synthetic import write_run

from ganem import cli
from ganem.data import CELEBA_ATTRIBUTES
from ganem.summary import (BETTER, BUDGET_BELOW, CONSISTENT, NOT_RUN, ONE_SEED, STAND_IN, SUBSET, WORSE, summary_frame,
                           verdict, write_summary)
from ganem.tables import (paper_table3, paper_values, percent, runs_frame, table1_frame, table2_frame,
                          table3_frame, toy2d_frames, write_table1)

REPO = Path(__file__).resolve().parent.parent


def base_config(**extra):
    config = {"seeds": [0, 1, 2], "download": False, "data_dir": "data",
              "datasets": {"mnist5k": {"unsup": {"fit": "all", "score": "all"}},
                           "celeba": {"unsup": {"fit": "all", "score": "all"}}},
              "methods": {}, "table1": {}}
    config.update(extra)
    return config


# ----------------------------------------------------------------------------- transcription
def test_table2_averages_are_the_means_of_the_printed_table3_rows():
    t3, t2 = paper_table3(), paper_values("table2")
    for setting in ("unsup", "semi_100"):
        rows = t3[t3["setting"] == setting]
        assert len(rows) == 40
        printed = t2[(t2["method"] == "ganem") & (t2["setting"] == setting)]["paper_error"].item()
        assert rows["paper_error"].mean() == pytest.approx(printed, abs=0.01)
    assert t3[t3["setting"] == "unsup"]["paper_error"].mean() == pytest.approx(42.093, abs=1e-9)
    assert t3[t3["setting"] == "semi_100"]["paper_error"].mean() == pytest.approx(28.819, abs=1e-9)


def test_printed_rows_map_one_to_one_onto_39_attributes_plus_male_twice():
    t3 = paper_table3()
    rows = t3[t3["setting"] == "unsup"]
    assert rows["position"].tolist() == list(range(1, 41))
    assert rows["paper_row"].is_unique  # the printed rows themselves are distinct
    attrs = rows["celeba_attribute"]
    assert set(attrs) <= set(CELEBA_ATTRIBUTES)
    assert attrs.nunique() == 39
    assert attrs.value_counts()["Male"] == 2
    assert (attrs.value_counts().drop("Male") == 1).all()
    assert "Smiling" not in set(attrs) and set(CELEBA_ATTRIBUTES) - set(attrs) == {"Smiling"}
    mapping = dict(zip(rows["paper_row"], attrs))
    assert mapping["gender"] == "Male" and mapping["Male"] == "Male"
    assert mapping["hat"] == "Wearing_Hat" and mapping["glass"] == "Eyeglasses"
    assert mapping["Receding Hairline"] == "Receding_Hairline" and mapping["_Blond_Hair"] == "Blond_Hair"
    assert mapping["Pale Skin"] == "Pale_Skin" and mapping["5_o_Clock_Shadow"] == "5_o_Clock_Shadow"


def test_fractions_convert_to_percent_exactly():
    assert percent("0.4103") == 41.03 and percent("0.2941") == 29.41 and percent("0.1446") == 14.46
    t3 = paper_table3()
    assert (t3["paper_error"].round(2) == t3["paper_error"]).all()
    goatee = t3[(t3["paper_row"] == "Goatee")].set_index("setting")["paper_error"]
    assert goatee["unsup"] == 41.03 and goatee["semi_100"] == 22.18
    assert t3["paper_source"].str.startswith("Table 3, ").all()


def test_table2_paper_values_have_every_printed_entry_with_source():
    t2 = paper_values("table2")
    assert len(t2) == 11 and t2["source"].str.startswith("Table 2 row").all()
    cells = {(m, s): v for m, s, v in zip(t2["method"], t2["setting"], t2["paper_error"])}
    assert cells[("vae", "semi_100")] == 45.38 and ("vae", "unsup") not in cells
    assert cells[("ganmm", "unsup")] == 49.32 and cells[("vade", "unsup")] == 43.64


# ----------------------------------------------------------------------------- Tables 2 and 3
def celeba_runs(root, errors):
    """errors: {(method, attribute, n_labels): [error per seed]} -> metrics paths."""
    return [write_run(root, m, f"celeba-{a}", 2, seed, e, n_labels=n, n_classes=2)
            for (m, a, n), es in errors.items() for seed, e in enumerate(es)]


def test_table3_mean_std_n_over_seeds_and_printed_rows(tmp_path):
    config = base_config(celeba={"attributes": ["Male", "Goatee", "Smiling"],
                                 "settings": {"unsup": {"methods": ["ganem", "ganmm"]}}})
    paths = celeba_runs(tmp_path, {("ganem", "Male", 0): [40, 42, 44], ("ganem", "Goatee", 0): [30, 31],
                                   ("ganem", "Smiling", 0): [20], ("ganmm", "Male", 0): [49, 51]})
    t3 = table3_frame(config, paths)
    assert list(t3.columns[:8]) == ["paper_row", "celeba_attribute", "setting", "method", "error_mean",
                                    "error_std", "n_seeds", "paper_error"]
    g = t3[(t3["method"] == "ganem") & (t3["setting"] == "unsup")].set_index("paper_row")
    for row in ("gender", "Male"):  # both printed rows show the one Male measurement
        assert g.loc[row, "error_mean"] == pytest.approx(42.0)
        assert g.loc[row, "error_std"] == pytest.approx(2.0)
        assert g.loc[row, "n_seeds"] == 3
    assert g.loc["gender", "paper_error"] == 36.83 and g.loc["Male", "paper_error"] == 47.63
    assert g.loc["Goatee", "error_mean"] == pytest.approx(30.5) and g.loc["Goatee", "paper_error"] == 41.03
    assert g.loc["", "celeba_attribute"] == "Smiling" and math.isnan(g.loc["", "paper_error"])
    assert math.isnan(g.loc["", "error_std"]) and g.loc["", "n_seeds"] == 1  # one seed: no std
    assert g.loc["Bangs", "n_seeds"] == 0 and math.isnan(g.loc["Bangs", "error_mean"])
    # every printed GAN-EM cell is there for both settings, measured or not
    assert len(t3[(t3["method"] == "ganem") & t3["paper_error"].notna()]) == 80
    ganmm = t3[t3["method"] == "ganmm"]
    assert ganmm["paper_error"].isna().all() and set(ganmm["setting"]) == {"unsup"}


def test_table2_averages_two_ways(tmp_path):
    config = base_config(celeba={"attributes": ["Male", "Goatee", "Smiling"],
                                 "settings": {"unsup": {"methods": ["ganem"]}, "semi_100": {"methods": ["ganem"]}}})
    paths = celeba_runs(tmp_path, {("ganem", "Male", 0): [10, 20], ("ganem", "Goatee", 0): [30, 40],
                                   ("ganem", "Smiling", 0): [50, 60]})
    t2 = table2_frame(config, paths)
    assert list(t2.columns[:6]) == ["method", "setting", "error_mean", "error_std", "n_attributes", "paper_error"]
    assert len(t2) == 11  # the paper's 11 printed entries; GAN-EM semi_100 configured but not run
    r = t2.set_index(["method", "setting"]).loc[("ganem", "unsup")]
    # real attributes, each once: (15 + 35 + 55) / 3; per-seed averages 30 and 40 -> std 7.07
    assert r["error_mean"] == pytest.approx(35.0) and r["error_std"] == pytest.approx(math.sqrt(50))
    assert r["n_attributes"] == 3 and r["n_seeds"] == 2 and r["paper_error"] == 42.09
    # the paper's printed rows: Male twice (gender, Male), Goatee once, Smiling not at all
    assert r["error_mean_paper_rows"] == pytest.approx((2 * 15 + 35) / 3)
    assert r["error_std_paper_rows"] == pytest.approx(math.sqrt(50))  # seeds: 50/3 and 80/3
    assert r["n_paper_rows"] == 3
    semi = t2.set_index(["method", "setting"]).loc[("ganem", "semi_100")]
    assert semi["n_attributes"] == 0 and math.isnan(semi["error_mean"]) and semi["paper_error"] == 28.82
    assert t2.set_index(["method", "setting"]).loc[("vae", "semi_100"), "n_attributes"] == 0


def test_celeba_tables_refuse_foreign_runs(tmp_path):
    bad = write_run(tmp_path, "ganem", "mnist5k", 10, 0, 5.0)
    with pytest.raises(ValueError, match="not CelebA"):
        table3_frame(base_config(), [bad])
    wrong_k = write_run(tmp_path, "ganem", "celeba-Male", 3, 0, 5.0, n_classes=2)
    with pytest.raises(ValueError, match="K=2"):
        table2_frame(base_config(), [wrong_k])


def test_cli_table2_table3_write_csv_and_md(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text((REPO / "tests" / "configs" / "tiny.yaml").read_text()
                   + "celeba: {attributes: [Wearing_Hat], settings: {unsup: {methods: [ganem]}}}\n")
    paths = celeba_runs(tmp_path, {("ganem", "Wearing_Hat", 0): [30, 32]})
    for table in ("table2", "table3"):
        out = tmp_path / table
        rc = cli.main([table, "--config", str(cfg), "--metrics", *map(str, paths),
                       "--csv", f"{out}.csv", "--md", f"{out}.md"])
        assert rc == 0
        assert "paper" in Path(f"{out}.md").read_text()
    t3 = pd.read_csv(tmp_path / "table3.csv", keep_default_na=False)
    hat = t3[(t3["paper_row"] == "hat") & (t3["setting"] == "unsup")].iloc[0]
    assert hat["celeba_attribute"] == "Wearing_Hat" and float(hat["error_mean"]) == 31.0
    assert float(hat["paper_error"]) == 29.41


# ----------------------------------------------------------------------------- toy and runs
def test_toy2d_per_seed_and_summary(tmp_path):
    paths = [write_run(tmp_path, m, d, 2, s, e, n_classes=2)
             for d in ("toy-moons", "toy-circles") for m, es in (("kmeans", [20, 22, 24]), ("ganem", [2, 4]))
             for s, e in enumerate(es)]
    per_seed, summary = toy2d_frames(paths)
    assert len(per_seed) == 10 and list(per_seed.columns[:4]) == ["dataset", "method", "seed", "error"]
    s = summary.set_index(["dataset", "method"])
    assert s.loc[("toy-moons", "kmeans"), "error_mean"] == pytest.approx(22.0)
    assert s.loc[("toy-moons", "kmeans"), "error_std"] == pytest.approx(2.0)
    assert s.loc[("toy-circles", "ganem"), "n_seeds"] == 2
    with pytest.raises(ValueError, match="not toy"):
        toy2d_frames([write_run(tmp_path, "kmeans", "mnist5k", 10, 0, 50.0)])
    rc = cli.main(["toy2d", "--metrics", *map(str, paths), "--csv", str(tmp_path / "t.csv"),
                   "--summary-csv", str(tmp_path / "ts.csv"), "--md", str(tmp_path / "t.md")])
    assert rc == 0 and "toy-moons" in (tmp_path / "t.md").read_text()


def test_runs_table_one_row_per_run_with_provenance(tmp_path):
    paths = [write_run(tmp_path, "kmeans", "mnist5k", 10, 0, 50.0),
             write_run(tmp_path, "ganem", "mnist5k", 10, 0, 9.0, variant="bottleneck100")]
    runs = runs_frame(paths)
    assert list(runs.columns[:11]) == ["method", "dataset", "setting", "K", "seed", "error", "nmi", "ari",
                                       "seconds", "commit", "device"]
    assert runs.set_index("method").loc["ganem", "variant"] == "bottleneck100"
    assert runs.set_index("method").loc["kmeans", "variant"] == ""
    assert (runs["commit"] == "abc123").all() and (runs["device"] == "cpu x86_64").all()


# ----------------------------------------------------------------------------- verdicts
def test_verdict_rule_on_hand_worked_numbers():
    # SE = sqrt(0.4^2/4 + 0.51^2/4) = sqrt(0.105025) = 0.32408; 2 SE = 0.648
    d, se, v = verdict(5.0, 0.4, 4, 4.2, 0.51)
    assert se == pytest.approx(0.32408, abs=1e-5) and d == pytest.approx(0.8) and v == WORSE
    assert verdict(4.5, 0.4, 4, 4.2, 0.51)[2] == CONSISTENT
    assert verdict(3.0, 0.4, 4, 4.2, 0.51)[2] == BETTER
    # no paper std: s_paper = 0, SE = 1.0 / sqrt(4) = 0.5
    d, se, v = verdict(46.0, 1.0, 4, 46.51, None)
    assert se == pytest.approx(0.5) and v == CONSISTENT
    assert verdict(44.9, 1.0, 4, 46.51, float("nan"))[2] == BETTER  # |d| = 1.61 > 1.0
    with pytest.raises(ValueError):
        verdict(4.0, 0.1, 1, 4.2, 0.5)


def test_summary_verdicts_stand_in_subset_one_seed_and_reasons(tmp_path):
    table1 = {"mnist_unsup": {"dataset": "mnist5k", "n_labels": 0, "methods": {"ganem": [10], "kmeans": [10]}},
              "mnist_100": {"dataset": "mnist", "n_labels": 100, "methods": {"ganem": [10]}},
              "mnist_1000": {"dataset": "mnist", "n_labels": 1000, "methods": {"ganem": [10]}}}
    config = base_config(table1=table1)
    config["datasets"]["mnist"] = {"unsup": {"fit": "train", "score": "train"}, "semi": {"fit": "train", "score": "test"}}
    full = 50_000  # GAN-EM runs at the paper's budget (its default Params on 50,000 images)
    paths = [write_run(tmp_path, "ganem", "mnist5k", 10, s, e, n_fit=full) for s, e in enumerate([8.0, 9.0])]
    paths += [write_run(tmp_path, "kmeans", "mnist5k", 10, s, e) for s, e in enumerate([46.0, 47.0])]
    paths += [write_run(tmp_path, "ganem", "mnist", 10, s, e, n_labels=100, n_fit=full)
              for s, e in enumerate([1.0, 1.2, 1.1])]
    paths += [write_run(tmp_path, "ganem", "mnist", 10, 0, 1.0, n_labels=1000, n_fit=full)]
    t1 = table1_frame(config, paths)
    s = summary_frame(config, t1).set_index("cell")
    ganem_unsup = s.loc["GAN-EM (preset paper) / MNIST (unsupervised) / K=10"]
    assert ganem_unsup["verdict"] == STAND_IN and "stand-in mnist5k" in ganem_unsup["reason"]
    assert ganem_unsup["measured_on"] == "mnist5k" and ganem_unsup["difference"] == pytest.approx(4.3)
    assert s.loc["K-means / MNIST (unsupervised) / K=10", "verdict"] == STAND_IN
    # full MNIST, 3 seeds: mean 1.1, std 0.1; paper 1.09 +- 0.18 -> consistent
    semi = s.loc["GAN-EM (preset paper) / MNIST (100 labels) / K=10"]
    assert semi["verdict"] == CONSISTENT and semi["n_seeds"] == 3
    assert semi["se"] == pytest.approx(math.sqrt(0.1 ** 2 / 3 + 0.18 ** 2 / 3))
    assert s.loc["GAN-EM (preset paper) / MNIST (1000 labels) / K=10", "verdict"] == ONE_SEED
    assert s.loc["DEC / MNIST (unsupervised) / K=10", "reason"].startswith("method not in this suite")
    svhn = s.loc["GAN-EM (preset paper) / SVHN (1000 labels) / K=10"]
    assert svhn["verdict"] == NOT_RUN and svhn["reason"].startswith("not in this config")
    assert "no data offline" in svhn["reason"]
    # Tables 2 and 3 without a celeba section: every paper cell listed, none run
    assert (s[s["table"] == "Table 2"]["verdict"] == NOT_RUN).all() and (s["table"] == "Table 3").sum() == 80
    # a subset of full MNIST is not comparable either
    config["datasets"]["mnist"]["n_samples"] = 1000
    assert summary_frame(config, t1).set_index("cell").loc["GAN-EM (preset paper) / MNIST (100 labels) / K=10", "verdict"] == SUBSET


def test_a_budget_far_below_the_papers_is_named_in_the_table_and_the_verdict(tmp_path):
    # make quick's GAN-EM: 2 EM iterations of 20 M-step batches = 40 G+D steps; the paper's schedule
    # (5 epochs of 781 batches of 64, 100 EM iterations on 50,000 images) = 390,500
    table1 = {"mnist_unsup": {"dataset": "mnist5k", "n_labels": 0, "methods": {"ganem": [10], "kmeans": [10]}}}
    config = base_config(table1=table1)
    tiny = {"em_iterations": 2, "mstep_batches": 20}
    paths = [write_run(tmp_path, "ganem", "mnist5k", 10, s, e, n_fit=5000, params=tiny)
             for s, e in enumerate([88.0, 91.0])]
    paths += [write_run(tmp_path, "kmeans", "mnist5k", 10, s, e) for s, e in enumerate([46.0, 47.0])]
    write_table1(config, paths, tmp_path / "t1.csv", tmp_path / "t1.md", source="config/quick.yaml")
    md = (tmp_path / "t1.md").read_text()
    assert "Built from `config/quick.yaml`" in md
    assert "GAN-EM (preset paper), MNIST (unsupervised), K=10: 40 of 390,500 G+D steps" in md
    assert "89.50 (±2.12) [n=2]†‡" in md and "budget below paper: not a test of the paper's number" in md
    assert "46.50 (±0.71) [n=2]† |" in md  # K-means: fitted to convergence, no budget mark
    frame = write_summary(config, tmp_path / "t1.csv", None, None, tmp_path / "s.csv", tmp_path / "s.md",
                          source="config/quick.yaml")
    cell = frame.set_index("cell").loc["GAN-EM (preset paper) / MNIST (unsupervised) / K=10"]
    assert cell["verdict"] == BUDGET_BELOW and cell["budget"].startswith("40 of 390,500 G+D steps")
    assert "stand-in mnist5k" in cell["reason"]  # the second reason is kept
    assert frame.set_index("cell").loc["K-means / MNIST (unsupervised) / K=10", "verdict"] == STAND_IN
    summary = (tmp_path / "s.md").read_text()
    measured, not_run = summary.index("## Measured cells"), summary.index("## Cells not run")
    assert measured < not_run and "not run" not in summary[measured:not_run]  # counted at the end, not listed
    n_not_run = int((frame["verdict"] == NOT_RUN).sum())
    assert f"2 of the paper's {len(frame)} cells measured" in summary and f"{n_not_run} not run" in summary


def test_summary_table2_uses_the_printed_row_average(tmp_path):
    config = base_config(celeba={"attributes": "all", "settings": {"unsup": {"methods": ["ganem"]}}})
    errors = {("ganem", a, 0): [40.0, 42.0] for a in CELEBA_ATTRIBUTES}
    paths = celeba_runs(tmp_path, errors)
    t2, t3 = table2_frame(config, paths), table3_frame(config, paths)
    s = summary_frame(config, table1_frame(config, []), t2, t3).set_index("cell")
    cell = s.loc["GAN-EM (preset paper) / CelebA average / unsupervised"]
    # every attribute 41 +- 1.414 (n=2): SE = 1; d = 41 - 42.09 = -1.09 -> consistent
    assert cell["measured_mean"] == pytest.approx(41.0) and cell["se"] == pytest.approx(1.0)
    assert cell["verdict"] == CONSISTENT and "40/40 printed rows" in cell["measured_on"]
    hat = s.loc["GAN-EM (preset paper) / hat (= Wearing_Hat) / unsupervised"]
    assert hat["paper_mean"] == 29.41 and hat["verdict"] == WORSE  # d = 11.59 > 2 SE = 2
    assert s.loc["GAN-EM (preset paper) / Goatee / semi-supervised (100 labels)", "reason"].startswith("not in this config")
    partial = base_config(celeba={"attributes": ["Male"], "settings": {"unsup": {"methods": ["ganem"]}}})
    male = [p for p in paths if "celeba-Male/" in str(p)]
    s2 = summary_frame(partial, table1_frame(partial, []), table2_frame(partial, male), table3_frame(partial, male))
    assert s2.set_index("cell").loc["GAN-EM (preset paper) / CelebA average / unsupervised", "verdict"] == "not comparable (partial)"


def test_write_summary_from_table_files(tmp_path):
    config = base_config(table1={"mnist_unsup": {"dataset": "mnist5k", "n_labels": 0, "methods": {"kmeans": [10]}}})
    paths = [write_run(tmp_path, "kmeans", "mnist5k", 10, s, e) for s, e in enumerate([46.0, 47.0])]
    write_table1(config, paths, tmp_path / "t1.csv", tmp_path / "t1.md")
    frame = write_summary(config, tmp_path / "t1.csv", None, None, tmp_path / "s.csv", tmp_path / "s.md")
    assert len(frame) == 27 + 11 + 80
    md = (tmp_path / "s.md").read_text()
    assert "SE = sqrt" in md and "not comparable (stand-in)" in md
    assert pd.read_csv(tmp_path / "s.csv")["verdict"].notna().all()


def test_the_summary_of_one_table_is_its_rows_of_the_full_summary(tmp_path):
    config = base_config(table1={"mnist_unsup": {"dataset": "mnist5k", "n_labels": 0, "methods": {"kmeans": [10]}}})
    paths = [write_run(tmp_path, "kmeans", "mnist5k", 10, s, e) for s, e in enumerate([46.0, 47.0])]
    write_table1(config, paths, tmp_path / "t1.csv", tmp_path / "t1.md")
    full = write_summary(config, tmp_path / "t1.csv", None, None, tmp_path / "s.csv", tmp_path / "s.md")
    one = write_summary(config, tmp_path / "t1.csv", None, None, tmp_path / "s1.csv", tmp_path / "s1.md",
                        tables=("Table 1",))
    pd.testing.assert_frame_equal(one, full[full["table"] == "Table 1"].reset_index(drop=True))
    md = (tmp_path / "s1.md").read_text()
    assert md.startswith("# Reproduction summary: every paper cell of Table 1\n")
    assert "Sources: results/table1.csv (" in md and "table2.csv" not in md and "| Table 3 |" not in md


# ----------------------------------------------------------------------------- targets
def dry_run(workdir: Path, config: Path, *targets: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                           "-n", *targets, "--quiet", "rules", "--configfile", str(config)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_targets_follow_the_config(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text((REPO / "tests" / "configs" / "tiny.yaml").read_text().replace(
        "datasets:\n", "datasets:\n  toy:\n    unsup: {fit: all, score: all}\n") +
        "celeba: {attributes: [Wearing_Hat, Smiling], settings: {unsup: {methods: [ganem]}}}\n"
        "toy2d: {datasets: [toy-moons], methods: [kmeans], seeds: [0, 1]}\n")
    everything = dry_run(tmp_path, config, "all")
    assert everything.returncode == 0, everything.stderr[-2000:]
    jobs = everything.stdout
    for rule in ("table2", "table3", "toy2d_table", "runs_table", "summary", "fig3", "fig_seed_spread",
                 "fig_toy2d", "fig_table3_errors"):
        assert f"\n{rule} " in jobs, rule
    for absent in ("fig2 ", "fig4 ", "run_variant", "fig_error_per_iteration"):  # no GAN-EM in table1, no fig4
        assert f"\n{absent}" not in jobs, absent
    # Table 1's verdicts alone plan no CelebA run, where summary.md needs Tables 2-3
    table1_only = dry_run(tmp_path, config, "results/table1.md", "results/summary_table1.md")
    assert table1_only.returncode == 0, table1_only.stderr[-2000:]
    assert "\nsummary_of_table " in table1_only.stdout and "celeba" not in table1_only.stdout
    assert "\ntable2 " not in table1_only.stdout and "\nsummary " not in table1_only.stdout
    refused = dry_run(tmp_path, config, "figures/fig2_svhn.png")
    assert refused.returncode != 0
    assert "not a target of this config: it needs GAN-EM in table1.svhn_1000" in refused.stdout + refused.stderr
    assert not (tmp_path / "results").exists()


def test_a_variant_row_is_labelled_and_compared_with_its_methods_paper_value(tmp_path):
    methods = {"ganem_authors_cpu": {"method": "ganem", "label": "GAN-EM, authors' code settings", "preset": "authors",
                                     "em_iterations": 35, "mstep_batches": 24}}
    table1 = {"mnist_unsup": {"dataset": "mnist5k", "n_labels": 0, "methods": {"ganem_authors_cpu": [10]}}}
    config = base_config(table1=table1, methods=methods)
    params = {"preset": "authors", "em_iterations": 35, "mstep_batches": 24}
    paths = [write_run(tmp_path, "ganem_authors_cpu", "mnist5k", 10, s, e, n_fit=5000, params=params,
                       base_method="ganem")
             for s, e in enumerate([45.0, 39.0])]
    write_table1(config, paths, tmp_path / "t1.csv", tmp_path / "t1.md", source="config/cpu.yaml")
    md = (tmp_path / "t1.md").read_text()
    assert "| GAN-EM, authors' code settings (`ganem_authors_cpu`, preset authors) | 10 | 42.00 (±4.24) [n=2]†‡ | " \
           "4.20 (±0.51) |" in md
    assert "840 of 390,500 G+D steps" in md  # 35 x 24
    frame = summary_frame(config, table1_frame(config, paths)).set_index("cell")
    cell = frame.loc["GAN-EM, authors' code settings (`ganem_authors_cpu`, preset authors) / MNIST (unsupervised) / K=10"]
    assert cell["paper_mean"] == 4.20 and cell["verdict"] == BUDGET_BELOW
    assert not frame.index.str.startswith("GAN-EM (preset paper) / MNIST (unsupervised) / K=10").any()

"""Every figure function draws a PNG and a PDF from small synthetic run folders."""
from pathlib import Path

import pytest
from synthetic import write_run

from ganem import cli, figures
from ganem.tables import table1_frame, write_table3


def assert_drawn(png: Path, pdf: Path) -> None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert not list(png.parent.glob(".*.tmp")) and not list(png.parent.glob(f".{png.stem}.*"))


def test_samples_figure_labels_rows_by_majority_class(tmp_path):
    unsup = write_run(tmp_path, "ganem", "mnist5k", 10, 0, 0.0, samples=True)
    labels = figures.row_labels(unsup.parent, figures.load_record(unsup))
    assert len(labels) == 10 and labels[3] == "cluster 3 (n=6): 100% digit 3"
    out = tmp_path / "figures"
    rc = cli.main(["figure", "samples", "--run", str(unsup), "--title", "Fig. 2: test",
                   "--png", str(out / "fig2.png"), "--pdf", str(out / "fig2.pdf")])
    assert rc == 0
    assert_drawn(out / "fig2.png", out / "fig2.pdf")
    hat = write_run(tmp_path, "ganem", "celeba-Wearing_Hat", 2, 0, 30.0, samples=True, n_classes=2, n_labels=100)
    assert figures.row_labels(hat.parent, figures.load_record(hat)) == ["no Wearing_Hat", "Wearing_Hat"]
    figures.samples_figure(hat.parent, out / "fig3.png", out / "fig3.pdf", title="Fig. 3a")
    assert_drawn(out / "fig3.png", out / "fig3.pdf")


def test_samples_figure_needs_the_samples_file(tmp_path):
    bare = write_run(tmp_path, "ganem", "mnist5k", 10, 0, 10.0)
    with pytest.raises(FileNotFoundError, match="samples.png"):
        figures.samples_figure(bare, tmp_path / "x.png", tmp_path / "x.pdf")
    assert not (tmp_path / "x.png").exists()


def test_tsne_figure(tmp_path):
    panels = [("supervised reference", write_run(tmp_path, "ganem", "mnist5k", 10, 0, 1.0, n_labels=100,
                                                 variant="supervised", features=8, n=100)),
              ("unsupervised, k=2", write_run(tmp_path, "ganem", "mnist5k", 10, 0, 11.8, variant="bottleneck2",
                                              features=2, n=100))]
    figures.tsne_figure(panels, tmp_path / "fig4.png", tmp_path / "fig4.pdf", max_points=80)
    assert_drawn(tmp_path / "fig4.png", tmp_path / "fig4.pdf")
    with pytest.raises(FileNotFoundError, match="bottleneck"):
        figures.tsne_figure([("no features", write_run(tmp_path, "ganem", "mnist5k", 10, 1, 5.0))],
                            tmp_path / "y.png", tmp_path / "y.pdf")


def test_iterations_figure_mean_and_band(tmp_path):
    runs = [write_run(tmp_path, m, "mnist5k", k, s, 10.0, iterations=[80, 60, 40])
            for m in ("ganem", "ganmm") for k in (10, 20) for s in (0, 1)]
    runs.append(write_run(tmp_path, "ganem", "mnist5k", 30, 0, 10.0))  # no iterations.jsonl
    data, missing = figures.iteration_records(runs)
    assert len(data) == 8 * 3 and len(missing) == 1 and "K30" in missing[0]
    figures.iterations_figure(runs, tmp_path / "it.png", tmp_path / "it.pdf")
    assert_drawn(tmp_path / "it.png", tmp_path / "it.pdf")


def test_spread_figure_with_paper_values(tmp_path):
    config = {"seeds": [0, 1, 2], "table1": {
        "mnist_unsup": {"dataset": "mnist5k", "n_labels": 0, "methods": {"kmeans": [10], "ganem": [10, 20]}}}}
    runs = [write_run(tmp_path, m, "mnist5k", k, s, e + s) for m, k, e in (("kmeans", 10, 46), ("ganem", 10, 5),
                                                                            ("ganem", 20, 4)) for s in range(3)]
    table1_frame(config, runs).to_csv(tmp_path / "table1.csv", index=False)
    figures.spread_figure(runs, tmp_path / "sp.png", tmp_path / "sp.pdf", table1_csv=tmp_path / "table1.csv")
    assert_drawn(tmp_path / "sp.png", tmp_path / "sp.pdf")


def test_toy2d_figure_with_and_without_generated_points(tmp_path):
    runs = [write_run(tmp_path, m, d, 2, s, 10.0, n=1000, n_classes=2, generated=(m == "ganem" and d == "toy-moons"))
            for d in ("toy-moons", "toy-circles") for m in ("kmeans", "ganem") for s in (0, 1)]
    figures.toy2d_figure(runs, tmp_path / "toy.png", tmp_path / "toy.pdf")
    assert_drawn(tmp_path / "toy.png", tmp_path / "toy.pdf")  # toy-circles' GAN-EM run has no generated.npy


def test_celeba_figure(tmp_path):
    config = {"seeds": [0, 1], "celeba": {"attributes": ["Male", "Smiling"],
                                          "settings": {"unsup": {"methods": ["ganem", "ganmm"]}}}}
    runs = [write_run(tmp_path, m, f"celeba-{a}", 2, s, 40.0 + s, n_classes=2)
            for m in ("ganem", "ganmm") for a in ("Male", "Smiling") for s in (0, 1)]
    write_table3(config, runs, tmp_path / "t3.csv", tmp_path / "t3.md")
    figures.celeba_figure(tmp_path / "t3.csv", tmp_path / "c.png", tmp_path / "c.pdf")
    assert_drawn(tmp_path / "c.png", tmp_path / "c.pdf")

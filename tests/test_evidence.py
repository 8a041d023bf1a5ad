"""ganem.evidence: which of a DAG's outputs are evidence, and how a folder is replaced (the command
itself runs end to end in tests/test_workflow.py)."""
import json

from ganem.evidence import PROVENANCE, collect, evidence_files

SUMMARY = """output_file\tdate\trule\tlog-file(s)\tstatus\tplan
figures/ablation_curves.png\t-\tfig_ablation_curves\t-\tmissing\tupdate pending
data/manifests/mnist5k.json\t-\tfetch_data\t-\tmissing\tupdate pending
results/runs/ganem/mnist5k/unsup/K10/seed0/metrics.json\t-\trun\t-\tmissing\tupdate pending
results/ablation.md\t-\tablation_table\t-\tmissing\tupdate pending
results/toy2d_summary.csv\t-\ttoy2d_table\t-\tok\tno update
"""


def test_evidence_files_are_the_top_level_tables_and_figures():
    assert evidence_files(SUMMARY) == ["figures/ablation_curves.png", "results/ablation.md",
                                       "results/toy2d_summary.csv"]


def test_collect_replaces_the_folder_and_writes_provenance(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "table1.md").write_text("new table\n")
    dest = tmp_path / "evidence" / "cpu"
    dest.mkdir(parents=True)
    (dest / "stale.md").write_text("from an older build\n")
    collect(["results/table1.md"], dest, {"config": "config/cpu.yaml"})
    assert sorted(p.name for p in dest.iterdir()) == [PROVENANCE, "table1.md"]
    assert (dest / "table1.md").read_text() == "new table\n"
    assert json.loads((dest / PROVENANCE).read_text()) == {"config": "config/cpu.yaml"}

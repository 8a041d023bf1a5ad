"""tests/dag_failure.py: a failed build's message carries the failed job's own log."""
import subprocess
import sys

from dag_failure import explain

SNAKEFILE = '''
rule all:
    input: "a.txt"
rule a:
    output: "a.txt"
    log: "logs/a.log"
    shell: "echo 'the cause: No space left on device' > {log}; exit 1"
'''


def test_explain_quotes_the_failed_jobs_log_and_the_free_disk(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    failed = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode != 0
    message = explain(failed, tmp_path)
    assert "--- end of logs/a.log:\nthe cause: No space left on device" in message
    assert f"--- disk under {tmp_path}: " in message and "GiB free of" in message

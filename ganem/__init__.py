"""GAN-EM benchmark suite: data, methods, scoring and tables for re-running Zhao et al.'s GAN-EM paper."""
import os

__version__ = "0.1.0"

# cuBLAS is deterministic only with a fixed workspace, and reads this variable when a process first
# uses it; every entry point (CLI, Snakemake jobs, tests, benchmarks) imports ganem before touching
# CUDA, so set here it precedes any GPU work.  A user's own value wins.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

#!/usr/bin/env bash
# What the GPU check (benchmarks/gpu_check.sh) carries to the lent GPU machine, which has python3 3.12
# with torch, numpy, scipy, pandas, pyyaml, scikit-learn, matplotlib and pytest but no jsonschema
# (every `ganem` command validates its config with it) and no network:
#
#   benchmarks/gpu_carry.sh [MNIST_DIR]     # here, with network; writes .gpu-carry/ (git-ignored)
#
#   .gpu-carry/wheels/  jsonschema and the three packages it needs that the machine lacks, as
#                       cp312 x86-64 wheels (attrs and typing-extensions are there already);
#                       gpu_check.sh installs them with pip --no-index into a temporary folder
#   .gpu-carry/mnist/   the four MNIST IDX files (11 MB) for the full-MNIST steps
#
# About 12 MB in all, under the device tool's 64 MiB; name it in the run's `carry`: [".gpu-carry"].
set -euo pipefail
MNIST_DIR=${1:-/work/shared/data/mnist}
CARRY=.gpu-carry
PIP=${PIP:-.venv/bin/python -m pip}
rm -rf "$CARRY/wheels" && mkdir -p "$CARRY/wheels" "$CARRY/mnist"
# the versions the suite's .venv pins or resolved (pyproject.toml: jsonschema==4.26.0)
$PIP download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$CARRY/wheels" jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1
cp "$MNIST_DIR"/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz "$CARRY/mnist/"
du -sh "$CARRY"

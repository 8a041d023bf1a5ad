#!/usr/bin/env bash
# The GPU check: everything a first lent GPU machine should tell us, in about 8 minutes of one GPU,
# with every result in files under one folder.
#
#   benchmarks/gpu_check.sh [OUT_DIR] [MNIST_DIR]
#       OUT_DIR    where the results go (default: $OUT when set, else results/dev/gpu_check)
#       MNIST_DIR  folder with the four MNIST IDX files (default .gpu-data/mnist; an ignored folder,
#                  so on the device machine it must be named in the run tool's `carry`)
#   DEVICE=cpu SMALL=1 benchmarks/gpu_check.sh /tmp/check /work/shared/data/mnist   # the CPU dry run
#
# Steps (each writes its own file; a failing step is recorded and the next one still runs):
#   1. tests.txt          the tests that take a device, on $DEVICE (pytest -m device --device $DEVICE)
#   2. step_cost_*.csv    ms per M-step / E-step step, suite vs bare loop, with compile and bf16 off/on
#   3. timings.json, plan.md   the per-step timings `python -m ganem plan` stores for this device, and
#                          the plan of config/config.yaml priced with them
#   4. seed_packing.csv   seconds per seed with S = 1, 4, 16 seeds in one process (seeds_per_job)
#   5. mnist_run/         a full-MNIST K=10 GAN-EM run of about 4 minutes; iterations.jsonl holds the
#                          error per EM iteration (monitor_error), run.log its console output
set -u
OUT_DIR=${1:-${OUT:-results/dev/gpu_check}}
MNIST_DIR=${2:-.gpu-data/mnist}
DEVICE=${DEVICE:-cuda}
SMALL=${SMALL:-0}            # 1: tiny sizes (the CPU dry run)
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export CI=true               # no progress bars in the logs
mkdir -p "$OUT_DIR"
status="$OUT_DIR/status.txt"
: > "$status"

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to NAME.log, record the exit status
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" > "$OUT_DIR/$name.log" 2>&1
    local rc=$?
    echo "$name rc=$rc seconds=$((SECONDS - t0))" | tee -a "$status"
}

{ "$PY" -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name(0))"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null; git rev-parse HEAD; } > "$OUT_DIR/environment.txt" 2>&1

# 1. the tests that take a device
step tests 150 "$PY" -m pytest -m device --device "$DEVICE" -q -p no:cacheprovider tests/

# 2. step costs: compile and bf16 off/on (compile only for the 28x28 and 64x64 nets: it compiles per family)
if [ "$SMALL" = 1 ]; then
    sc=(--steps 1 --repeats 2 --matmul-n 256 --set batch_size=8 --set e_batch_size=8 --set assign_batch_size=16)
    fams=(mlp mnist); cfams=(mlp)
else
    sc=(--steps 20 --repeats 5 --matmul-n 4096 --threads 1)
    fams=(mlp mnist svhn celeba); cfams=(mnist celeba)
fi
step step_cost_eager_fp32 45 "$PY" benchmarks/step_cost.py --device "$DEVICE" "${sc[@]}" --families "${fams[@]}" \
    --out "$OUT_DIR/step_cost_eager_fp32.csv"
step step_cost_eager_bf16 45 "$PY" benchmarks/step_cost.py --device "$DEVICE" "${sc[@]}" --families "${fams[@]}" \
    --set precision=bf16 --out "$OUT_DIR/step_cost_eager_bf16.csv"
mode=reduce-overhead; [ "$DEVICE" = cpu ] && mode=default   # CUDA graphs exist on GPUs only
step step_cost_compile_fp32 75 "$PY" benchmarks/step_cost.py --device "$DEVICE" "${sc[@]}" --families "${cfams[@]}" \
    --set compile=$mode --out "$OUT_DIR/step_cost_compile_fp32.csv"
step step_cost_compile_bf16 75 "$PY" benchmarks/step_cost.py --device "$DEVICE" "${sc[@]}" --families "${cfams[@]}" \
    --set compile=$mode --set precision=bf16 --out "$OUT_DIR/step_cost_compile_bf16.csv"

# 3. timings for `python -m ganem plan` / SLURM runtimes, and the paper config's plan priced with them
if [ "$SMALL" = 1 ]; then
    step plan 120 "$PY" -m ganem plan --config config/quick.yaml --device "$DEVICE" --repeats 1 --no-ganmm
    grep '^|' "$OUT_DIR/plan.log" > "$OUT_DIR/plan.md"
else
    step plan 75 "$PY" -m ganem plan --config config/config.yaml --device "$DEVICE" --repeats 3 --save-timings
    grep '^|' "$OUT_DIR/plan.log" > "$OUT_DIR/plan.md"
    cp timings/cuda.json "$OUT_DIR/timings.json" 2>/dev/null
fi

# 4. seed packing: seconds per seed with S seeds of one cell in one process, each on its own CUDA stream
if [ "$SMALL" = 1 ]; then
    step seed_packing 120 "$PY" benchmarks/seed_packing.py --device "$DEVICE" --seeds-per-job 1 2 --steps 2 \
        --n-samples 200 --out "$OUT_DIR/seed_packing.csv"
else
    step seed_packing 60 "$PY" benchmarks/seed_packing.py --device "$DEVICE" --seeds-per-job 1 4 16 --steps 50 \
        --dataset mnist --data-dir "$MNIST_DIR" --n-samples 5000 --out "$OUT_DIR/seed_packing.csv"
fi

# 5. full-MNIST K=10 GAN-EM, about 4 minutes: the error per EM iteration is in iterations.jsonl
if [ "$SMALL" = 1 ]; then
    run=(--dataset mnist --data-dir "$MNIST_DIR" --n-samples 1000 --set methods.ganem.em_iterations=2
         --set methods.ganem.mstep_batches=5 --set methods.ganem.q_steps=5)
    limit=120
else
    run=(--dataset mnist --data-dir "$MNIST_DIR" --set methods.ganem.em_iterations=100)
    limit=240   # stopped after 4 minutes: the log holds every finished iteration (no metrics.json then)
fi
step mnist_run $limit "$PY" -m ganem run --method ganem --k 10 --seed 0 --out "$OUT_DIR/mnist_run" \
    --set device="$DEVICE" --no-progress "${run[@]}"
"$PY" - "$OUT_DIR/mnist_run/iterations.jsonl" > "$OUT_DIR/mnist_error_per_iteration.txt" 2>&1 <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"iteration {r['iteration']:3d}  {r['seconds']:7.1f} s  error {r.get('monitor_error', float('nan')):6.2f} %")
EOF
cat "$status"

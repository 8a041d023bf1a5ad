#!/usr/bin/env bash
# The GPU check: what one short lease of the project's GPU machine should answer, in at most 450 s.
#
#   benchmarks/gpu_carry.sh                     # once, here: wheels + MNIST into .gpu-carry/
#   OUT=<empty folder> benchmarks/gpu_check.sh  # there (device tool: carry [".gpu-carry"]);
#                                               # docs/performance.md gives the exact run call
#   OUT=/tmp/o DEVICE=cpu SMALL=1 PY=<python3.12 env> benchmarks/gpu_check.sh   # the CPU rehearsal
#
# Built for the machine as it is (/work/.library/device/KINDS.md): python3 3.12 with torch but no
# jsonschema, no network, one command at most 600 s, at most 8 files back from $OUT. So it installs
# the carried wheels (.gpu-carry/wheels) with pip --no-index into a temporary folder, checks the
# imports before anything else, gives each step a time limit, skips every step still to come once
# SKIP_AFTER (420) s have passed, never lets a step run past BUDGET (450) s, and leaves three files
# in $OUT: summary.txt (also printed), timings.json (plan --save-timings), gpu_check.tar.gz (every
# log and CSV; no checkpoint). A failed step is named in the summary and the exit status is 1.
#
# Steps (limits in s): imports 60; tests 100 (pytest -m device --device $DEVICE); step_cost fp32 and
# bf16 50 each (G+D and E step, MNIST and 64x64 CelebA nets, preset authors = Table 1's nets and
# batch sizes); plan 90 (`python -m ganem plan --save-timings`: GPU-hours); seed_packing 60 (S = 1, 4,
# 8); jobs_per_gpu 90 (1, 2, 4 concurrent step_cost processes on one GPU); mnist_run 150 (full-MNIST
# K=10 GAN-EM stopped at its limit: error per EM iteration).
set -u
export PYTHONUNBUFFERED=1 CI=true
OUT_DIR=${1:-${OUT:-results/dev/gpu_check}}
CARRY=${CARRY:-.gpu-carry}
MNIST_DIR=${MNIST_DIR:-$CARRY/mnist}
DEVICE=${DEVICE:-cuda}
SMALL=${SMALL:-0}            # 1: tiny sizes (the CPU rehearsal); limits stay the same
PY=${PY:-python3}
BUDGET=${BUDGET:-450}
SKIP_AFTER=${SKIP_AFTER:-420}
START=$SECONDS
WORK=$(mktemp -d)            # logs and CSVs, tarred into $OUT at the end
mkdir -p "$OUT_DIR"
STATUS=$WORK/status.txt
: > "$STATUS"

record() { echo "$1" | tee -a "$STATUS"; }

step() {  # step NAME LIMIT COMMAND...: run under min(LIMIT, what BUDGET leaves), log to $WORK/NAME.log
    local name=$1 limit=$2; shift 2
    local elapsed=$((SECONDS - START))
    local left=$((BUDGET - 5 - elapsed))
    if [ "$elapsed" -ge "$SKIP_AFTER" ] || [ "$left" -lt 10 ]; then
        record "$name skipped (at ${elapsed} s of $BUDGET)"; return 1
    fi
    [ "$left" -lt "$limit" ] && limit=$left
    local t0=$SECONDS
    timeout -k 5 "$limit" "$@" > "$WORK/$name.log" 2>&1
    local rc=$?
    record "$name rc=$rc seconds=$((SECONDS - t0)) limit=$limit"
    return $rc
}

# 0. the carried wheels, then the imports every later step needs
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if compgen -G "$CARRY/wheels/*.whl" > /dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" \
        "$CARRY"/wheels/*.whl > "$WORK/wheels.log" 2>&1 || record "wheels rc=$? (see wheels.log)"
    export PYTHONPATH=$PYTHONPATH:$WORK/site
fi
if ! step imports 60 "$PY" -c "
import importlib.metadata, sys, torch, torchvision, jsonschema, yaml, scipy, sklearn, pandas, pytest
import ganem.cli, ganem.config, ganem.run, ganem.step_timing
dev = torch.device('$DEVICE'); torch.zeros(1, device=dev)
print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'jsonschema', importlib.metadata.version('jsonschema'))
print('device', '$DEVICE', torch.cuda.get_device_name(0) if dev.type == 'cuda' else 'cpu')"; then
    FAILED_IMPORTS=1
fi
{ cat "$WORK/imports.log"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null
  git rev-parse HEAD 2>/dev/null; } > "$WORK/environment.txt"

if [ "$SMALL" = 1 ]; then
    small=(--set batch_size=8 --set e_batch_size=8 --set assign_batch_size=16)
    sc=(--steps 1 --repeats 1 --matmul-n 256 "${small[@]}")
    families=(mnist)         # the 64x64 authors' nets take seconds per step on a CPU core
    jobs=(--families mnist --kinds mstep --steps 1 --repeats 2 --matmul-n 64 "${small[@]}")
    packing=(--seeds-per-job 1 4 8 --steps 2 --n-samples 1000)   # config.yaml asks for 1000 labels
    plan=(--config config/quick.yaml --repeats 1 --no-ganmm)
    run=(--n-samples 1000 --set methods.ganem.em_iterations=2 --set methods.ganem.mstep_batches=5
         --set methods.ganem.q_steps=5)
else
    sc=(--steps 20 --repeats 5 --matmul-n 4096)
    families=(mnist celeba)
    jobs=(--families mnist --kinds mstep estep --steps 100 --repeats 3 --matmul-n 1024)
    packing=(--seeds-per-job 1 4 8 --steps 200 --n-samples 5000)
    plan=(--config config/config.yaml --repeats 3)
    run=()                   # config/config.yaml's GAN-EM (preset authors, 100 EM iterations), cut at its limit
fi

jobs_per_gpu() {  # N = 1, 2, 4 step_cost processes at once on one device: ms per step of each
    local n i rc=0
    for n in 1 2 4; do
        local pids=()
        for i in $(seq "$n"); do
            "$PY" benchmarks/step_cost.py --device "$DEVICE" "${jobs[@]}" --set preset=authors \
                --out "$WORK/jobs${n}_$i.csv" & pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i" || rc=1; done
    done
    return $rc
}

if [ -z "${FAILED_IMPORTS:-}" ]; then
    step tests 100 "$PY" -m pytest -m device --device "$DEVICE" -q -p no:cacheprovider tests/
    for precision in fp32 bf16; do
        step "step_cost_$precision" 50 "$PY" benchmarks/step_cost.py --device "$DEVICE" "${sc[@]}" \
            --families "${families[@]}" --kinds mstep estep --set preset=authors --set precision=$precision \
            --out "$WORK/step_cost_$precision.csv"
    done
    # plan stores timings/<device>.json in this tree: keep a copy, then put the tree's files back
    cp -a timings "$WORK/timings.before"
    touch "$WORK/plan.start"
    step plan 90 "$PY" -m ganem plan "${plan[@]}" --device "$DEVICE" --save-timings
    grep '^|' "$WORK/plan.log" > "$WORK/plan.md"
    new=$(find timings -name '*.json' -newer "$WORK/plan.start" | head -n 1)
    [ -n "$new" ] && cp "$new" "$OUT_DIR/timings.json"
    rm -rf timings && cp -a "$WORK/timings.before" timings
    step seed_packing 60 "$PY" benchmarks/seed_packing.py --device "$DEVICE" "${packing[@]}" \
        --dataset mnist --data-dir "$MNIST_DIR" --out "$WORK/seed_packing.csv"
    export -f jobs_per_gpu; export PY DEVICE WORK; export JOBS="${jobs[*]}"
    step jobs_per_gpu 90 bash -c 'jobs=($JOBS); jobs_per_gpu'
    # stopped by its limit as planned (rc 124): the iterations it finished are in iterations.jsonl
    step mnist_run 150 "$PY" -m ganem run --method ganem --k 10 --seed 0 --out "$WORK/mnist_run" \
        --config config/config.yaml --dataset mnist --data-dir "$MNIST_DIR" --no-progress \
        --set device="$DEVICE" --set download=false --set checkpoints=remove "${run[@]}"
fi

"$PY" benchmarks/gpu_check_summary.py "$WORK" "$BUDGET" > "$OUT_DIR/summary.txt" 2> "$WORK/summary.log"
summary_rc=$?
find "$WORK" -name "*.pt" -delete
tar -czf "$OUT_DIR/gpu_check.tar.gz" -C "$WORK" --exclude='./site' --exclude='*.pt' .
cat "$OUT_DIR/summary.txt"
echo "total $((SECONDS - START)) s; files in $OUT_DIR:"; ls -l "$OUT_DIR"
[ "$summary_rc" = 0 ] || { echo "FAILED: see summary.txt"; exit 1; }

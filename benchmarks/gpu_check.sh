#!/usr/bin/env bash
# The GPU path of issue #16 in one go: under 9 minutes on one GPU (written for an
# H200 with 16 cores). NOT RUN YET: no GPU machine was at hand when it was written.
#
#   bash benchmarks/gpu_check.sh            # from the repository root, .venv set up (make test)
#   PYTHON=python3 OUT=/tmp/out bash benchmarks/gpu_check.sh
#
# In order, each step under its own time limit (a step that fails or runs out
# of time is reported and the next one runs):
#   1. the CUDA tests                                               (60 s)
#   2. net_speed.py: b10c128, fp32 and bf16, batch 256, 512, 1024, 4096 (90 s)
#   3. mcts_speed.py's CUDA part                                     (75 s)
#   4. a 3-minute Connect Four run with the GPU preset               (230 s)
#   5. a 2-minute go9 run with the GPU preset                        (160 s)
#   6. the summary: positions/s, evaluations/s and the share of time in the
#      network from each run's metrics.jsonl, the GPU's busy share over each
#      run (nvidia-smi sampled every 0.5 s), self-play evaluations/s over the
#      bare network's at the same batch (target >= 70%); ends with one JSON line.
# Logs, metrics and the samples go to $OUT (default gpu_check_out/).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-gpu_check_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

step() {  # step NAME LIMIT_SECONDS COMMAND...: run, log to $OUT/NAME.log, record start and end times
    local name=$1 limit=$2
    shift 2
    echo "=== $name (limit ${limit} s): $*"
    local start
    start=$(date +%s.%N)
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local status=$?
    echo "$name $start $(date +%s.%N) $status" >> "$OUT/steps.txt"
    tail -n 25 "$OUT/$name.log"
    echo "=== $name: exit $status after $(printf '%.0f' "$(echo "$(date +%s.%N) - $start" | bc)") s"
}

: > "$OUT/steps.txt"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed: no GPU?"
nproc > "$OUT/cores.txt"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 500 \
    > "$OUT/gpu_samples.csv" 2>/dev/null &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null' EXIT

step cuda_tests 60 "$PY" -m pytest -q -p no:cacheprovider tests/test_nets.py tests/test_mcts.py -k "cuda or device"
step net_speed 90 "$PY" benchmarks/net_speed.py --net b10c128 --devices cuda --dtypes fp32 bf16 \
    --batch-sizes 256 512 1024 4096 --seconds 1.5 --repeats 3
step mcts_speed_cuda 75 "$PY" benchmarks/mcts_speed.py --cuda-only
# Runs: the GPU preset, every core as a self-play worker (the default), generations small
# enough that some finish inside the time (a run stops at --minutes mid-generation).
step c4_gpu 230 "$PY" -m selfplay train --game connect4 --preset gpu --run-dir "$OUT/c4" --minutes 3 \
    --games-per-generation 1024 --steps-per-generation 200 --eval-positions 100
step go9_gpu 160 "$PY" -m selfplay train --game go9 --preset gpu --run-dir "$OUT/go9" --minutes 2 \
    --games-per-generation 256 --steps-per-generation 100

kill $SAMPLER 2>/dev/null
sleep 1
"$PY" - "$OUT" <<'EOF'
import csv, json, sys
from datetime import datetime
from pathlib import Path

out = Path(sys.argv[1])
steps = {}
for line in (out / "steps.txt").read_text().splitlines():
    name, start, end, status = line.split()
    steps[name] = (float(start), float(end), int(status))
samples = []
try:
    for row in csv.reader((out / "gpu_samples.csv").open()):
        stamp = datetime.strptime(row[0].strip(), "%Y/%m/%d %H:%M:%S.%f").timestamp()
        samples.append((stamp, float(row[1]), float(row[2])))
except (OSError, ValueError, IndexError) as error:
    print(f"no usable GPU samples: {error}")

def busy(name):
    start, end, _ = steps[name]
    inside = [s for s in samples if start <= s[0] <= end]
    return round(sum(s[1] for s in inside) / len(inside) / 100, 3) if inside else None

bare = {}
try:
    for line in (out / "net_speed.log").read_text().splitlines():
        if line.startswith("{"):
            for row in json.loads(line)["results"]:
                bare[(row["dtype"], row["batch"])] = row["positions_per_s"]
except (OSError, ValueError, KeyError):
    pass

summary = {"benchmark": "gpu_check", "steps": {name: status for name, (_, _, status) in steps.items()}}
for name, batch in (("c4_gpu", 512), ("go9_gpu", 512)):
    rows = []
    metrics = out / name.split("_")[0] / "logs" / "metrics.jsonl"
    if metrics.exists():
        rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    figures = {"gpu_busy_share": busy(name) if name in steps else None, "generations": len(rows)}
    if rows:
        last = rows[-1]
        for key in ("positions_per_s", "games_per_s", "simulations_per_s", "evaluations_per_s", "network_share",
                    "actors", "seconds"):
            if key in last:
                figures[key] = round(last[key], 3)
        reference = bare.get(("bfloat16", batch))
        if reference and "evaluations_per_s" in last:
            figures["share_of_bare_net_bf16_b512"] = round(last["evaluations_per_s"] / reference, 3)
    summary[name] = figures
    print(name, figures)
print(json.dumps(summary))
EOF

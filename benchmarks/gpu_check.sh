#!/usr/bin/env bash
# The GPU path of issue #16 in one go: under 9 minutes on one GPU (written for an
# H200 with 16 cores). NOT RUN YET: no GPU machine was at hand when it was written.
#
#   bash benchmarks/gpu_check.sh            # from the repository root, .venv set up (make test)
#   PYTHON=python3 OUT=/tmp/out bash benchmarks/gpu_check.sh
#
# In order, each step under its own time limit (a step that fails or runs out
# of time is reported and the next one runs):
#   1. the CUDA tests                                                 (50 s)
#   2. net_speed.py: b10c128, fp32 and bf16, batch 256, 512, 1024, 4096 (80 s)
#   3. mcts_speed.py's CUDA part                                       (60 s)
#   4. about 3 minutes of Connect Four self-play with the GPU preset   (190 s):
#      selfplay_speed.py, 4 worker processes on the GPU, 2048 games (512 at
#      once per worker, the preset's batch), then the bare network in 4
#      processes at batch 512: positions/s, evaluations/s, share_of_bare_net
#      (target >= 0.7), and the network's share of the workers' time
#   5. a 2-minute go9 run with the GPU preset, every core a worker   (140 s):
#      `selfplay train` end to end (self-play, training and checkpoints on the GPU)
#   6. the summary: the GPU's busy share over steps 4 and 5 (nvidia-smi sampled
#      every 0.5 s), go9's figures from its metrics.jsonl; one JSON line.
# Which side limits: a GPU busy share well below 1 with network_share near 1
# means the workers cannot feed it (CPU-bound: more workers or larger batches);
# a busy share near 1 means the GPU is the limit.
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
    local start t0=$SECONDS
    start=$(date +%s.%N)
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local status=$?
    echo "$name $start $(date +%s.%N) $status" >> "$OUT/steps.txt"
    tail -n 25 "$OUT/$name.log"
    echo "=== $name: exit $status after $((SECONDS - t0)) s"
}

: > "$OUT/steps.txt"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed: no GPU?"
nproc > "$OUT/cores.txt"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 500 \
    > "$OUT/gpu_samples.csv" 2>/dev/null &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null' EXIT

step cuda_tests 50 "$PY" -m pytest -q -p no:cacheprovider tests/test_nets.py tests/test_mcts.py \
    tests/test_process_backend.py -k "cuda or device"
step net_speed 80 "$PY" benchmarks/net_speed.py --net b10c128 --devices cuda --dtypes fp32 bf16 \
    --batch-sizes 256 512 1024 4096 --seconds 1.5 --repeats 3
step mcts_speed_cuda 60 "$PY" benchmarks/mcts_speed.py --cuda-only
step c4_gpu 190 "$PY" benchmarks/selfplay_speed.py --preset gpu --device cuda --workers 4 --skip-one-worker \
    --generations 1 --games-per-generation 2048 --net-seconds 10
# A run stops at --minutes mid-generation, so generations small enough that some finish.
step go9_gpu 140 "$PY" -m selfplay train --game go9 --preset gpu --run-dir "$OUT/go9" --minutes 2 \
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
c4 = {"gpu_busy_share": busy("c4_gpu") if "c4_gpu" in steps else None}
try:
    line = [l for l in (out / "c4_gpu.log").read_text().splitlines() if l.startswith("{")][-1]
    speed = json.loads(line)
    c4.update(speed["all_cores"], share_of_bare_net=speed["share_of_bare_net"],
              bare_net_all_processes=speed["bare_net_all_processes"])
except (OSError, IndexError, ValueError, KeyError):
    pass
summary["c4_gpu"] = c4
print("c4_gpu", c4)
go9 = {"gpu_busy_share": busy("go9_gpu") if "go9_gpu" in steps else None}
metrics = out / "go9" / "logs" / "metrics.jsonl"
rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()] if metrics.exists() else []
go9["generations"] = len(rows)
if rows:
    for key in ("positions_per_s", "games_per_s", "simulations_per_s", "evaluations_per_s", "network_share",
                "actors", "seconds"):
        if key in rows[-1]:
            go9[key] = round(rows[-1][key], 3)
summary["go9_gpu"] = go9
print("go9_gpu", go9)
summary["bare_net_b10c128"] = {f"{dtype}_b{batch}": rate for (dtype, batch), rate in sorted(bare.items())}
print(json.dumps(summary))
EOF
